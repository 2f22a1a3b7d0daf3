/**
 * npm run report -- --athena [--publish]: the same page from Athena, uploaded to the results bucket
 * with an expiring link. AWS is mocked at the SDK clients; the mocked Athena answers each query by
 * running the SQL it was sent on the local DuckDB over simulated data, so the page must come out as
 * the local report does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { openLocalAthena, type LocalAthena } from '../../local/athena-local/duckdb';
import { buildReport, MAX_PRESIGN_SECONDS, parseExpiry, runReportCli } from '../../local/report';
import { REPORT_QUERIES } from '../../local/report/render';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate } from '../../local/simulator/index';

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 80, days: 5, end: '2026-11-12', seed: 31 };
const range = rangeOf(SIM);
const NOW = new Date('2026-11-20T08:00:00Z');
const athena = mockClient(AthenaClient);
const s3 = mockClient(S3Client);
// Fixed, fake credentials: the presigner signs locally and nothing leaves the process.
const s3Client = () =>
  new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  });

describe('npm run report -- --athena', () => {
  let dir: string;
  let db: LocalAthena;
  let started: StartQueryExecutionCommandInput[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-report-athena-'));
    simulate(SIM, dir);
    db = await openLocalAthena(dir);
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    athena.reset();
    s3.reset();
    started = [];
    // Athena as the workgroup would answer: each query id runs its own SQL, parameters bound by position.
    athena.on(StartQueryExecutionCommand).callsFake(async (input: StartQueryExecutionCommandInput) => {
      started.push(input);
      return { QueryExecutionId: `q-${started.length - 1}` };
    });
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 12_000_000 } } });
    athena.on(GetQueryResultsCommand).callsFake(async ({ QueryExecutionId }: { QueryExecutionId: string }) => {
      const q = started[Number(QueryExecutionId.slice(2))]!;
      const params = (q.ExecutionParameters ?? []).map((p) => p.replace(/^'|'$/g, '').replace(/''/g, "'"));
      const rs = await db.run(q.QueryString!, params);
      const types = rs.columns.map((_, i) =>
        rs.rows.some((r) => typeof r[i] === 'number' && !Number.isInteger(r[i]))
          ? 'double'
          : rs.rows.some((r) => typeof r[i] === 'number')
            ? 'bigint'
            : 'varchar',
      );
      const row = (values: (string | undefined)[]) => ({ Data: values.map((VarCharValue) => ({ VarCharValue })) });
      return {
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: rs.columns.map((Name, i) => ({ Name, Label: Name, Type: types[i] })) },
          Rows: [row(rs.columns), ...rs.rows.map((r) => row(r.map((v) => (v === null ? undefined : String(v)))))],
        },
      };
    });
    athena.on(GetWorkGroupCommand, { WorkGroup: 'clickstream-prod' }).resolves({
      WorkGroup: {
        Name: 'clickstream-prod',
        Configuration: { ResultConfiguration: { OutputLocation: 's3://clickstream-prod-resultsbucket-abc123/results/' } },
      },
    });
    s3.on(PutObjectCommand).resolves({});
  });

  const cli = async (
    args: string[],
    env: NodeJS.ProcessEnv = { ATHENA_WORKGROUP: 'clickstream-prod', STAGE: 'prod', LOCAL_DATA_DIR: dir },
  ) => {
    let out = '';
    let err = '';
    const code = await runReportCli(['--from', range.from, '--to', range.to, ...args], {
      out: (s) => (out += s),
      err: (s) => (err += s),
      env,
      now: () => NOW,
      athenaClient: () => new AthenaClient({ region: 'eu-west-1' }),
      s3Client,
      athenaRun: { pollMs: 0, sleep: async () => {} },
    });
    return { code, out, err };
  };

  it('runs every saved query of the page in the workgroup and renders the page the local report renders', async () => {
    // Act
    const r = await cli(['--athena', '--out', join(dir, 'athena.html')]);

    // Assess
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // Every query of the page, plus the companion count of excluded bots.
    expect(started).toHaveLength(REPORT_QUERIES.length + 1);
    for (const q of started) {
      expect(q.WorkGroup).toBe('clickstream-prod');
      expect(q.QueryExecutionContext?.Database).toBe('clickstream_prod');
    }
    expect(started.filter((q) => /\bis_bot\b/.test(q.QueryString!)).length).toBeGreaterThan(10);
    const fromAthena = readFileSync(join(dir, 'athena.html'), 'utf8');
    const local = readFileSync(await buildReport({ dataDir: dir, ...range, now: NOW, out: join(dir, 'local.html') }), 'utf8');
    // Only where the answers came from differs: the header's source and the commands' flags.
    const neutral = (html: string) =>
      html
        .replace(/from (local DuckDB over the saved Athena queries|Amazon Athena, workgroup [^<]*)<\/p>/, 'from SOURCE</p>')
        .replace(/<code class="cmd">[^<]*<\/code>/g, '<code class="cmd">CMD</code>');
    expect(neutral(fromAthena)).toEqual(neutral(local));
    // 12 MB scanned per query (the mock above), summed over the page's queries and the bot count.
    expect(fromAthena).toContain(
      `Amazon Athena, workgroup clickstream-prod, database clickstream_prod (${((REPORT_QUERIES.length + 1) * 12).toFixed(1)} MB scanned)`,
    );
    expect(fromAthena).toMatch(
      /npm run query -- element_clicks --from \S+ --to \S+ --athena --workgroup clickstream-prod --database clickstream_prod<\/code>/,
    );
  });

  it("--publish uploads the page under reports/ of the workgroup's results bucket and prints a link that expires in 24 h", async () => {
    const r = await cli(['--athena', '--publish']);
    expect(r.code).toBe(0);

    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put.Bucket).toBe('clickstream-prod-resultsbucket-abc123');
    expect(put.Key).toBe(`reports/clickstream-${range.from}_${range.to}-20261120T080000Z.html`);
    expect(put.ContentType).toBe('text/html; charset=utf-8');
    expect(put.ACL).toBeUndefined();
    expect(String(put.Body)).toContain('<title>Osteria del Porto');
    expect(athena.commandCalls(GetWorkGroupCommand)).toHaveLength(1);

    const url = new URL(r.out.trim().split('\n').at(-1)!);
    expect(url.protocol).toBe('https:');
    expect(`${url.host}${url.pathname}`).toMatch(
      new RegExp(`clickstream-prod-resultsbucket-abc123\\.s3\\.eu-west-1\\.amazonaws\\.com/${put.Key!.replace(/[.]/g, '\\.')}$`),
    );
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('86400');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(r.out).toContain('expires 2026-11-21T08:00:00Z');
    // The link is a GET of that object only; nothing was made public.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("--expires changes the link's life, --bucket skips the lookup; beyond 7 days is refused before any query runs", async () => {
    const r = await cli(['--athena', '--publish', '--expires', '2h', '--bucket', 'my-bucket']);
    expect(r.code).toBe(0);
    expect(new URL(r.out.trim().split('\n').at(-1)!).searchParams.get('X-Amz-Expires')).toBe('7200');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Bucket).toBe('my-bucket');
    expect(athena.commandCalls(GetWorkGroupCommand)).toHaveLength(0);

    started = [];
    const tooLong = await cli(['--athena', '--publish', '--expires', '8d']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.err).toContain('between 1 s and 7 days (604800 s');
    expect(started).toHaveLength(0);
  });

  it('--publish needs --athena, and --athena a workgroup', async () => {
    const local = await cli(['--publish']);
    expect(local.code).toBe(2);
    expect(local.err).toContain('--publish uploads a report built from Athena: add --athena');
    const noWg = await cli(['--athena'], { LOCAL_DATA_DIR: dir });
    expect(noWg.code).toBe(2);
    expect(noWg.err).toContain('--athena needs --workgroup or ATHENA_WORKGROUP');
    expect(started).toHaveLength(0);
  });

  it.each([
    ['24h', 86_400],
    ['90m', 5_400],
    ['7d', MAX_PRESIGN_SECONDS],
    ['3600', 3_600],
    ['45s', 45],
  ])('reads --expires %s as %d s', (v, seconds) => {
    expect(parseExpiry(v)).toBe(seconds);
  });

  it.each(['0', '604801', '8d', '1w', 'soon', '-1h'])('refuses --expires %s', (v) => {
    expect(() => parseExpiry(v)).toThrow(/--expires/);
  });
});

/**
 * npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--step X ...] [--out FILE]
 * npm run report -- --athena [--workgroup WG] [--database DB] [--publish [--bucket B] [--expires 24h]]
 *
 * Runs the main saved queries and renders one self-contained HTML page: on the local data (DuckDB
 * over LOCAL_DATA_DIR; by default <LOCAL_DATA_DIR>/report.html, which the demo site links to), or
 * with --athena on Amazon Athena in the deployed workgroup (the same files, as `npm run query --
 * --athena` runs them). --publish uploads the page to the Athena results bucket under reports/ and
 * prints a pre-signed GET link that expires: no server, no public bucket.
 * Default range: the 30 days ending today (UTC); today is marked as not over.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AthenaClient, GetWorkGroupCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { runOnAthena, type AthenaRunOptions } from './athena-local/athena';
import { openLocalAthena, stripComments, type ResultSet } from './athena-local/duckdb';
import {
  checkDate,
  finishResult,
  loadQuery,
  queryParams,
  QueryUsageError,
  MAX_FUNNEL_STEPS,
  type SavedQuery,
} from './athena-local/queries';
import { DEMO_FUNNEL } from './demo/funnel';
import { athenaTarget, type AthenaTarget } from './query';
import { excludedBotsQuery, excludedFrom, type ExcludedBots } from './report/excluded-bots';
import { partialDayOf, REPORT_QUERIES, renderReport, shellWord, type ReportQuery } from './report/render';

const USAGE = `usage: npm run report -- [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--step X ...] [--out FILE]
       npm run report -- --athena [--workgroup WG] [--database DB] [--publish [--bucket BUCKET] [--expires 24h]] [...]`;

const ROOT = resolve(__dirname, '..');
const TITLE = 'Osteria del Porto — clickstream report';

/** Where the answers come from: the local DuckDB or Athena. */
export interface ReportSource {
  /** For the page header. */
  label: string;
  /** What `npm run query` needs to read the same data: flags after the dates, and environment. */
  queryArgs: string[];
  queryEnv: Record<string, string>;
  run(q: SavedQuery, params: string[]): Promise<ResultSet>;
  close(): void;
}

export async function localSource(dataDir: string): Promise<ReportSource> {
  const db = await openLocalAthena(dataDir);
  return {
    label: 'local DuckDB over the saved Athena queries',
    queryArgs: [],
    // npm runs scripts in the checkout's root, where the runner's default is .data.
    queryEnv: resolve(dataDir) === join(ROOT, '.data') ? {} : { LOCAL_DATA_DIR: resolve(dataDir) },
    run: (q, params) => db.run(stripComments(q.sql), params),
    close: () => db.close(),
  };
}

/**
 * Athena runs the queries a few at a time: "Active DML queries" counts queued and running ones
 * per account and region, and one over it fails with TooManyRequestsException (Amazon Athena user
 * guide, "Service Quotas"); 4 leaves room for the analysts' own queries under the smallest quotas.
 */
export const ATHENA_CONCURRENCY = 4;

export function athenaSource(client: AthenaClient, target: AthenaTarget, opts: Partial<AthenaRunOptions> = {}): ReportSource {
  let bytes = 0;
  return {
    get label() {
      return `Amazon Athena, workgroup ${target.workgroup}, database ${target.database}${bytes ? ` (${(bytes / 1e6).toFixed(1)} MB scanned)` : ''}`;
    },
    queryArgs: ['--athena', '--workgroup', target.workgroup, '--database', target.database],
    queryEnv: {},
    run: async (q, params) => {
      const r = await runOnAthena(client, q, params, { ...opts, ...target });
      bytes += r.bytesScanned;
      return { columns: r.columns, rows: r.rows };
    },
    close: () => {},
  };
}

/** Runs `jobs` with at most `limit` at a time, results in input order. */
async function pool<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return out;
}

export interface Answers {
  results: Record<ReportQuery, ResultSet>;
  excludedBots: ExcludedBots;
}

/** Every query of the report, and the bot count, from one source. */
export async function collect(source: ReportSource, from: string, to: string, steps: readonly string[], concurrency = 1): Promise<Answers> {
  const bots = excludedBotsQuery();
  const jobs = [
    ...REPORT_QUERIES.map((name) => async () => {
      const q = loadQuery(name);
      const s = name === 'funnel' ? steps : [];
      return finishResult(q, s, await source.run(q, queryParams(q, from, to, s)));
    }),
    async () => source.run(bots, queryParams(bots, from, to)),
  ];
  const answers = await pool(concurrency, jobs);
  const results = Object.fromEntries(REPORT_QUERIES.map((name, i) => [name, answers[i]!])) as Record<ReportQuery, ResultSet>;
  return { results, excludedBots: excludedFrom(answers[REPORT_QUERIES.length]!) };
}

/** The command that prints every row of a query, for the report's range and source: copy, paste, run. */
export function queryCommand(
  source: Pick<ReportSource, 'queryArgs' | 'queryEnv'>,
  name: string,
  from: string,
  to: string,
  steps: readonly string[],
): string {
  const env = Object.entries(source.queryEnv).map(([k, v]) => `${k}=${shellWord(v)}`);
  const words = [
    'npm',
    'run',
    'query',
    '--',
    name,
    '--from',
    from,
    '--to',
    to,
    ...(name === 'funnel' ? steps.flatMap((s) => ['--step', s]) : []),
    ...source.queryArgs,
  ];
  return [...env, ...words.map(shellWord)].join(' ');
}

export interface PageOptions {
  from: string;
  to: string;
  steps?: string[];
  now?: Date;
  concurrency?: number;
}

/** The page's HTML from one source. */
export async function reportHtml(source: ReportSource, o: PageOptions): Promise<string> {
  const steps = o.steps && o.steps.length > 0 ? o.steps : DEMO_FUNNEL;
  const now = o.now ?? new Date();
  const { results, excludedBots } = await collect(source, o.from, o.to, steps, o.concurrency);
  return renderReport({
    title: TITLE,
    from: o.from,
    to: o.to,
    funnelSteps: steps,
    generatedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    source: source.label,
    results,
    excludedBots,
    partialDay: partialDayOf(o.to, now),
    moreCommand: (name) => queryCommand(source, name, o.from, o.to, steps),
  });
}

export interface ReportOptions extends PageOptions {
  dataDir: string;
  out?: string;
}

/** Runs the queries on the local data and writes the page; returns its path. */
export async function buildReport(o: ReportOptions): Promise<string> {
  const source = await localSource(o.dataDir);
  let html: string;
  try {
    html = await reportHtml(source, o);
  } finally {
    source.close();
  }
  const out = o.out ?? join(o.dataDir, 'report.html');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return out;
}

/**
 * A SigV4 pre-signed URL lives at most 7 days: 604,800 s (AWS CLI reference, `aws s3 presign
 * --expires-in`: "Maximum is 604800 seconds"). S3 also ends it early when the credentials that
 * signed it expire: a link signed with a role's or SSO session's temporary credentials dies with
 * that session (AWS re:Post knowledge center, "Why is my presigned URL for an Amazon S3 bucket
 * expiring before the expiration time that I specified?").
 */
export const MAX_PRESIGN_SECONDS = 604_800;
export const DEFAULT_PRESIGN_SECONDS = 24 * 3_600;

/** '24h', '90m', '7d', '3600s' or plain seconds. */
export function parseExpiry(value: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) throw new QueryUsageError(`--expires must be a duration like 24h, 90m, 7d or 3600s, got '${value}'`);
  const seconds = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (seconds < 1 || seconds > MAX_PRESIGN_SECONDS)
    throw new QueryUsageError(
      `--expires must be between 1 s and 7 days (${MAX_PRESIGN_SECONDS} s, the SigV4 pre-signed URL maximum), got '${value}'`,
    );
  return seconds;
}

/** The bucket the workgroup writes results to: its enforced OutputLocation (serverless.yml: s3://<ResultsBucket>/results/). */
export async function resultsBucketOf(athena: AthenaClient, workgroup: string): Promise<string> {
  const { WorkGroup } = await athena.send(new GetWorkGroupCommand({ WorkGroup: workgroup }));
  const location = WorkGroup?.Configuration?.ResultConfiguration?.OutputLocation;
  const bucket = location && /^s3:\/\/([^/]+)/.exec(location)?.[1];
  if (!bucket) throw new Error(`workgroup ${workgroup} names no result location; pass --bucket (the stack output ResultsBucketName)`);
  return bucket;
}

/** reports/<range>-<when>.html: a new key per run, so a link already shared keeps showing what it showed. */
export const reportKey = (from: string, to: string, now: Date) =>
  `reports/clickstream-${from}_${to}-${now.toISOString().replace(/[-:]|\.\d+/g, '')}.html`;

export interface Published {
  bucket: string;
  key: string;
  url: string;
  expiresAt: Date;
}

/** Uploads the page (private, like everything in the bucket) and signs a GET for it. */
export async function publishReport(
  s3: S3Client,
  o: { bucket: string; key: string; html: string; expiresIn: number; now?: Date },
): Promise<Published> {
  await s3.send(
    new PutObjectCommand({
      Bucket: o.bucket,
      Key: o.key,
      Body: o.html,
      // Opened in the browser, not downloaded; never kept by a shared cache past the link's life.
      ContentType: 'text/html; charset=utf-8',
      ContentDisposition: 'inline',
      CacheControl: 'private, no-store',
    }),
  );
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: o.bucket, Key: o.key }), { expiresIn: o.expiresIn });
  return { bucket: o.bucket, key: o.key, url, expiresAt: new Date((o.now ?? new Date()).getTime() + o.expiresIn * 1_000) };
}

export interface ReportCliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  now?: () => Date;
  athenaClient?: () => AthenaClient;
  s3Client?: () => S3Client;
  /** Athena polling, for tests. */
  athenaRun?: Partial<AthenaRunOptions>;
}

/** The CLI as a function: returns the exit code (tests call it in-process). */
export async function runReportCli(argv: string[], io: ReportCliIo): Promise<number> {
  try {
    const config = {
      args: argv,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        step: { type: 'string', multiple: true },
        out: { type: 'string' },
        help: { type: 'boolean' },
        athena: { type: 'boolean' },
        workgroup: { type: 'string' },
        database: { type: 'string' },
        publish: { type: 'boolean' },
        bucket: { type: 'string' },
        expires: { type: 'string' },
      },
    } as const;
    let parsed: ReturnType<typeof parseArgs<typeof config>>;
    try {
      parsed = parseArgs(config);
    } catch (e) {
      throw new QueryUsageError((e as Error).message);
    }
    const { values } = parsed;
    if (values.help) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    const now = io.now ? io.now() : new Date();
    const to = checkDate('to', values.to ?? now.toISOString().slice(0, 10));
    const from = checkDate('from', values.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10));
    if (from > to) throw new QueryUsageError(`--from ${from} is after --to ${to}`);
    if ((values.step ?? []).length > MAX_FUNNEL_STEPS) throw new QueryUsageError(`at most ${MAX_FUNNEL_STEPS} --step values`);
    if (values.publish && !values.athena) throw new QueryUsageError('--publish uploads a report built from Athena: add --athena');
    const expiresIn = parseExpiry(values.expires ?? String(DEFAULT_PRESIGN_SECONDS));
    const dataDir = resolve(io.env.LOCAL_DATA_DIR ?? '.data');

    if (!values.athena) {
      const file = await buildReport({ dataDir, from, to, steps: values.step, out: values.out && resolve(values.out), now });
      io.out(`report for ${from} to ${to}: ${file}\n`);
      return 0;
    }

    const target = athenaTarget(values, io.env);
    const athena = io.athenaClient ? io.athenaClient() : new AthenaClient({});
    const source = athenaSource(athena, target, io.athenaRun);
    const html = await reportHtml(source, { from, to, steps: values.step, now, concurrency: ATHENA_CONCURRENCY });
    const out = values.out ? resolve(values.out) : join(dataDir, 'report-athena.html');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, html);
    io.out(`report for ${from} to ${to} from Athena (${target.workgroup}): ${out}\n`);
    if (values.publish) {
      const bucket = values.bucket ?? io.env.RESULTS_BUCKET ?? (await resultsBucketOf(athena, target.workgroup));
      const s3 = io.s3Client ? io.s3Client() : new S3Client({});
      const p = await publishReport(s3, { bucket, key: reportKey(from, to, now), html, expiresIn, now });
      io.out(
        `published s3://${p.bucket}/${p.key}\nlink (expires ${p.expiresAt.toISOString().replace(/\.\d+Z$/, 'Z')}, or earlier if the credentials that signed it expire first):\n${p.url}\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof QueryUsageError) {
      io.err(`report: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    io.err(`report: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  runReportCli(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env })
    // runReportCli answers every expected failure with an exit code; anything it throws is a bug:
    // print its stack and fail rather than leave an unhandled rejection.
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e: unknown) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
}

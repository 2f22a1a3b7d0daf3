/** --athena: the same file through StartQueryExecution, polling and paginated results (SDK mocked). */
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { athenaCostUsd, ATHENA_PRICING, runOnAthena } from '../../local/athena-local/athena';
import { finishResult, loadQuery, queryParams } from '../../local/athena-local/queries';
import { stripComments } from '../../local/athena-local/duckdb';
import { runQueryCli } from '../../local/query';
import { excludedBotsQuery } from '../../local/report/excluded-bots';

const athena = mockClient(AthenaClient);
const col = (Name: string, Type: string) => ({ Name, Type, Label: Name });
const row = (...v: (string | undefined)[]) => ({ Data: v.map((VarCharValue) => ({ VarCharValue })) });

beforeEach(() => {
  athena.reset();
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena
    .on(GetQueryExecutionCommand)
    .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
    .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
    .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 2_500_000_000 } } });
  const meta = { ColumnInfo: [col('path', 'varchar'), col('page_views', 'bigint'), col('visitors', 'bigint')] };
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined }).resolves({
    ResultSet: { ResultSetMetadata: meta, Rows: [row('path', 'page_views', 'visitors'), row('/', '10', '7')] },
    NextToken: 't2',
  });
  athena
    .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 't2' })
    .resolves({ ResultSet: { ResultSetMetadata: meta, Rows: [row('/menu.html', '4', '3')] } });
});

describe('runOnAthena', () => {
  it('binds the dates as ExecutionParameters, polls to completion and reads every page', async () => {
    const q = loadQuery('top_pages');
    const r = await runOnAthena(new AthenaClient({ region: 'eu-west-1' }), q, queryParams(q, '2026-11-01', '2026-11-07'), {
      workgroup: 'clickstream-dev',
      database: 'clickstream_dev',
      sleep: async () => {},
    });

    const start = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    // One value per placeholder, by position: the calendar's dates, then the partition filter's.
    expect(start.ExecutionParameters).toEqual(["'2026-11-01'", "'2026-11-07'", "'2026-11-01'", "'2026-11-07'"]);
    expect(start.WorkGroup).toBe('clickstream-dev');
    expect(start.QueryExecutionContext).toEqual({ Database: 'clickstream_dev' });
    expect(start.QueryString).toContain('FROM events_dedup e');
    expect(start.QueryString).not.toContain('--');
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(2);
    expect(r.columns).toEqual(['path', 'page_views', 'visitors']);
    expect(r.rows).toEqual([
      ['/', 10, 7],
      ['/menu.html', 4, 3],
    ]);
    expect(r.bytesScanned).toBe(2_500_000_000);
    // Billed per TB as AWS bills storage and scans: 2^40 bytes (bench/prices.ts TB).
    expect(r.costUsd).toBeCloseTo((2_500_000_000 / 1024 ** 4) * 5, 10);
  });

  it('passes funnel steps after the dates, unused ones empty, quotes escaped', async () => {
    const q = loadQuery('funnel');
    await runOnAthena(
      new AthenaClient({ region: 'eu-west-1' }),
      q,
      queryParams(q, '2026-11-01', '2026-11-07', ['/menu.html', "chef's_pick"]),
      { workgroup: 'wg', database: 'db', sleep: async () => {} },
    );
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input.ExecutionParameters).toEqual([
      "'2026-11-01'",
      "'2026-11-07'",
      "'2026-11-01'",
      "'2026-11-07'",
      "'/menu.html'",
      "'chef''s_pick'",
      "''",
      "''",
    ]);
  });

  it('passes data_quality its dates three times: the calendar, events and rejects', () => {
    const q = loadQuery('data_quality');
    expect(queryParams(q, '2026-11-01', '2026-11-07')).toEqual([
      '2026-11-01',
      '2026-11-07',
      '2026-11-01',
      '2026-11-07',
      '2026-11-01',
      '2026-11-07',
    ]);
  });

  it('refuses a parameter list that does not fill every placeholder, before calling Athena', async () => {
    await expect(
      runOnAthena(new AthenaClient({ region: 'eu-west-1' }), loadQuery('top_pages'), ['2026-11-01', '2026-11-07'], {
        workgroup: 'wg',
        database: 'db',
        sleep: async () => {},
      }),
    ).rejects.toThrow('top_pages takes 4 parameters (from, to, from, to), got 2');
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it('reports a failed query with its reason', async () => {
    athena
      .on(GetQueryExecutionCommand)
      .resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: events_dedup' } } });
    const q = loadQuery('top_pages');
    await expect(
      runOnAthena(new AthenaClient({ region: 'eu-west-1' }), q, queryParams(q, '2026-11-01', '2026-11-07'), {
        workgroup: 'wg',
        database: 'db',
        sleep: async () => {},
      }),
    ).rejects.toThrow('query q-1 FAILED: TABLE_NOT_FOUND: events_dedup');
  });

  it('charges at least 10 MB per query at $5/TB', () => {
    expect(ATHENA_PRICING.usdPerTB).toBe(5);
    expect(athenaCostUsd(0)).toBeCloseTo(((10 * 1024 * 1024) / 1024 ** 4) * 5, 15);
    expect(athenaCostUsd(1024 ** 4)).toBe(5);
  });
});

describe('npm run query -- --athena', () => {
  const io = () => {
    const o = { out: '', err: '' };
    return {
      o,
      io: {
        out: (s: string) => (o.out += s),
        err: (s: string) => (o.err += s),
        athenaClient: () => new AthenaClient({ region: 'eu-west-1' }),
      },
    };
  };

  it('uses ATHENA_WORKGROUP and the stage database, says how many bot events Athena left out, and prints bytes scanned and cost', async () => {
    // Prepare: the bot count is a second query in the same workgroup, with its own answer.
    const bots = excludedBotsQuery();
    athena.on(StartQueryExecutionCommand, { QueryString: stripComments(bots.sql) }).resolves({ QueryExecutionId: 'q-bots' });
    athena
      .on(GetQueryExecutionCommand, { QueryExecutionId: 'q-bots' })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1_000 } } });
    athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-bots', NextToken: undefined }).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [col('type', 'varchar'), col('events', 'bigint')] },
        Rows: [row('type', 'events'), row('click', '3'), row('page_view', '40')],
      },
    });
    const { o, io: cliIo } = io();

    // Act
    const code = await runQueryCli(['top_pages', '--from', '2026-11-01', '--to', '2026-11-07', '--athena', '--format', 'csv'], {
      ...cliIo,
      env: { ATHENA_WORKGROUP: 'clickstream-prod', STAGE: 'prod' },
    });

    // Assess
    expect(code).toBe(0);
    const calls = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    for (const input of calls) {
      expect(input.WorkGroup).toBe('clickstream-prod');
      expect(input.QueryExecutionContext?.Database).toBe('clickstream_prod');
      expect(input.ExecutionParameters).toEqual(["'2026-11-01'", "'2026-11-07'", "'2026-11-01'", "'2026-11-07'"]);
    }
    // CSV stays CSV: the bot line goes to stderr.
    expect(o.out).toBe('path,page_views,visitors\n/,10,7\n/menu.html,4,3\n');
    expect(o.err).toContain('bots excluded: 43 events (3 click, 40 page_view)');
    // 2.5 GB plus the bot count's 10 MB minimum.
    expect(o.err).toContain(`scanned 2500.00 MB, cost $${(athenaCostUsd(2_500_000_000) + athenaCostUsd(1_000)).toFixed(6)} at $5/TB`);
    expect(athenaCostUsd(1_000)).toBe(athenaCostUsd(10_000_000));
  });

  it('needs a workgroup', async () => {
    const { o, io: cliIo } = io();
    const code = await runQueryCli(['top_pages', '--from', '2026-11-01', '--to', '2026-11-07', '--athena'], { ...cliIo, env: {} });
    expect(code).toBe(2);
    expect(o.err).toContain('--athena needs --workgroup or ATHENA_WORKGROUP');
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });
});

describe('funnel answers', () => {
  it('keep the step slots asked for and name them as asked (Athena cannot echo parameters)', () => {
    const q = loadQuery('funnel');
    const raw = {
      columns: ['step', 'step_name', 'sessions'],
      rows: [
        [1, '/menu.html', 40],
        [2, null, 0],
        [3, null, 0],
        [4, null, 0],
      ],
    };
    expect(finishResult(q, ['/menu.html', '/typo.html'], raw).rows).toEqual([
      [1, '/menu.html', 40],
      [2, '/typo.html', 0],
    ]);
    expect(finishResult(loadQuery('top_pages'), [], raw)).toBe(raw);
  });
});

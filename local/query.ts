/**
 * npm run query -- NAME --from YYYY-MM-DD --to YYYY-MM-DD [--step X ...] [--format table|csv|json]
 * npm run query -- NAME ... --athena [--workgroup WG] [--database DB]
 * npm run query -- --list
 *
 * Runs a saved query (athena-queries/NAME.sql) on DuckDB over LOCAL_DATA_DIR (default .data), or
 * the same file on Amazon Athena with --athena.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AthenaClient } from '@aws-sdk/client-athena';
import Table from 'cli-table3';
import { ATHENA_PRICING, runOnAthena } from './athena-local/athena';
import { openLocalAthena, stripComments, LocalDataError, type Cell, type ResultSet } from './athena-local/duckdb';
import { finishResult, listQueries, loadQuery, queryParams, QueryUsageError } from './athena-local/queries';
import { excludedBotsQuery, excludedFrom, excludedLine, excludesBots, type ExcludedBots } from './report/excluded-bots';

const USAGE = `usage: npm run query -- NAME --from YYYY-MM-DD --to YYYY-MM-DD [--step X ...] [--format table|csv|json]
       npm run query -- NAME --from ... --to ... --athena [--workgroup WG] [--database DB]
       npm run query -- --list`;

export type Format = 'table' | 'csv' | 'json';

const csvCell = (v: Cell) => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function formatResult(result: ResultSet, format: Format): string {
  if (format === 'json') {
    return `${JSON.stringify(
      result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, r[i] ?? null]))),
      null,
      2,
    )}\n`;
  }
  if (format === 'csv') {
    return `${[result.columns.map(csvCell).join(','), ...result.rows.map((r) => r.map(csvCell).join(','))].join('\n')}\n`;
  }
  const numeric = result.columns.map(
    (_, i) => result.rows.length > 0 && result.rows.every((r) => r[i] === null || typeof r[i] === 'number'),
  );
  const table = new Table({
    head: result.columns,
    colAligns: numeric.map((n) => (n ? 'right' : 'left')),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of result.rows)
    table.push(
      r.map((v) => (v === null ? '' : typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 4 }) : String(v))),
    );
  return `${table.toString()}\n(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`;
}

export interface QueryCliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  athenaClient?: () => AthenaClient;
}

export interface AthenaTarget {
  workgroup: string;
  database: string;
}

/** Workgroup and database from the flags or the environment (shared with npm run report -- --athena). */
export function athenaTarget(values: { workgroup?: string; database?: string }, env: NodeJS.ProcessEnv): AthenaTarget {
  const stage = env.STAGE ?? 'dev';
  const workgroup = values.workgroup ?? env.ATHENA_WORKGROUP;
  if (!workgroup)
    throw new QueryUsageError('--athena needs --workgroup or ATHENA_WORKGROUP (the deployed workgroup, e.g. clickstream-dev)');
  return { workgroup, database: values.database ?? env.ATHENA_DATABASE ?? `clickstream_${stage}` };
}

/** The CLI as a function: returns the exit code (tests call it in-process). */
export async function runQueryCli(argv: string[], io: QueryCliIo): Promise<number> {
  const config = {
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      step: { type: 'string', multiple: true },
      format: { type: 'string', default: 'table' },
      list: { type: 'boolean' },
      help: { type: 'boolean' },
      athena: { type: 'boolean' },
      workgroup: { type: 'string' },
      database: { type: 'string' },
    },
  } as const;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    io.err(`query: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (values.list) {
    const qs = listQueries();
    const width = Math.max(...qs.map((q) => q.name.length));
    io.out(`${qs.map((q) => `${q.name.padEnd(width)}  ${q.description}`).join('\n')}\n`);
    return 0;
  }
  try {
    if (positionals.length !== 1)
      throw new QueryUsageError(
        positionals.length === 0 ? 'which query? (npm run query -- --list)' : `one query at a time, got ${positionals.join(' ')}`,
      );
    const format = values.format as Format;
    if (!['table', 'csv', 'json'].includes(format)) throw new QueryUsageError(`--format must be table, csv or json, got '${format}'`);
    const q = loadQuery(positionals[0]!);
    const params = queryParams(q, values.from as string, values.to as string, values.step ?? []);

    // Said beside the answer: in a table on stdout; for csv/json on stderr, so the data stays parseable.
    const sayExcluded = (x: ExcludedBots) => (format === 'table' ? io.out : io.err)(`(${excludedLine(x)})\n`);
    const bots = excludedBotsQuery();

    if (values.athena) {
      const target = athenaTarget(values, io.env);
      const client = io.athenaClient ? io.athenaClient() : new AthenaClient({});
      const r = await runOnAthena(client, q, params, target);
      io.out(formatResult(finishResult(q, values.step ?? [], r), format));
      let scanned = r.bytesScanned;
      let cost = r.costUsd;
      if (excludesBots(q)) {
        const b = await runOnAthena(client, bots, queryParams(bots, values.from as string, values.to as string), target);
        sayExcluded(excludedFrom(b));
        scanned += b.bytesScanned;
        cost += b.costUsd;
      }
      io.err(
        `athena: ${r.queryExecutionId} scanned ${(scanned / 1e6).toFixed(2)} MB, cost $${cost.toFixed(6)} at $${ATHENA_PRICING.usdPerTB}/TB (10 MB minimum per query${excludesBots(q) ? ', 2 queries: the answer and its bot count' : ''}; price checked ${ATHENA_PRICING.checked})\n`,
      );
      return 0;
    }

    const dataDir = resolve(io.env.LOCAL_DATA_DIR ?? '.data');
    const db = await openLocalAthena(dataDir);
    try {
      io.out(formatResult(finishResult(q, values.step ?? [], await db.run(stripComments(q.sql), params)), format));
      if (excludesBots(q))
        sayExcluded(excludedFrom(await db.run(stripComments(bots.sql), queryParams(bots, values.from as string, values.to as string))));
    } finally {
      db.close();
    }
    return 0;
  } catch (e) {
    if (e instanceof QueryUsageError) {
      io.err(`query: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof LocalDataError) {
      io.err(`query: ${e.message}\n`);
      return 1;
    }
    io.err(`query: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  // `npm run query -- ... | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  runQueryCli(process.argv.slice(2), { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), env: process.env })
    // runQueryCli answers every expected failure with an exit code; anything it throws is a bug:
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

/**
 * Runs a saved query on Amazon Athena exactly as the console would run the NamedQuery: the same
 * file, `?` bound through ExecutionParameters, in the deployed workgroup and database.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  type ColumnInfo,
  type Row as AthenaRow,
} from '@aws-sdk/client-athena';
import { stripComments, type Cell, type ResultSet } from './duckdb';
import { PRICES, PRICES_CHECKED, TB } from '../prices';
import type { SavedQuery } from './queries';

/** Athena's list price, from the one file that holds prices (local/prices.ts). */
export const ATHENA_PRICING = {
  usdPerTB: PRICES.athena.perTB,
  minBytesPerQuery: PRICES.athena.minBytesPerQuery,
  checked: PRICES_CHECKED,
} as const;

export function athenaCostUsd(bytesScanned: number): number {
  return (Math.max(bytesScanned, ATHENA_PRICING.minBytesPerQuery) / TB) * ATHENA_PRICING.usdPerTB;
}

export class AthenaQueryError extends Error {
  override name = 'AthenaQueryError';
}

export interface AthenaRunOptions {
  workgroup: string;
  database: string;
  /** Poll interval; Athena answers small queries in 1-3 s. */
  pollMs?: number;
  /** Give up after this long (the query keeps running in Athena; its id is in the message). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface AthenaResult extends ResultSet {
  queryExecutionId: string;
  bytesScanned: number;
  costUsd: number;
  engineMs?: number;
}

/** ExecutionParameters are substituted as SQL literals: a date string must arrive quoted. */
export const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'double', 'real', 'float', 'decimal']);

function cell(value: string | undefined, info: ColumnInfo | undefined): Cell {
  if (value === undefined) return null;
  const type = (info?.Type ?? 'varchar').toLowerCase();
  if (NUMERIC.has(type)) return Number(value);
  if (type === 'boolean') return value === 'true';
  return value;
}

export async function runOnAthena(
  client: AthenaClient,
  q: SavedQuery,
  params: readonly string[],
  opts: AthenaRunOptions,
): Promise<AthenaResult> {
  // Athena binds ExecutionParameters by position, one per placeholder, and fails the query on a
  // count mismatch ("Use parameterized queries" in the Athena user guide): say which ones here.
  if (params.length !== q.placeholders) {
    throw new AthenaQueryError(
      `${q.name} takes ${q.placeholders} parameters (${q.params.join(', ')}), got ${params.length}: build them with queryParams()`,
    );
  }
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = opts.pollMs ?? 1_000;
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000);
  const started = await client.send(
    new StartQueryExecutionCommand({
      QueryString: stripComments(q.sql),
      WorkGroup: opts.workgroup,
      QueryExecutionContext: { Database: opts.database },
      ExecutionParameters: params.map(sqlLiteral),
    }),
  );
  const id = started.QueryExecutionId;
  if (!id) throw new AthenaQueryError('StartQueryExecution returned no QueryExecutionId');

  for (;;) {
    const { QueryExecution: ex } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = ex?.Status?.State;
    if (state === 'SUCCEEDED') {
      const bytesScanned = ex?.Statistics?.DataScannedInBytes ?? 0;
      const { columns, rows } = await fetchResults(client, id);
      return {
        queryExecutionId: id,
        columns,
        rows,
        bytesScanned,
        costUsd: athenaCostUsd(bytesScanned),
        engineMs: ex?.Statistics?.EngineExecutionTimeInMillis,
      };
    }
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryError(`query ${id} ${state}: ${ex?.Status?.StateChangeReason ?? 'no reason given'}`);
    }
    if (Date.now() > deadline)
      throw new AthenaQueryError(`query ${id} still ${state ?? 'unknown'} after the timeout; see it in the Athena console`);
    await sleep(pollMs);
  }
}

async function fetchResults(client: AthenaClient, id: string): Promise<ResultSet> {
  let columns: string[] = [];
  let info: ColumnInfo[] = [];
  const rows: Cell[][] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: 1000 }));
    if (first) {
      info = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      columns = info.map((c) => c.Name ?? '');
    }
    let data: AthenaRow[] = page.ResultSet?.Rows ?? [];
    // The first row of a SELECT's first page repeats the column names.
    if (first && data.length > 0) data = data.slice(1);
    for (const r of data) rows.push((r.Data ?? []).map((d, i) => cell(d.VarCharValue, info[i])));
    token = page.NextToken;
    first = false;
  } while (token);
  return { columns, rows };
}

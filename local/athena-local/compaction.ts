/**
 * The compaction's SQL, one source for both engines: athena-queries/compaction/*.sql (and the views
 * they read) hold the SELECTs; this module fills their tokens and wraps each one for its engine:
 *
 *   Athena (the deployed state machine, scripts/cfn-compaction.js)  MERGE INTO <Iceberg table>
 *     USING (<select>) ON <its key> ..., which makes a re-run insert or update, never duplicate
 *     (Athena user guide, "MERGE INTO": transactional, Iceberg tables, engine version 3).
 *   DuckDB (npm run compact, local/compact.ts)  COPY (<select>) TO <the day's Parquet object>,
 *     replacing the day whole; DuckDB has no Iceberg writer, and a whole-day rewrite from the same
 *     raw rows is as idempotent as the MERGE.
 *
 * The tables' columns are derived here (events_compacted from schema/columns.ts; the others from
 * the SELECTs' output, pinned by test/unit/query-compaction.test.ts), and so are the Glue tables.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../schema/columns';

// Not from ./duckdb, which imports this module (the local engine renders the views with the seam).
export const COMPACTION_DIR = resolve(__dirname, '../../athena-queries/compaction');
/** As duckdb.ts stripComments: `--` comments out, no final `;`. */
const stripComments = (sql: string) => sql.replace(/--[^\n]*/g, '').trim().replace(/;\s*$/, '');

/** Hive DDL type, as Glue takes it, and the DuckDB type of the same column. */
export interface TableColumn { name: string; hive: string; duck: string }

const HIVE_TO_DUCK: Record<string, string> = { string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', boolean: 'BOOLEAN', double: 'DOUBLE', 'array<string>': 'VARCHAR[]' };
const col = (name: string, hive: string): TableColumn => ({ name, hive, duck: HIVE_TO_DUCK[hive]! });

/** The raw events' columns in the order `events e` gives them (`e.*`): the schema, then dt, hour. */
export const EVENTS_COMPACTED_COLUMNS: readonly TableColumn[] = [
  ...EVENT_COLUMNS.map((c) => col(c.name, c.type)),
  ...PARTITION_COLUMNS.map((c) => col(c.name, c.type)),
];

export interface CompactedTable {
  name: string;
  /** The SELECT producing one arrival day of the table, athena-queries/compaction/<file>. */
  source: string;
  columns: readonly TableColumn[];
  /** MERGE key: a source row matches the stored row with the same values. dt is always in it. */
  key: readonly string[];
  /** insert: rows never change once written (events); upsert: a late event changes the row. */
  mode: 'insert' | 'upsert';
}

export const COMPACTED_TABLES: readonly CompactedTable[] = [
  { name: 'events_compacted', source: 'events.sql', columns: EVENTS_COMPACTED_COLUMNS, key: ['dt', 'event_id'], mode: 'insert' },
  {
    name: 'sessions_compacted', source: 'sessions.sql', key: ['dt', 'session_id', 'is_bot'], mode: 'upsert',
    columns: [col('dt', 'string'), col('session_id', 'string'), col('is_bot', 'boolean'), col('anonymous_id', 'string'), col('started_time', 'string'),
      col('ended_time', 'string'), col('page_view_ids', 'array<string>'), col('engaged', 'boolean'), col('landing_key', 'string'), col('landing_path', 'string'),
      col('landing_source', 'string'), col('landing_medium', 'string'), col('landing_campaign', 'string'), col('exit_key', 'string'), col('exit_path', 'string'),
      col('device_type', 'string'), col('browser', 'string'), col('os', 'string')],
  },
  {
    name: 'daily_visitors', source: 'daily_visitors.sql', key: ['dt', 'event_date', 'anonymous_id', 'is_bot'], mode: 'upsert',
    columns: [col('dt', 'string'), col('event_date', 'string'), col('anonymous_id', 'string'), col('is_bot', 'boolean'), col('sessions', 'bigint'),
      col('page_views', 'bigint'), col('events', 'bigint'), col('first_time', 'string'), col('last_time', 'string')],
  },
];

/**
 * One row per compacted arrival day, written after the day's tables (so a row means all of them
 * are stored). raw_fingerprint: locally the raw objects' count and bytes when the day was
 * compacted (a changed day is compacted again); NULL on AWS, where the schedule re-processes the
 * last N days instead.
 */
export const STATE_TABLE = {
  name: 'compaction_state',
  columns: [col('dt', 'string'), col('cutoff', 'string'), col('compacted_at', 'string'), col('events', 'bigint'), col('raw_fingerprint', 'string')] as readonly TableColumn[],
};

/** The seam the views read, from compaction_state (athena-queries/compaction/seam.sql). */
export interface Seam { compacted_from: string; compacted_to: string; cutoff: string; raw_from: string }
export const NOTHING_COMPACTED: Seam = { compacted_from: '9999-12-31', compacted_to: '0000-00-00', cutoff: '9999-12-31T00:00:00.000Z', raw_from: '0000-00-00' };
/** The seam's tokens, in the order seam.sql returns them. */
export const SEAM_TOKENS = ['compacted_from', 'compacted_to', 'cutoff', 'raw_from'] as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Every token the SQL files use, with the only shape its value may have (nothing else reaches SQL). */
const TOKENS: Record<string, RegExp> = {
  compacted_from: DAY, compacted_to: DAY, cutoff: INSTANT, raw_from: DAY, dt: DAY, compacted_at: INSTANT, raw_fingerprint: /^[0-9a-z:]{1,64}$/,
};

export class CompactionSqlError extends Error {
  override name = 'CompactionSqlError';
}

/** The `{{name}}` tokens of a SQL text, in order of appearance (repeats included). */
export function tokensOf(sql: string): string[] {
  return [...stripComments(sql).matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1]!);
}

/**
 * Fills the tokens of `sql` (comments stripped). Each value must have its token's shape: the
 * values come from our own clock and state, but a quote in one would still be SQL.
 */
export function renderTokens(sql: string, values: Record<string, string>): string {
  const body = stripComments(sql);
  return body.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => {
    const shape = TOKENS[name];
    const v = values[name];
    if (!shape) throw new CompactionSqlError(`unknown token {{${name}}}`);
    if (v === undefined) throw new CompactionSqlError(`no value for {{${name}}}`);
    if (!shape.test(v)) throw new CompactionSqlError(`{{${name}}}: '${v}' is not of the form ${shape}`);
    return v;
  });
}

export const readCompactionSql = (file: string): string => readFileSync(join(COMPACTION_DIR, file), 'utf8');

const names = (cols: readonly TableColumn[], prefix = '') => cols.map((c) => `${prefix}${c.name}`).join(', ');

/**
 * Athena: the MERGE that stores one day of `table` from its source SELECT (tokens left in, for the
 * caller to fill: the state machine through States.Format, tests through renderTokens). The ON
 * clause also pins the target's dt to the day, so the target scan is pruned to one partition.
 */
export function athenaMerge(table: CompactedTable): string {
  const src = stripComments(readCompactionSql(table.source));
  const on = [`t.dt = '{{dt}}'`, ...table.key.map((k) => `t.${k} IS NOT DISTINCT FROM s.${k}`)].join(' AND ');
  const insert = `WHEN NOT MATCHED THEN INSERT (${names(table.columns)}) VALUES (${names(table.columns, 's.')})`;
  const update = table.mode === 'upsert'
    ? `WHEN MATCHED THEN UPDATE SET ${table.columns.filter((c) => !table.key.includes(c.name)).map((c) => `${c.name} = s.${c.name}`).join(', ')} `
    : '';
  return `MERGE INTO ${table.name} t USING (${src}) s ON ${on} ${update}${insert}`;
}

/** Athena: records the day as compacted (after its tables), with its cutoff. */
export function athenaStateMerge(): string {
  const cols = STATE_TABLE.columns;
  const src = `SELECT '{{dt}}' AS dt, '{{cutoff}}' AS cutoff, '{{compacted_at}}' AS compacted_at, `
    + `(SELECT count(*) FROM events_compacted c WHERE c.dt = '{{dt}}') AS events, CAST(NULL AS VARCHAR) AS raw_fingerprint`;
  return `MERGE INTO ${STATE_TABLE.name} t USING (${src}) s ON t.dt = s.dt `
    + `WHEN MATCHED THEN UPDATE SET ${cols.filter((c) => c.name !== 'dt').map((c) => `${c.name} = s.${c.name}`).join(', ')} `
    + `WHEN NOT MATCHED THEN INSERT (${names(cols)}) VALUES (${names(cols, 's.')})`;
}

/** DuckDB: the SELECT whose rows become the day's Parquet object (the table's columns, in order). */
export function duckSelect(table: CompactedTable, values: Record<string, string>): string {
  // Not stored in the object: dt is its folder (hive partitioning), as on S3.
  const cols = table.columns.filter((c) => c.name !== 'dt');
  const order = table.name === 'events_compacted' ? ' ORDER BY event_time, event_id' : '';
  return `SELECT ${cols.map((c) => `CAST(s.${c.name} AS ${c.duck}) AS ${c.name}`).join(', ')} FROM (${renderTokens(readCompactionSql(table.source), values)}) s${order}`;
}

/** DuckDB: a table over its Parquet objects, columns in the declared order (dt from the folder). */
export function duckTableView(table: { name: string; columns: readonly TableColumn[] }, glob: string | undefined): string {
  if (glob === undefined) {
    // Nothing compacted yet: an empty table with the right columns keeps every view valid.
    return `CREATE OR REPLACE VIEW ${table.name} AS SELECT ${table.columns.map((c) => `CAST(NULL AS ${c.duck}) AS ${c.name}`).join(', ')} WHERE false`;
  }
  return `CREATE OR REPLACE VIEW ${table.name} AS SELECT ${names(table.columns)} FROM read_parquet('${glob.replace(/'/g, "''")}', hive_partitioning = true, hive_types = {'dt': VARCHAR})`;
}

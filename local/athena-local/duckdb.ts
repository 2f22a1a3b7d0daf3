/**
 * Local Athena: DuckDB over the bucket folder (LOCAL_DATA_DIR), with tables named as in Glue and a
 * few macros for the Trino functions DuckDB lacks, so the saved queries in athena-queries/ run
 * unchanged. Column types come from schema/columns.ts, never from a hand-made list.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EVENT_COLUMNS, REJECT_COLUMNS, type Column, type GlueType } from '../../schema/columns';
import { objectsUnder } from '../firehose/layout';

export const QUERIES_DIR = resolve(__dirname, '../../athena-queries');
export const VIEWS_DIR = join(QUERIES_DIR, 'views');

const DUCK_TYPES: Record<GlueType, string> = { string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', boolean: 'BOOLEAN', double: 'DOUBLE' };

/**
 * Trino functions the saved queries use that DuckDB spells differently. approx_percentile maps to
 * DuckDB's exact quantile_disc: locally we can afford exact, and tests then compare against a
 * known nearest-rank answer.
 */
export const TRINO_MACROS: readonly string[] = [
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(x) AS CAST(x AS TIMESTAMPTZ)',
  'CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)',
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  'CREATE OR REPLACE MACRO arbitrary(x) AS any_value(x)',
  // Trino's sequence(date, date) steps one day; DuckDB's generate_series makes timestamps.
  "CREATE OR REPLACE MACRO sequence(a, b) AS list_transform(generate_series(CAST(a AS DATE), CAST(b AS DATE), INTERVAL 1 DAY), x -> CAST(x AS DATE))",
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE MACRO date_format(t, f) AS strftime(t, f)',
  "CREATE OR REPLACE MACRO url_extract_host(u) AS regexp_extract(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]*)', 1)",
  "CREATE OR REPLACE MACRO url_extract_path(u) AS regexp_extract(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)', 1)",
  "CREATE OR REPLACE MACRO url_extract_parameter(u, k) AS nullif(regexp_extract(u, '[?&]' || k || '=([^&#]*)', 1), '')",
];

export class LocalDataError extends Error {
  override name = 'LocalDataError';
}

export const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** `{name: 'VARCHAR', ...}` for read_json's `columns`, from the schema. */
export function duckColumns(columns: readonly Column[]): string {
  return `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(DUCK_TYPES[c.type])}`).join(', ')}}`;
}

/** How Firehose writes `events/`: gzip NDJSON (the default) or Parquet (`dataFormat=parquet`). */
export type EventsFormat = 'json' | 'parquet';
const EXTENSION: Record<EventsFormat, string> = { json: '.gz', parquet: '.parquet' };

function tableSql(name: string, dir: string, columns: readonly Column[], format: EventsFormat = 'json'): string {
  // Firehose names objects <stream>-1-<stamp>-<uuid>.gz under dt=/hour= folders (arrival time).
  const glob = sqlString(join(dir, '*', '*', `*${EXTENSION[format]}`));
  const partitions = "hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}";
  // Parquet carries its column types (written from the same schema, see bench/parquet.ts).
  if (format === 'parquet') return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${glob}, ${partitions})`;
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_json(${glob}, format = 'newline_delimited', compression = 'gzip',
    ${partitions}, columns = ${duckColumns(columns)})`;
}

/** The view files, in name order (a later view may read an earlier one). */
export function viewFiles(): string[] {
  return readdirSync(VIEWS_DIR).filter((f) => f.endsWith('.sql')).sort().map((f) => join(VIEWS_DIR, f));
}

/** Strips `--` comments so a file's header does not reach the engine as part of a statement. */
export function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').trim().replace(/;\s*$/, '');
}

export type Cell = string | number | boolean | null;

export interface ResultSet {
  columns: string[];
  rows: Cell[][];
}

export interface LocalAthena {
  connection: DuckDBConnection;
  run(sql: string, params?: string[]): Promise<ResultSet>;
  close(): void;
}

/** DuckDB hands back BIGINT as bigint and DECIMAL as objects; Athena's JSON shows plain numbers. */
export function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'object' && 'toDouble' in v && typeof (v as { toDouble: unknown }).toDouble === 'function') return (v as { toDouble(): number }).toDouble();
  return String(v);
}

/** DuckDB with the Trino macros and UTC, but no tables: the base of openLocalAthena. */
export async function openEngine(): Promise<LocalAthena> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // Athena reports event times in UTC; DuckDB would use the machine's zone for TIMESTAMPTZ -> DATE.
  await connection.run("SET TimeZone = 'UTC'");
  // Trino's `/` on two integers truncates (7 / 2 = 3); DuckDB's gives 3.5 unless this is set.
  // Without it a count / count written by mistake would look right here and be 0 on Athena.
  // (Decimal literals, which DuckDB cannot type as Trino does, are caught by trino-types.ts.)
  await connection.run('SET integer_division = true');
  for (const m of TRINO_MACROS) await connection.run(m);
  return {
    connection,
    async run(sql, params) {
      const reader = params && params.length > 0 ? await connection.runAndReadAll(sql, params) : await connection.runAndReadAll(sql);
      return { columns: reader.columnNames(), rows: reader.getRows().map((row) => row.map(toCell)) };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Opens DuckDB over `dataDir` with `events`, `rejects` and the views of athena-queries/views/.
 * `events/` holds gzip NDJSON objects, or Parquet ones with `eventsFormat` 'parquet' (the
 * benchmark's conversion; the local stack always writes JSON). `rejects/` is always gzip NDJSON.
 * Throws LocalDataError when there are no event objects: an empty result would look like "no
 * traffic" rather than "wrong folder".
 */
export async function openLocalAthena(dataDir: string, eventsFormat: EventsFormat = 'json'): Promise<LocalAthena> {
  const eventsDir = join(dataDir, 'events');
  if (objectsUnder(eventsDir, EXTENSION[eventsFormat]).length === 0) {
    throw new LocalDataError(`no event objects under ${eventsDir}: run \`npm start\` and send traffic, or \`npm run simulate\` (set LOCAL_DATA_DIR to use another folder)`);
  }
  const engine = await openEngine();
  const { connection } = engine;
  try {
    await connection.run(tableSql('events', eventsDir, EVENT_COLUMNS, eventsFormat));
    const rejectsDir = join(dataDir, 'rejects');
    if (objectsUnder(rejectsDir, '.gz').length > 0) {
      await connection.run(tableSql('rejects', rejectsDir, REJECT_COLUMNS));
    } else {
      // No rejected event yet is normal: an empty table with the right columns keeps data_quality running.
      const cols = REJECT_COLUMNS.map((c) => `CAST(NULL AS ${DUCK_TYPES[c.type]}) AS ${c.name}`).join(', ');
      await connection.run(`CREATE OR REPLACE VIEW rejects AS SELECT ${cols}, CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS hour WHERE false`);
    }
    for (const file of viewFiles()) await connection.run(stripComments(readFileSync(file, 'utf8')));
  } catch (e) {
    engine.close();
    throw e;
  }
  return engine;
}

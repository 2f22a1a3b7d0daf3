/**
 * Local Athena: DuckDB over the bucket folder (LOCAL_DATA_DIR), with tables named as in Glue and a
 * few macros for the Trino functions DuckDB lacks, so the saved queries in athena-queries/ run
 * unchanged. Column types come from schema/columns.ts, never from a hand-made list.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { EVENT_COLUMNS, REJECT_COLUMNS, type Column, type GlueType } from '../../schema/columns';
import {
  COMPACTED_TABLES,
  duckTableView,
  NOTHING_COMPACTED,
  readCompactionSql,
  renderTokens,
  SEAM_TOKENS,
  STATE_TABLE,
  type Seam,
} from './compaction';

export const QUERIES_DIR = resolve(__dirname, '../../athena-queries');
export const VIEWS_DIR = join(QUERIES_DIR, 'views');

const DUCK_TYPES: Record<GlueType, string> = { string: 'VARCHAR', bigint: 'BIGINT', int: 'INTEGER', boolean: 'BOOLEAN', double: 'DOUBLE' };

/**
 * java.net.URI, which Trino's url_extract_* functions parse with, rejects these characters in every
 * part of a URI (and a `%` not followed by two hex digits, and a second `#`): Trino then returns
 * NULL. Anything else outside the subset trino_url_state() accepts is refused with an error, since the
 * local regex cannot tell what java.net.URI would make of it.
 */
const URL_ILLEGAL = String.raw`[\x00-\x20\x7f"<>\\\^\x60{|}]|%([^0-9A-Fa-f]|[0-9A-Fa-f]([^0-9A-Fa-f]|$)|$)|#[^#]*#`;
/** scheme://authority path ?query #fragment, the RFC 2396 shape Trino's docs give. */
const URL_SHAPE = String.raw`^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(\?([^#]*))?(#(.*))?$`;
/**
 * The authorities java.net.URI reads as a server (so getHost() is the host as written): an RFC 2396
 * host name (one label, or labels whose last one starts with a letter, optional trailing dot) or
 * a dotted-quad IPv4 address, with an optional port. Others (user info, IPv6, `_` in a name) fall
 * back to a registry authority with no host, or fail: refused locally.
 */
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?';
const OCTET = '(25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])';
const URL_AUTHORITY = `^((${LABEL}\\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?\\.?|${LABEL}\\.?|${OCTET}(\\.${OCTET}){3})(:[0-9]{0,5})?$`;

/** An error the query cannot miss, naming the function and the value Athena may treat otherwise. */
const refuse = (fn: string, why: string, value: string) =>
  `error('${fn}: ${why}: ' || ${value} || ' (the local engine refuses what it cannot answer as Athena would)')`;

/**
 * Trino functions DuckDB lacks or spells differently, as macros that either give Trino's answer or
 * fail the query with a message: a silently different number locally is worse than an error.
 * approx_percentile maps to DuckDB's exact quantile_disc: locally we can afford exact, and tests
 * then compare against a known nearest-rank answer.
 *
 * Sources (Trino docs and source, which Athena engine version 3 follows): functions/datetime.md
 * (from_iso8601_timestamp keeps the input's offset; the MySQL date_format specifiers, `%D %U %u %V
 * %w %X` unsupported), functions/json.md (json_extract_scalar: the value must be a scalar),
 * functions/array.md (sequence: -1 day when start > stop, at most 10,000 entries), functions/url.md
 * and UrlFunctions.java (java.net.URI: NULL for an invalid URI, '' for a missing host, getPath()
 * decoded, url_extract_parameter splits the raw query on & and the first =, then URL-decodes).
 */
export const TRINO_MACROS: readonly string[] = [
  // Trino keeps a +01:00 offset as the value's zone, so hour(), CAST(... AS DATE) and date_format
  // read the local clock there; DuckDB converts to UTC. Only UTC and zone-less inputs (read in the
  // session zone, UTC on Athena) agree. The LIKE keeps the common 'Z' case cheap.
  `CREATE OR REPLACE MACRO from_iso8601_timestamp(x) AS CASE
     WHEN NOT (x LIKE '%Z') AND regexp_matches(x, 'T[0-9:.,]+[+-][0-9]{2}(:?[0-9]{2})?$') AND NOT regexp_matches(x, '[+-]00(:?00)?$')
       THEN ${refuse('from_iso8601_timestamp', 'a non-UTC offset stays the value zone on Athena but becomes UTC here', 'x')}
     ELSE CAST(x AS TIMESTAMPTZ) END`,
  // The path as given when Trino's path language has it, else '$': DuckDB binds a constant path
  // while planning, and a wildcard one would make every branch of json_extract_scalar a list.
  String.raw`CREATE OR REPLACE MACRO trino_json_path(p) AS CASE WHEN regexp_matches(p, '^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])*$') THEN p ELSE '$' END`,
  // DuckDB's json_extract_string returns an array or object as JSON text, Trino returns NULL (also
  // for JSON null). Trino returns a number as spelled in the document ('1.50', '1e2'); DuckDB
  // re-prints it ('1.5', '100.0'), so a number whose printed form is not in the document fails.
  // Paths beyond $.key / [n] (DuckDB also takes JSON pointers and wildcards) are refused.
  `CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS CASE
     WHEN j IS NULL OR p IS NULL THEN NULL
     WHEN trino_json_path(p) <> p
       THEN ${refuse('json_extract_scalar', 'only $.key and [n] paths are supported, got', 'p')}
     WHEN NOT json_valid(j)
       THEN ${refuse('json_extract_scalar', 'invalid JSON (Trino returns NULL or a value read before the error)', 'j')}
     WHEN json_type(j, trino_json_path(p)) IS NULL OR json_type(j, trino_json_path(p)) IN ('OBJECT', 'ARRAY', 'NULL') THEN NULL
     WHEN json_type(j, trino_json_path(p)) IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT')
          AND NOT regexp_matches(j, '(^|[^0-9.eE+-])' || regexp_escape(json_extract_string(j, trino_json_path(p))) || '([^0-9.eE+-]|$)')
       THEN ${refuse('json_extract_scalar', 'Athena returns the number as spelled in the document, DuckDB re-prints it', 'json_extract_string(j, trino_json_path(p))')}
     ELSE json_extract_string(j, trino_json_path(p)) END`,
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  'CREATE OR REPLACE MACRO arbitrary(x) AS any_value(x)',
  // Trino's sequence(date, date) steps one day (minus one when start > stop) and fails past 10,000
  // entries; DuckDB's generate_series makes timestamps and has no cap.
  `CREATE OR REPLACE MACRO sequence(a, b) AS CASE
     WHEN abs(date_diff('day', CAST(a AS DATE), CAST(b AS DATE))) >= 10000
       THEN ${refuse('sequence', 'result of sequence function must not have more than 10000 entries (Trino fails the query)', "CAST(a AS VARCHAR) || ' to ' || CAST(b AS VARCHAR)")}
     WHEN CAST(a AS DATE) <= CAST(b AS DATE)
       THEN list_transform(generate_series(CAST(a AS DATE), CAST(b AS DATE), INTERVAL 1 DAY), x -> CAST(x AS DATE))
     ELSE list_transform(generate_series(CAST(a AS DATE), CAST(b AS DATE), -INTERVAL 1 DAY), x -> CAST(x AS DATE)) END`,
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  // Trino's cardinality(array) is the element count (NULL for NULL); DuckDB's own is for maps only.
  // array_length fails on a map or a string, as Trino's would on a string.
  'CREATE OR REPLACE MACRO cardinality(x) AS array_length(x)',
  // Trino's array_remove(x, e) drops every element equal to e (DuckDB has no such function).
  'CREATE OR REPLACE MACRO array_remove(x, v) AS list_filter(x, el -> el <> v)',
  // Trino's date_diff counts whole units (Joda's getDifferenceAsLong: 23:00 to 01:00 next day is 0
  // days); DuckDB's date_diff counts unit boundaries crossed (1 day). DuckDB's date_sub counts
  // whole units, so the name is taken over. The saved queries diff millisecond-precise times and
  // Monday-aligned weeks, where both agree; ad-hoc queries with 'day' or 'hour' would not.
  'CREATE OR REPLACE MACRO date_diff(u, a, b) AS date_sub(u, a, b)',
  // Trino's date_format takes MySQL specifiers (%i minutes, %s seconds, %W weekday name, ...);
  // each is translated to its strftime form in one pass over the format's tokens. %f prints the
  // milliseconds then 000, as Trino truncates to milliseconds. Unsupported ones fail, as on Trino.
  // A DATE is read as midnight, as Trino coerces it to a timestamp.
  `CREATE OR REPLACE MACRO date_format(t, f) AS strftime(CAST(t AS TIMESTAMPTZ), array_to_string(list_transform(regexp_extract_all(f, '(?s)%.|[^%]+|%$'), tok -> CASE
     WHEN NOT starts_with(tok, '%') THEN tok
     WHEN tok IN ('%a', '%b', '%d', '%H', '%I', '%j', '%m', '%p', '%S', '%Y', '%y', '%%') THEN tok
     WHEN tok = '%c' THEN '%-m'
     WHEN tok = '%e' THEN '%-d'
     WHEN tok = '%f' THEN '%g000'
     WHEN tok = '%h' THEN '%I'
     WHEN tok = '%i' THEN '%M'
     WHEN tok = '%k' THEN '%-H'
     WHEN tok = '%l' THEN '%-I'
     WHEN tok = '%M' THEN '%B'
     WHEN tok = '%r' THEN '%I:%M:%S %p'
     WHEN tok = '%s' THEN '%S'
     WHEN tok = '%T' THEN '%H:%M:%S'
     WHEN tok = '%v' THEN '%V'
     WHEN tok = '%W' THEN '%A'
     WHEN tok = '%x' THEN '%G'
     WHEN tok IN ('%D', '%U', '%u', '%V', '%w', '%X', '%')
       THEN ${refuse('date_format', 'Trino does not support the specifier', 'tok')}
     ELSE substr(tok, 2) END), ''))`,
  // 'ok' when the URL is in the subset the url_extract_* macros answer exactly, 'invalid' when
  // java.net.URI rejects it (Trino: NULL), 'unsupported' otherwise.
  `CREATE OR REPLACE MACRO trino_url_state(u) AS CASE
     WHEN u IS NULL THEN 'invalid'
     WHEN regexp_matches(u, '${URL_ILLEGAL}') THEN 'invalid'
     WHEN regexp_matches(u, '[^\\x21-\\x7e]|[\\[\\]@]') OR NOT regexp_matches(u, '${URL_SHAPE}') THEN 'unsupported'
     WHEN NOT regexp_matches(regexp_extract(u, '${URL_SHAPE}', 2), '${URL_AUTHORITY}') THEN 'unsupported'
     ELSE 'ok' END`,
  `CREATE OR REPLACE MACRO url_extract_host(u) AS CASE trino_url_state(u)
     WHEN 'ok' THEN regexp_extract(regexp_extract(u, '${URL_SHAPE}', 2), '^[^:]*')
     WHEN 'invalid' THEN NULL
     ELSE ${refuse('url_extract_host', 'not an absolute ASCII URL with a DNS or IPv4 host', 'u')} END`,
  // java.net.URI's getPath() is percent-decoded ('+' stays); url_decode fails on invalid UTF-8
  // where Java would put U+FFFD: loud, not different.
  `CREATE OR REPLACE MACRO url_extract_path(u) AS CASE trino_url_state(u)
     WHEN 'ok' THEN url_decode(regexp_extract(u, '${URL_SHAPE}', 3))
     WHEN 'invalid' THEN NULL
     ELSE ${refuse('url_extract_path', 'not an absolute ASCII URL with a DNS or IPv4 host', 'u')} END`,
  // The first `&`-separated pair whose raw name (not decoded) equals k; a name without `=` gives ''.
  // The value is form-decoded ('+' is a space), as java.net.URLDecoder does.
  `CREATE OR REPLACE MACRO trino_url_pair(u, k) AS list_filter(string_split(
     CASE WHEN regexp_extract(u, '${URL_SHAPE}', 4) = '' THEN NULL ELSE regexp_extract(u, '${URL_SHAPE}', 5) END, '&'),
     a -> split_part(a, '=', 1) = k)[1]`,
  `CREATE OR REPLACE MACRO url_extract_parameter(u, k) AS CASE trino_url_state(u)
     WHEN 'ok' THEN CASE WHEN trino_url_pair(u, k) IS NULL THEN NULL WHEN strpos(trino_url_pair(u, k), '=') = 0 THEN ''
       ELSE url_decode(replace(substr(trino_url_pair(u, k), strpos(trino_url_pair(u, k), '=') + 1), '+', ' ')) END
     WHEN 'invalid' THEN NULL
     ELSE ${refuse('url_extract_parameter', 'not an absolute ASCII URL with a DNS or IPv4 host', 'u')} END`,
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

function tableSql(name: string, dir: string, columns: readonly Column[], format: EventsFormat = 'json', days?: readonly string[]): string {
  // Firehose names objects <stream>-1-<stamp>-<uuid>.gz under dt=/hour= folders (arrival time).
  const glob =
    days === undefined
      ? sqlString(join(dir, '*', '*', `*${EXTENSION[format]}`))
      : `[${days.map((d) => sqlString(join(dir, `dt=${d}`, '*', `*${EXTENSION[format]}`))).join(', ')}]`;
  const partitions = "hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}";
  // Parquet carries its column types (written from the same schema, see bench/parquet.ts).
  if (format === 'parquet') return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${glob}, ${partitions})`;
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_json(${glob}, format = 'newline_delimited', compression = 'gzip',
    ${partitions}, columns = ${duckColumns(columns)})`;
}

/**
 * Whether `dir` (or a folder below it) holds an object ending in `ext`, stopping at the first one:
 * local/firehose/layout objectsUnder lists and sorts every object, which at 48,000 objects was most of the time
 * `npm run query` took to open the engine, only to learn that there was one.
 */
export function hasObject(dir: string, ext: string): boolean {
  if (!existsSync(dir)) return false;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() ? e.name.endsWith(ext) : e.isDirectory() && hasObject(join(dir, e.name), ext)) return true;
  }
  return false;
}

/** The view files, in name order (a later view may read an earlier one). */
export function viewFiles(): string[] {
  return readdirSync(VIEWS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(VIEWS_DIR, f));
}

/** Strips `--` comments so a file's header does not reach the engine as part of a statement. */
export function stripComments(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, '')
    .trim()
    .replace(/;\s*$/, '');
}

export type Cell = string | number | boolean | null;

export interface ResultSet {
  columns: string[];
  rows: Cell[][];
}

export interface LocalAthena {
  connection: DuckDBConnection;
  run(sql: string, params?: string[]): Promise<ResultSet>;
  /**
   * Runs `sql` with the raw tables listing only the arrival days fromDt..toDt, as Athena's
   * partition projection lists only the prefixes of a query's dt range (the saved queries filter dt
   * to their range plus slack, so they read the same rows). Locally this matters: DuckDB lists and
   * matches every object of a glob on every query (about 20 us per object: 0.9 s at 45,000 objects)
   * before pruning partitions. Only on engines opened over a data folder.
   * viewsOnly: `sql` reads the raw tables only through the views (every saved query but
   * data_quality), whose raw side skips the compacted days: those days are not listed either, as
   * projection on Athena combines the query's dt range with the view's seam condition on dt.
   */
  runInRange?(sql: string, params: string[], fromDt: string, toDt: string, viewsOnly?: boolean): Promise<ResultSet>;
  close(): void;
}

/** DuckDB hands back BIGINT as bigint and DECIMAL as objects; Athena's JSON shows plain numbers. */
export function toCell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'object' && 'toDouble' in v && typeof (v as { toDouble: unknown }).toDouble === 'function')
    return (v as { toDouble(): number }).toDouble();
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

/** Where `npm run compact` writes a table's Parquet objects: <dataDir>/compacted/<table>/dt=D/. */
export const compactedDir = (dataDir: string, table: string) => join(dataDir, 'compacted', table);

/** The compaction's tables over their Parquet objects, empty ones where nothing is compacted yet. */
export async function createCompactedTables(engine: LocalAthena, dataDir: string): Promise<void> {
  for (const t of [...COMPACTED_TABLES, STATE_TABLE]) {
    const dir = compactedDir(dataDir, t.name);
    const glob = hasObject(dir, '.parquet') ? join(dir, '*', '*.parquet') : undefined;
    await engine.connection.run(duckTableView(t, glob));
  }
}

/** The seam compaction_state describes (athena-queries/compaction/seam.sql). */
export async function readSeam(engine: LocalAthena): Promise<Seam> {
  const r = await engine.run(stripComments(readCompactionSql('seam.sql')));
  const row = r.rows[0];
  if (!row) return NOTHING_COMPACTED;
  return Object.fromEntries(SEAM_TOKENS.map((t) => [t, String(row[r.columns.indexOf(t)])])) as unknown as Seam;
}

/** (Re-)creates the views of athena-queries/views/ with the seam filled in, as the deploy does. */
export async function createViews(engine: LocalAthena, seam: Seam): Promise<void> {
  for (const file of viewFiles()) await engine.connection.run(renderTokens(readFileSync(file, 'utf8'), { ...seam }));
}

/**
 * Opens DuckDB over `dataDir` with `events`, `rejects`, the compaction's tables (`npm run compact`)
 * and the views of athena-queries/views/, joined at the seam compaction_state records.
 * `events/` holds gzip NDJSON objects, or Parquet ones with `eventsFormat` 'parquet' (the
 * benchmark's conversion; the local stack always writes JSON). `rejects/` is always gzip NDJSON.
 * Throws LocalDataError when there are no event objects: an empty result would look like "no
 * traffic" rather than "wrong folder".
 */
export async function openLocalAthena(dataDir: string, eventsFormat: EventsFormat = 'json'): Promise<LocalAthena> {
  const eventsDir = join(dataDir, 'events');
  if (!hasObject(eventsDir, EXTENSION[eventsFormat])) {
    throw new LocalDataError(
      `no event objects under ${eventsDir}: run \`npm start\` and send traffic, or \`npm run simulate\` (set LOCAL_DATA_DIR to use another folder)`,
    );
  }
  const engine = await openEngine();
  const { connection } = engine;
  const rejectsDir = join(dataDir, 'rejects');
  /** Days (YYYY-MM-DD) with objects under `dir`, in fromDt..toDt. */
  const daysIn = (dir: string, ext: string, fromDt: string, toDt: string, skip?: Seam) =>
    (existsSync(dir) ? readdirSync(dir) : [])
      .map((d) => d.slice(3))
      .filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && d >= fromDt && d <= toDt && !(skip && d >= skip.compacted_from && d < skip.raw_from))
      .filter((d) => hasObject(join(dir, `dt=${d}`), ext));
  let seam: Seam = NOTHING_COMPACTED;
  /** The raw tables over every object (range undefined) or over the days of a range. */
  const rawTables = async (range?: readonly [string, string, boolean]) => {
    const skip = range?.[2] ? seam : undefined;
    const [evDays, rjDays] = range
      ? [daysIn(eventsDir, EXTENSION[eventsFormat], range[0], range[1], skip), daysIn(rejectsDir, '.gz', range[0], range[1])]
      : [undefined, undefined];
    await connection.run(
      evDays?.length === 0 ? emptyTable('events', EVENT_COLUMNS) : tableSql('events', eventsDir, EVENT_COLUMNS, eventsFormat, evDays),
    );
    // No rejected event yet is normal: an empty table with the right columns keeps data_quality running.
    const anyRejects = rjDays ? rjDays.length > 0 : hasObject(rejectsDir, '.gz');
    await connection.run(
      anyRejects ? tableSql('rejects', rejectsDir, REJECT_COLUMNS, 'json', rjDays) : emptyTable('rejects', REJECT_COLUMNS),
    );
  };
  // No scope yet: the first run() or runInRange() creates the raw tables it needs. Binding a view
  // over every raw object lists them all (DuckDB expands the glob), so opening with them cost
  // seconds that a saved query, which lists only its own days, then did not use.
  let scope = 'none';
  const scoped = async (range?: readonly [string, string, boolean]) => {
    const key = range ? range.join('..') : 'all';
    if (key === scope) return;
    await rawTables(range);
    scope = key;
  };
  try {
    await connection.run(emptyTable('events', EVENT_COLUMNS));
    await connection.run(emptyTable('rejects', REJECT_COLUMNS));
    await createCompactedTables(engine, dataDir);
    seam = await readSeam(engine);
    await createViews(engine, seam);
  } catch (e) {
    engine.close();
    throw e;
  }
  return {
    ...engine,
    async run(sql, params) {
      await scoped();
      return engine.run(sql, params);
    },
    async runInRange(sql, params, fromDt, toDt, viewsOnly = false) {
      await scoped([fromDt, toDt, viewsOnly]);
      return engine.run(sql, params);
    },
  };
}

/** A raw table with no object yet: the right columns, no rows. */
function emptyTable(name: string, columns: readonly Column[]): string {
  const cols = columns.map((c) => `CAST(NULL AS ${DUCK_TYPES[c.type]}) AS ${c.name}`).join(', ');
  return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols}, CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS hour WHERE false`;
}

/**
 * The saved queries as files: names, one-line descriptions and parameters, shared by the local
 * runner, the Athena runner, the report and the tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QUERIES_DIR, stripComments, type LocalAthena, type ResultSet } from './duckdb';

export class QueryUsageError extends Error {
  override name = 'QueryUsageError';
}

export interface SavedQuery {
  name: string;
  description: string;
  sql: string;
  /** Number of `?` placeholders in the SQL (comments excluded). */
  placeholders: number;
  /**
   * What each placeholder takes, in order, from the file's `-- Parameters, in order:` line: 'from',
   * 'to', or 'step1'..'step4'. Athena binds ExecutionParameters by position, one value per `?`, so
   * a date used in two WHERE clauses is listed (and passed) twice.
   */
  params: string[];
}

/** A saved query file whose header does not describe its placeholders: a bug in the file. */
export class QueryFileError extends Error {
  override name = 'QueryFileError';
}

const PARAM_NAME = /^(from|to|step[1-9])$/;

/** Extra parameters after from/to. Only funnel has some: four step slots, '' when unused. */
export const MAX_FUNNEL_STEPS = 4;

export function queryNames(): string[] {
  return readdirSync(QUERIES_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function loadQuery(name: string): SavedQuery {
  if (!/^[a-z0-9_]+$/.test(name) || !existsSync(join(QUERIES_DIR, `${name}.sql`))) {
    throw new QueryUsageError(`unknown query '${name}'. Known queries: ${queryNames().join(', ')} (npm run query -- --list)`);
  }
  return parseQuery(name, readFileSync(join(QUERIES_DIR, `${name}.sql`), 'utf8'));
}

/** A saved query from its file text; throws QueryFileError when the header misdescribes the `?`. */
export function parseQuery(name: string, sql: string): SavedQuery {
  const description = (sql.match(/^--\s*(.+)$/m)?.[1] ?? '').trim();
  const body = sql.replace(/--[^\n]*/g, '');
  const placeholders = (body.match(/\?/g) ?? []).length;
  // The names end where the prose starts: at a parenthesis, a full stop or the end of the line.
  const listed = sql.match(/^-- Parameters, in order: ([a-z0-9, ]+?)\s*(?:[(.]|$)/m)?.[1];
  const params = listed === undefined ? [] : listed.split(',').map((p) => p.trim());
  if (params.length !== placeholders || params.some((p) => !PARAM_NAME.test(p))) {
    throw new QueryFileError(
      `${name}.sql: its '-- Parameters, in order:' line lists [${params.join(', ')}] but the SQL has ${placeholders} placeholders`,
    );
  }
  return { name, description, sql, placeholders, params };
}

/** The funnel step slots a query takes (step1..stepN), 0 for the others. */
export const stepSlots = (q: SavedQuery) => q.params.filter((p) => p.startsWith('step')).length;

export function listQueries(): { name: string; description: string }[] {
  return queryNames().map((n) => ({ name: n, description: loadQuery(n).description }));
}

/**
 * The calendar the queries take their date range from (range_days): Trino's sequence() makes at
 * most 10,000 elements, so 2020-01-01 plus 9,999 days.
 */
export const CALENDAR = { first: '2020-01-01', last: '2047-05-18' } as const;

/** Checks a YYYY-MM-DD date strictly (2026-02-30 is not a date) and inside the queries' calendar. */
export function checkDate(label: string, value: string | undefined): string {
  if (value === undefined) throw new QueryUsageError(`--${label} YYYY-MM-DD is required`);
  // Day 32+ or month 13+ is not even a Date (toISOString would throw); Feb 30 rolls over to March.
  const t = Date.parse(`${value}T00:00:00Z`);
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value;
  if (!ok) throw new QueryUsageError(`--${label} must be a date YYYY-MM-DD, got '${value}'`);
  if (value < CALENDAR.first || value > CALENDAR.last)
    throw new QueryUsageError(
      `--${label} must be between ${CALENDAR.first} and ${CALENDAR.last} (the saved queries' calendar), got ${value}`,
    );
  return value;
}

/**
 * Positional parameters in the order of the `?` in the file (SavedQuery.params): the dates as
 * often as the file uses them, then the step slots, '' for unused ones.
 */
export function queryParams(q: SavedQuery, from: string, to: string, steps: readonly string[] = []): string[] {
  checkDate('from', from);
  checkDate('to', to);
  if (from > to) throw new QueryUsageError(`--from ${from} is after --to ${to}`);
  const slots = stepSlots(q);
  if (slots === 0 && steps.length > 0) throw new QueryUsageError(`--step applies to funnel only, not ${q.name}`);
  if (slots > 0) {
    if (steps.length === 0)
      throw new QueryUsageError(
        `${q.name} needs 1 to ${slots} --step values (a page path like /menu.html or an event name like add_to_cart)`,
      );
    if (steps.length > slots) throw new QueryUsageError(`${q.name} takes at most ${slots} --step values, got ${steps.length}`);
    if (steps.some((s) => s.trim() === '')) throw new QueryUsageError('--step must not be empty');
  }
  return q.params.map((p) => (p === 'from' ? from : p === 'to' ? to : (steps[Number(p.slice(4)) - 1] ?? '')));
}

/**
 * Funnel answers every step slot and names a step only when an event matches it (Athena takes
 * `?` only in WHERE clauses, so the query cannot echo its parameters). Keep the slots asked for
 * and name them as asked.
 */
export function finishResult(q: SavedQuery, steps: readonly string[], result: ResultSet): ResultSet {
  if (stepSlots(q) === 0) return result;
  const step = result.columns.indexOf('step');
  const name = result.columns.indexOf('step_name');
  const rows = result.rows
    .filter((r) => typeof r[step] === 'number' && (r[step] as number) <= steps.length)
    .map((r) => r.map((v, i) => (i === name ? (steps[(r[step] as number) - 1] ?? v) : v)));
  return { columns: result.columns, rows };
}

/** Runs a saved query on the local engine with its parameters, as the runner does. */
export async function runSaved(db: LocalAthena, name: string, from: string, to: string, steps: readonly string[] = []): Promise<ResultSet> {
  const q = loadQuery(name);
  const params = queryParams(q, from, to, steps);
  // The partitions a saved query may read: its dt filter's range (docs/queries.md "Partition slack").
  const [lo, hi] = slackOf(from, to);
  const body = stripComments(q.sql);
  // A query that names `events` itself (data_quality) reads compacted days' raw objects too.
  const viewsOnly = !/\bFROM\s+events\b(?!_)/i.test(body);
  const result = db.runInRange ? await db.runInRange(body, params, lo, hi, viewsOnly) : await db.run(body, params);
  return finishResult(q, steps, result);
}

/** The arrival days a saved query over from..to reads: the day before `from` to 3 days after `to`. */
export function slackOf(from: string, to: string): [string, string] {
  const day = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  return [day(from, -1), day(to, 3)];
}

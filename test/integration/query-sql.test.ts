/**
 * The saved query files: valid Trino (Athena) syntax, the parameters and columns the spec names,
 * and the rules every business query follows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'node-sql-parser';
import { QUERIES_DIR, viewFiles, duckColumns } from '../../local/athena-local/duckdb';
import { NOTHING_COMPACTED, renderTokens } from '../../local/athena-local/compaction';
import { loadQuery, parseQuery, QueryFileError, queryNames } from '../../local/athena-local/queries';
import { EVENT_COLUMNS } from '../../schema/columns';

const SPEC: Record<string, string[]> = {
  daily_active_users: ['dt', 'visitors', 'sessions', 'page_views'],
  top_pages: ['path', 'page_views', 'visitors'],
  traffic_sources: ['source', 'medium', 'campaign', 'sessions', 'visitors'],
  sessions_summary: ['dt', 'sessions', 'bounce_rate', 'avg_session_seconds', 'pages_per_session'],
  landing_pages: ['path', 'entrances', 'bounce_rate'],
  exit_pages: ['path', 'exits'],
  user_paths: ['from_path', 'to_path', 'transitions'],
  funnel: ['step', 'step_name', 'sessions'],
  retention_weekly: ['cohort_week', 'week_offset', 'visitors'],
  devices: ['device_type', 'browser', 'os', 'visitors'],
  countries: ['country', 'visitors', 'sessions', 'page_views'],
  custom_events: ['name', 'events', 'visitors'],
  element_clicks: ['element', 'name', 'path', 'clicks', 'visitors', 'avg_time_spent_seconds'],
  hourly_traffic: ['hour', 'page_views', 'visitors'],
  data_quality: [
    'dt',
    'accepted',
    'rejected',
    'duplicates',
    'bots',
    'bot_share',
    'bots_headless',
    'bots_ua_list',
    'bots_webdriver',
    'bots_datacenter_ip',
    'bots_referrer_spam',
    'bots_behaviour',
    'bots_no_reason',
    'fast_visitors',
    'p50_latency_seconds',
    'p95_latency_seconds',
  ],
};

const parser = new Parser();

/**
 * What each `?` of a query body takes, read from the SQL around it: the calendar's bounds, the
 * partition filter's bounds (from - 1 day, to + 3 days), or the funnel's step lookups in order.
 */
function placeholderRoles(body: string): string[] {
  const parts = body.split('?');
  let step = 0;
  return parts.slice(0, -1).map((pre, i) => {
    const post = parts[i + 1]!;
    // The calendar's bounds, or (a query needing the dates only in WHERE) the event date's.
    const dateBound = /(cal_day|CAST\(substr\(e\.event_time, 1, 10\) AS DATE\)) BETWEEN CAST\($/;
    if (dateBound.test(pre)) return 'from';
    if (pre === ' AS DATE) AND CAST(' && dateBound.test(parts[i - 1] ?? '')) return 'to';
    if (/^ AS DATE\) - INTERVAL '1' DAY AS DATE\) AS VARCHAR\)\s+AND CAST\(CAST\(CAST\($/.test(post)) return 'from';
    if (/^ AS DATE\) \+ INTERVAL '3' DAY AS DATE\) AS VARCHAR\)/.test(post)) return 'to';
    if (/step_key = $/.test(pre)) {
      step += 1;
      return `step${step}`;
    }
    return `unknown placeholder after ...${pre.slice(-40)}`;
  });
}

type AstNode = Record<string, unknown>;
const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && !Array.isArray(v);
function* walk(v: unknown): Generator<AstNode> {
  if (Array.isArray(v)) for (const x of v) yield* walk(x);
  else if (isNode(v)) {
    yield v;
    for (const x of Object.values(v)) yield* walk(x);
  }
}
const colName = (n: AstNode) => {
  const c = n.column as { expr?: { value?: unknown } } | string | undefined;
  return typeof c === 'string' ? c : c?.expr?.value;
};
const isColumn = (n: unknown, table: string, column: string) =>
  isNode(n) && n.type === 'column_ref' && n.table === table && colName(n) === column;
/** Column references (and subqueries) inside an expression. */
const refs = (n: unknown) =>
  [...walk(n)].filter((x) => x.type === 'column_ref' || x.type === 'select').map((x) => String(colName(x) ?? x.type));
/** The top-level AND terms of a WHERE. */
function conjuncts(where: unknown): AstNode[] {
  if (!isNode(where)) return [];
  if (where.type === 'binary_expr' && String(where.operator).toUpperCase() === 'AND')
    return [...conjuncts(where.left), ...conjuncts(where.right)];
  return [where];
}
/** Every SELECT that reads a Glue table or the view, with the alias and WHERE it reads it with. */
function tableReads(ast: unknown): { table: string; alias: string; where: unknown }[] {
  const out: { table: string; alias: string; where: unknown }[] = [];
  for (const n of walk(ast)) {
    if (n.type !== 'select' || !Array.isArray(n.from)) continue;
    for (const f of n.from.filter(isNode)) {
      if (typeof f.table === 'string' && ['events', 'events_copies', 'events_dedup', 'rejects', 'sessions'].includes(f.table)) {
        out.push({ table: f.table, alias: typeof f.as === 'string' ? f.as : f.table, where: n.where });
      }
    }
  }
  return out;
}

interface OutputColumn {
  as?: unknown;
  expr?: { column?: unknown };
}
/** node-sql-parser's name for a select-list item: its alias, else the column it reads. */
function outputName(c: OutputColumn): string {
  if (typeof c.as === 'string') return c.as;
  const col = c.expr?.column;
  return typeof col === 'string' ? col : String((col as { expr?: { value?: unknown } } | undefined)?.expr?.value);
}

/** The queries built on the sessions view (athena-queries/views/sessions.sql). */
const SESSION_QUERIES = ['sessions_summary', 'landing_pages', 'exit_pages', 'traffic_sources'];

describe('saved query files', () => {
  it('are exactly the queries the spec lists', () => {
    expect(queryNames()).toEqual(Object.keys(SPEC).sort());
  });

  it.each(Object.keys(SPEC))('%s parses as Trino SQL and selects the spec columns in order', (name) => {
    const ast = parser.astify(loadQuery(name).sql, { database: 'trino' });
    const stmt = (Array.isArray(ast) ? ast[0] : ast) as unknown as { type: string; columns: OutputColumn[] };
    expect(stmt.type).toBe('select');
    expect(stmt.columns.map(outputName)).toEqual(SPEC[name]);
  });

  it.each(Object.keys(SPEC))('%s documents its definitions and its parameters in the order of its placeholders', (name) => {
    const q = loadQuery(name);
    expect(q.description.length).toBeGreaterThan(10);
    expect(q.sql).toMatch(/^-- Definitions:$/m);
    // The dates once for the calendar (or the event-date filter), then once per table read for its partition filter.
    const reads = name === 'data_quality' ? 2 : 1;
    const dates = Array.from({ length: 1 + reads }, () => ['from', 'to']).flat();
    expect(q.params).toEqual(name === 'funnel' ? [...dates, 'step1', 'step2', 'step3', 'step4'] : dates);
    // No question mark in comments: a tool counting parameters by text would miscount.
    expect(q.sql.split('\n').filter((l) => l.trimStart().startsWith('--') && l.includes('?'))).toEqual([]);
    const body = q.sql.replace(/--[^\n]*/g, '');
    // Athena accepts execution parameters only in WHERE clauses.
    const withParams = body.split('\n').filter((l) => l.includes('?'));
    expect(withParams.length).toBeGreaterThan(0);
    for (const line of withParams) expect(line).toMatch(/(\bWHERE\b|^\s+AND\b)[^?]*\?/);
    expect(body).toMatch(
      /(WHERE cal_day|WHERE CAST\(substr\(e\.event_time, 1, 10\) AS DATE\)) BETWEEN CAST\(\? AS DATE\) AND CAST\(\? AS DATE\)/,
    );
    // Each placeholder's place in the SQL says what it takes: the header must agree with it.
    expect(placeholderRoles(body)).toEqual(q.params);
  });

  it.each(Object.keys(SPEC))('%s filters every read of events, events_dedup and rejects on dt with a static range', (name) => {
    const q = loadQuery(name);
    const ast = parser.astify(q.sql, { database: 'trino' });
    const reads = tableReads(ast);
    expect(reads.length).toBe(name === 'data_quality' ? 2 : 1);
    for (const { table, alias, where } of reads) {
      const ranges = conjuncts(where).filter((c) => c.operator === 'BETWEEN' && isColumn(c.left, alias, 'dt'));
      expect({ table, ranges: ranges.length }).toEqual({ table, ranges: 1 });
      // Static: built from the parameters and constants only, no column and no subquery, so
      // Athena prunes while planning instead of waiting for a join's dynamic filter.
      const bounds = (ranges[0]!.right as { value: unknown[] }).value;
      expect(bounds).toHaveLength(2);
      for (const b of bounds) expect(refs(b)).toEqual([]);
    }
    const body = q.sql.replace(/--[^\n]*/g, '');
    expect(body).not.toMatch(/\bpartitions\b/);
  });

  it('rejects a file whose header lists other parameters than its placeholders', () => {
    const sql = loadQuery('top_pages').sql.replace('-- Parameters, in order: from, to, from, to', '-- Parameters, in order: from, to');
    expect(() => parseQuery('top_pages', sql)).toThrow(QueryFileError);
    expect(() => parseQuery('x', 'SELECT 1 AS x FROM t WHERE a = ?')).toThrow(/lists \[\] but the SQL has 1 placeholders/);
  });

  it.each(Object.keys(SPEC).filter((n) => n !== 'data_quality'))(
    '%s reads the de-duplicating view (or the sessions view over it) and drops bots',
    (name) => {
      const sql = loadQuery(name).sql.replace(/--[^\n]*/g, '');
      // The session queries read the sessions view (compacted sessions, or summarised live from events_dedup).
      const [from, bots] = SESSION_QUERIES.includes(name)
        ? [/FROM sessions s\b/, 'NOT s.is_bot']
        : [/FROM events_dedup e\b/, 'NOT e.is_bot'];
      expect(sql).toMatch(from);
      expect(sql).not.toMatch(/FROM events\b(?!_dedup)/);
      expect(sql).toContain(bots);
      // Exact counts: no approximate aggregate unless the column says approx.
      expect(sql).not.toMatch(/approx_/);
    },
  );

  it('defines the views once, partitioned by dt so Athena can prune', () => {
    const files = viewFiles();
    expect(files.map((f) => f.slice(QUERIES_DIR.length + 1))).toEqual(
      ['events_copies', 'events_dedup', 'session_days', 'sessions'].map((v) => join('views', `${v}.sql`)),
    );
    for (const f of files) {
      const view = readFileSync(f, 'utf8').replace(/^CREATE OR REPLACE VIEW \w+ AS/m, '');
      expect(parser.astify(renderTokens(view, { ...NOTHING_COMPACTED }), { database: 'trino' })).toBeTruthy();
    }
    const sql = readFileSync(files.find((f) => f.endsWith('events_dedup.sql'))!, 'utf8');
    expect(sql).toMatch(/PARTITION BY e\.dt, e\.event_id/);
    expect(sql).toMatch(/WHERE copy_no = 1/);
  });

  it('types DuckDB columns from schema/columns.ts', () => {
    const cols = duckColumns(EVENT_COLUMNS);
    for (const c of EVENT_COLUMNS) expect(cols).toContain(`'${c.name}': '`);
    expect(cols).toContain("'duration_ms': 'BIGINT'");
    expect(cols).toContain("'is_bot': 'BOOLEAN'");
  });
});

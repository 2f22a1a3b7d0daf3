/**
 * The saved query files: valid Trino (Athena) syntax, the parameters and columns the spec names,
 * and the rules every business query follows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'node-sql-parser';
import { QUERIES_DIR, viewFiles, duckColumns } from '../../local/athena-local/duckdb';
import { loadQuery, queryNames } from '../../local/athena-local/queries';
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
  custom_events: ['name', 'events', 'visitors'],
  element_clicks: ['element', 'clicks', 'visitors', 'avg_time_spent_seconds'],
  hourly_traffic: ['hour', 'page_views', 'visitors'],
  data_quality: ['dt', 'accepted', 'rejected', 'duplicates', 'bots', 'p50_latency_seconds', 'p95_latency_seconds'],
};

const parser = new Parser();

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

  it.each(Object.keys(SPEC))('%s takes from, to (and funnel four steps) as ? parameters and documents its definitions', (name) => {
    const q = loadQuery(name);
    expect(q.placeholders).toBe(name === 'funnel' ? 6 : 2);
    expect(q.description.length).toBeGreaterThan(10);
    expect(q.sql).toMatch(/^-- Definitions:$/m);
    const body = q.sql.replace(/--[^\n]*/g, '');
    // No question mark in comments: a tool counting parameters by text would miscount.
    expect(q.sql.split('\n').filter((l) => l.trimStart().startsWith('--') && l.includes('?'))).toEqual([]);
    // Athena accepts execution parameters only in WHERE clauses.
    const withParams = body.split('\n').filter((l) => l.includes('?'));
    expect(withParams.length).toBeGreaterThan(0);
    for (const line of withParams) expect(line).toMatch(/\bWHERE\b[^?]*\?/);
    expect(body).toContain('WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)');
    // Arrival partitions: the day before `from` to 3 days after `to`, joined on dt.
    expect(body).toContain('UNNEST(ARRAY[-1, 0, 1, 2, 3])');
    expect(body).toMatch(/JOIN partitions pt ON pt\.dt = [er]\.dt/);
  });

  it.each(Object.keys(SPEC).filter((n) => n !== 'data_quality'))('%s reads the de-duplicating view and drops bots', (name) => {
    const sql = loadQuery(name).sql.replace(/--[^\n]*/g, '');
    expect(sql).toMatch(/FROM events_dedup e\b/);
    expect(sql).not.toMatch(/FROM events\b(?!_dedup)/);
    expect(sql).toContain('NOT e.is_bot');
    // Exact counts: no approximate aggregate unless the column says approx.
    expect(sql).not.toMatch(/approx_/);
  });

  it('defines the view once, partitioned by dt so Athena can prune', () => {
    const files = viewFiles();
    expect(files.map((f) => f.slice(QUERIES_DIR.length + 1))).toEqual([join('views', 'events_dedup.sql')]);
    const sql = readFileSync(files[0]!, 'utf8');
    expect(parser.astify(sql.replace(/^CREATE OR REPLACE VIEW events_dedup AS/m, ''), { database: 'trino' })).toBeTruthy();
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

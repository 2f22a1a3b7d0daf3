/**
 * Each saved query, run by the local runner's DuckDB layer on simulated data, must equal the
 * simulator's ground truth: exact counts, rounded ratios to their last printed place.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalAthena, stripComments, type LocalAthena } from '../../local/athena-local/duckdb';
import { loadQuery, queryNames, queryParams, runSaved } from '../../local/athena-local/queries';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate, type SimulationResult } from '../../local/simulator/index';
import { diffRows } from '../../local/simulator/compare';
import { DEMO_FUNNEL, TRUTH, type Range } from '../../local/simulator/truth';

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 300, days: 21, end: '2026-11-15', seed: 7 };

describe('saved queries equal the simulator ground truth', () => {
  let dir: string;
  let sim: SimulationResult;
  let db: LocalAthena;
  const full: Range = rangeOf(SIM);
  // A sub-range that cuts sessions and weeks in the middle, and lets late arrivals straddle it.
  const part: Range = { from: '2026-11-04', to: '2026-11-10' };

  const run = async (name: string, r: Range, sql?: string) =>
    sql === undefined
      ? runSaved(db, name, r.from, r.to, name === 'funnel' ? r.steps : [])
      : db.run(stripComments(sql), queryParams(loadQuery(name), r.from, r.to, []));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-query-truth-'));
    sim = simulate(SIM, dir);
    db = await openLocalAthena(dir);
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has simulated the faults the queries must survive', () => {
    const ids = sim.deliveries.events.map((e) => e.row.event_id);
    expect(ids.length - new Set(ids).size).toBeGreaterThan(20);
    expect(sim.truthInput.botVisitors.size).toBeGreaterThan(5);
    expect(sim.deliveries.rejects.length).toBeGreaterThan(5);
    // Visitors come from several countries, over IPv4 and IPv6 (local/simulator/geo.ts).
    expect(new Set(sim.truthInput.visitorCountries?.values()).size).toBeGreaterThan(5);
    expect(sim.requests.some((q) => q.sourceIp.includes(':'))).toBe(true);
  });

  it.each(queryNames().filter((n) => n !== 'funnel'))('%s over the whole range and a part of it', async (name) => {
    for (const r of [full, part]) {
      const want = TRUTH[name]!(sim.truthInput, r);
      expect(want.length).toBeGreaterThan(0);
      expect(diffRows(name, await run(name, r), want)).toEqual([]);
    }
  });

  it.each([
    [DEMO_FUNNEL],
    [['/', '/menu.html']],
    [['add_to_cart', 'order_placed', '/order.html']],
    [['/visit.html']],
    [['/menu.html', '/no-such-page', 'order_placed']],
    [['/menu.html', 'order_click', '/order.html', 'order_placed']],
  ])('funnel %j', async (steps) => {
    for (const r of [full, part]) {
      const range = { ...r, steps };
      const want = TRUTH.funnel!(sim.truthInput, range);
      expect(want.map((w) => w.step_name)).toEqual(steps);
      expect(diffRows('funnel', await run('funnel', range), want)).toEqual([]);
    }
    // A funnel narrows: a later step is never reached by more sessions than an earlier one.
    const rows = (await run('funnel', { ...full, steps })).rows.map((x) => x[2] as number);
    expect(rows).toEqual([...rows].sort((a, b) => b - a));
  });

  it("has the demo menu card's order_click: a funnel through it is not empty, and element_clicks keeps card and button apart", async () => {
    const funnel = await run('funnel', { ...full, steps: ['/menu.html', 'order_click', '/order.html'] });
    expect(funnel.rows.map((x) => x[2] as number).every((n) => n > 0)).toBe(true);
    const clicks = await run('element_clicks', full);
    const margherita = clicks.rows
      .filter((x) => x[0] === 'Margherita')
      .map((x) => `${x[1]} on ${x[2]}`)
      .sort();
    expect(margherita).toEqual(['add_button on /order.html', 'menu_item on /menu.html', 'order_click on /menu.html']);
  });

  // The comparison itself must be able to fail: a query that skips the view or keeps bots is wrong.
  it.each([
    [
      'top_pages',
      (sql: string) =>
        sql
          .replace('FROM events_dedup e', 'FROM events e')
          .replace('count(DISTINCT event_id) AS page_views', 'count(event_id) AS page_views'),
    ],
    ['daily_active_users', (sql: string) => sql.replace('AND NOT e.is_bot', 'AND true')],
    // Bounce without the engagement rule (the rule itself lives in views/session_days.sql).
    ['sessions_summary', (sql: string) => sql.replace('c.page_views = 1 AND NOT c.engaged', 'c.page_views = 1')],
    // Counting a page view once per day it arrived instead of once.
    ['sessions_summary', (sql: string) => sql.replace('cardinality(array_distinct(flatten(', 'cardinality((flatten(')],
    // Steps in the order of their paths, not their times. (Ordering by event_id alone is no longer
    // a bug to catch: the simulator's ids are UUID v7, time-ordered, as the SDK's.)
    ['user_paths', (sql: string) => sql.replace('ORDER BY event_at, event_id', 'ORDER BY path, event_id')],
    // One row per label again: the menu card, Order button and Add button of a dish merge.
    [
      'element_clicks',
      (sql: string) =>
        sql
          .replace(", coalesce(nullif(name, ''), '(unnamed)'), path\n", '\n')
          .replace(/coalesce\(nullif\(name, ''\), '\(unnamed\)'\) AS name,\s+path,/, 'arbitrary(name) AS name, arbitrary(path) AS path,'),
    ],
    // A reason's bots counted under another reason.
    ['data_quality', (sql: string) => sql.replace("x.bot_reason = 'referrer_spam'", "x.bot_reason = 'behaviour'")],
    // Visitors counted once per page view instead of once per country.
    ['countries', (sql: string) => sql.replace('count(DISTINCT anonymous_id) AS visitors', 'count(anonymous_id) AS visitors')],
  ])('a broken %s disagrees with the truth', async (name, mutate) => {
    const sql = readFileSync(join(__dirname, '../../athena-queries', `${name}.sql`), 'utf8');
    const broken = mutate(sql);
    expect(broken).not.toEqual(sql);
    expect(diffRows(name, await run(name, full, broken), TRUTH[name]!(sim.truthInput, full)).length).toBeGreaterThan(0);
  });
});

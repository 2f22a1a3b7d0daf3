/**
 * The simulator writes Firehose's object layout and row shape, with the faults it promises, to a temp
 * dir (reproducibility from the seed, in memory, is test/unit/sim-seed.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EVENT_COLUMNS, REJECT_COLUMNS } from '../../schema/columns';
import { DEFAULT_OPTIONS, type SimOptions } from '../../local/simulator/generate';
import { simulate, writeTruth } from '../../local/simulator/index';
import { TRUTH } from '../../local/simulator/truth';

const OPTS: SimOptions = { ...DEFAULT_OPTIONS, visitors: 200, days: 10, end: '2026-11-20', seed: 5 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

describe('simulator', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-sim-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes gzip NDJSON objects named and partitioned as Firehose does, by arrival time', () => {
    const sim = simulate(OPTS, dir);
    const all = files(dir);
    const events = all.filter((f) => relative(dir, f).startsWith('events/'));
    const rejects = all.filter((f) => relative(dir, f).startsWith('rejects/'));
    expect(events.length).toBe(sim.objects.events);
    expect(rejects.length).toBe(sim.objects.rejects);
    const key =
      /^(events|rejects)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/clickstream-dev-\1-1-(\d{4}-\d{2}-\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$/;
    const columns = new Set(EVENT_COLUMNS.map((c) => c.name));
    let rows = 0;
    for (const f of events) {
      const m = relative(dir, f).match(key);
      expect(m).not.toBeNull();
      // The prefix and the name's stamp are the same arrival instant.
      expect([m![2], m![3]]).toEqual([m![4], m![5]]);
      const lines = gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n');
      for (const line of lines) {
        const row = JSON.parse(line) as Record<string, unknown>;
        for (const k of Object.keys(row)) expect(columns.has(k)).toBe(true);
        expect(typeof row.properties === 'string' || row.properties === undefined).toBe(true);
        // Arrival (the partition) is never before the server received the event.
        expect(`${m![2]}T${m![3]}`.localeCompare(String(row.received_at).slice(0, 13))).toBeGreaterThanOrEqual(0);
        rows++;
      }
    }
    expect(rows).toBe(sim.deliveries.events.length);
    const rejectCols = new Set(REJECT_COLUMNS.map((c) => c.name));
    for (const f of rejects) {
      expect(relative(dir, f)).toMatch(key);
      for (const line of gunzipSync(readFileSync(f)).toString('utf8').trim().split('\n')) {
        for (const k of Object.keys(JSON.parse(line))) expect(rejectCols.has(k)).toBe(true);
      }
    }
  });

  it('makes the faults it promises, and the real pipeline flags exactly the generated bots', () => {
    const sim = simulate({ ...OPTS, seed: 8 }, mkdtempSync(join(dir, 'b-')));
    const rows = sim.deliveries.events.map((d) => d.row);
    const ids = rows.map((r) => r.event_id);
    expect(ids.length - new Set(ids).size).toBeGreaterThan(10);
    // Some copies land on another arrival day than the first.
    const days = new Map<string, Set<string>>();
    for (const d of sim.deliveries.events)
      days.set(d.row.event_id, (days.get(d.row.event_id) ?? new Set()).add(new Date(d.arrivalMs).toISOString().slice(0, 10)));
    expect([...days.values()].some((s) => s.size > 1)).toBe(true);
    expect(rows.some((r) => Date.parse(r.received_at) - Date.parse(r.event_time) > 3_600_000)).toBe(true);
    expect(sim.deliveries.rejects.some((r) => r.row.event_index === -1)).toBe(true);
    expect(sim.deliveries.rejects.some((r) => r.row.event_index >= 0)).toBe(true);
    for (const r of rows)
      expect({ id: r.event_id, bot: r.is_bot, reason: r.bot_reason }).toEqual({
        id: r.event_id,
        bot: sim.truthInput.botVisitors.has(r.anonymous_id),
        reason: sim.truthInput.botReasons!.get(r.anonymous_id),
      });
    // Every layer that the local stack can trigger is in the simulation.
    expect(new Set(rows.map((r) => r.bot_reason).filter(Boolean))).toEqual(
      new Set(['headless', 'ua_list', 'webdriver', 'datacenter_ip', 'referrer_spam', 'behaviour']),
    );
    expect(new Set(rows.map((r) => r.source)).size).toBeGreaterThan(4);
    expect(new Set(rows.map((r) => r.device_type))).toEqual(new Set(['desktop', 'mobile', 'tablet', 'bot']));
    expect(rows.some((r) => r.type === 'custom' && r.name === 'order_placed')).toBe(true);
  });

  it('writes its ground truth for every query', () => {
    const sim = simulate(OPTS, mkdtempSync(join(dir, 't-')));
    const file = writeTruth(dir, OPTS, sim);
    const truth = JSON.parse(readFileSync(file, 'utf8')) as { range: { from: string; to: string }; queries: Record<string, unknown[]> };
    expect(truth.range).toEqual({ from: '2026-11-11', to: '2026-11-20' });
    expect(Object.keys(truth.queries).sort()).toEqual(Object.keys(TRUTH).sort());
    for (const rows of Object.values(truth.queries)) expect(rows.length).toBeGreaterThan(0);
  });
});

/**
 * Re-sent duplicates (same day and next day) and bot traffic must not move any business number;
 * data_quality must count exactly what was added.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv, processRequest, type StoredEvent } from '../../handlers/lib/pipeline';
import { openLocalAthena, type ResultSet } from '../../local/athena-local/duckdb';
import { queryNames, runSaved } from '../../local/athena-local/queries';
import { EVENTS_PREFIX, writeObjects, type Delivered } from '../../local/simulator/deliver';
import { DEFAULT_OPTIONS, rng, type SimOptions } from '../../local/simulator/generate';
import { rangeOf, simulate, SIMULATOR_SALT_SECRET, streamNames } from '../../local/simulator/index';
import { DEMO_FUNNEL } from '../../local/simulator/truth';

const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 250, days: 14, end: '2026-10-31', seed: 11, botShare: 0, duplicateShare: 0 };
const BUSINESS = queryNames().filter((n) => n !== 'data_quality');
const range = rangeOf(SIM);

async function runAll(dir: string): Promise<Record<string, ResultSet>> {
  const db = await openLocalAthena(dir);
  try {
    const out: Record<string, ResultSet> = {};
    for (const name of queryNames()) out[name] = await runSaved(db, name, range.from, range.to, name === 'funnel' ? DEMO_FUNNEL : []);
    const raw = await db.run('SELECT count(*) FROM events');
    out.raw = raw;
    return out;
  } finally {
    db.close();
  }
}

describe('duplicates and bots do not change business numbers', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-query-dups-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the same after copies and crawlers are added, and data_quality counts them', async () => {
    // Prepare: clean traffic, then its answers.
    const sim = simulate(SIM, dir);
    const before = await runAll(dir);
    const stream = streamNames('dev').events;

    // Copies of every third event: half re-sent minutes later, half the next day (another dt).
    const copies: Delivered<StoredEvent>[] = [];
    sim.deliveries.events.forEach((d, i) => {
      if (i % 3 !== 0) return;
      const later = d.arrivalMs + (i % 2 === 0 ? 120_000 : 20 * 3_600_000);
      copies.push({ row: { ...d.row, received_at: new Date(later).toISOString() }, arrivalMs: later, copy: false });
    });
    writeObjects(dir, EVENTS_PREFIX, stream, copies);

    // Crawlers and automation replaying human sessions through the real pipeline.
    const config = configFromEnv({ VISITOR_SALT_SECRET: SIMULATOR_SALT_SECRET });
    const r = rng(99);
    const botRows: Delivered<StoredEvent>[] = [];
    const agents = [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    ];
    sim.requests
      .filter((q) => q.events.length > 0)
      .slice(0, 120)
      .forEach((q, i) => {
        const anon = r.uuid();
        const events = q.events.map((e) => ({
          ...e,
          event_id: r.uuid(),
          anonymous_id: anon,
          session_id: `bot-${i}`,
          ...(i % 2 ? { webdriver: true } : {}),
        }));
        const body = JSON.stringify({
          site_id: 'demo',
          sent_at: new Date(q.receivedAt.getTime() - 50 + q.clockOffsetMs).toISOString(),
          events,
        });
        const res = processRequest(
          { body, contentType: 'text/plain', userAgent: agents[i % 2], sourceIp: '10.9.9.9', receivedAt: q.receivedAt },
          config,
        );
        for (const row of res.events) botRows.push({ row, arrivalMs: q.receivedAt.getTime() + 30, copy: false });
      });
    expect(botRows.every((b) => b.row.is_bot)).toBe(true);
    writeObjects(dir, EVENTS_PREFIX, stream, botRows);

    // Act
    const after = await runAll(dir);

    // Assess: the raw table grew, the business answers did not.
    expect(after.raw!.rows[0]![0]).toBe((before.raw!.rows[0]![0] as number) + copies.length + botRows.length);
    for (const name of BUSINESS) expect({ name, rows: after[name]!.rows }).toEqual({ name, rows: before[name]!.rows });
    const total = (rs: ResultSet, col: string) => rs.rows.reduce((s, row) => s + (row[rs.columns.indexOf(col)] as number), 0);
    const dq0 = before.data_quality!;
    const dq1 = after.data_quality!;
    // Copies and bots whose event date falls in the range (all of them here: the range is the simulated one).
    const inRange = (e: StoredEvent) => e.event_time.slice(0, 10) >= range.from && e.event_time.slice(0, 10) <= range.to;
    expect(total(dq1, 'duplicates') - total(dq0, 'duplicates')).toBe(copies.filter((c) => inRange(c.row)).length);
    expect(total(dq1, 'bots') - total(dq0, 'bots')).toBe(botRows.filter((b) => inRange(b.row)).length);
    expect(total(dq1, 'accepted') - total(dq0, 'accepted')).toBe(botRows.filter((b) => inRange(b.row)).length);
  });
});

/**
 * data_quality's bot columns on DuckDB over rows the real pipeline made: bots by reason, the bot
 * share, rows stored before bot_reason existed, and the cross-request rate layer (fast_visitors),
 * which only a query can see because each Lambda copy sees only its own requests.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NAMED_BOTS } from '../../bench/bots';
import { configFromEnv } from '../../handlers/lib/config';
import { processRequest } from '../../handlers/lib/pipeline';
import { openLocalAthena, type LocalAthena } from '../../local/athena-local/duckdb';
import { runSaved } from '../../local/athena-local/queries';

const DAY = '2026-11-22';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const config = configFromEnv({
  VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
  SITES: JSON.stringify({ demo: { origins: ['http://localhost:*'], allowNoOrigin: true } }),
});

let seq = 0;
const at = (ms: number) => new Date(Date.parse(`${DAY}T10:00:00.000Z`) + ms).toISOString();
/** The stored lines of one request of page views, `ts` given as ms after 10:00 UTC. */
function lines(times: number[], opts: { userAgent?: string; sourceIp?: string; referrer?: string; webdriver?: boolean } = {}): string[] {
  const events = times.map((t) => ({
    event_id: `9f1c2b3a-4d5e-4f60-9a7b-${(++seq).toString(16).padStart(12, '0')}`,
    type: 'page_view',
    url: 'https://demo.example/',
    ts: at(t),
    anonymous_id: 'a',
    session_id: 's',
    ...(opts.referrer ? { referrer: opts.referrer } : {}),
    ...(opts.webdriver ? { webdriver: true } : {}),
  }));
  const last = Math.max(...times);
  const r = processRequest(
    {
      body: JSON.stringify({ site_id: 'demo', sent_at: at(last + 1_000), events }),
      contentType: 'text/plain',
      userAgent: opts.userAgent ?? CHROME,
      sourceIp: opts.sourceIp ?? '79.192.0.1',
      receivedAt: new Date(at(last + 1_000)),
    },
    config,
  );
  expect(r.response).toEqual({ accepted: times.length, rejected: [] });
  return r.lines;
}

describe('data_quality: bots by reason and fast visitors', () => {
  let dir: string;
  let db: LocalAthena;
  let row: Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-dq-bots-'));
    const all = [
      // A fast person: 121 page views in under an hour, one per request (no batch is suspicious).
      ...Array.from({ length: 121 }, (_, i) => lines([i * 29_000], { sourceIp: '79.192.0.2' })).flat(),
      // A slower one: 120 in the hour is still a person.
      ...Array.from({ length: 120 }, (_, i) => lines([i * 29_000], { sourceIp: '79.192.0.3' })).flat(),
      // 200 over two clock hours, 100 in each: the rate is per UTC hour, not per day.
      ...Array.from({ length: 200 }, (_, i) => lines([i * 36_000], { sourceIp: '79.192.0.5' })).flat(),
      // A crawler as fast as the fast person, from a cloud network: a bot, so not a fast visitor.
      ...Array.from({ length: 121 }, (_, i) => lines([i * 29_000], { sourceIp: '3.5.140.3' })).flat(),
      ...lines([0], { userAgent: NAMED_BOTS.HeadlessChrome }),
      ...lines([0, 1], { userAgent: NAMED_BOTS.AhrefsBot }),
      ...lines([0], { webdriver: true }),
      ...lines([0, 1, 2], { sourceIp: '3.5.140.2' }),
      ...lines([0], { referrer: 'https://semalt.com/' }),
      ...lines(
        Array.from({ length: 30 }, (_, i) => i * 1_000),
        { sourceIp: '79.192.0.4' },
      ),
      // A bot row stored before bot_reason existed.
      JSON.stringify({
        event_id: '9f1c2b3a-4d5e-4f60-9a7b-ffffffffffff',
        type: 'page_view',
        event_time: at(0),
        received_at: at(1_000),
        anonymous_id: 'old',
        session_id: 'old',
        is_bot: true,
        device_type: 'bot',
        visitor_hash: 'old',
      }),
    ];
    const folder = join(dir, 'events', `dt=${DAY}`, 'hour=10');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `clickstream-test-events-1-${DAY}-10-00-00-x.gz`), gzipSync(`${all.join('\n')}\n`));
    db = await openLocalAthena(dir);
    const r = await runSaved(db, 'data_quality', DAY, DAY);
    expect(r.rows).toHaveLength(1);
    row = Object.fromEntries(r.columns.map((c, i) => [c, r.rows[0]![i]]));
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts each reason apart, and the rows stored before reasons existed', () => {
    expect(row).toMatchObject({
      bots_headless: 1,
      bots_ua_list: 2,
      bots_webdriver: 1,
      bots_datacenter_ip: 3 + 121,
      bots_referrer_spam: 1,
      bots_behaviour: 30,
      bots_no_reason: 1,
      bots: 39 + 121,
    });
    expect(row.accepted).toBe(121 + 120 + 200 + 39 + 121);
    expect(row.bot_share).toBeCloseTo(160 / 601, 4);
  });

  it('counts a person above 120 page views in an hour as a fast visitor, without making the rows bots, and not a bot as fast', () => {
    expect(row.fast_visitors).toBe(1);
  });
});

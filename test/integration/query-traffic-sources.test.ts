/**
 * traffic_sources reads the sessions view, one row per session and arrival day: a session whose
 * page views arrive on both sides of midnight has two rows, and its attribution and date must be
 * those of its first page view, on raw and on compacted data alike.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { configFromEnv } from '../../handlers/lib/config';
import { processRequest } from '../../handlers/lib/pipeline';
import { compact } from '../../local/compact';
import { openLocalAthena } from '../../local/athena-local/duckdb';
import { runSaved } from '../../local/athena-local/queries';

const D1 = '2026-11-22';
const D2 = '2026-11-23';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const config = configFromEnv({
  VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
  SITES: JSON.stringify({ demo: { origins: ['http://localhost:*'], allowNoOrigin: true } }),
});

let seq = 0;
/** One page view sent alone at `ts` (received 1 s later), filed under its arrival day and hour. */
function pageView(dir: string, ts: string, session: string, url: string, referrer?: string): void {
  const received = new Date(Date.parse(ts) + 1_000);
  const r = processRequest(
    {
      body: JSON.stringify({
        site_id: 'demo',
        sent_at: received.toISOString(),
        events: [
          {
            event_id: `9f1c2b3a-4d5e-4f60-9a7b-${(++seq).toString(16).padStart(12, '0')}`,
            type: 'page_view',
            url,
            ts,
            anonymous_id: `visitor-${session}`,
            session_id: session,
            ...(referrer ? { referrer } : {}),
          },
        ],
      }),
      contentType: 'text/plain',
      userAgent: CHROME,
      sourceIp: '79.192.0.1',
      receivedAt: received,
    },
    config,
  );
  expect(r.response).toEqual({ accepted: 1, rejected: [] });
  const iso = received.toISOString();
  const folder = join(dir, 'events', `dt=${iso.slice(0, 10)}`, `hour=${iso.slice(11, 13)}`);
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, `clickstream-test-events-1-${iso.slice(0, 19).replace(/[:T]/g, '-')}-${seq}.gz`),
    gzipSync(`${r.lines.join('\n')}\n`),
  );
}

type Row = { source: unknown; medium: unknown; campaign: unknown; sessions: unknown };

describe('traffic_sources: a session across midnight', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-traffic-'));
    // Lands from a newsletter before midnight, goes on to a second page after it (no utm: another
    // source for that page view, and the only page view of the session's second row).
    pageView(dir, `${D1}T23:58:00.000Z`, 'night', 'https://demo.example/?utm_source=news&utm_medium=email&utm_campaign=nov');
    pageView(dir, `${D2}T00:02:00.000Z`, 'night', 'https://demo.example/menu', 'https://www.google.com/');
    // A session that starts after midnight.
    pageView(dir, `${D2}T00:05:00.000Z`, 'morning', 'https://demo.example/');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function answers(): Promise<Record<string, Row[]>> {
    const db = await openLocalAthena(dir);
    try {
      const out: Record<string, Row[]> = {};
      for (const [from, to] of [
        [D1, D2],
        [D1, D1],
        [D2, D2],
      ] as const) {
        const r = await runSaved(db, 'traffic_sources', from, to);
        out[`${from}..${to}`] = r.rows.map((x) => Object.fromEntries(r.columns.map((c, i) => [c, x[i]])) as Row);
      }
      return out;
    } finally {
      db.close();
    }
  }

  it('attributes it to its landing and dates it by the landing, raw and compacted', async () => {
    const news = { source: 'news', medium: 'email', campaign: 'nov', sessions: 1 };
    const direct = { source: '(direct)', medium: '(none)', campaign: '(not set)', sessions: 1 };
    const raw = await answers();
    expect(raw[`${D1}..${D2}`]).toEqual([expect.objectContaining(direct), expect.objectContaining(news)]);
    expect(raw[`${D1}..${D1}`]).toEqual([expect.objectContaining(news)]);
    expect(raw[`${D2}..${D2}`]).toEqual([expect.objectContaining(direct)]);

    await compact(dir, { now: new Date(`${D2}T23:00:00.000Z`), through: D2 });
    expect(await answers()).toEqual(raw);
  });
});

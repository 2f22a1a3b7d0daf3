/**
 * The raw client IP is never stored, logged or sent to the rejects stream (issue 14). Real traffic
 * through the local stack from known client addresses (presented with the local X-Forwarded-For
 * switch, LOCAL_FORWARDED_FOR=true, since serverless offline reports every request as 127.0.0.1):
 * accepted events, rejected events, an unreadable request and a Firehose outage (so the handler's
 * error logs run too). Then every object under the data folder (events/, rejects/, errors/, any
 * other) and every line the stack printed, at DEBUG, are scanned for each address.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { eventually, startLocalStack, type LocalStack } from '../support/stack';

const CLIENTS = [
  // Looked up in DB-IP's published data (test/unit/geo.test.ts holds these lines).
  { ip: '81.2.69.142', country: 'GB', anon: `anon-v4-${randomUUID()}` },
  { ip: '2a00:1450:4001:82b::200e', country: 'DE', anon: `anon-v6-${randomUUID()}` },
];
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';

/** Every spelling of an address a careless log line could carry. */
function spellings(ip: string): string[] {
  if (!ip.includes(':')) return [ip, `::ffff:${ip}`];
  const [head, tail] = ip.split('::') as [string, string];
  const h = head.split(':');
  const t = tail.split(':');
  const full = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return [ip, full.join(':'), full.map((g) => g.padStart(4, '0')).join(':')];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

const textOf = (file: string) => {
  const raw = readFileSync(file);
  return (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
};

describe('no client IP anywhere', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // LOCAL_QUIET off: the handler's own output (Powertools JSON logs) reaches stack.logs().
    stack = await startLocalStack({
      bufferSeconds: 1,
      env: { LOCAL_FORWARDED_FOR: 'true', LOCAL_QUIET: '', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    });
  }, 150_000);
  afterAll(async () => {
    await stack?.stop();
  });

  const post = (ip: string, body: unknown) =>
    fetch(`${stack.apiUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': FIREFOX, 'x-forwarded-for': ip },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const event = (anon: string, over: Record<string, unknown> = {}) => ({
    event_id: randomUUID(),
    type: 'page_view',
    ts: new Date().toISOString(),
    anonymous_id: anon,
    session_id: `s-${anon}`,
    url: 'https://restaurant.example/menu',
    ...over,
  });

  test('stores the country of each client and its address nowhere: not in objects, not in logs', async () => {
    // Act: accepted and rejected events, an unreadable body, then a Firehose outage
    for (const c of CLIENTS) {
      const r = await post(c.ip, {
        site_id: 'demo',
        sent_at: new Date().toISOString(),
        events: [event(c.anon), { type: 'page_view', anonymous_id: c.anon }],
      });
      expect(r.status).toBe(200);
      expect((await post(c.ip, '{"site_id":"demo","sent_at":')).status).toBe(400);
    }
    await stack.setFaults({ serverError: 1 });
    for (const c of CLIENTS) {
      const r = await post(c.ip, {
        site_id: 'demo',
        sent_at: new Date().toISOString(),
        events: [event(c.anon, { type: 'custom', name: 'during_outage' }), { type: 'bad' }],
      });
      expect(r.status).toBe(503);
    }
    await stack.setFaults({});
    await stack.flush();

    // Assess: the addresses reached the handler (each visitor got its country)...
    const rows = await eventually(
      () => stack.readEvents(),
      (rs) => CLIENTS.every((c) => rs.some((x) => x.anonymous_id === c.anon)),
    );
    for (const c of CLIENTS) {
      expect(rows.filter((x) => x.anonymous_id === c.anon).map((x) => x.country)).toEqual([c.country]);
    }
    const rejects = await eventually(
      () => stack.readRejects(),
      (rs) => rs.length >= 4,
    );
    expect(rejects.length).toBeGreaterThanOrEqual(4);
    // ...the handler's logs were captured (the outage's error lines prove the scan sees them)...
    const logs = stack.logs();
    expect(logs).toContain('events could not be delivered');
    // ...and no spelling of either address is in any stored object or any printed line.
    const files = filesUnder(stack.dataDir);
    expect(files.some((f) => f.includes(`${join('rejects', '')}`))).toBe(true);
    for (const c of CLIENTS) {
      for (const s of spellings(c.ip)) {
        const needle = s.toLowerCase();
        expect(files.filter((f) => textOf(f).toLowerCase().includes(needle))).toEqual([]);
        expect(logs.toLowerCase().includes(needle) ? `${s} in the logs` : 'absent').toBe('absent');
      }
    }
  }, 120_000);
});

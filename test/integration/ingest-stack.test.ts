/**
 * The foundation's promise, end to end over real sockets: POST a batch to serverless offline, the
 * real handler puts it into the Firehose stand-in, and enriched rows land on disk in Firehose's
 * layout. Also: a clean stop flushes what is buffered, a killed stand-in loses nothing it
 * acknowledged, and injected Firehose faults are retried until every accepted event is stored.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHttpApi } from '../../local/serverless-config';
import { eventually, startLocalStack, type LocalStack } from '../support/stack';

const event = (overrides: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  type: 'page_view',
  ts: new Date().toISOString(),
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  url: 'https://restaurant.example/menu?utm_source=newsletter&utm_medium=email&utm_campaign=autumn',
  referrer: 'https://www.google.com/',
  ...overrides,
});
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function post(stack: LocalStack, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.apiUrl}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('local stack: ingest end to end', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test('a valid batch is answered 200 and lands enriched in events/dt=/hour= within the buffer interval', async () => {
    const good = [event(), event({ type: 'custom', name: 'add_to_cart', properties: { item: 'risotto', price: 14.5 } })];
    const res = await post(stack, { site_id: 'demo', sent_at: new Date().toISOString(), events: [...good, { type: 'nope' }] });

    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([{ index: 2, reason: expect.stringContaining('event_id is required') }]);
    const rows = await eventually(
      () => stack.readEvents(),
      (r) => r.length >= 2,
    );
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    const pv = byId.get(good[0]!.event_id)!;
    expect(pv).toMatchObject({
      site_id: 'demo',
      path: '/menu',
      host: 'restaurant.example',
      browser: 'Chrome',
      os: 'Windows',
      device_type: 'desktop',
      is_bot: false,
      source: 'newsletter',
      medium: 'email',
      campaign: 'autumn',
      referrer_type: 'search',
      schema_version: 1,
    });
    expect(pv.visitor_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(pv)).not.toContain('127.0.0.1');
    expect(JSON.parse(byId.get(good[1]!.event_id)!.properties as string)).toEqual({ item: 'risotto', price: 14.5 });
    const files = readdirSync(join(stack.dataDir, 'events'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.gz'));
    expect(files[0]).toMatch(
      /^dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/clickstream-local-events-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$/,
    );
    const rejects = await eventually(
      () => stack.readRejects(),
      (r) => r.length >= 1,
    );
    expect(rejects).toContainEqual(
      expect.objectContaining({ event_index: 2, site_id: 'demo', reason: expect.stringContaining('event_id is required') }),
    );
  });

  test('bad requests get the documented 4xx with a reason, never 5xx', async () => {
    const ok = { site_id: 'demo', sent_at: new Date().toISOString(), events: [event()] };
    expect((await post(stack, '{"site_id":')).status).toBe(400);
    expect((await post(stack, '[1,2]')).status).toBe(400);
    expect((await post(stack, { ...ok, events: [] })).status).toBe(400);
    expect((await post(stack, { ...ok, events: Array.from({ length: 501 }, () => event()) })).status).toBe(413);
    expect((await post(stack, 'x'.repeat(1_100_000))).status).toBe(413);
    expect((await post(stack, ok, { 'content-type': 'application/xml' })).status).toBe(415);
    const unknown = await post(stack, { ...ok, site_id: 'someone-else' });
    expect(unknown).toMatchObject({ status: 403, body: { error: "site_id 'someone-else' is not configured" } });
    expect((await post(stack, ok, { origin: 'https://evil.example' })).status).toBe(403);
  });

  test('CORS comes from serverless.yml, as API Gateway answers it: the preflight, the origin and the readable headers', async () => {
    const { cors } = await readHttpApi('local');
    // Act: a preflight (a page posting application/json) and a simple POST from a page
    const preflight = await fetch(`${stack.apiUrl}/v1/events`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:8080',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    const res = await post(
      stack,
      { site_id: 'demo', sent_at: new Date().toISOString(), events: [event()] },
      { origin: 'http://localhost:8080' },
    );
    // Assess: the stage's configuration, not whatever the handler might set
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe(cors!.allowedMethods.join(','));
    expect(preflight.headers.get('access-control-allow-headers')).toBe(cors!.allowedHeaders.join(','));
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(cors!.allowedOrigins.includes('*') ? '*' : 'http://localhost:8080');
    expect(res.headers.get('access-control-expose-headers')).toBe(cors!.exposedResponseHeaders.join(',') || null);
  });

  test('injected Firehose partial failures and throttling are retried: every accepted event is stored', async () => {
    await stack.setFaults({ partial: 0.3, throttle: 0.2 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const events = Array.from({ length: 5 }, () => event({ anonymous_id: 'fault-run' }));
        const res = await post(stack, { site_id: 'demo', sent_at: new Date().toISOString(), events });
        // 503 is allowed (the client retries); then nothing of that request counts as accepted.
        if (res.status === 200) ids.push(...events.map((e) => e.event_id));
        else expect(res.status).toBe(503);
      }
      expect(ids.length).toBeGreaterThan(0);
      await stack.flush();
      const stored = new Set((await stack.readEvents()).map((r) => r.event_id));
      expect(ids.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await stack.setFaults({});
    }
  });
});

describe('local stack: stopping and crashing', () => {
  test('a clean stop writes what is buffered; a killed stand-in replays what it acknowledged', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'clickstream-crash-'));
    try {
      // 60 s buffer: nothing would be written during the test without a flush.
      let stack = await startLocalStack({ dataDir, bufferSeconds: 60 });
      const first = [event(), event()];
      expect((await post(stack, { site_id: 'demo', sent_at: new Date().toISOString(), events: first })).status).toBe(200);
      await stack.kill();
      expect(await stack.readEvents()).toEqual([]);

      stack = await startLocalStack({ dataDir, bufferSeconds: 60 });
      const second = [event()];
      expect((await post(stack, { site_id: 'demo', sent_at: new Date().toISOString(), events: second })).status).toBe(200);
      await stack.stop();
      const stored = (await stack.readEvents()).map((r) => r.event_id).sort();
      expect(stored).toEqual([...first, ...second].map((e) => e.event_id).sort());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Two stack starts (esbuild + serverless offline each): well over a minute on two busy cores.
    // Each start gives up after 120 s with the stack's own output, so the test waits longer than
    // two of those: a slow start then fails with that output instead of a bare jest timeout.
  }, 300_000);
});

/**
 * Simulator replay mode over a real socket: every request reaches /v1/events once (Firehose-side
 * copies excluded), with the visitor's User-Agent and Origin, and the pipeline accepts what the
 * direct mode stores. The server here is the pure pipeline behind node:http on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configFromEnv, processRequest } from '../../handlers/lib/pipeline';
import { DEFAULT_OPTIONS, generate, type SimOptions } from '../../local/simulator/generate';
import { SIMULATOR_SALT_SECRET } from '../../local/simulator/index';
import { replay } from '../../local/simulator/replay';

const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
// Recent days only: the API rejects events older than 30 days.
const SIM: SimOptions = { ...DEFAULT_OPTIONS, visitors: 40, days: 3, end: yesterday, seed: 4 };

describe('simulate --api', () => {
  let server: Server;
  let api: URL;
  const seen: { ua?: string; origin?: string; path?: string }[] = [];
  const config = configFromEnv({ VISITOR_SALT_SECRET: SIMULATOR_SALT_SECRET });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ ua: req.headers['user-agent'], origin: req.headers.origin, path: req.url });
        const r = processRequest(
          {
            body,
            contentType: req.headers['content-type'],
            userAgent: req.headers['user-agent'],
            origin: req.headers.origin,
            sourceIp: '127.0.0.1',
            receivedAt: new Date(),
          },
          config,
        );
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.response));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts each batch once with its headers, and the events are accepted', async () => {
    const { requests } = generate(SIM);
    const expected = requests.filter((r) => !r.firehoseCopy);
    const r = await replay(requests, api, 'demo', { concurrency: 4, timeoutMs: 5_000 });

    expect(r.sent).toBe(expected.length);
    expect(seen).toHaveLength(expected.length);
    expect(seen.every((s) => s.path === '/v1/events')).toBe(true);
    const unreadable = expected.filter((q) => q.rawBody !== undefined).length;
    expect(r.statuses).toEqual({ 200: expected.length - unreadable, ...(unreadable ? { 400: unreadable } : {}) });
    const valid = expected.reduce(
      (n, q) =>
        n +
        q.events.filter((e) => typeof e.event_id === 'string' && e.event_id !== 'not-a-uuid' && (e.type !== 'page_view' || e.url)).length,
      0,
    );
    expect(r.accepted).toBe(valid);
    expect(new Set(seen.map((s) => s.ua))).toEqual(new Set(expected.map((q) => q.userAgent)));
    expect(seen.filter((s) => s.origin === SIM.origin).length).toBe(expected.filter((q) => q.origin === SIM.origin).length);
  });
});

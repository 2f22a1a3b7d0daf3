/**
 * The local API Gateway stand-in (local/api-gateway.ts) over real sockets, in front of small HTTP
 * servers that answer the way serverless offline does: a crashed or missing handler (offline's 200
 * carrying the Lambda error object), a function that never answers, no function at all, and a
 * handler that sets CORS headers of its own. Each must reach the client the way API Gateway sends it.
 */
import { createServer, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { startApiGateway, type ApiGateway, PAYLOAD_LIMIT_BYTES } from '../../local/api-gateway';
import type { HttpApiConfig } from '../../local/serverless-config';
import { freePort } from '../../local/net';

const HTTP: HttpApiConfig = {
  timeoutSeconds: 1,
  cors: {
    allowedOrigins: ['https://www.shop.example'],
    allowedMethods: ['POST'],
    allowedHeaders: ['content-type'],
    exposedResponseHeaders: ['retry-after'],
    allowCredentials: false,
    maxAge: 600,
  },
};

type Behaviour = (req: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }, res: ServerResponse) => void;

/** A stand-in for serverless offline whose behaviour each test sets; it records what reached it. */
function fakeOffline() {
  let behaviour: Behaviour = (_req, res) => res.end();
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(r);
      behaviour(r, res);
    });
  });
  return {
    server,
    seen,
    set: (b: Behaviour) => {
      behaviour = b;
    },
  };
}

function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer }) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((ok, fail) => {
    const req = request(url, { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    req.end(opts.body);
  });
}

describe('local API Gateway stand-in', () => {
  const offline = fakeOffline();
  let gateway: ApiGateway;
  const logs: string[] = [];
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    await new Promise<void>((ok) => offline.server.listen(port, '127.0.0.1', ok));
    gateway = await startApiGateway({ port: 0, target: `http://127.0.0.1:${port}`, http: HTTP, log: (l) => logs.push(l) });
    url = `${gateway.url}/v1/events`;
  });
  afterAll(async () => {
    await gateway?.close();
    await new Promise((ok) => offline.server.close(ok));
    offline.server.closeAllConnections();
  });
  beforeEach(() => {
    offline.seen.length = 0;
    logs.length = 0;
  });

  test("passes the function's answer through: status, body, headers and the request as sent", async () => {
    offline.set((_req, res) => {
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end('{"error":"retry later"}');
    });

    const res = await send(url, { headers: { 'content-type': 'text/plain', 'user-agent': 'UA/1' }, body: '{"site_id":"demo"}' });

    expect(res).toMatchObject({ status: 503, body: '{"error":"retry later"}' });
    expect(res.headers['retry-after']).toBe('7');
    expect(offline.seen).toEqual([expect.objectContaining({ method: 'POST', url: '/v1/events', body: '{"site_id":"demo"}' })]);
    expect(offline.seen[0]!.headers['user-agent']).toBe('UA/1');
  });

  test('a crashed or missing handler (offline: 200 with the Lambda error object) is a 500, as on API Gateway', async () => {
    offline.set((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          errorMessage: "Cannot find module '.local-build/offline/.build/handlers/ingest.js'",
          errorType: 'Error',
          stackTrace: ['at x'],
        }),
      );
    });

    const res = await send(url, { headers: { 'content-type': 'text/plain' }, body: '{}' });

    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'Internal Server Error' });
    expect(logs.join('\n')).toContain('Cannot find module');
  });

  test("a 200 that merely mentions errorMessage among other fields is the function's own answer", async () => {
    const body = JSON.stringify({ accepted: 1, rejected: [], errorMessage: 'x', errorType: 'y' });
    offline.set((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });

    const res = await send(url, { headers: { 'content-type': 'text/plain' }, body: '{}' });

    expect(res).toMatchObject({ status: 200, body });
  });

  test('a function that never answers gets a 500 once its timeout (plus a grace second) has passed', async () => {
    offline.set(() => {
      /* holds the request open, like a Lambda worker ended by a rebuild */
    });
    const started = Date.now();

    const res = await send(url, { headers: { 'content-type': 'text/plain' }, body: '{}' });

    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ message: 'Internal Server Error' });
    // Bounded by the configured timeout (1 s) + 1 s grace; not answered before the timeout either.
    expect(Date.now() - started).toBeGreaterThanOrEqual(HTTP.timeoutSeconds * 1000);
    // Loose on purpose (a shared 2-core machine), yet far below the 30 s a gateway without its own
    // timer would leave the client waiting, the integration timeout of HTTP APIs.
    expect(Date.now() - started).toBeLessThan(HTTP.timeoutSeconds * 1000 + 1_000 + 5_000);
    expect(logs.join('\n')).toContain('no answer from the function');
  });

  test("with CORS configured, the integration's CORS headers are dropped and the configured ones sent", async () => {
    offline.set((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': 'https://evil.example',
        'access-control-expose-headers': 'x-secret',
      });
      res.end('{"accepted":1,"rejected":[]}');
    });

    const allowed = await send(url, { headers: { 'content-type': 'text/plain', origin: 'https://www.shop.example' }, body: '{}' });
    const other = await send(url, { headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: '{}' });

    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.shop.example');
    expect(allowed.headers['access-control-expose-headers']).toBe('retry-after');
    expect(Object.keys(other.headers).filter((k) => k.startsWith('access-control-'))).toEqual([]);
    // The function still ran for both: CORS is the browser's rule, not a firewall.
    expect(offline.seen).toHaveLength(2);
  });

  test('answers a preflight itself, from the configuration, without invoking the function', async () => {
    const res = await send(url, {
      method: 'OPTIONS',
      headers: { origin: 'https://www.shop.example', 'access-control-request-method': 'POST' },
    });

    expect(res.status).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': 'https://www.shop.example',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '600',
    });
    expect(offline.seen).toEqual([]);
  });

  test('a body over the 10 MB payload quota is refused with 413 before the function runs', async () => {
    const res = await send(url, { headers: { 'content-type': 'text/plain' }, body: Buffer.alloc(PAYLOAD_LIMIT_BYTES + 1, 0x20) });

    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ message: 'Request Entity Too Large' });
    expect(offline.seen).toEqual([]);
  });

  test('no function to invoke (offline down) is a 500, not a hang', async () => {
    const port = await freePort();
    const lonely = await startApiGateway({ port: 0, target: `http://127.0.0.1:${port}`, http: HTTP, log: (l) => logs.push(l) });
    try {
      const res = await send(`${lonely.url}/v1/events`, { headers: { 'content-type': 'text/plain' }, body: '{}' });
      expect(res.status).toBe(500);
      expect(logs.join('\n')).toContain('could not be invoked');
    } finally {
      await lonely.close();
    }
  });
});

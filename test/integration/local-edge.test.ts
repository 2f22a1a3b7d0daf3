/**
 * The local edge (local/edge.ts through local/static.ts) over real sockets: the content-hashed SDK
 * with the headers and integrity the deploy's CloudFront serves, and /v1/ passed to the API with only
 * the origin request policy's headers plus the viewer's address. The API here is a recording HTTP
 * server standing in for the API Gateway stand-in.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { ensureSdkBuilt } from '../../local/sdk-build';
import { readForwardedHeaders } from '../../local/edge';
import { startStatic } from '../../local/static';

const dist = join(__dirname, '..', '..', 'client-sdk', 'dist');
ensureSdkBuilt(join(__dirname, '..', '..', 'client-sdk'));

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: string;
}
let api: Server;
let apiUrl: string;
let seen: Seen[];
let edge: { server: Server; url: string };

/** Raw HTTP, so headers a browser or fetch would refuse (cookie, spoofed CloudFront ones) can be sent. */
function send(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((ok, fail) => {
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end(o.body);
  });
}

beforeAll(async () => {
  api = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res
        .writeHead(200, { 'content-type': 'application/json', 'retry-after': '3', 'access-control-allow-origin': 'http://localhost:8080' })
        .end('{"accepted":1,"rejected":[]}');
    });
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  edge = await startStatic({ port: 0, apiUrl, dataDir: dist });
});
afterAll(async () => {
  edge.server.closeAllConnections();
  edge.server.close();
  await new Promise<void>((r) => api.close(() => r()));
});
beforeEach(() => {
  seen = [];
});

const manifest = () =>
  JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')) as { files: Record<string, { file: string; integrity: string }> };

describe('local edge: /sdk/', () => {
  test('serves the content-hashed build as CloudFront would: immutable a year, Brotli when asked, CORS and security headers, bytes matching the integrity', async () => {
    const { file, integrity } = manifest().files['clickstream.min.js']!;
    const r = await send(`${edge.url}/sdk/${file}`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'content-encoding': 'br',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    });
    const js = brotliDecompressSync(r.body);
    expect(`sha384-${createHash('sha384').update(js).digest('base64')}`).toBe(integrity);
    expect(js.equals(readFileSync(join(dist, file)))).toBe(true);
  });

  test('gzip for a client without Brotli, identity for one asking for neither', async () => {
    const { file } = manifest().files['clickstream.core.min.js']!;
    const gz = await send(`${edge.url}/sdk/${file}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(readFileSync(join(dist, file)))).toBe(true);
    const plain = await send(`${edge.url}/sdk/${file}`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(readFileSync(join(dist, file)))).toBe(true);
  });

  test('an unknown hashed name is a 404, not some other build', async () => {
    expect((await send(`${edge.url}/sdk/clickstream.0000000000000000.min.js`)).status).toBe(404);
  });
});

describe('local edge: /v1/', () => {
  test("passes the request on with only the policy's headers, the viewer address set by the edge (a claimed one dropped), body and answer untouched", async () => {
    const body = '{"site_id":"demo","sent_at":"2026-12-03T10:00:00Z","events":[]}';
    const r = await send(`${edge.url}/v1/events`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'text/plain;charset=UTF-8',
        origin: 'http://localhost:8080',
        'user-agent': 'Mozilla/5.0 test',
        cookie: 'session=secret',
        'x-forwarded-for': '203.0.113.9',
        'cloudfront-viewer-address': '203.0.113.9:1234',
        'cloudfront-viewer-country': 'ZZ',
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers['retry-after']).toBe('3');
    expect(r.body.toString()).toBe('{"accepted":1,"rejected":[]}');
    expect(seen).toHaveLength(1);
    const h = seen[0]!.headers;
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/events', body });
    expect(h).toMatchObject({
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'http://localhost:8080',
      'user-agent': 'Mozilla/5.0 test',
    });
    expect(h['cloudfront-viewer-address']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(h.cookie).toBeUndefined();
    expect(h['x-forwarded-for']).toBeUndefined();
    expect(h['cloudfront-viewer-country']).toBeUndefined();
  });

  test("the forwarded headers are serverless.yml's EdgeIngestOriginRequestPolicy list", () => {
    const yml = readFileSync(join(__dirname, '..', '..', 'serverless.yml'), 'utf8');
    const block = /EdgeIngestOriginRequestPolicy:[\s\S]*?Headers:\n((?:\s+- .+\n)+)/.exec(yml)?.[1] ?? '';
    const listed = [...block.matchAll(/- (\S+)/g)].map((m) => m[1]!.toLowerCase());
    expect(listed.length).toBeGreaterThan(3);
    expect(readForwardedHeaders()).toEqual(listed);
  });

  test('an unreachable API is a 502 (the SDK retries it), as CloudFront answers', async () => {
    const down = await startStatic({ port: 0, apiUrl: 'http://127.0.0.1:9', dataDir: dist });
    try {
      const r = await send(`${down.url}/v1/events`, { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } });
      expect(r.status).toBe(502);
    } finally {
      down.server.close();
    }
  });

  test('config.js points the demo at /v1/events on its own origin (first-party), whatever host the page used', async () => {
    const r = await send(`${edge.url}/config.js`, { headers: { host: 'localhost:4321' } });
    expect(r.body.toString()).toContain('"endpoint":"http://localhost:4321/v1/events"');
  });
});

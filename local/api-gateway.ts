/**
 * The local stand-in for API Gateway (HTTP API), in front of serverless offline. Offline runs the
 * real handler, but answers differently from API Gateway where the SDK's retry rule depends on it
 * (docs/operations.md "Local stack conformance"), so this layer imitates the documented behaviour:
 *
 * - CORS from serverless.yml's provider.httpApi.cors, and only from there: "If you configure CORS
 *   for an API, API Gateway ignores CORS headers returned from your backend integration", and it
 *   answers preflight OPTIONS itself (API Gateway developer guide, "Configure CORS for HTTP APIs").
 *   A header the handler sets but `exposedResponseHeaders` does not list stays unreadable to a page.
 * - A function error (the handler threw, its module is missing, it timed out) is
 *   500 {"message":"Internal Server Error"} ("Troubleshooting issues with HTTP API Lambda
 *   integrations"). Offline wraps such an error in a 200 whose body is the error object, which the
 *   SDK would count as delivered.
 * - Every request gets an answer: after the function's timeout (provider.timeout) plus a grace
 *   second, the answer is that 500, whatever offline is doing.
 * - Payload size 10 MB ("Quotas for configuring and running an HTTP API"): larger bodies get 413
 *   before the function runs.
 * - Client addresses: offline reports every request's sourceIp as the stand-in's own loopback
 *   address. With LOCAL_FORWARDED_FOR=true (a local switch; the handler reads the same variable) an
 *   X-Forwarded-For from a loopback peer is passed on, and the handler takes its first entry as the
 *   client (handlers/lib/geo.ts forwardedForFromLoopback); otherwise the header is dropped here.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CorsConfig, HttpApiConfig } from './serverless-config';

export const PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024;
const GRACE_MS = 1_000;
const DRAIN_LIMIT_BYTES = 8 * PAYLOAD_LIMIT_BYTES;
// Hop-by-hop headers (RFC 9110 7.6.1) and lengths the stand-in recomputes.
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'content-length',
  'host',
]);

export interface ApiGatewayOptions {
  port: number;
  host?: string;
  /** serverless offline's base URL (http://127.0.0.1:PORT). */
  target: string;
  http: HttpApiConfig;
  /** Where function errors are reported (the developer's terminal; AWS writes them to CloudWatch). */
  log?: (line: string) => void;
  /** Pass X-Forwarded-For on from loopback peers; default: LOCAL_FORWARDED_FOR=true in the environment. */
  forwardedFor?: boolean;
}

export interface ApiGateway {
  server: Server;
  url: string;
  close(): Promise<void>;
}

const apiError = (status: number, message: string) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify({ message })),
});
const INTERNAL = () => apiError(500, 'Internal Server Error');

/** Offline's wrapping of a function error: a 200 whose JSON body is the Lambda error object. */
export function isFunctionError(status: number, body: Buffer): { errorType: string; errorMessage: string } | undefined {
  if (status !== 200 || body.length === 0 || body[0] !== 0x7b) return undefined;
  try {
    const o = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const keys = Object.keys(o);
    if (
      typeof o.errorMessage === 'string' &&
      typeof o.errorType === 'string' &&
      keys.every((k) => ['errorMessage', 'errorType', 'stackTrace', 'trace'].includes(k))
    ) {
      return { errorType: o.errorType, errorMessage: o.errorMessage };
    }
  } catch {
    /* not JSON: a plain body */
  }
  return undefined;
}

export function originAllowed(cors: CorsConfig, origin: string): boolean {
  return cors.allowedOrigins.includes('*') || cors.allowedOrigins.includes(origin);
}

/** The CORS headers API Gateway adds to an answer for `origin` (none when it is not allowed). */
export function corsHeaders(cors: CorsConfig, origin: string | undefined, preflight: boolean): Record<string, string> {
  if (!origin || !originAllowed(cors, origin)) return {};
  const h: Record<string, string> = {
    'access-control-allow-origin': cors.allowedOrigins.includes('*') && !cors.allowCredentials ? '*' : origin,
  };
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (preflight) {
    h['access-control-allow-methods'] = cors.allowedMethods.join(',');
    h['access-control-allow-headers'] = cors.allowedHeaders.join(',');
    if (cors.maxAge !== undefined) h['access-control-max-age'] = String(cors.maxAge);
  } else if (cors.exposedResponseHeaders.length) {
    h['access-control-expose-headers'] = cors.exposedResponseHeaders.join(',');
  }
  return h;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/**
 * The request body, or 'too large' past the payload quota. An oversized body is still read to its
 * end (and dropped), so the client can finish writing and read the 413 instead of meeting a reset
 * connection; past DRAIN_LIMIT_BYTES the connection is cut.
 */
function readBody(req: IncomingMessage): Promise<Buffer | 'too large'> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= PAYLOAD_LIMIT_BYTES) chunks.push(c);
      else if (size > DRAIN_LIMIT_BYTES) req.destroy();
    });
    req.on('end', () => ok(size > PAYLOAD_LIMIT_BYTES ? 'too large' : Buffer.concat(chunks)));
    req.on('error', fail);
  });
}

type Outcome = { kind: 'answer'; answer: Answer } | { kind: 'timeout' } | { kind: 'unreachable'; message: string };

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

function forward(
  agent: Agent,
  target: URL,
  req: IncomingMessage,
  body: Buffer,
  timeoutMs: number,
  forwardedFor: boolean,
): Promise<Outcome> {
  return new Promise((ok) => {
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    if (!forwardedFor || !LOOPBACK.test(req.socket.remoteAddress ?? '')) delete headers['x-forwarded-for'];
    if (body.length) headers['content-length'] = String(body.length);
    const up = request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        ok({
          kind: 'answer',
          answer: { status: res.statusCode ?? 502, headers: res.headers as Answer['headers'], body: Buffer.concat(chunks) },
        });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        ok({ kind: 'unreachable', message: e.message });
      });
    });
    const timer = setTimeout(() => {
      up.destroy();
      ok({ kind: 'timeout' });
    }, timeoutMs);
    up.on('error', (e) => {
      clearTimeout(timer);
      ok({ kind: 'unreachable', message: e.message });
    });
    up.end(body);
  });
}

export function startApiGateway(opts: ApiGatewayOptions): Promise<ApiGateway> {
  const { cors, timeoutSeconds } = opts.http;
  const target = new URL(opts.target);
  const agent = new Agent({ keepAlive: true });
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const timeoutMs = timeoutSeconds * 1000 + GRACE_MS;
  const forwardedFor = opts.forwardedFor ?? process.env.LOCAL_FORWARDED_FOR === 'true';

  const send = (res: ServerResponse, a: Answer, origin: string | undefined) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(a.headers)) {
      if (HOP.has(k) || v === undefined) continue;
      // With CORS configured, the integration's own CORS headers never reach the browser.
      if (cors && k.startsWith('access-control-')) continue;
      headers[k] = v;
    }
    if (cors) Object.assign(headers, corsHeaders(cors, origin, false));
    headers['content-length'] = String(a.body.length);
    res.writeHead(a.status, headers);
    res.end(a.body);
  };

  const server = createServer((req, res) => {
    const origin = req.headers.origin;
    void (async () => {
      // Preflight: answered by API Gateway itself, never by the function.
      if (cors && req.method === 'OPTIONS' && origin && req.headers['access-control-request-method']) {
        req.resume();
        res.writeHead(204, { ...corsHeaders(cors, origin, true), 'content-length': '0' });
        return res.end();
      }
      const body = await readBody(req);
      if (body === 'too large') return send(res, apiError(413, 'Request Entity Too Large'), origin);
      const outcome = await forward(agent, target, req, body, timeoutMs, forwardedFor);
      if (outcome.kind === 'timeout') {
        log(`api-gateway: ${req.method} ${req.url}: no answer from the function within ${timeoutSeconds} s (its timeout): 500`);
        return send(res, INTERNAL(), origin);
      }
      if (outcome.kind === 'unreachable') {
        log(`api-gateway: ${req.method} ${req.url}: the function could not be invoked (${outcome.message}): 500`);
        return send(res, INTERNAL(), origin);
      }
      const { answer } = outcome;
      const fnError = isFunctionError(answer.status, answer.body);
      if (fnError) {
        log(`api-gateway: ${req.method} ${req.url}: function error ${fnError.errorType}: ${fnError.errorMessage.slice(0, 300)}: 500`);
        return send(res, INTERNAL(), origin);
      }
      send(res, answer, origin);
    })().catch((err: unknown) => {
      log(`api-gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) send(res, INTERNAL(), origin);
      else res.destroy();
    });
  });

  return new Promise((ok, fail) => {
    const host = opts.host ?? '127.0.0.1';
    server.once('error', fail).listen(opts.port, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      ok({
        server,
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            agent.destroy();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

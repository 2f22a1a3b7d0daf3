/**
 * The local stand-in for the edge (serverless.yml EdgeDistribution): the demo's web server answers
 * the two paths CloudFront serves, on its own origin, as a first-party domain would.
 *
 * - `/sdk/<content-hashed name>`: the files the deploy uploads (client-sdk/dist/manifest.json), with
 *   the headers a CloudFront hit carries: the object's `Cache-Control: public, max-age=31536000,
 *   immutable` and content type, Brotli or gzip when the browser asks (the behaviour's `Compress`),
 *   and the CORS-and-SecurityHeadersPolicy headers (Access-Control-Allow-Origin: *, which a script
 *   loaded with `integrity` needs; CloudFront developer guide, "Use managed response headers
 *   policies"). The integrity the snippet names is the manifest's.
 * - `/v1/*`: passed to the API Gateway stand-in with only the headers EdgeIngestOriginRequestPolicy
 *   lists (read from serverless.yml), and CloudFront-Viewer-Address set to the connection's
 *   "IP:port", as CloudFront sets it ("Add CloudFront request headers"); a value the client sent is
 *   dropped. An unreachable origin is a 502 and one that does not answer within CloudFront's default
 *   30 s origin response timeout a 504, both of which the SDK retries.
 * Not imitated: CloudFront-Viewer-Country / -Country-Region (no geo database here), caching of the
 * SDK at the edge, TLS.
 */
import { readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { parse } from 'yaml';

const SERVERLESS_YML = join(__dirname, '..', 'serverless.yml');
const SDK_DIST = join(__dirname, '..', 'client-sdk', 'dist');
/** CloudFront's default origin response timeout (seconds). */
export const ORIGIN_TIMEOUT_MS = 30_000;

/** The CORS-and-SecurityHeadersPolicy managed policy's headers (e61eb60c-9c35-4d20-a928-2b84e02af89c). */
export const EDGE_SDK_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '1; mode=block',
};

/** Lower-cased header names EdgeIngestOriginRequestPolicy forwards to the API (serverless.yml). */
export function readForwardedHeaders(file = SERVERLESS_YML): string[] {
  // CloudFormation tags (!Ref, !GetAtt...) are unknown to the parser: kept as plain values, unused here.
  type Policy = { Properties?: { OriginRequestPolicyConfig?: { HeadersConfig?: { Headers?: unknown } } } };
  const doc = parse(readFileSync(file, 'utf8'), { logLevel: 'silent' }) as {
    resources?: { Resources?: { EdgeIngestOriginRequestPolicy?: Policy } };
  } | null;
  const headers = doc?.resources?.Resources?.EdgeIngestOriginRequestPolicy?.Properties?.OriginRequestPolicyConfig?.HeadersConfig?.Headers;
  if (!Array.isArray(headers) || headers.length === 0) throw new Error('serverless.yml: EdgeIngestOriginRequestPolicy lists no headers');
  return headers.map((h) => String(h).toLowerCase());
}

export interface EdgeSdkFile {
  file: string;
  integrity: string;
  body: Buffer;
  br: Buffer;
  gzip: Buffer;
}

/** The content-hashed SDK files by name, read from client-sdk/dist/manifest.json (built by client-sdk/build.mjs). */
export function readSdkFiles(dist = SDK_DIST): Map<string, EdgeSdkFile> {
  const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')) as {
    files: Record<string, { file: string; integrity: string }>;
  };
  const out = new Map<string, EdgeSdkFile>();
  for (const f of Object.values(manifest.files)) {
    const body = readFileSync(join(dist, f.file));
    out.set(f.file, {
      file: f.file,
      integrity: f.integrity,
      body,
      br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      gzip: gzipSync(body, { level: 9 }),
    });
  }
  return out;
}

/** Serves one content-hashed SDK file as a CloudFront hit would; false when `name` is not one. */
export function serveSdk(files: Map<string, EdgeSdkFile>, name: string, req: IncomingMessage, res: ServerResponse): boolean {
  const f = files.get(name);
  if (!f) return false;
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const [encoding, body] = /\bbr\b/.test(accepts) ? ['br', f.br] : /\bgzip\b/.test(accepts) ? ['gzip', f.gzip] : [undefined, f.body];
  res.writeHead(200, {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'public, max-age=31536000, immutable',
    vary: 'accept-encoding',
    ...(encoding ? { 'content-encoding': encoding } : {}),
    'content-length': String(body.length),
    ...EDGE_SDK_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/** The viewer's address as CloudFront-Viewer-Address writes it: "IP:port" (IPv4-mapped IPv6 shown as IPv4). */
export function viewerAddress(req: IncomingMessage): string {
  const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  return `${ip}:${req.socket.remotePort ?? 0}`;
}

/** The origin request: only the listed viewer headers, CloudFront's own viewer address, nothing the client claims to be CloudFront's. */
export function originHeaders(
  incoming: IncomingHttpHeaders,
  forwarded: readonly string[],
  address: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of forwarded) {
    if (name.startsWith('cloudfront-')) continue;
    const v = incoming[name];
    if (v !== undefined) out[name] = v;
  }
  if (forwarded.includes('cloudfront-viewer-address')) out['cloudfront-viewer-address'] = address;
  return out;
}

/** Passes a /v1/ request to `target` (the API Gateway stand-in) and its answer back. */
export function proxyToApi(target: URL, forwarded: readonly string[], req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = originHeaders(req.headers, forwarded, viewerAddress(req));
    if (body.length) headers['content-length'] = String(body.length);
    let failed = false;
    const fail = (status: number, message: string) => {
      if (failed) return;
      failed = true;
      if (res.headersSent) return res.destroy();
      res.writeHead(status, { 'content-type': 'text/plain' }).end(message);
    };
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, timeout: ORIGIN_TIMEOUT_MS },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers))
          if (v !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(k)) out[k] = v;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
      },
    );
    up.on('timeout', () => {
      up.destroy();
      fail(504, 'origin did not answer within 30 s');
    });
    up.on('error', (e) => fail(502, `origin unreachable: ${e.message}`));
    up.end(body);
  });
}

/**
 * The demo site's web server: local/demo/ at /, the built SDK at /sdk/, /config.js pointing the
 * snippet at the endpoint, and /report.html from the data folder (npm run report writes it). It is
 * also the local edge (local/edge.ts): the content-hashed SDK files at /sdk/ with CloudFront's
 * headers, and /v1/ passed to the API Gateway stand-in, so the demo's page, script and endpoint share
 * one origin, as with the deploy's edge on a first-party domain. The API's own port stays open for
 * tools (curl, tests), as the deploy's direct API endpoint does.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { proxyToApi, readForwardedHeaders, readSdkFiles, serveSdk, type EdgeSdkFile } from './edge';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function startStatic(opts: {
  port: number;
  apiUrl: string;
  dataDir: string;
  host?: string;
}): Promise<{ server: Server; url: string }> {
  const host = opts.host ?? '127.0.0.1';
  const root = join(__dirname, 'demo');
  const sdk = join(__dirname, '..', 'client-sdk', 'dist');
  const api = new URL(opts.apiUrl);
  const forwarded = readForwardedHeaders();
  // Read once the SDK is built (npm start builds it first); re-read when a rebuild changed the manifest.
  let sdkFiles: { at: number; files: Map<string, EdgeSdkFile> } | undefined;
  const hashed = (): Map<string, EdgeSdkFile> => {
    const manifest = join(sdk, 'manifest.json');
    const at = existsSync(manifest) ? statSync(manifest).mtimeMs : 0;
    if (!sdkFiles || sdkFiles.at !== at) {
      try {
        sdkFiles = { at, files: at ? readSdkFiles(sdk) : new Map() };
      } catch {
        return new Map(); // a rebuild is replacing dist/ right now: not found this time, read again next
      }
    }
    return sdkFiles.files;
  };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path.startsWith('/v1/')) return proxyToApi(api, forwarded, req, res);
    if (path.startsWith('/sdk/') && serveSdk(hashed(), path.slice(5), req, res)) return;
    if (path === '/config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] as string, 'cache-control': 'no-store' });
      // The endpoint on this server's own origin (the host the page asked for), as the edge's is.
      const endpoint = `http://${req.headers.host ?? `${host}:${opts.port}`}/v1/events`;
      return res.end(`window.CLICKSTREAM_CONFIG = ${JSON.stringify({ endpoint, siteId: 'demo' })};\n`);
    }
    const [base, rel] =
      path === '/report.html'
        ? [resolve(opts.dataDir), 'report.html']
        : path.startsWith('/sdk/')
          ? [sdk, path.slice(5)]
          : [root, path.endsWith('/') ? `${path}index.html` : path];
    const file = normalize(join(base, rel));
    // No escaping the served folder with ../
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end(
        path === '/report.html' ? 'No report yet: run `npm run report` (after npm run simulate, or some clicking around).' : 'not found',
      );
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => {
    server.once('error', fail).listen(opts.port, host, () => {
      const addr = server.address();
      ok({ server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${typeof addr === 'object' && addr ? addr.port : opts.port}` });
    });
  });
}

/**
 * The demo site's web server: local/demo/ at /, the built SDK at /sdk/, /config.js pointing the
 * snippet at the local API, and /report.html from the data folder (npm run report writes it).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

export function startStatic(opts: { port: number; apiUrl: string; dataDir: string; host?: string }): Promise<{ server: Server; url: string }> {
  const root = join(__dirname, 'demo');
  const sdk = join(__dirname, '..', 'client-sdk', 'dist');
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    if (path === '/config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] as string, 'cache-control': 'no-store' });
      return res.end(`window.CLICKSTREAM_CONFIG = ${JSON.stringify({ endpoint: `${opts.apiUrl}/v1/events`, siteId: 'demo' })};\n`);
    }
    const [base, rel] = path === '/report.html' ? [resolve(opts.dataDir), 'report.html']
      : path.startsWith('/sdk/') ? [sdk, path.slice(5)] : [root, path.endsWith('/') ? `${path}index.html` : path];
    const file = normalize(join(base, rel));
    // No escaping the served folder with ../
    if (!file.startsWith(base) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end(path === '/report.html' ? 'No report yet: run `npm run report` (after npm run simulate, or some clicking around).' : 'not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    res.end(readFileSync(file));
  });
  const host = opts.host ?? '127.0.0.1';
  return new Promise((ok, fail) => {
    server.once('error', fail).listen(opts.port, host, () => {
      const addr = server.address();
      ok({ server, url: `http://${host === '0.0.0.0' ? 'localhost' : host}:${typeof addr === 'object' && addr ? addr.port : opts.port}` });
    });
  });
}

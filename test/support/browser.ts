/**
 * Real headless Chromium for SDK tests: Debian's /usr/bin/chromium through playwright-core
 * (`npx playwright install` cannot download browsers here), and a page server that embeds the
 * real loader snippet with per-page SDK options, on its own origin.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import type { LocalStack } from './stack';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** Without Chromium the browser tests are skipped locally; under CI they must run (and fail if it is missing). */
export const canRunBrowser = existsSync(CHROMIUM) || !!process.env.CI;

const LOADER = () => readFileSync(join(__dirname, '..', '..', 'client-sdk', 'dist', 'loader.min.js'), 'utf8').trim();

export interface PageServer {
  url: string;
  close(): void;
}

/**
 * Test pages at any path, with `?opts=<json>` merged into the demo's SDK config, `?core=1` for the
 * core build and `?csp=1` for a strict Content-Security-Policy. A real server rather than
 * playwright's route(): request interception drops keepalive requests made while a page unloads,
 * which is exactly what the tests check.
 */
export async function startPageServer(stack: LocalStack): Promise<PageServer> {
  const loader = LOADER();
  const server: Server = createServer((req, res) => {
    const q = new URL(req.url || '/', 'http://x').searchParams;
    const opts = q.get('opts') || '{}';
    res.setHeader('content-type', 'text/html');
    // A strict policy: no eval, no inline code but the nonced snippet, no inline styles, only the API to connect to.
    if (q.get('csp')) res.setHeader('content-security-policy', `default-src 'none'; script-src ${stack.demoUrl} 'nonce-t3st'; connect-src ${stack.publicApiUrl}`);
    res.end(`<!doctype html><html><head><title>SDK test page</title><script src="${stack.demoUrl}/config.js"></script>
<script nonce="t3st">${loader.replace('"/sdk/clickstream.min.js', `"${stack.demoUrl}/sdk/clickstream${q.get('core') ? '.core' : ''}.min.js`)}
clickstream('init', Object.assign({}, window.CLICKSTREAM_CONFIG, ${JSON.stringify(JSON.parse(opts))}));</script></head>
<body><h1>test</h1></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export interface Browser {
  ctx: BrowserContext;
  close(): Promise<void>;
}

/** A fresh browser with its own profile folder (own localStorage), removed on close. */
export async function launchBrowser(): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  return {
    ctx,
    close: async () => {
      await ctx.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Test pages that serve the built SDK themselves, for tests that bring their own collector instead
 * of the local stack: `/sdk/<file>` from client-sdk/dist, any other path a page whose loader snippet
 * loads `/sdk/clickstream.min.js` and calls `init` with `?opts=<json>` (endpoint and siteId included).
 */
export async function startSdkPageServer(): Promise<PageServer> {
  const loader = LOADER();
  const dist = join(__dirname, '..', '..', 'client-sdk', 'dist');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://x');
    const file = /^\/sdk\/(clickstream(?:\.core)?\.min\.js)$/.exec(url.pathname);
    if (file) {
      res.setHeader('content-type', 'text/javascript');
      res.end(readFileSync(join(dist, file[1]!)));
      return;
    }
    const opts = JSON.stringify(JSON.parse(url.searchParams.get('opts') || '{}'));
    res.setHeader('content-type', 'text/html');
    res.end(`<!doctype html><html><head><title>SDK test page</title>
<script>${loader}
clickstream('init', ${opts});</script></head>
<body><h1>test</h1></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

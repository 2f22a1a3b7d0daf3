/**
 * Real headless Chromium for SDK tests: Debian's /usr/bin/chromium through playwright-core
 * (`npx playwright install` cannot download browsers here), and a page server that embeds the
 * real loader snippet with per-page SDK options, on its own origin.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../local/chromium';
import type { LocalStack } from './stack';

export { CHROMIUM };

declare global {
  /** What the browser tests read and call on their pages (page.evaluate runs in the page). */
  interface Window {
    /** The SDK's global (client-sdk/src/iife.ts), or the loader's stub (`q`: queued calls) before the SDK arrives. */
    clickstream: ((method: string, ...args: unknown[]) => void) & { init?: unknown; q?: unknown[] };
    /** CSP violations a test collects. */
    violations: string[];
  }
}
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
    // A strict policy: no eval, no inline code but the nonced snippet, no inline styles, only the endpoint (the local edge) to connect to.
    if (q.get('csp'))
      res.setHeader(
        'content-security-policy',
        `default-src 'none'; script-src ${stack.demoUrl} 'nonce-t3st'; connect-src ${stack.demoUrl}`,
      );
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

/**
 * A fresh browser with its own profile folder (own localStorage), removed on close. playwright
 * launches Chromium with --disable-back-forward-cache; here the cache stays on by default, as in a
 * visitor's browser, so every navigation takes the path visitors' pages take (pagehide with
 * persisted, then freeze: delivery.ts frozen()). `bfcache: false` turns it off.
 */
export async function launchBrowser({ bfcache = true } = {}): Promise<Browser> {
  const dir = mkdtempSync(join(tmpdir(), 'cs-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: bfcache ? ['--disable-back-forward-cache'] : undefined,
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

/** What a FaultProxy does with connections: forward them, cut them at once, or hold them unanswered. */
export type ProxyMode = 'pass' | 'refuse' | 'hang';

export interface FaultProxy {
  /** The proxy's origin, e.g. http://127.0.0.1:PORT: point an SDK's endpoint here instead of at the API. */
  url: string;
  /**
   * Switches the mode. Every open connection is cut on a switch, as when a network path changes:
   * otherwise Chromium would keep sending over a kept-alive connection opened in 'pass' and never
   * meet the failure, and connections held in 'hang' would hold Chromium's six per host for ever.
   */
  set(mode: ProxyMode): void;
  /** Connections accepted per mode since start (to show a scenario really met its failure). */
  accepted: Record<ProxyMode, number>;
  close(): void;
}

/**
 * A TCP proxy in front of `target` (host:port) that fails at the socket, the way a network or a
 * dead collector does, rather than through DevTools' network emulation: 'refuse' destroys each
 * connection as it is accepted (the page sees a network error), 'hang' accepts and reads but never
 * forwards or answers (the page sees nothing until its own timeout).
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let mode: ProxyMode = 'pass';
  const open = new Set<Socket>();
  const accepted: Record<ProxyMode, number> = { pass: 0, refuse: 0, hang: 0 };
  const server = createNetServer((client) => {
    accepted[mode]++;
    if (mode === 'refuse') return void client.destroy();
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'hang') return void client.resume();
    const upstream = connect(Number(port), hostname);
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set(m) {
      mode = m;
      for (const s of open) s.destroy();
      open.clear();
    },
    accepted,
    close() {
      for (const s of open) s.destroy();
      server.close();
    },
  };
}

/**
 * Polls `cond` (every `everyMs`) until it holds, for tests that wait on what the SDK or the stack
 * does rather than sleep a fixed time and hope it has happened. After `ms` it throws `what()` (with
 * the wait), or, without `what`, returns false so the caller can report its own findings.
 */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what?: () => string, everyMs = 50): Promise<boolean> {
  for (const end = Date.now() + ms; !(await cond()); await new Promise((r) => setTimeout(r, everyMs))) {
    if (Date.now() > end) {
      if (what) throw new Error(`${what()} (waited ${ms} ms)`);
      return false;
    }
  }
  return true;
}

/** Nothing of the page's origin waits in the SDK's outbox: every event it stored has been acknowledged, so nothing more will be sent. */
export const outboxEmpty = (p: Page) => p.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith('cs_q.')));

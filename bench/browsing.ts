/**
 * Events per request on real browsing: scripted visits of the demo site (local/demo/, served by the
 * real local stack) in headless Chromium, with the SDK exactly as built in client-sdk/dist. Every
 * POST that reaches the API is counted, body included, by a pass-through proxy in front of the
 * stack's API; afterwards the stored rows are read back, so the figure is what API Gateway would
 * bill (requests) against what the site owner counts (distinct events stored).
 *
 * Why a proxy and not playwright's request events: Chromium does not report to the page's DevTools
 * session the keepalive requests a page makes while it is being left or closed (its frame is gone),
 * and those page-hide sends are half of what this bench is about. Playwright's count is kept as a
 * cross-check (`requests_seen_by_playwright`). Each visit gets its own origin (a pass-through proxy in
 * front of the demo server, on its own port, serving a config.js that points the SDK at the API
 * proxy), so the Origin header tells which visit a request came from; the site proxy also sets
 * `Referrer-Policy: unsafe-url`, so the Referer header names the page that sent it. The demo's pages,
 * the SDK and the local API are otherwise exactly as served by the stack.
 *
 * The visits (see VISITS): several pages, clicks on menu items and buttons, the demo's own custom
 * events (add_to_cart, order_placed), a single-page-app section, a tab opened beside the first and
 * left open for a while, tabs closed. Reading times are drawn (seeded) from the traffic simulator's
 * distribution (local/simulator/generate.ts: a bounce reads 1.5-9 s, other pages 4 + 60 x u^2 s),
 * capped at DWELL_CAP_MS to keep the run bounded. Each visit has its own browser context (its own
 * localStorage), and at most `concurrency` run at once.
 *
 * Besides the measured figure, the result carries an estimate for the first cost lever (carry a
 * page's unsent events into the next page of the same site instead of sending at page hide): the
 * sends a page made while it was being left for another page of the site, which such an SDK would
 * have folded into the next page's send. Since the SDK does this where pageswap exists (Chromium
 * 124+), `requests_at_leave` is 0 in Chromium and the estimate equals the measurement; it still
 * shows what an SDK build without it would leave on the table. `--sdk-opts JSON` runs the same
 * visits with other SDK options (a lever such as a longer flushInterval), printed, not written.
 *
 *   npm run bench -- --only-slow --browsing      (or: npx tsx bench/browsing.ts [--quick] [--sdk-opts JSON])
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../local/chromium';
import { startLocalStack, type LocalStack } from '../local/stack-process';

const root = join(__dirname, '..');
/** A desktop Chrome: requests sent by a closing page carry the launch flag's UA, not the context's (toolchain.md). */
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const ARGS = [...CHROMIUM_ARGS, `--user-agent=${USER_AGENT}`];
/** Longest reading time of one page, so a run stays within minutes. */
export const DWELL_CAP_MS = 40_000;
/** Every page action (load, click) gives up after this long rather than hang the bench. */
const ACTION_MS = 20_000;

/** One POST that reached the API, as the proxy in front of it saw it. */
export interface Send {
  /** Milliseconds since the visit started. */
  at: number;
  /** The page that sent it (Referer) and the events in its body. */
  page: string;
  events: number;
  event_ids: string[];
}

/** A page the visitor left for another page of the site, or a tab they closed. */
export interface Exit {
  kind: 'leave' | 'close';
  /** The page's URL and when the click or close began, ms since the visit started. */
  page: string;
  at: number;
  /** When the next page committed (leave), or the close returned; the page-hide send lies between. */
  until: number;
}

export interface VisitTrace {
  name: string;
  pages: number;
  seconds: number;
  sends: Send[];
  exits: Exit[];
  /** POSTs to the API that playwright's request events reported for this visit (a cross-check). */
  seen_by_playwright: number;
}

export interface BrowsingResult {
  visits: { name: string; pages: number; seconds: number; requests: number; events: number }[];
  requests: number;
  requests_seen_by_playwright: number;
  /** Events in all request bodies (a resent event counts each time). */
  events_sent: number;
  distinct_events_sent: number;
  /** Distinct event_ids stored by the local stack (rows on disk). */
  distinct_events_stored: number;
  /** Distinct events sent but not stored (should be 0). */
  missing: number;
  /** Rows stored beyond one per event_id, per 100 events (duplicates the queries remove). */
  duplicate_rows_per_100: number;
  /** The figure fed into the cost model: distinct events stored per request made. */
  events_per_request: number;
  /** Requests a page sent as it was left for another page of the site / as its tab closed. */
  requests_at_leave: number;
  requests_at_close: number;
  /** Estimate of the carry-over lever: requests had each leave-time send joined the next page's. */
  carry_over_estimate: { requests: number; events_per_request: number };
  sdk: { build_sha256: string; git_head: string; client_sdk_src_dirty: boolean };
  chromium_version: string;
  rounds: number;
  dwell_cap_ms: number;
  seconds: number;
}

/** Seeded uniform numbers (mulberry32), so every run reads each page for the same time. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Reading time of one page: the simulator's distribution, capped. */
export function dwellMs(r: () => number, bounce: boolean, cap = DWELL_CAP_MS): number {
  const ms = bounce ? 1_500 + Math.round(7_500 * r()) : Math.round(4_000 + 60_000 * r() ** 2);
  return Math.min(ms, cap);
}

/** What a visit script may do; every call is bounded by ACTION_MS. */
interface Visitor {
  /** Opens a tab at a site path. */
  open(path: string): Promise<Page>;
  /** Reads the current page for a drawn time (bounce: the short distribution). */
  read(p: Page, bounce?: boolean): Promise<void>;
  /** A short pause between two actions on one page (0.5-3 s). */
  pause(p: Page): Promise<void>;
  /** Clicks something that stays on the page (a button, a menu item, an SPA route). */
  click(p: Page, selector: string): Promise<void>;
  /** Clicks a link to another page of the site and waits for it to load. */
  follow(p: Page, selector: string): Promise<void>;
  /** Closes a tab, as a visitor closing it. */
  close(p: Page): Promise<void>;
}

/**
 * The scripted visits. Paths and selectors are the demo site's (local/demo/); what a visitor reads,
 * clicks and orders follows the simulator's proportions loosely.
 */
export const VISITS: { name: string; run: (v: Visitor) => Promise<void> }[] = [
  {
    // Lands on the home page, reads the menu, orders two dishes through the SPA section, leaves.
    name: 'orders online',
    run: async (v) => {
      const p = await v.open('/');
      await v.read(p);
      await v.follow(p, 'a[data-cs-name="hero_see_menu"]');
      await v.pause(p);
      await v.click(p, 'article.item[data-cs-name="Margherita"] h3');
      await v.read(p);
      await v.click(p, 'article.item[data-cs-name="Negroni sbagliato"] h3');
      await v.pause(p);
      await v.follow(p, 'a[data-cs-name="menu_go_order"]');
      await v.pause(p);
      await v.click(p, '#view button.order >> nth=0');
      await v.pause(p);
      await v.click(p, '#view button.order >> nth=6');
      await v.read(p);
      await v.click(p, '#view a[data-route="cart"]');
      await v.read(p);
      await v.click(p, '#place-order');
      await v.read(p, true);
      await v.close(p);
    },
  },
  {
    // Reads the menu, opens "Visit us" in a second tab and leaves it open while browsing on, then
    // closes the first tab and, a while later, the second.
    name: 'two tabs, one left open',
    run: async (v) => {
      const p = await v.open('/menu.html?utm_source=newsletter&utm_medium=email&utm_campaign=winter');
      await v.read(p);
      const q = await v.open('/visit.html');
      await v.pause(q);
      await v.click(p, 'article.item[data-cs-name="Risotto ai funghi"] h3');
      await v.read(p);
      await v.follow(p, '#nav-order');
      await v.pause(p);
      await v.click(p, '#view button.order >> nth=3');
      await v.read(p);
      await v.close(p);
      await v.read(q);
      await v.click(q, '#call-us');
      await v.read(q);
      await v.close(q);
    },
  },
  {
    // A quick look at one page and gone.
    name: 'bounces',
    run: async (v) => {
      const p = await v.open('/?gclid=Cj0KCQiA');
      await v.read(p, true);
      await v.close(p);
    },
  },
  {
    // Home, "Visit us", back to the home page, the menu: several short page views.
    name: 'looks around',
    run: async (v) => {
      const p = await v.open('/');
      await v.read(p);
      await v.follow(p, '#nav-visit');
      await v.read(p);
      await v.follow(p, 'a.brand');
      await v.read(p, true);
      await v.follow(p, '#nav-menu');
      await v.pause(p);
      await v.click(p, 'article.item[data-cs-name="Spaghetti alle vongole"] button.order');
      await v.read(p);
      await v.close(p);
    },
  },
];

interface Listening {
  url: string;
  close(): void;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Listening> {
  const server: Server = createServer(handler);
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => ok(Buffer.concat(chunks)))
      .on('error', fail);
  });

/** Forwards a request to `target` (same method, headers, body) and its answer back, unchanged. */
async function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(
      ([k, v]) => typeof v === 'string' && !['host', 'connection', 'content-length', 'keep-alive'].includes(k),
    ),
  ) as Record<string, string>;
  try {
    const r = await fetch(`${target}${req.url ?? '/'}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : new Uint8Array(body),
      signal: AbortSignal.timeout(ACTION_MS),
    });
    const out = Buffer.from(await r.arrayBuffer());
    const h: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) h[k] = v;
    });
    res.writeHead(r.status, h).end(out);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`bench proxy: ${(e as Error).message}`);
  }
}

/** The API as the pages see it: every POST /v1/events recorded (origin, page, body), then passed on. */
async function apiProxy(apiUrl: string): Promise<Listening & { sends: (origin: string) => (Omit<Send, 'at'> & { time: number })[] }> {
  const log: (Omit<Send, 'at'> & { time: number; origin: string })[] = [];
  const server = await listen((req, res) => {
    void readBody(req).then((body) => {
      if (req.method === 'POST' && new URL(req.url ?? '/', 'http://x').pathname === '/v1/events') {
        let ids: string[] = [];
        try {
          ids = ((JSON.parse(body.toString('utf8')) as { events?: { event_id?: unknown }[] }).events ?? []).map((e) => String(e.event_id));
        } catch {
          /* an unreadable body is still a request API Gateway bills */
        }
        log.push({
          time: Date.now(),
          origin: String(req.headers.origin ?? ''),
          page: String(req.headers.referer ?? ''),
          events: ids.length,
          event_ids: ids,
        });
      }
      return forward(apiUrl, req, body, res);
    });
  });
  return { ...server, sends: (origin) => log.filter((x) => x.origin === origin).map(({ origin: _o, ...x }) => x) };
}

/**
 * One visit's own origin for the demo site: everything passed through to the stack's demo server,
 * except config.js, which points the SDK at the API proxy, and a referrer policy that lets the
 * SDK's requests name their page.
 */
async function siteProxy(demoUrl: string, apiUrl: string, sdkOptions: object = {}): Promise<Listening> {
  return listen((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === '/config.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(
        `window.CLICKSTREAM_CONFIG = ${JSON.stringify({ ...sdkOptions, endpoint: `${apiUrl}/v1/events`, siteId: 'demo' })};\n`,
      );
    }
    const setHeader = res.writeHead.bind(res);
    res.writeHead = ((status: number, headers?: Record<string, string>) =>
      setHeader(status, { ...headers, 'referrer-policy': 'unsafe-url' })) as typeof res.writeHead;
    void readBody(req).then((body) => forward(demoUrl, req, body, res));
  });
}

/** Runs one visit in its own context and origin; returns its sends (from the API proxy) and exits. */
async function runVisit(
  browser: Browser,
  stack: LocalStack,
  api: Awaited<ReturnType<typeof apiProxy>>,
  visit: (typeof VISITS)[number],
  seed: number,
  cap: number,
  sdkOptions?: object,
): Promise<VisitTrace> {
  const r = rng(seed);
  const site = await siteProxy(stack.demoUrl, api.url, sdkOptions);
  const ctx: BrowserContext = await browser.newContext({ userAgent: USER_AGENT });
  const exits: Exit[] = [];
  let seen = 0;
  let pages = 0;
  const started = Date.now();
  const since = () => Date.now() - started;
  const onRequest = (req: Request) => {
    if (req.method() === 'POST' && req.url() === `${api.url}/v1/events`) seen++;
  };
  ctx.on('request', onRequest);
  const v: Visitor = {
    async open(path) {
      const p = await ctx.newPage();
      p.setDefaultTimeout(ACTION_MS);
      await p.goto(`${site.url}${path}`, { waitUntil: 'load' });
      pages++;
      return p;
    },
    read: (p, bounce = false) => p.waitForTimeout(dwellMs(r, bounce, cap)),
    pause: (p) => p.waitForTimeout(Math.min(cap, 500 + Math.round(2_500 * r()))),
    async click(p, selector) {
      await p.click(selector);
    },
    async follow(p, selector) {
      const page = p.url();
      const at = since();
      // The old document's pagehide runs before the new one commits.
      await Promise.all([p.waitForURL((u) => u.href !== page, { waitUntil: 'commit' }), p.click(selector)]);
      exits.push({ kind: 'leave', page, at, until: since() });
      await p.waitForLoadState('load');
      pages++;
    },
    async close(p) {
      const page = p.url();
      const at = since();
      await p.close();
      exits.push({ kind: 'close', page, at, until: since() });
    },
  };
  try {
    await visit.run(v);
    // A closing page's keepalive request may still be on its way.
    await new Promise((ok) => setTimeout(ok, 1_000));
  } finally {
    ctx.off('request', onRequest);
    await ctx.close().catch(() => {});
    site.close();
  }
  const sends = api.sends(site.url).map(({ time, ...x }) => ({ ...x, at: time - started }));
  return { name: visit.name, pages, seconds: Math.round(since() / 100) / 10, sends, exits, seen_by_playwright: seen };
}

/**
 * A send made while its page was being left or closed: from that page, after the click or close
 * began and no later than LEAVE_SLACK_MS after the next page committed (or the close returned).
 * A page sends nothing after it is gone, so any send of the left page after the click is its
 * page-hide send.
 */
const LEAVE_SLACK_MS = 2_000;
export function exitOf(send: Send, exits: Exit[]): Exit | undefined {
  return exits.find((x) => send.page === x.page && send.at >= x.at && send.at <= x.until + LEAVE_SLACK_MS);
}

/** Requests, events and the carry-over estimate from the traces (pure, so unit-testable). */
export function summarize(
  traces: VisitTrace[],
  stored: { event_id: string }[],
): Omit<BrowsingResult, 'sdk' | 'chromium_version' | 'rounds' | 'dwell_cap_ms' | 'seconds'> {
  const sends = traces.flatMap((t) => t.sends);
  const sent = new Set(sends.flatMap((s) => s.event_ids));
  // Only the events these visits sent (the stack's data folder is this run's own; be exact anyway).
  const storedIds = stored.map((x) => x.event_id).filter((id) => sent.has(id));
  const distinctStored = new Set(storedIds);
  const kinds = traces.flatMap((t) => t.sends.map((s) => exitOf(s, t.exits)?.kind));
  const requests = sends.length;
  const leave = kinds.filter((k) => k === 'leave').length;
  const events = distinctStored.size;
  // Carried over, a leave-time batch would go out with the next page's first send, which that page
  // makes anyway (its page view): one request fewer per leave-time send.
  const carried = requests - leave;
  return {
    visits: traces.map((t) => ({
      name: t.name,
      pages: t.pages,
      seconds: t.seconds,
      requests: t.sends.length,
      events: t.sends.reduce((n, s) => n + s.events, 0),
    })),
    requests,
    requests_seen_by_playwright: traces.reduce((n, t) => n + t.seen_by_playwright, 0),
    events_sent: sends.reduce((n, s) => n + s.events, 0),
    distinct_events_sent: sent.size,
    distinct_events_stored: events,
    missing: [...sent].filter((id) => !distinctStored.has(id)).length,
    duplicate_rows_per_100: events ? Math.round((10_000 * (storedIds.length - events)) / events) / 100 : 0,
    events_per_request: requests ? Math.round((1000 * events) / requests) / 1000 : 0,
    requests_at_leave: leave,
    requests_at_close: kinds.filter((k) => k === 'close').length,
    carry_over_estimate: { requests: carried, events_per_request: carried ? Math.round((1000 * events) / carried) / 1000 : 0 },
  };
}

function sdkIdentity(): BrowsingResult['sdk'] {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    build_sha256: createHash('sha256')
      .update(readFileSync(join(root, 'client-sdk', 'dist', 'clickstream.min.js')))
      .digest('hex')
      .slice(0, 16),
    git_head: git(['rev-parse', '--short', 'HEAD']),
    client_sdk_src_dirty: git(['status', '--porcelain', '--', 'client-sdk/src']) !== '',
  };
}

/**
 * Starts the local stack and Chromium, runs `rounds` x every visit (seeded reading times, at most
 * `concurrency` at once), and returns the counts. Stops everything it started, also on failure.
 * @example
 * const b = await runBrowsing({ rounds: 1, log: console.error });
 * console.log(b.events_per_request);
 */
export async function runBrowsing(
  opts: {
    rounds?: number;
    concurrency?: number;
    dwellCapMs?: number;
    log?: (s: string) => void /** merged into the demo's SDK options, to measure a lever without rebuilding */;
    sdkOptions?: object;
  } = {},
): Promise<BrowsingResult> {
  const rounds = opts.rounds ?? 2;
  const concurrency = opts.concurrency ?? 2;
  const cap = opts.dwellCapMs ?? DWELL_CAP_MS;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new Error(`rounds must be an integer from 1 to 20, not ${rounds}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 8)
    throw new Error(`concurrency must be an integer from 1 to 8, not ${concurrency}`);
  const log = opts.log ?? (() => {});
  const started = Date.now();
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  let api: Awaited<ReturnType<typeof apiProxy>> | undefined;
  try {
    // A 1 s buffer: the rows are on disk soon after the last send.
    stack = await startLocalStack({ bufferSeconds: 1 });
    api = await apiProxy(stack.apiUrl);
    const sdk = sdkIdentity();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    log(
      `browsing: stack at ${stack.demoUrl}, Chromium ${browser.version()}, SDK build ${sdk.build_sha256}${sdk.client_sdk_src_dirty ? ' (client-sdk/src has uncommitted changes)' : ''}; ${rounds} x ${VISITS.length} visits, ${concurrency} at a time`,
    );
    const jobs = Array.from({ length: rounds }, (_, round) => VISITS.map((visit, i) => ({ visit, seed: 1 + round * 100 + i }))).flat();
    const traces: VisitTrace[] = [];
    const [b, s, a] = [browser, stack, api];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let job = jobs.shift(); job; job = jobs.shift()) {
          const t = await runVisit(b, s, a, job.visit, job.seed, cap, opts.sdkOptions);
          log(
            `browsing: "${t.name}" (seed ${job.seed}): ${t.pages} pages in ${t.seconds} s, ${t.sends.length} requests, ${t.sends.reduce((n, x) => n + x.events, 0)} events`,
          );
          traces.push(t);
        }
      }),
    );
    await stack.flush();
    const sentIds = new Set(traces.flatMap((t) => t.sends.flatMap((x) => x.event_ids)));
    // Bounded wait for the stand-in to write every sent event (1 s buffer, gzip to disk).
    const end = Date.now() + 20_000;
    let rows = (await stack.readEvents()) as { event_id: string }[];
    while (new Set(rows.map((x) => x.event_id).filter((id) => sentIds.has(id))).size < sentIds.size && Date.now() < end) {
      await new Promise((ok) => setTimeout(ok, 500));
      await stack.flush();
      rows = (await stack.readEvents()) as { event_id: string }[];
    }
    const summary = summarize(traces, rows);
    return {
      ...summary,
      sdk,
      chromium_version: browser.version(),
      rounds,
      dwell_cap_ms: cap,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await browser?.close().catch(() => {});
    api?.close();
    await stack?.stop();
  }
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  // --sdk-opts '{"flushInterval":30000}': the same visits with other SDK options (not written to bench/results.json).
  const at = process.argv.indexOf('--sdk-opts');
  const sdkOptions = at > 0 ? (JSON.parse(process.argv[at + 1] ?? '{}') as object) : undefined;
  runBrowsing({
    rounds: quick ? 1 : undefined,
    dwellCapMs: quick ? 8_000 : undefined,
    sdkOptions,
    log: (s) => process.stderr.write(`${s}\n`),
  }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`browsing: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

/**
 * What the browser SDK costs the host page's main thread per tracked event, measured in real
 * headless Chromium (Debian's /usr/bin/chromium through playwright-core). No local stack: a tiny
 * page server on 127.0.0.1 serves the real loader snippet and the built IIFE
 * (client-sdk/dist/clickstream.min.js, then clickstream.core.min.js), and a second server stands in
 * for the collector, answering every batch 200 `{"accepted":N,"rejected":[]}` so sends succeed.
 *
 * Each round, for each build, on fresh page loads in fresh browser contexts (empty localStorage):
 * - track: `clickstream('track', name, props)` in bursts of one batch (20 calls), waiting between
 *   bursts until the batch is acknowledged, as events spread over a visit arrive. The 20th call
 *   of each burst includes the send: batch JSON, fetch keepalive dispatch.
 * - burst: the same number of calls back to back in one task. Sends cannot complete inside the
 *   task, so the queue (and its localStorage copy) grows to about N events: the worst case.
 * - flush: one `flush()` of a full batch of 20 queued events. With the default batchSize the 20th
 *   event sends itself, so this page alone sets batchSize 21; everything else stays default.
 * - page view: a single-page-app navigation, `history.pushState` (wrapped by the SDK, which
 *   schedules a page view 100 ms later) followed by `clickstream('page')` recording it at once.
 * - baseline: the same loops calling an empty function: the harness's own cost per call; and,
 *   for reference, the browser's own pushState and the Intl time-zone lookup the SDK makes per event.
 * The page is cross-origin isolated (COOP/COEP), so performance.now() is precise to about 5 us
 * rather than 100 us; the measured resolution is reported.
 *
 *   npx tsx bench/sdk-cost.ts        (needs `npm run build:sdk` first)
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM } from '../test/support/browser';
import { median, type Stat } from './pipeline';

export const BUILDS = { full: 'clickstream.min.js', core: 'clickstream.core.min.js' } as const;
export type Build = keyof typeof BUILDS;

export interface BuildCost {
  /** Microseconds of main thread per `track()`, events arriving one batch at a time (median of rounds). */
  track_us: Stat;
  /** Microseconds per `track()` when all events of a sample are tracked in one task. */
  track_burst_us: Stat;
  /** Microseconds for one `flush()` of 20 queued events (synchronous part: batch JSON + fetch dispatch). */
  flush_us: Stat;
  /** Microseconds per SPA navigation: the SDK-wrapped `history.pushState` (browser's own work included). */
  push_state_us: Stat;
  /** Microseconds per `page()` after a navigation: the page view event, enqueued and persisted. */
  page_view_us: Stat;
}

export interface SdkCost {
  chromium_version: string;
  builds: Record<Build, BuildCost>;
  /** The batch-at-a-time loop calling an empty function instead of the SDK: microseconds per call. */
  baseline_us: Stat;
  /** The one-task loop calling an empty function: microseconds per call. */
  baseline_burst_us: Stat;
  /**
   * Browser work inside the figures above, timed alone on the same pages: the browser's own
   * `history.pushState` (unwrapped), and `Intl.DateTimeFormat().resolvedOptions().timeZone`, which
   * the SDK evaluates for every event it records.
   */
  reference_us: { native_push_state: Stat; intl_time_zone: Stat };
  events_per_sample: number;
  rounds: number;
  /** Batches the stand-in collector answered 200, and the events they held. */
  requests_received: number;
  events_received: number;
  /** Events the harness asked the SDK to record (track and page calls, plus one page view per load). */
  events_tracked: number;
  /** Whether the page was cross-origin isolated, and the smallest step of performance.now() seen there. */
  cross_origin_isolated: boolean;
  timer_resolution_us: number;
  seconds: number;
}

/** The SDK's default batch size (client-sdk/src/index.ts): a burst of this many ends in one send. */
const BATCH = 20;
/** SPA navigations per round (one batch of page views). */
const NAVIGATIONS = 20;
/** flush() samples per round, each of a freshly queued batch of 20. */
const FLUSHES = 10;
/** The longest any wait in the page may take before the run fails rather than hangs. */
const DRAIN_MS = 30_000;
const LOAD_MS = 15_000;

const DIST = join(__dirname, '..', 'client-sdk', 'dist');
// The same flags as test/support/browser.ts: Debian's Chromium, headless, nothing fetched in the background.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/**
 * The page's own code, plain JavaScript as a site would write it (a string, so no transpiler
 * helper leaks into the page). Every loop is bounded by count; every wait by DRAIN_MS.
 */
const HARNESS = `
window.bench = (() => {
  const now = () => performance.now();
  const noop = () => {};
  const call = (f, i) => f('track', 'add_to_cart', { item: 'margherita', price: 12.5, qty: i });
  // The SDK keeps unsent events (queued or in flight) under cs_q.<tab>: none left = all acknowledged.
  const pending = () => {
    for (let i = 0; i < localStorage.length; i++) if ((localStorage.key(i) || '').startsWith('cs_q.')) return true;
    return false;
  };
  const until = async (ok, what) => {
    const end = now() + ${DRAIN_MS};
    while (!ok()) {
      if (now() > end) throw new Error('the SDK did not ' + what + ' within ${DRAIN_MS} ms');
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  const drained = () => until(() => !pending(), 'get its queued events acknowledged');
  return {
    /** After init: the tab owns its storage key (the init page view is stored), then that page view is sent and acknowledged. */
    async ready() {
      await until(() => !!(window.clickstream && window.clickstream.init) && pending(), 'load and store its first page view');
      clickstream('flush');
      await drained();
      return { isolated: self.crossOriginIsolated === true };
    },
    /** n calls in bursts of one batch, waiting for each batch's answer; us per call. */
    async spread(sdk, n) {
      const f = sdk ? window.clickstream : noop;
      let ms = 0;
      for (let done = 0; done < n; ) {
        const k = Math.min(${BATCH}, n - done);
        const t = now();
        for (let i = 0; i < k; i++) call(f, done + i);
        ms += now() - t;
        done += k;
        if (sdk) await drained();
      }
      return (ms * 1000) / n;
    },
    /** n calls in one task; us per call. */
    async burst(sdk, n) {
      const f = sdk ? window.clickstream : noop;
      const t = now();
      for (let i = 0; i < n; i++) call(f, i);
      const us = ((now() - t) * 1000) / n;
      if (sdk) await drained();
      return us;
    },
    /** k times: queue one batch, time flush(); us per flush. */
    async flushes(k) {
      let ms = 0;
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < ${BATCH}; i++) call(window.clickstream, i);
        const t = now();
        clickstream('flush');
        ms += now() - t;
        await drained();
      }
      return (ms * 1000) / k;
    },
    /** k SPA navigations: pushState, then the page view recorded at once; us per step. */
    async navigations(k) {
      let push = 0;
      let page = 0;
      for (let j = 0; j < k; j++) {
        const a = now();
        history.pushState(null, '', '/nav/' + j + '?from=bench');
        const b = now();
        clickstream('page');
        page += now() - b;
        push += b - a;
      }
      // Let the SDK's 100 ms navigation timer fire (a no-op now: the URL is already recorded).
      await new Promise((r) => setTimeout(r, 150));
      clickstream('flush');
      await drained();
      return { push_us: (push * 1000) / k, page_us: (page * 1000) / k };
    },
    /** Browser work the SDK calls, timed alone (k calls in one block): us per call. */
    reference(k) {
      const block = (f) => {
        const t = now();
        for (let j = 0; j < k; j++) f(j);
        return ((now() - t) * 1000) / k;
      };
      // The SDK replaces history.pushState on the instance; the prototype's is the browser's own.
      const native = History.prototype.pushState;
      return {
        push_us: block((j) => native.call(history, null, '', '/ref/' + j)),
        tz_us: block(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
      };
    },
    /** Smallest step of performance.now() (us): 5 when cross-origin isolated, 100 otherwise. */
    resolution() {
      let best = Infinity;
      for (let j = 0; j < 20; j++) {
        const a = now();
        let b = a;
        for (let spin = 0; b === a && spin < 1e7; spin++) b = now();
        if (b > a) best = Math.min(best, b - a);
      }
      return best * 1000;
    },
  };
})();
`;

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

/** The stand-in collector: 200 to every POST, with CORS for the SDK's cross-origin text/plain fetch. */
async function startCollector(): Promise<Listening & { requests: () => number; events: () => number }> {
  let requests = 0;
  let events = 0;
  const server = await listen((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (req.method == 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST');
      res.setHeader('access-control-allow-headers', 'content-type');
      return void res.writeHead(204).end();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let n = 0;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: unknown };
        n = Array.isArray(body.events) ? body.events.length : 0;
      } catch {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"body is not JSON"}');
      }
      requests++;
      events += n;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: n, rejected: [] }));
    });
  });
  return { ...server, requests: () => requests, events: () => events };
}

/**
 * The test page at any path: the real loader snippet pointing at `?build=`, `clickstream('init')`
 * with the collector and `?opts=` merged in, and the harness. COOP/COEP make it cross-origin
 * isolated, which gives performance.now() its fine resolution; the SDK's CORS fetch still works.
 */
async function startPageServer(endpoint: string): Promise<Listening> {
  const loader = readFileSync(join(DIST, 'loader.min.js'), 'utf8').trim();
  const sdk = Object.fromEntries(Object.entries(BUILDS).map(([b, f]) => [b, readFileSync(join(DIST, f), 'utf8')])) as Record<Build, string>;
  return listen((req, res) => {
    const u = new URL(req.url || '/', 'http://x');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    res.setHeader('cache-control', 'no-store');
    const js = /^\/sdk\/(full|core)\.js$/.exec(u.pathname);
    if (js) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk[js[1] as Build]);
    const build: Build = u.searchParams.get('build') == 'core' ? 'core' : 'full';
    const opts = { endpoint, siteId: 'bench', ...(JSON.parse(u.searchParams.get('opts') || '{}') as object) };
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>SDK cost</title>
<script>${loader.replace('"/sdk/clickstream.min.js"', JSON.stringify(`/sdk/${build}.js`))}
clickstream('init', ${JSON.stringify(opts)});</script>
<script>${HARNESS}</script></head><body><h1>SDK cost</h1></body></html>`);
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const stat = (xs: number[]): Stat => ({ median: round2(median(xs)), min: round2(Math.min(...xs)), max: round2(Math.max(...xs)) });

/**
 * Runs the measurement and returns its figures; throws when Chromium or the SDK build is missing.
 * @example
 * const cost = await runSdkCost({ rounds: 3, log: console.error });
 * console.log(cost.builds.full.track_us.median);
 */
export async function runSdkCost(opts: { log?: (s: string) => void; rounds?: number } = {}): Promise<SdkCost> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds ?? 9;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`rounds must be an integer from 1 to 100, not ${rounds}`);
  const n = 1000;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  for (const f of ['loader.min.js', ...Object.values(BUILDS)]) {
    if (!existsSync(join(DIST, f))) throw new Error(`client-sdk/dist/${f} is missing: run npm run build:sdk first`);
  }

  const samples = {
    full: { track: [] as number[], burst: [] as number[], flush: [] as number[], push: [] as number[], page: [] as number[] },
    core: { track: [] as number[], burst: [] as number[], flush: [] as number[], push: [] as number[], page: [] as number[] },
  };
  const baseline: number[] = [];
  const baselineBurst: number[] = [];
  const nativePush: number[] = [];
  const timeZone: number[] = [];
  let tracked = 0;
  let isolated = true;
  let resolution = Infinity;

  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  let pages: Listening | undefined;
  let browser: Browser | undefined;
  try {
    collector = await startCollector();
    pages = await startPageServer(`${collector.url}/v1/events`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const b = browser;
    const base = pages.url;
    log(`sdk-cost: Chromium ${b.version()}, ${rounds} rounds x ${n} events per build`);

    /** A fresh context (empty localStorage) with the page loaded and its first page view acknowledged. */
    const open = async <T>(build: Build, extra: object | undefined, body: (p: Page) => Promise<T>): Promise<T> => {
      const ctx = await b.newContext();
      try {
        const p = await ctx.newPage();
        const q = `build=${build}${extra ? `&opts=${encodeURIComponent(JSON.stringify(extra))}` : ''}`;
        await p.goto(`${base}/?${q}`, { timeout: LOAD_MS });
        const r = (await p.evaluate('bench.ready()')) as { isolated: boolean };
        isolated &&= r.isolated;
        tracked++; // the page view every load records
        return await body(p);
      } finally {
        await ctx.close().catch(() => {});
      }
    };

    for (let r = 0; r < rounds; r++) {
      // Alternate the order so drift in the machine's load does not always favour one build.
      const order: Build[] = r % 2 ? ['core', 'full'] : ['full', 'core'];
      for (const build of order) {
        const s = samples[build];
        await open(build, undefined, async (p) => {
          resolution = Math.min(resolution, (await p.evaluate('bench.resolution()')) as number);
          if (build == 'full') {
            baseline.push((await p.evaluate(`bench.spread(false, ${n})`)) as number);
            baselineBurst.push((await p.evaluate(`bench.burst(false, ${n})`)) as number);
          }
          s.track.push((await p.evaluate(`bench.spread(true, ${n})`)) as number);
          s.burst.push((await p.evaluate(`bench.burst(true, ${n})`)) as number);
          const ref = (await p.evaluate(`bench.reference(${NAVIGATIONS})`)) as { push_us: number; tz_us: number };
          nativePush.push(ref.push_us);
          timeZone.push(ref.tz_us);
          const nav = (await p.evaluate(`bench.navigations(${NAVIGATIONS})`)) as { push_us: number; page_us: number };
          s.push.push(nav.push_us);
          s.page.push(nav.page_us);
          tracked += 2 * n + NAVIGATIONS;
        });
        // Only here is batchSize not the default: 21, so 20 queued events wait for flush().
        await open(build, { batchSize: BATCH + 1 }, async (p) => {
          s.flush.push((await p.evaluate(`bench.flushes(${FLUSHES})`)) as number);
          tracked += FLUSHES * BATCH;
        });
        log(
          `sdk-cost: round ${r + 1}/${rounds} ${build}: track ${s.track.at(-1)!.toFixed(1)} us, burst ${s.burst.at(-1)!.toFixed(1)} us, ` +
            `flush ${s.flush.at(-1)!.toFixed(1)} us, pushState ${s.push.at(-1)!.toFixed(1)} us, page ${s.page.at(-1)!.toFixed(1)} us`,
        );
      }
    }

    const cost = (build: Build): BuildCost => {
      const s = samples[build];
      return { track_us: stat(s.track), track_burst_us: stat(s.burst), flush_us: stat(s.flush), push_state_us: stat(s.push), page_view_us: stat(s.page) };
    };
    return {
      chromium_version: b.version(),
      builds: { full: cost('full'), core: cost('core') },
      baseline_us: stat(baseline),
      baseline_burst_us: stat(baselineBurst),
      reference_us: { native_push_state: stat(nativePush), intl_time_zone: stat(timeZone) },
      events_per_sample: n,
      rounds,
      requests_received: collector.requests(),
      events_received: collector.events(),
      events_tracked: tracked,
      cross_origin_isolated: isolated,
      timer_resolution_us: round2(resolution),
      seconds: round2((performance.now() - started) / 1000),
    };
  } finally {
    await browser?.close().catch(() => {});
    pages?.close();
    collector?.close();
  }
}

if (require.main === module) {
  const arg = process.argv.indexOf('--rounds');
  runSdkCost({ rounds: arg > 0 ? Number(process.argv[arg + 1]) : undefined, log: (s) => process.stderr.write(`${s}\n`) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`sdk-cost: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

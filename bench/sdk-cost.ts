/**
 * What the browser SDK costs the host page's main thread per tracked event, measured in real
 * headless Chromium (Debian's /usr/bin/chromium through playwright-core). No local stack: a tiny
 * page server on 127.0.0.1 serves the real loader snippet and the built IIFE
 * (client-sdk/dist/clickstream.min.js, then clickstream.core.min.js), and a second server stands in
 * for the collector, answering every batch 200 `{"accepted":N,"rejected":[]}` so sends succeed, and
 * counting the events each page delivered: a loop waits for its events to reach the collector (and,
 * for our SDK, to leave its localStorage outbox) before the next burst.
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
 * The anchors: Plausible's tracker (plausible-tracker), Snowplow's browser tracker
 * (@snowplow/browser-tracker) and Umami's tracker (the umami package's src/tracker/index.js), taken
 * from the npm registry into a temporary folder (bench/anchors.ts; never package.json), bundled by
 * esbuild for the browser, on the same pages, same collector, same calls: one custom event named
 * add_to_cart with the same three properties, in the same track and burst loops. Each tracker is
 * set up as its documentation shows, with its default options (Plausible `trackLocalhost`, since
 * the pages are on 127.0.0.1; Snowplow's custom event is a self-describing event, its recommended
 * form). The collector counts every event each tracker delivered, so a tracker that silently drops
 * events (and would look cheap) shows up as `events_received` < `events_tracked`.
 *
 *   npx tsx bench/sdk-cost.ts [--rounds N] [--no-anchors]   (needs `npm run build:sdk` first)
 */
import { mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../local/chromium';
import { npm, npmInstall } from './anchors';
import { median, type Stat } from './pipeline';

export const BUILDS = { full: 'clickstream.min.js', core: 'clickstream.core.min.js' } as const;
export type Build = keyof typeof BUILDS;

/** The other trackers measured beside ours: npm package, and how a site sets each up (its docs' typical use). */
export const ANCHOR_TRACKERS = {
  plausible: {
    pkg: 'plausible-tracker',
    entry:
      "import Plausible from 'plausible-tracker'; const p = Plausible({ domain: 'bench.example', apiHost: window.BENCH_COLLECTOR, trackLocalhost: true }); p.trackPageview(); window.benchTrack = (name, props) => p.trackEvent(name, { props });",
  },
  snowplow: {
    pkg: '@snowplow/browser-tracker',
    entry:
      "import { newTracker, trackPageView, trackSelfDescribingEvent } from '@snowplow/browser-tracker'; newTracker('sp', window.BENCH_COLLECTOR, { appId: 'bench' }); trackPageView(); window.benchTrack = (name, props) => trackSelfDescribingEvent({ event: { schema: 'iglu:com.example/' + name + '/jsonschema/1-0-0', data: props } });",
  },
  // Not a library: the ready script from the package, loaded as sites do (a script tag with
  // data-website-id and data-host-url); it records its own page view on load.
  umami: { pkg: 'umami', file: 'src/tracker/index.js' },
} as const;
export type Anchor = keyof typeof ANCHOR_TRACKERS;
type Tracker = Build | Anchor;

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

export interface AnchorCost {
  package: string;
  version: string;
  /** The same two loops as `track_us` and `track_burst_us` of our builds, with this tracker's event call. */
  track_us: Stat;
  track_burst_us: Stat;
  events_tracked: number;
  events_received: number;
}

export interface SdkCost {
  chromium_version: string;
  builds: Record<Build, BuildCost>;
  /** Other trackers in the same harness; an entry with `error` could not be fetched or run. */
  anchors: Partial<Record<Anchor, AnchorCost | { package: string; error: string }>>;
  /** Our full build's track() over Plausible's, taken within each round, then the median [min-max]. */
  track_us_ratio_vs_plausible?: number;
  track_us_ratio_vs_plausible_rounds?: Stat;
  /** Our full build, per call, 1,000 calls in one task (= builds.full.track_burst_us.median). */
  burst_us_per_call: number;
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
  /** Batches our SDK's pages sent that the stand-in collector answered 200, and the events they held. */
  requests_received: number;
  events_received: number;
  /** Events the harness asked our SDK to record (track and page calls, plus one page view per load). */
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
const DRAIN_MS = 60_000;
const LOAD_MS = 15_000;

const DIST = join(__dirname, '..', 'client-sdk', 'dist');
const ARGS = CHROMIUM_ARGS;

/**
 * The page's own code, plain JavaScript as a site would write it (a string, so no transpiler
 * helper leaks into the page). Every loop is bounded by count; every wait by DRAIN_MS.
 * `window.BENCH` (set by the page) says which tracker the page carries and where its collector counts.
 */
const HARNESS = `
window.bench = (() => {
  const now = () => performance.now();
  const noop = () => {};
  const ours = window.BENCH.ours;
  // The same event for every tracker: our queue function takes the method name first.
  const call = ours
    ? (f, i) => f('track', 'add_to_cart', { item: 'margherita', price: 12.5, qty: i })
    : (f, i) => f('add_to_cart', { item: 'margherita', price: 12.5, qty: i });
  const tracker = () => (ours ? window.clickstream : window.benchTrack);
  // Events recorded on this page (its page view included), against those the collector counted.
  let expected = 1;
  let received = 0;
  const count = async () => {
    const r = await fetch(window.BENCH.count, { cache: 'no-store' });
    received = Number(await r.text());
    return received;
  };
  // Our SDK keeps unsent events (queued or in flight) under cs_q.<tab>: none left = all acknowledged.
  const outboxEmpty = () => {
    if (!ours) return true;
    for (let i = 0; i < localStorage.length; i++) if ((localStorage.key(i) || '').startsWith('cs_q.')) return false;
    return true;
  };
  const until = async (ok, what) => {
    const end = now() + ${DRAIN_MS};
    while (!(await ok())) {
      if (now() > end) throw new Error('the tracker did not ' + what + ' within ${DRAIN_MS} ms (' + received + ' of ' + expected + ' events counted)');
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const drained = () => until(async () => outboxEmpty() && (await count()) >= expected, 'deliver its events');
  return {
    /** After load: the tracker is there, and its page view (recorded at init) has been delivered. */
    async ready() {
      await until(async () => !!tracker() && (!ours || !!(window.clickstream && window.clickstream.init)), 'load');
      if (ours) clickstream('flush');
      await drained();
      return { isolated: self.crossOriginIsolated === true, received };
    },
    received: () => count(),
    /** n calls in bursts of one batch, waiting for each batch's delivery; us per call. */
    async spread(sdk, n) {
      const f = sdk ? tracker() : noop;
      let ms = 0;
      for (let done = 0; done < n; ) {
        const k = Math.min(${BATCH}, n - done);
        const t = now();
        for (let i = 0; i < k; i++) call(f, done + i);
        ms += now() - t;
        done += k;
        if (sdk) { expected += k; await drained(); }
      }
      return (ms * 1000) / n;
    },
    /** n calls in one task; us per call. */
    async burst(sdk, n) {
      const f = sdk ? tracker() : noop;
      const t = now();
      for (let i = 0; i < n; i++) call(f, i);
      const us = ((now() - t) * 1000) / n;
      if (sdk) { expected += n; await drained(); }
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
        expected += ${BATCH};
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
      expected += k;
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

/** Events in one request body as each tracker sends them (ours: events[]; Snowplow: data[]; Plausible, Umami: one). */
export function eventsInBody(body: unknown): number {
  if (body && typeof body === 'object') {
    const b = body as { events?: unknown; data?: unknown };
    if (Array.isArray(b.events)) return b.events.length;
    if (Array.isArray(b.data)) return b.data.length;
  }
  return 1;
}

/**
 * The stand-in collector: 200 to every POST under /p/<page>/..., with CORS for cross-origin
 * requests (credentials too: Snowplow sends them), counting each page's events; GET /count/<page>
 * returns that page's count.
 */
async function startCollector(): Promise<Listening & { requests: (prefix: string) => number; events: (prefix: string) => number }> {
  const requests = new Map<string, number>();
  const events = new Map<string, number>();
  const sum = (m: Map<string, number>, prefix: string) => [...m].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
  const server = await listen((req, res) => {
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'origin');
    }
    const path = new URL(req.url || '/', 'http://x').pathname;
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'POST, GET');
      res.setHeader('access-control-allow-headers', String(req.headers['access-control-request-headers'] ?? 'content-type'));
      res.setHeader('access-control-max-age', '600');
      return void res.writeHead(204).end();
    }
    const counted = /^\/count\/([\w-]+)$/.exec(path);
    if (req.method === 'GET' && counted)
      return void res
        .writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
        .end(String(events.get(counted[1]!) ?? 0));
    const page = /^\/p\/([\w-]+)\//.exec(path)?.[1];
    if (req.method !== 'POST' || !page) return void res.writeHead(404).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let n = 0;
      try {
        n = eventsInBody(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"body is not JSON"}');
      }
      requests.set(page, (requests.get(page) ?? 0) + 1);
      events.set(page, (events.get(page) ?? 0) + n);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: n, rejected: [] }));
    });
  });
  return { ...server, requests: (prefix) => sum(requests, prefix), events: (prefix) => sum(events, prefix) };
}

interface AnchorBundle {
  version: string;
  code: string;
}

/**
 * Fetches the anchors from the npm registry into a temporary folder and bundles each for the
 * browser (IIFE, minified, as sites ship them). A tracker that cannot be fetched or bundled is
 * returned with its error, not left out silently.
 */
export async function prepareAnchors(
  log: (s: string) => void = () => {},
): Promise<Partial<Record<Anchor, AnchorBundle | { error: string }>>> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-sdk-cost-anchors-'));
  const out: Partial<Record<Anchor, AnchorBundle | { error: string }>> = {};
  try {
    writeFileSync(join(dir, 'package.json'), '{"private":true}');
    for (const [name, spec] of Object.entries(ANCHOR_TRACKERS) as [Anchor, (typeof ANCHOR_TRACKERS)[Anchor]][]) {
      try {
        let entry: string;
        let version: string;
        if ('file' in spec) {
          // Only the tarball: the umami app's own dependencies are not needed to read its tracker.
          const tgz = npm(['pack', spec.pkg, '--silent', '--pack-destination', dir], dir).trim().split('\n').pop()!;
          const unpacked = join(dir, `${name}-package`);
          execFileSync('mkdir', ['-p', unpacked]);
          execFileSync('tar', ['-xzf', join(dir, tgz), '-C', unpacked, '--strip-components=1']);
          version = (JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as { version: string }).version;
          entry = join(unpacked, spec.file);
        } else {
          npmInstall([spec.pkg], dir);
          version = (JSON.parse(readFileSync(join(dir, 'node_modules', spec.pkg, 'package.json'), 'utf8')) as { version: string }).version;
          entry = join(dir, `${name}-entry.mjs`);
          writeFileSync(entry, spec.entry);
        }
        const r = await build({
          entryPoints: [entry],
          bundle: true,
          minify: true,
          format: 'iife',
          platform: 'browser',
          target: 'es2020',
          write: false,
          logLevel: 'silent',
          legalComments: 'none',
          define: { 'process.env.NODE_ENV': '"production"' },
          absWorkingDir: dir,
        });
        out[name] = { version, code: r.outputFiles.map((f) => f.text).join('\n') };
        log(`sdk-cost: anchor ${spec.pkg}@${version} bundled (${out[name]!.code.length.toLocaleString('en-US')} B minified)`);
      } catch (e) {
        const msg = (e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message;
        out[name] = { error: msg.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 400) };
        log(`sdk-cost: anchor ${spec.pkg} FAILED: ${(out[name] as { error: string }).error}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * The test page at any path: `?tracker=full|core` our loader snippet pointing at that build, with
 * `clickstream('init')` (collector endpoint and `?opts=` merged in); `?tracker=<anchor>` that
 * tracker's bundle set up as its docs show. Every page carries the harness and counts under its own
 * `?page=` id at the collector. COOP/COEP make it cross-origin isolated, which gives
 * performance.now() its fine resolution; CORS fetches still work.
 */
async function startPageServer(collector: string, anchors: Partial<Record<Anchor, AnchorBundle>>): Promise<Listening> {
  const loader = readFileSync(join(DIST, 'loader.min.js'), 'utf8').trim();
  const sdk = Object.fromEntries(Object.entries(BUILDS).map(([b, f]) => [b, readFileSync(join(DIST, f), 'utf8')])) as Record<Build, string>;
  return listen((req, res) => {
    const u = new URL(req.url || '/', 'http://x');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    res.setHeader('cache-control', 'no-store');
    const js = /^\/sdk\/(full|core)\.js$/.exec(u.pathname);
    if (js) return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk[js[1] as Build]);
    const anchorJs = /^\/anchor\/(\w+)\.js$/.exec(u.pathname);
    if (anchorJs) {
      const a = anchors[anchorJs[1] as Anchor];
      return void (a ? res.writeHead(200, { 'content-type': 'text/javascript' }).end(a.code) : res.writeHead(404).end());
    }
    const tracker = (u.searchParams.get('tracker') || 'full') as Tracker;
    const page = (u.searchParams.get('page') || 'x').replace(/[^\w-]/g, '');
    const base = `${collector}/p/${page}`;
    const bench = { ours: tracker === 'full' || tracker === 'core', count: `${collector}/count/${page}` };
    let setup: string;
    if (bench.ours) {
      const opts = { endpoint: `${base}/v1/events`, siteId: 'bench', ...(JSON.parse(u.searchParams.get('opts') || '{}') as object) };
      setup = `<script>${loader.replace('"/sdk/clickstream.min.js"', JSON.stringify(`/sdk/${tracker}.js`))}
clickstream('init', ${JSON.stringify(opts)});</script>`;
    } else if (tracker === 'umami') {
      setup = `<script defer data-website-id="5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f" data-host-url="${base}" src="/anchor/umami.js"></script>
<script>window.benchTrack = (name, props) => window.umami && window.umami.track(name, props);</script>`;
    } else {
      setup = `<script>window.BENCH_COLLECTOR = ${JSON.stringify(base)};</script><script src="/anchor/${tracker}.js"></script>`;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html><head><title>SDK cost</title>
<script>window.BENCH = ${JSON.stringify(bench)};</script>
${setup}
<script>${HARNESS}</script></head><body><h1>SDK cost</h1></body></html>`);
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const stat = (xs: number[]): Stat => ({ median: round2(median(xs)), min: round2(Math.min(...xs)), max: round2(Math.max(...xs)) });

/**
 * Runs the measurement and returns its figures; throws when Chromium or the SDK build is missing.
 * `anchors: false` skips the other trackers (no registry needed).
 * @example
 * const cost = await runSdkCost({ rounds: 3, log: console.error });
 * console.log(cost.builds.full.track_us.median, cost.track_us_ratio_vs_plausible);
 */
export async function runSdkCost(opts: { log?: (s: string) => void; rounds?: number; anchors?: boolean } = {}): Promise<SdkCost> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds ?? 9;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100) throw new Error(`rounds must be an integer from 1 to 100, not ${rounds}`);
  const n = 1000;
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  for (const f of ['loader.min.js', ...Object.values(BUILDS)]) {
    if (!existsSync(join(DIST, f))) throw new Error(`client-sdk/dist/${f} is missing: run npm run build:sdk first`);
  }

  const prepared = opts.anchors === false ? {} : await prepareAnchors(log);
  const bundles = Object.fromEntries(Object.entries(prepared).filter(([, v]) => v && !('error' in v))) as Partial<
    Record<Anchor, AnchorBundle>
  >;
  const anchorNames = Object.keys(bundles) as Anchor[];

  const samples = {
    full: { track: [] as number[], burst: [] as number[], flush: [] as number[], push: [] as number[], page: [] as number[] },
    core: { track: [] as number[], burst: [] as number[], flush: [] as number[], push: [] as number[], page: [] as number[] },
  };
  const anchorSamples = Object.fromEntries(
    anchorNames.map((a) => [a, { track: [] as number[], burst: [] as number[], tracked: 0 }]),
  ) as Record<Anchor, { track: number[]; burst: number[]; tracked: number }>;
  const ratios: number[] = [];
  const baseline: number[] = [];
  const baselineBurst: number[] = [];
  const nativePush: number[] = [];
  const timeZone: number[] = [];
  let tracked = 0;
  let isolated = true;
  let resolution = Infinity;
  let pageSeq = 0;

  let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
  let pages: Listening | undefined;
  let browser: Browser | undefined;
  try {
    collector = await startCollector();
    pages = await startPageServer(collector.url, bundles);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const b = browser;
    const base = pages.url;
    log(
      `sdk-cost: Chromium ${b.version()}, ${rounds} rounds x ${n} events per tracker (ours: full, core${anchorNames.length ? `; anchors: ${anchorNames.join(', ')}` : ''})`,
    );

    /** A fresh context (empty storage) with the page loaded and its first page view delivered. */
    const open = async <T>(tracker: Tracker, extra: object | undefined, body: (p: Page) => Promise<T>): Promise<T> => {
      const ctx = await b.newContext();
      const page = `${tracker}-${++pageSeq}`;
      try {
        const p = await ctx.newPage();
        const q = `tracker=${tracker}&page=${page}${extra ? `&opts=${encodeURIComponent(JSON.stringify(extra))}` : ''}`;
        await p.goto(`${base}/?${q}`, { timeout: LOAD_MS });
        const r = (await p.evaluate('bench.ready()')) as { isolated: boolean };
        isolated &&= r.isolated;
        return await body(p);
      } finally {
        await ctx.close().catch(() => {});
      }
    };

    for (let r = 0; r < rounds; r++) {
      // Rotate the order so drift in the machine's load does not always favour one tracker.
      const all: Tracker[] = ['full', 'core', ...anchorNames];
      const order = all.map((_, i) => all[(i + r) % all.length]!);
      const roundTrack: Partial<Record<Tracker, number>> = {};
      for (const tracker of order) {
        if (tracker === 'full' || tracker === 'core') {
          const s = samples[tracker];
          await open(tracker, undefined, async (p) => {
            tracked++; // the page view every load records
            resolution = Math.min(resolution, (await p.evaluate('bench.resolution()')) as number);
            if (tracker === 'full') {
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
          await open(tracker, { batchSize: BATCH + 1 }, async (p) => {
            tracked++;
            s.flush.push((await p.evaluate(`bench.flushes(${FLUSHES})`)) as number);
            tracked += FLUSHES * BATCH;
          });
          roundTrack[tracker] = s.track.at(-1)!;
          log(
            `sdk-cost: round ${r + 1}/${rounds} ${tracker}: track ${s.track.at(-1)!.toFixed(1)} us, burst ${s.burst.at(-1)!.toFixed(1)} us, ` +
              `flush ${s.flush.at(-1)!.toFixed(1)} us, pushState ${s.push.at(-1)!.toFixed(1)} us, page ${s.page.at(-1)!.toFixed(1)} us`,
          );
        } else {
          const a = anchorSamples[tracker];
          await open(tracker, undefined, async (p) => {
            a.tracked++;
            a.track.push((await p.evaluate(`bench.spread(true, ${n})`)) as number);
            a.burst.push((await p.evaluate(`bench.burst(true, ${n})`)) as number);
            a.tracked += 2 * n;
          });
          roundTrack[tracker] = a.track.at(-1)!;
          log(
            `sdk-cost: round ${r + 1}/${rounds} ${tracker}: track ${a.track.at(-1)!.toFixed(1)} us, burst ${a.burst.at(-1)!.toFixed(1)} us`,
          );
        }
      }
      if (roundTrack.full !== undefined && roundTrack.plausible) ratios.push(roundTrack.full / roundTrack.plausible);
    }

    const cost = (build: Build): BuildCost => {
      const s = samples[build];
      return {
        track_us: stat(s.track),
        track_burst_us: stat(s.burst),
        flush_us: stat(s.flush),
        push_state_us: stat(s.push),
        page_view_us: stat(s.page),
      };
    };
    const anchorsOut: SdkCost['anchors'] = {};
    for (const [name, v] of Object.entries(prepared) as [Anchor, AnchorBundle | { error: string }][]) {
      const pkg = ANCHOR_TRACKERS[name].pkg;
      if ('error' in v) {
        anchorsOut[name] = { package: pkg, error: v.error };
        continue;
      }
      const a = anchorSamples[name];
      anchorsOut[name] = {
        package: pkg,
        version: v.version,
        track_us: stat(a.track),
        track_burst_us: stat(a.burst),
        events_tracked: a.tracked,
        events_received: collector.events(`${name}-`),
      };
    }
    const full = cost('full');
    return {
      chromium_version: b.version(),
      builds: { full, core: cost('core') },
      anchors: anchorsOut,
      ...(ratios.length ? { track_us_ratio_vs_plausible: round2(median(ratios)), track_us_ratio_vs_plausible_rounds: stat(ratios) } : {}),
      burst_us_per_call: full.track_burst_us.median,
      baseline_us: stat(baseline),
      baseline_burst_us: stat(baselineBurst),
      reference_us: { native_push_state: stat(nativePush), intl_time_zone: stat(timeZone) },
      events_per_sample: n,
      rounds,
      requests_received: collector.requests('full-') + collector.requests('core-'),
      events_received: collector.events('full-') + collector.events('core-'),
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
  runSdkCost({
    rounds: arg > 0 ? Number(process.argv[arg + 1]) : undefined,
    anchors: !process.argv.includes('--no-anchors'),
    log: (s) => process.stderr.write(`${s}\n`),
  }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`sdk-cost: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

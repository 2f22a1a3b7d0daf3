/**
 * Issue 12: with DEFAULT options, nothing a visitor tracks is lost while the collector fails, and
 * little is sent twice while it does not. Real headless Chromium against the real local stack, with
 * real socket failures from a TCP proxy in front of the stack's API (test/support/browser.ts
 * startFaultProxy): 'refuse' cuts each connection as it is accepted, 'hang' accepts and never
 * answers, and the stack's own fault switch makes every Firehose call fail, so the API answers 503.
 * Not DevTools' offline emulation: a closing page's keepalive request can escape it.
 *
 * Each scenario is a visitor of its own (a fresh browser profile): short page views (under the
 * 5 s flush interval, so a page's events leave at page hide), then recovery and one more page.
 * Expected events: every event the SDK ever wrote to its outbox in localStorage (an init script
 * records their ids beside it, under test_seen.<page>), plus, by name, every custom event tracked
 * and one page view per page load, in case an event never reached storage. Each must be stored at
 * least once; duplicates are counted and printed (at-least-once: the queries count each event_id
 * once).
 */
import type { BrowserContext, Page } from 'playwright-core';
import {
  canRunBrowser,
  CHROMIUM,
  launchBrowser,
  outboxEmpty,
  startFaultProxy,
  startPageServer,
  until,
  type Browser,
  type FaultProxy,
  type PageServer,
} from '../support/browser';
import { startLocalStack, type LocalStack } from '../support/stack';

if (!canRunBrowser) console.warn(`SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install -y chromium). Under CI they always run.`);
const suite = canRunBrowser ? describe : describe.skip;

type Row = Record<string, unknown>;
/** Time the visitor spends on a page (the scenario, not a wait for the SDK). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A short page view: well under the 5 s flush interval, so only page hide sends what it tracked. */
const DWELL_MS = 700;
/** Runs of the healthy visit (OUTAGE_HEALTHY_RUNS); docs/sdk.md quotes a run of 10. */
const HEALTHY_RUNS = Number(process.env.OUTAGE_HEALTHY_RUNS || 1);
/**
 * OUTAGE_TRACE=<file>: a debug hook for hunting a loss (issue 12). Each page logs, in its own
 * localStorage key test_trace.<page>, every read and write of outbox keys (cs_q.*) and markers
 * (sessionStorage) and every Web Lock grant, with the time; the tests that call dumpTrace() append
 * the merged log to the file. Off by default: the SDK under test is the shipped one, untouched.
 */
const TRACE = process.env.OUTAGE_TRACE;

/** Runs in each page (an init script): wraps Storage and navigator.locks to log into test_trace.<page>. */
function traceStorage() {
  const me = `${location.pathname}#${Math.random().toString(36).slice(2, 6)}`;
  const log: string[] = [];
  const { getItem, setItem, removeItem } = Storage.prototype;
  const ids = (v: string | null) => {
    try {
      const x = JSON.parse(v!) as { event_id?: string; type?: string; name?: string }[] | { t: number; i: string[] } | null;
      if (Array.isArray(x)) return `[${x.map((e) => `${e.name || e.type}:${e.event_id!.slice(-6)}`).join(' ')}]`;
      return x ? `marker{i:${x.i.map((i) => i.slice(-6)).join(' ')}}` : 'null';
    } catch {
      return String(v);
    }
  };
  const note = (what: string) => {
    log.push(`${(performance.timeOrigin + performance.now()).toFixed(1)} ${me} ${what}`);
    setItem.call(localStorage, `test_trace.${me}`, JSON.stringify(log));
  };
  const where = (s: Storage) => (s === localStorage ? 'L' : 'S');
  const ours = (k: string) => k.startsWith('cs_q.');
  Storage.prototype.getItem = function (this: Storage, k: string) {
    const v = getItem.call(this, k);
    if (ours(k)) note(`get ${where(this)} ${k.slice(-6)} ${ids(v)}`);
    return v;
  };
  Storage.prototype.setItem = function (this: Storage, k: string, v: string) {
    if (ours(k)) note(`set ${where(this)} ${k.slice(-6)} ${ids(v)}`);
    return setItem.call(this, k, v);
  };
  Storage.prototype.removeItem = function (this: Storage, k: string) {
    if (ours(k)) note(`del ${where(this)} ${k.slice(-6)}`);
    return removeItem.call(this, k);
  };
  const request = navigator.locks.request.bind(navigator.locks) as (n: string, f: () => unknown) => Promise<unknown>;
  (navigator.locks as { request: unknown }).request = (name: string, f: () => unknown) => {
    if (ours(name)) note(`lock? ${name.slice(-6)}`);
    return request(name, () => {
      if (ours(name)) note(`lock! ${name.slice(-6)}`);
      return f();
    });
  };
  for (const e of ['pageswap', 'pagehide', 'visibilitychange', 'pageshow'])
    addEventListener(e, () => note(`${e}${e === 'visibilitychange' ? ` ${document.visibilityState}` : ''}`), true);
  note(
    `start keys=${Object.keys(localStorage)
      .filter(ours)
      .map((k) => k.slice(-6))}`,
  );
}

suite('browser SDK with default options through outages (real Chromium, real socket failures)', () => {
  jest.setTimeout(180_000);
  let stack: LocalStack;
  let proxy: FaultProxy;
  let pages: PageServer;
  const open: Browser[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 1 });
    proxy = await startFaultProxy(stack.apiUrl);
    pages = await startPageServer(stack);
  }, 120_000);

  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
    proxy.set('pass');
    await stack.setFaults({});
  });

  afterAll(async () => {
    pages?.close();
    proxy?.close();
    await stack?.stop();
  });

  /**
   * One visitor: a fresh profile whose pages record every event id the SDK puts in its outbox.
   * `noPageswap`: as a browser without pageswap (Firefox, Safari before 18.2): the page does not
   * have `onpageswap` and the SDK never sees the event (a listener ahead of it stops it).
   */
  async function visitor(noPageswap = false): Promise<BrowserContext> {
    const b = await launchBrowser();
    open.push(b);
    if (noPageswap)
      await b.ctx.addInitScript(() => {
        // An own, configurable property of the window in Chromium (a [Global] interface's attribute).
        delete (window as { onpageswap?: unknown }).onpageswap;
        addEventListener('pageswap', (e) => e.stopImmediatePropagation(), true);
      });
    await b.ctx.addInitScript(() => {
      const mine = `test_seen.${Math.random().toString(36).slice(2)}`;
      const seen = new Set<string>();
      const setItem = Storage.prototype.setItem;
      Storage.prototype.setItem = function (this: Storage, k: string, v: string) {
        if (this === localStorage && k.startsWith('cs_q.')) {
          const before = seen.size;
          for (const e of JSON.parse(v) as { event_id: string }[]) seen.add(e.event_id);
          if (seen.size > before) setItem.call(this, mine, JSON.stringify([...seen]));
        }
        return setItem.call(this, k, v);
      };
    });
    if (TRACE) await b.ctx.addInitScript(traceStorage);
    return b.ctx;
  }

  /** Default options; only the endpoint differs, so that it goes through the proxy. */
  const url = (name: string) =>
    `${pages.url}/t/${name}.html?opts=${encodeURIComponent(JSON.stringify({ endpoint: `${proxy.url}/v1/events` }))}`;
  const loads = new WeakMap<BrowserContext, number>();

  /** Opens (or navigates `p` to) a page and waits for the SDK to be running on it. */
  async function visit(ctx: BrowserContext, name: string, p?: Page): Promise<Page> {
    p ??= await ctx.newPage();
    await p.goto(url(name));
    await p.waitForFunction(() => !!window.clickstream?.init, undefined, { timeout: 10_000 });
    loads.set(ctx, (loads.get(ctx) || 0) + 1);
    return p;
  }

  const track = (p: Page, names: string[]) =>
    p.evaluate((n) => {
      for (const x of n) window.clickstream('track', x);
    }, names);
  const names = (prefix: string, n = 3) => Array.from({ length: n }, (_, i) => `${prefix}_${i}`);
  const aidOf = async (p: Page) => {
    await p.waitForFunction(() => !!localStorage.getItem('cs_aid'), undefined, { timeout: 5000 });
    return p.evaluate(() => JSON.parse(localStorage.getItem('cs_aid')!) as string);
  };
  const rowsOf = async (aid: string): Promise<Row[]> => {
    await stack.flush();
    return (await stack.readEvents()).filter((r) => r.anonymous_id === aid);
  };
  /** Waits until the visitor's first page view is stored: from here on the SDK has seen a healthy answer. */
  async function healthy(p: Page): Promise<void> {
    const aid = await aidOf(p);
    await until(
      async () => (await rowsOf(aid)).some((r) => r.type === 'page_view'),
      15_000,
      () => 'the first page view was not stored',
      200,
    );
    // And answered: the row is stored before its answer is back, and the proxy cuts open
    // connections when an outage starts. An answer cut that way is a failure to the page, which
    // then waits out a backoff and, by design, sends nothing at page hide; a test about the
    // page-hide send then sees none (a clean-clone CI run under load did).
    await until(
      () => outboxEmpty(p),
      15_000,
      () => 'the page did not get the answer to its first batch',
      100,
    );
  }

  interface Outcome {
    events: number;
    missing: string[];
    extraRows: number;
    /** name (or type) of each event stored more than once, with its count */
    twice: string[];
    /** the page (path) of each event stored more than once */
    twicePages: string[];
  }

  /**
   * After recovery, on the visitor's live page `p`: waits (bounded) until every expected event is
   * stored and the outbox is empty, then compares. `tracked`: custom event names.
   */
  async function settle(ctx: BrowserContext, p: Page, tracked: string[], ms = 60_000): Promise<Outcome> {
    const aid = await aidOf(p);
    const seenIds = () =>
      p.evaluate(() => [
        ...new Set(
          Object.keys(localStorage)
            .filter((k) => k.startsWith('test_seen.'))
            .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
        ),
      ]);
    const missingOf = (rows: Row[], ids: string[]) => {
      const stored = new Set(rows.map((r) => String(r.event_id)));
      const names = new Set(rows.map((r) => String(r.name)));
      const views = rows.filter((r) => r.type === 'page_view').map((r) => String(r.event_id));
      return [
        ...ids.filter((id) => !stored.has(id)).map((id) => `event ${id}`),
        ...tracked.filter((n) => !names.has(n)).map((n) => `custom ${n}`),
        ...(new Set(views).size < loads.get(ctx)! ? [`${loads.get(ctx)! - new Set(views).size} page views`] : []),
      ];
    };
    let rows: Row[] = [];
    let ids: string[] = [];
    // Not met within `ms`: the outcome below says what is missing.
    await until(
      async () => {
        ids = await seenIds();
        rows = await rowsOf(aid);
        return !missingOf(rows, ids).length && (await outboxEmpty(p));
      },
      ms,
      undefined,
      250,
    );
    const counts = new Map<unknown, Row[]>();
    for (const r of rows) counts.set(r.event_id, [...(counts.get(r.event_id) || []), r]);
    const dup = [...counts.values()].filter((x) => x.length > 1);
    const twice = dup.map((x) => `${x[0]!.name || x[0]!.type} x${x.length}`);
    const twicePages = [...new Set(dup.map((x) => new URL(String(x[0]!.url)).pathname))];
    return { events: counts.size, missing: missingOf(rows, ids), extraRows: rows.length - counts.size, twice, twicePages };
  }

  /** With OUTAGE_TRACE set: appends the pages' merged storage log (read through the live page `p`) and the outcome. */
  async function dumpTrace(p: Page, what: string, o: Outcome) {
    if (!TRACE) return;
    const lines = await p.evaluate(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith('test_trace.'))
        .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
    );
    lines.sort((x, y) => Number.parseFloat(x) - Number.parseFloat(y));
    const { appendFileSync } = await import('node:fs');
    appendFileSync(
      TRACE,
      `=== ${what} ${new Date().toISOString()} missing: ${o.missing.join(', ') || 'none'}; twice: ${o.twice.join(', ') || 'none'}\n${lines.join('\n')}\n`,
    );
  }

  const report = (what: string, o: Outcome) =>
    console.log(
      `${what}: ${o.events} events stored, ${o.extraRows} extra rows (${o.twice.join(', ') || 'no duplicates'}), missing: ${o.missing.length ? o.missing.join(', ') : 'none'}`,
    );

  /**
   * Page A healthy (its page view stored), then `fail`, three pages, recovery, one more page. Pages
   * b and d are short; c is read past the flush interval, so that it sends into the failure even
   * where pageswap keeps the short pages from sending as they go.
   */
  async function outageOverPages(
    fail: () => Promise<void> | void,
    recover: () => Promise<void> | void,
    tag: string,
    noPageswap = false,
  ): Promise<Outcome> {
    const ctx = await visitor(noPageswap);
    const p = await visit(ctx, 'a');
    await healthy(p);
    const tracked: string[] = [];
    const step = async (n: string[]) => {
      tracked.push(...n);
      await track(p, n);
    };
    await step(names(`${tag}_a`));
    await fail();
    for (const page of ['b', 'c', 'd']) {
      await visit(ctx, page, p);
      await step(names(`${tag}_${page}`));
      await sleep(page === 'c' ? 6000 : DWELL_MS);
    }
    await recover();
    await visit(ctx, 'e', p);
    const o = await settle(ctx, p, tracked);
    report(tag, o);
    return o;
  }

  it('an outage (connections refused) spanning several short page views loses nothing', async () => {
    const o = await outageOverPages(
      () => proxy.set('refuse'),
      () => proxy.set('pass'),
      'refused',
    );
    expect(proxy.accepted.refuse).toBeGreaterThan(0);
    expect(o.missing).toEqual([]);
  });

  it('the same outage in a browser without pageswap (every page hide sends) loses nothing', async () => {
    const o = await outageOverPages(
      () => proxy.set('refuse'),
      () => proxy.set('pass'),
      'refused_noswap',
      true,
    );
    expect(proxy.accepted.refuse).toBeGreaterThan(0);
    expect(o.missing).toEqual([]);
  });

  it('a hung endpoint (connections accepted, never answered) while the visitor navigates loses nothing', async () => {
    const o = await outageOverPages(
      () => proxy.set('hang'),
      () => proxy.set('pass'),
      'hung',
    );
    expect(proxy.accepted.hang).toBeGreaterThan(0);
    expect(o.missing).toEqual([]);
  });

  it('a 5xx storm (every Firehose call failing, the API answering 503) over several short page views loses nothing', async () => {
    const o = await outageOverPages(
      () => stack.setFaults({ serverError: 1 }),
      () => stack.setFaults({}),
      'storm',
    );
    expect(o.missing).toEqual([]);
  });

  it('a tab closed during an outage loses nothing when the site is opened again later', async () => {
    const ctx = await visitor();
    const a = await visit(ctx, 'a');
    await healthy(a);
    proxy.set('refuse');
    const tracked = names('closed');
    await track(a, tracked);
    // The closing page's page-hide send meets the refusal before the endpoint comes back.
    const refusedBefore = proxy.accepted.refuse;
    await a.close();
    await until(
      () => proxy.accepted.refuse > refusedBefore,
      10_000,
      () => 'the closing page sent nothing at page hide',
    );
    proxy.set('pass');
    await sleep(1000); // the site opened again later
    const b = await visit(ctx, 'b');
    const o = await settle(ctx, b, tracked);
    report('closed', o);
    expect(proxy.accepted.refuse).toBeGreaterThan(0);
    expect(o.missing).toEqual([]);
  });

  it('two tabs during an outage lose nothing, whichever closes or navigates', async () => {
    const ctx = await visitor();
    const a = await visit(ctx, 'a1');
    const b = await visit(ctx, 'b1');
    await healthy(a);
    proxy.set('refuse');
    const tracked = [...names('two_a1'), ...names('two_b1'), ...names('two_a2')];
    await track(a, names('two_a1'));
    await track(b, names('two_b1'));
    await visit(ctx, 'a2', a);
    await track(a, names('two_a2'));
    await sleep(DWELL_MS);
    await b.close();
    await sleep(DWELL_MS);
    proxy.set('pass');
    await visit(ctx, 'a3', a);
    const o = await settle(ctx, a, tracked);
    report('two tabs', o);
    await dumpTrace(a, 'two tabs', o);
    expect(o.missing).toEqual([]);
  });

  it('a second tab closed during an outage loses nothing, beside a tab the endpoint had just answered', async () => {
    // The other tab's page heard an acknowledgement moments before the close, so the full build's
    // rule (delivery.ts adopt()) does judge the closed tab's page-hide send: its own send just
    // after (refused) must make it send those events again.
    const ctx = await visitor();
    const m = await visit(ctx, 'm1');
    await healthy(m);
    const s = await visit(ctx, 's1');
    const tracked = [...names('side_out_s'), ...names('side_out_m', 1)];
    await track(s, names('side_out_s'));
    await sleep(DWELL_MS);
    proxy.set('refuse');
    await track(m, names('side_out_m', 1));
    const refusedBefore = proxy.accepted.refuse;
    await s.close();
    // The closed page's send and the other page's own send meet the refusal
    await until(
      () => proxy.accepted.refuse >= refusedBefore + 2,
      10_000,
      () => `${proxy.accepted.refuse - refusedBefore} refused connections after the close, expected 2`,
    );
    proxy.set('pass');
    const o = await settle(ctx, m, tracked);
    report('side tab in an outage', o);
    await dumpTrace(m, 'side tab in an outage', o);
    expect(o.missing).toEqual([]);
  });

  it("events tracked as the page goes, in the same task or in the site's own page-hide handlers, are kept during an outage", async () => {
    const ctx = await visitor();
    const a = await visit(ctx, 'a');
    await healthy(a);
    // The site's own handlers: leaving a page fires pagehide, then visibilitychange, each reaching the
    // SDK's capturing listener first. An event tracked in the site's visibilitychange handler comes
    // after the SDK's last page-hide write: only the end-of-task write keeps it.
    await a.evaluate(() => {
      addEventListener('pagehide', () => window.clickstream('track', 'site_pagehide'));
      document.addEventListener('visibilitychange', () => document.hidden && window.clickstream('track', 'site_hidden'));
    });
    proxy.set('refuse');
    const tracked = [...names('same_task', 5), 'site_pagehide', 'site_hidden'];
    await a.evaluate(
      (n) => {
        for (const x of n) window.clickstream('track', x);
        location.href = location.href.replace('/t/a.html', '/t/b.html');
      },
      names('same_task', 5),
    );
    await a.waitForURL(/\/t\/b\.html/);
    loads.set(ctx, loads.get(ctx)! + 1);
    await a.waitForFunction(() => !!window.clickstream?.init, undefined, { timeout: 10_000 });
    await sleep(DWELL_MS);
    proxy.set('pass');
    await visit(ctx, 'c', a);
    const o = await settle(ctx, a, tracked);
    report('same task', o);
    expect(o.missing).toEqual([]);
  });

  /**
   * One visitor in one tab: short pages (one batch each, sent at page hide), a page read past the
   * flush interval, single-page-app navigations. Runs OUTAGE_HEALTHY_RUNS times.
   */
  async function healthyVisit(run: number, sideTab: boolean, noPageswap = false): Promise<Outcome> {
    const ctx = await visitor(noPageswap);
    const p = await visit(ctx, 'h1');
    const tracked: string[] = [];
    const step = async (page: Page, n: string[]) => {
      tracked.push(...n);
      await track(page, n);
    };
    for (const [i, name] of ['h2', 'h3', 'h4', 'h5'].entries()) {
      await step(p, names(`healthy${run}_${i}`));
      await sleep(DWELL_MS);
      await visit(ctx, name, p);
    }
    await step(p, names(`healthy${run}_long`, 4));
    await sleep(6000);
    for (const i of [1, 2]) {
      await p.evaluate((i) => history.pushState({}, '', `?spa=${i}`), i);
      loads.set(ctx, loads.get(ctx)! + 1);
      await step(p, names(`healthy${run}_spa${i}`, 2));
      await sleep(DWELL_MS);
    }
    if (sideTab) {
      const side = await visit(ctx, 'side');
      await step(side, names(`healthy${run}_side`));
      await sleep(DWELL_MS);
      await side.close();
    }
    for (const [i, name] of ['h6', 'h7', 'h8'].entries()) {
      await step(p, names(`healthy${run}_late${i}`));
      await sleep(DWELL_MS);
      await visit(ctx, name, p);
    }
    const o = await settle(ctx, p, tracked);
    await open.pop()!.close();
    return o;
  }

  const figures = (what: string, per100: number[]) => {
    const sorted = [...per100].sort((x, y) => x - y);
    console.log(
      `${what}: extra rows per 100 events over ${per100.length} runs: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}, ` +
        `min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)} (${per100.map((x) => x.toFixed(1)).join(', ')})`,
    );
  };

  it('a healthy multi-page visit stores at most 5 extra rows per 100 events', async () => {
    const per100: number[] = [];
    for (let run = 0; run < HEALTHY_RUNS; run++) {
      const o = await healthyVisit(run, false);
      report(`healthy visit ${run + 1}`, o);
      expect(o.missing).toEqual([]);
      per100.push((o.extraRows / o.events) * 100);
    }
    figures('healthy visit, one tab', per100);
    for (const x of per100) expect(x).toBeLessThanOrEqual(5);
  });

  it('the healthy visit in a browser without pageswap stores at most 5 extra rows per 100 events too', async () => {
    const per100: number[] = [];
    for (let run = 0; run < HEALTHY_RUNS; run++) {
      const o = await healthyVisit(run, false, true);
      report(`healthy visit without pageswap ${run + 1}`, o);
      expect(o.missing).toEqual([]);
      per100.push((o.extraRows / o.events) * 100);
    }
    figures('healthy visit, one tab, without pageswap', per100);
    for (const x of per100) expect(x).toBeLessThanOrEqual(5);
  });

  it('a second tab closed during a healthy visit stores at most 5 extra rows per 100 events', async () => {
    const per100: number[] = [];
    for (let run = 0; run < HEALTHY_RUNS; run++) {
      const o = await healthyVisit(run, true);
      report(`healthy visit with a side tab ${run + 1}`, o);
      expect(o.missing).toEqual([]);
      per100.push((o.extraRows / o.events) * 100);
      // The closed tab's page-hide batch (its page view, its three custom events and its engagement
      // event: where pageswap lets the first batch wait, the side page sent nothing before it went)
      // is taken by the other tab, which heard the endpoint acknowledge just before the close and
      // again just after (delivery.ts adopt()), so it is not sent again; the core build sends it
      // again (5 rows). Nothing else is sent twice.
      expect(o.twicePages.filter((x) => x !== '/t/side.html')).toEqual([]);
    }
    figures('healthy visit with a side tab closed', per100);
    for (const x of per100) expect(x).toBeLessThanOrEqual(5);
  });
});

/**
 * The SDK's delivery promise, measured (LONG_TESTS=1, `npm run test:long`): events tracked while
 * the network or the endpoint fails, then the tab closes; the visitor's next page load must deliver
 * them, once. Real Chromium against the real local stack: 1,000 tries by default
 * (SDK_DELIVERY_TRIES) alternating the first two ways to fail, plus SDK_DELIVERY_FIRST_TRIES (20)
 * of each of the last two:
 *
 *   offline        the browser is offline (navigator.onLine false) when the tab closes
 *   failing        the endpoint answers 503 (Firehose stand-in failing every call); the SDK has
 *                  already seen a failure before the tab closes
 *   failing-first  the endpoint fails and the tab closes before the SDK has seen any failure: the
 *                  page-hide batch stays stored and the next page drops it only once it knows the
 *                  send was acknowledged (the hand-off in client-sdk/src/index.ts send()); this
 *                  case lost most of its events before that hand-off, so it stays measured.
 *   failing-first-acked  the same with `keepUntilAcked: true`: the next page sends the batch again
 *                  whatever the answer was (a duplicate in the raw rows, counted once by the queries).
 *
 * Target (shared/design.md): >= 99.9 % delivered on the next page load. Each try's events carry
 * their try number in the name, so delivery and duplicates are counted from the stored rows.
 */
import type { BrowserContext, Page, Response } from 'playwright-core';
import { canRunBrowser, launchBrowser, startPageServer, type Browser, type PageServer } from '../support/browser';
import { startLocalStack, type LocalStack } from '../support/stack';
import { recordFigures } from './workloads';

const long = process.env.LONG_TESTS && canRunBrowser ? describe : describe.skip;
const TRIES = Number(process.env.SDK_DELIVERY_TRIES ?? 1_000);
const FIRST_TRIES = Number(process.env.SDK_DELIVERY_FIRST_TRIES ?? 20);
const EVENTS_PER_TRY = 3;
/** How long the next page load gets to deliver a try's events. */
const DELIVERY_WAIT_MS = 10_000;
const MODES = ['offline', 'failing', 'failing-first', 'failing-first-acked'] as const;
type Mode = (typeof MODES)[number];
/** Tries whose case turned out different from the one planned (see 'failing'). */
const actual = new Map<number, Mode>();

long('SDK delivery across tab closes (real Chromium)', () => {
  jest.setTimeout(3_600_000);
  let stack: LocalStack;
  let pages: PageServer;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 2 });
    pages = await startPageServer(stack);
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    pages?.close();
    await stack?.stop();
  });

  // No automatic page views: the only events are the ones each try makes, so the SDK has seen no
  // answer at all before a 'failing-first' tab closes.
  // 'failing-first' gets a long flush interval so that nothing is sent before the tab closes.
  const url = (flushInterval = 200, keepUntilAcked = false) =>
    `${pages.url}/t/try.html?opts=${encodeURIComponent(JSON.stringify({ pageviews: false, engagement: false, flushInterval, keepUntilAcked }))}`;
  const api = () => `${stack.demoUrl}/v1/events`; // config.js: the local edge, on the demo's origin

  async function open(ctx: BrowserContext, flushInterval?: number, keepUntilAcked?: boolean): Promise<Page> {
    const p = await ctx.newPage();
    await p.goto(url(flushInterval, keepUntilAcked));
    await p.waitForFunction(() => typeof window.clickstream?.init === 'function', undefined, { timeout: 10_000 });
    return p;
  }

  const track = (p: Page, names: string[], flush: boolean) =>
    p.evaluate(
      ([n, f]) => {
        for (const x of n as string[]) window.clickstream('track', x);
        if (f) window.clickstream('flush');
      },
      [names, flush] as const,
    );

  /** Resolves when `p` has had an answer from the API matching `ok`, or after `ms`. */
  function answered(ctx: BrowserContext, match: (r: Response) => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const onResponse = (r: Response) => {
        if (r.url() === api() && match(r)) finish(true);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        ctx.off('response', onResponse);
        resolve(v);
      };
      ctx.on('response', onResponse);
    });
  }

  async function attempt(ctx: BrowserContext, i: number, mode: Mode): Promise<void> {
    const names = Array.from({ length: EVENTS_PER_TRY }, (_, k) => `try${i}_${k}`);
    const t0 = Date.now();
    const first = mode.startsWith('failing-first');
    const p = await open(ctx, first ? 60_000 : undefined, mode === 'failing-first-acked');
    if (mode === 'offline') {
      await ctx.setOffline(true);
      await track(p, names, true);
    } else {
      await stack.setFaults({ serverError: 1 });
      if (mode === 'failing') {
        // This case is defined by the page having seen the failure: under load the handler's own
        // retries can take a while, so wait for that answer (bounded) rather than guess.
        const failed = answered(ctx, (r) => r.status() >= 500, 30_000);
        await track(p, names.slice(0, 1), true);
        // Not seen in time: the page is in the 'failing-first' case, and is counted there.
        if (!(await failed)) actual.set(i, 'failing-first');
        await track(p, names.slice(1), false);
      } else {
        await track(p, names, false);
      }
    }
    // A closed page's keepalive request outlives it: keep the endpoint failing until that request
    // has had its answer, or the stand-in would recover in time to store it.
    const closedAnswer = first ? answered(ctx, (r) => r.status() >= 500, 8_000) : undefined;
    await p.close();
    // undefined when there is nothing to wait for
    await closedAnswer;
    await ctx.setOffline(false);
    await stack.setFaults({});
    // The next page load adopts the closed tab's leftovers and sends them.
    const delivered = answered(ctx, (r) => r.status() === 200 && (r.request().postData() ?? '').includes(`"try${i}_`), DELIVERY_WAIT_MS);
    const next = await open(ctx);
    const ok = await delivered;
    // A visitor does not close the tab within milliseconds of an answer: let the page read it (its
    // stored queue empties) before closing, or the in-flight batch is persisted and sent again.
    await next
      .waitForFunction(
        () => !Object.keys(localStorage).some((k) => k.startsWith('cs_q.') && (localStorage.getItem(k) ?? '').includes('"try')),
        undefined,
        { timeout: 5_000 },
      )
      .catch(() => {});
    await next.close();
    if (process.env.SDK_DELIVERY_DEBUG) console.log(i, mode, ok, Date.now() - t0, 'ms');
  }

  test(`${TRIES} tries: events tracked while failing, then the tab closes, arrive on the next page load`, async () => {
    const planned = (i: number): Mode => (i < TRIES ? MODES[i % 2]! : i < TRIES + FIRST_TRIES ? 'failing-first' : 'failing-first-acked');
    const total = TRIES + 2 * FIRST_TRIES;
    for (let i = 0; i < total; i++) await attempt(browser.ctx, i, planned(i));
    const modeOf = (i: number): Mode => actual.get(i) ?? planned(i);

    await new Promise((r) => setTimeout(r, 2_000)); // answers still on the wire
    await stack.flush();
    const stored = new Map<string, number>();
    for (const row of await stack.readEvents()) {
      const n = row.name;
      if (typeof n === 'string' && n.startsWith('try')) stored.set(n, (stored.get(n) ?? 0) + 1);
    }
    const figures = Object.fromEntries(
      MODES.map((mode) => {
        let events = 0,
          delivered = 0,
          duplicated = 0;
        for (let i = 0; i < total; i++) {
          if (modeOf(i) !== mode) continue;
          for (let k = 0; k < EVENTS_PER_TRY; k++) {
            const c = stored.get(`try${i}_${k}`) ?? 0;
            events++;
            if (c > 0) delivered++;
            if (c > 1) duplicated++;
          }
        }
        return [
          mode,
          {
            events,
            delivered,
            duplicated_in_raw_rows: duplicated,
            delivered_pct: events ? Math.round((delivered / events) * 10_000) / 100 : null,
          },
        ];
      }),
    );
    recordFigures('sdk-delivery', {
      tries: TRIES,
      failing_first_tries: FIRST_TRIES,
      failing_unseen_tries: actual.size,
      events_per_try: EVENTS_PER_TRY,
      ...figures,
    });
    console.log('sdk-delivery', JSON.stringify(figures));

    // The promise holds where the SDK can know the send failed, or keeps the batch until it knows;
    // default 'failing-first' is measured and reported.
    for (const mode of ['offline', 'failing', 'failing-first-acked'] as const)
      expect(figures[mode]!.delivered_pct).toBeGreaterThanOrEqual(99.9);
  });
});

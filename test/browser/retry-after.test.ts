/**
 * The server's Retry-After reaches the SDK in a cross-origin page through the path it takes on AWS:
 * the handler sets it on a 503, and API Gateway (here its local stand-in, which applies
 * serverless.yml's CORS and drops the handler's own CORS headers, as API Gateway does) lets a page
 * read it only because `exposedResponseHeaders` lists it. The stack runs with retryAfterSeconds=4,
 * far above the SDK's own first backoff (0.5-1 s): the next attempt waiting 4 s is the proof.
 */
import type { Request, Response } from 'playwright-core';
import { canRunBrowser, CHROMIUM, launchBrowser, startPageServer, until, type Browser, type PageServer } from '../support/browser';
import { eventually, startLocalStack, type LocalStack } from '../support/stack';

if (!canRunBrowser) console.warn(`SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install -y chromium). Under CI they always run.`);
const suite = canRunBrowser ? describe : describe.skip;

const RETRY_AFTER_S = 4;

suite('Retry-After through the local API Gateway', () => {
  jest.setTimeout(90_000);
  let stack: LocalStack;
  let pages: PageServer;
  let browser: Browser | undefined;

  beforeAll(async () => {
    // Every Firehose call fails, so the handler answers 503 + Retry-After until the faults are lifted.
    stack = await startLocalStack({
      bufferSeconds: 1,
      faults: { serverError: 1 },
      env: { LOCAL_PARAMS: `retryAfterSeconds=${RETRY_AFTER_S}` },
    });
    pages = await startPageServer(stack);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    pages?.close();
    await stack?.stop();
  });

  test('after a 503, the SDK waits the Retry-After the server sent, then delivers once', async () => {
    browser = await launchBrowser();
    const page = await browser.ctx.newPage();
    const api = `${stack.demoUrl}/v1/events`; // config.js: the local edge, on the demo's origin
    const sends: { at: number; request: Request }[] = [];
    const answers: { at: number; status: number; retryAfter?: string }[] = [];
    page.on('request', (r) => {
      if (r.url() === api && r.method() === 'POST') sends.push({ at: Date.now(), request: r });
    });
    page.on('response', (r: Response) => {
      if (r.url() === api && r.request().method() === 'POST')
        answers.push({ at: Date.now(), status: r.status(), retryAfter: r.headers()['retry-after'] });
    });
    // The page's origin (127.0.0.1:<port>) differs from the edge's (127.0.0.1:<demo port>): CORS applies.
    // A short flush interval: after a failure the SDK sends again at the later of its next flush and
    // the retry time, so only an interval below Retry-After lets the wait show Retry-After's effect.
    await page.goto(`${pages.url}/t/retry.html?opts=${encodeURIComponent(JSON.stringify({ flushInterval: 200 }))}`);
    await page.waitForFunction(() => typeof (window as { clickstream?: unknown }).clickstream === 'function');
    await page.evaluate(() => {
      const w = window as unknown as { clickstream: (...a: unknown[]) => void };
      w.clickstream('track', 'retry_after_probe', {});
      w.clickstream('flush');
    });
    await page.waitForFunction(() => !!localStorage.getItem('cs_aid'), undefined, { timeout: 5000 });
    const aid = await page.evaluate(() => JSON.parse(localStorage.getItem('cs_aid') as string) as string);

    // The first answer: a 503 carrying the configured Retry-After.
    await until(
      () => answers.length >= 1,
      20_000,
      () => `no answer: ${JSON.stringify(answers)}`,
    );
    expect(answers[0]).toMatchObject({ status: 503, retryAfter: String(RETRY_AFTER_S) });
    await stack.setFaults({});
    await until(
      () => sends.length >= 2,
      30_000,
      () => `no second send; answers ${JSON.stringify(answers)}`,
    );

    // The retry came no sooner than Retry-After (timers fire late, never early: 100 ms for clock
    // granularity between Node and Chromium), and well after the SDK's own backoff alone.
    expect(sends[1]!.at - answers[0]!.at).toBeGreaterThanOrEqual(RETRY_AFTER_S * 1000 - 100);

    const stored = await eventually(
      async () => {
        await stack.flush();
        return (await stack.readEvents()).filter((r) => r.anonymous_id === aid && r.name === 'retry_after_probe');
      },
      (r) => r.length >= 1,
    );
    expect(stored).toHaveLength(1);
  });
});

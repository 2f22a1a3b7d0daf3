/**
 * The deploy's snippet, first-party, in real Chromium: a site page (its own origin, as
 * www.example.com) pastes the SdkSnippet output of serverless.yml with the edge's origin filled in
 * (here the local edge, local/edge.ts, standing in for t.example.com): the script loads by its
 * content-hashed name with its SRI integrity, and events go to /v1/events on the same edge origin.
 * A script whose bytes do not match the integrity is refused by the browser, and the page's calls
 * still never throw.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { canRunBrowser, CHROMIUM, launchBrowser, type Browser } from '../support/browser';
import { eventually, startLocalStack, type LocalStack } from '../support/stack';

if (!canRunBrowser) console.warn(`SKIPPING browser tests: ${CHROMIUM} is missing (apt-get install -y chromium). Under CI they always run.`);
const suite = canRunBrowser ? describe : describe.skip;

const root = join(__dirname, '..', '..');

/** The edge branch of serverless.yml's SdkSnippet output, as written there (Fn::Sub template). */
function snippetTemplate(): string {
  const doc = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
    resources: { Outputs: { SdkSnippet: { Value: unknown } } };
  };
  const found = JSON.stringify(doc.resources.Outputs.SdkSnippet.Value).match(
    /"(<script>[^"\\]*(?:\\.[^"\\]*)*s\.integrity=[^"\\]*(?:\\.[^"\\]*)*)"/,
  );
  if (!found) throw new Error('serverless.yml SdkSnippet has no edge branch with an integrity');
  return JSON.parse(`"${found[1]}"`) as string;
}

/** The snippet as the deploy fills it in: edge origin, hashed path and integrity from the build's manifest. */
function snippet(edge: string, integrity?: string): string {
  const manifest = JSON.parse(readFileSync(join(root, 'client-sdk', 'dist', 'manifest.json'), 'utf8')) as {
    files: Record<string, { file: string; integrity: string }>;
  };
  const full = manifest.files['clickstream.min.js']!;
  return snippetTemplate()
    .replaceAll('${Edge}', edge)
    .replace('${file(./scripts/cfn-edge.js):sdkPath}', `/sdk/${full.file}`)
    .replace('${file(./scripts/cfn-edge.js):sdkIntegrity}', integrity ?? full.integrity)
    .replace('${file(./scripts/cfn-athena.js):firstSiteId}', 'demo');
}

suite("the deploy's snippet through the edge (local edge)", () => {
  jest.setTimeout(90_000);
  let stack: LocalStack;
  let site: Server;
  let siteUrl: string;
  let browser: Browser | undefined;
  let html: string;

  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 1 });
    site = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  }, 120_000);
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  afterAll(async () => {
    site?.closeAllConnections();
    site?.close();
    await stack?.stop();
  });

  test('loads the hashed script with its integrity from the edge and delivers to /v1/events on that origin', async () => {
    expect(snippetTemplate()).toContain('s.crossOrigin="anonymous"');
    html = `<!doctype html><html><head><title>shop</title>${snippet(stack.demoUrl)}</head><body>shop</body></html>`;
    browser = await launchBrowser();
    const p = await browser.ctx.newPage();
    const scripts: { url: string; status: number }[] = [];
    const posts: string[] = [];
    p.on('response', (r) => {
      if (r.url().includes('/sdk/')) scripts.push({ url: r.url(), status: r.status() });
    });
    p.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });
    await p.goto(`${siteUrl}/`);
    await p.waitForFunction(() => typeof (window as { clickstream?: { init?: unknown } }).clickstream?.init === 'function', undefined, {
      timeout: 10_000,
    });
    await p.evaluate(() => {
      const w = window as unknown as { clickstream: (...a: unknown[]) => void };
      w.clickstream('track', 'edge_probe', {});
      w.clickstream('flush');
    });
    await p.waitForFunction(() => !!localStorage.getItem('cs_aid'), undefined, { timeout: 5000 });
    const aid = await p.evaluate(() => JSON.parse(localStorage.getItem('cs_aid') as string) as string);
    expect(scripts).toEqual([
      { url: expect.stringMatching(new RegExp(`^${stack.demoUrl}/sdk/clickstream\\.[0-9a-f]{16}\\.min\\.js$`)), status: 200 },
    ]);
    const stored = await eventually(
      async () => {
        await stack.flush();
        return (await stack.readEvents()).filter((r) => r.anonymous_id === aid && r.name === 'edge_probe');
      },
      (r) => r.length >= 1,
    );
    expect(stored).toHaveLength(1);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((u) => u === `${stack.demoUrl}/v1/events`)).toBe(true);
  });

  test("a script that does not match the integrity is not run, and the page's calls still do not throw", async () => {
    html = `<!doctype html><html><head><title>shop</title>${snippet(stack.demoUrl, 'sha384-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')}</head><body>shop</body></html>`;
    browser = await launchBrowser();
    const p = await browser.ctx.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    // The browser refuses a script whose integrity does not match with an error event on the element
    // (W3C SRI, "Handle integrity violation"): wait for that rather than for a while.
    await p.addInitScript(() => {
      addEventListener(
        'error',
        (e) => {
          if ((e.target as Element).tagName === 'SCRIPT') (window as { sdkRefused?: boolean }).sdkRefused = true;
        },
        true,
      );
    });
    const loaded = p.waitForResponse((r) => r.url().includes('/sdk/'));
    await p.goto(`${siteUrl}/`);
    expect((await loaded).status()).toBe(200);
    await p.waitForFunction(() => (window as { sdkRefused?: boolean }).sdkRefused, undefined, { timeout: 10_000 });
    const state = await p.evaluate(() => {
      const w = window as unknown as { clickstream: ((...a: unknown[]) => void) & { init?: unknown; q?: unknown[] } };
      w.clickstream('track', 'after_block', {});
      return { sdkRan: typeof w.clickstream.init === 'function', queued: w.clickstream.q?.length ?? 0 };
    });
    expect(state).toEqual({ sdkRan: false, queued: 2 });
    expect(errors).toEqual([]);
  });
});

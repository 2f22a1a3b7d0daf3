/**
 * Where the real Chromium is: Debian's /usr/bin/chromium, driven through playwright-core
 * (`npx playwright install` cannot download browsers here), or CHROMIUM_PATH. Shared by the browser
 * tests (test/support/browser.ts) and the browser benchmarks (bench/), which must not import test/.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Launch flags for headless Debian Chromium: no sandbox (containers), nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

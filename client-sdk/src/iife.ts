/**
 * The script-tag build: replaces the loader's stub `window.clickstream(method, ...args)` with the
 * real one and replays the calls queued before the script arrived.
 */
import { consent, flush, identify, init, page, reset, track } from './index';

// A plain object, not `import * as`: esbuild would add a getter-defining helper for a namespace.
const api = { init, page, track, identify, consent, flush, reset };

type Call = [keyof typeof api, ...unknown[]];
type Global = { clickstream?: ((...a: Call) => void) & { q?: ArrayLike<unknown>[]; init?: unknown } };

const stub = (window as unknown as Global).clickstream;
// Unknown methods are ignored; own-property check so "constructor" or "toString" call nothing.
const call = (m: Call[0], ...a: unknown[]) => {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is missing in Chrome 80 and Safari 14 (build.mjs targets); api is our own plain object.
  if (api.hasOwnProperty(m)) (api[m] as (...x: unknown[]) => void)(...a);
};
// A second copy of the script on the page must not start a second tracker.
if (!stub?.init) {
  (window as unknown as Global).clickstream = Object.assign(call, api);
  // Each queued call is the stub's `arguments` object, which is iterable.
  for (const a of stub?.q || []) call(...(a as unknown as Call));
}

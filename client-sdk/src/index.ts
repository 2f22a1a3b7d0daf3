/**
 * clickstream-js: batches events, retries with backoff, keeps unsent events in localStorage
 * across page loads and tabs, flushes on page hide. Zero dependencies; every public function is
 * wrapped so nothing ever throws into the host page. This module is the public API and the page
 * observers (page views, SPA navigation, engagement, clicks, page hide); the queue, sends, retries
 * and storage are in delivery.ts.
 */
import type { ClickstreamEvent } from '../../schema/event';
import {
  anonymousId,
  config,
  forgetVisitor,
  identifyAs,
  leavingForSite,
  now,
  frozen,
  pageHidden,
  record,
  rescan,
  resume,
  retryNow,
  safe,
  send,
  setConsent,
  startDelivery,
} from './delivery';
import { campaignOf } from './session';

type Event = ClickstreamEvent;
type Scalar = string | number | boolean | null;
/** Event properties: flat, scalar values or arrays of scalars (wire contract v1). */
export type Properties = Record<string, Scalar | Scalar[]>;
export type ConsentState = 'granted' | 'denied' | 'pending';

export interface Options {
  /** Full URL of the collector, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/v1/events`. */
  endpoint: string;
  /** Your site id, as on the server's allowlist. */
  siteId: string;
  /** Send when this many events are queued (default 20). */
  batchSize?: number;
  /** Send queued events after at most this many ms (default 5000). */
  flushInterval?: number;
  /** Automatic page views, including single-page-app navigations (default true). */
  pageviews?: boolean;
  /** Automatic click tracking of links, buttons and `[data-cs-name]` elements (default false). */
  clicks?: boolean;
  /** Engagement time and scroll depth on page hide (default true). */
  engagement?: boolean;
  /** Keep everything in memory and send nothing until `consent('granted')` (default false). */
  requireConsent?: boolean;
  /** Honour Global Privacy Control and Do Not Track: track nothing when set (default true). */
  respectDnt?: boolean;
  /** Share of visitors tracked, 0..1, decided from the anonymous id (default 1). */
  sampleRate?: number;
  /** Store nothing in the browser: ids live in memory for this page only (default false). */
  cookieless?: boolean;
  /**
   * Always send a page-hide batch again from the next page load (default false). A closed page never
   * reads the answer to what it sent as it closed, so those events stay stored either way; by
   * default the next page of the same tab drops them when the endpoint answered just before and just
   * after (see docs/sdk.md, Delivery). On, every one is sent twice: duplicates (the queries count
   * each event_id once) in exchange for no reliance on that inference.
   */
  keepUntilAcked?: boolean;
}

let lastUrl = '';
let pageViewTimer: ReturnType<typeof setTimeout> | undefined;
// Engagement on the current page view: visible time before the current visible stretch, when that
// stretch started (0 while hidden), what has been reported, the deepest scroll in %.
let visibleMs = 0;
let visibleSince = 0;
let reportedMs = 0;
let scrollDepth = 0;
/** The browser's time zone, looked up once: a new Intl.DateTimeFormat per event was most of track()'s cost. */
let timeZone = '';

// Capture, so a site's stopPropagation() cannot hide an event from us. None of these events is one a
// passive listener speeds up (touch, wheel): scroll is not cancelable, and click is never prevented.
const on = (target: EventTarget, name: string, f: (e: never) => void) => target.addEventListener(name, safe(f) as EventListener, true);

const visibleTime = () => visibleMs + (visibleSince && now() - visibleSince);

function reportEngagement(url?: string) {
  const ms = Math.round(visibleTime() - reportedMs);
  if (ms > 99 && lastUrl) {
    reportedMs += ms;
    event('engagement', { duration_ms: Math.min(ms, 86_400_000), scroll_depth: scrollDepth, url: url || lastUrl });
  }
}

function scrolled() {
  const h = document.documentElement.scrollHeight;
  scrollDepth = Math.max(scrollDepth, Math.min(100, Math.round(((scrollY + innerHeight) / (h || 1)) * 100)));
}

/** Records an event with what the page says about itself. */
function event(type: Event['type'], fields?: Partial<Event>) {
  record(
    type,
    {
      url: location.href.slice(0, 2048),
      title: document.title.slice(0, 512),
      screen: `${screen.width}x${screen.height}`,
      viewport: `${innerWidth}x${innerHeight}`,
      language: navigator.language,
      timezone: timeZone,
      // Under automation the server flags the row as a bot.
      ...(__CS_PRIVACY__ && navigator.webdriver && { webdriver: true }),
      ...fields,
    },
    // The core build leaves the campaign out of the session (a visit through a new campaign does not
    // start a new one), which frees 101 B min+gzip for same-origin delivery (npm run size); the
    // page view's url still has the query for attribution.
    __CS_CAMPAIGN__ && type === 'page_view' ? campaignOf(location.search) : '',
  );
}

/**
 * Starts tracking. Call once; later calls are ignored.
 * @example
 * init({ endpoint: 'https://collector.example.com/v1/events', siteId: 'my-site', clicks: true });
 */
export const init = safe((options: Options) => {
  // Called without options, reading them throws, and safe() makes that a no-op. Only the ESM build
  // can be imported where there is no window (server-side rendering): the script builds read window first.
  if (anonymousId || !options.endpoint || !options.siteId || (__CS_MODULE__ && typeof window === 'undefined')) return;
  startDelivery({ batchSize: 20, flushInterval: 5000, ...options });
  timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  /** Page hide (visibilitychange to hidden, and pagehide): the page's last events, then delivery's page-hide send. */
  const hide = (e: { persisted?: boolean }) => {
    if (__CS_ENGAGE__ || __CS_CLICKS__) {
      visibleMs = visibleTime();
      visibleSince = 0;
    }
    if (config.pageviews !== false) {
      clearTimeout(pageViewTimer);
      page();
    }
    if (__CS_ENGAGE__ && config.engagement !== false) reportEngagement();
    pageHidden(e.persisted);
  };
  on(document, 'visibilitychange', (e) => {
    if (document.hidden) hide(e);
    else if (__CS_ENGAGE__ || __CS_CLICKS__) visibleSince = now();
  });
  on(window, 'pagehide', hide);
  // Browsers without pageswap never call this, and every page hide sends as before.
  on(window, 'pageswap', leavingForSite);
  // Every pageshow: at load and in a prerendered page it changes nothing (see resume()).
  on(window, 'pageshow', resume);
  on(document, 'freeze', frozen);
  on(document, 'prerenderingchange', resume);
  on(window, 'online', retryNow);
  if (__CS_TABS__) on(window, 'storage', rescan);
  if (config.pageviews !== false) {
    const navigated = safe(() => {
      clearTimeout(pageViewTimer);
      // Let the app set the new title before the page view reads it.
      pageViewTimer = setTimeout(page, 100);
    });
    for (const m of ['pushState', 'replaceState'] as const) {
      const original = history[m];
      // The page view is only scheduled here (100 ms on), so scheduling it before the URL changes
      // is the same; if the browser refuses the change, the timer finds the URL unchanged.
      history[m] = (...a: Parameters<History['pushState']>) => {
        navigated();
        original.apply(history, a);
      };
    }
    // popstate also fires on every fragment navigation (a link to #x, location.hash = ...), before
    // hashchange (HTML, "update document for history step application"; WPT history-traversal
    // event-order tests; seen in Chromium 156), so hashchange would only repeat it.
    on(window, 'popstate', navigated);
    // Back or Forward restored this page from the cache: a page view, as the reload it replaces was.
    on(window, 'pageshow', (e: { persisted?: boolean }) => {
      if (e.persisted) {
        lastUrl = '';
        navigated();
      }
    });
    page();
  }
  if (__CS_ENGAGE__ && config.engagement !== false) on(window, 'scroll', scrolled);
  if (__CS_CLICKS__ && config.clicks) on(document, 'click', clicked);
});

function clicked(click: MouseEvent) {
  const target = (click.target as Element).closest<HTMLElement>('a,button,[data-cs-name],[data-cs-event]');
  if (!target) return;
  const data = target.dataset;
  const link = target.closest('a');
  const outbound = link && link.host !== location.host && /^http/.test(link.protocol);
  const properties: Properties = {};
  for (const k in data) if (k.startsWith('csProp') && k.length > 6) properties[k[6]!.toLowerCase() + k.slice(7)] = data[k]!.slice(0, 1024);
  if (link) properties.href = link.href.slice(0, 1024);
  event('click', {
    name: (data.csEvent || (link ? (outbound ? 'outbound_link' : 'link') : target.tagName === 'BUTTON' ? 'button' : 'element')).slice(
      0,
      100,
    ),
    element: (data.csName || target.id || (target.textContent || '').trim().replace(/\s+/g, ' ')).slice(0, 256),
    duration_ms: Math.round(visibleTime()),
    properties,
  });
}

/**
 * Records a page view of the current URL; a repeat of the last URL is ignored.
 * Automatic unless `pageviews: false`.
 * @example
 * page();
 */
export const page = safe(() => {
  const url = location.href;
  if (!anonymousId || url === lastUrl) return;
  const previous = lastUrl;
  if (__CS_ENGAGE__ && config.engagement !== false) reportEngagement(previous);
  if (__CS_ENGAGE__ || __CS_CLICKS__) {
    visibleMs = reportedMs = scrollDepth = 0;
    visibleSince = document.hidden ? 0 : now();
    if (__CS_ENGAGE__) scrolled();
  }
  lastUrl = url;
  event('page_view', { referrer: (previous || document.referrer).slice(0, 2048) });
});

/**
 * Records a custom event.
 * @example
 * track('add_to_cart', { item: 'margherita', price: 12.5 });
 */
export const track = safe((name: string, properties?: Properties) => {
  if (anonymousId && name) event('custom', { name: `${name}`.slice(0, 100), ...(properties && { properties }) });
});

/**
 * Ties this browser to your user id (kept until `reset()`), and records an `identify` event.
 * @example
 * identify('user-42');
 */
export const identify = safe((id: string) => {
  if (!anonymousId || !id) return;
  identifyAs(`${id}`.slice(0, 256));
  event('identify');
});

/**
 * Sends queued events now.
 * @example
 * flush();
 */
export const flush = safe(() => {
  if (anonymousId) send();
});

/**
 * Forgets the user id, the anonymous id and the session (call on log-out).
 * @example
 * reset();
 */
export const reset = safe(() => {
  if (anonymousId) forgetVisitor();
});

/**
 * Records the visitor's consent. `denied` drops queued events and removes everything the SDK
 * stored; `granted` stores and sends what was held while pending.
 * @example
 * consent('granted');
 */
export const consent = safe((state: 'granted' | 'denied') => {
  if (__CS_PRIVACY__ && anonymousId) setConsent(state);
});

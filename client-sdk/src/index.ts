/**
 * clickstream-js: batches events, retries with backoff, keeps unsent events in localStorage
 * across page loads and tabs, flushes on page hide. Zero dependencies; every public function is
 * wrapped so nothing ever throws into the host page.
 */
import type { ClickstreamEvent } from '../../schema/event';
import { backoff, retryAfter } from './backoff';
import { batchSize, cap, keys, read, write, type Store } from './outbox';
import { campaignOf, nextSession, type Session } from './session';
import { deadline, failed } from './transport';
import { uuid } from './uuid';

type Ev = ClickstreamEvent;
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
   * Keep a batch sent as the page closes in storage until its answer arrives (default false). The
   * closed page never reads that answer, so the next page load sends it again: a duplicate (the
   * queries count each event_id once) instead of a loss when the endpoint has just started failing.
   * Off, a page-hide batch leaves storage at once unless this page has already seen a failure.
   */
  keepUntilAcked?: boolean;
}

interface Flight {
  e: Ev[];
  /** Sent on page hide: not kept in storage, since the page may be gone before the answer. */
  h?: boolean;
}

const P = 'cs_';
// Batches stay under half the 64 KiB keepalive quota, so a hide-time batch fits beside one in flight.
const MAX_BATCH_BYTES = 30_000;

let o: Options | undefined;
/** localStorage; undefined when it is blocked or in cookieless mode (then ids live in memory). */
let ls: Store | undefined;
/** Set by init(); only the privacy build's consent() changes it afterwards. */
let state: ConsentState | undefined;
let queue: Ev[] = [];
let flights: Flight[] = [];
let busy = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let attempt = 0;
let retryAt = 0;
let tabKey = '';
let owned = false;
let aid = '';
let uid: string | undefined;
let session: Session | undefined;
let campaign = '';
let lastUrl = '';
let spaTimer: ReturnType<typeof setTimeout> | undefined;
// Engagement on the current page view: active (visible) ms, start of the visible stretch, reported ms, max scroll.
let act = 0;
let since = 0;
let reported = 0;
let depth = 0;
/** Outside the sample: consent cannot bring the visitor back in. */
let unsampled = false;
/** The browser's time zone, looked up once: a new Intl.DateTimeFormat per event was most of track()'s cost. */
let tz = '';

const now = () => Date.now();
const forever = () => new Promise<never>(() => {});
const safe =
  <A extends unknown[], R>(f: (...a: A) => R) =>
  (...a: A): R | undefined => {
    try {
      return f(...a);
    } catch {
      return undefined;
    }
  };
const on = (t: EventTarget, name: string, f: (e: any) => void) => t.addEventListener(name, safe(f), { capture: true, passive: true });
// Only the privacy build's consent() moves the state off 'granted' after init, so the core build reads no state.
const stored = () => (!__CS_PRIVACY__ || state == 'granted') && !!ls;

function save(key: string, v: unknown) {
  if (stored()) write(ls!, P + key, v);
}

/** Writes this tab's unsent events (queued and in flight) under its own key; nothing when empty. */
function persist() {
  if (!owned || !stored()) return;
  const all = [...flights.flatMap((f) => (f.h ? [] : f.e)), ...queue];
  write(ls!, tabKey, all.length ? all : null);
}

function schedule(ms: number) {
  if (!timer && queue.length) timer = setTimeout(safe(flush), Math.max(ms, retryAt - now()));
}

function enqueue(e: Ev) {
  if (__CS_PRIVACY__ && state == 'denied') return;
  queue = cap([...queue, e], now());
  if (__CS_PRIVACY__ && state == 'pending') return;
  persist();
  queue.length < o!.batchSize! ? schedule(o!.flushInterval!) : send();
}

/**
 * Sends the next batch. On page hide (`hide`), it goes with keepalive and leaves storage at once,
 * because the answer may never come back to this page; if it does come back as a failure, the
 * events return to the queue and to storage.
 */
function send(hide?: boolean) {
  clearTimeout(timer);
  timer = undefined;
  if ((__CS_PRIVACY__ && state != 'granted') || !queue.length) return;
  // While a batch is in flight its answer schedules the next; during backoff the timer waits for retryAt.
  if (!hide && (busy || retryAt > now())) return busy || schedule(0);
  const e = queue.splice(0, batchSize(queue, o!.batchSize!, MAX_BATCH_BYTES));
  // Only a healthy endpoint earns the optimistic removal from storage: after a failure, a hide-time
  // batch stays stored too, and a next page may send it again (de-duplicated by event_id).
  const f: Flight = { e, h: hide && !attempt && !o!.keepUntilAcked };
  flights.push(f);
  busy ||= !hide;
  const body = JSON.stringify({ site_id: o!.siteId, sent_at: new Date().toISOString(), events: e });
  const done = safe((retry: boolean | number, wait?: number) => {
    flights = flights.filter((x) => x != f);
    busy &&= !!hide;
    if (retry) {
      queue = cap([...e, ...queue], now());
      retryAt = now() + Math.max(backoff(++attempt), wait || 0);
    } else attempt = retryAt = 0;
    persist();
    schedule(queue.length < o!.batchSize! ? o!.flushInterval! : 0);
  });
  // sendBeacon shows no answer: a beacon the browser queued counts as delivered, as before.
  if (hide && !('keepalive' in Request.prototype)) done(!navigator.sendBeacon(o!.endpoint, body));
  else
    // The deadline covers the body too: a timeout while reading it fails the read, and the batch is retried.
    fetch(o!.endpoint, { method: 'POST', body, keepalive: true, credentials: 'omit', signal: deadline() }).then(
      (r) => r.json().catch(() => {}).then((answer) => done(failed(r, answer), retryAfter(r.headers.get('retry-after')))),
      () => done(1),
    );
  persist();
}

/** Page hide: the last moment a page is sure to run code (visibilitychange and pagehide). */
function hide() {
  if (__CS_ENGAGE__ || __CS_CLICKS__) {
    act = active();
    since = 0;
  }
  if (o!.pageviews != false) {
    clearTimeout(spaTimer);
    page();
  }
  if (__CS_ENGAGE__ && o!.engagement != false) engaged();
  // A batch already in flight stays in storage: if its answer never reaches this page, the next
  // page sends it again (the server de-duplicates by event_id), rather than risk losing it.
  if (navigator.onLine && retryAt <= now()) send(true);
  persist();
}

const active = () => act + (since && now() - since);

function engaged(url?: string) {
  const t = Math.round(active() - reported);
  if (t > 99 && lastUrl) {
    reported += t;
    enqueue(ev('engagement', { duration_ms: Math.min(t, 86_400_000), scroll_depth: depth, url: url || lastUrl }));
  }
}

function scrolled() {
  const h = document.documentElement.scrollHeight;
  depth = Math.max(depth, Math.min(100, Math.round(((scrollY + innerHeight) / (h || 1)) * 100)));
}

function ev(type: Ev['type'], x?: Partial<Ev>): Ev {
  const t = now();
  session = nextSession(stored() ? read<Session>(ls!, P + 's') : session, t, type == 'page_view' ? campaign : '', uuid);
  save('s', session);
  const e = {
    event_id: uuid(t),
    type,
    ts: new Date(t).toISOString(),
    anonymous_id: aid,
    session_id: session.i,
    url: location.href.slice(0, 2048),
    title: document.title.slice(0, 512),
    screen: screen.width + 'x' + screen.height,
    viewport: innerWidth + 'x' + innerHeight,
    language: navigator.language,
    timezone: tz,
    sdk: 'clickstream-js/' + __CS_VERSION__,
    ...x,
  } as Ev;
  if (uid) e.user_id = uid;
  if (__CS_PRIVACY__ && navigator.webdriver) e.webdriver = true;
  return e;
}

/**
 * Adopts the unsent events of pages that are gone. Each page holds a Web Lock named after its
 * storage key for its whole life; a key whose lock we can take belongs to a closed page, and the
 * lock makes the take exclusive, so two tabs never both send the same leftovers. Waiting (no
 * ifAvailable) means we also inherit from a tab that closes while we are open. The taker keeps
 * the taken key's lock for its own life: another renderer's view of localStorage may lag by a few
 * milliseconds, so a second tab getting the lock right after us could still read the leftovers we
 * just removed (seen in Chromium under load); by the time we are gone, our removal has landed.
 */
function claim() {
  const locks = navigator.locks;
  // A page whose locks are refused (sandboxed iframe) just keeps no persistent queue.
  const lock = (k: string, f: () => unknown) => locks.request(k, f).catch(() => {});
  const take = (k: string) => {
    const e = read<Ev[]>(ls!, k);
    write(ls!, k, null);
    if (e && e.length && stored()) {
      queue = cap([...e, ...queue], now());
      persist();
      schedule(0);
    }
  };
  const scan = () => {
    owned = true;
    persist();
    for (const k of keys(ls!, P + 'q.')) if (k != tabKey) locks ? lock(k, () => (safe(take)(k), forever())) : take(k);
  };
  // Without Web Locks (old browsers, http:// pages) two tabs opening together could both take the
  // same leftovers: the server de-duplicates by event_id.
  locks ? lock(tabKey, () => (scan(), forever())) : scan();
}

function grant() {
  if (__CS_PRIVACY__) state = 'granted';
  save('aid', aid);
  save('uid', uid);
  if (__CS_PRIVACY__ && o!.requireConsent) save('c', 1);
  claim();
  persist();
  schedule(0);
}

/**
 * Starts tracking. Call once; later calls are ignored.
 * @example
 * init({ endpoint: 'https://collector.example.com/v1/events', siteId: 'my-site', clicks: true });
 */
export const init = safe((opts: Options) => {
  if (o || !opts || !opts.endpoint || !opts.siteId || typeof window == 'undefined') return;
  o = { batchSize: 20, flushInterval: 5000, ...opts };
  try {
    ls = localStorage;
    ls.length;
  } catch {
    ls = undefined;
  }
  if (__CS_PRIVACY__ && o.cookieless) ls = undefined;
  tabKey = P + 'q.' + uuid();
  tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (__CS_PRIVACY__) {
    state = 'granted';
    const n = navigator as Navigator & { globalPrivacyControl?: boolean };
    if (o.respectDnt != false && (n.globalPrivacyControl || n.doNotTrack == '1')) state = 'denied';
    else if (o.requireConsent && !(ls && read(ls, P + 'c'))) state = 'pending';
  }
  aid = (stored() && read<string>(ls!, P + 'aid')) || uuid();
  uid = stored() ? read<string>(ls!, P + 'uid') : undefined;
  if (__CS_PRIVACY__ && o.sampleRate != null) {
    // FNV-1a of the anonymous id: the same visitor is always in or always out of the sample.
    let h = 2166136261;
    for (const c of aid) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    if ((h >>> 0) / 2 ** 32 >= o.sampleRate) (unsampled = true), (state = 'denied');
  }
  if (!__CS_PRIVACY__ || state == 'granted') grant();
  on(document, 'visibilitychange', () => {
    if (document.hidden) hide();
    else if (__CS_ENGAGE__ || __CS_CLICKS__) since = now();
  });
  on(window, 'pagehide', hide);
  on(window, 'online', () => {
    attempt = retryAt = 0;
    send();
  });
  if (o.pageviews != false) {
    const spa = () => {
      clearTimeout(spaTimer);
      // Let the app set the new title before the page view reads it.
      spaTimer = setTimeout(safe(page), 100);
    };
    for (const m of ['pushState', 'replaceState'] as const) {
      const orig = history[m];
      history[m] = function (this: History, ...a: Parameters<History['pushState']>) {
        const r = orig.apply(this, a);
        safe(spa)();
        return r;
      };
    }
    on(window, 'popstate', spa);
    on(window, 'hashchange', spa);
    page();
  }
  if (__CS_ENGAGE__ && o.engagement != false) on(window, 'scroll', scrolled);
  if (__CS_CLICKS__ && o.clicks) on(document, 'click', clicked);
});

function clicked(ev_: MouseEvent) {
  const t = (ev_.target as Element).closest<HTMLElement>('a,button,[data-cs-name],[data-cs-event]');
  if (!t) return;
  const d = t.dataset;
  const a = t.closest('a');
  const out = a && a.host != location.host && /^http/.test(a.protocol);
  const properties: Properties = {};
  for (const k in d) if (k.startsWith('csProp') && k.length > 6) properties[k[6]!.toLowerCase() + k.slice(7)] = d[k]!.slice(0, 1024);
  if (a) properties.href = a.href.slice(0, 1024);
  enqueue(
    ev('click', {
      name: (d.csEvent || (a ? (out ? 'outbound_link' : 'link') : t.tagName == 'BUTTON' ? 'button' : 'element')).slice(0, 100),
      element: (d.csName || t.id || (t.textContent || '').trim().replace(/\s+/g, ' ')).slice(0, 256),
      duration_ms: Math.round(active()),
      properties,
    }),
  );
}

/**
 * Records a page view of the current URL; a repeat of the last URL is ignored.
 * Automatic unless `pageviews: false`.
 * @example
 * page();
 */
export const page = safe(() => {
  const url = location.href;
  if (!o || url == lastUrl) return;
  const prev = lastUrl;
  if (__CS_ENGAGE__ && o.engagement != false) engaged(prev);
  if (__CS_ENGAGE__ || __CS_CLICKS__) {
    act = reported = depth = 0;
    since = document.hidden ? 0 : now();
    if (__CS_ENGAGE__) scrolled();
  }
  lastUrl = url;
  campaign = campaignOf(location.search);
  enqueue(ev('page_view', { referrer: (prev || document.referrer).slice(0, 2048) }));
});

/**
 * Records a custom event.
 * @example
 * track('add_to_cart', { item: 'margherita', price: 12.5 });
 */
export const track = safe((name: string, properties?: Properties) => {
  if (o && name) enqueue(ev('custom', { name: ('' + name).slice(0, 100), ...(properties && { properties }) }));
});

/**
 * Ties this browser to your user id (kept until `reset()`), and records an `identify` event.
 * @example
 * identify('user-42');
 */
export const identify = safe((userId: string) => {
  if (!o || !userId) return;
  uid = ('' + userId).slice(0, 256);
  save('uid', uid);
  enqueue(ev('identify'));
});

/**
 * Sends queued events now.
 * @example
 * flush();
 */
export const flush = safe(() => {
  if (o) send();
});

/**
 * Forgets the user id, the anonymous id and the session (call on log-out).
 * @example
 * reset();
 */
export const reset = safe(() => {
  if (!o) return;
  uid = session = undefined;
  aid = uuid();
  save('uid', null);
  save('s', null);
  save('aid', aid);
});

/**
 * Records the visitor's consent. `denied` drops queued events and removes everything the SDK
 * stored; `granted` stores and sends what was held while pending.
 * @example
 * consent('granted');
 */
export const consent = safe((s: 'granted' | 'denied') => {
  if (!__CS_PRIVACY__ || !o || s == state || unsampled) return;
  if (s == 'granted') return grant();
  state = 'denied';
  queue = [];
  if (ls) for (const k of keys(ls, P)) write(ls, k, null);
});

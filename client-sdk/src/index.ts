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
   * Always send a page-hide batch again from the next page load (default false). A closed page never
   * reads the answer to what it sent as it closed, so those events stay stored either way; by
   * default the next page of the same tab drops them when the endpoint answered just before and just
   * after (see docs/sdk.md, Delivery). On, every one is sent twice: duplicates (the queries count
   * each event_id once) in exchange for no reliance on that inference.
   */
  keepUntilAcked?: boolean;
}

interface Flight {
  e: Ev[];
  /**
   * Sent on page hide while this page's last answer was an acknowledgement: its event ids. Its
   * events stay stored like any other, and are named in the tab's marker for the next page (see take()).
   */
  h?: false | string[];
}

/**
 * What a page leaves the next page of its tab, in sessionStorage, under its own storage key: its
 * page-hide sends made while healthy. `t` the time of its page hide, `i` the event ids.
 * sessionStorage is per tab, kept across reloads and navigations, and a new tab starts empty
 * (MDN, "Window: sessionStorage property"); a tab duplicated or opened by window.open starts with
 * a copy, a limit docs/sdk.md states.
 */
interface Mark {
  t: number;
  i: string[];
}

const P = 'cs_';
/**
 * The longest gap between a previous page's page-hide send and this page's first acknowledgement for
 * which those events count as delivered: a navigation within a site takes a second or two; longer
 * (the visitor went elsewhere and came back) says nothing about the moment of the send.
 */
const GRACE_MS = 10_000;

let o: Options | undefined;
/** localStorage; undefined when it is blocked or in cookieless mode (then ids live in memory). */
let ls: Store | undefined;
/** sessionStorage (per tab), for the page-hide marker only; undefined when blocked (then no marker: resends). */
let ss: Store | undefined;
/** Set by init(); only the privacy build's consent() changes it afterwards. */
let state: ConsentState | undefined;
let queue: Ev[] = [];
let flights: Flight[] = [];
/** This page has had an answer (1). */
let first = 0;
let answered: (x: unknown) => void;
/** Resolves at this page's first answer: what the previous page of the tab sent as it went is decided then (see take()). */
const firstAnswer = new Promise((r) => (answered = r));
/** Whether this page's last answer was an acknowledgement. */
let acked = false;
/** A write of the queue is due at the end of this task (and the shared session has been read in it). */
let dirty = false;
let busy = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let attempt = 0;
let retryAt = 0;
let tabKey = '';
let owned = false;
let aid = '';
let uid: string | undefined;
let session: Session | undefined;
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
/** Held by a Web Lock callback to keep its lock for the page's life. */
const forever = new Promise<never>(() => {});
const safe =
  <A extends unknown[], R>(f: (...a: A) => R) =>
  (...a: A): R | undefined => {
    try {
      return f(...a);
    } catch {
      // Nothing ever throws into the host page.
    }
  };
// Capture, so a site's stopPropagation() cannot hide an event from us. None of these events is one a
// passive listener speeds up (touch, wheel): scroll is not cancelable, and click is never prevented.
const on = (t: EventTarget, name: string, f: (e: any) => void) => t.addEventListener(name, safe(f), true);
// Only the privacy build's consent() moves the state off 'granted' after init, so the core build reads no state.
const stored = () => (!__CS_PRIVACY__ || state == 'granted') && !!ls;

/** Stores `v` under the SDK's prefix; removes the key when `v` is null or undefined. */
function save(key: string, v?: unknown) {
  if (stored()) write(ls!, P + key, v);
}

/** Caps the queue and writes every unacknowledged event of this page (in flight or queued) under its own key; nothing when empty. */
function persist() {
  // Not before this page's first event: it would remove the session other tabs share.
  if (session) save('s', session);
  queue = cap(queue, now());
  if (!owned || !stored()) return;
  const all = [...flights.flatMap((f) => f.e), ...queue];
  write(ls!, tabKey, all[0] && all);
}

/**
 * Arms the send timer: after `ms`, but at once while this page has had no answer, so that it soon
 * knows whether the endpoint is healthy (see take()); never before the backoff allows.
 */
function schedule(ms: number) {
  if (!timer && queue.length) timer = setTimeout(flush, Math.max(first && ms, retryAt - now()));
}

function enqueue(e: Ev) {
  if (__CS_PRIVACY__ && state == 'denied') return;
  queue.push(e);
  // One write per task rather than per event: 1,000 calls in one task cost one serialization of
  // the queue, not 1,000. A microtask runs before any other task, page hide included (which writes too).
  dirty ||= (queueMicrotask(() => {
    dirty = false;
    persist();
  }), true);
  if (__CS_PRIVACY__ && state == 'pending') return;
  next();
}

/** A full batch goes now (or as soon as the backoff allows); a smaller one after `flushInterval`. */
function next() {
  queue.length < o!.batchSize! ? schedule(o!.flushInterval!) : send();
}

/**
 * Sends the next batch. Its events stay stored until an answer settles them, page hide or not: a
 * page that is gone never reads the answer, so only the next page can decide (take()). A page-hide
 * send made while this page's last answer was an acknowledgement is marked for that decision (`h`).
 */
function send(hide?: boolean) {
  clearTimeout(timer);
  timer = undefined;
  if ((__CS_PRIVACY__ && state != 'granted') || !queue.length) return;
  // While a batch is in flight its answer schedules the next; during backoff the timer waits for retryAt.
  if (!hide && (busy || retryAt > now())) return busy || schedule(0);
  const e = queue.splice(0, batchSize(queue, o!.batchSize!));
  const f: Flight = { e, h: hide && acked && !o!.keepUntilAcked && e.map((x) => x.event_id) };
  flights.push(f);
  if (!hide) busy = true;
  const body = JSON.stringify({ site_id: o!.siteId, sent_at: new Date().toISOString(), events: e });
  const done = safe((retry: boolean | number, wait?: number) => {
    flights = flights.filter((x) => x != f);
    if (!hide) busy = false;
    acked = !retry;
    answered((first = 1));
    if (retry) {
      queue = [...e, ...queue];
      retryAt = now() + Math.max(backoff(++attempt), wait || 0);
    } else attempt = retryAt = 0;
    persist();
    next();
  });
  // sendBeacon (no fetch keepalive) shows no answer: a queued beacon stays unanswered, like a
  // keepalive send from a page that is gone, and a refused one is retried.
  if (hide && !('keepalive' in Request.prototype)) navigator.sendBeacon(o!.endpoint, body) || done(1);
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
  if (navigator.onLine && retryAt <= now()) send(true);
  persist();
  // Rewritten at every hide (cleared when there is nothing to name), so no stale marker outlives its page.
  const i = flights.flatMap((f) => f.h || []);
  if (stored()) write(ss!, tabKey, i[0] && ({ t: now(), i } as Mark));
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
  // Tabs share the session through storage: read it at the first event of a task; persist() writes it.
  session = nextSession(stored() && !dirty ? read<Session>(ls!, P + 's') : session, t, type == 'page_view' ? campaignOf(location.search) : '', uuid);
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
    // Left out of the JSON when undefined.
    user_id: uid,
    ...x,
  } as Ev;
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
  // A page whose locks are refused (sandboxed iframe) just keeps no persistent queue. Without Web
  // Locks (old browsers, http:// pages) every key is taken at once, so two tabs opening together
  // could both take the same leftovers: the server de-duplicates by event_id.
  const lock = (k: string, f: () => unknown) => (locks ? locks.request(k, f).catch(() => {}) : f());
  const take = (k: string) => {
    // Read under k's lock, so after its page's last write: the marker too, written at its page hide.
    const m = read<Mark>(ss!, k);
    write(ss!, k);
    const e = read<Ev[]>(ls!, k);
    write(ls!, k);
    if (e && stored()) {
      // What the previous page of this tab sent as it went, while its last answer was an
      // acknowledgement, most likely arrived when our first answer, just now and within GRACE_MS,
      // is one too: the endpoint answered just before and just after. Anything else is sent again.
      queue = [...e.filter((x) => !(m && acked && now() - m.t < GRACE_MS && m.i.includes(x.event_id))), ...queue];
      persist();
      send();
    }
  };
  lock(tabKey, () => {
    owned = true;
    persist();
    for (const k of keys(ls!, P + 'q.'))
      if (k != tabKey)
        lock(k, async () => {
          // Taken once this page has had its first answer when a send is on its way, so take() can judge.
          if (queue[0] || busy) await firstAnswer;
          safe(take)(k);
          return forever;
        });
    return forever;
  });
}

function grant() {
  if (__CS_PRIVACY__) state = 'granted';
  save('aid', aid);
  // A user id set by identify() while consent was pending; otherwise it came from storage.
  if (__CS_PRIVACY__) save('uid', uid);
  if (__CS_PRIVACY__ && o!.requireConsent) save('c', 1);
  claim();
  // Only consent() arrives here with events held; at init nothing is queued yet.
  if (__CS_PRIVACY__) schedule(0);
}

/**
 * Starts tracking. Call once; later calls are ignored.
 * @example
 * init({ endpoint: 'https://collector.example.com/v1/events', siteId: 'my-site', clicks: true });
 */
export const init = safe((opts: Options) => {
  if (o || !opts || !opts.endpoint || !opts.siteId || typeof window == 'undefined') return;
  o = { batchSize: 20, flushInterval: 5000, ...opts };
  // Undefined where reading them throws (storage blocked, sandboxed frames).
  ls = safe(() => (localStorage.length, localStorage))();
  ss = safe(() => sessionStorage)();
  if (__CS_PRIVACY__ && o.cookieless) ls = undefined;
  tabKey = P + 'q.' + uuid();
  tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (__CS_PRIVACY__) {
    state = 'granted';
    const n = navigator as Navigator & { globalPrivacyControl?: boolean };
    if (o.respectDnt != false && (n.globalPrivacyControl || n.doNotTrack == '1')) state = 'denied';
    else if (o.requireConsent && !(ls && read(ls, P + 'c'))) state = 'pending';
  }
  // read() of a missing store is undefined, so only consent needs a check (the core build has none).
  aid = ((!__CS_PRIVACY__ || stored()) && read<string>(ls!, P + 'aid')) || uuid();
  uid = __CS_PRIVACY__ && !stored() ? undefined : read<string>(ls!, P + 'uid');
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
    const spa = safe(() => {
      clearTimeout(spaTimer);
      // Let the app set the new title before the page view reads it.
      spaTimer = setTimeout(page, 100);
    });
    for (const m of ['pushState', 'replaceState'] as const) {
      const orig = history[m];
      // The page view is only scheduled here (100 ms on), so scheduling it before the URL changes
      // is the same; if the browser refuses the change, the timer finds the URL unchanged.
      history[m] = (...a: Parameters<History['pushState']>) => (spa(), orig.apply(history, a));
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
  save('uid');
  save('s');
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
  for (const s of [ls, ss]) if (s) for (const k of keys(s, P)) write(s, k);
});

/**
 * The outbox state machine: what is queued, stored, sent, retried and handed to the next page.
 * No DOM here (no document, location or history): it needs only storage, fetch, timers, the clock
 * and navigator.locks / onLine / sendBeacon, so test/unit/sdk-state.test.ts drives it in Node with
 * fake ones. The page observers and the public API are in index.ts. docs/sdk.md, "Delivery", says
 * what this guarantees.
 */
import type { ClickstreamEvent } from '../../schema/event';
import { backoff, retryAfter } from './backoff';
import type { ConsentState, Options } from './index';
import { batchSize, cap, keys, read, write, type Store } from './outbox';
import { nextSession, type Session } from './session';
import { deadline, failed } from './transport';
import { uuid } from './uuid';

type Event = ClickstreamEvent;
/** Options with the defaults init() fills in. */
export type Config = Options & { batchSize: number; flushInterval: number };

/**
 * What a page leaves the next page of its tab, in sessionStorage under its own storage key: the
 * event ids of its last page-hide send if it was made while healthy, or none when it sent nothing
 * because it left for another page of the site (then the marker says that the outbox is left for
 * the next page). Short field names because this is a stored format, read by the next page (which
 * may run another version of the SDK): `t` the time of the page hide, `i` the event ids. sessionStorage is per tab, kept across reloads and navigations, and a new tab starts
 * empty (MDN, "Window: sessionStorage property"); a tab duplicated or opened by window.open starts
 * with a copy, a limit docs/sdk.md states.
 */
export interface HideMarker {
  t: number;
  i: string[];
}

/** Prefix of every key the SDK stores. */
export const PREFIX = 'cs_';
/**
 * The longest gap between a previous page's page-hide send and this page's first acknowledgement for
 * which those events count as delivered: a navigation within a site takes a second or two; longer
 * (the visitor went elsewhere and came back) says nothing about the moment of the send.
 */
export const HANDOFF_GRACE_MS = 10_000;

export const now = () => Date.now();

/** Wraps `f` so that it never throws into the host page. */
export const safe =
  <A extends unknown[], R>(f: (...a: A) => R) =>
  (...a: A): R | undefined => {
    try {
      return f(...a);
    } catch {
      // Nothing ever throws into the host page.
    }
  };

/** The options with their defaults, set by startDelivery() (init), before anything here runs. */
export let config: Config;
/** localStorage where the SDK may store now; undefined when it is blocked, in cookieless mode or without consent (then ids live in memory). */
let localStore: Store | undefined;
/** localStorage as the privacy build found it (not cookieless): read for the stored consent decision, cleared on denial, used once granted. */
let browserStore: Store | undefined;
/** sessionStorage (per tab), for the page-hide marker only; undefined when blocked (then no marker: resends). */
let tabStore: Store | undefined;
/** Set by startDelivery(); only the privacy build's consent() changes it afterwards. */
export let consentState: ConsentState | undefined;
let queue: Event[] = [];
/** Batches sent and not yet answered: their events stay stored until an answer settles them. */
let inFlight: Event[][] = [];
/**
 * A batch may wait for flushInterval: once this page has had an answer, or from the start where
 * the browser fires pageswap (Chromium 124+, Safari 18.2+). There a page leaving for another page
 * of the site says so before it goes (index.ts) and sends nothing at page hide (its events wait in
 * storage for the next page), so nothing depends on its first answer. Elsewhere the first batch
 * goes at once, so that the page soon knows whether the endpoint answers: its page-hide send is
 * named for the next page only after an acknowledgement (see takeLeftovers()).
 */
let mayWait = 'onpageswap' in globalThis;
let resolveAnswer: (x: unknown) => void;
/**
 * Resolves at this page's first answer (the core build) or its next one (the full build, which
 * makes a new one at each answer): what a page that is gone sent as it went is decided then (see
 * takeLeftovers()).
 */
let answered = new Promise((r) => (resolveAnswer = r));
/** Whether this page's last answer was an acknowledgement; undefined until its first answer. */
let lastAnswerAcked: boolean | undefined;
/** When the request of this page's last acknowledgement left (full build: the evidence adopt() and takeLeftovers() need). */
let ackedAt = 0;
/** A write of the outbox is due at the end of this task (and the shared session has been read in it). */
let writeDue = false;
/** A batch other than a page-hide one is in flight; its answer schedules the next. */
let sending = false;
let sendTimer: ReturnType<typeof setTimeout> | undefined;
let failedAttempts = 0;
/** No send before this time (backoff and Retry-After). */
let retryAt = 0;
/** This page's own outbox key in localStorage, `cs_q.<page id>`; also the name of its Web Lock. */
let pageKey = '';
/** This page holds its key's lock, so its outbox may be written. */
let ownsKey = false;
/** pagehide said `persisted`: the page is entering the back/forward cache (see frozen()). */
let caching: unknown;
let session: Session | undefined;
/** Set by startDelivery(); until then (and when init() was refused) every API call does nothing. */
export let anonymousId = '';
export let userId: string | undefined;
/** Outside the sample: consent cannot bring the visitor back in. */
let unsampled = false;

/**
 * The page is leaving for another page of the same origin (pageswap with an activation, see
 * leavingForSite()): from then on nothing is sent, not even a batch its last events fill up; the
 * outbox stays stored for the next page.
 */
let toSite: unknown;

/**
 * Where a page's page-hide marker for other tabs is (full build): beside its outbox key in
 * localStorage, `cs_h.<page id>` for `cs_q.<page id>` (sessionStorage, where the marker for the
 * tab's next page is, is not shared between tabs).
 */
const hideKey = (key: string) => key.replace('q', 'h');

/**
 * Returned by every Web Lock callback: the page keeps its locks until release() (see pageHidden():
 * a page entering the back/forward cache lets them go; a page that is destroyed loses them anyway).
 */
let release: (x?: unknown) => void;
let held = new Promise((r) => (release = r));

/** Stores `value` under the SDK's prefix; removes the key when it is null or undefined. */
export function save(key: string, value?: unknown) {
  if (localStore) write(localStore, PREFIX + key, value);
}

/**
 * Starts this page's outbox from the options (with their defaults filled in): which storage it may
 * use, the consent state, the visitor's ids; with consent, takes this page's key (grantStorage()).
 */
export function startDelivery(options: Config) {
  config = options;
  // Undefined where reading them throws (storage blocked, sandboxed frames).
  localStore = safe(() => (localStorage.length >= 0 ? localStorage : undefined))();
  tabStore = safe(() => sessionStorage)();
  if (__CS_PRIVACY__) {
    browserStore = localStore = options.cookieless ? undefined : localStore;
    const n = navigator as Navigator & { globalPrivacyControl?: boolean };
    consentState =
      options.respectDnt !== false && (n.globalPrivacyControl || n.doNotTrack === '1')
        ? 'denied'
        : options.requireConsent && !read(browserStore!, `${PREFIX}c`)
          ? 'pending'
          : 'granted';
    if (consentState !== 'granted') localStore = undefined;
  }
  pageKey = `${PREFIX}q.${uuid()}`;
  // Stored ids only with consent (reading a missing store gives undefined).
  anonymousId = read<string>(localStore!, `${PREFIX}aid`) || uuid();
  userId = read<string>(localStore!, `${PREFIX}uid`);
  if (__CS_PRIVACY__ && options.sampleRate != null) {
    // FNV-1a of the anonymous id: the same visitor is always in or always out of the sample.
    let h = 2166136261;
    for (const ch of anonymousId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
    if ((h >>> 0) / 2 ** 32 >= options.sampleRate) {
      unsampled = true;
      consentState = 'denied';
      localStore = undefined;
    }
  }
  if (!__CS_PRIVACY__ || consentState === 'granted') grantStorage();
}

/** identify(): the user id goes on this and later events, and is stored until forgetVisitor(). */
export function identifyAs(id: string) {
  userId = id;
  save('uid', id);
}

/** reset(): forgets the user id, the anonymous id and the session; the next event starts a new session. */
export function forgetVisitor() {
  userId = session = undefined;
  anonymousId = uuid();
  save('uid');
  save('s');
  save('aid', anonymousId);
}

/**
 * Records an event: stamps it with its id, time, the visitor's ids and session, and queues it, to be
 * stored at the end of this task and sent with the next batch.
 * `page` is what the page says (url, title, ...; the observers in index.ts), `campaign` the
 * campaign key of a page view's URL. Tabs share the session through storage: it is read at the
 * first event of a task (later ones in the task use the copy), and persist() writes it.
 */
export function record(type: Event['type'], page: Partial<Event>, campaign: string) {
  const time = now();
  session = nextSession(localStore && !writeDue ? read<Session>(localStore, `${PREFIX}s`) : session, time, campaign, uuid);
  if (__CS_PRIVACY__ && consentState === 'denied') return;
  queue.push({
    event_id: uuid(time),
    type,
    ts: new Date(time).toISOString(),
    anonymous_id: anonymousId,
    session_id: session.i,
    sdk: `clickstream-js/${__CS_VERSION__}`,
    // Left out of the JSON when undefined.
    user_id: userId,
    ...page,
  } as Event);
  // One write per task rather than per event: 1,000 calls in one task cost one serialization of
  // the queue, not 1,000. A microtask runs before any other task, page hide included (which writes too).
  if (!writeDue) {
    writeDue = true;
    queueMicrotask(() => {
      writeDue = false;
      persist();
    });
  }
  // Held in memory while consent is pending; otherwise sent with the next batch.
  if (__CS_PRIVACY__ && consentState === 'pending') return;
  sendOrSchedule();
}

/**
 * Caps the queue and writes every unacknowledged event of this page (in flight or queued) under its
 * own key; nothing when empty, except while leaving for the site (see leavingForSite()). Returns 1
 * when the outbox is stored: not without the key's lock, with storage off (blocked, cookieless, no
 * consent; a write to a missing store fails) or full.
 */
function persist() {
  // Not before this page's first event: it would remove the session other tabs share.
  if (session) save('s', session);
  queue = cap(queue, now());
  const unacked = [...inFlight.flat(), ...queue];
  return ownsKey && write(localStore!, pageKey, (toSite || unacked[0]) && unacked);
}

/** Arms the send timer: after `ms` (at once while the first batch may not wait, see mayWait), never before the backoff allows. */
function schedule(ms: number) {
  if (!sendTimer && queue.length) sendTimer = setTimeout(send, Math.max(mayWait ? ms : 0, retryAt - now()));
}

/** A full batch goes now (or as soon as the backoff allows); a smaller one after `flushInterval`. */
function sendOrSchedule() {
  queue.length < config.batchSize ? schedule(config.flushInterval) : send();
}

/**
 * Sends the next batch. Its events stay stored until an answer settles them, page hide or not: a
 * page that is gone never reads the answer, so only the next page can decide (takeLeftovers()).
 * Returns undefined when it sent nothing; otherwise an array: at page hide, the ids of the events it
 * sent, which pageHidden() may name in its markers (none with keepUntilAcked).
 */
export function send(atHide?: boolean): string[] | undefined {
  clearTimeout(sendTimer);
  sendTimer = undefined;
  if ((__CS_PRIVACY__ && consentState !== 'granted') || toSite || !queue.length) return;
  // While a batch is in flight its answer schedules the next; during backoff the timer waits for retryAt.
  if (!atHide && (sending || retryAt > now())) return void (sending || schedule(0));
  const events = queue.splice(0, batchSize(queue, config.batchSize));
  inFlight.push(events);
  if (!atHide) sending = true;
  const left = now();
  const body = JSON.stringify({ site_id: config.siteId, sent_at: new Date(left).toISOString(), events });
  const settle = safe((retry: boolean | number, waitMs?: number) => {
    inFlight = inFlight.filter((f) => f !== events);
    // A page-hide send answered while the page lives on (a tab switch and back): the marker must
    // stop naming it, or a next page could drop events whose send failed.
    if (atHide) {
      write(tabStore!, pageKey);
      if (__CS_TABS__) write(localStore!, hideKey(pageKey));
    } else sending = false;
    lastAnswerAcked = !retry;
    mayWait = true;
    resolveAnswer(0);
    if (__CS_TABS__) {
      if (!retry) ackedAt = left;
      answered = new Promise((r) => (resolveAnswer = r));
    }
    if (retry) {
      queue = [...events, ...queue];
      retryAt = now() + Math.max(backoff(++failedAttempts), waitMs || 0);
    } else failedAttempts = retryAt = 0;
    persist();
    sendOrSchedule();
  });
  // sendBeacon (no fetch keepalive) shows no answer: a queued beacon stays unanswered, like a
  // keepalive send from a page that is gone, and a refused one is retried.
  // (The full build only: the core build sends with fetch there too, see the return below.)
  if (__CS_RARE__ && atHide && !('keepalive' in Request.prototype)) navigator.sendBeacon(config.endpoint, body) || settle(1);
  // The deadline covers the body too: a timeout while reading it fails the read, and the batch is retried.
  else
    fetch(config.endpoint, { method: 'POST', body, keepalive: true, credentials: 'omit', signal: deadline() }).then(
      (r) =>
        r
          .json()
          .catch(() => {})
          .then((answer) => settle(failed(r, answer), retryAfter(r.headers.get('retry-after')))),
      () => settle(1),
    );
  persist();
  // Named unless keepUntilAcked; in the core build, unless fetch has no keepalive (Firefox before
  // 133), where the browser may cancel the send as the page goes: the next page sends them again.
  return atHide && (__CS_RARE__ ? !config.keepUntilAcked : 'keepalive' in Request.prototype) ? events.map((e) => e.event_id) : [];
}

/** The browser says it is online again: retry at once, whatever the backoff said. */
export function retryNow() {
  failedAttempts = retryAt = 0;
  send();
}

/**
 * pageswap: `activation` is set when the navigation stays within the origin (null when it leaves it
 * anywhere in its redirects; MDN, "PageSwapEvent: activation property"). It fires as the old page is
 * about to unload, before its pagehide and visibilitychange (seen in Chromium 156).
 */
export function leavingForSite(e: { activation: unknown }) {
  // Stored even when empty: a next page already running (prerendered, or restored from bfcache)
  // finds the key when it scans at its activation, and waits for this page's lock.
  toSite = e.activation;
  if (toSite) persist();
}

/**
 * pageshow and prerenderingchange. pageshow fires at load, when a page is restored from bfcache
 * (persisted true) and in a prerendered page before its activation (MDN, "Window: pageshow event");
 * prerenderingchange fires on a prerendered document when it is activated (MDN, "Document:
 * prerenderingchange event"). Restored after it left for the site, a page sends again (its outbox is
 * still its own: it holds the key's lock); restored or activated, it takes the outboxes of pages
 * that left since it started, which its start could not see. Any other pageshow changes nothing:
 * toSite is unset and keys already requested are skipped.
 */
export function resume() {
  toSite = caching = 0;
  // Restored after frozen() let its locks go: it asks for the lock of its new key, and takes the old
  // one back like any other, unless another page took it (grantStorage()). At load, before its lock
  // is granted, this only repeats what init did: the key is already requested, the ids the same.
  // With requireConsent, the stored decision is read again: a page of the site may have refused
  // consent meanwhile (which removes it), and a restored page must not grant it back.
  ownsKey
    ? adopt()
    : localStore && (__CS_PRIVACY__ && config.requireConsent && !read(browserStore!, `${PREFIX}c`) ? setConsent('denied') : grantStorage());
  sendOrSchedule();
}

/**
 * Page hide (the last moment a page is sure to run code). Leaving for another page of the same
 * origin (toSite): nothing is sent, the outbox stays stored for the next page, which sends it with
 * its own events, and the marker tells it so. Otherwise what is queued is sent, unless offline or
 * waiting out a backoff, and the marker names what was sent while healthy. The outbox is written
 * once either way.
 */
export function pageHidden(persisted?: boolean) {
  caching ||= persisted;
  // Left to the next page only when really stored under a key this page owns; otherwise (storage
  // off or full, the lock not held) page hide sends as if leaving the site.
  if (toSite) toSite = persist();
  // What to name in the marker: nothing when leaving the outbox to the next page; what was sent, if sent.
  const named = toSite ? [] : navigator.onLine && retryAt <= now() && send(true);
  if (!named) persist();
  // Written when this hide decided something: a send, or leaving the outbox to the next page. A
  // second page-hide event (pagehide, then visibilitychange) with nothing to send leaves the markers
  // as they are; an answer to a named send removes them (send()). Nothing without storage.
  // For this tab's next page: a send made while this page's last answer was an acknowledgement.
  if (named) write(tabStore!, pageKey, (toSite || (lastAnswerAcked && named[0])) && localStore && ({ t: now(), i: named } as HideMarker));
  // For a page of another tab (full build): also a send made before this page had any answer (it
  // knows of no failure), never one after a failure; adopt() says who may judge it.
  if (__CS_TABS__ && named)
    write(localStore!, hideKey(pageKey), (toSite || (lastAnswerAcked !== false && named[0])) && localStore && { t: now(), i: named });
}

/**
 * Entering the back/forward cache: `freeze` (Page Lifecycle API, Chromium: fired after pagehide with
 * `persisted` and visibilitychange, as the page is frozen; seen in Chromium 156), after the site's
 * own page-hide handlers, so what they track is stored too. With the outbox stored, the page lets
 * its locks go and hands the stored events over, as if it were gone. Chromium keeps a page that
 * holds Web Locks in the cache, but evicts it as soon as another page asks for one of them
 * ("WebLocksContention"), and the next page of the site always asks for this page's key (adopt()):
 * held for life, the locks cost every page of the site its instant Back (Chromium 156;
 * test/browser/sdk.test.ts fails without this, CDP's Page.backForwardCacheNotUsed giving
 * WebLocksContention). Restored (resume()), the page asks for its key again and takes back whatever
 * no other page took meanwhile; what another page took, that page sends. Without a stored outbox
 * (storage blocked or full) the page keeps its memory and its locks, as before; so does a page
 * frozen without pagehide (a hidden tab Chromium freezes), and a browser without `freeze`.
 */
export function frozen() {
  // Not with a request in flight: its answer would come to a page that no longer holds those events
  // (a page leaving the origin sends as it goes; it keeps its locks, and may be evicted, as before).
  if (caching && !inFlight[0] && persist()) {
    requested = {};
    ownsKey = false;
    // A new key for when it is restored: another page may have taken the old one, and holds its lock
    // for that page's life; the old key is then taken like any other (adopt()), by this page too.
    pageKey = `${PREFIX}q.${uuid()}`;
    queue = [];
    inFlight = [];
    // Restored, it has heard nothing since: an acknowledgement from before is no evidence for what
    // pages that came after it sent as they went (takeLeftovers()).
    lastAnswerAcked = undefined;
    release();
    held = new Promise((r) => (release = r));
  }
}

/**
 * Takes the outbox of a page that is gone (key `key`, whose lock we hold), with the marker it left
 * this tab, if it was this tab's previous page. What that page sent as it went, while its last
 * answer was an acknowledgement, most likely arrived when our first answer, just now and within
 * HANDOFF_GRACE_MS, is one too: the endpoint answered just before and just after. Anything else is
 * sent again: at once by a page that has had no answer yet (a page just opened: their pages may have
 * met an outage), otherwise with this page's next batch (full build; the core build sends what
 * another tab left at once).
 */
const takeLeftovers = safe((key: string, marker?: HideMarker) => {
  write(tabStore!, key);
  if (__CS_TABS__) write(localStore!, hideKey(key));
  const leftovers = read<Event[]>(localStore!, key);
  write(localStore!, key);
  // Nothing is read while storage is off (a denial after the lock was granted).
  if (leftovers) {
    queue = [
      ...leftovers.filter(
        (e) =>
          !(
            marker &&
            lastAnswerAcked &&
            (!__CS_TABS__ || ackedAt >= marker.t) &&
            now() - marker.t < HANDOFF_GRACE_MS &&
            marker.i.includes(e.event_id)
          ),
      ),
      ...queue,
    ];
    persist();
    // A page that has heard the endpoint (full build: it has a batch schedule of its own) sends them
    // with its next batch, rather than in a request of their own; they are stored under its key meanwhile.
    marker || (__CS_TABS__ && lastAnswerAcked !== undefined) ? sendOrSchedule() : send();
  }
});

/** Keys whose lock this page has requested: its own, and those of pages it takes or waits for. (An object: shorter than a Set.) */
let requested: Record<string, 1> = {};

/**
 * Asks for the lock of every stored outbox key not yet asked for. A page whose locks are refused
 * (sandboxed iframe) just keeps no persistent queue. Without Web Locks (old browsers, http:// pages)
 * every key is taken at once, so two tabs opening together could both take the same leftovers: the
 * server de-duplicates by event_id.
 */
function withLock(name: string, f: () => unknown) {
  if (requested[name]) return;
  requested[name] = 1;
  navigator.locks ? navigator.locks.request(name, f).catch(() => {}) : f();
}

/** Adopts the outbox of every page that is gone, or waits for its page to go (see grantStorage()). */
function adopt() {
  for (const key of keys(localStore!, `${PREFIX}q.`))
    withLock(key, async () => {
      // Read under the key's lock, so after its page's last write (the marker is written at its page hide).
      let marker = read<HideMarker>(tabStore!, key);
      if (__CS_TABS__ && !marker) {
        // A page of another tab, gone (closed, most likely): what it sent as it went is judged only
        // by a page that heard the endpoint acknowledge just before (its last answer, within
        // HANDOFF_GRACE_MS before that send) and sends at once to hear it just after; otherwise it is
        // sent again. Which pages see the marker: see rescan().
        marker = read<HideMarker>(localStore!, hideKey(key));
        if (marker?.i[0] && !(lastAnswerAcked && marker.t - ackedAt < HANDOFF_GRACE_MS && (send() || sending))) marker = undefined;
      }
      // Named events are judged at this page's next answer (its first, for the next page of the tab), when a send is on its way.
      if (marker?.i[0] && (queue[0] || sending)) await answered;
      takeLeftovers(key, marker);
      return held;
    });
}

/**
 * Full build: another page of the origin changed localStorage (the `storage` event; MDN, "Window:
 * storage event"), perhaps writing a new outbox key: ask for its lock too, so that this page takes
 * it the moment its page goes. A tab opened after this page started is otherwise seen only by pages
 * that start after it, and those cannot judge what it sent as it closed (see adopt()).
 */
export function rescan(e: { key: string | null }) {
  // Only outbox keys: the site's own writes to localStorage fire the event too.
  if (ownsKey && e.key?.startsWith(`${PREFIX}q.`)) adopt();
}

/**
 * Storage and sending allowed (at init, or on consent('granted')): takes this page's own key, sends
 * what was held while consent was pending, and adopts the unsent events of pages that are gone. Each page holds a
 * Web Lock named after its storage key for its whole life (until frozen() lets it go); a key whose lock we can take belongs to a
 * closed page, and the lock makes the take exclusive, so two tabs never both send the same
 * leftovers. Waiting (no ifAvailable) means we also inherit from a tab that closes while we are
 * open. The taker keeps the taken key's lock for its own life: another renderer's view of
 * localStorage may lag by a few milliseconds, so a second tab getting the lock right after us could
 * still read the leftovers we just removed (seen in Chromium under load); by the time we are gone,
 * our removal has landed.
 */
function grantStorage() {
  if (__CS_PRIVACY__) {
    consentState = 'granted';
    localStore = browserStore;
  }
  save('aid', anonymousId);
  // A user id set by identify() while consent was pending; otherwise it came from storage.
  if (__CS_PRIVACY__) save('uid', userId);
  if (__CS_PRIVACY__ && config.requireConsent) save('c', 1);
  withLock(pageKey, () => {
    ownsKey = true;
    persist();
    adopt();
    return held;
  });
  // Only consent() arrives here with events held; at init nothing is queued yet.
  if (__CS_PRIVACY__) schedule(0);
}

/**
 * consent(): 'granted' stores the decision and the ids and sends what was held; 'denied' drops what
 * is held and removes every key the SDK stored, and nothing is stored or sent afterwards.
 */
export function setConsent(state: 'granted' | 'denied') {
  if (!__CS_PRIVACY__ || state === consentState || unsampled) return;
  if (state === 'granted') return grantStorage();
  consentState = 'denied';
  localStore = undefined;
  queue = [];
  for (const store of [browserStore, tabStore]) if (store) for (const k of keys(store, PREFIX)) write(store, k);
}

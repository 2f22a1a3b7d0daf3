/**
 * The SDK's outbox state machine (client-sdk/src/delivery.ts) driven directly in Node, without a
 * browser: a fresh module instance per page (jest.isolateModules), jest's fake timers and clock,
 * and small fakes for what delivery.ts uses of the browser: localStorage (shared by the pages of
 * the origin), sessionStorage (per tab), fetch answered by hand, navigator.locks / onLine. Real
 * Chromium covers what only a browser shows (test/browser/*.test.ts).
 */
type Delivery = typeof import('../../client-sdk/src/delivery');
type Ev = { event_id: string; type: string; name?: string; ts: string };

/** The globals delivery.ts reads (storage, navigator, fetch, the build flags), replaced by fakes. */
const G = globalThis as unknown as Record<string, unknown> & { navigator: Record<string, unknown> };

/** A Web Storage look-alike: the stored keys are own properties (as keys() expects). */
function storage(): Record<string, string> {
  const proto = {
    getItem(this: Record<string, string>, k: string) {
      return Object.hasOwn(this, k) ? this[k]! : null;
    },
    setItem(this: Record<string, string>, k: string, v: string) {
      this[k] = `${v}`;
    },
    removeItem(this: Record<string, string>, k: string) {
      delete this[k];
    },
    get length() {
      return Object.keys(this).length;
    },
  };
  return Object.create(proto);
}

interface Send {
  page: string;
  events: Ev[];
  /** Answers with a status and body (default: the contract's acknowledgement) and optional headers. */
  answer(status: number, body?: unknown, headers?: Record<string, string>): void;
  /** Fails like a refused connection. */
  fail(): void;
  aborted: boolean;
}

let local: Record<string, string>;
let sends: Send[];
let held: Map<string, string>;
let waiting: { name: string; page: string; grant: () => void }[];
let current = '';
const dead = new Set<string>();
/** Reading localStorage throws, as where storage is blocked (set before open()). */
let localBlocked = false;

/**
 * A page's view of a store: once its page is gone (leave()) it neither reads nor writes, as a page
 * that is gone runs no code; its timers may still fire, and find nothing to act on.
 */
function view(store: Record<string, string>, page: string): Record<string, string> {
  return new Proxy(store, {
    get(target, key) {
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (...a: string[]) => (dead.has(page) ? null : v.apply(target, a)) : v;
    },
  });
}

beforeEach(() => {
  jest.useFakeTimers({ now: Date.parse('2026-12-01T10:00:00Z'), doNotFake: ['queueMicrotask', 'nextTick'] });
  local = storage();
  localBlocked = false;
  sends = [];
  held = new Map();
  waiting = [];
  dead.clear();
  cached.clear();
  delete G.onpageswap;
  Object.assign(G, {
    __CS_PRIVACY__: true,
    __CS_TABS__: true,
    __CS_RARE__: true,
    __CS_CAMPAIGN__: true,
    __CS_VERSION__: 'test',
    localStorage: local,
    navigator: { onLine: true, locks: { request: lock }, sendBeacon: () => true },
    // Each page posts to its own endpoint path (open()), so a send is told apart by page even when
    // several pages' timers run.
    fetch: (url: string, init: { body: string; signal: AbortSignal }) =>
      new Promise((resolve, reject) => {
        const page = new URL(url).pathname.split('/')[1]!;
        // A gone page sends nothing (its timers still fire here).
        if (dead.has(page)) return;
        const send: Send = {
          page,
          events: JSON.parse(init.body).events,
          aborted: false,
          answer: (status, body = { accepted: 1, rejected: [] }, headers = {}) =>
            dead.has(page) ||
            resolve({ ok: status < 300, status, json: async () => body, headers: { get: (h: string) => headers[h] ?? null } }),
          fail: () => dead.has(page) || reject(new TypeError('Failed to fetch')),
        };
        init.signal.addEventListener('abort', () => {
          send.aborted = true;
          reject(init.signal.reason);
        });
        sends.push(send);
      }),
  });
});
afterEach(() => {
  jest.clearAllTimers();
  jest.useRealTimers();
  jest.restoreAllMocks();
});

function grantWaiting() {
  for (const w of [...waiting])
    if (dead.has(w.page)) waiting.splice(waiting.indexOf(w), 1);
    else if (!held.has(w.name)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.grant();
    }
}
/**
 * Web Locks: a lock is held until its page dies or its callback's promise settles (the SDK's settle
 * only when a page enters the back/forward cache); callbacks run in a later microtask, as in browsers.
 */
function lock(name: string, cb: () => unknown) {
  const page = current;
  // Chromium evicts a page in the back/forward cache the moment another page asks for a lock it
  // holds (WebLocksContention): the page is gone, and its locks go.
  const holder = held.get(name);
  if (holder && cached.has(holder)) evict(holder);
  const free = () => {
    if (held.get(name) !== page) return;
    held.delete(name);
    grantWaiting();
  };
  return new Promise((_, fail) => {
    const run = () =>
      dead.has(page)
        ? undefined
        : Promise.resolve(cb()).then(free, (e) => {
            free();
            fail(e);
          });
    const grant = () => {
      held.set(name, page);
      queueMicrotask(run);
    };
    waiting.push({ name, page, grant });
    grantWaiting();
  });
}

/** Pages in the back/forward cache (freeze() to thaw()). */
const cached = new Set<string>();
/** A page in the back/forward cache is evicted: it runs no more code, and its locks go. */
function evict(name: string) {
  cached.delete(name);
  dead.add(name);
  for (const [k, p] of held) if (p === name) held.delete(k);
  grantWaiting();
}
/** The page enters the back/forward cache (Chromium's `freeze`, after its page-hide events). */
function freeze(name: string, d: Delivery) {
  d.frozen();
  cached.add(name);
}
/** Back or Forward restores it (`pageshow` with persisted). */
function thaw(name: string, d: Delivery) {
  cached.delete(name);
  current = name;
  d.resume();
}

/** Opens a page of a tab: a fresh instance of the module, started with `opts`. */
function open(name: string, tab: Record<string, string>, opts: object = {}): Delivery {
  current = name;
  G.sessionStorage = view(tab, name);
  G.localStorage = localBlocked ? null : view(local, name);
  let d!: Delivery;
  jest.isolateModules(() => {
    d = require('../../client-sdk/src/delivery');
  });
  d.startDelivery({ endpoint: `https://c.example/${name}/v1/events`, siteId: 'demo', batchSize: 20, flushInterval: 5000, ...opts });
  return d;
}
/**
 * Leaves a page as a navigation does (`toSite`: to another page of the origin, as pageswap says):
 * page hide, then the page is gone (no storage, no sends: see view()) and its locks go. Other
 * pages' timers keep running.
 */
function leave(name: string, d: Delivery, toSite?: boolean) {
  // The order a navigation fires them in: pageswap (where the browser has it), then page hide.
  if (toSite) d.leavingForSite({ activation: {} });
  d.pageHidden();
  dead.add(name);
  for (const [k, p] of held) if (p === name) held.delete(k);
  grantWaiting();
}
const track = (d: Delivery, ...names: string[]) => {
  for (const name of names) d.record('custom', { name }, '');
};
/** Lets promise callbacks and lock grants run, and moves the clock by `ms`. */
const tick = (ms = 0) => jest.advanceTimersByTimeAsync(ms);
const names = (events: Ev[]) => events.map((e) => e.name || e.type);
/** Every event of the origin's outbox (all cs_q.* keys), by name. */
const outbox = () =>
  Object.keys(local)
    .filter((k) => k.startsWith('cs_q.'))
    .flatMap((k) => names(JSON.parse(local[k]!)));

describe('SDK state machine: batching', () => {
  it('sends the first batch at once, later ones after flushInterval, and a full batch at once', async () => {
    // Prepare
    const d = open('a', storage());
    await tick();
    // Act: the first event, before any answer: sent at once
    track(d, 'first');
    await tick();
    expect(sends.map((s) => names(s.events))).toEqual([['first']]);
    sends[0]!.answer(200);
    await tick();
    // ...after an answer, small batches wait for flushInterval
    track(d, 'second');
    await tick(4_999);
    expect(sends).toHaveLength(1);
    await tick(1);
    expect(names(sends[1]!.events)).toEqual(['second']);
    sends[1]!.answer(200);
    await tick();
    // ...and a full batch (batchSize 20) goes without waiting
    track(d, ...Array.from({ length: 20 }, (_, i) => `b${i}`));
    await tick();
    // Assess
    expect(sends).toHaveLength(3);
    expect(sends[2]!.events).toHaveLength(20);
  });

  it('closes a batch at 10,000 characters of JSON, whatever batchSize says', async () => {
    const d = open('a', storage(), { batchSize: 500 });
    await tick();
    track(d, 'first');
    await tick();
    sends[0]!.answer(200);
    await tick();
    // Act: 100 events of about 500 characters each, then the flush interval
    track(d, ...Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(300, 'x')));
    await tick(5_000);
    // Assess: one batch in flight, and it stays under the limit
    expect(sends).toHaveLength(2);
    expect(sends[1]!.events.length).toBeLessThan(100);
    expect(JSON.stringify({ site_id: 'demo', sent_at: '', events: sends[1]!.events }).length).toBeLessThanOrEqual(10_000);
  });
});

describe('SDK state machine: batch size and order', () => {
  it('a batch takes at most batchSize events, and a failed batch is retried before what was queued after it', async () => {
    // Prepare: batchSize 3; the first send (one event) fails while 4 more are queued
    const a = open('a', storage(), { batchSize: 3 });
    await tick();
    track(a, 'e0');
    await tick();
    track(a, 'e1', 'e2', 'e3', 'e4');
    sends[0]!.answer(503);
    // Act: the retry after the backoff (at most 1 s), then the rest
    await tick(1_000);
    sends[1]!.answer(200);
    await tick(5_000);
    // Assess: e0 first, batches of 3 at most
    expect(sends.map((s) => names(s.events))).toEqual([['e0'], ['e0', 'e1', 'e2'], ['e3', 'e4']]);
  });
});

describe('SDK state machine: answers', () => {
  it('an acknowledged send leaves storage; until then its events are stored', async () => {
    const d = open('a', storage());
    await tick();
    track(d, 'x');
    await tick();
    expect(outbox()).toEqual(['x']);
    sends[0]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
  });

  it.each([
    ['a 503', (s: Send) => s.answer(503, { message: 'Service Unavailable' })],
    ['a 200 without an accepted count', (s: Send) => s.answer(200, { errorMessage: 'boom' })],
    ['a network error', (s: Send) => s.fail()],
  ])('%s keeps the events stored and retries them after the backoff (0.5-1 s)', async (_, answer) => {
    const d = open('a', storage(), { flushInterval: 100 });
    await tick();
    track(d, 'x');
    await tick();
    answer(sends[0]!);
    await tick();
    expect(outbox()).toEqual(['x']);
    await tick(499);
    expect(sends).toHaveLength(1);
    await tick(501);
    expect(sends.map((s) => names(s.events))).toEqual([['x'], ['x']]);
    sends[1]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
  });

  it('a final 4xx drops the batch', async () => {
    const d = open('a', storage());
    await tick();
    track(d, 'x');
    await tick();
    sends[0]!.answer(400, { message: 'bad' });
    await tick(120_000);
    expect(outbox()).toEqual([]);
    expect(sends).toHaveLength(1);
  });

  it('a send unanswered after 15 s is aborted and retried; the events stay stored meanwhile', async () => {
    const d = open('a', storage(), { flushInterval: 100 });
    await tick();
    track(d, 'x');
    await tick(14_999);
    expect(sends[0]!.aborted).toBe(false);
    expect(sends).toHaveLength(1);
    await tick(1);
    expect(sends[0]!.aborted).toBe(true);
    expect(outbox()).toEqual(['x']);
    await tick(1_000);
    expect(sends.map((s) => names(s.events))).toEqual([['x'], ['x']]);
  });

  it('backs off exponentially, waits at least Retry-After, and the online event retries at once', async () => {
    const d = open('a', storage(), { flushInterval: 100 });
    await tick();
    track(d, 'x');
    await tick();
    // Act: a 429 asking for 30 s
    sends[0]!.answer(429, { message: 'Too Many Requests' }, { 'retry-after': '30' });
    await tick(29_999);
    // Assess: nothing before Retry-After...
    expect(sends).toHaveLength(1);
    await tick(1);
    expect(sends).toHaveLength(2);
    // ...then failures back off 1-2 s (second attempt), 2-4 s (third)...
    sends[1]!.answer(503);
    await tick(999);
    expect(sends).toHaveLength(2);
    await tick(1_001);
    expect(sends).toHaveLength(3);
    sends[2]!.answer(503);
    await tick(1_999);
    expect(sends).toHaveLength(3);
    // ...and coming back online retries now, whatever the backoff said
    d.retryNow();
    await tick();
    expect(sends).toHaveLength(4);
  });
});

describe('SDK state machine: page hide and the next page', () => {
  /** Page A of a tab: its first send answered `first`, then x and y tracked and the page left. */
  async function pageA(tab: Record<string, string>, first: number, opts: object = {}) {
    const a = open('a', tab, opts);
    await tick();
    track(a, 'first');
    await tick();
    sends[0]!.answer(first);
    await tick();
    track(a, 'x', 'y');
    leave('a', a);
    return a;
  }
  /**
   * Page B: opens and tracks its first event; its first send is answered `status` after `delayMs`,
   * every later one 200, for a minute. Returns the names B sent (its own first event left out): the
   * previous page's events it sent again, with its first batch or after.
   */
  async function pageB(tab: Record<string, string>, status: number, delayMs = 0) {
    const n = sends.length;
    // Its first event in the same task as the start, as init() records the page view
    const b = open('b', tab);
    track(b, 'b_first');
    await tick();
    // No pageswap here: the first batch goes at once
    const first = sends.find((s) => s.page === 'b')!;
    expect(names(first.events)).toContain('b_first');
    jest.setSystemTime(Date.now() + delayMs);
    first.answer(status);
    for (let i = 0; i < 60; i++) {
      for (const s of sends.slice(n)) if (s.page === 'b' && s !== first) s.answer(200);
      await tick(1_000);
    }
    return sends
      .slice(n)
      .filter((s) => s.page === 'b')
      .flatMap((s) => names(s.events))
      .filter((x) => x !== 'b_first');
  }

  it('sends at page hide with keepalive and keeps the events stored; the marker names them after an acknowledgement', async () => {
    const tab = storage();
    await pageA(tab, 200);
    expect(names(sends.at(-1)!.events)).toEqual(['x', 'y']);
    expect(outbox()).toEqual(['x', 'y']);
    const marker = JSON.parse(Object.values(tab)[0]!);
    expect(marker.i).toEqual(sends.at(-1)!.events.map((e) => e.event_id));
  });

  it('names nothing in the marker when the last answer was a failure', async () => {
    const tab = storage();
    const a = open('a', tab, { flushInterval: 100 });
    await tick();
    track(a, 'first');
    await tick();
    sends[0]!.answer(503);
    await tick(1_000);
    // the retry is in flight, unanswered; the page leaves
    track(a, 'x');
    leave('a', a);
    expect(Object.keys(tab)).toEqual([]);
    expect(outbox().sort()).toEqual(['first', 'x']);
  });

  it('sends nothing at page hide during a backoff wait or offline; everything stays stored', async () => {
    const a = open('a', storage());
    await tick();
    track(a, 'first');
    await tick();
    sends[0]!.fail();
    await tick();
    track(a, 'x');
    leave('a', a);
    expect(sends).toHaveLength(1);
    expect(outbox().sort()).toEqual(['first', 'x']);

    const b = open('b', storage());
    await tick();
    G.navigator.onLine = false;
    track(b, 'y');
    leave('b', b);
    expect(sends.filter((s) => s.page === 'b').flatMap((s) => names(s.events))).not.toContain('y');
    expect(outbox()).toContain('y');
  });

  it('the next page of the tab adopts the key and drops the named events on an acknowledgement within 10 s', async () => {
    const tab = storage();
    await pageA(tab, 200);
    expect(await pageB(tab, 200, 9_000)).toEqual([]);
    expect(outbox()).toEqual([]);
  });

  it.each([
    ['its first answer is a failure', 503, 0],
    ['its first acknowledgement comes after 10 s', 200, 10_001],
  ])('sends the named events again when %s', async (_, status, delay) => {
    const tab = storage();
    await pageA(tab, 200);
    expect((await pageB(tab, status, delay)).sort()).toEqual(['x', 'y']);
    expect(outbox()).toEqual([]);
  });

  it('another tab adopts a gone page key at once and sends everything again, with its first batch: it has no marker', async () => {
    await pageA(storage(), 200);
    expect((await pageB(storage(), 200)).sort()).toEqual(['x', 'y']);
    expect(outbox()).toEqual([]);
  });

  it('another tab adopts a gone page key at once, even where the first batch waits (pageswap): it has no marker', async () => {
    // Prepare: a browser with pageswap; page A of tab 1 leaves with x sent at page hide, unanswered
    G.onpageswap = null;
    const a = open('a', storage());
    await tick();
    track(a, 'first');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    track(a, 'x');
    leave('a', a);
    // Act: a page of another tab opens
    const b = open('b', storage());
    track(b, 'b_first');
    await tick();
    // Assess: x goes again at once, with b_first, not after flushInterval
    expect(sends.slice(2).map((s) => [s.page, names(s.events)])).toEqual([['b', ['x', 'b_first']]]);
  });

  it('the next page of the tab removes the marker of the key it takes', async () => {
    const tab = storage();
    await pageA(tab, 200);
    expect(Object.keys(tab)).toHaveLength(1);
    open('b', tab);
    await tick();
    expect(Object.keys(tab)).toEqual([]);
  });

  it('does not take the key of a page that is still open', async () => {
    const a = open('a', storage());
    await tick();
    track(a, 'first');
    await tick();
    sends[0]!.fail();
    await tick();
    await pageB(storage(), 200);
    expect(outbox()).toContain('first');
  });

  it('with keepUntilAcked, names nothing, so the next page sends them again', async () => {
    const tab = storage();
    await pageA(tab, 200, { keepUntilAcked: true });
    expect(Object.keys(tab)).toEqual([]);
    expect((await pageB(tab, 200)).sort()).toEqual(['x', 'y']);
  });
});

describe('SDK state machine: pageswap (a page leaving for another page of the site)', () => {
  it('sends nothing at page hide; the next page of the tab sends those events with its own first batch, after flushInterval', async () => {
    // Prepare: a browser that fires pageswap
    G.onpageswap = null;
    const tab = storage();
    const a = open('a', tab);
    await tick();
    track(a, 'first');
    await tick(4_999);
    // the first batch waits for flushInterval like any other: nothing depends on its answer here
    expect(sends).toHaveLength(0);
    await tick(1);
    sends[0]!.answer(200);
    await tick();
    // Act: two events, then a navigation within the site
    track(a, 'x', 'y');
    leave('a', a, true);
    // Assess: nothing sent as it went; the events wait in storage, and the marker says so
    expect(sends).toHaveLength(1);
    expect(outbox()).toEqual(['x', 'y']);
    expect(JSON.parse(Object.values(tab)[0]!).i).toEqual([]);
    // Act: the next page of the tab
    const b = open('b', tab);
    track(b, 'b_first');
    await tick(4_999);
    expect(sends).toHaveLength(1);
    await tick(1);
    // Assess: one request with everything, the previous page's events first
    expect(sends.slice(1).map((s) => names(s.events))).toEqual([['x', 'y', 'b_first']]);
    sends[1]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
  });

  it('sends nothing once the page is leaving for the site, not even a batch its last events fill up', async () => {
    G.onpageswap = null;
    const a = open('a', storage());
    await tick(5_000);
    // Act: pageswap, then (as the page-hide handlers do) events that make a full batch, then page hide
    a.leavingForSite({ activation: {} });
    track(a, ...Array.from({ length: 20 }, (_, i) => `e${i}`));
    a.pageHidden();
    await tick();
    // Assess
    expect(sends).toHaveLength(0);
    expect(outbox()).toHaveLength(20);
  });

  it('without pageswap, the first batch goes at once and page hide sends', async () => {
    const a = open('a', storage());
    await tick();
    track(a, 'first');
    await tick();
    expect(sends).toHaveLength(1);
    sends[0]!.answer(200);
    await tick();
    track(a, 'x');
    leave('a', a);
    expect(sends.map((s) => names(s.events))).toEqual([['first'], ['x']]);
  });
});

describe('SDK state machine: pageswap, when the outbox cannot be carried or the page comes back', () => {
  /** Makes the outbox key unwritable, as a full localStorage does; the rest of storage works. */
  const quotaFull = () => {
    const proto = Object.getPrototypeOf(local) as { setItem: (k: string, v: string) => void };
    const setItem = proto.setItem;
    jest.spyOn(proto, 'setItem').mockImplementation(function (this: Record<string, string>, k: string, v: string) {
      if (k.startsWith('cs_q.')) throw new DOMException('full', 'QuotaExceededError');
      setItem.call(this, k, v);
    });
  };
  it.each([
    ['storage is blocked', {}, () => (localBlocked = true)],
    ['the page is cookieless', { cookieless: true }, () => {}],
    ['storage is full', {}, quotaFull],
    // A lock never granted: another page holds it, or the browser refuses it (sandboxed frame).
    ['the page does not hold its key lock', {}, () => (G.navigator.locks = { request: () => new Promise(() => {}) })],
  ])('sends at page hide when %s: nothing would be stored for the next page', async (_, opts, prepare) => {
    // Prepare: a browser that fires pageswap (so the first batch waits 5 s)
    G.onpageswap = null;
    prepare();
    const a = open('a', storage(), opts);
    await tick();
    track(a, 'pv');
    await tick(3_000);
    expect(sends).toHaveLength(0);
    // Act: a navigation within the site, an event recorded by the page-hide handlers
    a.leavingForSite({ activation: {} });
    track(a, 'engagement');
    leave('a', a);
    // Assess: sent as it went, not lost
    expect(sends.map((s) => names(s.events))).toEqual([['pv', 'engagement']]);
  });

  it('restored from bfcache after pageswap, the page sends again, what it carried and what comes next', async () => {
    G.onpageswap = null;
    const a = open('a', storage());
    await tick();
    track(a, 'pv');
    await tick(3_000);
    a.leavingForSite({ activation: {} });
    a.pageHidden();
    expect(sends).toHaveLength(0);
    // Act: pageshow with persisted; the visitor reads on and clicks
    a.resume();
    track(a, 'after_restore');
    await tick(5_000);
    // Assess
    expect(sends.map((s) => names(s.events))).toEqual([['pv', 'after_restore']]);
    sends[0]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
  });

  describe.each([true, false])('entering the back/forward cache (pagehide persisted; __CS_TABS__ %s)', (tabs) => {
    beforeEach(() => {
      G.onpageswap = null;
      G.__CS_TABS__ = tabs;
    });

    it('lets its key go: the next page sends what it carried, and the page, restored, sends none of it again', async () => {
      // Prepare: page a carries an unsent page view to the next page of its tab, and enters the cache (not gone)
      const tab = storage();
      const a = open('a', tab);
      await tick();
      track(a, 'pv_a');
      await tick(3_000);
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden();
      freeze('a', a);
      // Act: the next page starts while a sits in the cache
      const b = open('b', tab);
      await tick();
      track(b, 'pv_b');
      await tick(5_000);
      // Assess: b took a's outbox at once (a held its lock for life before, so b waited for ever)
      expect(sends.map((x) => [x.page, names(x.events)])).toEqual([['b', ['pv_a', 'pv_b']]]);
      sends[0]!.answer(200);
      await tick();
      // Act: Back: b enters the cache in turn, a is restored and the visitor clicks
      b.leavingForSite({ activation: {} });
      b.pageHidden(true);
      b.pageHidden();
      freeze('b', b);
      current = 'a';
      thaw('a', a);
      track(a, 'click_a');
      await tick(5_000);
      // Assess: a sends only what is new; nothing is left stored
      expect(sends.slice(1).map((x) => [x.page, names(x.events)])).toEqual([['a', ['click_a']]]);
      sends[1]!.answer(200);
      await tick();
      expect(outbox()).toEqual([]);
    });

    it('restored before any other page took its key, sends what it had stored, once', async () => {
      const a = open('a', storage());
      await tick();
      track(a, 'pv');
      await tick(3_000);
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden();
      freeze('a', a);
      expect(sends).toHaveLength(0);
      // Act: Back before any other page ran; the visitor clicks
      thaw('a', a);
      track(a, 'after_restore');
      await tick(5_000);
      // Assess
      expect(sends.flatMap((x) => names(x.events)).sort()).toEqual(['after_restore', 'pv']);
      for (const x of sends) x.answer(200);
      await tick();
      expect(outbox()).toEqual([]);
    });

    it('consent refused on the next page, then Back: the restored page neither grants it again nor tracks', async () => {
      const tab = storage();
      const a = open('a', tab, { requireConsent: true });
      a.setConsent('granted');
      track(a, 'pv_a');
      await tick(6_000);
      for (const x of sends) x.answer(200);
      await tick();
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden();
      freeze('a', a);
      const b = open('b', tab, { requireConsent: true });
      track(b, 'pv_b');
      await tick();
      b.setConsent('denied');
      // Back: b enters the cache, a is restored; the visitor clicks on a
      b.leavingForSite({ activation: {} });
      b.pageHidden(true);
      b.pageHidden();
      freeze('b', b);
      thaw('a', a);
      await tick();
      track(a, 'after_denial');
      await tick(6_000);
      expect(Object.keys(local)).toEqual([]);
      expect(sends.flatMap((x) => names(x.events))).toEqual(['pv_a']);
    });

    it('a hidden tab Chromium freezes (no pagehide) keeps its key: a tab opened meanwhile does not take its events', async () => {
      const a = open('a', storage());
      await tick();
      track(a, 'pv_a');
      await tick(3_000);
      // The tab goes to the background (visibilitychange only) while offline, so pv_a stays stored;
      // later Chromium freezes it
      G.navigator.onLine = false;
      a.pageHidden();
      freeze('a', a);
      cached.delete('a'); // not in the back/forward cache: nothing evicts it
      G.navigator.onLine = true;
      const b = open('b', storage());
      track(b, 'pv_b');
      await tick(5_000);
      // (The fake timers do not freeze a's; a frozen page's timers do not run.)
      expect(sends.filter((x) => x.page === 'b').flatMap((x) => names(x.events))).toEqual(['pv_b']);
      expect(outbox()).toContain('pv_a');
    });

    it('with storage full, keeps its events in memory and its locks, and sends them when back online', async () => {
      const a = open('a', storage());
      await tick();
      track(a, 'pv');
      await tick(5_000);
      sends[0]!.answer(200);
      await tick();
      track(a, 'offline_click');
      // Storage fills up, the network goes: page hide can neither store nor send
      const setItem = jest.spyOn(Object.getPrototypeOf(local), 'setItem').mockImplementation(() => {
        throw new DOMException('full', 'QuotaExceededError');
      });
      G.navigator.onLine = false;
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden();
      freeze('a', a);
      // Act: restored, back online
      setItem.mockRestore();
      G.navigator.onLine = true;
      thaw('a', a);
      a.retryNow();
      await tick(5_000);
      // Assess
      expect(sends.slice(1).flatMap((x) => names(x.events))).toContain('offline_click');
    });
  });

  /** Answers every not yet answered send for `secs` seconds: `status(send)` decides each answer. */
  async function drive(status: (s: Send) => number, secs = 60) {
    const seen = new Set<Send>();
    for (let i = 0; i < secs; i++) {
      for (const s of sends) if (!seen.has(s)) seen.add(s) && s.answer(status(s));
      await tick(1_000);
    }
  }
  const sentNames = (page?: string) => sends.filter((s) => !page || s.page === page).flatMap((s) => names(s.events));

  describe.each([true, false])('the back/forward cache, cases a review found (__CS_TABS__ %s)', (tabs) => {
    beforeEach(() => {
      G.__CS_TABS__ = tabs;
    });

    it('an event the site tracks in its own visibilitychange handler (after the SDK hides) survives a bfcache entry that ends in eviction', async () => {
      G.onpageswap = null;
      const tab = storage();
      const a = open('a', tab);
      track(a, 'pv_a');
      await tick(3_000);
      // Chromium, a link to another page of the site: pageswap -> pagehide(persisted) -> visibilitychange(hidden)
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden(); // the SDK's visibilitychange listener (capture) runs first
      track(a, 'site_vis'); // then the site's own visibilitychange listener
      await tick(); // its end-of-task write (microtask), before the page freezes
      freeze('a', a);
      // The next page of the tab
      const b = open('b', tab);
      track(b, 'pv_b');
      await tick();
      // a stays in the cache and is evicted later (cache full, 10 min TTL, ...)
      evict('a');
      await drive(() => 200);
      open('c', storage()); // and a later page, to sweep anything left stored
      await tick();
      await drive(() => 200);
      expect([...sentNames(), ...outbox()]).toEqual(expect.arrayContaining(['pv_a', 'pv_b', 'site_vis']));
    });

    it('an event the site tracks in its own pagehide handler survives when the network is down (offline) and the page is then evicted', async () => {
      G.onpageswap = null;
      const tab = storage();
      const a = open('a', tab);
      track(a, 'pv_a');
      await tick(3_000);
      G.navigator.onLine = false;
      a.leavingForSite({ activation: {} });
      a.pageHidden(true); // SDK's pagehide listener (capture)
      track(a, 'site_ph'); // the site's pagehide listener
      await tick();
      a.pageHidden(); // SDK's visibilitychange listener: offline, sends nothing
      await tick();
      freeze('a', a);
      const b = open('b', tab);
      track(b, 'pv_b');
      await tick();
      evict('a');
      G.navigator.onLine = true;
      current = 'b';
      b.retryNow();
      await drive(() => 200);
      expect([...sentNames(), ...outbox()]).toEqual(expect.arrayContaining(['pv_a', 'pv_b', 'site_ph']));
    });

    it('restored while a page of another tab holds its old key, the page stores what it tracks after the restore', async () => {
      G.onpageswap = null;
      const t1 = storage();
      const a = open('a', t1);
      track(a, 'pv_a');
      await tick(1_000); // unsent (first batch waits 5 s), stored under a's key
      // A second tab of the site opens; its start asks for the lock of a's key (a lives: it waits)
      const c = open('c', storage());
      track(c, 'pv_c');
      await tick();
      // Tab 1: a link to another page of the site (a enters the cache)
      a.leavingForSite({ activation: {} });
      a.pageHidden(true);
      a.pageHidden();
      await tick();
      freeze('a', a);
      const a2 = open('a2', t1);
      track(a2, 'pv_a2');
      await tick(100);
      // Back: a2 enters the cache in turn, a is restored; the visitor clicks
      a2.leavingForSite({ activation: {} });
      a2.pageHidden(true);
      a2.pageHidden();
      freeze('a2', a2);
      current = 'a';
      thaw('a', a);
      await tick();
      track(a, 'after_restore');
      await tick();
      const storedNow = outbox();
      // An outage for a's requests (the network of tab 1's page; c's own sends pass): a retries, then the tab is closed
      await drive((s) => (s.page === 'a' ? 503 : 200), 30);
      leave('a', a);
      evict('a2');
      await drive(() => 200, 30);
      const d = open('d', storage());
      track(d, 'pv_d');
      await tick();
      await drive(() => 200, 30);
      expect(storedNow).toContain('after_restore');
      expect([...sentNames('c'), ...sentNames('d'), ...outbox()]).toEqual(expect.arrayContaining(['after_restore']));
    });

    it('left for another origin (a page-hide send, acknowledged) and restored by Back, the page does not send that batch again', async () => {
      G.onpageswap = null;
      const a = open('a', storage());
      track(a, 'pv');
      await tick(5_000);
      sends[0]!.answer(200);
      await tick();
      track(a, 'x'); // e.g. the engagement event the full build records at page hide
      // A link to another origin: pageswap without activation, pagehide(persisted), visibilitychange
      a.leavingForSite({ activation: null });
      a.pageHidden(true);
      a.pageHidden();
      freeze('a', a);
      expect(names(sends.at(-1)!.events)).toEqual(['x']);
      // Its answer, queued while the page is frozen, then Back
      sends.at(-1)!.answer(200);
      thaw('a', a);
      await drive(() => 200);
      expect(sentNames().filter((n) => n === 'x')).toHaveLength(1);
    });

    it("restored after its own late acknowledgement, the page does not judge the next page's failed page-hide send by it (no pageswap)", async () => {
      const tab = storage();
      const a = open('a', tab);
      track(a, 'pv_a');
      await tick();
      sends.at(-1)!.answer(200);
      await tick();
      track(a, 'a_x');
      a.pageHidden(true); // page hide without pageswap: sends a_x, enters the cache
      const s1 = sends.at(-1)!;
      expect(names(s1.events)).toEqual(['a_x']);
      a.pageHidden();
      freeze('a', a);
      const b = open('b', tab);
      track(b, 'pv_b');
      await tick();
      sends.at(-1)!.answer(200);
      await tick(1_000);
      // An outage starts; b tracks a click; Back: b's page-hide send fails, unheard (b is frozen, later evicted)
      track(b, 'b_click');
      await tick();
      b.pageHidden(true);
      expect(names(sends.at(-1)!.events)).toEqual(['b_click']);
      b.pageHidden();
      freeze('b', b);
      // a thaws: the answer to its page-hide send (which did arrive, before the outage) is delivered, then pageshow
      current = 'a';
      s1.answer(200);
      thaw('a', a);
      await tick();
      evict('b');
      const n = sends.length;
      await drive((s) => (sends.indexOf(s) >= n ? 503 : 200));
      expect([...outbox(), ...sends.slice(n).flatMap((s) => names(s.events))]).toEqual(expect.arrayContaining(['b_click']));
    });
  });

  it.each([
    ['before the previous page hides', true],
    ['after the previous page is gone', false],
  ])('a next page started early (prerendered) takes what the previous page carried when it is activated %s', async (_, early) => {
    G.onpageswap = null;
    const tab = storage();
    // Prepare: page A, healthy, nothing unsent
    const a = open('a', tab);
    await tick();
    track(a, 'pv_a');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
    // B is prerendered (speculation rules): its SDK starts while A lives, and finds no outbox to take
    const b = open('b', tab);
    track(b, 'pv_b');
    await tick();
    // Act: B is activated (pageswap in A, prerenderingchange in B), A's page-hide handlers record an event, A goes
    a.leavingForSite({ activation: {} });
    if (early) b.resume();
    track(a, 'click_a');
    leave('a', a);
    if (!early) b.resume();
    await tick(5_000);
    // Assess: B sends A's event with its own next batch, and nothing stays stored
    expect(sends.slice(1).map((s) => [s.page, names(s.events)])).toEqual([['b', ['click_a', 'pv_b']]]);
    sends[1]!.answer(200);
    await tick();
    expect(outbox()).toEqual([]);
  });
});

describe('SDK state machine: the marker', () => {
  async function healthyPage(tab: Record<string, string>) {
    const a = open('a', tab);
    await tick();
    track(a, 'first');
    await tick();
    sends[0]!.answer(200);
    await tick();
    return a;
  }
  const marker = (tab: Record<string, string>) => Object.values(tab).map((v) => JSON.parse(v).i);

  it('stops naming a page-hide send that fails while the page lives on (a tab switch, then back)', async () => {
    const tab = storage();
    const a = await healthyPage(tab);
    track(a, 'x');
    // Act: the tab is hidden (the page stays), its page-hide send fails
    a.pageHidden();
    expect(marker(tab)).toEqual([[sends[1]!.events[0]!.event_id]]);
    sends[1]!.answer(503);
    await tick();
    // Assess: no marker names it any more, so a next page (say, after the browser discarded this one) sends it again
    expect(marker(tab)).toEqual([]);
    expect(outbox()).toEqual(['x']);
  });

  it('keeps naming the send when a second page-hide event (pagehide, then visibilitychange) has nothing to send', async () => {
    const tab = storage();
    const a = await healthyPage(tab);
    track(a, 'x', 'y');
    a.pageHidden();
    a.pageHidden();
    expect(marker(tab)).toEqual([sends[1]!.events.map((e) => e.event_id)]);
  });

  it('a page-hide send does not hold back the next batches when the page lives on (a tab switch, then back)', async () => {
    const tab = storage();
    const a = await healthyPage(tab);
    track(a, 'x');
    a.pageHidden();
    sends[1]!.answer(200);
    await tick();
    // Act: the tab is shown again; a new event
    track(a, 'y');
    await tick(5_000);
    // Assess
    expect(sends.map((s) => names(s.events))).toEqual([['first'], ['x'], ['y']]);
  });

  it('page hide writes the outbox once', async () => {
    const a = await healthyPage(storage());
    track(a, 'x');
    const setItem = jest.spyOn(Object.getPrototypeOf(local) as { setItem: (k: string, v: string) => void }, 'setItem');
    a.pageHidden();
    expect(setItem.mock.calls.filter(([k]) => k.startsWith('cs_q.'))).toHaveLength(1);
  });
});

describe("SDK state machine: a closed tab's page-hide send, judged by a page of another tab (full build)", () => {
  /**
   * A browser with pageswap (first batches wait). Page M of tab 1: its first batch acknowledged at
   * `ackAgoMs` before the side tab closes, then `m2` queued (unless `mQueued` is false). Page S of
   * tab 2 opens after M (M hears of its key through the storage event: rescan()), tracks s1 and s2,
   * and is closed: its page-hide send goes, unanswered (the page is gone). M holds S's lock by then.
   */
  async function sideTabClosed({ ackAgoMs = 2_000, mQueued = true, sideFailedFirst = false } = {}) {
    G.onpageswap = null;
    const m = open('m', storage());
    track(m, 'm_first');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    const s = open('s', storage());
    track(s, 's1', 's2');
    await tick();
    // The storage event reaches M (its lock requests are M's)
    current = 'm';
    m.rescan({ key: 'site_key' });
    await tick();
    expect(held.get(Object.keys(local).find((k) => k.startsWith('cs_q.'))!)).toBe('s');
    expect(waiting.map((w) => w.page)).toEqual([]);
    m.rescan({ key: Object.keys(local).find((k) => k.startsWith('cs_q.'))! });
    await tick();
    if (sideFailedFirst) {
      // S's own first batch went (a full one) and failed: it knows of an outage
      s.send();
      sends.at(-1)!.answer(503);
      await tick();
    }
    jest.setSystemTime(Date.now() + ackAgoMs);
    if (mQueued) track(m, 'm2');
    await tick();
    const n = sends.length;
    leave('s', s);
    const sideHide = sends[n]!;
    expect(sideHide.page).toBe('s');
    await tick();
    return { m, later: () => sends.slice(n + 1) };
  }
  /** Answers every send of M with `status` for a minute; returns the names M sent after S closed. */
  async function mSends(later: () => Send[], status: number) {
    const answered = new Set<Send>();
    for (let i = 0; i < 60; i++) {
      for (const x of later()) if (!answered.has(x) && x.page === 'm') answered.add(x) && x.answer(answered.size === 1 ? status : 200);
      await tick(1_000);
    }
    return later()
      .filter((x) => x.page === 'm')
      .flatMap((x) => names(x.events));
  }

  it('drops what it sent as it closed when the page that takes it heard an acknowledgement just before and sends at once to hear one just after', async () => {
    const { later } = await sideTabClosed();
    // Assess: M sent its own queued event at once (not after flushInterval), and only that
    expect(later().map((x) => [x.page, names(x.events)])).toEqual([['m', ['m2']]]);
    expect(await mSends(later, 200)).toEqual(['m2']);
    expect(outbox()).toEqual([]);
    expect(Object.keys(local).filter((k) => k.startsWith('cs_h.'))).toEqual([]);
  });

  it.each([
    ['the answer just after is a failure (the outage goes on)', {}, 503],
    ["the page's last acknowledgement came 10 s or more before the close", { ackAgoMs: 10_000 }, 200],
    ['the page has nothing to send, so it hears no answer just after', { mQueued: false }, 200],
    ["the closed page's own last answer was a failure", { sideFailedFirst: true }, 200],
  ])('sends it again when %s', async (_, opts, status) => {
    const { later } = await sideTabClosed(opts);
    const sent = await mSends(later, status);
    expect(sent.filter((x) => x.startsWith('s'))).toEqual(['s1', 's2']);
    expect(outbox()).toEqual([]);
  });

  it('sends it again when the answer just after is to a request that left before the closed page sent (a 5xx storm goes on)', async () => {
    G.onpageswap = null;
    const m = open('m', storage());
    track(m, 'm_first');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    // M's next batch leaves while the endpoint is healthy (the server stores it) ...
    track(m, 'm2');
    await tick(5_000);
    const mInFlight = sends.at(-1)!;
    expect(mInFlight.page).toBe('m');
    await tick(50);
    const s = open('s', storage());
    track(s, 's1', 's2');
    await tick();
    current = 'm';
    m.rescan({ key: Object.keys(local).find((k) => k.startsWith('cs_q.') && held.get(k) === 's')! });
    await tick();
    // ... then a 5xx storm starts; S closes in it (its page-hide send gets 503, unheard) ...
    const n = sends.length;
    leave('s', s);
    expect(sends[n]!.page).toBe('s');
    await tick();
    // ... and M's old request's ack, processed before the storm, comes back now.
    mInFlight.answer(200);
    await tick();
    // The storm goes on for a minute: every later send of M fails.
    const seen = new Set<Send>();
    for (let i = 0; i < 60; i++) {
      for (const x of sends.slice(n + 1)) if (!seen.has(x) && x.page === 'm') seen.add(x) && x.answer(503);
      await tick(1_000);
    }
    const kept = [...outbox(), ...sends.slice(n + 1).flatMap((x) => names(x.events))];
    expect(kept).toEqual(expect.arrayContaining(['s1', 's2']));
  });

  it('a page that takes a same-tab (iframe) page key through rescan sends it again rather than trust the tab marker on its old acknowledgement', async () => {
    G.onpageswap = null;
    const tab = storage();
    const p = open('p', tab);
    track(p, 'p_first');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    // A minute later, a same-origin iframe of the same tab (shared sessionStorage) runs the SDK
    await tick(60_000);
    const i = open('i', tab);
    track(i, 'i_first');
    await tick();
    current = 'p';
    p.rescan({ key: Object.keys(local).find((k) => k.startsWith('cs_q.') && held.get(k) === 'i')! });
    await tick();
    expect(waiting.length).toBe(1);
    await tick(5_000);
    sends.at(-1)!.answer(200);
    await tick();
    current = 'p';
    p.rescan({ key: Object.keys(local).find((k) => k.startsWith('cs_q.') && held.get(k) === 'i')! });
    await tick();
    // An outage starts; the iframe tracks and is reloaded: its page-hide send is refused (unheard)
    track(i, 'i2');
    await tick();
    const n = sends.length;
    leave('i', i);
    expect(sends[n]!.page).toBe('i');
    await tick(1_000);
    const seen = new Set<Send>();
    for (let k = 0; k < 60; k++) {
      for (const x of sends.slice(n + 1)) if (!seen.has(x) && x.page === 'p') seen.add(x) && x.answer(503);
      await tick(1_000);
    }
    const kept = [...outbox(), ...sends.slice(n + 1).flatMap((x) => names(x.events))];
    expect(kept).toEqual(expect.arrayContaining(['i2']));
  });

  // Both builds: a page entering the back/forward cache lets its locks go (frozen()), so
  // Chromium restores it even though the next page asked for its key; restored, it has heard nothing
  // since, and its acknowledgement from before must not judge what came after.
  it.each([true, false])(
    "a page restored from the bfcache does not judge the next page's send on its own old acknowledgement (__CS_TABS__ %s)",
    async (tabs) => {
      G.__CS_TABS__ = tabs;
      const tab = storage();
      const p1 = open('p1', tab);
      track(p1, 'p1_pv');
      await tick();
      sends.at(-1)!.answer(200);
      await tick();
      // Back/forward cache: p1 hides with nothing to send and stays alive
      p1.pageHidden(true);
      p1.pageHidden();
      freeze('p1', p1);
      await tick(60_000);
      const p2 = open('p2', tab);
      track(p2, 'p2_pv');
      await tick();
      sends.at(-1)!.answer(200);
      await tick();
      // An outage starts; p2 tracks a click; the visitor presses Back: p2's page-hide send fails, unheard
      track(p2, 'p2_click');
      await tick();
      const n = sends.length;
      leave('p2', p2);
      expect(names(sends[n]!.events)).toEqual(['p2_click']);
      // p1 comes back from the cache (pageshow, persisted)
      current = 'p1';
      thaw('p1', p1);
      await tick();
      const seen = new Set<Send>();
      for (let k = 0; k < 60; k++) {
        for (const x of sends.slice(n + 1)) if (!seen.has(x)) seen.add(x) && x.answer(503);
        await tick(1_000);
      }
      const kept = [...outbox(), ...sends.slice(n + 1).flatMap((x) => names(x.events))];
      expect(kept).toEqual(expect.arrayContaining(['p2_click']));
    },
  );

  it('a side tab whose page-hide send failed while it lived, closed during its backoff, is sent again', async () => {
    G.onpageswap = null;
    const m = open('m', storage());
    track(m, 'm_first');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    const s = open('s', storage());
    track(s, 's1');
    await tick();
    current = 'm';
    m.rescan({ key: Object.keys(local).find((k) => k.startsWith('cs_q.') && held.get(k) === 's')! });
    await tick();
    // S is hidden (a tab switch): its page-hide send goes and fails while S lives on
    s.pageHidden();
    const hideSend = sends.at(-1)!;
    expect(hideSend.page).toBe('s');
    hideSend.answer(503);
    await tick(100);
    // S is closed during its backoff: nothing is sent at that page hide
    track(m, 'm2');
    const n = sends.length;
    leave('s', s);
    await tick();
    const seen = new Set<Send>();
    for (let k = 0; k < 60; k++) {
      for (const x of sends.slice(n)) if (!seen.has(x)) seen.add(x) && x.answer(200);
      await tick(1_000);
    }
    expect(sends.slice(n).flatMap((x) => names(x.events))).toEqual(expect.arrayContaining(['s1']));
  });

  it('a page of another tab opened after the close sends it again: it heard nothing before the close', async () => {
    G.onpageswap = null;
    const s = open('s', storage());
    track(s, 's1');
    await tick(5_000);
    sends[0]!.answer(200);
    await tick();
    track(s, 's2');
    leave('s', s);
    const b = open('b', storage());
    track(b, 'b_first');
    await tick();
    expect(sends.slice(2).map((x) => [x.page, names(x.events)])).toEqual([['b', ['s2', 'b_first']]]);
  });
});

describe('SDK state machine: consent', () => {
  it('pending: holds events in memory, stores and sends nothing; granted: stores the decision and sends them', async () => {
    const d = open('a', storage(), { requireConsent: true });
    await tick();
    track(d, 'held');
    await tick(10_000);
    expect(sends).toHaveLength(0);
    expect(Object.keys(local)).toEqual([]);
    d.setConsent('granted');
    await tick();
    expect(sends.flatMap((s) => names(s.events))).toEqual(['held']);
    expect(local.cs_c).toBe('1');
    expect(local.cs_aid).toBeDefined();
  });

  it('denied: drops what is held, removes every key the SDK stored, sends nothing afterwards', async () => {
    const tab = storage();
    const d = open('a', tab);
    await tick();
    track(d, 'first');
    await tick();
    sends[0]!.fail();
    await tick();
    expect(Object.keys(local).length).toBeGreaterThan(0);
    local.site_own = 'kept';
    d.setConsent('denied');
    track(d, 'after');
    await tick(120_000);
    expect(Object.keys(local)).toEqual(['site_own']);
    expect(sends).toHaveLength(1);
  });

  it('Global Privacy Control means denied; a sampled-out visitor stays out, and keeps its anonymous id', async () => {
    G.navigator.globalPrivacyControl = true;
    const d = open('a', storage());
    track(d, 'x');
    await tick(10_000);
    expect(sends).toHaveLength(0);
    delete G.navigator.globalPrivacyControl;

    local.cs_aid = JSON.stringify('visitor-1');
    const s = open('b', storage(), { sampleRate: 0 });
    s.setConsent('granted');
    track(s, 'x');
    await tick(10_000);
    expect(sends).toHaveLength(0);
    expect(local.cs_aid).toBe(JSON.stringify('visitor-1'));
  });
});

describe('SDK state machine: visitor ids', () => {
  it('identify puts the user id on later events and stores it; reset forgets the ids and the session', async () => {
    const a = open('a', storage());
    await tick();
    track(a, 'before');
    a.identifyAs('user-1');
    track(a, 'after');
    await tick();
    const [before, after] = sends[0]!.events as (Ev & { user_id?: string; anonymous_id: string; session_id: string })[];
    expect([before!.user_id, after!.user_id]).toEqual([undefined, 'user-1']);
    expect(JSON.parse(local.cs_uid!)).toBe('user-1');
    sends[0]!.answer(200);
    await tick();
    // Act: log-out
    a.forgetVisitor();
    track(a, 'reset');
    await tick(5_000);
    const reset = sends[1]!.events[0] as Ev & { user_id?: string; anonymous_id: string; session_id: string };
    // Assess
    expect(reset.user_id).toBeUndefined();
    expect(reset.anonymous_id).not.toBe(after!.anonymous_id);
    expect(reset.session_id).not.toBe(after!.session_id);
    expect(local.cs_uid).toBeUndefined();
    expect(JSON.parse(local.cs_aid!)).toBe(reset.anonymous_id);
  });
});

describe('SDK state machine: storage caps', () => {
  it('stores at most 1,000 queued events, the newest', async () => {
    const d = open('a', storage());
    await tick();
    track(d, 'first');
    await tick();
    // the first send stays in flight, so everything else queues
    track(d, ...Array.from({ length: 1_100 }, (_, i) => `e${i}`));
    await tick();
    const stored = outbox();
    expect(stored).toHaveLength(1 + 1_000);
    expect(stored).toContain('e1099');
    expect(stored).not.toContain('e99');
  });

  it('drops events older than 7 days', async () => {
    const d = open('a', storage());
    await tick();
    track(d, 'old');
    await tick();
    sends[0]!.fail();
    await tick();
    jest.setSystemTime(Date.now() + 7 * 86_400_000);
    track(d, 'new');
    await tick();
    expect(outbox()).toEqual(['new']);
  });
});

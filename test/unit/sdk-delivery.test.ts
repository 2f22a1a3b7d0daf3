/**
 * The SDK's delivery logic, run from its real source (bundled in memory by esbuild, core build
 * flags) in one Node `vm` context per page, against a small fake browser: one localStorage shared by
 * the pages of the origin, one sessionStorage per tab, Web Locks that a page holds until it dies,
 * fetches that the test answers by hand, and a clock it can move. A page "dies" as on navigation:
 * pagehide and visibilitychange fire, then its timers stop, its unanswered fetches never answer and
 * its locks are released. Real Chromium runs the same cases end to end in test/browser/outage.test.ts.
 * The hand-off between pages (the marker, the next page's judgement, pageswap) is tested on
 * delivery.ts alone, with fake timers, in test/unit/sdk-state.test.ts.
 */
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';

type Ev = { event_id: string; type: string; name?: string };
type Listener = (e: unknown) => void;

/** A Web Storage look-alike: keys are own properties (as keys() expects), writes are counted per key. */
function storage() {
  const writes = new Map<string, number>();
  const proto = {
    getItem(this: Record<string, string>, k: string) {
      return Object.hasOwn(this, k) ? this[k]! : null;
    },
    setItem(this: Record<string, string>, k: string, v: string) {
      writes.set(k, (writes.get(k) || 0) + 1);
      this[k] = `${v}`;
    },
    removeItem(this: Record<string, string>, k: string) {
      delete this[k];
    },
    get length() {
      return Object.keys(this).length;
    },
  };
  const s = Object.create(proto) as Record<string, string> & typeof proto;
  return { s, writes };
}

interface Send {
  page: Page;
  events: Ev[];
  answer(status: number, body?: unknown): void;
}

interface Page {
  name: string;
  /** The page's global object (a vm context). */
  win: Record<string, unknown> & { document: { hidden: boolean } };
  dead: boolean;
  locks: Set<string>;
  timers: Set<ReturnType<typeof setTimeout>>;
  listeners: Map<string, Listener[]>;
}

let sdk = '';
/** Every page opened by the current test: their timers are stopped after it. */
const pages: Page[] = [];
afterEach(() => {
  for (const p of pages.splice(0)) {
    p.dead = true;
    for (const t of p.timers) clearTimeout(t);
  }
});
beforeAll(async () => {
  const r = await build({
    entryPoints: [join(__dirname, '..', '..', 'client-sdk', 'src', 'iife.ts')],
    bundle: true,
    format: 'iife',
    write: false,
    target: 'es2020',
    tsconfigRaw: {},
    logLevel: 'error',
    define: {
      __CS_CLICKS__: 'false',
      __CS_ENGAGE__: 'false',
      __CS_PRIVACY__: 'false',
      __CS_CAMPAIGN__: 'false',
      __CS_TABS__: 'false',
      __CS_RARE__: 'false',
      __CS_VERSION__: '"test"',
      __CS_MODULE__: 'false',
    },
    mangleProps: /_$/,
  });
  sdk = r.outputFiles[0]!.text;
});

/** One browser profile: the origin's localStorage, its locks, its sends, a clock. */
function browser() {
  const local = storage();
  const sends: Send[] = [];
  const held = new Map<string, Page>();
  const waiting: { name: string; page: Page; grant: () => void }[] = [];
  let offset = 0;
  const clock = () => Date.now() + offset;

  const grantWaiting = () => {
    for (const w of [...waiting]) {
      if (w.page.dead) waiting.splice(waiting.indexOf(w), 1);
      else if (!held.has(w.name)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.grant();
      }
    }
  };

  function open(name: string, tab: ReturnType<typeof storage>, opts: object = {}): Page {
    const page: Page = {
      name,
      win: { document: { hidden: false } },
      dead: false,
      locks: new Set(),
      timers: new Set(),
      listeners: new Map(),
    };
    pages.push(page);
    const on = (scope: string) => (type: string, f: Listener) =>
      page.listeners.set(scope + type, [...(page.listeners.get(scope + type) || []), f]);
    const Clock = class extends Date {
      static override now() {
        return clock();
      }
    };
    const locks = {
      request(lockName: string, cb: () => unknown) {
        return new Promise<void>((_, fail) => {
          const grant = () => {
            held.set(lockName, page);
            page.locks.add(lockName);
            queueMicrotask(() => (page.dead ? undefined : Promise.resolve(cb()).catch(fail)));
          };
          waiting.push({ name: lockName, page, grant });
          grantWaiting();
        });
      },
    };
    const win = page.win;
    Object.assign(win, {
      window: win,
      Date: Clock,
      URLSearchParams,
      crypto: webcrypto,
      queueMicrotask,
      AbortController,
      Request: Object.assign(function Request() {}, { prototype: { keepalive: true } }),
      setTimeout: (f: () => void, ms?: number) => {
        const t = setTimeout(() => {
          page.timers.delete(t);
          if (!page.dead) f();
        }, ms);
        page.timers.add(t);
        return t;
      },
      clearTimeout: (t: ReturnType<typeof setTimeout>) => {
        clearTimeout(t);
        page.timers.delete(t);
      },
      localStorage: local.s,
      sessionStorage: tab.s,
      location: { href: `https://shop.example/${name}`, search: '' },
      document: { hidden: false, title: name, referrer: '', addEventListener: on('doc:') },
      navigator: { onLine: true, language: 'en', locks, sendBeacon: () => true },
      screen: { width: 1, height: 1 },
      innerWidth: 1,
      innerHeight: 1,
      history: { pushState() {}, replaceState() {} },
      addEventListener: on('win:'),
      fetch: (_url: string, init: { body: string }) =>
        new Promise((resolve) => {
          sends.push({
            page,
            events: JSON.parse(init.body).events,
            answer: (status, body = { accepted: 1, rejected: [] }) =>
              page.dead || resolve({ ok: status < 300, status, json: async () => body, headers: { get: () => null } }),
          });
        }),
    });
    createContext(win);
    runInContext(sdk, win);
    runInContext(`clickstream('init', ${JSON.stringify({ endpoint: 'https://c.example/v1/events', siteId: 'demo', ...opts })})`, win);
    return page;
  }

  /** Leaves the page as a navigation does: pagehide, visibilitychange (hidden), then it is gone. */
  function leave(page: Page) {
    page.win.document.hidden = true;
    for (const f of page.listeners.get('win:pagehide') || []) f({});
    for (const f of page.listeners.get('doc:visibilitychange') || []) f({});
    page.dead = true;
    for (const t of page.timers) clearTimeout(t);
    for (const l of page.locks) held.delete(l);
    grantWaiting();
  }

  return { local, sends, open, leave, tab: storage, advance: (ms: number) => (offset += ms) };
}

/** Lets timers at 0 ms, lock grants and promise callbacks run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 2));
};
const track = (p: Page, ...names: string[]) => runInContext(`for (const n of ${JSON.stringify(names)}) clickstream('track', n)`, p.win);
const names = (events: Ev[]) => events.map((e) => e.name || e.type);
/** Every event of the origin's outbox (all cs_q.* keys), by name. */
const outbox = (b: ReturnType<typeof browser>) =>
  Object.keys(b.local.s)
    .filter((k) => k.startsWith('cs_q.'))
    .flatMap((k) => names(JSON.parse(b.local.s[k]!) as Ev[]));

describe('SDK outbox writes', () => {
  it('writes the outbox once for 1,000 track() calls in one task, at the end of the task', async () => {
    // Prepare: a page whose first send (its page view) has been answered
    const b = browser();
    const p = b.open('a', b.tab());
    await settle();
    b.sends[0]!.answer(200);
    await settle();
    const key = Object.keys(b.local.writes.size ? Object.fromEntries(b.local.writes) : {}).find((k) => k.startsWith('cs_q.'))!;
    const before = b.local.writes.get(key) || 0;
    // Act
    const tracked = Array.from({ length: 1000 }, (_, i) => `burst_${i}`);
    track(p, ...tracked);
    const inTask = (b.local.writes.get(key) || 0) - before;
    await Promise.resolve();
    // Assess: during the task only the send of the first full batch wrote (its flight must be
    // stored before its answer can come); the rest in one write at the end of the task
    expect(inTask).toBeLessThanOrEqual(1);
    expect((b.local.writes.get(key) || 0) - before).toBeLessThanOrEqual(2);
    expect(
      outbox(b)
        .filter((n) => n.startsWith('burst_'))
        .sort(),
    ).toEqual([...tracked].sort());
  });

  it('events tracked just before the page goes are stored before it is gone', async () => {
    // Prepare: the site tracks in its own handlers, which run after the SDK's (it captures)
    const b = browser();
    const p = b.open('a', b.tab());
    await settle();
    b.sends[0]!.answer(200);
    await settle();
    p.listeners.get('doc:visibilitychange')!.push(() => track(p, 'from_site_handler'));
    // Act: track, and leave in the same task
    track(p, 'same_task');
    b.leave(p);
    // Assess: the page-hide write already holds the event tracked in the same task...
    expect(outbox(b)).toContain('same_task');
    // ...and the end of the task (a microtask checkpoint, before any other task could run) writes
    // the one tracked after the SDK's last page-hide write
    await Promise.resolve();
    expect(outbox(b)).toContain('from_site_handler');
  });
});

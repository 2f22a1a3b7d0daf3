/**
 * Realistic request bodies as the browser SDK sends them: a mix of page views (with UTM tags and
 * referrers), clicks, engagement and custom events with small properties, from a handful of real
 * User-Agent strings. Deterministic (seeded), so every run measures the same bytes.
 */
import { randomUUID } from 'node:crypto';
import { configFromEnv, type PipelineConfig } from '../handlers/lib/pipeline';

export const BENCH_ENV = {
  VISITOR_SALT_SECRET: 'bench-visitor-salt-not-a-secret',
  SITES: '{"demo":{"origins":["https://www.example.com"],"allowNoOrigin":true}}',
  URL_DROP_PARAMS: 'email,token,password,auth,session,sid',
  URL_DROP_QUERY: 'false',
} as const;

export const benchConfig = (): PipelineConfig => configFromEnv({ ...BENCH_ENV });

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
  'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PAGES = ['/', '/menu', '/menu/pizza', '/menu/pasta', '/reserve', '/about', '/blog/autumn-specials', '/checkout'];
const TITLES = [
  'Home - Trattoria',
  'Menu - Trattoria',
  'Pizza - Trattoria',
  'Pasta - Trattoria',
  'Book a table',
  'About us',
  'Autumn specials',
  'Checkout',
];
const REFERRERS = [
  '',
  'https://www.google.com/',
  'https://www.facebook.com/',
  'https://news.ycombinator.com/',
  'https://www.example.com/menu',
];
const UTM = [
  '',
  '?utm_source=newsletter&utm_medium=email&utm_campaign=autumn',
  '?gclid=Cj0KCQiA',
  '?utm_source=facebook&utm_medium=social',
];

export interface BenchRequest {
  body: string;
  userAgent: string;
  sourceIp: string;
}

/** `count` requests of `batch` events each; event times sit just before `now`, as a live SDK's would. */
export function makeRequests(count: number, batch: number, now = Date.now(), seed = 42): BenchRequest[] {
  const r = rng(seed + batch);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: BenchRequest[] = [];
  for (let q = 0; q < count; q++) {
    const anonymous_id = randomUUID();
    const session_id = randomUUID();
    const events: object[] = [];
    for (let i = 0; i < batch; i++) {
      const p = Math.floor(r() * PAGES.length);
      const base = {
        event_id: randomUUID(),
        ts: new Date(now - 5_000 + i * 100).toISOString(),
        anonymous_id,
        session_id,
        url: `https://www.example.com${PAGES[p]}${i === 0 ? pick(UTM) : ''}`,
        title: TITLES[p],
        screen: '1920x1080',
        viewport: '1440x900',
        language: 'en-GB',
        timezone: 'Europe/London',
        sdk: 'clickstream-js/0.1.0',
      };
      const kind = r();
      if (kind < 0.45) events.push({ ...base, type: 'page_view', referrer: pick(REFERRERS) });
      else if (kind < 0.75)
        events.push({
          ...base,
          type: 'click',
          element: pick(['book-now', 'add-to-cart', 'menu-link', 'Order online']),
          duration_ms: Math.floor(r() * 60_000),
        });
      else if (kind < 0.9)
        events.push({ ...base, type: 'engagement', duration_ms: Math.floor(r() * 120_000), scroll_depth: Math.floor(r() * 100) });
      else
        events.push({
          ...base,
          type: 'custom',
          name: 'add_to_cart',
          properties: {
            item: pick(['margherita', 'carbonara', 'tiramisu']),
            price: 12.5,
            qty: 1 + Math.floor(r() * 3),
            tags: ['veg', 'popular'],
          },
        });
    }
    out.push({
      body: JSON.stringify({ site_id: 'demo', sent_at: new Date(now).toISOString(), events }),
      userAgent: pick(USER_AGENTS),
      sourceIp: `203.0.113.${1 + Math.floor(r() * 250)}`,
    });
  }
  return out;
}

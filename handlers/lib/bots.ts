/**
 * Bot filter, in layers. A row's `bot_reason` is the first layer that matched, in this order:
 *
 *   headless       the User-Agent names a headless browser or an automation driver
 *   ua_list        isbot's crawler list (npm isbot, Unlicense) matched, or the User-Agent is empty
 *   webdriver      the SDK saw navigator.webdriver === true (browser automation)
 *   datacenter_ip  the request came from a cloud or hosting network (generated/bot-data.ts); the
 *                  address is looked at in memory only, never stored or logged
 *   referrer_spam  the referrer's host is on Matomo's referrer-spam list, or under one listed
 *   behaviour      the request itself is not a person's: more page views or clicks in one batch,
 *                  inside a short stretch of client time, than a person can make (see
 *                  {@link batchBehaviour}); rates across requests live at query time
 *                  (data_quality), because no Lambda copy sees another's requests
 *
 * The lists are data: isbot updates through npm; the other two are committed snapshots that
 * `npm run bots:data` rebuilds (scripts/bot-data.ts says from where).
 */
import { inflateRawSync } from 'node:zlib';
import { isbot } from 'isbot';
import { DATACENTER_V4, DATACENTER_V6, REFERRER_SPAM } from './generated/bot-data';

export const BOT_REASONS = ['headless', 'ua_list', 'webdriver', 'datacenter_ip', 'referrer_spam', 'behaviour'] as const;
export type BotReason = (typeof BOT_REASONS)[number];

// isbot says "bot" but not which kind; these markers only split its answer (a headless browser
// copies a real browser's User-Agent except for this word, so isbot's crawler list alone would
// call it ua_list). Markers of the drivers themselves catch the few that isbot lets through.
const HEADLESS = /headless|phantomjs|slimerjs|htmlunit|puppeteer|playwright|selenium|webdriver|jsdom/i;

/** The User-Agent layers: `headless`, `ua_list`, or undefined for a browser. */
export function userAgentBotReason(ua: string): 'headless' | 'ua_list' | undefined {
  // Every browser sends a User-Agent; an empty one is a script.
  if (ua.trim() === '') return 'ua_list';
  if (HEADLESS.test(ua)) return 'headless';
  return isbot(ua) ? 'ua_list' : undefined;
}

// ---- datacenter_ip -------------------------------------------------------------------------

interface Ranges {
  starts: Float64Array;
  ends: Float64Array;
}
let v4: Ranges | undefined;
let v6: Ranges | undefined;
// Decoded on first use: a cold start that sees no address pays nothing.
function v4Ranges(): Ranges {
  v4 ??= decodeRanges(DATACENTER_V4);
  return v4;
}
function v6Ranges(): Ranges {
  v6 ??= decodeRanges(DATACENTER_V6);
  return v6;
}

/** generated/bot-data.ts's varint (gap, length) pairs -> sorted inclusive ranges. */
function decodeRanges(b64: string): Ranges {
  const bytes = inflateRawSync(Buffer.from(b64, 'base64'));
  // Each value ends with the one byte below 0x80: count them to size the arrays once.
  let values = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x80) values++;
  const starts = new Float64Array(values / 2);
  const ends = new Float64Array(values / 2);
  let prev = 0;
  let k = 0;
  let n = 0;
  let scale = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    // Multiplication, not shifts: /48 IPv6 units need up to 48 bits, past 32-bit bitwise ops.
    n += (b & 0x7f) * scale;
    if (b & 0x80) {
      scale *= 128;
      continue;
    }
    if (k % 2 === 0) starts[k >> 1] = prev + n;
    else ends[k >> 1] = prev = starts[k >> 1]! + n;
    k++;
    n = 0;
    scale = 1;
  }
  return { starts, ends };
}

function inRanges(r: Ranges, x: number): boolean {
  let lo = 0;
  let hi = r.starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (r.starts[mid]! <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && x <= r.ends[hi]!;
}

/** Dotted quad -> its /24 number, or -1. A character loop: this runs once per request. */
function ipv4Block(ip: string, from = 0): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < ip.length; i++) {
    const c = ip.charCodeAt(i) - 48;
    if (c >= 0 && c <= 9) {
      part = part * 10 + c;
      if (++digits > 3 || part > 255) return -1;
    } else if (c === -2 && digits > 0 && dots < 3) {
      n = n * 256 + part;
      part = digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? n : -1; // n holds the first three octets: the /24
}

/** One IPv6 group (1-4 hex digits) -> its value, or -1. */
function hexGroup(g: string): number {
  if (g.length === 0 || g.length > 4) return -1;
  let v = 0;
  for (let i = 0; i < g.length; i++) {
    const c = g.charCodeAt(i) | 0x20; // ASCII lower case
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** IPv6 text -> its first 48 bits as a number, or -1 (IPv4-mapped ones are handled by the caller). */
function ipv6Block(ip: string): number {
  const gap = ip.indexOf('::');
  if (gap >= 0 && ip.indexOf('::', gap + 1) >= 0) return -1;
  const head = gap < 0 ? ip.split(':') : gap === 0 ? [] : ip.slice(0, gap).split(':');
  const tail = gap < 0 ? [] : gap + 2 === ip.length ? [] : ip.slice(gap + 2).split(':');
  const zeros = gap < 0 ? 0 : 8 - head.length - tail.length;
  if (gap < 0 ? head.length !== 8 : zeros < 1) return -1;
  for (const g of tail) if (hexGroup(g) < 0) return -1;
  let n = 0;
  for (let i = 0; i < 3; i++) {
    // Group i is in the head, in the zeros of '::', or in the tail.
    const v = i < head.length ? hexGroup(head[i]!) : i < head.length + zeros ? 0 : hexGroup(tail[i - head.length - zeros]!);
    if (v < 0) return -1;
    n = n * 65536 + v;
  }
  for (let i = 3; i < head.length; i++) if (hexGroup(head[i]!) < 0) return -1;
  return n;
}

/**
 * Whether the address belongs to a cloud or hosting network (generated/bot-data.ts). The
 * address is used here and nowhere else: it is not returned, stored or logged.
 *
 * @example
 * isDatacenterIp('3.5.140.2'); // true (Amazon)
 */
export function isDatacenterIp(ip: string | undefined): boolean {
  if (!ip) return false;
  if (!ip.includes(':')) {
    const block = ipv4Block(ip);
    return block >= 0 && inRanges(v4Ranges(), block);
  }
  // IPv4-mapped IPv6 (::ffff:1.2.3.4), as dual-stack sockets report IPv4 clients.
  if (/^::ffff:\d/i.test(ip)) {
    const block = ipv4Block(ip, 7);
    return block >= 0 && inRanges(v4Ranges(), block);
  }
  const block = ipv6Block(ip.replace(/%.*$/, ''));
  return block >= 0 && inRanges(v6Ranges(), block);
}

// ---- referrer_spam -------------------------------------------------------------------------

let spam: Set<string> | undefined;

/** Whether `host` or a domain above it is on the referrer-spam list (hosts, lower case). */
export function isReferrerSpam(host: string | undefined): boolean {
  if (!host) return false;
  spam ??= new Set(inflateRawSync(Buffer.from(REFERRER_SPAM, 'base64')).toString('utf8').split('\n'));
  let h = host.toLowerCase();
  for (;;) {
    if (spam.has(h)) return true;
    const dot = h.indexOf('.');
    // Stop before the bare TLD: the list holds registrable names and their subdomains.
    if (dot < 0 || h.indexOf('.', dot + 1) < 0) return false;
    h = h.slice(dot + 1);
  }
}

// ---- behaviour -----------------------------------------------------------------------------

/**
 * Per-batch limits on what one browser can do. A page view needs a navigation and a click a
 * hand: the SDK sends them as they happen (or later, from its queue, with their own times), so a
 * person's batch never holds this many inside this little client time. Rates across batches
 * cannot be judged here: each Lambda copy sees only its own requests.
 */
export const BEHAVIOUR_LIMITS = {
  page_view: { count: 30, withinMs: 60_000 },
  click: { count: 60, withinMs: 10_000 },
} as const;

// The SDK's times are toISOString()'s YYYY-MM-DDTHH:MM:SS.sssZ: read those by position (a few
// times faster than Date.parse, which a 100-event batch would call dozens of times); anything
// else goes to Date.parse.
let dayPrefix = '';
let dayMs = Number.NaN;
const d2 = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
export function utcMs(ts: string): number {
  if (
    ts.length !== 24 ||
    ts.charCodeAt(23) !== 90 ||
    ts.charCodeAt(10) !== 84 ||
    ts.charCodeAt(13) !== 58 ||
    ts.charCodeAt(16) !== 58 ||
    ts.charCodeAt(19) !== 46
  )
    return Date.parse(ts);
  for (let i = 11; i < 23; i++) {
    const c = ts.charCodeAt(i);
    if ((c < 48 || c > 57) && i !== 13 && i !== 16 && i !== 19) return Date.parse(ts);
  }
  const prefix = ts.slice(0, 10);
  if (prefix !== dayPrefix) {
    dayMs = Date.parse(`${prefix}T00:00:00.000Z`);
    dayPrefix = prefix;
  }
  const h = d2(ts, 11);
  const m = d2(ts, 14);
  const sec = d2(ts, 17);
  if (h > 23 || m > 59 || sec > 59) return Date.parse(ts);
  return dayMs + ((h * 60 + m) * 60 + sec) * 1000 + d2(ts, 20) * 10 + ts.charCodeAt(22) - 48;
}

const SMALLEST_LIMIT = Math.min(...Object.values(BEHAVIOUR_LIMITS).map((l) => l.count));

/** Whether one request's events show a rate no person reaches (raw events: validation runs later). */
export function batchBehaviour(events: readonly unknown[]): boolean {
  // Fewer events than the smallest limit cannot reach any: the usual batch stops here.
  if (events.length < SMALLEST_LIMIT) return false;
  // Counting first keeps a big batch of people to one pass with no date parsing.
  let views = 0;
  let clicks = 0;
  for (const e of events) {
    const type = (e as { type?: unknown } | null)?.type;
    if (type === 'page_view') views++;
    else if (type === 'click') clicks++;
  }
  for (const [type, limit] of Object.entries(BEHAVIOUR_LIMITS)) {
    if ((type === 'page_view' ? views : clicks) < limit.count) continue;
    const times: number[] = [];
    for (const e of events) {
      const ev = e as { type?: unknown; ts?: unknown } | null;
      if (ev?.type === type && typeof ev.ts === 'string') {
        const t = utcMs(ev.ts);
        if (!Number.isNaN(t)) times.push(t);
      }
    }
    // A batch is usually in time order already: sort only when it is not.
    let sorted = true;
    for (let i = 1; i < times.length && sorted; i++) sorted = times[i - 1]! <= times[i]!;
    if (!sorted) times.sort((a, b) => a - b);
    for (let i = limit.count - 1; i < times.length; i++) if (times[i]! - times[i - limit.count + 1]! < limit.withinMs) return true;
  }
  return false;
}

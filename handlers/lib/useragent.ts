/**
 * User-Agent parsing (ua-parser-js 1.x, MIT; 2.x is AGPL) and bot detection (crawler-user-agents,
 * MIT). Parsing costs tens of microseconds and the header is the same for every event of a request
 * and for most requests of a visitor, so results are cached per User-Agent string.
 */
import { UAParser } from 'ua-parser-js';
import { BOT_PATTERNS } from './generated/bot-patterns';

export interface UserAgentInfo {
  browser?: string;
  browser_version?: string;
  os?: string;
  os_version?: string;
  device_type: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'other';
  is_bot: boolean;
}

// Built on first use: one alternation of ~1,500 patterns compiles in a few ms.
let botRegex: RegExp | undefined;
// Generic words catch crawlers newer than the list; headless browsers say so in their UA.
// `(?<!cu)`: CUBOT is an Android phone brand ("CUBOT X30"), not a crawler.
const GENERIC_BOT = /(?<!cu)bot\b|crawl|spider|slurp|headless|phantomjs|python-requests|curl\/|wget|httpclient|scrapy|lighthouse/i;

export function isBotUserAgent(ua: string): boolean {
  if (ua.length === 0) return true;
  if (GENERIC_BOT.test(ua)) return true;
  botRegex ??= new RegExp(BOT_PATTERNS.join('|'), 'i');
  return botRegex.test(ua);
}

const CACHE_LIMIT = 1_000;
const cache = new Map<string, UserAgentInfo>();

export function parseUserAgent(ua: string): UserAgentInfo {
  const hit = cache.get(ua);
  if (hit) return hit;
  const info = parseUncached(ua);
  // Oldest-first eviction: Map keeps insertion order.
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(ua, info);
  return info;
}

function parseUncached(ua: string): UserAgentInfo {
  const is_bot = isBotUserAgent(ua);
  const r = new UAParser(ua).getResult();
  const t = r.device.type;
  const device_type: UserAgentInfo['device_type'] = is_bot
    ? 'bot'
    : t === undefined ? 'desktop' : t === 'mobile' ? 'mobile' : t === 'tablet' ? 'tablet' : 'other';
  return {
    browser: r.browser.name,
    browser_version: r.browser.major,
    os: r.os.name,
    os_version: r.os.version,
    device_type,
    is_bot,
  };
}

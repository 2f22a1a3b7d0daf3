/**
 * User-Agent parsing (ua-parser-js 1.x, MIT; 2.x is AGPL) and the User-Agent layers of the bot
 * filter (bots.ts: isbot plus headless markers). Parsing costs tens of microseconds and the header
 * is the same for every event of a request and for most requests of a visitor, so results are
 * cached per User-Agent string.
 */
import { UAParser } from 'ua-parser-js';
import { userAgentBotReason } from './bots';

export interface UserAgentInfo {
  browser?: string;
  browser_version?: string;
  os?: string;
  os_version?: string;
  device_type: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'other';
  is_bot: boolean;
  /** Set exactly when is_bot is. */
  bot_reason?: 'headless' | 'ua_list';
}

export function isBotUserAgent(ua: string): boolean {
  return userAgentBotReason(ua) !== undefined;
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
  const bot_reason = userAgentBotReason(ua);
  const is_bot = bot_reason !== undefined;
  const r = new UAParser(ua).getResult();
  const t = r.device.type;
  const device_type: UserAgentInfo['device_type'] = is_bot
    ? 'bot'
    : t === undefined
      ? 'desktop'
      : t === 'mobile'
        ? 'mobile'
        : t === 'tablet'
          ? 'tablet'
          : 'other';
  return {
    browser: r.browser.name,
    browser_version: r.browser.major,
    os: r.os.name,
    os_version: r.os.version,
    device_type,
    is_bot,
    bot_reason,
  };
}

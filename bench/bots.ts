/**
 * The bot filter against a labelled corpus whose labels do not come from the detector's own list
 * (`npm run bench` writes the `bots` section of results.json; test/unit/bots-corpus.test.ts holds
 * the targets):
 *   people  every distinct User-Agent of the `user-agents` package (real browsers' UAs collected
 *           from live traffic by its authors, BSD-2)
 *   bots    the crawlers and tools issue 14 names, each with the User-Agent its operator documents
 *           (NAMED_BOTS below), and every example User-Agent (`instances`) of crawler-user-agents
 *           (MIT): a published crawler corpus kept apart from isbot's pattern list
 *
 * human_precision = people kept as people / everything kept as people (a missed bot lowers it);
 * bot_recall = bots flagged / bots. The same figures for the previous detector (crawler-user-agents'
 * own patterns plus generic words, bench/alternative.ts's copy) are given for comparison; its bot
 * recall on its own corpus is not independent, so only its human side compares fairly.
 */
import { performance } from 'node:perf_hooks';
import crawlers from 'crawler-user-agents';
import UserAgent from 'user-agents';
import { isDatacenterIp, isReferrerSpam, userAgentBotReason } from '../handlers/lib/bots';

/** The bots issue 14 names, and the common tools and crawlers beside them, as their operators document them. */
export const NAMED_BOTS: Readonly<Record<string, string>> = {
  HeadlessChrome: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  'HeadlessChrome (Windows)':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36',
  PhantomJS: 'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  PetalBot:
    'Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)',
  Lighthouse:
    'Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse',
  AhrefsBot: 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  AhrefsSiteAudit: 'Mozilla/5.0 (compatible; AhrefsSiteAudit/6.1; +http://ahrefs.com/robot/site-audit)',
  SemrushBot: 'Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)',
  MJ12bot: 'Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)',
  DotBot: 'Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)',
  Googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Googlebot smartphone':
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.204 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot:
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
  YandexBot: 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
  Baiduspider: 'Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)',
  Applebot:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  GPTBot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  ClaudeBot: 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)',
  Bytespider:
    'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
  facebookexternalhit: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
  Twitterbot: 'Twitterbot/1.0',
  UptimeRobot: 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
  curl: 'curl/8.5.0',
  Wget: 'Wget/1.21.4',
  'python-requests': 'python-requests/2.31.0',
  'Go-http-client': 'Go-http-client/1.1',
  axios: 'axios/1.6.2',
  'node-fetch': 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  Scrapy: 'Scrapy/2.11.0 (+https://scrapy.org)',
  'empty User-Agent': '',
};

export interface Corpus {
  humans: string[];
  named: Array<[string, string]>;
  crawlers: string[];
}

export function corpus(): Corpus {
  // top(n): the package's whole data set (10,000 weighted samples), most common first.
  const humans = [...new Set(UserAgent.top(1_000_000).map((u) => u.userAgent))];
  const instances = [...new Set((crawlers as Array<{ instances: string[] }>).flatMap((c) => c.instances))];
  return { humans, named: Object.entries(NAMED_BOTS), crawlers: instances };
}

export interface Scores {
  humans: number;
  bots: number;
  humans_flagged: number;
  bots_missed: number;
  human_precision: number;
  bot_recall: number;
  named_bots_missed: string[];
}

export function score(isBot: (ua: string) => boolean, c: Corpus = corpus()): Scores {
  const humansFlagged = c.humans.filter(isBot).length;
  const namedMissed = c.named.filter(([, ua]) => !isBot(ua)).map(([name]) => name);
  const crawlersMissed = c.crawlers.filter((ua) => !isBot(ua)).length;
  const bots = c.named.length + c.crawlers.length;
  const missed = namedMissed.length + crawlersMissed;
  const keptHumans = c.humans.length - humansFlagged;
  return {
    humans: c.humans.length,
    bots,
    humans_flagged: humansFlagged,
    bots_missed: missed,
    human_precision: keptHumans / (keptHumans + missed),
    bot_recall: (bots - missed) / bots,
    named_bots_missed: namedMissed,
  };
}

export interface BotBench extends Scores {
  detector: string;
  /** The previous detector (crawler-user-agents patterns + generic words) on the same corpus. */
  previous: Scores;
  /** Microseconds per call, median of rounds, caches cold for the User-Agent (the handler caches per UA). */
  us_per_call: { user_agent: number; datacenter_ip_v4: number; datacenter_ip_v6: number; referrer_spam: number };
}

// The detector this project used before isbot: crawler-user-agents' ~1,500 patterns as one regex,
// plus the generic words it had. Kept here only to compare.
let previousRegex: RegExp | undefined;
const PREVIOUS_GENERIC = /(?<!cu)bot\b|crawl|spider|slurp|headless|phantomjs|python-requests|curl\/|wget|httpclient|scrapy|lighthouse/i;
export function previousDetector(ua: string): boolean {
  if (ua.length === 0) return true;
  if (PREVIOUS_GENERIC.test(ua)) return true;
  previousRegex ??= new RegExp((crawlers as Array<{ pattern: string }>).map((x) => x.pattern).join('|'), 'i');
  return previousRegex.test(ua);
}

function usPerCall(inputs: readonly string[], f: (x: string) => unknown, rounds = 9): number {
  // Untimed passes first, so the figure is the optimized code's, as in a warm Lambda.
  for (let w = 0; w < 3; w++) for (const x of inputs) f(x);
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (const x of inputs) f(x);
    times.push(((performance.now() - t0) * 1000) / inputs.length);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function runBotBench(): BotBench {
  const c = corpus();
  const ours = score((ua) => userAgentBotReason(ua) !== undefined, c);
  const all = [...c.humans, ...c.crawlers];
  // Addresses spread over the whole space, so the binary search sees every depth.
  const v4 = Array.from({ length: 2_000 }, (_, i) => `${(i * 131) % 256}.${(i * 17) % 256}.${(i * 7) % 256}.${i % 256}`);
  const v6 = Array.from(
    { length: 2_000 },
    (_, i) => `2${(i % 16).toString(16)}0${((i * 7) % 16).toString(16)}:${(i * 131).toString(16)}:${i.toString(16)}::1`,
  );
  const hosts = Array.from({ length: 2_000 }, (_, i) => `www.site${i}.example.com`);
  isDatacenterIp('1.1.1.1');
  isDatacenterIp('2001:db8::1');
  isReferrerSpam('example.com');
  return {
    detector: 'headless markers + isbot (handlers/lib/bots.ts userAgentBotReason)',
    ...ours,
    previous: score(previousDetector, c),
    us_per_call: {
      user_agent: usPerCall(all, userAgentBotReason, 3),
      datacenter_ip_v4: usPerCall(v4, isDatacenterIp),
      datacenter_ip_v6: usPerCall(v6, isDatacenterIp),
      referrer_spam: usPerCall(hosts, isReferrerSpam),
    },
  };
}

/**
 * Traffic-source attribution from the page URL and the referrer: UTM parameters first, then ad
 * click ids, then the referrer's kind. Definitions follow Google Analytics' default channel rules
 * in a simplified form (docs/wire-format.md lists the columns).
 */
export interface Attribution {
  host?: string;
  path?: string;
  url?: string;
  /** The referrer as stored: the same privacy filters as url (in an SPA it is the previous URL). */
  referrer?: string;
  referrer_host?: string;
  referrer_type: 'direct' | 'internal' | 'search' | 'social' | 'email' | 'referral';
  source: string;
  medium: string;
  campaign?: string;
  utm_source?: string;
  utm_medium?: string;
  utm_campaign?: string;
  utm_term?: string;
  utm_content?: string;
  click_id_type?: string;
}

/** Ad-network click ids and the network they imply (medium cpc). */
const CLICK_IDS: Record<string, string> = {
  gclid: 'google',
  dclid: 'google',
  wbraid: 'google',
  gbraid: 'google',
  msclkid: 'bing',
  fbclid: 'facebook',
  ttclid: 'tiktok',
  li_fat_id: 'linkedin',
  twclid: 'twitter',
};
const SEARCH = /(^|\.)(google|bing|duckduckgo|yahoo|baidu|yandex|ecosia|qwant|startpage|search\.brave|naver|seznam)\./;
const SOCIAL =
  /(^|\.)(facebook|fb|instagram|t\.co|twitter|x\.com|linkedin|lnkd\.in|reddit|youtube|tiktok|pinterest|threads\.net|mastodon|bsky\.app|quora|vk\.com|weibo)($|\.|\b)/;
const EMAIL = /(^|\.)(mail\.google|outlook\.live|mail\.yahoo|webmail|mail\.proton|fastmail)\./;
const UTM = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

function safeUrl(raw: string | undefined): URL | undefined {
  if (!raw) return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

const bare = (host: string) => (host.startsWith('www.') ? host.slice(4) : host);

export interface UrlPrivacy {
  dropQueryParams: ReadonlySet<string>;
  dropQueryString: boolean;
}

export function attribute(rawUrl: string | undefined, rawReferrer: string | undefined, privacy: UrlPrivacy): Attribution {
  const url = safeUrl(rawUrl);
  const out: Attribution = { referrer_type: 'direct', source: '(direct)', medium: '(none)', url: rawUrl };
  if (url) {
    out.host = url.hostname;
    out.path = url.pathname;
    if (url.search) {
      const q = url.searchParams;
      for (const k of UTM) {
        const v = q.get(k);
        if (v) out[k] = v.slice(0, 256);
      }
      for (const id of Object.keys(CLICK_IDS)) {
        if (q.has(id)) {
          out.click_id_type = id;
          break;
        }
      }
      out.url = cleanUrl(url, rawUrl as string, privacy);
    }
  }
  out.referrer = rawReferrer || undefined;
  const ref = safeUrl(rawReferrer);
  if (ref?.protocol.startsWith('http')) {
    const h = ref.hostname;
    out.referrer_host = h;
    // EMAIL before SEARCH: mail.google.com and mail.yahoo.com also match the search engines.
    out.referrer_type =
      url && bare(h) === bare(url.hostname)
        ? 'internal'
        : EMAIL.test(h)
          ? 'email'
          : SEARCH.test(h)
            ? 'search'
            : SOCIAL.test(h)
              ? 'social'
              : 'referral';
    if (ref.search) out.referrer = cleanUrl(ref, rawReferrer as string, privacy);
  }
  if (out.utm_source) {
    out.source = out.utm_source;
    out.medium = out.utm_medium ?? '(not set)';
  } else if (out.click_id_type) {
    out.source = CLICK_IDS[out.click_id_type] as string;
    out.medium = 'cpc';
  } else if (out.referrer_host && out.referrer_type !== 'internal') {
    out.source = bare(out.referrer_host);
    out.medium = out.referrer_type === 'search' ? 'organic' : out.referrer_type;
  } else if (out.referrer_type === 'internal') {
    out.source = '(internal)';
    out.medium = 'internal';
  }
  out.campaign = out.utm_campaign;
  return out;
}

/** Removes configured parameters (emails, tokens) or the whole query string before storage. */
function cleanUrl(url: URL, raw: string, privacy: UrlPrivacy): string {
  if (privacy.dropQueryString) return `${url.origin}${url.pathname}${url.hash}`;
  if (privacy.dropQueryParams.size === 0) return raw;
  for (const key of [...url.searchParams.keys()]) {
    if (privacy.dropQueryParams.has(key.toLowerCase())) url.searchParams.delete(key);
  }
  return url.href;
}

// Most events of a request, and most requests of a site, share a handful of url+referrer pairs;
// parsing them costs two WHATWG URL parses each. Bounded like the User-Agent cache (oldest url
// evicted first); pairs longer than about one 2,048-character URL are never cached, so the cache
// holds at most ATTRIBUTION_CACHE_LIMIT x ATTRIBUTION_CACHE_MAX_CHARS characters of keys.
/** Entries (url+referrer pairs) kept by attributeCached. */
export const ATTRIBUTION_CACHE_LIMIT = 1_000;
const ATTRIBUTION_CACHE_MAX_CHARS = 2_100;
// url -> referrer -> attribution. Two lookups on the strings as parsed, rather than one on a
// concatenated key that would have to be built and hashed for every event. An absent url is its
// own key (attribute() stores it differently from ''); an absent referrer is stored like ''.
const attributionCache = new Map<string | undefined, Map<string, Readonly<Attribution>>>();
let attributionEntries = 0;
let cachedFor: UrlPrivacy | undefined;

/**
 * {@link attribute} with a bounded cache per url+referrer pair. The result is frozen and shared
 * between callers: read it, do not change it. The cache belongs to one privacy configuration and
 * starts over when called with another one (the same configuration object is used for the life of
 * a Lambda instance).
 *
 * @example
 * const a = attributeCached(ev.url, ev.referrer, config); // a.source, a.medium, a.url ...
 */
export function attributeCached(rawUrl: string | undefined, rawReferrer: string | undefined, privacy: UrlPrivacy): Readonly<Attribution> {
  if (privacy !== cachedFor) {
    attributionCache.clear();
    attributionEntries = 0;
    cachedFor = privacy;
  }
  const ref = rawReferrer ?? '';
  let byReferrer = attributionCache.get(rawUrl);
  const hit = byReferrer?.get(ref);
  if (hit) return hit;
  const a = Object.freeze(attribute(rawUrl, rawReferrer, privacy));
  if ((rawUrl?.length ?? 0) + ref.length <= ATTRIBUTION_CACHE_MAX_CHARS) {
    if (attributionEntries >= ATTRIBUTION_CACHE_LIMIT) {
      // Map keeps insertion order: the first url is the oldest; drop it with all its referrers.
      const [oldestUrl, oldest] = attributionCache.entries().next().value as [string | undefined, Map<string, Readonly<Attribution>>];
      attributionCache.delete(oldestUrl);
      attributionEntries -= oldest.size;
      if (oldest === byReferrer) byReferrer = undefined;
    }
    if (!byReferrer) {
      byReferrer = new Map();
      attributionCache.set(rawUrl, byReferrer);
    }
    byReferrer.set(ref, a);
    attributionEntries++;
  }
  return a;
}

/** Entries currently cached by attributeCached (for tests of its bound). */
export const attributionCacheSize = (): number => attributionEntries;

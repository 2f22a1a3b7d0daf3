/**
 * handlers/lib/enrich.ts and useragent.ts: server-side enrichment. Nothing is taken on trust from
 * the client: event time is skew-corrected, the device comes from the User-Agent header, and the
 * visitor hash uses a daily salt so the raw IP is never stored.
 */
import { createHash, createHmac } from 'node:crypto';
import { configFromEnv } from '../../handlers/lib/config';
import { dailySalt, enrichEvent, enrichLine, visitorHash, type RequestFacts } from '../../handlers/lib/enrich';
import { isBotUserAgent, parseUserAgent } from '../../handlers/lib/useragent';
import { EVENT_COLUMNS } from '../../schema/columns';
import { LIMITS, type ClickstreamEvent } from '../../schema/event';

const SECRET = 'unit-test-secret-0123456789';
const config = configFromEnv({ VISITOR_SALT_SECRET: SECRET });

const UA = {
  chromeDesktop: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  safariIpad:
    'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  bingbot: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
  curl: 'curl/8.5.0',
};

/** Request facts as processRequest builds them, for a client whose clock is `skewMs` behind. */
function facts(over: { receivedAt?: string; sentAt?: string; ua?: string; ip?: string } = {}): RequestFacts {
  const receivedAt = new Date(over.receivedAt ?? '2026-11-22T10:00:10.000Z');
  const sentAt = over.sentAt ?? '2026-11-22T10:00:05.000Z';
  const ua = over.ua ?? UA.chromeDesktop;
  return {
    siteId: 'demo',
    sentAt,
    skewMs: receivedAt.getTime() - Date.parse(sentAt),
    receivedAtMs: receivedAt.getTime(),
    receivedAtIso: receivedAt.toISOString(),
    ua: parseUserAgent(ua),
    visitorHash: visitorHash(SECRET, receivedAt, 'demo', over.ip ?? '203.0.113.7', ua),
  };
}

const event = (over: Partial<ClickstreamEvent> = {}): ClickstreamEvent => ({
  event_id: '0190A8B2-7C4E-7ABC-8DEF-0123456789AB',
  type: 'page_view',
  ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  url: 'https://www.shop.example/lamp?utm_source=news&utm_medium=email',
  ...over,
});

function enriched(ev: ClickstreamEvent, f: RequestFacts = facts()) {
  const r = enrichEvent(ev, f, config);
  if (!r.ok) throw new Error(`expected a row, got: ${r.reason}`);
  return r.row;
}

describe('enrichEvent: times', () => {
  it('corrects clock skew: event_time = ts + (received_at - sent_at)', () => {
    // Prepare: the client clock is 1 h 5 s behind the server's
    const f = facts({ receivedAt: '2026-11-22T11:00:10.000Z', sentAt: '2026-11-22T10:00:05.000Z' });
    // Act
    const row = enriched(event({ ts: '2026-11-22T10:00:00.000Z' }), f);
    // Assess: 5 s before the batch left, by the server's clock
    expect(row.event_time).toBe('2026-11-22T11:00:05.000Z');
    expect(row).toMatchObject({
      ts: '2026-11-22T10:00:00.000Z',
      sent_at: '2026-11-22T10:00:05.000Z',
      received_at: '2026-11-22T11:00:10.000Z',
    });
  });

  it('corrects a clock that runs ahead, and reads zone offsets', () => {
    const f = facts({ receivedAt: '2026-11-22T10:00:00.000Z', sentAt: '2026-11-22T12:30:00.000+02:00' });
    expect(enriched(event({ ts: '2026-11-22T12:29:00.000+02:00' }), f).event_time).toBe('2026-11-22T09:59:00.000Z');
  });

  it(`rejects an event more than ${LIMITS.maxFutureSkewMs / 60_000} minutes in the future after correction`, () => {
    // Prepare
    const f = facts({ receivedAt: '2026-11-22T10:00:00.000Z', sentAt: '2026-11-22T10:00:00.000Z' });
    const limit = Date.parse('2026-11-22T10:00:00.000Z') + LIMITS.maxFutureSkewMs;
    // Act
    const atLimit = enrichEvent(event({ ts: new Date(limit).toISOString() }), f, config);
    const past = enrichEvent(event({ ts: new Date(limit + 1).toISOString() }), f, config);
    // Assess
    expect(atLimit.ok).toBe(true);
    expect(past).toEqual({ ok: false, reason: 'ts is in the future (more than 5 minutes after sent_at)' });
  });

  it(`rejects an event older than ${LIMITS.maxAgeMs / 86_400_000} days`, () => {
    // Prepare
    const f = facts({ receivedAt: '2026-11-22T10:00:00.000Z', sentAt: '2026-11-22T10:00:00.000Z' });
    const limit = Date.parse('2026-11-22T10:00:00.000Z') - LIMITS.maxAgeMs;
    // Act + Assess
    expect(enrichEvent(event({ ts: new Date(limit).toISOString() }), f, config).ok).toBe(true);
    expect(enrichEvent(event({ ts: new Date(limit - 1).toISOString() }), f, config)).toEqual({
      ok: false,
      reason: 'ts is more than 30 days old',
    });
  });

  it('rejects a ts that matches the pattern but is not a real instant', () => {
    expect(enrichEvent(event({ ts: '2026-13-45T25:61:00Z' }), facts(), config)).toEqual({ ok: false, reason: 'ts is not a valid instant' });
  });
});

describe('enrichEvent: stored row', () => {
  /** Keys of a JSON object text, in order and with repeats (JSON.parse would keep only the last of a repeat). */
  const keysOf = (line: string) => {
    const keys: string[] = [];
    JSON.parse(line, function (this: unknown, k: string, v: unknown) {
      if (this && typeof this === 'object' && !Array.isArray(this) && k !== '') keys.push(k);
      return v;
    });
    return keys;
  };

  it('serializes one flat JSON object per event: every schema column at most once, nothing else', () => {
    // Prepare: every optional client field set, and a webdriver event next to a plain one of the same request
    // (country and region come from the request: CloudFront's headers give both)
    const f: RequestFacts = { ...facts(), country: 'DE', region: 'DE-BE' };
    const full = event({
      type: 'click',
      name: 'menu',
      user_id: 'u',
      title: 't',
      element: 'e',
      duration_ms: 5,
      scroll_depth: 50,
      properties: { a: 1 },
      screen: '1x1',
      viewport: '1x1',
      language: 'en',
      timezone: 'UTC',
      sdk: 's',
      referrer: 'https://news.example/a?b=c',
      url: 'https://www.shop.example/p?utm_source=s&utm_medium=m&utm_campaign=c&utm_term=t&utm_content=x&gclid=1',
    });
    const columns = EVENT_COLUMNS.map((c) => c.name);
    for (const ev of [full, { ...full, webdriver: true }, event()]) {
      // Act
      const r = enrichLine(ev, f, config);
      if (!r.ok) throw new Error(r.reason);
      // Assess
      const keys = keysOf(r.line);
      expect(keys.length).toBe(new Set(keys).size);
      expect(columns).toEqual(expect.arrayContaining(keys));
      expect(r.line).not.toContain('\n');
    }
    // A bot's row has every column: bot_reason is omitted (null) for people.
    const all = enrichLine({ ...full, webdriver: true }, f, config);
    expect(all.ok && keysOf(all.line).sort()).toEqual([...columns].sort());
  });

  it('marks a webdriver event as a bot without changing the other events of its request', () => {
    const f = facts();
    const bot = enriched(event({ webdriver: true }), f);
    const person = enriched(event(), f);
    expect([bot.device_type, bot.is_bot, bot.bot_reason]).toEqual(['bot', true, 'webdriver']);
    expect([person.device_type, person.is_bot, person.bot_reason]).toEqual(['desktop', false, undefined]);
  });

  it('keeps the client fields, normalises event_id and adds the server columns', () => {
    // Act
    const row = enriched(
      event({ title: 'Lamp', referrer: 'https://www.google.com/', screen: '390x844', language: 'en-GB', user_id: 'u-1' }),
    );
    // Assess
    expect(row).toMatchObject({
      event_id: '0190a8b2-7c4e-7abc-8def-0123456789ab',
      type: 'page_view',
      site_id: 'demo',
      anonymous_id: 'anon-1',
      session_id: 'sess-1',
      user_id: 'u-1',
      title: 'Lamp',
      screen: '390x844',
      language: 'en-GB',
      host: 'www.shop.example',
      path: '/lamp',
      referrer: 'https://www.google.com/',
      referrer_host: 'www.google.com',
      referrer_type: 'search',
      source: 'news',
      medium: 'email',
      utm_source: 'news',
      schema_version: 1,
    });
  });

  it('stores properties as a JSON string that reads back to the same object', () => {
    // Prepare
    const properties = { sku: 'A-1', qty: 2, gift: false, tags: ['x', 1, null], note: 'quote " and \\ and ü' };
    // Act
    const row = enriched(event({ type: 'custom', name: 'add_to_cart', properties }));
    // Assess
    expect(typeof row.properties).toBe('string');
    expect(JSON.parse(row.properties as string)).toEqual(properties);
  });

  it('omits properties when the client sent none', () => {
    expect(enriched(event())).not.toHaveProperty('properties', expect.anything());
  });

  it(`rejects properties over ${LIMITS.maxPropertiesBytes} bytes serialized, naming the size`, () => {
    // Prepare: 9 values of 1,000 characters pass the schema (1,024 each) but not the total
    const properties = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`p${i}`, 'v'.repeat(1000)]));
    const size = JSON.stringify(properties).length;
    // Act
    const r = enrichEvent(event({ properties }), facts(), config);
    // Assess
    expect(r).toEqual({ ok: false, reason: `properties is ${size} bytes serialized; the limit is ${LIMITS.maxPropertiesBytes}` });
  });

  it('never stores the IP: not in the hash and in no column', () => {
    // Prepare
    const ip = '203.0.113.77';
    // Act
    const row = enriched(event(), facts({ ip }));
    // Assess
    expect(row.visitor_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(row)).not.toContain(ip);
    expect(JSON.stringify(row)).not.toContain('203.0.113');
  });
});

describe('visitor hash', () => {
  const at = new Date('2026-11-22T10:00:00Z');

  it('is stable within a UTC day for the same site, IP and user agent', () => {
    expect(visitorHash(SECRET, at, 'demo', '198.51.100.1', UA.chromeDesktop)).toBe(
      visitorHash(SECRET, new Date('2026-11-22T23:59:59.999Z'), 'demo', '198.51.100.1', UA.chromeDesktop),
    );
  });

  it('changes with the UTC day, so visitors cannot be followed across days', () => {
    // Prepare: one millisecond apart, on either side of UTC midnight
    const before = new Date('2026-11-22T23:59:59.999Z');
    const after = new Date('2026-11-23T00:00:00.000Z');
    // Act + Assess
    expect(visitorHash(SECRET, before, 'demo', '198.51.100.1', UA.chromeDesktop)).not.toBe(
      visitorHash(SECRET, after, 'demo', '198.51.100.1', UA.chromeDesktop),
    );
    expect(dailySalt(SECRET, before)).not.toBe(dailySalt(SECRET, after));
  });

  it('differs by IP, user agent, site and secret', () => {
    const h = visitorHash(SECRET, at, 'demo', '198.51.100.1', UA.chromeDesktop);
    expect(
      new Set([
        h,
        visitorHash(SECRET, at, 'demo', '198.51.100.2', UA.chromeDesktop),
        visitorHash(SECRET, at, 'demo', '198.51.100.1', UA.safariIphone),
        visitorHash(SECRET, at, 'other', '198.51.100.1', UA.chromeDesktop),
        visitorHash(`${SECRET}-rotated`, at, 'demo', '198.51.100.1', UA.chromeDesktop),
      ]).size,
    ).toBe(5);
  });

  it('is sha256(dailySalt | site | ip | ua) with dailySalt = HMAC-SHA256(secret, UTC date), as docs/security.md says', () => {
    // Prepare: the documented formula, computed here with node:crypto, and one fixed vector computed
    // outside Node: printf %s 2026-11-22 | openssl dgst -sha256 -hmac unit-test-secret-0123456789, then
    // printf %s "<salt>|demo|198.51.100.1|<UA.chromeDesktop>" | openssl dgst -sha256 (first 16 hex).
    const ip = '198.51.100.1';
    const salt = createHmac('sha256', SECRET).update('2026-11-22').digest('hex');
    // Act
    const salted = dailySalt(SECRET, at);
    const h = visitorHash(SECRET, at, 'demo', ip, UA.chromeDesktop);
    // Assess
    expect(salted).toBe(salt);
    expect(salted).toBe('62825ae609f23044cf32b5e722263bc9f5ba0dfde1d28024635330c0a75c6bfd');
    expect(h).toBe(createHash('sha256').update(`${salt}|demo|${ip}|${UA.chromeDesktop}`).digest('hex').slice(0, 16));
    expect(h).toBe('9f80d26192975440');
    // Not a plain hash of the IP: without the secret it cannot be recomputed from an address list.
    expect(
      createHash('sha256')
        .update(ip)
        .digest('hex')
        .startsWith(visitorHash(SECRET, at, 'demo', ip, '')),
    ).toBe(false);
  });

  it('uses the salt of the day asked for, also after another secret or day was used in between', () => {
    // Prepare: the day's salt is cached per secret and day; interleave them
    const day2 = new Date('2026-11-23T08:00:00Z');
    const expected = (secret: string, day: string) => createHmac('sha256', secret).update(day).digest('hex');
    // Act + Assess
    expect(dailySalt(SECRET, at)).toBe(expected(SECRET, '2026-11-22'));
    expect(dailySalt(`${SECRET}-rotated`, at)).toBe(expected(`${SECRET}-rotated`, '2026-11-22'));
    expect(dailySalt(SECRET, day2)).toBe(expected(SECRET, '2026-11-23'));
    expect(dailySalt(SECRET, at)).toBe(expected(SECRET, '2026-11-22'));
  });
});

describe('user agent', () => {
  it.each<[string, string, Record<string, unknown>]>([
    [
      'desktop Chrome',
      UA.chromeDesktop,
      { browser: 'Chrome', browser_version: '131', os: 'Windows', device_type: 'desktop', is_bot: false },
    ],
    [
      'mobile Safari',
      UA.safariIphone,
      { browser: 'Mobile Safari', browser_version: '17', os: 'iOS', os_version: '17.5', device_type: 'mobile', is_bot: false },
    ],
    ['iPad', UA.safariIpad, { os: 'iOS', device_type: 'tablet', is_bot: false }],
    ['Googlebot', UA.googlebot, { device_type: 'bot', is_bot: true }],
    ['Bingbot', UA.bingbot, { device_type: 'bot', is_bot: true }],
    ['headless Chrome', UA.headless, { device_type: 'bot', is_bot: true }],
    ['curl', UA.curl, { device_type: 'bot', is_bot: true }],
    ['no User-Agent header', '', { device_type: 'bot', is_bot: true }],
  ])('%s', (_name, ua, expected) => {
    expect(parseUserAgent(ua)).toMatchObject(expected);
  });

  it('lands in the row: Googlebot -> is_bot', () => {
    expect(enriched(event(), facts({ ua: UA.googlebot }))).toMatchObject({ is_bot: true, device_type: 'bot' });
    expect(enriched(event(), facts({ ua: UA.safariIphone }))).toMatchObject({
      is_bot: false,
      device_type: 'mobile',
      browser: 'Mobile Safari',
      os: 'iOS',
    });
  });

  it('flags an otherwise human browser as a bot when the SDK saw navigator.webdriver', () => {
    // Act
    const row = enriched(event({ webdriver: true }), facts({ ua: UA.chromeDesktop }));
    // Assess: the browser is still parsed, but the row is excluded from business queries
    expect(row).toMatchObject({ is_bot: true, device_type: 'bot', browser: 'Chrome' });
    expect(enriched(event({ webdriver: false }), facts({ ua: UA.chromeDesktop }))).toMatchObject({ is_bot: false, device_type: 'desktop' });
  });

  it('isBotUserAgent matches the crawler list, not only generic words', () => {
    // "AdsBot-Google" has no generic bot word boundary match; it comes from crawler-user-agents
    expect(isBotUserAgent('AdsBot-Google (+http://www.google.com/adsbot.html)')).toBe(true);
    expect(isBotUserAgent('facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)')).toBe(true);
    expect(isBotUserAgent(UA.chromeDesktop)).toBe(false);
  });

  it('does not take a phone whose brand ends in "bot" for a crawler', () => {
    const cubot = 'Mozilla/5.0 (Linux; Android 13; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36';
    expect(parseUserAgent(cubot)).toMatchObject({ is_bot: false, device_type: 'mobile' });
    expect(isBotUserAgent('Mozilla/5.0 (compatible; NewCrawlerBot/1.0)')).toBe(true);
  });

  it('answers from its cache what it answered the first time, per User-Agent', () => {
    // Prepare: what the iPhone's User-Agent is (as in the table above), fixed here
    const iphone = { browser: 'Mobile Safari', browser_version: '17', os: 'iOS', os_version: '17.5', device_type: 'mobile', is_bot: false };
    const chrome = { browser: 'Chrome', browser_version: '131', os: 'Windows', device_type: 'desktop', is_bot: false };
    // Act: first use, another User-Agent in between, then the cached answers
    const first = parseUserAgent(UA.safariIphone);
    const other = parseUserAgent(UA.chromeDesktop);
    const cached = parseUserAgent(UA.safariIphone);
    // Assess
    expect(first).toMatchObject(iphone);
    expect(other).toMatchObject(chrome);
    expect(cached).toMatchObject(iphone);
    expect(parseUserAgent(UA.chromeDesktop)).toMatchObject(chrome);
  });
});

/**
 * The pipeline's speed shortcuts must give exactly what the plain code gives:
 *   isoTime (handlers/lib/enrich.ts)            === new Date(ms).toISOString()
 *   attributeCached (handlers/lib/traffic.ts)   deep-equals attribute(), stays bounded, per config
 *   visitorHash via crypto.hash                 === the documented sha256 formula (stored data joins)
 *   dailySalt's one-entry cache                 === HMAC(secret, UTC date) for any order of days and secrets
 *   enrichLine's spliced JSON fragments         === JSON.stringify of the whole row, for any event checkEvent passes
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { configFromEnv } from '../../handlers/lib/config';
import { isReferrerSpam } from '../../handlers/lib/bots';
import { dailySalt, enrichLine, isoTime, visitorHash, type RequestFacts } from '../../handlers/lib/enrich';
import { attribute, attributeCached, attributionCacheSize, ATTRIBUTION_CACHE_LIMIT, type UrlPrivacy } from '../../handlers/lib/traffic';
import { parseUserAgent } from '../../handlers/lib/useragent';
import { checkEvent } from '../../handlers/lib/validate';
import { EVENT_TYPES, type ClickstreamEvent } from '../../schema/event';

// ECMAScript's time range: +-8.64e15 ms around the epoch.
const MAX_MS = 8.64e15;

describe('isoTime', () => {
  it('property: equals toISOString for any valid time, also in runs within one hour', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -MAX_MS, max: MAX_MS }),
        // Offsets that stay in the cached hour, cross its edges, or jump far away.
        fc.array(fc.oneof(fc.integer({ min: -3_600_000, max: 3_600_000 }), fc.integer({ min: -1e13, max: 1e13 })), { maxLength: 20 }),
        (start, steps) => {
          let t = start;
          for (const step of [0, ...steps]) {
            t = Math.min(MAX_MS, Math.max(-MAX_MS, t + step));
            if (isoTime(t) !== new Date(t).toISOString()) return false;
          }
          return true;
        },
      ),
      { numRuns: 500 },
    );
  });

  it('formats every millisecond, second and minute boundary of an hour like toISOString', () => {
    // Prepare: an hour that is cached after the first call
    const hour = Date.UTC(2026, 10, 22, 10);
    const offsets = [0, 1, 9, 10, 99, 100, 999, 1_000, 59_999, 60_000, 600_000, 3_599_999, 3_600_000];
    // Act + Assess
    for (const o of offsets) expect(isoTime(hour + o)).toBe(new Date(hour + o).toISOString());
  });

  it('formats years outside 0000-9999 and fractional times like toISOString', () => {
    for (const t of [Date.UTC(10_000, 0, 1), Date.UTC(-1, 0, 1), -1, 1.5, Date.UTC(2026, 0, 1) + 0.25]) {
      expect(isoTime(t)).toBe(new Date(t).toISOString());
    }
  });

  it('throws RangeError for an invalid time, as toISOString does', () => {
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(MAX_MS + 1)).toThrow(RangeError);
  });
});

describe('attributeCached', () => {
  const keepAll: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: false };
  const dropSome: UrlPrivacy = { dropQueryParams: new Set(['email', 'token']), dropQueryString: false };
  const dropAll: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: true };

  // URLs built from pieces that change attribution, plus the separator characters a cache key could confuse.
  const piece = fc.constantFrom(
    '',
    'www.',
    'google.',
    'mail.',
    'shop.example',
    'x.com',
    '/p',
    '?',
    '&',
    '=',
    'utm_source',
    'utm_medium',
    'gclid',
    'email',
    'token',
    'a@b.c',
    '#h',
    '\n',
    ':',
    '1',
    '%20',
    'ü',
    ' ',
  );
  const rawUrl = fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.tuple(fc.constantFrom('https://', 'http://', 'ftp://', ''), fc.array(piece, { maxLength: 10 })).map(([s, p]) => s + p.join('')),
  );

  it('property: deep-equals attribute() for every url, referrer and privacy setting, hit or miss', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(rawUrl, rawUrl, fc.constantFrom(keepAll, dropSome, dropAll)), { minLength: 1, maxLength: 30 }),
        (calls) => {
          // Each call is made twice so the second one is answered from the cache.
          for (const [u, r, p] of [...calls, ...calls]) expect(attributeCached(u, r, p)).toEqual(attribute(u, r, p));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps pairs apart whose url and referrer run together into the same text', () => {
    // Prepare: pairs a key of plain concatenation, or of url + newline + referrer, would confuse
    const pairs: [string, string | undefined][] = [
      ['https://a.example/', 'https://b.example/'],
      ['https://a.example/https://b.example/', undefined],
      ['https://a.example/\nx', 'https://b.example/'],
      ['https://a.example/', 'x\nhttps://b.example/'],
    ];
    // Act + Assess: each answer is the uncached one, whatever was cached before it
    for (const [u, r] of pairs) expect(attributeCached(u, r, keepAll)).toEqual(attribute(u, r, keepAll));
  });

  it('starts over when the privacy settings change, so a cached url never skips a filter', () => {
    // Prepare: cache the url under settings that keep the query string
    const url = 'https://shop.example/p?email=a@b.c&utm_source=x';
    expect(attributeCached(url, undefined, keepAll).url).toBe(url);
    // Act
    const filtered = attributeCached(url, undefined, dropSome);
    // Assess
    expect(filtered.url).toBe('https://shop.example/p?utm_source=x');
  });

  it("returns a frozen result, so one event cannot change another event's attribution", () => {
    const a = attributeCached('https://shop.example/?utm_source=x', undefined, keepAll);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { source: string }).source = 'changed';
    }).toThrow(TypeError);
  });

  it('holds at most ATTRIBUTION_CACHE_LIMIT entries, evicting the oldest first', () => {
    // Prepare: start from an empty cache (a new settings object clears it)
    const privacy: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: false };
    const first = 'https://shop.example/0';
    const firstResult = attributeCached(first, undefined, privacy);
    // Act: three times as many distinct pairs as the limit
    for (let i = 1; i < 3 * ATTRIBUTION_CACHE_LIMIT; i++) attributeCached(`https://shop.example/${i}`, undefined, privacy);
    // Assess: bounded, the newest is a hit (same object), the oldest was evicted (a new object)
    expect(attributionCacheSize()).toBe(ATTRIBUTION_CACHE_LIMIT);
    const last = `https://shop.example/${3 * ATTRIBUTION_CACHE_LIMIT - 1}`;
    expect(attributeCached(last, undefined, privacy)).toBe(attributeCached(last, undefined, privacy));
    expect(attributeCached(first, undefined, privacy)).not.toBe(firstResult);
  });

  it('stays within ATTRIBUTION_CACHE_LIMIT when one url comes with ever new referrers', () => {
    // Prepare
    const privacy: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: false };
    // Act: one page, three times as many distinct referrers as the limit
    for (let i = 0; i < 3 * ATTRIBUTION_CACHE_LIMIT; i++) {
      const ref = `https://ref${i}.example/`;
      expect(attributeCached('https://shop.example/', ref, privacy)).toEqual(attribute('https://shop.example/', ref, privacy));
      // Assess: bounded after every call, not only at the end
      expect(attributionCacheSize()).toBeLessThanOrEqual(ATTRIBUTION_CACHE_LIMIT);
    }
  });

  it('does not cache very long url+referrer pairs, which would make the bound a memory risk', () => {
    // Prepare
    const privacy: UrlPrivacy = { dropQueryParams: new Set(), dropQueryString: false };
    attributeCached('https://shop.example/', undefined, privacy);
    const size = attributionCacheSize();
    const long = `https://shop.example/${'p'.repeat(2_040)}`;
    // Act
    const a = attributeCached(long, long, privacy);
    // Assess: still correct, not kept
    expect(a).toEqual(attribute(long, long, privacy));
    expect(attributionCacheSize()).toBe(size);
  });
});

describe('visitorHash', () => {
  it('is still sha256(daily salt | site | ip | user agent), first 16 hex characters', () => {
    // Prepare: the formula computed independently, so stored hashes keep joining across releases
    const secret = 'test-secret';
    const at = new Date('2026-11-22T10:00:00.000Z');
    const salt = createHmac('sha256', secret).update('2026-11-22').digest('hex');
    const expected = createHash('sha256').update(`${salt}|demo|198.51.100.1|Mozilla/5.0 ü`).digest('hex').slice(0, 16);
    // Act + Assess
    expect(visitorHash(secret, at, 'demo', '198.51.100.1', 'Mozilla/5.0 ü')).toBe(expected);
  });
});

describe('dailySalt', () => {
  it('property: equals HMAC(secret, UTC date) for any sequence of times and secrets', () => {
    // Times cluster around a midnight UTC (also the epoch's, where day numbers turn negative) so
    // consecutive calls cross day boundaries both ways.
    fc.assert(
      fc.property(
        fc.constantFrom(Date.UTC(2026, 10, 22), 0),
        fc.array(fc.tuple(fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }), fc.constantFrom('s1', 's2', '')), {
          minLength: 1,
          maxLength: 20,
        }),
        (midnight, calls) =>
          calls.every(([offset, secret]) => {
            const at = new Date(midnight + offset);
            return dailySalt(secret, at) === createHmac('sha256', secret).update(at.toISOString().slice(0, 10)).digest('hex');
          }),
      ),
      { numRuns: 200 },
    );
  });

  it('throws RangeError for an invalid date, as before the cache', () => {
    dailySalt('s1', new Date('2026-11-22T10:00:00.000Z'));
    expect(() => dailySalt('s1', new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('enrichLine', () => {
  const receivedAtMs = Date.UTC(2026, 10, 22, 10);
  const facts = (): RequestFacts => ({
    siteId: 'demo',
    sentAt: '2026-11-22T09:59:59.000Z',
    skewMs: 1_000,
    receivedAtMs,
    receivedAtIso: new Date(receivedAtMs).toISOString(),
    ua: parseUserAgent(
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
    ),
    visitorHash: '0123456789abcdef',
  });
  /** The row as one object through JSON.stringify: what enrichLine wrote before it wrote JSON itself. */
  function reference(ev: ClickstreamEvent, f: RequestFacts, config: ReturnType<typeof configFromEnv>, userId: string | undefined): string {
    const attribution = attribute(ev.url, ev.referrer, config);
    // The layers in bots.ts's order; only the User-Agent, the webdriver hint and the referrer vary here.
    const reason =
      f.ua.bot_reason ??
      (ev.webdriver === true
        ? 'webdriver'
        : f.datacenter
          ? 'datacenter_ip'
          : isReferrerSpam(attribution.referrer_host)
            ? 'referrer_spam'
            : f.behaviour
              ? 'behaviour'
              : undefined);
    return JSON.stringify({
      event_id: ev.event_id.toLowerCase(),
      type: ev.type,
      name: ev.name,
      event_time: new Date(Date.parse(ev.ts) + f.skewMs).toISOString(),
      ts: ev.ts,
      anonymous_id: ev.anonymous_id,
      session_id: ev.session_id,
      user_id: userId,
      title: ev.title,
      element: ev.element,
      duration_ms: ev.duration_ms,
      scroll_depth: ev.scroll_depth,
      properties: ev.properties === undefined ? undefined : JSON.stringify(ev.properties),
      screen: ev.screen,
      viewport: ev.viewport,
      language: ev.language,
      timezone: ev.timezone,
      sdk: ev.sdk,
      ...attribution,
      site_id: f.siteId,
      sent_at: f.sentAt,
      received_at: f.receivedAtIso,
      browser: f.ua.browser,
      browser_version: f.ua.browser_version,
      os: f.ua.os,
      os_version: f.ua.os_version,
      device_type: reason ? 'bot' : f.ua.device_type,
      is_bot: reason !== undefined,
      bot_reason: reason,
      visitor_hash: f.visitorHash,
      schema_version: 1,
    });
  }
  // Text with what JSON escapes: quotes, backslashes, control characters, lone surrogates, U+2028.
  const text = (maxLength: number) =>
    fc.option(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength }),
        fc.string({
          unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '\ud800', '\udfff', 'é', '😀', 'a', '<'),
          maxLength: Math.min(maxLength, 30),
        }),
      ),
      { nil: undefined },
    );
  const size = fc.option(
    fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99_999 })).map(([w, h]) => `${w}x${h}`),
    { nil: undefined },
  );
  const scalarValue = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  );
  const arbEvent = fc.record(
    {
      event_id: fc.tuple(fc.uuid({ version: [4, 7] }), fc.boolean()).map(([u, upper]) => (upper ? u.toUpperCase() : u)),
      type: fc.constantFrom(...EVENT_TYPES),
      name: fc.option(fc.string({ unit: 'binary', minLength: 1, maxLength: 100 }), { nil: undefined }),
      // Within the accepted window (30 days back, 5 minutes ahead), in the forms the schema allows.
      ts: fc
        .tuple(fc.integer({ min: receivedAtMs - 29 * 86_400_000, max: receivedAtMs + 60_000 }), fc.constantFrom('Z', '+02:00', '-05:30'))
        .map(([ms, zone]) =>
          zone === 'Z'
            ? new Date(ms).toISOString()
            : `${new Date(ms - (zone === '+02:00' ? -7_200_000 : 19_800_000)).toISOString().slice(0, 23)}${zone}`,
        ),
      anonymous_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
      session_id: fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
      user_id: text(256),
      url: fc.option(fc.webUrl({ withQueryParameters: true, withFragments: true }), { nil: undefined }),
      referrer: text(200),
      title: text(512),
      element: text(256),
      duration_ms: fc.option(fc.integer({ min: 0, max: 86_400_000 }), { nil: undefined }),
      scroll_depth: fc.option(fc.integer({ min: 0, max: 100 }), { nil: undefined }),
      properties: fc.option(
        fc.dictionary(
          fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$.:-]{0,10}$/),
          fc.oneof(scalarValue, fc.array(scalarValue, { maxLength: 3 })),
          { maxKeys: 5 },
        ),
        { nil: undefined },
      ),
      screen: size,
      viewport: size,
      language: text(35),
      timezone: text(64),
      sdk: text(64),
      webdriver: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ['event_id', 'type', 'ts', 'anonymous_id', 'session_id'] },
  );

  it('property: writes exactly the JSON that JSON.stringify makes of the same row, for any event checkEvent passes', () => {
    for (const hashUserId of [false, true]) {
      const config = configFromEnv({ VISITOR_SALT_SECRET: 'perf-shortcuts-secret-0123', USER_ID_HASH: String(hashUserId) });
      let compared = 0;
      fc.assert(
        fc.property(arbEvent, (raw) => {
          const c = checkEvent(JSON.parse(JSON.stringify(raw)));
          if (!c.ok) return true; // the pipeline never enriches what the schema rejects
          const f = facts();
          const r = enrichLine(c.value, f, config);
          // Every generated event is inside the time window with small properties: enrichLine must keep it.
          if (!r.ok) throw new Error(`enrichLine rejected a valid event: ${r.reason}`);
          // The documented keyed hash (docs/security.md), not userIdHash itself.
          const userId =
            c.value.user_id && hashUserId
              ? createHmac('sha256', config.saltSecret).update(`user_id|${c.value.user_id}`).digest('hex').slice(0, 32)
              : c.value.user_id;
          expect(r.line).toBe(reference(c.value, f, config, userId));
          compared++;
          return true;
        }),
        { numRuns: 400 },
      );
      // Most generated events must reach the comparison, or the property says little.
      expect(compared).toBeGreaterThan(200);
    }
  });
});

/**
 * handlers/lib/pipeline.ts processRequest: request in, status + response + rows out. The status
 * codes are the wire contract the SDK's retry rule depends on (4xx dropped, 429/5xx retried), and
 * a readable body keeps its valid events even when others are rejected.
 */
import fc from 'fast-check';
import { configFromEnv } from '../../handlers/lib/config';
import { processRequest, type RequestInput } from '../../handlers/lib/pipeline';
import { LIMITS } from '../../schema/event';

const config = configFromEnv({
  VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
  SITES: JSON.stringify({
    shop: { origins: ['https://www.shop.example', 'https://*.shop.example'], allowNoOrigin: false },
    demo: { origins: ['http://localhost:*'], allowNoOrigin: true },
  }),
});

const RECEIVED = new Date('2026-11-22T10:00:10.000Z');
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let seq = 0;
/** A valid event with a fresh UUID v4 (the counter fills the last group). */
const ev = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_id: `9f1c2b3a-4d5e-4f60-9a7b-${(++seq).toString(16).padStart(12, '0')}`,
  type: 'click',
  ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  ...over,
});

const body = (events: unknown[], over: Record<string, unknown> = {}) =>
  JSON.stringify({ site_id: 'shop', sent_at: '2026-11-22T10:00:05.000Z', events, ...over });

const request = (over: Partial<RequestInput> = {}): RequestInput => ({
  body: body([ev()]),
  contentType: 'text/plain;charset=UTF-8',
  userAgent: CHROME,
  sourceIp: '203.0.113.7',
  origin: 'https://www.shop.example',
  requestId: 'req-1',
  receivedAt: RECEIVED,
  ...over,
});

/** The error message of a non-200 answer. */
const errorOf = (r: ReturnType<typeof processRequest>) => ('error' in r.response ? r.response.error : undefined);

describe('processRequest: per-event results', () => {
  it('accepts a valid batch and returns enriched rows', () => {
    // Prepare
    const events = [
      ev({ type: 'page_view', url: 'https://www.shop.example/?utm_source=news' }),
      ev(),
      ev({ type: 'custom', name: 'add_to_cart' }),
    ];
    // Act
    const r = processRequest(request({ body: body(events) }), config);
    // Assess
    expect(r.status).toBe(200);
    expect(r.response).toEqual({ accepted: 3, rejected: [] });
    expect(r.rejects).toEqual([]);
    expect(r.siteId).toBe('shop');
    expect(r.events.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    expect(r.events[0]).toMatchObject({
      site_id: 'shop',
      received_at: RECEIVED.toISOString(),
      event_time: '2026-11-22T10:00:05.000Z',
      browser: 'Chrome',
      is_bot: false,
      source: 'news',
    });
  });

  it('keeps the valid events of a mixed batch and rejects the bad ones by index and reason', () => {
    // Prepare
    const good1 = ev();
    const noId = ev();
    delete noId.event_id;
    const badType = ev({ type: 'hover' });
    const good2 = ev({ type: 'custom', name: 'signup' });
    const customNoName = ev({ type: 'custom' });
    // Act
    const r = processRequest(request({ body: body([good1, noId, badType, good2, customNoName]) }), config);
    // Assess
    expect(r.status).toBe(200);
    expect(r.response).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'event_id is required' },
        { index: 2, reason: 'type must be one of page_view, click, custom, engagement, identify' },
        { index: 4, reason: 'name is required for custom events' },
      ],
    });
    expect(r.events.map((e) => e.event_id)).toEqual([good1.event_id, good2.event_id]);
  });

  it('puts every rejected event in a rejects row with its reason, id and the event itself', () => {
    // Prepare
    const bad = ev({ type: 'page_view' });
    // Act
    const r = processRequest(request({ body: body([ev(), bad]) }), config);
    // Assess
    expect(r.rejects).toEqual([
      {
        received_at: RECEIVED.toISOString(),
        site_id: 'shop',
        event_index: 1,
        reason: 'url is required for page_view events',
        event_id: bad.event_id,
        event: JSON.stringify(bad),
        request_id: 'req-1',
      },
    ]);
  });

  it('cuts the stored copy of a rejected event to 8 KiB', () => {
    // Prepare: an unknown field of 20,000 characters
    const r = processRequest(request({ body: body([ev({ junk: 'j'.repeat(20_000) })]) }), config);
    // Assess
    expect(r.rejects[0]!.event).toHaveLength(8_192);
    expect(r.rejects[0]!.reason).toBe('junk is not a field of wire contract v1');
  });

  it('rejects a second event with the same event_id in one batch (any case)', () => {
    // Prepare
    const first = ev();
    const again = { ...ev(), event_id: String(first.event_id).toUpperCase() };
    // Act
    const r = processRequest(request({ body: body([first, again, ev()]) }), config);
    // Assess
    expect(r.response).toEqual({ accepted: 2, rejected: [{ index: 1, reason: 'duplicate event_id in this batch' }] });
    expect(r.rejects[0]).toMatchObject({ event_index: 1, reason: 'duplicate event_id in this batch', event_id: again.event_id });
  });

  it('rejects, per event, timestamps too far in the future or too old (after skew correction)', () => {
    // Prepare: sent_at equals the server clock, so there is no skew to correct
    const sentAt = RECEIVED.toISOString();
    const future = ev({ ts: new Date(RECEIVED.getTime() + LIMITS.maxFutureSkewMs + 1_000).toISOString() });
    const old = ev({ ts: new Date(RECEIVED.getTime() - LIMITS.maxAgeMs - 1_000).toISOString() });
    const recent = ev({ ts: new Date(RECEIVED.getTime() - 60_000).toISOString() });
    // Act
    const r = processRequest(request({ body: body([future, old, recent], { sent_at: sentAt }) }), config);
    // Assess
    expect(r.status).toBe(200);
    expect(r.response).toEqual({
      accepted: 1,
      rejected: [
        { index: 0, reason: 'ts is in the future (more than 5 minutes after sent_at)' },
        { index: 1, reason: 'ts is more than 30 days old' },
      ],
    });
  });

  it('accepts an event whose client clock is a day behind, since sent_at shows the same skew', () => {
    // Prepare: the whole client clock is 1 day behind
    const behind = (ms: number) => new Date(ms - 86_400_000).toISOString();
    // Act
    const r = processRequest(
      request({ body: body([ev({ ts: behind(RECEIVED.getTime() - 5_000) })], { sent_at: behind(RECEIVED.getTime()) }) }),
      config,
    );
    // Assess
    expect(r.response).toEqual({ accepted: 1, rejected: [] });
    expect(r.events[0]!.event_time).toBe(new Date(RECEIVED.getTime() - 5_000).toISOString());
  });
});

describe('processRequest: unreadable requests', () => {
  it.each<[string, string | undefined, RegExp]>([
    ['malformed JSON', '{"site_id": "shop", ', /^body is not valid JSON: /],
    ['a JSON array', '[1,2]', /^body must be a JSON object with site_id, sent_at and events$/],
    ['a JSON string', '"hello"', /^body must be a JSON object/],
    ['JSON null', 'null', /^body must be a JSON object/],
    ['an empty body', '', /^body is empty: send \{"site_id", "sent_at", "events": \[\.\.\.\]\}$/],
    ['a blank body', '  \n ', /^body is empty/],
    ['no body at all', undefined, /^body is empty/],
    ['no events', body([]), /^events is empty: send at least one event$/],
    ['missing sent_at', JSON.stringify({ site_id: 'shop', events: [ev()] }), /^sent_at is required$/],
    ['sent_at that is not a real instant', body([ev()], { sent_at: '2026-02-31T99:00:00Z' }), /^sent_at is not a valid instant$/],
  ])('400 for %s', (_name, raw, message) => {
    // Act
    const r = processRequest(request({ body: raw }), config);
    // Assess
    expect(r.status).toBe(400);
    expect(errorOf(r)).toMatch(message);
    expect(r.events).toEqual([]);
  });

  it('records the unreadable request in rejects (event_index -1) so nothing is silently dropped', () => {
    const r = processRequest(request({ body: '{oops' }), config);
    expect(r.rejects).toEqual([
      expect.objectContaining({
        event_index: -1,
        event: '{oops',
        request_id: 'req-1',
        reason: expect.stringMatching(/^body is not valid JSON/),
      }),
    ]);
  });

  it(`413 for a body over ${LIMITS.maxBodyBytes} bytes`, () => {
    // Prepare: padding in a field keeps it valid JSON
    const big = body([ev({ title: 'x'.repeat(LIMITS.maxBodyBytes) })]);
    // Act
    const r = processRequest(request({ body: big }), config);
    // Assess
    expect(r.status).toBe(413);
    expect(errorOf(r)).toBe(`body is larger than ${LIMITS.maxBodyBytes} bytes: send smaller batches`);
    expect(r.rejects[0]!.event!.length).toBeLessThanOrEqual(8_192);
  });

  it('413 counts UTF-8 bytes, not characters', () => {
    // Prepare: 600,000 "ü" are 600,000 characters but 1,200,000 bytes
    const r = processRequest(request({ body: body([ev({ title: 'ü'.repeat(600_000) })]) }), config);
    expect(r.status).toBe(413);
  });

  it('413 for a base64 body that decodes to over the limit', () => {
    const big = Buffer.from(body([ev({ title: 'x'.repeat(LIMITS.maxBodyBytes) })])).toString('base64');
    expect(processRequest(request({ body: big, isBase64Encoded: true }), config).status).toBe(413);
  });

  it(`413 for more than ${LIMITS.maxEvents} events`, () => {
    // Act
    const r = processRequest(request({ body: body(Array.from({ length: LIMITS.maxEvents + 1 }, () => ev())) }), config);
    // Assess
    expect(r.status).toBe(413);
    expect(errorOf(r)).toBe(`too many events: at most ${LIMITS.maxEvents} per request`);
  });

  it(`accepts exactly ${LIMITS.maxEvents} events`, () => {
    const r = processRequest(request({ body: body(Array.from({ length: LIMITS.maxEvents }, () => ev())) }), config);
    expect(r.response).toEqual({ accepted: LIMITS.maxEvents, rejected: [] });
  });

  it.each(['application/xml', 'multipart/form-data; boundary=x', 'image/png'])('415 for Content-Type %s', (type) => {
    // Act
    const r = processRequest(request({ contentType: type }), config);
    // Assess
    expect(r.status).toBe(415);
    expect(errorOf(r)).toBe(`Content-Type ${type.split(';')[0]} is not accepted: send text/plain or application/json`);
  });

  it.each([
    ['text/plain;charset=UTF-8'],
    ['application/json'],
    ['Application/JSON; charset=utf-8'],
    ['application/x-www-form-urlencoded'],
    [undefined],
  ])('accepts Content-Type %s', (type) => {
    expect(processRequest(request({ contentType: type }), config).status).toBe(200);
  });

  it('decodes a base64 body (API Gateway does so for some content types)', () => {
    const r = processRequest(
      request({ body: Buffer.from(body([ev({ title: 'Café ✓' })])).toString('base64'), isBase64Encoded: true }),
      config,
    );
    expect(r.response).toEqual({ accepted: 1, rejected: [] });
    expect(r.events[0]!.title).toBe('Café ✓');
  });

  it('400 for a base64 body that is not valid UTF-8', () => {
    // Prepare: 0xC3 starts a two-byte sequence that 0x28 does not continue
    const bytes = Buffer.concat([Buffer.from('{"site_id":"shop","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    // Act
    const r = processRequest(request({ body: bytes.toString('base64'), isBase64Encoded: true }), config);
    // Assess
    expect(r.status).toBe(400);
    expect(errorOf(r)).toBe('body is not valid UTF-8');
  });
});

describe('processRequest: sites and origins', () => {
  it('403 for a site that is not configured', () => {
    const r = processRequest(request({ body: body([ev()], { site_id: 'unknown' }) }), config);
    expect(r.status).toBe(403);
    expect(errorOf(r)).toBe("site_id 'unknown' is not configured");
    expect(r.events).toEqual([]);
  });

  it.each(['https://evil.example', 'http://www.shop.example', 'https://www.shop.example.evil.example', 'https://a.b.shop.example/'])(
    '403 for origin %s',
    (origin) => {
      const r = processRequest(request({ origin }), config);
      expect(r.status).toBe(403);
      expect(errorOf(r)).toBe(`origin ${origin} is not allowed for site 'shop'`);
    },
  );

  it.each(['https://www.shop.example', 'https://eu.shop.example', 'HTTPS://WWW.SHOP.EXAMPLE'])('accepts origin %s', (origin) => {
    expect(processRequest(request({ origin }), config).status).toBe(200);
  });

  it('403 without an Origin header when the site accepts browser requests only', () => {
    const r = processRequest(request({ origin: undefined }), config);
    expect(r.status).toBe(403);
    expect(errorOf(r)).toBe("site 'shop' accepts browser requests only (Origin header required)");
  });

  it('accepts requests without an Origin header (curl) when the site allows it', () => {
    expect(processRequest(request({ origin: undefined, body: body([ev()], { site_id: 'demo' }) }), config).status).toBe(200);
  });

  it('treats an empty Origin header like a missing one', () => {
    expect(processRequest(request({ origin: '' }), config).status).toBe(403);
    expect(processRequest(request({ origin: '', body: body([ev()], { site_id: 'demo' }) }), config).status).toBe(200);
  });

  it('reports the site of a 403 for a bad origin (the handler then sends no CORS header)', () => {
    expect(processRequest(request({ origin: 'https://evil.example' }), config).siteId).toBe('shop');
  });
});

describe('processRequest never throws for bad input', () => {
  const statuses = [200, 400, 403, 413, 415];

  it('property: any body, content type and encoding flag gives a contract status', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.json(), fc.constant(undefined)),
        fc.constantFrom('text/plain', 'application/json', 'text/html', undefined),
        fc.boolean(),
        (raw, contentType, isBase64Encoded) => {
          const r = processRequest(request({ body: raw, contentType, isBase64Encoded }), config);
          return statuses.includes(r.status) && typeof JSON.stringify(r.response) === 'string';
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any events inside a valid envelope are accepted or rejected one by one', () => {
    // Events built from valid ones with fields replaced by arbitrary JSON values.
    const field = fc.constantFrom(
      'event_id',
      'type',
      'name',
      'ts',
      'anonymous_id',
      'session_id',
      'url',
      'referrer',
      'properties',
      'duration_ms',
      'webdriver',
      'extra',
    );
    const change = fc.option(fc.tuple(field, fc.jsonValue({ maxDepth: 2 })), { nil: undefined });
    const mutated = fc.tuple(change, change).map((changes) => ev(Object.fromEntries(changes.filter((c) => c !== undefined))));
    const seen = { accepted: 0, rejected: 0 };
    fc.assert(
      fc.property(fc.array(mutated, { minLength: 1, maxLength: 20 }), (events) => {
        const r = processRequest(request({ body: body(events) }), config);
        if (r.status !== 200 || 'error' in r.response) return false;
        seen.accepted += r.response.accepted;
        seen.rejected += r.response.rejected.length;
        // Every event is either accepted or rejected, exactly once
        return r.response.accepted + r.response.rejected.length === events.length && r.rejects.length === r.response.rejected.length;
      }),
      { numRuns: 100 },
    );
    // The generator must exercise both outcomes, or the property proves nothing.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });
});

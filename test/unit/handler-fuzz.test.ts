/**
 * Property test of the pure pipeline (processRequest) over 11,000 generated requests: valid
 * batches, valid events mixed with mutated ones, random envelopes, random JSON, random text and
 * random bytes. Whatever arrives: it never throws, answers one of the documented statuses, accounts
 * for every event (accepted + rejected == sent), keeps every valid event, and gives every
 * rejection a reason. Seeds are printed by fast-check on failure; pass FUZZ_SEED to replay one.
 */
import fc from 'fast-check';
import { EVENT_TYPES } from '../../schema/event';
import { configFromEnv, processRequest, type RequestInput } from '../../handlers/lib/pipeline';

const config = configFromEnv({ VISITOR_SALT_SECRET: 'handler-fuzz-test-salt-0001' });
const NOW = new Date();
const STATUSES = new Set([200, 400, 403, 413, 415]);
const DAY = 86_400_000;
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

type Ev = Record<string, unknown>;

// Mostly ASCII, sometimes any code point (surrogate pairs, combining marks, control characters).
const text = (max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: max }) },
    { weight: 1, arbitrary: fc.string({ maxLength: max, unit: 'grapheme' }) },
  );
const isoIn = (fromMs: number, toMs: number) => fc.integer({ min: fromMs, max: toMs }).map((ms) => new Date(ms).toISOString());
const propValue = fc.oneof(
  text(40),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(text(10), fc.integer()), { maxLength: 5 }),
);
// fc.webUrl costs about 0.7 ms a value; this keeps the run within budget and still varies scheme
// (lower case: the contract's url pattern is ^https?:// and browsers send it so),
// host, path, query (utm_*, click ids, params dropped for privacy) and fragment.
const url = fc
  .tuple(
    fc.constantFrom('https', 'http'),
    fc.constantFrom('shop.example', 'www.google.com', 'xn--bcher-kva.example', 'localhost:8080', '127.0.0.1'),
    fc.string({ maxLength: 30 }),
    fc.option(fc.tuple(fc.constantFrom('utm_source', 'gclid', 'email', 'token', 'q', 'fbclid'), fc.string({ maxLength: 20 })), {
      nil: undefined,
    }),
    fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
  )
  .map(
    ([scheme, host, path, query, hash]) =>
      `${scheme}://${host}/${encodeURI(path)}${query ? `?${query[0]}=${encodeURIComponent(query[1])}` : ''}${hash !== undefined ? `#${hash}` : ''}`,
  );
const propKey = fc
  .stringMatching(/^[A-Za-z_$][A-Za-z0-9_$.:-]{0,20}$/)
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));

/** An event the contract accepts: ids never start with 'f' (mutated events' ids do, so they never collide). */
const validEvent: fc.Arbitrary<Ev> = fc.record(
  {
    event_id: fc
      .tuple(fc.uuid({ version: [4, 7] }), fc.boolean())
      .map(([id, upper]) => (upper ? id.toUpperCase() : id))
      .map((id) => (/^[fF]/.test(id) ? `0${id.slice(1)}` : id)),
    type: fc.constantFrom(...EVENT_TYPES),
    // From 29 days ago to 4 minutes ahead of the server clock (limits: 30 days, 5 minutes).
    ts: isoIn(NOW.getTime() - 29 * DAY, NOW.getTime() + 4 * 60_000),
    anonymous_id: fc.string({ minLength: 1, maxLength: 64 }),
    session_id: fc.string({ minLength: 1, maxLength: 64 }),
    // name and url are allowed on every type and required by custom / page_view: always present.
    name: fc.string({ minLength: 1, maxLength: 100 }),
    url,
    user_id: text(256),
    referrer: fc.oneof(fc.constant(''), url, text(50)),
    title: text(100),
    element: text(50),
    duration_ms: fc.integer({ min: 0, max: 86_400_000 }),
    scroll_depth: fc.integer({ min: 0, max: 100 }),
    properties: fc.dictionary(propKey, propValue, { maxKeys: 8 }),
    screen: fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99_999 })).map(([w, h]) => `${w}x${h}`),
    language: text(35),
    timezone: text(64),
    sdk: text(64),
    webdriver: fc.boolean(),
  },
  { requiredKeys: ['event_id', 'type', 'ts', 'anonymous_id', 'session_id', 'name', 'url'] },
);

const FIELDS = [
  'event_id',
  'type',
  'ts',
  'anonymous_id',
  'session_id',
  'user_id',
  'name',
  'url',
  'referrer',
  'title',
  'element',
  'duration_ms',
  'scroll_depth',
  'properties',
  'screen',
  'viewport',
  'language',
  'timezone',
  'sdk',
  'webdriver',
];
const REQUIRED = ['event_id', 'type', 'ts', 'anonymous_id', 'session_id'];

/** A valid event with one thing changed; it may or may not still be valid. */
const mutatedEvent: fc.Arbitrary<Ev> = fc
  .tuple(
    validEvent,
    fc.oneof(
      fc.constantFrom(...REQUIRED).map((f) => (e: Ev) => {
        delete e[f];
      }),
      fc.tuple(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2, depthSize: 'xsmall' })).map(([f, v]) => (e: Ev) => {
        e[f] = v;
      }),
      fc.tuple(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1, depthSize: 'xsmall' })).map(([k, v]) => (e: Ev) => {
        e[`zz_${k}`] = v;
      }),
      fc.date({ noInvalidDate: true }).map((d) => (e: Ev) => {
        e.ts = d.toISOString();
      }),
      fc.string({ maxLength: 40 }).map((s) => (e: Ev) => {
        e.ts = s;
      }),
      fc
        .dictionary(
          fc.string({ maxLength: 70 }),
          fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1, depthSize: 'xsmall' })),
          { maxKeys: 55, size: 'xsmall' },
        )
        .map((p) => (e: Ev) => {
          e.properties = p;
        }),
      fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => (e: Ev) => {
        e.properties = JSON.parse(`{"${k}":{"polluted":1}}`) as unknown;
      }),
    ),
  )
  .map(([ev, mutate]) => {
    const e: Ev = { ...ev, event_id: `f${String(ev.event_id).slice(1)}` };
    mutate(e);
    return e;
  });

interface Generated {
  input: RequestInput;
  /** Event ids the contract must accept (valid, unique, in an envelope that is itself valid). */
  mustAccept: string[];
}

const request = (body: string, extra: Partial<RequestInput> = {}): RequestInput => ({
  body,
  contentType: 'text/plain',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0',
  sourceIp: '198.51.100.1',
  receivedAt: NOW,
  ...extra,
});
const envelope = (events: unknown[]) => JSON.stringify({ site_id: 'demo', sent_at: NOW.toISOString(), events });

const validBatch: fc.Arbitrary<Generated> = fc
  .uniqueArray(validEvent, { minLength: 1, maxLength: 6, selector: (e) => String(e.event_id).toLowerCase() })
  .map((events) => ({ input: request(envelope(events)), mustAccept: events.map((e) => String(e.event_id)) }));

const mixedBatch: fc.Arbitrary<Generated> = fc
  .tuple(
    fc.uniqueArray(validEvent, { maxLength: 4, selector: (e) => String(e.event_id).toLowerCase() }),
    fc.array(mutatedEvent, { minLength: 1, maxLength: 4 }),
  )
  .chain(([valid, mutated]) =>
    fc
      .shuffledSubarray([...valid, ...mutated], { minLength: valid.length + mutated.length })
      .map((events) => ({ input: request(envelope(events)), mustAccept: valid.map((e) => String(e.event_id)) })),
  );

const randomEnvelope: fc.Arbitrary<Generated> = fc
  .record(
    {
      site_id: fc.oneof(fc.constant('demo'), fc.string({ maxLength: 70 }), fc.jsonValue({ maxDepth: 1 })),
      sent_at: fc.oneof(isoIn(0, 4_102_444_800_000), fc.string({ maxLength: 45 }), fc.jsonValue({ maxDepth: 1 })),
      events: fc.oneof(
        fc.array(fc.oneof(validEvent, mutatedEvent, fc.jsonValue({ maxDepth: 2 })), { maxLength: 8 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    },
    { requiredKeys: [] },
  )
  .chain((env) =>
    fc
      .record({
        contentType: fc.oneof(
          fc.constantFrom('text/plain', 'application/json', 'text/plain; charset=utf-8', ''),
          fc.string({ maxLength: 30 }),
        ),
        origin: fc.option(
          fc.oneof(fc.constantFrom('http://localhost:8080', 'https://evil.example', 'null'), fc.string({ maxLength: 40 })),
          { nil: undefined },
        ),
      })
      .map(({ contentType, origin }) => ({ input: request(JSON.stringify(env), { contentType, origin }), mustAccept: [] })),
  );

const randomJson: fc.Arbitrary<Generated> = fc
  .jsonValue({ maxDepth: 4 })
  .map((v) => ({ input: request(JSON.stringify(v)), mustAccept: [] }));
const randomText: fc.Arbitrary<Generated> = fc
  .string({ maxLength: 300, unit: 'binary' })
  .map((s) => ({ input: request(s), mustAccept: [] }));
const randomBytes: fc.Arbitrary<Generated> = fc
  .uint8Array({ maxLength: 300 })
  .map((b) => ({ input: request(Buffer.from(b).toString('base64'), { isBase64Encoded: true }), mustAccept: [] }));

const PROTOTYPE_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
/**
 * The invariants every answer must hold, and Object.prototype untouched after each request (checked
 * per run, so any test here alone or in any order would catch it). Throws (failing the property)
 * when one does not.
 */
function check(generated: Generated): void {
  checkAnswer(generated);
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_KEYS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}
function checkAnswer({ input, mustAccept }: Generated): void {
  const result = processRequest(input, config);
  expect(STATUSES.has(result.status)).toBe(true);
  if (result.status !== 200) {
    expect(mustAccept).toEqual([]);
    expect((result.response as { error: string }).error.length).toBeGreaterThan(0);
    expect(result.events).toEqual([]);
    return;
  }
  const response = result.response as { accepted: number; rejected: { index: number; reason: string }[] };
  const sent = (
    JSON.parse(input.isBase64Encoded ? Buffer.from(input.body!, 'base64').toString('utf8') : input.body!) as { events: unknown[] }
  ).events.length;
  expect(response.accepted + response.rejected.length).toBe(sent);
  expect(result.events).toHaveLength(response.accepted);
  expect(new Set(response.rejected.map((r) => r.index)).size).toBe(response.rejected.length);
  for (const r of response.rejected) {
    expect(r.index >= 0 && r.index < sent).toBe(true);
    expect(r.reason.trim().length).toBeGreaterThan(0);
  }
  const stored = new Set(result.events.map((e) => e.event_id));
  for (const id of mustAccept) expect(stored.has(id.toLowerCase())).toBe(true);
}

// 11,000 requests in all (at least 10,000 asked). Batches stay small (<= 10 events) so the run
// stays within about 20 s on a busy 2-core machine; the catalogue covers the large ones.
describe('processRequest under generated requests', () => {
  test('valid batches: everything accepted (2,500 runs)', () => fc.assert(fc.property(validBatch, check), params(2_500)));
  test('valid and mutated events mixed: valid ones kept, the rest rejected with a reason (2,500 runs)', () =>
    fc.assert(fc.property(mixedBatch, check), params(2_500)));
  test('random envelopes, content types and origins (2,500 runs)', () => fc.assert(fc.property(randomEnvelope, check), params(2_500)));
  test('random JSON values (1,500 runs)', () => fc.assert(fc.property(randomJson, check), params(1_500)));
  test('random text (1,500 runs)', () => fc.assert(fc.property(randomText, check), params(1_500)));
  test('random bytes, base64-encoded (500 runs)', () => fc.assert(fc.property(randomBytes, check), params(500)));
});

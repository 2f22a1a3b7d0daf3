/**
 * handlers/lib/validate.ts: per-event checks with the validators compiled from schema/event.ts.
 * Every rejection must name the field so an integrator can fix the call without reading our code.
 */
import { checkEnvelope, checkEvent } from '../../handlers/lib/validate';
import { LIMITS } from '../../schema/event';

const event = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_id: '0190a8b2-7c4e-7abc-8def-0123456789ab',
  type: 'click',
  ts: '2026-11-22T10:00:00.000Z',
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  ...over,
});

/** Without the key at all (not `undefined`): the wire carries JSON, which has no undefined. */
const without = (key: string) => {
  const e = event();
  delete e[key];
  return e;
};

const reasonOf = (data: unknown): string => {
  const r = checkEvent(data);
  if (r.ok) throw new Error(`expected a rejection, got ok for ${JSON.stringify(data)}`);
  return r.reason;
};

describe('checkEvent accepts valid events', () => {
  it.each([
    ['click', event()],
    ['page_view with url', event({ type: 'page_view', url: 'https://www.example.com/a?b=1', referrer: '', title: 'A' })],
    [
      'custom with name and flat properties',
      event({ type: 'custom', name: 'add_to_cart', properties: { sku: 'A-1', qty: 2, gift: false, tags: ['x', 1, null] } }),
    ],
    ['uuid v4, upper case', event({ event_id: '9F1C2B3A-4D5E-4F60-9A7B-8C9D0E1F2A3B' })],
    ['ts with an offset and nanoseconds', event({ ts: '2026-11-22T11:00:00.123456789+01:00' })],
    [
      'full optional context',
      event({
        screen: '1920x1080',
        viewport: '1280x720',
        language: 'en-GB',
        timezone: 'Europe/London',
        sdk: 'cs/1.0.0',
        webdriver: false,
        duration_ms: 1200,
        scroll_depth: 80,
        user_id: 'u-1',
        element: 'buy',
      }),
    ],
  ])('%s', (_name, data) => {
    // Act
    const r = checkEvent(data);
    // Assess
    expect(r).toEqual({ ok: true, value: data });
  });
});

describe('checkEvent rejects with a reason that names the field', () => {
  it.each<[string, unknown, RegExp]>([
    ['missing event_id', without('event_id'), /^event_id is required$/],
    ['missing ts', without('ts'), /^ts is required$/],
    ['unknown type', event({ type: 'hover' }), /^type must be one of page_view, click, custom, engagement, identify$/],
    ['custom without name', event({ type: 'custom' }), /^name is required for custom events$/],
    ['page_view without url', event({ type: 'page_view' }), /^url is required for page_view events$/],
    [
      'url that is not http(s)',
      event({ type: 'page_view', url: 'javascript:alert(1)' }),
      /^url has the wrong format \(expected an absolute http\(s\) URL\)$/,
    ],
    ['over-long title', event({ title: 'x'.repeat(513) }), /^title is longer than 512 characters$/],
    [
      'over-long url',
      event({ url: `https://e.com/${'a'.repeat(LIMITS.maxUrlLength)}` }),
      new RegExp(`^url is longer than ${LIMITS.maxUrlLength} characters`),
    ],
    ['over-long property value', event({ properties: { note: 'n'.repeat(1025) } }), /^properties\.note is longer than 1024 characters/],
    ['bad uuid', event({ event_id: 'not-a-uuid' }), /^event_id has the wrong format \(expected a UUID v4 or v7\)$/],
    ['uuid of another version (v1)', event({ event_id: '0190a8b2-7c4e-1abc-8def-0123456789ab' }), /^event_id has the wrong format/],
    ['ts that is not ISO-8601', event({ ts: '22/11/2026 10:00' }), /^ts has the wrong format \(expected an ISO-8601 instant/],
    ['ts without a zone', event({ ts: '2026-11-22T10:00:00' }), /^ts has the wrong format/],
    ['unknown field', event({ ip: '1.2.3.4' }), /^ip is not a field of wire contract v1$/],
    ['nested property object', event({ properties: { a: { b: 1 } } }), /^properties\.a must be/],
    ['screen not WxH', event({ screen: 'big' }), /^screen has the wrong format \(expected WIDTHxHEIGHT\)$/],
    ['negative duration', event({ duration_ms: -1 }), /^duration_ms must be >= 0$/],
    ['scroll depth over 100', event({ scroll_depth: 101 }), /^scroll_depth must be <= 100$/],
  ])('%s', (_name, data, expected) => {
    // Act
    const reason = reasonOf(data);
    // Assess
    expect(reason).toMatch(expected);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('properties with a %s key (as JSON.parse makes it: an own key)', (key) => {
    // Prepare: JSON.parse creates an own "__proto__" key, unlike an object literal
    const data = JSON.parse(
      `{"event_id":"0190a8b2-7c4e-7abc-8def-0123456789ab","type":"click","ts":"2026-11-22T10:00:00Z","anonymous_id":"a","session_id":"s","properties":{"${key}":{"polluted":true}}}`,
    );
    // Act
    const reason = reasonOf(data);
    // Assess
    expect(reason).toContain('properties has a key that is not allowed');
    expect(reason).toContain(key);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('properties key with characters outside the allowed set', () => {
    expect(reasonOf(event({ properties: { 'a b': 1 } }))).toContain('properties has a key that is not allowed: a b');
  });

  it(`more than ${LIMITS.maxPropertyKeys} property keys`, () => {
    // Prepare
    const at = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    // Act + Assess: the limit itself is fine, one more is not
    expect(checkEvent(event({ properties: at(LIMITS.maxPropertyKeys) })).ok).toBe(true);
    expect(reasonOf(event({ properties: at(LIMITS.maxPropertyKeys + 1) }))).toBe(`properties has more than ${LIMITS.maxPropertyKeys} keys`);
  });

  it.each([
    ['a string', 'click'],
    ['an array', [event()]],
    ['null', null],
    ['a number', 42],
    ['undefined', undefined],
  ])('non-object event: %s', (_name, data) => {
    expect(reasonOf(data)).toBe('event must be a JSON object');
  });

  it('reports at most three reasons, missing fields first', () => {
    // Prepare: three missing fields and a bad format
    const data = { type: 'click', ts: 'x' };
    // Act
    const reason = reasonOf(data);
    // Assess
    const parts = reason.split('; ');
    expect(parts.length).toBeLessThanOrEqual(3);
    expect(parts[0]).toMatch(/ is required$/);
  });
});

describe('checkEnvelope', () => {
  const body = (over: Record<string, unknown> = {}) => ({
    site_id: 'demo',
    sent_at: '2026-11-22T10:00:05.120Z',
    events: [event()],
    ...over,
  });

  it('accepts a well-formed envelope without checking the fields of its events', () => {
    // The events are checked one by one later, so one bad event must not fail the envelope.
    const data = body({ events: [event(), { type: 'hover' }] });
    expect(checkEnvelope(data)).toEqual({ ok: true, value: data });
  });

  it.each<[string, unknown, RegExp]>([
    ['missing site_id', { sent_at: '2026-11-22T10:00:05Z', events: [event()] }, /^site_id is required$/],
    ['site_id with upper case', body({ site_id: 'Demo' }), /^site_id has the wrong format/],
    ['sent_at not ISO', body({ sent_at: 'now' }), /^sent_at has the wrong format/],
    ['no events', body({ events: [] }), /^events is empty: send at least one event$/],
    [
      'too many events',
      body({ events: Array.from({ length: LIMITS.maxEvents + 1 }, () => ({})) }),
      new RegExp(`^too many events: at most ${LIMITS.maxEvents} per request$`),
    ],
    ['events not an array', body({ events: {} }), /^events must be array$/],
    ['extra top-level field', body({ debug: true }), /^debug is not a field of wire contract v1$/],
  ])('rejects %s', (_name, data, expected) => {
    const r = checkEnvelope(data);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(expected);
  });
});

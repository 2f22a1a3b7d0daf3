/**
 * The catalogue of hostile requests, each with the answer it must get. Run through the pure
 * pipeline and the Lambda handler (test/unit/hostile-inputs.test.ts) and over real HTTP through the
 * local stack (test/integration/hostile-http.test.ts), where API Gateway's own answers apply.
 */
import { LIMITS } from '../../schema/event';
import type { StoredEvent } from '../../handlers/lib/pipeline';

export const SALT = 'hostile-inputs-test-salt-0001';
export const SITES = JSON.stringify({ demo: { origins: ['http://localhost:*', 'https://shop.example'], allowNoOrigin: true } });
export const NOW = new Date();
const iso = (offsetMs = 0) => new Date(NOW.getTime() + offsetMs).toISOString();
export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
export const SOURCE_IP = '203.0.113.77';

let seq = 0;
/** A fresh valid UUID v4 per call (deterministic, so failures are reproducible). */
const uuid = () => `0190b8f0-1c2d-4abc-8def-${(++seq).toString(16).padStart(12, '0')}`;
const good = (over: Record<string, unknown> = {}) => ({
  event_id: uuid(),
  type: 'page_view',
  ts: iso(-1_000),
  anonymous_id: 'anon-1',
  session_id: 'sess-1',
  url: 'https://shop.example/menu',
  ...over,
});
const envelope = (events: unknown, over: Record<string, unknown> = {}) =>
  JSON.stringify({ site_id: 'demo', sent_at: iso(), events, ...over });
/** A good event, then the hostile one: the good one must be kept. */
const pair = (hostile: unknown) => envelope([good(), hostile]);
const deep = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;

export interface Case {
  name: string;
  /** null: what API Gateway passes for an empty POST. */
  body: string | null | undefined;
  base64?: boolean;
  contentType?: string;
  origin?: string;
  userAgent?: string;
  status: number;
  /** Non-200: a substring of the error message. */
  error?: string;
  /** 200: accepted count and, per rejected index, a substring of its reason. */
  accepted?: number;
  reasons?: [number, string][];
  /** 200: checks on the stored rows (verbatim data). */
  stored?: (rows: StoredEvent[]) => void;
  /**
   * Over real HTTP through the local stack, where it differs: 'skip' when the case cannot be sent
   * by a client at all; `gateway` when API Gateway answers before the function runs (its own
   * `{"message"}` body); `anyReason` when how the bytes reach the function depends on API Gateway's
   * text/binary decision, so only the status is asserted.
   */
  http?: 'skip' | { status?: number; gateway?: string; anyReason?: true };
}

// Wrong types for every event field: [field, value, reason substring].
const WRONG_TYPES: [string, unknown, string][] = [
  ['event_id', 12345, 'event_id must be string'],
  ['type', 1, 'type must be string'],
  ['ts', 1_732_270_000_000, 'ts must be string'],
  ['anonymous_id', { id: 1 }, 'anonymous_id must be string'],
  ['session_id', ['s'], 'session_id must be string'],
  ['user_id', 42, 'user_id must be string'],
  ['url', true, 'url must be string'],
  ['referrer', false, 'referrer must be string'],
  ['title', { t: 'x' }, 'title must be string'],
  ['element', 7, 'element must be string'],
  ['duration_ms', '100', 'duration_ms must be integer'],
  ['duration_ms', 1.5, 'duration_ms must be integer'],
  ['duration_ms', -1, 'duration_ms must be >= 0'],
  ['scroll_depth', 101, 'scroll_depth must be <= 100'],
  ['properties', [1, 2], 'properties must be object'],
  ['properties', 'a=b', 'properties must be object'],
  ['screen', 1920, 'screen must be string'],
  ['viewport', 'big', 'viewport has the wrong format'],
  ['language', ['en'], 'language must be string'],
  ['timezone', 0, 'timezone must be string'],
  ['sdk', null, 'sdk must be string'],
  ['webdriver', 'yes', 'webdriver must be boolean'],
];

const sqlTitle = '\'; DROP TABLE events; -- " OR 1=1 /*';
const htmlElement = '<script>alert(document.cookie)</script><img src=x onerror=alert(1)>';
const controlChars = 'tab\tnewline\nreturn\rbell\u0007escape\u001b del\u007f';

export const CASES: Case[] = [
  // Unreadable bodies: 400 with a reason.
  { name: 'truncated JSON', body: '{"site_id":"demo","sent_at":', status: 400, error: 'not valid JSON' },
  { name: 'batch cut in the middle of an event', body: pair(good()).slice(0, 120), status: 400, error: 'not valid JSON' },
  { name: 'empty body', body: '', status: 400, error: 'body is empty' },
  { name: 'no body at all', body: undefined, status: 400, error: 'body is empty' },
  { name: 'null body (an empty POST through API Gateway)', body: null, status: 400, error: 'body is empty' },
  { name: 'whitespace only', body: ' \n\t ', status: 400, error: 'body is empty' },
  { name: 'JSON null', body: 'null', status: 400, error: 'must be a JSON object' },
  { name: 'JSON array', body: '[1,2]', status: 400, error: 'must be a JSON object' },
  { name: 'JSON string', body: '"events"', status: 400, error: 'must be a JSON object' },
  { name: 'JSON number', body: '12345', status: 400, error: 'must be a JSON object' },
  {
    name: 'NUL bytes between tokens',
    body: `{"site_id":"demo",\u0000"sent_at":"${iso()}","events":[]}`,
    status: 400,
    error: 'not valid JSON',
  },
  { name: 'byte-order mark before the JSON', body: `\uFEFF${pair(good())}`, status: 400, error: 'not valid JSON' },
  {
    name: 'invalid UTF-8 in a base64 body',
    body: Buffer.concat([Buffer.from('{"site_id":"demo","x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]).toString('base64'),
    base64: true,
    status: 400,
    error: 'not valid UTF-8',
    http: { anyReason: true },
  },
  {
    name: 'overlong UTF-8 encoding of "/" in base64',
    body: Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]).toString('base64'),
    base64: true,
    status: 400,
    error: 'not valid UTF-8',
    http: { anyReason: true },
  },
  // isBase64Encoded is set by API Gateway, never by a client.
  {
    name: 'base64 flag on a body that is not base64',
    body: '!!!not base64!!!',
    base64: true,
    status: 400,
    error: 'body is not valid',
    http: 'skip',
  },
  {
    name: 'deep nesting (10,000 levels) at the top level',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())}],"x":${deep(10_000)}}`,
    status: 400,
    error: 'x is not a field of wire contract v1',
  },

  // Envelope problems.
  { name: 'events is an object', body: envelope({ 0: good() }), status: 400, error: 'events must be array' },
  { name: 'events is a string', body: envelope('[]'), status: 400, error: 'events must be array' },
  { name: 'events is null', body: envelope(null), status: 400, error: 'events must be array' },
  { name: 'events is empty', body: envelope([]), status: 400, error: 'events is empty' },
  // One non-object event is rejected on its own: its valid neighbour is kept.
  {
    name: 'a non-object among the events',
    body: envelope([good(), 42]),
    status: 200,
    accepted: 1,
    reasons: [[1, 'event must be a JSON object']],
  },
  { name: 'site_id is a number', body: envelope([good()], { site_id: 7 }), status: 400, error: 'site_id must be string' },
  {
    name: 'site_id with path traversal',
    body: envelope([good()], { site_id: '../../etc/passwd' }),
    status: 400,
    error: 'site_id has the wrong format',
  },
  { name: 'sent_at is a number', body: envelope([good()], { sent_at: Date.now() }), status: 400, error: 'sent_at must be string' },
  {
    name: 'sent_at is an impossible date',
    body: envelope([good()], { sent_at: '2026-02-30T25:61:00Z' }),
    status: 400,
    error: 'sent_at is not a valid instant',
  },
  { name: 'unknown envelope field', body: envelope([good()], { api_key: 'x' }), status: 400, error: 'api_key is not a field' },
  {
    name: '__proto__ at the top level',
    body: `{"__proto__":{"polluted":"yes"},"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())}]}`,
    status: 400,
    error: '__proto__ is not a field',
  },
  {
    name: 'constructor.prototype at the top level',
    body: envelope([good()], { constructor: { prototype: { polluted: 'yes' } } }),
    status: 400,
    error: 'constructor is not a field',
  },

  // Size caps (schema/event.ts LIMITS).
  { name: '501 events', body: envelope(Array.from({ length: LIMITS.maxEvents + 1 }, () => good())), status: 413, error: 'too many events' },
  {
    name: 'huge events array (100,000 items)',
    body: envelope(Array.from({ length: 100_000 }, () => ({}))),
    status: 413,
    error: 'too many events',
  },
  // Over API Gateway's 10 MB payload quota: refused there, before the function.
  {
    name: '10 MB body',
    body: envelope([good({ title: 'x'.repeat(10 * 1024 * 1024) })]),
    status: 413,
    error: 'larger than',
    http: { gateway: 'Request Entity Too Large' },
  },
  {
    name: '10 MB body, base64-encoded',
    body: Buffer.from(envelope([good({ title: 'x'.repeat(10 * 1024 * 1024) })])).toString('base64'),
    base64: true,
    status: 413,
    error: 'larger than',
    http: { gateway: 'Request Entity Too Large' },
  },
  {
    name: 'under the cap in characters, over it in UTF-8 bytes',
    body: envelope([good({ title: '€'.repeat(400_000) })]),
    status: 413,
    error: 'larger than',
  },

  // Who may write.
  {
    name: 'unknown site',
    body: envelope([good()], { site_id: 'someone-else' }),
    status: 403,
    error: "site_id 'someone-else' is not configured",
  },
  {
    name: 'site_id naming an Object.prototype member',
    body: envelope([good()], { site_id: 'constructor' }),
    status: 403,
    error: 'is not configured',
  },
  {
    name: 'disallowed origin',
    body: pair(good()),
    origin: 'https://evil.example',
    status: 403,
    error: 'origin https://evil.example is not allowed',
  },
  { name: 'look-alike origin', body: pair(good()), origin: 'https://shop.example.evil.example', status: 403, error: 'is not allowed' },
  { name: 'origin "null" (sandboxed iframe, file://)', body: pair(good()), origin: 'null', status: 403, error: 'is not allowed' },
  { name: 'allowed origin with another scheme', body: pair(good()), origin: 'http://shop.example', status: 403, error: 'is not allowed' },

  // Content types.
  {
    name: 'application/xml',
    body: pair(good()),
    contentType: 'application/xml',
    status: 415,
    error: 'Content-Type application/xml is not accepted',
  },
  { name: 'multipart/form-data', body: pair(good()), contentType: 'multipart/form-data; boundary=x', status: 415, error: 'not accepted' },
  { name: 'text/html', body: pair(good()), contentType: 'text/html', status: 415, error: 'not accepted' },
  {
    name: 'upper-case text/plain with charset is fine',
    body: envelope([good()]),
    contentType: 'TEXT/PLAIN; charset=UTF-8',
    status: 200,
    accepted: 1,
  },

  // Per event: wrong types for every field; the valid neighbour is kept.
  ...WRONG_TYPES.map(
    ([field, value, reason]): Case => ({
      name: `event field ${field} = ${JSON.stringify(value)}`,
      body: pair(good({ [field]: value })),
      status: 200,
      accepted: 1,
      reasons: [[1, reason]],
    }),
  ),
  {
    name: 'custom event name is a number',
    body: pair(good({ type: 'custom', name: 5 })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'name must be string']],
  },
  { name: 'event is an empty object', body: pair({}), status: 200, accepted: 1, reasons: [[1, 'event_id is required']] },
  {
    name: 'event_id is not a UUID',
    body: pair(good({ event_id: "1' OR '1'='1" })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'event_id has the wrong format']],
  },
  {
    name: 'event_id is a UUID v1',
    body: pair(good({ event_id: 'c232ab00-9414-11ec-b3c8-9f6bdeced846' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'expected a UUID v4 or v7']],
  },
  {
    name: 'unknown event field',
    body: pair(good({ ip: '1.2.3.4' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'ip is not a field of wire contract v1']],
  },
  {
    name: 'url with javascript: scheme',
    body: pair(good({ url: 'javascript:alert(1)' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'url has the wrong format']],
  },
  {
    name: 'url with data: scheme',
    body: pair(good({ url: 'data:text/html,<script>alert(1)</script>' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'url has the wrong format']],
  },
  {
    name: 'over-long title',
    body: pair(good({ title: 't'.repeat(513) })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'title is longer than 512']],
  },
  {
    name: 'huge array in properties (10,000 items)',
    body: pair(good({ properties: { list: Array.from({ length: 10_000 }, (_, i) => i) } })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'more than 50 items']],
  },
  {
    name: 'too many property keys',
    body: pair(good({ properties: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'more than 50 keys']],
  },
  {
    name: 'properties over the serialized cap',
    body: pair(good({ properties: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(1_000)])) })),
    status: 200,
    accepted: 1,
    reasons: [[1, `the limit is ${LIMITS.maxPropertiesBytes}`]],
  },
  {
    name: 'nested object in properties',
    body: pair(good({ properties: { a: { b: 1 } } })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'properties.a must be a string, number, boolean, null or an array']],
  },

  // Prototype-pollution keys inside events (JSON.parse makes __proto__ an own key; it must not reach a prototype).
  {
    name: '__proto__ key in an event',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())},${JSON.stringify(good()).slice(0, -1)},"__proto__":{"polluted":"yes"}}]}`,
    status: 200,
    accepted: 1,
    reasons: [[1, '__proto__ is not a field']],
  },
  {
    name: '__proto__ key in properties',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())},${JSON.stringify(good()).slice(0, -1)},"properties":{"__proto__":{"polluted":"yes"}}}]}`,
    status: 200,
    accepted: 1,
    reasons: [[1, 'key that is not allowed']],
  },
  {
    name: 'constructor key in properties',
    body: pair(good({ properties: { constructor: { prototype: { polluted: 'yes' } } } })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'key that is not allowed']],
  },
  {
    name: 'prototype key in properties',
    body: pair(good({ properties: { prototype: 'x' } })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'key that is not allowed']],
  },
  {
    name: 'constructor at the event level',
    body: pair(good({ constructor: { prototype: { polluted: 'yes' } } })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'constructor is not a field']],
  },
  {
    // A dotted key is only a name: stored inside the properties JSON string, never used as a path.
    name: '"constructor.prototype.polluted" as a property name is data',
    body: envelope([good({ properties: { 'constructor.prototype.polluted': 'yes' } })]),
    status: 200,
    accepted: 1,
    stored: (rows) => expect(JSON.parse(rows[0]!.properties!)).toEqual({ 'constructor.prototype.polluted': 'yes' }),
  },

  // Deep nesting inside the batch: rejected per event with a reason, never a crash.
  {
    name: 'deep nesting (10,000 levels) in an unknown event field',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())},{"x":${deep(10_000)}}]}`,
    status: 200,
    accepted: 1,
    reasons: [[1, 'event_id is required']],
  },
  {
    name: 'deep nesting (10,000 levels) in properties',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())},${JSON.stringify(good()).slice(0, -1)},"properties":{"a":${deep(10_000)}}}]}`,
    status: 200,
    accepted: 1,
    reasons: [[1, 'properties.a must be a string, number, boolean, null or an array']],
  },
  {
    name: 'deep nesting (10,000 levels) as the event itself',
    body: `{"site_id":"demo","sent_at":"${iso()}","events":[${JSON.stringify(good())},${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}]}`,
    status: 200,
    accepted: 1,
    reasons: [[1, 'event_id is required']],
  },

  // Time: future, ancient, impossible; a skewed but consistent client clock is fine.
  {
    name: 'ts one hour in the future',
    body: pair(good({ ts: iso(3_600_000) })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'ts is in the future']],
  },
  {
    name: 'ts in the year 9999',
    body: pair(good({ ts: '9999-12-31T23:59:59Z' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'ts is in the future']],
  },
  { name: 'ts at the Unix epoch', body: pair(good({ ts: '1970-01-01T00:00:00Z' })), status: 200, accepted: 1, reasons: [[1, 'days old']] },
  {
    name: 'ts is an impossible date',
    body: pair(good({ ts: '2026-13-45T99:99:99Z' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'ts is not a valid instant']],
  },
  {
    name: 'ts in a locale format',
    body: pair(good({ ts: 'Fri Nov 22 2026 10:00:00 GMT+0100' })),
    status: 200,
    accepted: 1,
    reasons: [[1, 'ts has the wrong format']],
  },
  {
    name: 'client clock two hours behind (ts and sent_at agree) is corrected, not rejected',
    body: envelope([good({ ts: iso(-7_200_000 - 500) })], { sent_at: iso(-7_200_000) }),
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(Date.parse(row!.received_at) - Date.parse(row!.event_time)).toBe(500),
  },

  // Duplicates in one batch: the first copy is kept.
  (() => {
    const ev = good();
    return {
      name: 'duplicate event_id in one batch',
      body: envelope([ev, ev]),
      status: 200,
      accepted: 1,
      reasons: [[1, 'duplicate event_id']],
    } satisfies Case;
  })(),
  (() => {
    const ev = good();
    return {
      name: 'duplicate event_id differing only in case',
      body: envelope([ev, { ...ev, event_id: ev.event_id.toUpperCase() }]),
      status: 200,
      accepted: 1,
      reasons: [[1, 'duplicate event_id']],
    } satisfies Case;
  })(),

  // Strings that are code elsewhere are data here: stored verbatim.
  {
    name: 'SQL and HTML in strings are stored verbatim',
    status: 200,
    accepted: 1,
    body: envelope([
      good({
        type: 'click',
        title: sqlTitle,
        element: htmlElement,
        properties: { q: "1; DELETE FROM events WHERE '1'='1", h: '<b onmouseover=alert(1)>' },
      }),
    ]),
    stored: ([row]) => {
      expect(row!.title).toBe(sqlTitle);
      expect(row!.element).toBe(htmlElement);
      expect(JSON.parse(row!.properties!)).toEqual({ q: "1; DELETE FROM events WHERE '1'='1", h: '<b onmouseover=alert(1)>' });
    },
  },
  {
    name: 'SQL in a custom event name is stored verbatim',
    body: envelope([good({ type: 'custom', name: "x' UNION SELECT * FROM rejects --" })]),
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(row!.name).toBe("x' UNION SELECT * FROM rejects --"),
  },
  {
    name: 'control characters are stored verbatim',
    body: envelope([good({ title: controlChars })]),
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(row!.title).toBe(controlChars),
  },
  {
    name: 'NUL inside strings is stored verbatim',
    body: envelope([good({ anonymous_id: 'a\u0000b', title: '\u0000' })]),
    status: 200,
    accepted: 1,
    stored: ([row]) => expect([row!.anonymous_id, row!.title]).toEqual(['a\u0000b', '\u0000']),
  },
  {
    name: 'lone surrogate in a string',
    body: envelope([good({ title: 'x\ud800y' })]),
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(row!.title).toBe('x\ud800y'),
  },
  { name: 'valid base64 body', body: Buffer.from(envelope([good()])).toString('base64'), base64: true, status: 200, accepted: 1 },

  // Headers.
  {
    name: '10 KB User-Agent (HTTP API header cap)',
    body: envelope([good()]),
    userAgent: `Mozilla/5.0 ${'(x; '.repeat(2_500)}`,
    status: 200,
    accepted: 1,
  },
  {
    name: 'no User-Agent: kept but flagged as a bot',
    body: envelope([good()]),
    userAgent: '',
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(row!.is_bot).toBe(true),
  },
  {
    name: 'crawler User-Agent: kept but flagged as a bot',
    body: envelope([good()]),
    userAgent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    status: 200,
    accepted: 1,
    stored: ([row]) => expect(row!.is_bot).toBe(true),
  },
];

/** Number of events the body carries when it is readable (for accepted + rejected == events). */
export function eventCount(c: Case): number {
  const text = c.base64 ? Buffer.from(c.body ?? '', 'base64').toString('utf8') : (c.body ?? '');
  return (JSON.parse(text) as { events: unknown[] }).events.length;
}

export function assessAnswer(c: Case, status: number, response: Record<string, unknown>): void {
  expect(status).toBeLessThan(500);
  expect(status).toBe(c.status);
  if (c.status !== 200) {
    expect(typeof response.error).toBe('string');
    expect(response.error).toContain(c.error);
    return;
  }
  const rejected = response.rejected as { index: number; reason: string }[];
  expect(response.accepted).toBe(c.accepted);
  expect((response.accepted as number) + rejected.length).toBe(eventCount(c));
  for (const r of rejected) expect(r.reason.length).toBeGreaterThan(0);
  expect(rejected.map((r) => r.index)).toEqual((c.reasons ?? []).map(([i]) => i));
  for (const [k, [, reason]] of (c.reasons ?? []).entries()) expect(rejected[k]?.reason).toContain(reason);
}

/**
 * Wire contract v1: the one definition of a clickstream event.
 *
 * Everything else derives from this file: the Lambda validator (compiled to
 * handlers/lib/generated/ by `npm run generate`), the TypeScript types (below, via
 * json-schema-to-ts), the SDK's types, the stored columns (schema/columns.ts), the Glue table and
 * Athena DDL, and docs/wire-format.md. Tests fail when any of them drifts.
 */
import type { FromSchema } from 'json-schema-to-ts';

/** RFC 9562 UUID, version 4 or 7 (the SDK makes v7 where it can, v4 otherwise). */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[47][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';
/** ISO-8601 instant with a zone: 2026-11-22T10:00:05.120Z or ...+01:00. Parsed again in code. */
export const ISO_INSTANT_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$';

/** Request limits, in one place (docs/security.md cites these). */
export const LIMITS = {
  /** Whole request body. API Gateway HTTP API allows 10 MB; we cap lower so a batch fits one Lambda comfortably. */
  maxBodyBytes: 1_048_576,
  /** Events per request: also PutRecordBatch's 500-record limit, so one request never needs two calls at one event per record. */
  maxEvents: 500,
  /** Serialized `properties` of one event. */
  maxPropertiesBytes: 8_192,
  maxPropertyKeys: 50,
  maxUrlLength: 2_048,
  /** Event time may be ahead of the server clock by this much (after skew correction). */
  maxFutureSkewMs: 5 * 60_000,
  /** Older events are rejected: the SDK keeps unsent events for 7 days at most. */
  maxAgeMs: 30 * 86_400_000,
} as const;

export const EVENT_TYPES = ['page_view', 'click', 'custom', 'engagement', 'identify'] as const;

const shortText = (maxLength: number) => ({ type: 'string', maxLength }) as const;

const scalar = {
  anyOf: [{ type: 'string', maxLength: 1024 }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }],
} as const;

export const eventSchema = {
  $id: 'https://clickstream.dev/schema/v1/event.json',
  title: 'ClickstreamEvent',
  description: 'One event as the browser SDK (or any HTTP client) sends it.',
  type: 'object',
  additionalProperties: false,
  required: ['event_id', 'type', 'ts', 'anonymous_id', 'session_id'],
  properties: {
    event_id: { type: 'string', pattern: UUID_PATTERN, description: 'Client-made UUID (v4 or v7); the de-duplication key.' },
    type: { type: 'string', enum: EVENT_TYPES, description: 'What happened.' },
    name: { type: 'string', minLength: 1, maxLength: 100, description: 'Event name; required for custom events (e.g. add_to_cart).' },
    ts: { type: 'string', maxLength: 40, pattern: ISO_INSTANT_PATTERN, description: 'Client clock when it happened (ISO-8601).' },
    anonymous_id: { type: 'string', minLength: 1, maxLength: 64, description: 'Browser-scoped random id.' },
    session_id: { type: 'string', minLength: 1, maxLength: 64, description: 'SDK session id (30 minutes of inactivity ends a session).' },
    user_id: { ...shortText(256), description: 'Your own user id, after identify(); optional.' },
    url: { type: 'string', maxLength: LIMITS.maxUrlLength, pattern: '^https?://', description: 'Page URL; required for page_view.' },
    referrer: { ...shortText(LIMITS.maxUrlLength), description: 'document.referrer (may be empty).' },
    title: { ...shortText(512), description: 'Page title.' },
    element: { ...shortText(256), description: 'Click target: data-cs-name, id, or trimmed text.' },
    duration_ms: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400_000,
      description: 'Engagement time; for a click, time on the page before it.',
    },
    scroll_depth: { type: 'integer', minimum: 0, maximum: 100, description: 'Deepest scroll, percent of the page.' },
    properties: {
      type: 'object',
      description: 'Free-form, flat: scalar values or arrays of scalars.',
      maxProperties: LIMITS.maxPropertyKeys,
      propertyNames: { pattern: '^[A-Za-z_$][A-Za-z0-9_$.:-]{0,63}$', not: { enum: ['__proto__', 'constructor', 'prototype'] } },
      additionalProperties: { anyOf: [...scalar.anyOf, { type: 'array', maxItems: 50, items: scalar }] },
    },
    screen: { type: 'string', pattern: '^\\d{1,5}x\\d{1,5}$', description: 'Screen size, WxH.' },
    viewport: { type: 'string', pattern: '^\\d{1,5}x\\d{1,5}$', description: 'Viewport size, WxH.' },
    language: { ...shortText(35), description: 'navigator.language.' },
    timezone: { ...shortText(64), description: 'IANA time zone.' },
    sdk: { ...shortText(64), description: 'SDK name/version.' },
    webdriver: { type: 'boolean', description: 'navigator.webdriver was true (automation): the server flags the event as a bot.' },
  },
  allOf: [
    { if: { properties: { type: { const: 'custom' } } }, then: { required: ['name'] } },
    { if: { properties: { type: { const: 'page_view' } } }, then: { required: ['url'] } },
  ],
} as const;

/**
 * The request envelope. `events` items are validated one by one with eventSchema, so one bad
 * event is rejected with its index and reason while the others are kept.
 */
export const batchSchema = {
  $id: 'https://clickstream.dev/schema/v1/batch.json',
  title: 'ClickstreamBatch',
  type: 'object',
  additionalProperties: false,
  required: ['site_id', 'sent_at', 'events'],
  properties: {
    site_id: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$', description: 'Which website; checked against an allowlist.' },
    sent_at: { type: 'string', maxLength: 40, pattern: ISO_INSTANT_PATTERN, description: 'Client clock when the batch left.' },
    // No `items` here: a non-object event is rejected on its own (with its index), never the batch.
    events: { type: 'array', minItems: 1, maxItems: LIMITS.maxEvents },
  },
} as const;

export type ClickstreamEvent = FromSchema<typeof eventSchema>;
export type EventType = (typeof EVENT_TYPES)[number];
export interface ClickstreamBatch {
  site_id: string;
  sent_at: string;
  events: ClickstreamEvent[];
}

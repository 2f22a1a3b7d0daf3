/**
 * Per-event validation with the validators compiled from schema/ (`npm run generate`), turning Ajv's
 * first error into a reason a developer can act on.
 */
import type { ErrorObject } from 'ajv';
import { validateBatch, validateEvent, type CompiledValidator } from './generated/validators';
import { LIMITS } from '../../schema/event';
import type { ClickstreamEvent } from '../../schema/event';

export function formatError(err: ErrorObject | undefined, root: string): string {
  if (!err) return `${root} is invalid`;
  const path = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : root;
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return `${path === root ? '' : `${path}.`}${String(p.missingProperty)} is required${
        err.schemaPath.includes('allOf/0') ? ' for custom events' : err.schemaPath.includes('allOf/1') ? ' for page_view events' : ''
      }`;
    case 'additionalProperties':
      return `${path === root ? '' : `${path}.`}${String(p.additionalProperty)} is not a field of wire contract v1`;
    case 'enum':
      return `${path} must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `${path} has the wrong format (expected ${describePattern(String(p.pattern))})`;
    case 'maxLength':
      return `${path} is longer than ${String(p.limit)} characters`;
    case 'propertyNames':
    case 'not':
      return `${path} has a key that is not allowed: ${String(p.propertyName ?? 'reserved name')} (keys are 1-64 of A-Z a-z 0-9 _ $ . : -, not __proto__/constructor/prototype)`;
    case 'maxProperties':
      return `${path} has more than ${String(p.limit)} keys`;
    case 'maxItems':
      return path === 'events'
        ? `too many events: at most ${LIMITS.maxEvents} per request`
        : `${path} has more than ${String(p.limit)} items`;
    case 'anyOf':
      // Only property values use anyOf: one sentence instead of one 'must be <type>' per branch.
      return `${path} must be a string, number, boolean, null or an array of those (at most 50)`;
    case 'minItems':
      return `${path} is empty: send at least one event`;
    default:
      return `${path} ${err.message ?? 'is invalid'}`;
  }
}

function describePattern(pattern: string): string {
  if (pattern.startsWith('^[0-9a-fA-F]{8}')) return 'a UUID v4 or v7';
  if (pattern.startsWith('^\\d{4}-')) return 'an ISO-8601 instant like 2026-11-22T10:00:05.120Z';
  if (pattern === '^https?://') return 'an absolute http(s) URL';
  if (pattern.startsWith('^\\d{1,5}x')) return 'WIDTHxHEIGHT';
  return `pattern ${pattern}`;
}

export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

// allOf's conditional `required` (name for custom, url for page_view) also fires when `type` is
// missing (an absent property passes `if`), so it ranks last: `{}` reports event_id first.
const rank = (e: ErrorObject) =>
  e.schemaPath.startsWith('#/allOf') ? 2 : e.keyword === 'required' || e.keyword === 'additionalProperties' ? 0 : 1;

function run<T>(validator: CompiledValidator, data: unknown, root: string): Check<T> {
  if (validator(data)) return { ok: true, value: data as T };
  // Reasons for missing/unknown fields first: they are usually the root cause of the rest.
  // anyOf's per-branch type errors say nothing the anyOf error does not; a branch's own limit
  // (maxItems, maxLength) does, so only the type errors are dropped.
  const errors = (validator.errors ?? [])
    .filter((e) => e.keyword !== 'if' && !(e.keyword === 'type' && e.schemaPath.includes('/anyOf/')))
    .sort((a, b) => rank(a) - rank(b));
  const reasons = [...new Set(errors.map((e) => formatError(e, root)))];
  return { ok: false, reason: reasons.slice(0, 3).join('; ') || `${root} is invalid` };
}

export const checkEvent = (data: unknown): Check<ClickstreamEvent> => {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { ok: false, reason: 'event must be a JSON object' };
  return run<ClickstreamEvent>(validateEvent, data, 'event');
};

export interface Envelope {
  site_id: string;
  sent_at: string;
  events: unknown[];
}
export const checkEnvelope = (data: unknown): Check<Envelope> => run<Envelope>(validateBatch, data, 'body');

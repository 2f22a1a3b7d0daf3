import type { ClickstreamEvent } from '../../schema/event';

/** Caps for unsent events, in memory and in localStorage (per page key). Most events kept; the oldest go first. */
export const MAX_EVENTS = 1000;
/** Most bytes of serialized events kept (localStorage is about 5 MB per origin, shared with the site). */
export const MAX_BYTES = 500_000;
/** Oldest event kept, by its `ts`. The server rejects events older than 30 days; we keep 7. */
export const MAX_AGE_MS = 7 * 86_400_000;

/**
 * Keeps the newest events that fit the caps, in their original order: those younger than `ageMs`,
 * the newest `count` of them, then the oldest dropped until the serialized list fits `bytes`.
 * (Positional caps rather than an object: no property names in the minified build.)
 */
export function cap(
  events: ClickstreamEvent[],
  now: number,
  count = MAX_EVENTS,
  bytes = MAX_BYTES,
  ageMs = MAX_AGE_MS,
): ClickstreamEvent[] {
  const out = events.filter((e) => now - Date.parse(e.ts) < ageMs).slice(-count);
  // One serialization for the whole list, then each dropped event's share (its JSON and a comma).
  for (let size = JSON.stringify(out).length; size > bytes; ) size -= JSON.stringify(out.shift()).length + 1;
  return out;
}

/**
 * Most UTF-16 units of JSON in one batch. batchSize() counts string length, and a unit is up to 3
 * bytes of UTF-8 (a CJK title), so a batch is at most 30,000 bytes: a batch sent at page hide fits
 * beside one in flight within the browser's 64 KiB for keepalive requests (Fetch standard, "inflight
 * keepalive bytes"). Over it, the browser refuses the request outright.
 */
export const MAX_BATCH_UNITS = 10_000;

/**
 * How many events from the head of the queue go into the next batch: at most `count`, and the
 * serialized batch at most `bytes` UTF-16 units (always at least one, so one large event cannot block the queue).
 */
export function batchSize(events: ClickstreamEvent[], count: number, bytes = MAX_BATCH_UNITS): number {
  let n = 0;
  // Envelope overhead: {"site_id":...,"sent_at":"...","events":[]} is under 200 bytes.
  for (let size = 200; n < events.length && n < count; n++) {
    size += JSON.stringify(events[n]).length + 1;
    if (size > bytes && n) break;
  }
  return n;
}

/**
 * The part of the Web Storage interface the SDK uses: localStorage, sessionStorage, or a stand-in in
 * tests. keys() expects the stored keys as the object's own enumerable properties, as a Storage has them.
 */
export interface Store {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
}

/** Reads a JSON value; anything unreadable counts as absent rather than breaking the page. */
export function read<T>(store: Store, key: string): T | undefined {
  try {
    return JSON.parse(store.getItem(key)!) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes a JSON value, or removes the key for any falsy value (callers pass `condition && value`);
 * a full or blocked storage only costs persistence, never the page. Returns 1 when it was written
 * (a missing store counts as blocked).
 */
export function write(store: Store, key: string, value?: unknown): 1 | undefined {
  try {
    value ? store.setItem(key, JSON.stringify(value)) : store.removeItem(key);
    return 1;
  } catch {
    /* quota exceeded or storage disabled: keep going with memory only */
  }
}

/**
 * Keys of the store that start with `prefix`. A Storage's own enumerable properties are its keys
 * (its methods live on Storage.prototype), so Object.keys lists exactly them.
 */
export function keys(store: Store, prefix: string): string[] {
  try {
    return Object.keys(store).filter((k) => k.startsWith(prefix));
  } catch {
    return [];
  }
}

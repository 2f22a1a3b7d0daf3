import type { ClickstreamEvent } from '../../schema/event';

/** Caps for unsent events, in memory and in localStorage (per tab key). */
export interface Caps {
  /** Most events kept; the oldest go first. */
  count: number;
  /** Most bytes of serialized events kept (localStorage is about 5 MB per origin, shared with the site). */
  bytes: number;
  /** Oldest event kept, by its `ts`. The server rejects events older than 30 days; we keep 7. */
  ageMs: number;
}

export const CAPS: Caps = { count: 1000, bytes: 500_000, ageMs: 7 * 86_400_000 };

/** Keeps the newest events that fit the caps, in their original order. */
export function cap(events: ClickstreamEvent[], now: number, caps: Caps = CAPS): ClickstreamEvent[] {
  const out: ClickstreamEvent[] = [];
  let bytes = 0;
  for (let i = events.length; i-- > 0 && out.length < caps.count; ) {
    const e = events[i]!;
    bytes += JSON.stringify(e).length;
    if (bytes > caps.bytes) break;
    if (now - Date.parse(e.ts) < caps.ageMs) out.unshift(e);
  }
  return out;
}

/**
 * How many events from the head of the queue go into the next batch: at most `count`, and the
 * serialized batch at most `bytes` (always at least one, so one large event cannot block the queue).
 */
export function batchSize(events: ClickstreamEvent[], count: number, bytes: number): number {
  let n = 0;
  // Envelope overhead: {"site_id":...,"sent_at":"...","events":[]} is under 200 bytes.
  for (let size = 200; n < events.length && n < count; n++) {
    size += JSON.stringify(events[n]).length + 1;
    if (size > bytes && n) break;
  }
  return n;
}

/** Minimal key-value storage: localStorage, or a Map in cookieless mode and in tests. */
export interface Store {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

/** Reads a JSON value; anything unreadable counts as absent rather than breaking the page. */
export function read<T>(store: Store, key: string): T | undefined {
  try {
    return JSON.parse(store.getItem(key)!) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Writes a JSON value; a full or blocked storage only costs persistence, never the page. */
export function write(store: Store, key: string, value: unknown): void {
  try {
    value == null ? store.removeItem(key) : store.setItem(key, JSON.stringify(value));
  } catch {
    /* quota exceeded or storage disabled: keep going with memory only */
  }
}

/** Keys of the store that start with `prefix`. */
export function keys(store: Store, prefix: string): string[] {
  const out: string[] = [];
  try {
    for (let i = 0; i < store.length; i++) {
      const k = store.key(i);
      if (k && k.startsWith(prefix)) out.push(k);
    }
  } catch {
    /* storage disabled */
  }
  return out;
}

/** A Map-backed Store: cookieless mode keeps ids in memory only. */
export function memoryStore(): Store {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, '' + v),
    removeItem: (k) => void m.delete(k),
    get length() {
      return m.size;
    },
    key: (i) => [...m.keys()][i] ?? null,
  };
}

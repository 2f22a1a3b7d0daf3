import fc from 'fast-check';
import type { ClickstreamEvent } from '../../schema/event';
import { batchSize, cap, keys, MAX_BATCH_UNITS, MAX_EVENTS, read, write, type Store } from '../../client-sdk/src/outbox';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const ev = (i: number, ageMs = 0, extra = ''): ClickstreamEvent => ({
  event_id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
  type: 'custom',
  name: `e${i}${extra}`,
  ts: new Date(T0 - ageMs).toISOString(),
  anonymous_id: 'a',
  session_id: 's',
});

function mapStore(): Store & { m: Map<string, string> } {
  const m = new Map<string, string>();
  return {
    m,
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
    get length() {
      return m.size;
    },
  };
}

/** Shaped like a Web Storage: the stored keys are the object's own properties, the methods are inherited. */
function storageLike(): Store {
  const proto: Store & ThisType<Record<string, string>> = {
    getItem(k) {
      return Object.hasOwn(this, k) ? this[k]! : null;
    },
    setItem(k, v) {
      this[k] = `${v}`;
    },
    removeItem(k) {
      delete this[k];
    },
    get length() {
      return Object.keys(this).length;
    },
  };
  return Object.create(proto) as Store;
}

describe('SDK queue caps', () => {
  it('keeps the newest events within the count cap, in order', () => {
    const events = Array.from({ length: 10 }, (_, i) => ev(i));
    const kept = cap(events, T0, 3);
    expect(kept.map((e) => e.name)).toEqual(['e7', 'e8', 'e9']);
  });

  it('drops events older than the age cap', () => {
    const kept = cap([ev(1, 8 * 86_400_000), ev(2, 86_400_000), ev(3)], T0);
    expect(kept.map((e) => e.name)).toEqual(['e2', 'e3']);
  });

  it('drops the oldest events beyond the byte cap', () => {
    const big = 'x'.repeat(1000);
    const events = Array.from({ length: 10 }, (_, i) => ev(i, 0, big));
    const size = JSON.stringify(events[0]).length;
    const kept = cap(events, T0, MAX_EVENTS, size * 4 + 10);
    expect(kept.map((e) => e.name!.slice(0, 2))).toEqual(['e6', 'e7', 'e8', 'e9']);
  });

  it('never grows, keeps order and respects the count cap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 10 * 86_400_000 }), { maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (ages, count) => {
        const events = ages.map((a, i) => ev(i, a));
        const kept = cap(events, T0, count, 1e9);
        expect(kept.length).toBeLessThanOrEqual(Math.min(count, events.length));
        const idx = kept.map((e) => events.indexOf(e));
        expect(idx).toEqual([...idx].sort((a, b) => a - b));
        for (const e of kept) expect(T0 - Date.parse(e.ts)).toBeLessThan(7 * 86_400_000);
      }),
    );
  });
});

describe('SDK batching', () => {
  it('cuts batches by count', () => {
    expect(
      batchSize(
        Array.from({ length: 50 }, (_, i) => ev(i)),
        20,
        1e6,
      ),
    ).toBe(20);
    expect(batchSize([ev(1), ev(2)], 20, 1e6)).toBe(2);
  });

  it('cuts batches by bytes, and always sends at least one event', () => {
    const events = Array.from({ length: 50 }, (_, i) => ev(i, 0, 'y'.repeat(2000)));
    const n = batchSize(events, 500, 30_000);
    expect(n).toBeGreaterThan(5);
    const body = JSON.stringify({ site_id: 'demo', sent_at: new Date(T0).toISOString(), events: events.slice(0, n) });
    expect(body.length).toBeLessThanOrEqual(30_000);
    const withOneMore = JSON.stringify({ site_id: 'demo', sent_at: new Date(T0).toISOString(), events: events.slice(0, n + 1) });
    expect(withOneMore.length).toBeGreaterThan(30_000 - 200);
    expect(batchSize([ev(1, 0, 'z'.repeat(40_000))], 20, 30_000)).toBe(1);
  });

  it("keeps two batches of 3-byte characters (the worst case) within the browser's 64 KiB keepalive budget", () => {
    // A CJK title is one UTF-16 unit and three UTF-8 bytes per character.
    const events = Array.from({ length: 100 }, (_, i) => ({ ...ev(i, 0), title: '\u65e5'.repeat(1500) }));
    const n = batchSize(events, 500, MAX_BATCH_UNITS);
    const body = JSON.stringify({ site_id: 'demo', sent_at: new Date(T0).toISOString(), events: events.slice(0, n) });
    expect(n).toBeGreaterThan(1);
    expect(2 * Buffer.byteLength(body)).toBeLessThanOrEqual(65_536);
  });

  it('splits any queue into batches that cover it exactly once (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5000 }), { maxLength: 80 }), fc.integer({ min: 1, max: 30 }), (pads, count) => {
        const queue = pads.map((p, i) => ev(i, 0, 'p'.repeat(p)));
        const sent: ClickstreamEvent[] = [];
        for (let guard = 0; queue.length && guard < 1000; guard++) {
          const n = batchSize(queue, count, 30_000);
          expect(n).toBeGreaterThan(0);
          expect(n).toBeLessThanOrEqual(count);
          sent.push(...queue.splice(0, n));
        }
        expect(queue).toHaveLength(0);
        expect(sent.map((e) => e.event_id)).toEqual(pads.map((_, i) => ev(i).event_id));
      }),
    );
  });
});

describe('SDK persistence', () => {
  it('round-trips events through the store and removes the key for null', () => {
    const s = mapStore();
    write(s, 'cs_q.tab', [ev(1), ev(2)]);
    expect(read<ClickstreamEvent[]>(s, 'cs_q.tab')?.map((e) => e.name)).toEqual(['e1', 'e2']);
    write(s, 'cs_q.tab', null);
    expect(s.m.has('cs_q.tab')).toBe(false);
    expect(read(s, 'cs_q.tab')).toBeUndefined();
  });

  it('treats corrupt values as absent', () => {
    const s = mapStore();
    s.setItem('cs_q.x', '{not json');
    expect(read(s, 'cs_q.x')).toBeUndefined();
  });

  it('survives a store that throws (quota exceeded, storage disabled)', () => {
    const boom = (): never => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    const s: Store = {
      getItem: boom,
      setItem: boom,
      removeItem: boom,
      get length(): number {
        return boom();
      },
    };
    expect(() => write(s, 'k', [ev(1)])).not.toThrow();
    expect(read(s, 'k')).toBeUndefined();
    expect(keys(s, 'cs_')).toEqual([]);
  });

  it('lists only the keys with the prefix', () => {
    const s = storageLike();
    s.setItem('cs_q.a', '[]');
    s.setItem('cs_q.b', '[]');
    s.setItem('cs_aid', '"x"');
    s.setItem('other', '1');
    expect(keys(s, 'cs_q.').sort()).toEqual(['cs_q.a', 'cs_q.b']);
  });
});

/** The simulator's requests, in memory: reproducible from the seed, and the seed matters. */
import { DEFAULT_OPTIONS, generate, requestBody, type SimOptions } from '../../local/simulator/generate';
import { UUID_PATTERN } from '../../schema/event';

const OPTS: SimOptions = { ...DEFAULT_OPTIONS, visitors: 200, days: 10, end: '2026-11-20', seed: 5 };

describe('simulator requests', () => {
  it('is reproducible from its seed, and the seed matters', () => {
    const bodies = (o: SimOptions) => generate(o).requests.map((r) => `${r.receivedAt.toISOString()} ${requestBody(r, 'demo')}`);
    const a = bodies(OPTS);
    expect(a.length).toBeGreaterThan(0);
    expect(bodies(OPTS)).toEqual(a);
    expect(bodies({ ...OPTS, seed: 6 })).not.toEqual(a);
  });

  it('makes every id a UUID v7 of the client clock, as the SDK does (client-sdk/src/uuid.ts)', () => {
    const events = generate(OPTS).requests.flatMap((r) => r.events.map((e) => ({ e, offset: r.clockOffsetMs })));
    const ids = events.filter(({ e }) => e.event_id !== 'not-a-uuid');
    expect(ids.length).toBeGreaterThan(1000);
    for (const { e } of ids)
      for (const k of ['event_id', 'session_id', 'anonymous_id']) expect(e[k]).toMatch(new RegExp(UUID_PATTERN.replace('[47]', '7')));
    // The id's 48-bit time is the event's client time (ts, which carries the clock's offset).
    const idMs = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ids.every(({ e }) => idMs(e.event_id as string) === Date.parse(e.ts as string))).toBe(true);
  });
});

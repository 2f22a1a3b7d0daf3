/** The simulator's requests, in memory: reproducible from the seed, and the seed matters. */
import { DEFAULT_OPTIONS, generate, requestBody, type SimOptions } from '../../local/simulator/generate';

const OPTS: SimOptions = { ...DEFAULT_OPTIONS, visitors: 200, days: 10, end: '2026-11-20', seed: 5 };

describe('simulator requests', () => {
  it('is reproducible from its seed, and the seed matters', () => {
    const bodies = (o: SimOptions) => generate(o).requests.map((r) => `${r.receivedAt.toISOString()} ${requestBody(r, 'demo')}`);
    const a = bodies(OPTS);
    expect(a.length).toBeGreaterThan(0);
    expect(bodies(OPTS)).toEqual(a);
    expect(bodies({ ...OPTS, seed: 6 })).not.toEqual(a);
  });
});

import { mergeForWrite } from '../../bench/results-merge';
import type { Results } from '../../bench/run';

// Two bench runs overlap (a 24-minute 10 M query run, and a browsing run started during it): each
// must keep the sections the other wrote in between.
const dated = <T>(value: T, measured_at = '2026-12-01') => ({ measured_at, value });
const compacted = (max_query_ms: number) => ({ max_query_ms });

describe('bench/run mergeForWrite', () => {
  test('keeps a slow section another run wrote since this run started, and its own re-measured one', () => {
    // Prepare: this run started before the other wrote compacted_10m, and re-measured browsing.
    const ran = {
      measured_at: 'x',
      browsing: dated({ events_per_request: 3 }, '2026-12-03'),
      compacted_1m: dated(compacted(900)),
    } as unknown as Results;
    const onFile = {
      browsing: dated({ events_per_request: 2 }),
      compacted_1m: dated(compacted(950)),
      compacted_10m: dated(compacted(2_500), '2026-12-03'),
    } as unknown as Partial<Results>;
    // Act
    const out = mergeForWrite(ran, onFile, { browsing: true });
    // Assess: browsing is this run's; the compacted sections are the file's now.
    expect(out.browsing).toBe(ran.browsing);
    expect(out.compacted_10m).toBe(onFile.compacted_10m);
    expect(out.compacted_1m).toBe(onFile.compacted_1m);
  });

  test('a section this run measured wins over the file, and a section missing on file stays', () => {
    const ran = { compacted_1m: dated(compacted(800), '2026-12-03'), e2e: dated({ ok: 1 }) } as unknown as Results;
    const onFile = { compacted_1m: dated(compacted(1_200)) } as unknown as Partial<Results>;
    const out = mergeForWrite(ran, onFile, { compacted: true });
    expect(out.compacted_1m).toBe(ran.compacted_1m);
    expect(out.e2e).toBe(ran.e2e);
  });

  test("a browsing section written meanwhile brings the cost section priced from it; this run's own cost stays otherwise", () => {
    const ran = {
      browsing: dated({ events_per_request: 1.59 }),
      cost: { prices: 'old' },
      cost_per_million_events_usd: 0.2,
    } as unknown as Results;
    const onFile = {
      browsing: dated({ events_per_request: 2.56 }, '2026-12-03'),
      cost: { prices: 'new' },
      cost_per_million_events_usd: 0.19,
    } as unknown as Partial<Results>;
    const out = mergeForWrite(ran, onFile, { queries: true });
    expect(out.browsing).toBe(onFile.browsing);
    expect(out.cost).toBe(onFile.cost);
    expect(out.cost_per_million_events_usd).toBe(0.19);
    // The same browsing on file (nobody re-measured it): this run's cost model is the newer one.
    const same = mergeForWrite(ran, { ...onFile, browsing: dated({ events_per_request: 1.59 }) } as unknown as Partial<Results>, {
      queries: true,
    });
    expect(same.cost).toBe(ran.cost);
    // This run measured browsing itself: its own cost.
    expect(mergeForWrite(ran, onFile, { browsing: true }).cost).toBe(ran.cost);
  });
});

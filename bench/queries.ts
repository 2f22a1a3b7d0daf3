/**
 * Query time on simulated data: the seeded simulator (local/simulator) writes about `events`
 * events as Firehose would into a temporary folder, then every saved query in athena-queries/
 * runs on DuckDB (local/athena-local) over the whole range, `runs` times each; medians with
 * min/max. This times the local engine on this machine, not Athena (which bills bytes scanned).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openLocalAthena } from '../local/athena-local/duckdb';
import { queryNames, runSaved } from '../local/athena-local/queries';
import { DEFAULT_OPTIONS } from '../local/simulator/generate';
import { rangeOf, simulate } from '../local/simulator/index';
import { DEMO_FUNNEL } from '../local/simulator/truth';
import { median, type Stat } from './pipeline';

/** Events per simulated visitor at the simulator's defaults (measured: about 8.8). */
const EVENTS_PER_VISITOR = 8.8;

export interface QueryBench {
  target_events: number;
  stored_rows: number;
  objects: number;
  simulate_s: number;
  days: number;
  runs: number;
  /** Per saved query, wall time in ms. */
  queries: Record<string, Stat>;
  total_median_ms: number;
}

export async function runQueryBench(opts: { events?: number; runs?: number; log?: (s: string) => void } = {}): Promise<QueryBench> {
  const target = opts.events ?? 1_000_000;
  const runs = opts.runs ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-bench-q-'));
  try {
    const sim = { ...DEFAULT_OPTIONS, end: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), visitors: Math.ceil(target / EVENTS_PER_VISITOR) };
    const t0 = performance.now();
    const result = simulate(sim, dir);
    const simulate_s = (performance.now() - t0) / 1000;
    opts.log?.(`queries: simulated ${result.deliveries.events.length} rows in ${simulate_s.toFixed(1)} s`);
    const { from, to } = rangeOf(sim);
    const db = await openLocalAthena(dir);
    const queries: Record<string, Stat> = {};
    try {
      for (const name of queryNames()) {
        const steps = name === 'funnel' ? DEMO_FUNNEL : [];
        // DuckDB re-reads and decompresses the gzip objects on every run (no result cache), so the
        // first run is not special; on 1 M events one run of all queries takes minutes already.
        const xs: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await runSaved(db, name, from, to, steps);
          xs.push(performance.now() - t);
        }
        queries[name] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
        opts.log?.(`queries: ${name} ${queries[name]!.median.toFixed(0)} ms`);
      }
    } finally {
      db.close();
    }
    return {
      target_events: target, stored_rows: result.deliveries.events.length, objects: result.objects.events, simulate_s,
      days: sim.days, runs, queries, total_median_ms: Object.values(queries).reduce((s, q) => s + q.median, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

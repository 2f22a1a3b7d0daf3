/**
 * Handler pipeline throughput (no network): processRequest + packLines on realistic bodies,
 * against (a) the floor, plain JSON.parse + one JSON.stringify per event of the same bodies, and
 * (b) a straightforward handler (bench/alternative.ts). Variants and batch sizes are interleaved
 * in every round so drift (thermal, GC, other processes) hits all of them alike; medians over rounds.
 */
import { performance } from 'node:perf_hooks';
import { packLines, packRecords } from '../handlers/lib/pack';
import { processRequest, type PipelineConfig } from '../handlers/lib/pipeline';
import { naiveHandle } from './alternative';
import { benchConfig, makeRequests, type BenchRequest } from './fixtures';

export const BATCH_SIZES = [1, 10, 25, 100] as const;
export const VARIANTS = ['json_floor', 'pipeline', 'straightforward'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface Stat {
  median: number;
  min: number;
  max: number;
}
export interface BatchResult {
  batch: number;
  events_per_s: Record<Variant, Stat>;
  /** Median wall time of one request through processRequest + packLines, microseconds. */
  pipeline_us_per_request: number;
  ratio_vs_json_floor: number;
  ratio_straightforward_vs_json_floor: number;
}
export interface PipelineBench {
  rounds: number;
  ms_per_cell: number;
  batches: BatchResult[];
  /** Median over batch sizes of the per-size ratio (pipeline events/s / floor events/s). */
  pipeline_ratio_vs_json_floor: number;
  straightforward_ratio_vs_json_floor: number;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

let sink = 0;

function runOnce(variant: Variant, req: BenchRequest, config: PipelineConfig): void {
  switch (variant) {
    case 'json_floor': {
      const data = JSON.parse(req.body) as { events: unknown[] };
      let out = '';
      for (const ev of data.events) out += `${JSON.stringify(ev)}\n`;
      sink += out.length;
      return;
    }
    case 'pipeline': {
      const r = processRequest(
        {
          body: req.body,
          contentType: 'text/plain;charset=UTF-8',
          userAgent: req.userAgent,
          sourceIp: req.sourceIp,
          origin: 'https://www.example.com',
          requestId: 'bench',
          receivedAt: new Date(),
        },
        config,
      );
      const records = packLines(r.lines);
      if (r.rejects.length) packRecords(r.rejects);
      sink += records.length;
      return;
    }
    case 'straightforward':
      sink += naiveHandle(req.body, req.userAgent, req.sourceIp, config).length;
  }
}

/** Runs requests round-robin for about `ms`; returns events per second. */
function measure(variant: Variant, reqs: BenchRequest[], batch: number, config: PipelineConfig, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  // Check the clock every few requests only: reading it costs as much as a tiny request.
  const step = Math.max(1, Math.ceil(20 / batch));
  while (now - start < ms) {
    for (let i = 0; i < step; i++) runOnce(variant, reqs[n++ % reqs.length] as BenchRequest, config);
    now = performance.now();
  }
  return (n * batch) / ((now - start) / 1000);
}

export function runPipelineBench(opts: { rounds?: number; msPerCell?: number; log?: (s: string) => void } = {}): PipelineBench {
  const rounds = opts.rounds ?? 7;
  const ms = opts.msPerCell ?? 150;
  const config = benchConfig();
  const reqs = new Map(BATCH_SIZES.map((b) => [b, makeRequests(Math.max(20, Math.ceil(2000 / b)), b)]));

  // Every body must be accepted whole: a benchmark that measured the reject path would flatter us.
  for (const [b, rs] of reqs) {
    for (const q of rs) {
      const r = processRequest(
        {
          body: q.body,
          contentType: 'text/plain',
          userAgent: q.userAgent,
          sourceIp: q.sourceIp,
          origin: 'https://www.example.com',
          receivedAt: new Date(),
        },
        config,
      );
      if (r.status !== 200 || r.events.length !== b) throw new Error(`bench body rejected: ${JSON.stringify(r.response)}`);
      naiveHandle(q.body, q.userAgent, q.sourceIp, config);
    }
  }
  // Warm-up: let V8 optimise every path before anything is recorded.
  for (const v of VARIANTS) for (const b of BATCH_SIZES) measure(v, reqs.get(b)!, b, config, 100);

  const samples = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round so no variant always runs first (or right after a GC-heavy one).
    const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length] as Variant);
    for (const b of BATCH_SIZES) {
      for (const v of order) {
        const key = `${v}:${b}`;
        samples.set(key, [...(samples.get(key) ?? []), measure(v, reqs.get(b)!, b, config, ms)]);
      }
    }
    opts.log?.(`pipeline round ${r + 1}/${rounds}`);
  }

  const batches = BATCH_SIZES.map((b): BatchResult => {
    const eps = Object.fromEntries(VARIANTS.map((v) => [v, stat(samples.get(`${v}:${b}`)!)])) as Record<Variant, Stat>;
    // Ratios per round (same round = same conditions), then the median of those.
    const perRound = (v: Variant) => samples.get(`${v}:${b}`)!.map((x, i) => x / samples.get(`json_floor:${b}`)![i]!);
    return {
      batch: b,
      events_per_s: eps,
      pipeline_us_per_request: (1e6 * b) / eps.pipeline.median,
      ratio_vs_json_floor: median(perRound('pipeline')),
      ratio_straightforward_vs_json_floor: median(perRound('straightforward')),
    };
  });
  if (sink === -1) console.log(sink);
  return {
    rounds,
    ms_per_cell: ms,
    batches,
    pipeline_ratio_vs_json_floor: median(batches.map((b) => b.ratio_vs_json_floor)),
    straightforward_ratio_vs_json_floor: median(batches.map((b) => b.ratio_straightforward_vs_json_floor)),
  };
}

/** Median microseconds per request for one batch size (used by the cost model). */
export function timePerRequestUs(batch: number, ms = 300): number {
  const config = benchConfig();
  const reqs = makeRequests(50, batch);
  measure('pipeline', reqs, batch, config, 100);
  const xs = [0, 1, 2, 3, 4].map(() => (1e6 * batch) / measure('pipeline', reqs, batch, config, ms / 5));
  return median(xs);
}

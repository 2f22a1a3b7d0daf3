/**
 * Where the handler pipeline's time goes: the same stages processRequest runs, timed as cumulative
 * prefixes (parse; + validate; + request facts; + enrich; + pack) on the same requests, so each
 * stage's cost is the difference between neighbours and no stage needs its input cached (Ajv and
 * enrichment could otherwise be fed objects a previous run had touched).
 */
import { performance } from 'node:perf_hooks';
import { visitorHash, enrichLine, type RequestFacts } from '../handlers/lib/enrich';
import { packLines } from '../handlers/lib/pack';
import { countryLookup } from '../handlers/lib/geo';
import type { PipelineConfig } from '../handlers/lib/pipeline';
import { parseUserAgent } from '../handlers/lib/useragent';
import { checkEnvelope, checkEvent } from '../handlers/lib/validate';
import { benchConfig, makeRequests, type BenchRequest } from './fixtures';
import { median } from './pipeline';

export const STAGES = ['parse', 'validate', 'facts', 'enrich', 'pack'] as const;
export type Stage = (typeof STAGES)[number];

export interface Breakdown {
  batch: number;
  /** Median microseconds per request spent in each stage. */
  us_per_request: Record<Stage, number>;
  /** Each stage's share of the sum, 0..1. */
  share: Record<Stage, number>;
}

let sink = 0;

/** Runs the pipeline's stages up to and including `upto` on one request. */
function runUpTo(upto: number, req: BenchRequest, config: PipelineConfig): void {
  const receivedAt = new Date();
  const data = JSON.parse(req.body) as unknown;
  const env = checkEnvelope(data);
  if (!env.ok) throw new Error(env.reason);
  if (upto === 0) {
    sink += env.value.events.length;
    return;
  }
  const checked = env.value.events.map((e) => checkEvent(e));
  if (upto === 1) {
    sink += checked.length;
    return;
  }
  const facts: RequestFacts = {
    siteId: env.value.site_id,
    sentAt: env.value.sent_at,
    skewMs: receivedAt.getTime() - Date.parse(env.value.sent_at),
    receivedAtMs: receivedAt.getTime(),
    receivedAtIso: receivedAt.toISOString(),
    ua: parseUserAgent(req.userAgent),
    visitorHash: visitorHash(config.saltSecret, receivedAt, env.value.site_id, req.sourceIp, req.userAgent),
    country: (config.geoDbPath === undefined ? null : countryLookup(config.geoDbPath)(req.sourceIp)) ?? undefined,
  };
  if (upto === 2) {
    sink += facts.visitorHash.length;
    return;
  }
  const lines: string[] = [];
  for (const c of checked) {
    if (!c.ok) throw new Error(c.reason);
    const e = enrichLine(c.value, facts, config);
    if (e.ok) lines.push(e.line);
  }
  if (upto === 3) {
    sink += lines.length;
    return;
  }
  sink += packLines(lines).length;
}

function timeUs(upto: number, reqs: BenchRequest[], config: PipelineConfig, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    runUpTo(upto, reqs[n++ % reqs.length]!, config);
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

/** Stage costs for one batch size; `rounds` interleaved rounds of every prefix, medians. */
export function runBreakdown(batch: number, opts: { rounds?: number; msPerCell?: number } = {}): Breakdown {
  const config = benchConfig();
  const reqs = makeRequests(Math.max(20, Math.ceil(2000 / batch)), batch);
  const rounds = opts.rounds ?? 5;
  const ms = opts.msPerCell ?? 100;
  for (let u = 0; u < STAGES.length; u++) timeUs(u, reqs, config, 80);
  const samples: number[][] = STAGES.map(() => []);
  for (let r = 0; r < rounds; r++) for (let u = 0; u < STAGES.length; u++) samples[u]!.push(timeUs(u, reqs, config, ms));
  const cumulative = samples.map(median);
  // A noisy run can make a later prefix look faster than an earlier one; a stage never costs < 0.
  const us = STAGES.map((_, i) => Math.max(0, cumulative[i]! - (i ? cumulative[i - 1]! : 0)));
  const total = us.reduce((a, b) => a + b, 0);
  if (sink === -1) console.log(sink);
  return {
    batch,
    us_per_request: Object.fromEntries(STAGES.map((s, i) => [s, us[i]!])) as Record<Stage, number>,
    share: Object.fromEntries(STAGES.map((s, i) => [s, us[i]! / total])) as Record<Stage, number>,
  };
}

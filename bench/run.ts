/**
 * npm run bench -- [--quick] [--e2e] [--sdk-cost] [--browsing] [--queries] [--queries-dense] [--queries-10m] [--anchors] [--only-slow] [--no-write]
 *
 * Runs the benchmarks and writes bench/results.json and bench/results.md (committed) plus the
 * same tables on the terminal. By default only the fast ones run (pipeline, stage breakdown, cold
 * start, SDK sizes, the Lambda's invocation cost, cost model, the bot filter on its labelled corpus): a
 * few minutes on two busy cores.
 * The flags add the slow ones:
 *   --e2e          autocannon through the local stack (10 s, 50 connections, 20 events/request)
 *   --sdk-cost     the browser SDK's main-thread cost per event in headless Chromium, beside
 *                  Plausible's, Snowplow's and Umami's trackers from npm (about 10 min; needs the registry)
 *   --browsing     events per request on scripted visits of the demo site in Chromium through the
 *                  local stack (about 4 min), fed into the cost model (the cost section is re-run)
 *   --queries      every saved query on DuckDB over 1 M simulated events, as gzip JSON and as
 *                  Parquet, with the bytes Athena would scan (about 25 min)
 *   --queries-dense  the same 1 M events over 3 days: as many events per 60 s object as 10 M a
 *                  month would write, which is what decides Parquet against gzip JSON
 *   --queries-10m  the same over 10 M events in 30 days, simulated as ten 3-day windows (about an
 *                  hour, and a few GB of temp space)
 *   --compacted    every saved query on DuckDB after npm run compact, over 1 M simulated events
 *                  (30 days): the analyst.* figures (slowest query, bytes read after / gzip JSON
 *                  before, rows lost by the compaction); about 10 min
 *   --compacted-10m  the same over 10 M events (ten 3-day windows, as --queries-10m; about 1 h)
 *   --anchors      npm-installs other trackers and measures them (needs the registry)
 *   --quick        fewer rounds: a smoke run, not figures to publish
 *   --only-slow    keep the fast sections from results.json; run only the flagged slow ones
 *   --geo          with --only-slow: re-run the country lookup section (bench/geo.ts) too
 * Sections not re-run keep their previous values (with their own date) in results.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { readAnchors, runAnchors, type AnchorsFile } from './anchors';
import { runBotBench, type BotBench } from './bots';
import { runGeoBench, type GeoBench } from './geo';
import { runBreakdown, STAGES, type Breakdown } from './breakdown';
import { runBrowsing, type BrowsingResult } from './browsing';
import { buildBundle, measureColdStart, type ColdStart } from './coldstart';
import { costReport, formatCost, LAMBDA_FULL_VCPU_MB, type CostReport } from './cost';
import { runE2e, type E2eResult } from './e2e';
import { measureLambda, type LambdaInvocationCost } from './lambda';
import { BATCH_SIZES, median, runPipelineBench, type PipelineBench } from './pipeline';
import { compactionCost, runCompactedQueryBench, runQueryBench, type CompactedQueryBench, type QueryBench } from './queries';
import { runSdkCost, type SdkCost } from './sdk-cost';
import { mergeForWrite } from './results-merge';

const root = join(__dirname, '..');
const RESULTS_JSON = join(__dirname, 'results.json');
const RESULTS_MD = join(__dirname, 'results.md');

/** Targets from the design (shared/design.md "Numbers we hold ourselves to"). */
export const TARGETS = {
  pipeline_ratio_vs_json_floor: 0.5,
  bundle_bytes: 300 * 1024,
  cold_start_ratio: 1.5,
  sdk_full_gzip: 4096,
  sdk_core_gzip: 2560,
  loader_gzip: 400,
  cost_per_million_events_usd: 0.2,
  /** Our track() against Plausible's, same harness (bench/sdk-cost.ts). */
  sdk_track_us_ratio_vs_plausible: 1.0,
  /** Per call in a burst of 1,000 track() calls in one task. */
  sdk_burst_us_per_call: 20,
  /** The bot filter's User-Agent layers on the labelled corpus (bench/bots.ts). */
  bots_human_precision: 0.99,
  bots_bot_recall: 0.9,
  /** The country lookup's share of a request (issue 14). */
  geo_lookup_us_per_request: 2,
} as const;

export interface SdkSize {
  file: string;
  min: number;
  gzip: number;
  brotli: number;
  budget: number;
}

interface Dated<T> {
  measured_at: string;
  value: T;
}

export interface Results {
  measured_at: string;
  machine: { nproc: number; cpu: string; node: string; os: string; load_avg_1m_at_start: number };
  quick: boolean;
  pipeline_ratio_vs_json_floor: number;
  cost_per_million_events_usd: number;
  pipeline: PipelineBench;
  breakdown: Breakdown[];
  bundle: { bytes: number; cold_start: ColdStart };
  sdk: SdkSize[] | { error: string };
  cost: CostReport;
  /** The ingest Lambda's CPU, logs, cold start and memory, measured on the real bundle (bench/lambda.ts). */
  lambda?: LambdaInvocationCost;
  /** The bot filter on a labelled corpus, and its lookups' cost (bench/bots.ts). */
  bots?: BotBench;
  /** The country lookup: per request, in the pipeline, and the cold start with its first lookup (bench/geo.ts). */
  geo?: GeoBench;
  anchors?: AnchorsFile;
  browsing?: Dated<BrowsingResult>;
  e2e?: Dated<E2eResult>;
  sdk_cost?: Dated<SdkCost>;
  queries_1m?: Dated<QueryBench>;
  queries_10m?: Dated<QueryBench>;
  queries_dense?: Dated<QueryBench>;
  /** Saved queries after compaction (issue 13): the analyst.* figures come from these. */
  compacted_1m?: Dated<CompactedQueryBench>;
  compacted_10m?: Dated<CompactedQueryBench>;
  analyst?: Analyst;
  commands: Record<string, string>;
}

const COMMANDS = {
  pipeline: 'npm run bench',
  breakdown: 'npm run bench',
  cold_start: 'npm run bench',
  sdk: 'npm run size',
  cost: 'npm run cost -- --events-per-month 10000000',
  anchors: 'npm run bench -- --anchors',
  e2e: 'npm run bench -- --e2e',
  sdk_cost: 'npm run bench -- --only-slow --sdk-cost',
  browsing: 'npm run bench -- --only-slow --browsing',
  lambda: 'npm run bench',
  bots: 'npm run bench',
  geo: 'npm run bench',
  queries_1m: 'npm run bench -- --queries',
  queries_10m: 'npm run bench -- --only-slow --queries-10m',
  queries_dense: 'npm run bench -- --only-slow --queries-dense',
  compacted_1m: 'npm run bench -- --only-slow --compacted',
  compacted_10m: 'npm run bench -- --only-slow --compacted-10m',
};
/**
 * Analyst figures (issue 13), from the compacted runs. max_query_ms_* is the slowest saved query
 * (median of its runs); data_quality, which reads the raw table by design to count the copies the
 * compaction removes, is included in the max and also reported apart (the *_business figures).
 */
export interface Analyst {
  max_query_ms_1m_compacted?: number;
  max_query_1m_compacted?: string;
  max_business_query_ms_1m_compacted?: number;
  max_query_ms_10m_compacted?: number;
  max_query_10m_compacted?: string;
  max_business_query_ms_10m_compacted?: number;
  bytes_scanned_ratio_compacted_vs_raw?: number;
  bytes_scanned_ratio_compacted_vs_raw_query?: string;
  bytes_scanned_ratio_compacted_vs_raw_business?: number;
  compaction_rows_lost?: number;
}

export const ANALYST_TARGETS = {
  max_query_ms_1m_compacted: 1_000,
  max_query_ms_10m_compacted: 3_000,
  bytes_scanned_ratio_compacted_vs_raw: 0.2,
  compaction_rows_lost: 0,
} as const;

export function analystFigures(c1?: CompactedQueryBench, c10?: CompactedQueryBench): Analyst | undefined {
  if (!c1 && !c10) return undefined;
  return {
    ...(c1
      ? {
          max_query_ms_1m_compacted: c1.max_query_ms,
          max_query_1m_compacted: c1.max_query,
          max_business_query_ms_1m_compacted: c1.max_business_query_ms,
          bytes_scanned_ratio_compacted_vs_raw: c1.bytes_ratio_max,
          bytes_scanned_ratio_compacted_vs_raw_query: c1.bytes_ratio_max_query,
          bytes_scanned_ratio_compacted_vs_raw_business: c1.bytes_ratio_max_business,
        }
      : {}),
    ...(c10
      ? {
          max_query_ms_10m_compacted: c10.max_query_ms,
          max_query_10m_compacted: c10.max_query,
          max_business_query_ms_10m_compacted: c10.max_business_query_ms,
        }
      : {}),
    compaction_rows_lost: (c1?.rows_lost ?? 0) + (c10?.rows_lost ?? 0),
  };
}

/** The query runs: results key and how the tables name them. */
const QUERY_RUNS = [
  ['queries_1m', '1 M'],
  ['queries_dense', '1 M in 3 days (denser objects)'],
  ['queries_10m', '10 M'],
] as const;

/** Our SDK's sizes, from client-sdk/build.mjs --size (it builds and prints min, gzip, brotli). */
export function sdkSizes(): SdkSize[] | { error: string } {
  const r = spawnSync(process.execPath, [join(root, 'client-sdk', 'build.mjs'), '--size'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const rows = (r.stdout ?? '')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length === 5 && /\.js$/.test(c[0]!) && /^\d+$/.test(c[1]!));
  if (rows.length === 0)
    return { error: `client-sdk/build.mjs --size printed no sizes (exit ${r.status}): ${(r.stderr ?? '').slice(-400)}` };
  return rows.map(([file, min, gzip, brotli, budget]) => ({
    file: file!,
    min: Number(min),
    gzip: Number(gzip),
    brotli: Number(brotli),
    budget: Number(budget),
  }));
}

function machine(): Results['machine'] {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${platform()} ${release()}`,
    load_avg_1m_at_start: loadavg()[0]!,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** The summary rows: figure, value, target, verdict, and the command that reproduces it. */
export function summaryRows(r: Results): string[][] {
  const rows: string[][] = [];
  const p = r.pipeline;
  rows.push([
    'handler pipeline / JSON floor (median of batch sizes)',
    pct(p.pipeline_ratio_vs_json_floor),
    `>= ${pct(TARGETS.pipeline_ratio_vs_json_floor)}`,
    verdict(p.pipeline_ratio_vs_json_floor >= TARGETS.pipeline_ratio_vs_json_floor),
    COMMANDS.pipeline,
  ]);
  rows.push([
    'straightforward handler / JSON floor',
    pct(p.straightforward_ratio_vs_json_floor),
    'reference (~5 %)',
    '',
    COMMANDS.pipeline,
  ]);
  const cs = r.bundle.cold_start;
  rows.push([
    'Lambda bundle (minified, AWS SDK bundled)',
    `${int(r.bundle.bytes)} B`,
    `<= ${int(TARGETS.bundle_bytes)} B`,
    verdict(r.bundle.bytes <= TARGETS.bundle_bytes),
    COMMANDS.cold_start,
  ]);
  rows.push([
    "cold start: node -e require(bundle) / node -e ''",
    `${cs.cold_start_ratio.toFixed(2)}x (${cs.require_ms.median.toFixed(0)} / ${cs.empty_ms.median.toFixed(0)} ms)`,
    `<= ${TARGETS.cold_start_ratio}x`,
    verdict(cs.cold_start_ratio <= TARGETS.cold_start_ratio),
    COMMANDS.cold_start,
  ]);
  if (Array.isArray(r.sdk))
    for (const s of r.sdk)
      rows.push([
        `SDK ${s.file} min+gzip (min+brotli)`,
        `${int(s.gzip)} B (${int(s.brotli)} B)`,
        `<= ${int(s.budget)} B`,
        verdict(s.gzip <= s.budget),
        COMMANDS.sdk,
      ]);
  else rows.push(['SDK sizes', r.sdk.error, '', 'not measured', COMMANDS.sdk]);
  rows.push([
    `cost per million events (${r.cost.batch} events/request, ${int(r.cost.events_per_month)}/month, ${r.cost.arch})`,
    `$${r.cost.cost_per_million_events_usd.toFixed(3)}`,
    `<= $${TARGETS.cost_per_million_events_usd.toFixed(2)}`,
    verdict(r.cost.cost_per_million_events_usd <= TARGETS.cost_per_million_events_usd),
    COMMANDS.cost,
  ]);
  rows.push([
    `cost per million events, simulated traffic (${r.cost.measured.simulated_events_per_request.toFixed(1)} events/request)`,
    `$${r.cost.cost_per_million_events_usd_simulated_traffic.toFixed(3)}`,
    `<= $${TARGETS.cost_per_million_events_usd.toFixed(2)}`,
    verdict(r.cost.cost_per_million_events_usd_simulated_traffic <= TARGETS.cost_per_million_events_usd),
    COMMANDS.cost,
  ]);
  if (r.cost.cost_per_million_events_usd_browser_traffic !== undefined && r.cost.browser_events_per_request !== undefined) {
    const b = r.browsing?.value;
    rows.push([
      `cost per million events, browser traffic (${r.cost.browser_events_per_request.toFixed(2)} events/request measured in Chromium${r.cost.browser_measured_at ? ` ${r.cost.browser_measured_at}` : ''}${b ? `: ${int(b.distinct_events_stored)} events in ${int(b.requests)} requests` : ''})`,
      `$${r.cost.cost_per_million_events_usd_browser_traffic.toFixed(3)}`,
      `<= $${TARGETS.cost_per_million_events_usd.toFixed(2)}`,
      verdict(r.cost.cost_per_million_events_usd_browser_traffic <= TARGETS.cost_per_million_events_usd),
      `${COMMANDS.browsing}, then ${COMMANDS.cost}`,
    ]);
  }
  if (r.geo) {
    const g = r.geo;
    rows.push([
      'country lookup per request (resolveClient + table, simulated IPv4/IPv6 visitors)',
      `${g.lookup_us_per_request.toFixed(2)} us`,
      `<= ${TARGETS.geo_lookup_us_per_request} us`,
      verdict(g.lookup_us_per_request <= TARGETS.geo_lookup_us_per_request),
      COMMANDS.geo,
    ]);
    const gc = g.cold_start;
    rows.push([
      "cold start with geo: node -e require(bundle) + first lookup / node -e ''",
      `${gc.cold_start_ratio_geo.toFixed(2)}x (${gc.require_and_first_lookup_ms.median.toFixed(0)} / ${gc.empty_ms.median.toFixed(0)} ms; ${gc.cold_start_ratio.toFixed(2)}x without the lookup, same runs)`,
      `<= ${TARGETS.cold_start_ratio}x`,
      verdict(gc.cold_start_ratio_geo <= TARGETS.cold_start_ratio),
      COMMANDS.geo,
    ]);
  }
  if (r.bots) {
    const b = r.bots;
    rows.push([
      `bot filter: human precision (${int(b.humans)} browser UAs, ${int(b.bots)} bot UAs)`,
      b.human_precision.toFixed(4),
      `>= ${TARGETS.bots_human_precision}`,
      verdict(b.human_precision >= TARGETS.bots_human_precision),
      COMMANDS.bots,
    ]);
    rows.push([
      `bot filter: bot recall (${b.bots_missed} missed; named bots missed: ${b.named_bots_missed.join(', ') || 'none'})`,
      b.bot_recall.toFixed(4),
      `>= ${TARGETS.bots_bot_recall}`,
      verdict(b.bot_recall >= TARGETS.bots_bot_recall),
      COMMANDS.bots,
    ]);
  }
  if (r.lambda) {
    const cur = r.cost.memory_sizes.options.find((x) => x.memory_mb === r.cost.memory_mb);
    rows.push([
      `ingest Lambda per invocation (${r.cost.memory_mb} MB; CPU measured at one core here, divided by the share Lambda gives)`,
      `${r.lambda.invocation_cpu_mean_us['3']?.toFixed(0) ?? '?'} us CPU at 3 events -> ${cur?.billed_ms ?? '?'} ms billed; ${r.cost.logging.app_log_bytes + r.cost.logging.platform_log_bytes} B of logs`,
      'cheapest size; fewest log bytes',
      '',
      COMMANDS.lambda,
    ]);
  }
  if (r.e2e) {
    const e = r.e2e.value;
    rows.push([
      `end to end, local stack (${e.connections} conn, ${e.batch} events/request, ${e.seconds} s; ${r.e2e.measured_at})`,
      `${int(e.events_per_s)} events/s; p50/p95/p99 ${e.latency_ms.p50.toFixed(0)}/${e.latency_ms.p95.toFixed(0)}/${e.latency_ms.p99.toFixed(0)} ms`,
      'every accepted event on disk',
      e.events_accepted === 0
        ? 'MISSED: nothing accepted'
        : e.accepted_missing_on_disk === 0
          ? `met (${int(e.events_accepted)} events)`
          : `MISSED: ${e.accepted_missing_on_disk} missing`,
      COMMANDS.e2e,
    ]);
  }
  if (r.sdk_cost) {
    const c = r.sdk_cost.value;
    const f = c.builds.full.track_us;
    const pl = c.anchors?.plausible;
    const plUs = pl && 'track_us' in pl ? ` vs Plausible ${pl.track_us.median.toFixed(1)} us` : '';
    rows.push([
      `SDK main thread per track() in Chromium, full build (median of ${c.rounds} rounds; ${r.sdk_cost.measured_at})`,
      `${f.median.toFixed(1)} us [${f.min.toFixed(1)}-${f.max.toFixed(1)}]; core ${c.builds.core.track_us.median.toFixed(1)} us${plUs}`,
      '',
      '',
      COMMANDS.sdk_cost,
    ]);
    if (c.track_us_ratio_vs_plausible !== undefined) {
      const q = c.track_us_ratio_vs_plausible_rounds!;
      rows.push([
        "SDK track() / Plausible's track(), same harness (ratio per round, median [min-max])",
        `${c.track_us_ratio_vs_plausible.toFixed(2)}x [${q.min.toFixed(2)}-${q.max.toFixed(2)}]`,
        `<= ${TARGETS.sdk_track_us_ratio_vs_plausible.toFixed(1)}x`,
        verdict(c.track_us_ratio_vs_plausible <= TARGETS.sdk_track_us_ratio_vs_plausible),
        COMMANDS.sdk_cost,
      ]);
    } else {
      rows.push([
        "SDK track() / Plausible's track(), same harness",
        pl && 'error' in pl ? `Plausible not measured: ${pl.error}` : 'not measured',
        `<= ${TARGETS.sdk_track_us_ratio_vs_plausible.toFixed(1)}x`,
        'not measured',
        COMMANDS.sdk_cost,
      ]);
    }
    if (c.burst_us_per_call !== undefined) {
      const bu = c.builds.full.track_burst_us;
      rows.push([
        `SDK track() per call, ${int(c.events_per_sample)} calls in one task, full build`,
        `${bu.median.toFixed(1)} us [${bu.min.toFixed(1)}-${bu.max.toFixed(1)}]`,
        `<= ${TARGETS.sdk_burst_us_per_call} us`,
        verdict(c.burst_us_per_call <= TARGETS.sdk_burst_us_per_call),
        COMMANDS.sdk_cost,
      ]);
    }
  }
  for (const [key, label] of QUERY_RUNS) {
    const q = r[key];
    if (!q) continue;
    rows.push([
      `all ${Object.keys(q.value.queries).length} saved queries on DuckDB, ${label} simulated events (${q.measured_at})`,
      `${(q.value.total_median_ms / 1000).toFixed(1)} s total (slowest ${Object.entries(q.value.queries).sort((a, b) => b[1].median - a[1].median)[0]?.[0]})`,
      '',
      '',
      COMMANDS[key],
    ]);
    const b = q.value.bytes_scanned;
    if (b) {
      const ratios = Object.values(b).map((x) => x.parquet / x.json_gzip);
      rows.push([
        `bytes Athena would scan per query, Parquet / gzip JSON, ${label} events`,
        `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x (median ${median(ratios).toFixed(2)}x)`,
        '',
        '',
        COMMANDS[key],
      ]);
    }
  }
  const an = r.analyst;
  if (an) {
    const ms = (x: number) => `${int(x)} ms`;
    if (an.max_query_ms_1m_compacted !== undefined && r.compacted_1m) {
      rows.push([
        `analyst.max_query_ms_1m_compacted: slowest saved query after compaction, 1 M events / 30 days (${r.compacted_1m.measured_at})`,
        `${ms(an.max_query_ms_1m_compacted)} (${an.max_query_1m_compacted}); business queries ${ms(an.max_business_query_ms_1m_compacted!)}`,
        `<= ${ms(ANALYST_TARGETS.max_query_ms_1m_compacted)}`,
        verdict(an.max_query_ms_1m_compacted <= ANALYST_TARGETS.max_query_ms_1m_compacted),
        COMMANDS.compacted_1m,
      ]);
      rows.push([
        `analyst.bytes_scanned_ratio_compacted_vs_raw: bytes read after compaction / gzip JSON before, largest over the saved queries, 1 M events`,
        `${an.bytes_scanned_ratio_compacted_vs_raw!.toFixed(3)} (${an.bytes_scanned_ratio_compacted_vs_raw_query}); business queries ${an.bytes_scanned_ratio_compacted_vs_raw_business!.toFixed(3)}`,
        `<= ${ANALYST_TARGETS.bytes_scanned_ratio_compacted_vs_raw}`,
        verdict(an.bytes_scanned_ratio_compacted_vs_raw! <= ANALYST_TARGETS.bytes_scanned_ratio_compacted_vs_raw),
        COMMANDS.compacted_1m,
      ]);
    }
    if (an.max_query_ms_10m_compacted !== undefined && r.compacted_10m) {
      rows.push([
        `analyst.max_query_ms_10m_compacted: the same over 10 M events (${r.compacted_10m.measured_at})`,
        `${ms(an.max_query_ms_10m_compacted)} (${an.max_query_10m_compacted}); business queries ${ms(an.max_business_query_ms_10m_compacted!)}`,
        `<= ${ms(ANALYST_TARGETS.max_query_ms_10m_compacted)}`,
        verdict(an.max_query_ms_10m_compacted <= ANALYST_TARGETS.max_query_ms_10m_compacted),
        COMMANDS.compacted_10m,
      ]);
    }
    rows.push([
      'analyst.compaction_rows_lost: distinct event_ids in the raw objects that events_dedup no longer shows',
      String(an.compaction_rows_lost),
      '0',
      verdict(an.compaction_rows_lost === 0),
      r.compacted_10m ? `${COMMANDS.compacted_1m}; ${COMMANDS.compacted_10m}` : COMMANDS.compacted_1m,
    ]);
  }
  return rows;
}

function markdownTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join(
    '\n',
  );
}

/** A compacted run measured before data_quality read the compaction's copy counts: it read every raw object. */
const rawDataQuality = (v: CompactedQueryBench) => {
  const dq = v.bytes_scanned.data_quality;
  return dq !== undefined && dq.compacted >= dq.json_gzip;
};

/** bench/results.md: every table, from results.json alone. */
export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `# Benchmark results\n\nMeasured ${r.measured_at} on ${m.nproc} x ${m.cpu}, Node ${m.node}, ${m.os} (1-min load average ${m.load_avg_1m_at_start.toFixed(1)} at start: other processes shared the cores)${r.quick ? ' — QUICK run, not for publishing' : ''}. Written by \`npm run bench\`; do not edit by hand.\n`,
  );
  out.push('## Summary\n');
  out.push(markdownTable(['figure', 'value', 'target', 'verdict', 'command'], summaryRows(r)));
  out.push(`\n## Handler pipeline (events/s; median of ${r.pipeline.rounds} interleaved rounds, [min-max])\n`);
  const s = (x: { median: number; min: number; max: number }) => `${int(x.median)} [${int(x.min)}-${int(x.max)}]`;
  out.push(
    markdownTable(
      ['events/request', 'JSON floor', 'pipeline', 'straightforward', 'pipeline / floor', 'straightforward / floor', 'us/request'],
      r.pipeline.batches.map((b) => [
        String(b.batch),
        s(b.events_per_s.json_floor),
        s(b.events_per_s.pipeline),
        s(b.events_per_s.straightforward),
        pct(b.ratio_vs_json_floor),
        pct(b.ratio_straightforward_vs_json_floor),
        b.pipeline_us_per_request.toFixed(0),
      ]),
    ),
  );
  out.push(
    '\nRatios are taken within each round (same conditions), then the median. The floor is JSON.parse of the body plus one JSON.stringify per event.\n',
  );
  out.push("## Where the pipeline's time goes (us/request, share)\n");
  out.push(
    markdownTable(
      ['events/request', ...STAGES],
      r.breakdown.map((b) => [String(b.batch), ...STAGES.map((st) => `${b.us_per_request[st].toFixed(1)} (${pct(b.share[st])})`)]),
    ),
  );
  out.push(
    "\nparse = JSON.parse + envelope schema; validate = per-event compiled Ajv; facts = User-Agent (cached) + visitor hash; enrich = per-event stored row as its NDJSON line (time correction, URL/UTM attribution, JSON of the event's own columns with the request's and the URL's columns spliced in as JSON made once); pack = joining lines into Firehose records.\n",
  );
  const cs = r.bundle.cold_start;
  out.push(
    `## Lambda bundle and cold start\n\nBundle ${int(r.bundle.bytes)} B (serverless.yml custom.esbuild). Whole-process time over ${cs.runs} alternating runs: \`node -e "require(bundle)"\` ${cs.require_ms.median.toFixed(1)} ms [${cs.require_ms.min.toFixed(1)}-${cs.require_ms.max.toFixed(1)}], \`node -e ''\` ${cs.empty_ms.median.toFixed(1)} ms [${cs.empty_ms.min.toFixed(1)}-${cs.empty_ms.max.toFixed(1)}]: ratio ${cs.cold_start_ratio.toFixed(2)}x.\n`,
  );
  if (r.geo) {
    const g = r.geo;
    const gc = g.cold_start;
    out.push(`## Country lookup (\`${COMMANDS.geo}\`, bench/geo.ts)\n`);
    out.push(
      `Table ${g.table.file}: ${int(g.table.bytes)} B, ${int(g.table.v4_ranges)} IPv4 and ${int(g.table.v6_ranges)} IPv6 ranges from ${g.table.source}. resolveClient + lookup per request: ${g.lookup_us_per_request.toFixed(2)} us (median of rounds, [${g.lookup_us.min.toFixed(2)}-${g.lookup_us.max.toFixed(2)}]). First lookup in a fresh process (reads the IPv4 part): ${g.load_ms.median.toFixed(1)} ms [${g.load_ms.min.toFixed(1)}-${g.load_ms.max.toFixed(1)}]. Cold start over ${gc.runs} rotating runs: \`node -e ''\` ${gc.empty_ms.median.toFixed(1)} ms, require(bundle) ${gc.require_ms.median.toFixed(1)} ms (${gc.cold_start_ratio.toFixed(2)}x), require(bundle) + first lookup ${gc.require_and_first_lookup_ms.median.toFixed(1)} ms (${gc.cold_start_ratio_geo.toFixed(2)}x).\n`,
    );
    out.push(
      markdownTable(
        ['events/request', 'pipeline us/request, geo on', 'geo off (GEO_DB_PATH=off)', 'difference (median of per-round differences)'],
        g.pipeline_us_per_request.map((p) => [String(p.batch), p.geo_on.toFixed(1), p.geo_off.toFixed(1), p.delta.toFixed(1)]),
      ),
    );
    out.push(
      '\nThe difference of two whole-pipeline timings is within their noise on a shared machine; the per-request lookup above is the figure held to the budget (it runs once per request, whatever the batch size).\n',
    );
  }
  if (r.bots) {
    const b = r.bots;
    out.push(`## Bot filter on a labelled corpus (\`${COMMANDS.bots}\`, bench/bots.ts)\n`);
    out.push(
      `People: ${int(b.humans)} distinct User-Agents of the user-agents package; bots: the ${int(b.bots)} User-Agents of the bots issue 14 names plus crawler-user-agents' examples. Detector: ${b.detector}. The previous detector (crawler-user-agents' own patterns) is scored on the same corpus; its bot recall is on its own examples, so only its human side compares.\n`,
    );
    out.push(
      markdownTable(
        ['detector', 'people flagged', 'bots missed', 'human precision', 'bot recall'],
        [
          ['this one', String(b.humans_flagged), String(b.bots_missed), b.human_precision.toFixed(4), b.bot_recall.toFixed(4)],
          [
            'previous (crawler-user-agents)',
            String(b.previous.humans_flagged),
            String(b.previous.bots_missed),
            b.previous.human_precision.toFixed(4),
            b.previous.bot_recall.toFixed(4),
          ],
        ],
      ),
    );
    const u = b.us_per_call;
    out.push(
      `\nLookup cost, microseconds per call (median of rounds; the handler caches the User-Agent answer per string, the others run once per request or per referrer): User-Agent uncached ${u.user_agent.toFixed(2)}, datacenter IPv4 ${u.datacenter_ip_v4.toFixed(2)}, IPv6 ${u.datacenter_ip_v6.toFixed(2)}, referrer spam ${u.referrer_spam.toFixed(2)}.\n`,
    );
  }
  if (r.anchors) {
    out.push(`## SDK size next to other trackers (anchors measured ${r.anchors.measured_at}, \`${COMMANDS.anchors}\`)\n`);
    const ours = Array.isArray(r.sdk)
      ? r.sdk.map((x) => [`clickstream (this repo) ${x.file}`, 'local', int(x.min), int(x.gzip), int(x.brotli), 'client-sdk/build.mjs'])
      : [];
    out.push(
      markdownTable(
        ['tracker', 'version', 'min', 'min+gzip', 'min+brotli', 'how'],
        [
          ...ours,
          ...r.anchors.results.map((a) =>
            a.error
              ? [a.pkg, a.version ?? '', '', '', '', `FAILED: ${a.error}`]
              : [a.pkg, a.version!, int(a.min!), int(a.gzip!), int(a.brotli!), a.method!],
          ),
        ],
      ),
    );
    out.push('');
  }
  out.push(`## Cost model (\`${COMMANDS.cost}\`; details in docs/cost.md)\n`);
  out.push(
    `List prices ${r.cost.region}, checked ${r.cost.prices_checked}. Measured: ${r.cost.measured.row_bytes.toFixed(0)} B per stored row, gzip ratio ${r.cost.measured.gzip_ratio_at_default.toFixed(3)}, ${r.cost.measured.simulated_events_per_request.toFixed(2)} events/request in simulated traffic.\n`,
  );
  out.push(
    markdownTable(
      ['design', 'per million events', `month total at ${int(r.cost.events_per_month)} events`],
      r.cost.bills.map((b) => [b.design, `$${b.perMillionUsd.toFixed(3)}`, `$${b.totalUsd.toFixed(2)}`]),
    ),
  );
  out.push(`\nBill of this design at ${int(r.cost.events_per_month)} events/month:\n`);
  out.push(
    markdownTable(
      ['service', 'item', 'USD/month'],
      r.cost.bills[0]!.lines.map((l) => [l.service, l.item + (l.perEvent ? '' : ' (monthly, not per event)'), `$${l.usd.toFixed(4)}`]),
    ),
  );
  const lg = r.cost.logging;
  out.push(
    `\nLogs per successful invocation: ${lg.app_log_bytes} B from the function (measured) + ${lg.platform_log_bytes} B of Lambda's own lines (LoggingConfig ${lg.format}, system level ${lg.systemLevel}, application level ${lg.applicationLevel}); the metrics go out as one ${r.cost.measured.metrics_line_bytes ?? '?'} B EMF line per ${r.cost.measured.metrics_interval_s ?? '?'} s per busy execution environment (handlers/ingest-metrics.ts).\n`,
  );
  if (r.lambda) {
    const l = r.lambda;
    out.push(`## Ingest Lambda: CPU per invocation and memory size (\`${COMMANDS.lambda}\`, bench/lambda.ts)\n`);
    out.push(
      `The real bundle in a child Node ${l.node} process against a loopback Firehose, ${l.invocations_per_batch} warm invocations per batch size (fewer for 500 events). CPU time (user + system) at one full core of this machine, microseconds: mean, median [min-max]. Loading the bundle took ${l.init_cpu_ms.toFixed(0)} ms of CPU and the first invocation ${l.first_invocation_cpu_ms.toFixed(0)} ms; peak RSS ${l.max_rss_mb.toFixed(0)} MB after ${l.max_batch}-event batches.\n`,
    );
    out.push(
      markdownTable(
        ['events/request', 'CPU mean', 'CPU median [min-max]', 'wall on loopback, median'],
        l.batches.map((k) => {
          const c = l.invocation_cpu_us[String(k)]!;
          return [
            String(k),
            (l.invocation_cpu_mean_us[String(k)] ?? 0).toFixed(0),
            `${c.median.toFixed(0)} [${c.min.toFixed(0)}-${c.max.toFixed(0)}]`,
            (l.invocation_wall_us[String(k)]?.median ?? 0).toFixed(0),
          ];
        }),
      ),
    );
    const ms = r.cost.memory_sizes;
    out.push(
      `\nEach size priced by the cost model at ${ms.events_per_request.toFixed(2)} events/request (${ms.traffic} traffic) and at ${r.cost.batch}: CPU above divided by the share Lambda gives (memory / ${int(LAMBDA_FULL_VCPU_MB)} MB), plus the assumed ${r.cost.put_ms} ms PutRecordBatch wait. Lambda's CPU share is not imitated here; the cold start column divides the cold start's CPU by the same share (an upper bound if Lambda runs INIT faster). Current size marked *.\n`,
    );
    out.push(
      markdownTable(
        [
          'memory',
          'vCPU share',
          'billed ms',
          'billed ms, 500 events',
          'cold start ms',
          'peak RSS headroom',
          'Lambda $ per M events',
          `same at ${r.cost.batch}/request`,
          'all lines $ per M events',
        ],
        ms.options.map((x) => [
          `${x.memory_mb} MB${x.memory_mb === r.cost.memory_mb ? ' *' : ''}`,
          x.cpu_share.toFixed(3),
          String(x.billed_ms),
          String(x.billed_ms_500),
          String(x.cold_start_ms),
          `${x.rss_headroom.toFixed(1)}x`,
          `$${x.lambda_per_million_usd.toFixed(4)}`,
          `$${x.lambda_per_million_usd_full_batches.toFixed(4)}`,
          `$${x.per_million_usd.toFixed(3)}`,
        ]),
      ),
    );
  }
  if (r.browsing) {
    const b = r.browsing.value;
    out.push(`\n## Events per request on real browsing (${r.browsing.measured_at}, \`${COMMANDS.browsing}\`)\n`);
    out.push(
      `Headless Chromium ${b.chromium_version}, the demo site through the local stack, SDK build ${b.sdk.build_sha256} (commit ${b.sdk.git_head}${b.sdk.client_sdk_src_dirty ? ', client-sdk/src with uncommitted changes' : ''}), ${b.rounds} round(s) of the scripted visits in bench/browsing.ts, reading times from the simulator's distribution capped at ${(b.dwell_cap_ms / 1000).toFixed(0)} s (${b.seconds} s in all). Requests counted at a proxy in front of the API (playwright's request events saw ${b.requests_seen_by_playwright} of them: Chromium does not report a leaving page's keepalive requests); events read back from the stored rows.\n`,
    );
    out.push(
      markdownTable(
        ['visit', 'pages', 'seconds', 'requests', 'events sent'],
        b.visits.map((v) => [v.name, String(v.pages), v.seconds.toFixed(0), String(v.requests), String(v.events)]),
      ),
    );
    out.push(
      `\n${int(b.requests)} requests carried ${int(b.events_sent)} events (${int(b.distinct_events_sent)} distinct); ${int(b.distinct_events_stored)} distinct events stored, ${b.missing} missing, ${b.duplicate_rows_per_100} duplicate rows per 100 events: **${b.events_per_request.toFixed(2)} events per request**. ${b.requests_at_leave} requests were sent as a page was left for another page of the site and ${b.requests_at_close} as a tab closed. Had each leave-time batch gone out with the next page's send instead (the carry-over lever; an estimate from this trace, not a measurement): ${b.carry_over_estimate.requests} requests, ${b.carry_over_estimate.events_per_request.toFixed(2)} events per request.\n`,
    );
  }
  if (r.e2e) {
    const e = r.e2e.value;
    out.push(`\n## End to end through the local stack (${r.e2e.measured_at}, \`${COMMANDS.e2e}\`)\n`);
    out.push(
      `${e.seconds} s, ${e.connections} connections, ${e.batch} events/request on 127.0.0.1 (serverless offline + Firehose stand-in + gzip to disk, all on the same cores as autocannon): ${int(e.requests_2xx)} requests answered 200 (${e.non_2xx} other, ${e.errors} errors, ${e.timeouts} timeouts), ${int(e.events_per_s)} events/s; latency p50 ${e.latency_ms.p50.toFixed(1)} ms, p95 ${e.latency_ms.p95.toFixed(1)} ms, p99 ${e.latency_ms.p99.toFixed(1)} ms, max ${e.latency_ms.max.toFixed(0)} ms. ${int(e.events_accepted)} events accepted, ${int(e.events_on_disk)} rows on disk, ${e.accepted_missing_on_disk} accepted events missing. Warm-up (${e.connections} simultaneous requests on cold instances): ${e.warmup_non_200 ?? 0} not answered 200.\n`,
    );
  }
  for (const [key, label] of QUERY_RUNS) {
    const q = r[key];
    if (!q) continue;
    out.push(`\n## Saved queries on DuckDB, ${label} simulated events (${q.measured_at}, \`${COMMANDS[key]}\`)\n`);
    out.push(
      `${int(q.value.stored_rows)} rows in ${int(q.value.objects)} gzip objects over ${q.value.days} days (simulated in ${q.value.simulate_s.toFixed(0)} s${q.value.windows ? ` as ${q.value.windows} consecutive ${q.value.days / q.value.windows}-day windows with their own seeds, as the simulator holds every row in memory: volume and rows per object as one run, but visitors do not return across windows` : ''}): ${int(q.value.stored_rows / q.value.objects)} rows per object, as ${int((q.value.stored_rows / q.value.days) * 30)} events a month would give; each query over the whole range, ${q.value.runs === 1 ? 'one run' : `median of ${q.value.runs} runs [min-max]`}, ms.\n`,
    );
    const v = q.value;
    const ms = (x: { median: number; min: number; max: number } | undefined) =>
      x ? (v.runs === 1 ? x.median.toFixed(0) : `${x.median.toFixed(0)} [${x.min.toFixed(0)}-${x.max.toFixed(0)}]`) : '';
    const mb = (x: number | undefined) => (x === undefined ? '' : (x / 1e6).toFixed(1));
    if (v.events_bytes && v.bytes_scanned && v.queries_parquet) {
      const e = v.events_bytes;
      out.push(
        `The same objects converted one to one to Parquet (Snappy; what \`dataFormat=parquet\` writes, one object per 60 s buffer) in ${e.convert_s.toFixed(0)} s: ${int(e.parquet_objects)} objects, ${mb(e.parquet)} MB against ${mb(e.json_gzip)} MB of gzip JSON. Bytes scanned is what Athena bills: gzip JSON objects are read whole (every query here spans the whole range); for Parquet, DuckDB's total_bytes_read with its caches off (footers plus the column chunks a query names). data_quality also reads the rejects (gzip JSON in both designs).\n`,
      );
      out.push(
        markdownTable(
          ['query', 'gzip JSON ms', 'Parquet ms', 'gzip JSON MB scanned', 'Parquet MB scanned', 'Parquet / JSON bytes'],
          Object.entries(v.queries).map(([n, x]) => {
            const bs = v.bytes_scanned![n];
            return [
              n,
              ms(x),
              ms(v.queries_parquet![n]),
              mb(bs?.json_gzip),
              mb(bs?.parquet),
              bs ? `${(bs.parquet / bs.json_gzip).toFixed(2)}x` : '',
            ];
          }),
        ),
      );
    } else {
      out.push(
        markdownTable(
          ['query', 'ms'],
          Object.entries(v.queries).map(([n, x]) => [n, ms(x)]),
        ),
      );
    }
  }
  for (const [key, label] of [
    ['compacted_1m', '1 M'],
    ['compacted_10m', '10 M'],
  ] as const) {
    const q = r[key];
    if (!q) continue;
    const v = q.value;
    const mb = (x: number) => (x / 1e6).toFixed(1);
    out.push(`\n## Saved queries after compaction, ${label} simulated events (${q.measured_at}, \`${COMMANDS[key]}\`)\n`);
    out.push(
      `${int(v.stored_rows)} rows in ${int(v.objects)} gzip objects over ${v.days} days (simulated in ${v.simulate_s.toFixed(0)} s${v.windows ? ` as ${v.windows} 3-day windows` : ''}); \`npm run compact\` rewrote the ${v.compacted_days} closed days in ${v.compaction_s.toFixed(0)} s into ${mb(v.compacted_parquet_bytes)} MB of Parquet (ZSTD; events, sessions and daily visitors together) from ${mb(v.raw_json_gzip_bytes)} MB of gzip JSON; ${v.rows_lost} event_ids lost. Each query over the whole range, median of ${v.runs} runs [min-max]${v.load_average_at_queries !== undefined ? `, load average ${v.load_average_at_queries.toFixed(1)} when they started (CPU: the process's CPU time, DuckDB's two threads included, which others' load inflates far less than wall time)` : ''}. Bytes: gzip JSON is what Athena reads before compaction (whole objects of the range plus slack); after, the footers and the column chunks of the Parquet objects each scan in the query's plan names (the columns it projects or filters on, every object in range: an upper bound), plus, at full size, the gzip objects still read raw (days not compacted yet${rawDataQuality(v) ? '; in this run data_quality still read the raw table, as it did before the compaction kept copy counts' : ''}).\n`,
    );
    const stat = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(0)} [${x.min.toFixed(0)}-${x.max.toFixed(0)}]`;
    const cpu = v.queries_cpu;
    out.push(
      markdownTable(
        ['query', 'ms', ...(cpu ? ['CPU ms'] : []), 'gzip JSON MB before', 'MB read after', 'after / before'],
        Object.entries(v.queries).map(([n, x]) => {
          const b = v.bytes_scanned[n]!;
          return [
            n,
            stat(x),
            ...(cpu ? [cpu[n] ? stat(cpu[n]) : ''] : []),
            mb(b.json_gzip),
            mb(b.compacted),
            (b.compacted / b.json_gzip).toFixed(3),
          ];
        }),
      ),
    );
    const cost = compactionCost(v);
    const usd = (x: number) => `$${x.toFixed(4)}`;
    out.push(
      `\nThe deployed compaction at ${int(cost.events_per_month)} events a month, scaled from this run (${mb(cost.raw_bytes_per_day)} MB of gzip JSON and ${mb(cost.compacted_bytes_per_day)} MB of Parquet a day; 3 days re-processed a day; bench/queries.ts compactionCost, upper bounds): Athena ${usd(cost.usd.athena)} a month (${mb(cost.bytes_scanned_per_run)} MB scanned per run at most), Step Functions ${usd(cost.usd.step_functions)}, S3 PUTs ${usd(cost.usd.s3_puts)}, storage of a month of compacted history ${usd(cost.usd.storage_first_month)} a month, the alarm ${usd(cost.usd.alarm)}: ${usd(cost.usd.total)} a month, ${usd(cost.per_million_events_usd)} per million events.\n`,
    );
  }
  if (r.sdk_cost) {
    const c = r.sdk_cost.value;
    const st = (x: { median: number; min: number; max: number }) => `${x.median.toFixed(1)} [${x.min.toFixed(1)}-${x.max.toFixed(1)}]`;
    out.push(`\n## Browser SDK main-thread cost (${r.sdk_cost.measured_at}, \`${COMMANDS.sdk_cost}\`)\n`);
    out.push(
      `Headless Chromium ${c.chromium_version}, the built IIFE behind the real loader, default options, a stand-in collector answering 200 (bench/sdk-cost.ts). Microseconds of main thread, median of ${c.rounds} rounds [min-max], ${int(c.events_per_sample)} events per sample, timer step ${c.timer_resolution_us} us. ${int(c.events_received)} of ${int(c.events_tracked)} tracked events reached the collector.\n`,
    );
    out.push(
      markdownTable(
        ['build', 'track(), a batch at a time', 'track(), all in one task', 'flush() of 20', 'pushState (SPA navigation)', 'page()'],
        (['full', 'core'] as const).map((b) => {
          const x = c.builds[b];
          return [b, st(x.track_us), st(x.track_burst_us), st(x.flush_us), st(x.push_state_us), st(x.page_view_us)];
        }),
      ),
    );
    out.push(
      `\nFor scale, on the same pages: an empty function in the same loop ${st(c.baseline_us)}; the browser's own history.pushState ${st(c.reference_us.native_push_state)}.\n`,
    );
    const anchors = Object.entries(c.anchors ?? {});
    if (anchors.length) {
      out.push(
        `Other trackers from npm in the same harness (same pages and collector, one add_to_cart event with the same three properties per call, each tracker's default options; bench/sdk-cost.ts), microseconds per call, median of ${c.rounds} rounds [min-max]:\n`,
      );
      out.push(
        markdownTable(
          ['tracker', 'version', 'track(), a batch at a time', 'track(), all in one task', 'events delivered / tracked'],
          [
            ...(['full', 'core'] as const).map((b) => [
              `clickstream (this repo), ${b} build`,
              'local',
              st(c.builds[b].track_us),
              st(c.builds[b].track_burst_us),
              '',
            ]),
            ...anchors.map(([, a]) =>
              'error' in a
                ? [a.package, '', `FAILED: ${a.error}`, '', '']
                : [a.package, a.version, st(a.track_us), st(a.track_burst_us), `${int(a.events_received)} / ${int(a.events_tracked)}`],
            ),
          ],
        ),
      );
      if (c.track_us_ratio_vs_plausible !== undefined)
        out.push(
          `\nOur full build's track() over Plausible's, taken within each round: ${c.track_us_ratio_vs_plausible.toFixed(2)}x (rounds ${st(c.track_us_ratio_vs_plausible_rounds!)}).\n`,
        );
    }
  }
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      e2e: { type: 'boolean' },
      compacted: { type: 'boolean' },
      'compacted-10m': { type: 'boolean' },
      'sdk-cost': { type: 'boolean' },
      browsing: { type: 'boolean' },
      queries: { type: 'boolean' },
      'queries-dense': { type: 'boolean' },
      'queries-10m': { type: 'boolean' },
      anchors: { type: 'boolean' },
      'no-write': { type: 'boolean' },
      'only-slow': { type: 'boolean' },
      geo: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
    return;
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const quick = values.quick === true;
  const previous = existsSync(RESULTS_JSON) ? (JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as Partial<Results>) : {};
  const today = new Date().toISOString().slice(0, 10);
  const m = machine();

  // --only-slow: keep the fast sections (and their date and machine) from results.json.
  const reuse = values['only-slow'] === true && previous.pipeline && previous.breakdown && previous.bundle && previous.sdk && previous.cost;
  let pipeline: PipelineBench, breakdown: Breakdown[], bytes: number, cold: ColdStart, sdk: Results['sdk'], cost: CostReport | undefined;
  let lambda: LambdaInvocationCost | undefined;
  if (reuse) {
    ({ pipeline, breakdown, sdk, cost, lambda } = previous as Results);
    ({ bytes, cold_start: cold } = (previous as Results).bundle);
    log(`reusing the fast sections measured ${previous.measured_at}`);
  } else {
    log('pipeline: interleaved rounds of JSON floor / pipeline / straightforward ...');
    pipeline = runPipelineBench({ rounds: quick ? 3 : 9, msPerCell: quick ? 100 : 200, log });
    log('breakdown ...');
    breakdown = BATCH_SIZES.map((b) => runBreakdown(b, { rounds: quick ? 3 : 7 }));
    log('cold start: building the Lambda bundle ...');
    ({ bytes } = await buildBundle());
    cold = measureColdStart(quick ? 7 : 21);
    log('Lambda invocations: CPU, logs, peak memory of the bundle in a child process ...');
    lambda = await measureLambda({ batches: [1, 3, 10, 20, 500], invocations: quick ? 60 : 200, build: false, log });
    log('SDK sizes ...');
    sdk = sdkSizes();
    cost = undefined;
  }

  log('bot filter on the labelled corpus ...');
  const bots = runBotBench();
  // Fast, but a child-process cold start like the bundle's: kept from results.json with --only-slow.
  const geo =
    reuse && previous.geo && !values.geo ? previous.geo : await runGeoBench({ rounds: quick ? 3 : 9, coldRuns: quick ? 7 : 21, log });
  const anchors = values.anchors ? await runAnchors(log) : readAnchors();
  // A slow bench that fails (the local stack did not start, say) is reported, not fatal for the rest.
  const attempt = async <T>(name: string, f: () => Promise<T>): Promise<Dated<T> | undefined> => {
    try {
      return { measured_at: today, value: await f() };
    } catch (e) {
      log(`${name} FAILED: ${(e as Error).message.slice(0, 2000)}`);
      process.exitCode = 1;
      return undefined;
    }
  };
  // Before the cost model, which prices the events per request measured here.
  const browsing = values.browsing
    ? await attempt('browsing', () => runBrowsing({ rounds: quick ? 1 : 2, dwellCapMs: quick ? 8_000 : undefined, log }))
    : previous.browsing;
  // A stored cost model older than one of its sections (the edge's, issue 15) is re-run, not reused half.
  // A stored cost model or Lambda section older than a field the model now reads (the metrics line,
  // b6352c6) is re-measured, not priced from undefined: that wrote null prices.
  const stale = (x: unknown) => x === undefined || x === null;
  if (lambda && stale(lambda.metrics_line_bytes)) lambda = undefined;
  if (
    !cost ||
    values.browsing ||
    !('edge' in cost) ||
    stale(cost.cost_per_million_events_usd) ||
    stale(cost.measured?.metrics_line_bytes)
  ) {
    log('cost model ...');
    lambda ??= await measureLambda({ batches: [1, 3, 10, 20, 500], invocations: quick ? 60 : 200, log });
    cost = await costReport({ lambda, browserBatch: browsing?.value.events_per_request, browserMeasuredAt: browsing?.measured_at, log });
  }
  const e2e = values.e2e ? await attempt('e2e', () => runE2e({ log })) : previous.e2e;
  const sdk_cost = values['sdk-cost'] ? await attempt('sdk-cost', () => runSdkCost({ rounds: quick ? 3 : 9, log })) : previous.sdk_cost;
  const queries_1m = values.queries ? await attempt('queries', () => runQueryBench({ events: 1_000_000, log })) : previous.queries_1m;
  const queries_dense = values['queries-dense']
    ? await attempt('queries-dense', () => runQueryBench({ events: 1_000_000, days: 3, log }))
    : previous.queries_dense;
  const queries_10m = values['queries-10m']
    ? await attempt('queries-10m', () => runQueryBench({ events: 10_000_000, days: 30, windows: 10, runs: 1, log }))
    : previous.queries_10m;
  const compacted_1m = values.compacted
    ? await attempt('compacted', () => runCompactedQueryBench({ events: 1_000_000, runs: 3, log }))
    : previous.compacted_1m;
  const compacted_10m = values['compacted-10m']
    ? await attempt('compacted-10m', () => runCompactedQueryBench({ events: 10_000_000, days: 30, windows: 10, runs: 1, log }))
    : previous.compacted_10m;
  const analyst = analystFigures(compacted_1m?.value, compacted_10m?.value);

  const results: Results = {
    measured_at: reuse ? previous.measured_at! : today,
    machine: reuse ? previous.machine! : m,
    quick: reuse ? previous.quick! : quick,
    pipeline_ratio_vs_json_floor: pipeline.pipeline_ratio_vs_json_floor,
    cost_per_million_events_usd: cost.cost_per_million_events_usd,
    pipeline,
    breakdown,
    bundle: { bytes, cold_start: cold },
    sdk,
    cost,
    lambda,
    bots,
    geo,
    anchors,
    browsing,
    e2e,
    sdk_cost,
    queries_1m,
    queries_dense,
    queries_10m,
    compacted_1m,
    compacted_10m,
    analyst,
    commands: COMMANDS,
  };

  const t = new Table({
    head: ['figure', 'value', 'target', 'verdict'],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [52, 40, 22, 18],
  });
  for (const row of summaryRows(results)) t.push(row.slice(0, 4));
  // With --only-slow the cost section comes from results.json, and it may predate a field its
  // formatter now reads: printing it must not throw away the slow sections just measured.
  let costText: string;
  try {
    costText = formatCost(cost);
  } catch (e) {
    costText = `cost section not printed (${(e as Error).message}): re-run npm run bench without --only-slow to refresh it\n`;
  }
  process.stdout.write(`${t.toString()}\n${costText}`);
  if (values['no-write']) return;
  const onFile = existsSync(RESULTS_JSON) ? (JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as Partial<Results>) : {};
  const written = mergeForWrite(results, onFile, values);
  written.analyst = analystFigures(written.compacted_1m?.value, written.compacted_10m?.value);
  writeFileSync(RESULTS_JSON, `${JSON.stringify(written, null, 1)}\n`);
  writeFileSync(RESULTS_MD, renderMarkdown(written));
  log(`wrote ${RESULTS_JSON} and ${RESULTS_MD}`);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

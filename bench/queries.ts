/**
 * Query time and bytes scanned on simulated data: the seeded simulator (local/simulator) writes
 * about `events` events as Firehose would into a temporary folder, every saved query in
 * athena-queries/ runs on DuckDB (local/athena-local) over the whole range, `runs` times each
 * (medians with min/max); then the same objects converted to Parquet (bench/parquet.ts, what
 * `dataFormat=parquet` writes) and the same queries again.
 *
 * Bytes scanned is what Athena bills. For gzip JSON it reads every object of the partitions a
 * query touches, whole: here every query spans the whole range, so the sum of the object sizes
 * (data_quality adds the rejects objects). For Parquet it reads the footers and only the column
 * chunks a query names: measured as DuckDB's total_bytes_read with its file and metadata caches
 * off. DuckDB counts a gzip object as its 10-byte header only, so the rejects that data_quality
 * also reads (gzip JSON in both designs) are added at their full size on the Parquet side too; its
 * 10 bytes per rejects object stay in, a rounding error.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openLocalAthena, readSeam, viewFiles, type LocalAthena } from '../local/athena-local/duckdb';
import { compact } from '../local/compact';
import { loadQuery, queryNames, runSaved } from '../local/athena-local/queries';
import { DEFAULT_OPTIONS } from '../local/simulator/generate';
import { rangeOf, simulate } from '../local/simulator/index';
import { DEMO_FUNNEL } from '../local/simulator/truth';
import { objectsUnder } from '../local/firehose/layout';
import { bytesOf, convertToParquet } from './parquet';
import { PRICES, TB } from './prices';
import { median, type Stat } from './pipeline';

/** Events per simulated visitor at the simulator's defaults over 30 days (measured: about 8.8). */
const EVENTS_PER_VISITOR = 8.8;
/**
 * Stored rows per visitor when the simulated range is 3 days (measured: 705,610 rows from 113,637
 * visitors; return visits after the range are not stored).
 */
const ROWS_PER_VISITOR_3_DAYS = 6.2;
const DAY_MS = 86_400_000;

export interface QueryBench {
  target_events: number;
  stored_rows: number;
  objects: number;
  simulate_s: number;
  days: number;
  /**
   * The range simulated as this many consecutive windows of days / windows days each, one after
   * the other (the simulator keeps every row in memory; 10 M rows at once do not fit a Node heap).
   * Volume and rows per object match one run; visitors do not return across windows.
   */
  windows?: number;
  runs: number;
  /** Per saved query, wall time in ms. */
  queries: Record<string, Stat>;
  total_median_ms: number;
  /** Sizes of what Firehose would have written (events/ only), bytes. */
  events_bytes?: { json_gzip: number; parquet: number; parquet_objects: number; convert_s: number };
  /** Per saved query, bytes Athena would scan: gzip JSON (object sizes) and Parquet (measured). */
  bytes_scanned?: Record<string, { json_gzip: number; parquet: number }>;
  /** Per saved query on the Parquet objects, wall time in ms. */
  queries_parquet?: Record<string, Stat>;
  total_median_ms_parquet?: number;
}

/** Every saved query `runs` times; `bytes` (if given) reads the bytes scanned after each run. */
async function timeQueries(
  db: LocalAthena,
  from: string,
  to: string,
  runs: number,
  log?: (s: string) => void,
  label = '',
  bytes?: () => number,
) {
  const times: Record<string, Stat> = {};
  const cpu: Record<string, Stat> = {};
  const scanned: Record<string, number> = {};
  for (const name of queryNames()) {
    const steps = name === 'funnel' ? DEMO_FUNNEL : [];
    // DuckDB re-reads and decompresses the objects on every run (no result cache), so the first
    // run is not special; on 1 M events one run of all queries takes minutes already.
    const xs: number[] = [];
    const cs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const c = process.cpuUsage();
      await runSaved(db, name, from, to, steps);
      const used = process.cpuUsage(c);
      xs.push(performance.now() - t);
      cs.push((used.user + used.system) / 1000);
      if (bytes) scanned[name] = bytes();
    }
    times[name] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    cpu[name] = { median: median(cs), min: Math.min(...cs), max: Math.max(...cs) };
    log?.(`queries${label}: ${name} ${times[name]!.median.toFixed(0)} ms`);
  }
  return { times, cpu, scanned, total: Object.values(times).reduce((s, q) => s + q.median, 0) };
}

/** Does the saved query read the rejects table? (Only data_quality does today.) */
const readsRejects = (name: string) => /\brejects\b/.test(loadQuery(name).sql.replace(/--[^\n]*/g, ''));

export async function runQueryBench(
  opts: { events?: number; days?: number; windows?: number; runs?: number; parquet?: boolean; log?: (s: string) => void } = {},
): Promise<QueryBench> {
  const target = opts.events ?? 1_000_000;
  const runs = opts.runs ?? 1;
  const log = opts.log;
  const days = opts.days ?? DEFAULT_OPTIONS.days;
  const windows = opts.windows ?? 1;
  if (windows > 1 && days !== windows * 3) throw new Error('windows are 3 days each: days must be 3 x windows');
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-bench-q-'));
  const pqDir = mkdtempSync(join(tmpdir(), 'clickstream-bench-pq-'));
  try {
    const { from, to, stored_rows, objects, simulate_s } = simulateInto(dir, target, days, windows, 'queries', log);
    const jsonBytes = bytesOf(objectsUnder(join(dir, 'events'), '.gz'));
    const rejectsBytes = bytesOf(objectsUnder(join(dir, 'rejects'), '.gz'));

    const db = await openLocalAthena(dir, 'json');
    let json: Awaited<ReturnType<typeof timeQueries>>;
    try {
      json = await timeQueries(db, from, to, runs, log);
    } finally {
      db.close();
    }
    const out: QueryBench = {
      target_events: target,
      stored_rows,
      objects,
      simulate_s,
      days,
      ...(windows > 1 ? { windows } : {}),
      runs,
      queries: json.times,
      total_median_ms: json.total,
    };
    if (opts.parquet === false) return out;

    const t1 = performance.now();
    const parquetObjects = await convertToParquet(join(dir, 'events'), join(pqDir, 'events'), log);
    const convert_s = (performance.now() - t1) / 1000;
    symlinkSync(join(dir, 'rejects'), join(pqDir, 'rejects'));
    const parquetBytes = bytesOf(objectsUnder(join(pqDir, 'events'), '.parquet'));
    log?.(
      `queries: ${parquetObjects} objects converted to Parquet in ${convert_s.toFixed(1)} s (${parquetBytes} B; gzip JSON ${jsonBytes} B)`,
    );
    const pq = await openLocalAthena(pqDir, 'parquet');
    let parquet: Awaited<ReturnType<typeof timeQueries>>;
    try {
      const profile = join(pqDir, 'profile.json');
      // Caches off, so every run reads from the files what Athena would read from S3.
      for (const sql of [
        'SET enable_external_file_cache = false',
        'SET parquet_metadata_cache = false',
        "PRAGMA enable_profiling = 'json'",
        `PRAGMA profiling_output = '${profile}'`,
        `SET custom_profiling_settings = '{"TOTAL_BYTES_READ": "true"}'`,
      ])
        await pq.connection.run(sql);
      const measured = () => (JSON.parse(readFileSync(profile, 'utf8')) as { total_bytes_read: number }).total_bytes_read;
      parquet = await timeQueries(pq, from, to, runs, log, ' (parquet)', measured);
    } finally {
      pq.close();
    }
    out.events_bytes = { json_gzip: jsonBytes, parquet: parquetBytes, parquet_objects: parquetObjects, convert_s };
    out.bytes_scanned = Object.fromEntries(
      queryNames().map((name) => {
        const rejects = readsRejects(name) ? rejectsBytes : 0;
        return [name, { json_gzip: jsonBytes + rejects, parquet: parquet.scanned[name]! + rejects }];
      }),
    );
    out.queries_parquet = parquet.times;
    out.total_median_ms_parquet = parquet.total;
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pqDir, { recursive: true, force: true });
  }
}

/** Saved queries after `npm run compact` (issue 13): what analysts get once closed days are Parquet. */
export interface CompactedQueryBench {
  target_events: number;
  stored_rows: number;
  objects: number;
  days: number;
  windows?: number;
  simulate_s: number;
  /** npm run compact over every closed day (the whole simulated range). */
  compaction_s: number;
  compacted_days: number;
  /** Distinct event_ids of the raw objects that events_dedup no longer shows. Must be 0. */
  rows_lost: number;
  raw_json_gzip_bytes: number;
  compacted_parquet_bytes: number;
  runs: number;
  queries: Record<string, Stat>;
  /**
   * Per query, the process's CPU time in ms (DuckDB's threads run in it): on a machine others share,
   * wall time grows with their load, CPU time much less, so it tells a slower query from a busier machine.
   */
  queries_cpu?: Record<string, Stat>;
  /** 1-minute load average when the queries started (os.loadavg). */
  load_average_at_queries?: number;
  /** Per query: gzip JSON bytes Athena scans before compaction, and bytes read after it. */
  bytes_scanned: Record<string, { json_gzip: number; compacted: number }>;
  max_query_ms: number;
  max_query: string;
  bytes_ratio_max: number;
  bytes_ratio_max_query: string;
  /** The same two over the business queries (all but data_quality, which also reads every copy and the rejects). */
  max_business_query_ms: number;
  bytes_ratio_max_business: number;
}

/** Simulated objects in `dir`, as runQueryBench writes them (one window, or 3-day windows). */
function simulateInto(dir: string, target: number, days: number, windows: number, label: string, log?: (s: string) => void) {
  const end = new Date(Date.now() - DAY_MS).toISOString().slice(0, 10);
  const range = rangeOf({ ...DEFAULT_OPTIONS, days, end });
  let stored_rows = 0;
  let objects = 0;
  const t0 = performance.now();
  for (let w = 0; w < windows; w++) {
    // One window, or window w of `windows` (3 days each, oldest first, its own seed).
    const sim =
      windows === 1
        ? { ...DEFAULT_OPTIONS, days, end, visitors: Math.ceil(target / EVENTS_PER_VISITOR) }
        : {
            ...DEFAULT_OPTIONS,
            days: 3,
            seed: DEFAULT_OPTIONS.seed + w,
            end: new Date(Date.parse(`${end}T00:00:00Z`) - (windows - 1 - w) * 3 * DAY_MS).toISOString().slice(0, 10),
            visitors: Math.ceil(target / windows / ROWS_PER_VISITOR_3_DAYS),
          };
    const result = simulate(sim, dir);
    stored_rows += result.deliveries.events.length;
    objects += result.objects.events;
    log?.(
      `${label}: simulated ${stored_rows} rows${windows > 1 ? ` (window ${w + 1} of ${windows})` : ''} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return { ...range, stored_rows, objects, simulate_s: (performance.now() - t0) / 1000 };
}

const addDays = (dt: string, n: number) => new Date(Date.parse(`${dt}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const dtOf = (file: string) => /[/\\]dt=(\d{4}-\d{2}-\d{2})[/\\]/.exec(file)?.[1] ?? '';

interface PlanNode {
  operator_type?: string;
  operator_name?: string;
  extra_info?: Record<string, unknown>;
  children?: PlanNode[];
}
/** Per compacted table: per Parquet object, each column's compressed bytes, and its footer's. */
type ParquetSizes = Map<string, { columns: Map<string, number>; footer: number }[]>;

async function parquetColumnSizes(db: LocalAthena, dir: string): Promise<ParquetSizes> {
  const out: ParquetSizes = new Map();
  for (const table of readdirSync(join(dir, 'compacted'))) {
    const files = objectsUnder(join(dir, 'compacted', table), '.parquet');
    out.set(
      table,
      await Promise.all(
        files.map(async (f) => {
          const r = await db.run(
            `SELECT path_in_schema, sum(total_compressed_size) FROM parquet_metadata('${f.replace(/'/g, "''")}') GROUP BY 1`,
          );
          const columns = new Map(r.rows.map((x) => [String(x[0]).split(/[.,]/)[0]!, Number(x[1])]));
          // What is not a column chunk is the footer and page headers: read by every scan of the object.
          const footer = statSync(f).size - [...columns.values()].reduce((a, b) => a + b, 0);
          return { columns, footer };
        }),
      ),
    );
  }
  return out;
}

/**
 * Bytes Athena would read for the Parquet scans of a DuckDB plan: per scan of a compacted table,
 * the footers plus the column chunks of the columns it projects or filters on, in every object of
 * the table (an upper bound: row groups skipped by statistics are counted). DuckDB's own
 * total_bytes_read undercounts Parquet here (it reported 0.2 MB for two columns whose chunks hold
 * 0.9 MB), so it is not used.
 */
function parquetBytesOfPlan(plan: PlanNode, sizes: ParquetSizes): number {
  let bytes = 0;
  const walk = (n: PlanNode) => {
    if (n.operator_name === 'READ_PARQUET') {
      const info = n.extra_info ?? {};
      const files = String(info['Filename(s)'] ?? '');
      const table = /[/\\]compacted[/\\]([a-z_]+)[/\\]/.exec(files)?.[1];
      const objects = table ? (sizes.get(table) ?? []) : [];
      // DuckDB gives one item as a string, several as a list.
      const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
      const named = [...list(info.Projections), ...list(info.Filters).flatMap((f) => f.match(/[a-z_][a-z0-9_]*/g) ?? [])];
      for (const o of objects) bytes += o.footer + [...new Set(named)].reduce((sum, c) => sum + (o.columns.get(c) ?? 0), 0);
    }
    for (const c of n.children ?? []) walk(c);
  };
  walk(plan);
  return bytes;
}

/**
 * Simulates `events`, compacts every closed day (npm run compact), then times every saved query
 * over the whole range and measures what it reads. Bytes before: the gzip JSON objects of the
 * range's partitions plus slack (Athena reads them whole). Bytes after: the footers and column
 * chunks of the compacted Parquet objects each scan in the query's plan names (parquetBytesOfPlan),
 * plus, at full size, the gzip objects it still reads raw (days not compacted yet, within the slack;
 * data_quality too, which reads every copy through the events_copies view).
 */
export async function runCompactedQueryBench(
  opts: { events?: number; days?: number; windows?: number; runs?: number; log?: (s: string) => void } = {},
): Promise<CompactedQueryBench> {
  const target = opts.events ?? 1_000_000;
  const days = opts.days ?? DEFAULT_OPTIONS.days;
  const windows = opts.windows ?? 1;
  const runs = opts.runs ?? 3;
  const log = opts.log;
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-bench-c-'));
  try {
    const sim = simulateInto(dir, target, days, windows, 'compacted queries', log);
    const { from, to } = sim;
    const rawObjects = objectsUnder(join(dir, 'events'), '.gz');
    const inSlack = (f: string) => dtOf(f) >= addDays(from, -1) && dtOf(f) <= addDays(to, 3);
    const rawInRange = rawObjects.filter(inSlack);
    const rejectsBytes = bytesOf(objectsUnder(join(dir, 'rejects'), '.gz').filter(inSlack));
    const t1 = performance.now();
    const c = await compact(dir, {
      onDay: (dt, n) => {
        if (n % 5 === 0) log?.(`compacted queries: compacted ${n} days (${dt})`);
      },
    });
    const compaction_s = (performance.now() - t1) / 1000;
    log?.(`compacted queries: ${c.compacted.length} days compacted in ${compaction_s.toFixed(1)} s; seam ${JSON.stringify(c.seam)}`);

    const db = await openLocalAthena(dir);
    try {
      // What analysts could see before (any raw copy) and cannot after (through the view).
      const [[lost]] = (
        await db.run('SELECT count(*) FROM (SELECT DISTINCT event_id FROM events EXCEPT SELECT event_id FROM events_dedup)')
      ).rows as [[number]];
      const seam = await readSeam(db);
      // Raw objects the views still open: days outside the compacted range (their cutoff aside).
      const rawRead = rawInRange.filter((f) => dtOf(f) < seam.compacted_from || dtOf(f) >= seam.raw_from);
      const sizes = await parquetColumnSizes(db, dir);
      const profile = join(dir, 'profile.json');
      for (const sql of [
        "PRAGMA enable_profiling = 'json'",
        `PRAGMA profiling_output = '${profile}'`,
        `SET custom_profiling_settings = '{"EXTRA_INFO": "true", "OPERATOR_TYPE": "true", "OPERATOR_NAME": "true"}'`,
      ])
        await db.connection.run(sql);
      const measured = () => parquetBytesOfPlan(JSON.parse(readFileSync(profile, 'utf8')) as PlanNode, sizes);
      const load = loadavg()[0]!;
      const timed = await timeQueries(db, from, to, runs, log, ' (compacted)', measured);
      const bytes_scanned = Object.fromEntries(
        queryNames().map((name) => {
          const rejects = readsRejects(name) ? rejectsBytes : 0;
          return [name, { json_gzip: bytesOf(rawInRange) + rejects, compacted: timed.scanned[name]! + bytesOf(rawRead) + rejects }];
        }),
      );
      const ratio = (n: string) => bytes_scanned[n]!.compacted / bytes_scanned[n]!.json_gzip;
      const byTime = Object.entries(timed.times).sort((a, b) => b[1].median - a[1].median);
      const byRatio = queryNames().sort((a, b) => ratio(b) - ratio(a));
      const business = queryNames().filter((n) => n !== 'data_quality');
      return {
        target_events: target,
        stored_rows: sim.stored_rows,
        objects: sim.objects,
        days,
        ...(windows > 1 ? { windows } : {}),
        simulate_s: sim.simulate_s,
        compaction_s,
        compacted_days: c.compacted.length,
        rows_lost: lost,
        raw_json_gzip_bytes: bytesOf(rawObjects),
        compacted_parquet_bytes: bytesOf(objectsUnder(join(dir, 'compacted'), '.parquet')),
        runs,
        queries: timed.times,
        queries_cpu: timed.cpu,
        load_average_at_queries: load,
        bytes_scanned,
        max_query_ms: byTime[0]![1].median,
        max_query: byTime[0]![0],
        bytes_ratio_max: ratio(byRatio[0]!),
        bytes_ratio_max_query: byRatio[0]!,
        max_business_query_ms: Math.max(...business.map((n) => timed.times[n]!.median)),
        bytes_ratio_max_business: Math.max(...business.map(ratio)),
      };
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the deployed compaction costs a month (docs/cost.md "Compaction"), priced from the bytes its
 * statements scan, at `eventsPerMonth` and the raw and compacted bytes per day measured in `run`
 * (scaled linearly). Upper bounds: each day's three MERGEs are counted as reading the day's whole
 * raw objects (a newly compacted day is read raw until the views move; an older one is read from
 * Parquet, far less), every statement at Athena's 10 MB minimum at least, the views' CREATE too.
 */
export function compactionCost(run: CompactedQueryBench, opts: { eventsPerMonth?: number; days?: number } = {}) {
  const eventsPerMonth = opts.eventsPerMonth ?? 10_000_000;
  const days = opts.days ?? 3;
  const scale = eventsPerMonth / ((run.stored_rows / run.days) * 30);
  const rawPerDay = (run.raw_json_gzip_bytes / run.days) * scale;
  const compactedPerDay = (run.compacted_parquet_bytes / run.days) * scale;
  const min = PRICES.athena.minBytesPerQuery;
  const billed = (b: number) => Math.max(b, min);
  // Per day: events (raw day + the day's compacted partition as MERGE target), sessions and daily
  // visitors (raw day each), compaction_state (a count over the day's compacted partition).
  const perDay = billed(rawPerDay + compactedPerDay) + 2 * billed(rawPerDay) + billed(compactedPerDay / 10);
  // Per run: the plan and seam SELECTs, and each view's CREATE.
  const views = viewFiles().length;
  const perRunBytes = days * perDay + (2 + views) * min;
  const runsPerMonth = 30;
  const athena = ((perRunBytes * runsPerMonth) / TB) * PRICES.athena.perTB;
  // Plan, Plan rows, Days, per day 4 statements, Seam, Seam row, the views.
  const transitions = (3 + views + 4 * days + 2) * runsPerMonth;
  const stepFunctions = (transitions / 1000) * PRICES.stepFunctions.perThousandTransitions;
  // An Iceberg commit writes data files, a manifest, a manifest list and a metadata file: ~5 PUTs.
  const puts = 4 * days * 5 * runsPerMonth;
  const s3Puts = (puts / 1000) * PRICES.s3.putPerThousand;
  // A month of compacted history, stored a month (grows by this every month it is kept).
  const storage = ((compactedPerDay * 30) / 1e9) * PRICES.s3.standardGBMonth;
  const alarm = PRICES.cloudwatch.alarmMonth;
  const total = athena + stepFunctions + s3Puts + storage + alarm;
  return {
    events_per_month: eventsPerMonth,
    raw_bytes_per_day: rawPerDay,
    compacted_bytes_per_day: compactedPerDay,
    bytes_scanned_per_run: perRunBytes,
    usd: { athena, step_functions: stepFunctions, s3_puts: s3Puts, storage_first_month: storage, alarm, total },
    per_million_events_usd: total / (eventsPerMonth / 1e6),
  };
}

/**
 * What the country lookup costs (issue 14 budgets: <= 2 us per request in the pipeline, and the
 * Lambda cold start <= 1.5x an empty Node with geo on). Reported by `npm run bench` as `geo` in
 * bench/results.json:
 *   geo.lookup_us_per_request     resolveClient + table lookup, once per request (the pipeline does
 *                                 it once per request, not per event), on simulated visitor
 *                                 addresses (70 % IPv4, 30 % IPv6), median of rounds
 *   geo.pipeline_us_per_request   processRequest + packLines with the table and with GEO_DB_PATH=off,
 *                                 interleaved, and their difference (noisier: two ~40 us figures)
 *   geo.load_ms                   first lookup in a fresh process: reading and mapping the table
 *   geo.cold_start                `node -e "require(bundle)"` and the same plus the first lookup
 *                                 (the handler reads the table on its first request), each over
 *                                 `node -e ''`: cold_start_ratio_geo is the figure held to 1.5x.
 *                                 The bundle is serverless.yml's build with countryLookup also
 *                                 exported; the lookup is of an IPv4 client (the IPv4 part is read)
 * Run alone: `tsx bench/geo.ts` (prints JSON).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { configFromEnv, DEFAULT_GEO_DB } from '../handlers/lib/config';
import { countryLookup, geoTable, resolveClient } from '../handlers/lib/geo';
import { packLines } from '../handlers/lib/pack';
import { processRequest, type PipelineConfig } from '../handlers/lib/pipeline';
import { rng } from '../local/simulator/generate';
import { addressIn, IPV6_SHARE, simGeoTable, VISITOR_COUNTRIES } from '../local/simulator/geo';
import { COLD_ENV, esbuildOptionsFromServerless, OUT_DIR } from './coldstart';
import { BENCH_ENV, makeRequests, type BenchRequest } from './fixtures';
import { median, type Stat } from './pipeline';

const root = join(__dirname, '..');
/** The Lambda bundle with one more export (countryLookup), to make the handler's first lookup in a child. */
const GEO_BUNDLE = join(OUT_DIR, 'ingest-with-lookup.js');

export interface GeoBench {
  table: { file: string; bytes: number; source: string; v4_ranges: number; v6_ranges: number };
  lookup_us_per_request: number;
  lookup_us: Stat;
  pipeline_us_per_request: { batch: number; geo_on: number; geo_off: number; delta: number }[];
  load_ms: Stat;
  cold_start: {
    runs: number;
    empty_ms: Stat;
    require_ms: Stat;
    require_and_first_lookup_ms: Stat;
    cold_start_ratio: number;
    cold_start_ratio_geo: number;
  };
  target_us_per_request: number;
}

const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
let sink = 0;

/** Simulated visitor addresses, as the simulator draws them (local/simulator/geo.ts). */
export function visitorAddresses(n: number, seed = 11): string[] {
  const r = rng(seed);
  const table = simGeoTable();
  return Array.from({ length: n }, () => addressIn(table, r.weighted(VISITOR_COUNTRIES), r.chance(IPV6_SHARE), r));
}

function lookupRound(ips: string[], config: PipelineConfig, ms: number): number {
  const lookup = countryLookup(config.geoDbPath!);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) sink += resolveClient(ips[n++ % ips.length], undefined, config.cloudFront, lookup).country?.length ?? 0;
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

function pipelineRound(reqs: BenchRequest[], config: PipelineConfig, ms: number): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 5; i++) {
      const q = reqs[n++ % reqs.length]!;
      const r = processRequest(
        {
          body: q.body,
          contentType: 'text/plain;charset=UTF-8',
          userAgent: q.userAgent,
          sourceIp: q.sourceIp,
          origin: 'https://www.example.com',
          receivedAt: new Date(),
        },
        config,
      );
      sink += packLines(r.lines).length;
    }
    now = performance.now();
  }
  return ((now - start) * 1000) / n;
}

function timeNode(code: string): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, ...COLD_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node -e ${code} failed: ${r.stderr?.toString().slice(0, 500)}`);
  sink += r.stdout.length;
  return ms;
}

export async function runGeoBench(opts: { rounds?: number; coldRuns?: number; log?: (s: string) => void } = {}): Promise<GeoBench> {
  const rounds = opts.rounds ?? 9;
  const on = configFromEnv({ ...BENCH_ENV });
  const off = configFromEnv({ ...BENCH_ENV, GEO_DB_PATH: 'off' });
  const path = on.geoDbPath!;
  const table = geoTable(path);
  const ips = visitorAddresses(2_000);

  opts.log?.('geo: lookup per request ...');
  lookupRound(ips, on, 200);
  const lookup = Array.from({ length: rounds }, () => lookupRound(ips, on, 200));

  opts.log?.('geo: pipeline with and without the table ...');
  const pipeline = [1, 10].map((batch) => {
    const reqs = makeRequests(Math.max(20, Math.ceil(2000 / batch)), batch).map((q, i) => ({ ...q, sourceIp: ips[i % ips.length]! }));
    pipelineRound(reqs, on, 150);
    pipelineRound(reqs, off, 150);
    const a: number[] = [];
    const b: number[] = [];
    // Many short paired cells: a difference of ~1 us between two 30-200 us timings only shows in
    // the median of many pairs taken under the same conditions.
    for (let r = 0; r < rounds * 5; r++) {
      // Alternate which goes first, so neither always runs right after the other's garbage.
      if (r % 2) {
        b.push(pipelineRound(reqs, off, 60));
        a.push(pipelineRound(reqs, on, 60));
      } else {
        a.push(pipelineRound(reqs, on, 60));
        b.push(pipelineRound(reqs, off, 60));
      }
    }
    const deltas = a.map((x, i) => x - b[i]!);
    return { batch, geo_on: median(a), geo_off: median(b), delta: median(deltas) };
  });

  opts.log?.('geo: cold start with the first lookup ...');
  mkdirSync(OUT_DIR, { recursive: true });
  // The same build as the Lambda's (serverless.yml custom.esbuild), whose entry also re-exports
  // countryLookup: the child loads it as the Lambda loads its bundle, then makes the first lookup
  // as the handler's first request does (read the IPv4 part of the table, map it, search).
  const { entry, ...options } = esbuildOptionsFromServerless();
  await build({
    ...options,
    outfile: GEO_BUNDLE,
    logLevel: 'warning',
    stdin: {
      contents: `export * from './${relative(root, entry).replace(/\.ts$/, '')}';\nexport { countryLookup } from './handlers/lib/geo';\n`,
      resolveDir: root,
      loader: 'ts',
      sourcefile: 'bench-geo-entry.ts',
    },
  });
  const rel = (p: string) => `./${relative(root, p).split('\\').join('/')}`;
  const db = JSON.stringify(join(root, DEFAULT_GEO_DB));
  const req = `require('${rel(GEO_BUNDLE)}')`;
  const withGeo = `process.stdout.write(String(${req}.countryLookup(${db})('81.2.69.142')))`;
  const load = `const m=${req};const t=process.hrtime.bigint();m.countryLookup(${db})('81.2.69.142');process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const runs = opts.coldRuns ?? 21;
  timeNode('');
  timeNode(req);
  timeNode(withGeo); // page cache warm for all, as on a warm Lambda host
  const empty: number[] = [];
  const plain: number[] = [];
  const geo: number[] = [];
  for (let i = 0; i < runs; i++) {
    const order = [() => empty.push(timeNode('')), () => plain.push(timeNode(req)), () => geo.push(timeNode(withGeo))];
    for (let k = 0; k < 3; k++) order[(i + k) % 3]!();
  }
  const loadMs = Array.from({ length: 9 }, () => {
    const r = spawnSync(process.execPath, ['-e', load], { cwd: root, env: { ...process.env, ...COLD_ENV }, encoding: 'utf8' });
    const ms = Number(r.stdout);
    if (r.status !== 0 || !(ms > 0)) throw new Error(`first lookup failed: ${r.stderr.slice(0, 500)}`);
    return ms;
  });
  if (sink === -1) console.log(sink);
  return {
    table: {
      file: DEFAULT_GEO_DB,
      bytes: statSync(path).size,
      source: table.header.source,
      v4_ranges: table.header.v4,
      v6_ranges: table.header.v6,
    },
    lookup_us_per_request: median(lookup),
    lookup_us: stat(lookup),
    pipeline_us_per_request: pipeline,
    load_ms: stat(loadMs),
    cold_start: {
      runs,
      empty_ms: stat(empty),
      require_ms: stat(plain),
      require_and_first_lookup_ms: stat(geo),
      cold_start_ratio: median(plain) / median(empty),
      cold_start_ratio_geo: median(geo) / median(empty),
    },
    target_us_per_request: 2,
  };
}

if (require.main === module) {
  runGeoBench({ log: (s) => process.stderr.write(`${s}\n`) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 1)}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}

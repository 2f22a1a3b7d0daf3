/**
 * npm run cost -- --events-per-month N [--batch K] [--arch arm64|x86] [--put-ms MS] [--json]
 *
 * The monthly AWS bill of this product per service, from list prices (bench/prices.ts) and bytes
 * measured on real enriched rows (bench/fixtures.ts through handlers/lib/pipeline.ts), compared
 * with three other designs: one event per request, one event per Firehose record, and a REST API
 * writing straight to Firehose (the course lab). The model is explained in docs/cost.md.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import Table from 'cli-table3';
import { packRecords } from '../handlers/lib/pack';
import { processRequest, type StoredEvent } from '../handlers/lib/pipeline';
import { DEFAULT_OPTIONS, generate } from '../local/simulator/generate';
import { readServerless } from './coldstart';
import { benchConfig, makeRequests } from './fixtures';
import { timePerRequestUs } from './pipeline';
import { GB, PRICES, PRICES_CHECKED, PRICES_REGION, TB } from './prices';

/** The SDK's default batchSize (client-sdk/src/index.ts, docs/sdk.md). */
export const SDK_BATCH_SIZE = 20;
export const DEFAULT_EVENTS_PER_MONTH = 10_000_000;
/** Average month: 365.25 / 12 days. */
export const MONTH_SECONDS = 30.4375 * 86_400;
/** Lambda allocates one full vCPU at 1,769 MB and CPU in proportion below that (Lambda docs). */
const LAMBDA_FULL_VCPU_MB = 1_769;

/**
 * Assumptions that are not prices. Each is a stated guess or a measurement, used as a default and
 * overridable on the command line where it matters most.
 */
export const ASSUMPTIONS = {
  /** PutRecordBatch round trip from Lambda to Firehose in the same region (not measured here). */
  putMs: 20,
  /** middy + Powertools + response around the pipeline, per invocation. */
  handlerOverheadMs: 1,
  /** START/END/REPORT platform lines (~300 B) plus one Powertools EMF metrics line (~350 B). */
  logBytesPerInvocation: 650,
  /** Share of requests carrying at least one rejected event (simulator default: 1 %). */
  rejectShare: 0.01,
  /** One rejects row, as the handler writes it (reason + event snippet). */
  rejectRowBytes: 700,
  /** Saved queries each run once a day over the last 7 days (a daily dashboard). */
  queryRunsPerDay: 1,
  queryWindowDays: 7,
  /** EMF metrics the handler emits: EventsAccepted, EventsRejected, DeliveryFailed. */
  customMetrics: 3,
  /** S3 lifecycle leaves objects under 128 KB in Standard (the default since September 2024). */
  iaMinObjectBytes: 128 * 1024,
  /** S3 lifecycle transition requests into Standard-IA, per 1,000. */
  iaTransitionPerThousand: 0.01,
} as const;

export type Arch = 'arm64' | 'x86';

/** Bytes and times measured in this process; everything else in the model is arithmetic on these. */
export interface Measured {
  /** One stored row (enriched NDJSON line, with its '\n'), average over realistic fixtures. */
  rowBytes: number;
  /** One wire event as the SDK sends it, inside a request body. */
  wireEventBytes: number;
  /** Request envelope around the events (site_id, sent_at, brackets). */
  envelopeBytes: number;
  /** compressed / uncompressed for a gzip object of n rows (Firehose GZIP, level 6 assumed). */
  gzipRatio: (rowsPerObject: number) => number;
  /** Handler pipeline CPU time per request of k events on this machine, microseconds. */
  pipelineUsPerRequest: (k: number) => number;
  /** Average events per request in the simulator's realistic traffic (one request per page). */
  simulatedEventsPerRequest: number;
}

export interface DesignSpec {
  name: string;
  api: 'http' | 'rest';
  /** A Lambda function between API and Firehose (our design) or none (REST -> Firehose). */
  lambda: boolean;
  eventsPerRequest: number;
  /** 'request': all events of a request in one Firehose record (pack.ts); 1: one record per event. */
  eventsPerRecord: 'request' | 1;
  /** Stored bytes per event: enriched rows, or the raw wire event for the REST design. */
  rowBytes: number;
}

export interface Line {
  service: string;
  item: string;
  usd: number;
  /** Scales with events (true) or is a fixed or usage-dependent monthly amount (false). */
  perEvent: boolean;
}

export interface Bill {
  design: string;
  eventsPerMonth: number;
  arch: Arch;
  lines: Line[];
  totalUsd: number;
  /** Per-event lines only, per million events: the figure the design target is about. */
  perMillionUsd: number;
  facts: Record<string, number>;
}

export interface ModelOptions {
  eventsPerMonth: number;
  arch: Arch;
  putMs?: number;
  memoryMB: number;
  bufferSeconds: number;
  bufferMB: number;
  transitionDays: number;
  expirationDays: number;
  savedQueries: number;
  alarms: number;
}

/** The monthly bill of one design. Pure: measured figures and options in, dollars out. */
export function bill(design: DesignSpec, m: Measured, o: ModelOptions): Bill {
  const P = PRICES;
  const A = ASSUMPTIONS;
  const n = o.eventsPerMonth;
  const k = design.eventsPerRequest;
  const requests = n / k;
  const lines: Line[] = [];
  const add = (service: string, item: string, usd: number, perEvent = true) => lines.push({ service, item, usd, perEvent });

  // API Gateway: HTTP APIs are metered per 512 KB of request; our bodies are far below that.
  const bodyBytes = m.envelopeBytes + k * m.wireEventBytes;
  if (design.api === 'http') add('API Gateway', 'HTTP API requests', requests * Math.ceil(bodyBytes / P.apiGateway.httpMeterBytes) * P.apiGateway.httpPerMillion / 1e6);
  else add('API Gateway', 'REST API requests', requests * P.apiGateway.restPerMillion / 1e6);

  // Lambda: CPU time measured here, scaled to the share of a vCPU the memory size buys, plus the
  // PutRecordBatch wait; billed per 1 ms.
  let durationMs = 0;
  if (design.lambda) {
    const cpuShare = Math.min(1, o.memoryMB / LAMBDA_FULL_VCPU_MB);
    const cpuMs = m.pipelineUsPerRequest(Math.round(k)) / 1000 / cpuShare;
    durationMs = Math.ceil(cpuMs + A.handlerOverheadMs + (o.putMs ?? A.putMs));
    add('Lambda', 'requests', requests * P.lambda.requestPerMillion / 1e6);
    add('Lambda', `duration (${o.memoryMB} MB x ${durationMs} ms, ${o.arch})`, requests * (o.memoryMB / 1024) * (durationMs / 1000) * P.lambda.gbSecond[o.arch]);
  }

  // Firehose: every record is billed in 5 KB steps, so packing a request's events into one record
  // is what keeps this line small.
  const round5k = (b: number) => Math.ceil(b / P.firehose.recordRoundingBytes) * P.firehose.recordRoundingBytes;
  const eventsPerRecord = design.eventsPerRecord === 'request' ? k : 1;
  const records = n / eventsPerRecord;
  const billedEventBytes = records * round5k(eventsPerRecord * design.rowBytes);
  add('Firehose', `ingestion (${records >= n ? 'one record per event' : `${eventsPerRecord.toFixed(1)} events per record`}, 5 KB steps)`, (billedEventBytes / GB) * P.firehose.perGB);
  const rejectRequests = design.lambda ? requests * A.rejectShare : 0;
  if (design.lambda) add('Firehose', 'rejects stream', (rejectRequests * round5k(A.rejectRowBytes) / GB) * P.firehose.perGB);

  // S3 objects: Firehose writes one object per stream per buffer interval that received data (Poisson
  // arrivals at a steady rate: an upper bound, real traffic bunches into fewer windows), or per
  // buffer size when that fills first.
  const windows = MONTH_SECONDS / o.bufferSeconds;
  const rawBytes = n * design.rowBytes;
  const busyWindows = (perMonth: number) => windows * (1 - Math.exp(-perMonth / windows));
  const objects = Math.max(busyWindows(records), rawBytes / (o.bufferMB * 1024 * 1024));
  const rejectObjects = busyWindows(rejectRequests);
  add('S3', 'PUT (events objects)', (objects / 1000) * P.s3.putPerThousand);
  if (design.lambda) add('S3', 'PUT (rejects objects)', (rejectObjects / 1000) * P.s3.putPerThousand);

  // S3 storage at steady state: each month of data is kept expirationDays; objects of at least
  // 128 KB move to Standard-IA after transitionDays (with a transition fee), smaller ones stay.
  const rowsPerObject = Math.max(1, n / objects);
  const gz = m.gzipRatio(rowsPerObject);
  const storedBytes = rawBytes * gz;
  const objectBytes = storedBytes / objects;
  const monthsKept = o.expirationDays / 30.4375;
  const monthsStandard = Math.min(monthsKept, o.transitionDays / 30.4375);
  const toIa = objectBytes >= A.iaMinObjectBytes;
  const storageUsd = toIa
    ? (storedBytes / GB) * (monthsStandard * P.s3.standardGBMonth + (monthsKept - monthsStandard) * P.s3.standardIaGBMonth) + (objects / 1000) * A.iaTransitionPerThousand
    : (storedBytes / GB) * monthsKept * P.s3.standardGBMonth;
  add('S3', `storage (${monthsKept.toFixed(1)} months of gzip data${toIa ? ', Standard-IA after ' + o.transitionDays + ' d' : ', objects < 128 KB stay Standard'})`, storageUsd);

  if (design.lambda) add('CloudWatch', 'Lambda logs + EMF metrics lines', (requests * A.logBytesPerInvocation / GB) * P.cloudwatch.logsIngestPerGB);

  // Athena reads the gzip bytes of the partitions in range; cost depends on use, not on events.
  const queriesPerMonth = o.savedQueries * A.queryRunsPerDay * 30.4375;
  const scanBytes = Math.max(P.athena.minBytesPerQuery, storedBytes * (A.queryWindowDays / 30.4375));
  add('Athena', `${o.savedQueries} saved queries daily over ${A.queryWindowDays} days`, (queriesPerMonth * scanBytes / TB) * P.athena.perTB, false);

  if (design.lambda) {
    add('CloudWatch', `${A.customMetrics} custom metrics, ${o.alarms} alarms`, A.customMetrics * P.cloudwatch.metricMonth + o.alarms * P.cloudwatch.alarmMonth, false);
    add('Secrets Manager', 'visitor salt secret', P.secretsManager.secretMonth, false);
  }

  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  const perMillionUsd = (lines.filter((l) => l.perEvent).reduce((s, l) => s + l.usd, 0) / n) * 1e6;
  return {
    design: design.name, eventsPerMonth: n, arch: o.arch, lines, totalUsd, perMillionUsd,
    facts: {
      requests, records, lambda_billed_ms: durationMs, body_bytes: bodyBytes, row_bytes: design.rowBytes,
      s3_objects: objects, rows_per_object: rowsPerObject, gzip_ratio: gz, stored_gb: storedBytes / GB,
    },
  };
}

/** The four designs compared, at `k` events per request for the batching ones. */
export function designs(m: Measured, k: number): DesignSpec[] {
  return [
    { name: `this design (${fmtK(k)} events/request, one record per request)`, api: 'http', lambda: true, eventsPerRequest: k, eventsPerRecord: 'request', rowBytes: m.rowBytes },
    { name: 'one event per request', api: 'http', lambda: true, eventsPerRequest: 1, eventsPerRecord: 'request', rowBytes: m.rowBytes },
    { name: `one event per Firehose record (${fmtK(k)} events/request)`, api: 'http', lambda: true, eventsPerRequest: k, eventsPerRecord: 1, rowBytes: m.rowBytes },
    // The lab's REST API -> Firehose integration: one PutRecord per event, raw JSON stored, no enrichment.
    { name: 'REST API straight to Firehose (course lab)', api: 'rest', lambda: false, eventsPerRequest: 1, eventsPerRecord: 1, rowBytes: m.wireEventBytes + 1 },
  ];
}

const fmtK = (k: number) => (Number.isInteger(k) ? String(k) : k.toFixed(1));

/** Measures row sizes, gzip ratios and handler time from the real pipeline on bench fixtures. */
export function measure(opts: { timeMs?: number } = {}): Measured {
  const config = benchConfig();
  const reqs = makeRequests(100, SDK_BATCH_SIZE, Date.now(), 7);
  const rows: StoredEvent[] = [];
  let wire = 0;
  let envelope = 0;
  for (const q of reqs) {
    const r = processRequest({ body: q.body, contentType: 'text/plain', userAgent: q.userAgent, sourceIp: q.sourceIp, origin: 'https://www.example.com', receivedAt: new Date() }, config);
    if (r.status !== 200 || r.events.length !== SDK_BATCH_SIZE) throw new Error('cost model fixtures must be accepted whole');
    rows.push(...r.events);
    const parsed = JSON.parse(q.body) as { events: unknown[] };
    const eventsBytes = parsed.events.reduce<number>((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0);
    wire += eventsBytes;
    envelope += Buffer.byteLength(q.body) - eventsBytes;
  }
  const ndjson = Buffer.concat(packRecords(rows));
  const lines = ndjson.toString('utf8').split('\n').filter(Boolean).map((l) => `${l}\n`);
  const ratioCache = new Map<number, number>();
  const gzipRatio = (perObject: number): number => {
    // Ratios flatten out past a few thousand rows: measure on up to all 2,000 rows, in objects of that size.
    const size = Math.max(1, Math.min(lines.length, Math.round(perObject)));
    const hit = ratioCache.get(size);
    if (hit !== undefined) return hit;
    let raw = 0;
    let packed = 0;
    for (let i = 0; i + size <= lines.length && i < lines.length; i += size) {
      const chunk = Buffer.from(lines.slice(i, i + size).join(''));
      raw += chunk.length;
      packed += gzipSync(chunk).length;
    }
    const ratio = packed / raw;
    ratioCache.set(size, ratio);
    return ratio;
  };
  const timeCache = new Map<number, number>();
  const pipelineUsPerRequest = (k: number): number => {
    const kk = Math.max(1, k);
    let t = timeCache.get(kk);
    if (t === undefined) timeCache.set(kk, (t = timePerRequestUs(kk, opts.timeMs ?? 300)));
    return t;
  };
  // Realistic request sizes: the simulator sends one batch per page (page view, clicks, engagement).
  const sim = generate({ ...DEFAULT_OPTIONS, end: '2026-11-01', visitors: 1_000 }).requests.filter((r) => r.rawBody === undefined && !r.firehoseCopy);
  const simulatedEventsPerRequest = sim.reduce((s, r) => s + r.events.length, 0) / sim.length;
  return {
    rowBytes: ndjson.length / rows.length,
    wireEventBytes: wire / rows.length,
    envelopeBytes: envelope / reqs.length,
    gzipRatio,
    pipelineUsPerRequest,
    simulatedEventsPerRequest,
  };
}

/** Model options from serverless.yml and athena-queries/ (so the bill follows the config). */
export function modelOptions(eventsPerMonth: number, arch: Arch, putMs?: number): ModelOptions {
  const sls = readServerless();
  const root = join(__dirname, '..');
  return {
    eventsPerMonth, arch, putMs,
    memoryMB: Number(sls.provider.memorySize),
    bufferSeconds: Number(sls.custom.firehose.intervalSeconds),
    bufferMB: Number(sls.custom.firehose.sizeMB),
    transitionDays: Number(sls.params.default.dataTransitionDays),
    expirationDays: Number(sls.params.default.dataExpirationDays),
    savedQueries: readdirSync(join(root, 'athena-queries')).filter((f) => f.endsWith('.sql')).length,
    alarms: Object.values(sls.resources.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && (r as { Condition?: string }).Condition !== 'IsParquet').length, // default JSON output: the Parquet-only alarm is not created
  };
}

export interface CostReport {
  prices_checked: string;
  region: string;
  events_per_month: number;
  batch: number;
  arch: Arch;
  measured: { row_bytes: number; wire_event_bytes: number; gzip_ratio_at_default: number; simulated_events_per_request: number; pipeline_us_per_request: number };
  bills: Bill[];
  /** Our design at the SDK's batch size: the target figure. */
  cost_per_million_events_usd: number;
  /** Our design at the simulator's events per request (one flush per page). */
  cost_per_million_events_usd_simulated_traffic: number;
}

/** Runs the whole model: measure, then bill every design. */
export function costReport(o: { eventsPerMonth?: number; batch?: number; arch?: Arch; putMs?: number; measured?: Measured } = {}): CostReport {
  const m = o.measured ?? measure();
  const n = o.eventsPerMonth ?? DEFAULT_EVENTS_PER_MONTH;
  const k = o.batch ?? SDK_BATCH_SIZE;
  const arch = o.arch ?? 'arm64';
  const opts = modelOptions(n, arch, o.putMs);
  const bills = designs(m, k).map((d) => bill(d, m, opts));
  const simulated = bill({ ...designs(m, m.simulatedEventsPerRequest)[0]!, name: `this design, simulated traffic (${m.simulatedEventsPerRequest.toFixed(1)} events/request)` }, m, opts);
  return {
    prices_checked: PRICES_CHECKED, region: PRICES_REGION, events_per_month: n, batch: k, arch,
    measured: {
      row_bytes: m.rowBytes, wire_event_bytes: m.wireEventBytes, gzip_ratio_at_default: bills[0]!.facts.gzip_ratio!,
      simulated_events_per_request: m.simulatedEventsPerRequest, pipeline_us_per_request: m.pipelineUsPerRequest(Math.round(k)),
    },
    bills: [bills[0]!, simulated, ...bills.slice(1)],
    cost_per_million_events_usd: bills[0]!.perMillionUsd,
    cost_per_million_events_usd_simulated_traffic: simulated.perMillionUsd,
  };
}

const usd = (x: number) => (x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(4)}`);

/** Terminal tables: the bill per service for our design, then every design side by side. */
export function formatCost(r: CostReport): string {
  const ours = r.bills[0]!;
  const t1 = new Table({ head: ['service', 'item', 'USD / month'], colAligns: ['left', 'left', 'right'], style: { head: [], border: [] } });
  for (const l of ours.lines) t1.push([l.service, l.item + (l.perEvent ? '' : ' (fixed/usage)'), usd(l.usd)]);
  t1.push(['', 'total', usd(ours.totalUsd)]);
  const t2 = new Table({ head: ['design', 'per million events', 'month total', 'requests', 'Firehose records', 'S3 objects'], colAligns: ['left', 'right', 'right', 'right', 'right', 'right'], style: { head: [], border: [] } });
  for (const b of r.bills) t2.push([b.design, usd(b.perMillionUsd), usd(b.totalUsd), Math.round(b.facts.requests!).toLocaleString('en-US'), Math.round(b.facts.records!).toLocaleString('en-US'), Math.round(b.facts.s3_objects!).toLocaleString('en-US')]);
  const m = r.measured;
  return [
    `${r.events_per_month.toLocaleString('en-US')} events/month, ${r.batch} events/request, Lambda ${r.arch}; list prices ${r.region}, checked ${r.prices_checked} (bench/prices.ts)`,
    `measured: ${m.row_bytes.toFixed(0)} B per stored row, ${m.wire_event_bytes.toFixed(0)} B per wire event, gzip ratio ${m.gzip_ratio_at_default.toFixed(3)} at ${Math.round(ours.facts.rows_per_object!)} rows/object, handler ${m.pipeline_us_per_request.toFixed(0)} us/request here, simulator ${m.simulated_events_per_request.toFixed(2)} events/request`,
    t1.toString(),
    t2.toString(),
    'per million events = lines that scale with events (API, Lambda, Firehose, S3, logs); Athena, metrics, alarms and the secret are monthly amounts (see docs/cost.md).',
    '',
  ].join('\n');
}

const USAGE = 'usage: npm run cost -- --events-per-month N [--batch K] [--arch arm64|x86] [--put-ms MS] [--json]';

function main(): number {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'events-per-month': { type: 'string' }, batch: { type: 'string' }, arch: { type: 'string' },
        'put-ms': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    process.stderr.write(`cost: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const num = (v: string | undefined, name: string, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x < min || x > max) throw new RangeError(`--${name} must be a number from ${min} to ${max}, got ${v}`);
    return x;
  };
  try {
    const arch = (values.arch ?? 'arm64') as Arch;
    if (arch !== 'arm64' && arch !== 'x86') throw new RangeError(`--arch must be arm64 or x86, got ${values.arch}`);
    const r = costReport({
      eventsPerMonth: num(values['events-per-month'], 'events-per-month', 1, 1e13),
      batch: num(values.batch, 'batch', 1, 500),
      putMs: num(values['put-ms'], 'put-ms', 0, 10_000),
      arch,
    });
    process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : formatCost(r));
    return 0;
  } catch (e) {
    process.stderr.write(`cost: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
}

if (require.main === module) process.exitCode = main();

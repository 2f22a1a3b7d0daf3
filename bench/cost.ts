/**
 * npm run cost -- --events-per-month N [--batch K] [--browser-batch K] [--arch arm64|x86] [--put-ms MS] [--memory MB] [--json]
 *
 * The monthly AWS bill of this product per service, from list prices (local/prices.ts) and bytes
 * measured on real enriched rows (bench/fixtures.ts through handlers/lib/pipeline.ts), compared
 * with three other designs: one event per request, one event per Firehose record, and a REST API
 * writing straight to Firehose (the course lab). The Lambda's CPU time per invocation, cold start
 * and log bytes are measured on the real bundle (bench/lambda.ts); events per request on real
 * browsing come from the last Chromium run on record (bench/browsing.ts, bench/results.json
 * `browsing`). The model is explained in docs/cost.md.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import Table from 'cli-table3';
import { packRecords } from '../handlers/lib/pack';
import { processRequest, type StoredEvent } from '../handlers/lib/pipeline';
import { DEFAULT_OPTIONS, generate } from '../local/simulator/generate';
import { readServerless } from './coldstart';
import { benchConfig, makeRequests } from './fixtures';
import { measureLambda, type LambdaInvocationCost } from './lambda';
import { GB, PRICES, PRICES_CHECKED, PRICES_REGION, TB } from '../local/prices';

/** The SDK's default batchSize (client-sdk/src/index.ts, docs/sdk.md). */
export const SDK_BATCH_SIZE = 20;
export const DEFAULT_EVENTS_PER_MONTH = 10_000_000;
/** Average month: 365.25 / 12 days. */
export const MONTH_SECONDS = 30.4375 * 86_400;
/**
 * Lambda allocates CPU in proportion to memory, one vCPU's worth at 1,769 MB (AWS Lambda developer
 * guide, "Configure Lambda function memory").
 */
export const LAMBDA_FULL_VCPU_MB = 1_769;
/** Memory sizes priced side by side (MB); 128 MB is left out: the measured peak RSS is about that. */
export const MEMORY_SIZES = [256, 512, 1024] as const;

/**
 * Assumptions that are not prices. Each is a stated guess or a measurement, used as a default and
 * overridable on the command line where it matters most.
 */
export const ASSUMPTIONS = {
  /** PutRecordBatch round trip from Lambda to Firehose in the same region (not measured here). */
  putMs: 20,
  /**
   * Share of invocations that start a new execution environment. Since August 2025 the INIT phase
   * is billed like the invocation (AWS Compute Blog, "AWS Lambda standardizes billing for INIT
   * Phase", which also gives "INITs typically occur in under 1% of invocations").
   */
  coldStartShare: 0.01,
  /** Share of requests carrying at least one rejected event (simulator default: 1 %). */
  rejectShare: 0.01,
  /** One rejects row, as the handler writes it (reason + event snippet). */
  rejectRowBytes: 700,
  /** Saved queries each run once a day over the last 7 days (a daily dashboard). */
  queryRunsPerDay: 1,
  queryWindowDays: 7,
  /** EMF metrics the handler emits: EventsAccepted, EventsRejected, DeliveryFailed. */
  customMetrics: 3,
  /**
   * Execution environments that each write the per-interval metrics line (handlers/ingest-metrics.ts)
   * in a busy interval: this many times the mean concurrency (requests/s x billed duration), and never
   * fewer than `metricsMinEnvironments`. Lambda reuses warm environments and does not say how many
   * it keeps; at a steady rate the busy ones are about the concurrency, so 2x is an upper bound.
   */
  metricsEnvironmentsPerConcurrency: 2,
  metricsMinEnvironments: 2,
  /** S3 lifecycle leaves objects under 128 KB in Standard (the default since September 2024). */
  iaMinObjectBytes: 128 * 1024,
  /** S3 lifecycle transition requests into Standard-IA, per 1,000. */
  iaTransitionPerThousand: 0.01,
  /**
   * Bytes of one answer to a POST through the edge: the status line, API Gateway's and CloudFront's
   * response headers (CORS, date, request ids, Via, X-Cache) and the small JSON body. Not measurable
   * without AWS; a generous round figure (the data-out line it drives is ~1 % of the edge's).
   */
  edgeResponseBytes: 600,
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
  /**
   * CPU time of one warm invocation of the real bundle (middy, Powertools, pipeline, AWS SDK) for a
   * request of k events, microseconds at one full core of this machine (bench/lambda.ts).
   */
  invocationCpuUs: (k: number) => number;
  /** CPU time of a cold start (loading the bundle plus the first invocation), ms at one full core. */
  coldStartCpuMs: number;
  /** Bytes the function's own code logs per successful invocation, measured (nothing since the metrics are written per interval). */
  appLogBytesPerInvocation: number;
  /**
   * The EventsAccepted / EventsRejected EMF line, written at most once per interval per execution
   * environment rather than per invocation: its measured bytes and the interval (bench/lambda.ts).
   */
  metricsLine?: { bytes: number; intervalSeconds: number };
  /** Average events per request in the simulator's realistic traffic (one request per page). */
  simulatedEventsPerRequest: number;
  /** Events per request measured in Chromium on scripted visits (bench/browsing.ts), when on record. */
  browserEventsPerRequest?: number;
}

/** The ingest function's Lambda LoggingConfig (serverless.yml functions.ingest.logs). */
export interface Logging {
  format: 'Text' | 'JSON';
  /** Lambda's own START/END/REPORT lines: INFO (default) or WARN (only failures). */
  systemLevel: 'DEBUG' | 'INFO' | 'WARN';
  /** The function's own lines: anything below this level is dropped by Lambda. */
  applicationLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
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
  logging: Logging;
  /** CloudFront in front of the API (serverless.yml param `edge`, on by default): its lines for designs with our Lambda. */
  edge?: boolean;
  /** The optional WAF web ACL on the edge (param `edgeWafRateLimit`, off by default). */
  waf?: boolean;
}

// A request id as Lambda prints it, and report figures of a typical invocation: the lines' length
// hardly depends on them.
const RID = '8f5b1c2d-3e4f-4a5b-9c6d-0123456789ab';

/**
 * Bytes of Lambda's own log lines per successful invocation. Text format: START, END and REPORT
 * (formats as in the Lambda developer guide's logging pages); the log level cannot filter them.
 * JSON format: at system level INFO (the default), the platform.start and platform.report objects
 * (Telemetry API event schema); at WARN none, since a successful invocation produces no system log
 * at WARN or above ("Log-level filtering", Lambda developer guide: the default INFO level is what
 * sends the start and report messages).
 */
export function platformLogBytes(logging: Logging, memoryMB: number): number {
  const report = { durationMs: 23.45, billedDurationMs: 24, memorySizeMB: memoryMB, maxMemoryUsedMB: 90 };
  const lines =
    logging.format === 'Text'
      ? [
          `START RequestId: ${RID} Version: $LATEST\n`,
          `END RequestId: ${RID}\n`,
          `REPORT RequestId: ${RID}\tDuration: ${report.durationMs} ms\tBilled Duration: ${report.billedDurationMs} ms\tMemory Size: ${memoryMB} MB\tMax Memory Used: ${report.maxMemoryUsedMB} MB\t\n`,
        ]
      : logging.systemLevel === 'WARN'
        ? []
        : [
            `${JSON.stringify({ time: '2026-12-03T10:00:00.000Z', type: 'platform.start', record: { requestId: RID, version: '$LATEST' } })}\n`,
            `${JSON.stringify({ time: '2026-12-03T10:00:00.024Z', type: 'platform.report', record: { requestId: RID, metrics: report, status: 'success' } })}\n`,
          ];
  return lines.reduce((n, l) => n + Buffer.byteLength(l), 0);
}

/**
 * Bytes of the function's own logs that reach CloudWatch per successful invocation. Lambda gives a
 * JSON line without a "level" key the level INFO ("Log-level filtering"), so the Powertools EMF
 * line (which has none) is dropped, and the metrics with it, below INFO.
 */
export function appLogBytes(logging: Logging, measuredBytes: number): number {
  if (logging.format === 'Text') return measuredBytes;
  return ['TRACE', 'DEBUG', 'INFO'].includes(logging.applicationLevel) ? measuredBytes : 0;
}

/**
 * Metrics lines per invocation: each busy execution environment writes one per interval (ASSUMPTIONS:
 * environments from the mean concurrency), capped at one per invocation at low traffic.
 */
export function metricsLinesPerRequest(m: Measured, requestsPerMonth: number, billedMs: number): number {
  if (!m.metricsLine || requestsPerMonth <= 0) return 0;
  const A = ASSUMPTIONS;
  const concurrency = (requestsPerMonth / MONTH_SECONDS) * (billedMs / 1000);
  const environments = Math.max(A.metricsMinEnvironments, Math.ceil(A.metricsEnvironmentsPerConcurrency * concurrency));
  const lines = environments * (MONTH_SECONDS / m.metricsLine.intervalSeconds);
  return Math.min(1, lines / requestsPerMonth);
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
  if (design.api === 'http')
    add(
      'API Gateway',
      'HTTP API requests',
      (requests * Math.ceil(bodyBytes / P.apiGateway.httpMeterBytes) * P.apiGateway.httpPerMillion) / 1e6,
    );
  else add('API Gateway', 'REST API requests', (requests * P.apiGateway.restPerMillion) / 1e6);

  // Lambda: CPU time of a whole invocation measured here, scaled to the share of a vCPU the memory
  // size buys, plus the PutRecordBatch wait; billed per 1 ms. Cold starts bill their INIT too.
  let durationMs = 0;
  let initMs = 0;
  if (design.lambda) {
    const cpuShare = Math.min(1, o.memoryMB / LAMBDA_FULL_VCPU_MB);
    const cpuMs = m.invocationCpuUs(k) / 1000 / cpuShare;
    durationMs = Math.ceil(cpuMs + (o.putMs ?? A.putMs));
    initMs = Math.ceil(m.coldStartCpuMs / cpuShare);
    const gbSecond = (o.memoryMB / 1024) * P.lambda.gbSecond[o.arch];
    add('Lambda', 'requests', (requests * P.lambda.requestPerMillion) / 1e6);
    add('Lambda', `duration (${o.memoryMB} MB x ${durationMs} ms, ${o.arch})`, requests * (durationMs / 1000) * gbSecond);
    add(
      'Lambda',
      `INIT of cold starts (${(100 * A.coldStartShare).toFixed(0)} % of invocations x ${initMs} ms)`,
      requests * A.coldStartShare * (initMs / 1000) * gbSecond,
    );
  }

  // Firehose: every record is billed in 5 KB steps, so packing a request's events into one record
  // is what keeps this line small.
  const round5k = (b: number) => Math.ceil(b / P.firehose.recordRoundingBytes) * P.firehose.recordRoundingBytes;
  const eventsPerRecord = design.eventsPerRecord === 'request' ? k : 1;
  const records = n / eventsPerRecord;
  const billedEventBytes = records * round5k(eventsPerRecord * design.rowBytes);
  add(
    'Firehose',
    `ingestion (${records >= n ? 'one record per event' : `${eventsPerRecord.toFixed(1)} events per record`}, 5 KB steps)`,
    (billedEventBytes / GB) * P.firehose.perGB,
  );
  const rejectRequests = design.lambda ? requests * A.rejectShare : 0;
  if (design.lambda) add('Firehose', 'rejects stream', ((rejectRequests * round5k(A.rejectRowBytes)) / GB) * P.firehose.perGB);

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
    ? (storedBytes / GB) * (monthsStandard * P.s3.standardGBMonth + (monthsKept - monthsStandard) * P.s3.standardIaGBMonth) +
      (objects / 1000) * A.iaTransitionPerThousand
    : (storedBytes / GB) * monthsKept * P.s3.standardGBMonth;
  add(
    'S3',
    `storage (${monthsKept.toFixed(1)} months of gzip data${toIa ? `, Standard-IA after ${o.transitionDays} d` : ', objects < 128 KB stay Standard'})`,
    storageUsd,
  );

  // The edge (CloudFront in front of the HTTP API): every POST is an HTTPS request there too, its body
  // crosses to the origin, its answer goes out. The SDK script itself is a cached GET per visitor,
  // not per event: see edgeScriptUsd and docs/cost.md "Edge".
  let edgeRequests = 0;
  let edgeOutBytes = 0;
  if (design.lambda && o.edge) {
    edgeRequests = requests;
    edgeOutBytes = requests * A.edgeResponseBytes;
    add('CloudFront', 'HTTPS requests (POST /v1/events)', (requests / 1e4) * P.cloudfront.httpsPer10k);
    add('CloudFront', 'data transfer to origin (request bodies)', ((requests * bodyBytes) / GB) * P.cloudfront.toOriginPerGB);
    add('CloudFront', `data transfer out (answers, ${A.edgeResponseBytes} B each)`, (edgeOutBytes / GB) * P.cloudfront.outPerGB);
    if (o.waf) {
      add('AWS WAF', 'requests inspected', (requests / 1e6) * P.waf.perMillionRequests);
      add('AWS WAF', 'web ACL + 1 rate-based rule', P.waf.webAclMonth + P.waf.ruleMonth, false);
    }
  }

  // The metrics line: once per interval per busy environment, and never more often than once per invocation.
  const metricsLinesPerInvocation = design.lambda ? metricsLinesPerRequest(m, requests, durationMs) : 0;
  const logBytes = design.lambda
    ? appLogBytes(o.logging, m.appLogBytesPerInvocation + metricsLinesPerInvocation * (m.metricsLine?.bytes ?? 0)) +
      platformLogBytes(o.logging, o.memoryMB)
    : 0;
  if (design.lambda)
    add(
      'CloudWatch',
      `Lambda logs (${Math.round(logBytes)} B per invocation; ${o.logging.format}, system level ${o.logging.systemLevel})`,
      ((requests * logBytes) / GB) * P.cloudwatch.logsIngestPerGB,
    );

  // Athena reads the gzip bytes of the partitions in range; cost depends on use, not on events.
  const queriesPerMonth = o.savedQueries * A.queryRunsPerDay * 30.4375;
  const scanBytes = Math.max(P.athena.minBytesPerQuery, storedBytes * (A.queryWindowDays / 30.4375));
  add(
    'Athena',
    `${o.savedQueries} saved queries daily over ${A.queryWindowDays} days`,
    ((queriesPerMonth * scanBytes) / TB) * P.athena.perTB,
    false,
  );

  if (design.lambda) {
    add(
      'CloudWatch',
      `${A.customMetrics} custom metrics, ${o.alarms} alarms`,
      A.customMetrics * P.cloudwatch.metricMonth + o.alarms * P.cloudwatch.alarmMonth,
      false,
    );
    add('Secrets Manager', 'visitor salt secret', P.secretsManager.secretMonth, false);
    // The generated x-origin-verify value the distribution sends the API (serverless.yml EdgeOriginSecret).
    if (o.edge) add('Secrets Manager', 'edge origin secret', P.secretsManager.secretMonth, false);
  }

  const totalUsd = lines.reduce((s, l) => s + l.usd, 0);
  const perMillionUsd = (lines.filter((l) => l.perEvent).reduce((s, l) => s + l.usd, 0) / n) * 1e6;
  return {
    design: design.name,
    eventsPerMonth: n,
    arch: o.arch,
    lines,
    totalUsd,
    perMillionUsd,
    facts: {
      requests,
      records,
      lambda_billed_ms: durationMs,
      lambda_init_ms: initMs,
      log_bytes_per_invocation: logBytes,
      metrics_lines_per_invocation: metricsLinesPerInvocation,
      body_bytes: bodyBytes,
      row_bytes: design.rowBytes,
      s3_objects: objects,
      rows_per_object: rowsPerObject,
      gzip_ratio: gz,
      stored_gb: storedBytes / GB,
      edge_requests: edgeRequests,
      edge_free_tier_usd: edgeFreeTierUsd(edgeRequests, edgeOutBytes),
    },
  };
}

/**
 * What CloudFront's always-free tier takes off the edge's lines at this volume (10 M requests and
 * 1 TB out each month; aws.amazon.com/cloudfront/pricing "Included in Always Free Tier"). The bills
 * and the per-million figure stay at list price, as every other line does; this says how much of
 * the edge a small site does not pay.
 */
export function edgeFreeTierUsd(requests: number, outBytes: number, scriptRequests = 0, scriptBytes = 0): number {
  const C = PRICES.cloudfront;
  const freeRequests = Math.min(requests + scriptRequests, C.freeRequests);
  const freeOut = Math.min(outBytes + scriptBytes, C.freeOutBytes);
  return (freeRequests / 1e4) * C.httpsPer10k + (freeOut / GB) * C.outPerGB;
}

/**
 * The SDK script through the edge, per month: one cached GET per visitor of `scriptBytes` (Brotli
 * size of the full build: the edge compresses it). With year-long immutable caching a returning
 * visitor's browser asks again only after a new release or an evicted cache, so one download per
 * visitor per month is an upper bound. Not per event: it is not in the per-million figure.
 */
export function edgeScriptUsd(visitorsPerMonth: number, scriptBytes: number): number {
  const C = PRICES.cloudfront;
  return (visitorsPerMonth / 1e4) * C.httpsPer10k + ((visitorsPerMonth * (scriptBytes + ASSUMPTIONS.edgeResponseBytes)) / GB) * C.outPerGB;
}

/** AWS WAF on the edge at `requests` a month: the web ACL and its one rule, plus every request inspected. */
export function wafMonthUsd(requests: number): number {
  return PRICES.waf.webAclMonth + PRICES.waf.ruleMonth + (requests / 1e6) * PRICES.waf.perMillionRequests;
}

/** The four designs compared, at `k` events per request for the batching ones. */
export function designs(m: Measured, k: number): DesignSpec[] {
  return [
    {
      name: `this design (${fmtK(k)} events/request, one record per request)`,
      api: 'http',
      lambda: true,
      eventsPerRequest: k,
      eventsPerRecord: 'request',
      rowBytes: m.rowBytes,
    },
    { name: 'one event per request', api: 'http', lambda: true, eventsPerRequest: 1, eventsPerRecord: 'request', rowBytes: m.rowBytes },
    {
      name: `one event per Firehose record (${fmtK(k)} events/request)`,
      api: 'http',
      lambda: true,
      eventsPerRequest: k,
      eventsPerRecord: 1,
      rowBytes: m.rowBytes,
    },
    // The lab's REST API -> Firehose integration: one PutRecord per event, raw JSON stored, no enrichment.
    {
      name: 'REST API straight to Firehose (course lab)',
      api: 'rest',
      lambda: false,
      eventsPerRequest: 1,
      eventsPerRecord: 1,
      rowBytes: m.wireEventBytes + 1,
    },
  ];
}

const fmtK = (k: number) => (Number.isInteger(k) ? String(k) : k.toFixed(1));

/**
 * Measures row sizes and gzip ratios from the real pipeline on bench fixtures, and the Lambda's CPU,
 * cold start and log bytes from the real bundle (bench/lambda.ts, a few seconds).
 */
export async function measure(
  opts: { lambda?: LambdaInvocationCost; invocations?: number; browserEventsPerRequest?: number; log?: (s: string) => void } = {},
): Promise<Measured> {
  const config = benchConfig();
  const reqs = makeRequests(100, SDK_BATCH_SIZE, Date.now(), 7);
  const rows: StoredEvent[] = [];
  let wire = 0;
  let envelope = 0;
  for (const q of reqs) {
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
    if (r.status !== 200 || r.events.length !== SDK_BATCH_SIZE) throw new Error('cost model fixtures must be accepted whole');
    rows.push(...r.events);
    const parsed = JSON.parse(q.body) as { events: unknown[] };
    const eventsBytes = parsed.events.reduce<number>((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0);
    wire += eventsBytes;
    envelope += Buffer.byteLength(q.body) - eventsBytes;
  }
  const ndjson = Buffer.concat(packRecords(rows));
  const lines = ndjson
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => `${l}\n`);
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
  // Realistic request sizes: the simulator sends one batch per page (page view, clicks, engagement).
  const sim = generate({ ...DEFAULT_OPTIONS, end: '2026-11-01', visitors: 1_000 }).requests.filter(
    (r) => r.rawBody === undefined && !r.firehoseCopy,
  );
  const simulatedEventsPerRequest = sim.reduce((s, r) => s + r.events.length, 0) / sim.length;
  const lambda =
    opts.lambda ?? (await measureLambda({ batches: [1, 3, 10, 20, 500], invocations: opts.invocations ?? 200, log: opts.log }));
  return {
    rowBytes: ndjson.length / rows.length,
    wireEventBytes: wire / rows.length,
    envelopeBytes: envelope / reqs.length,
    gzipRatio,
    invocationCpuUs: interpolate(Object.entries(lambda.invocation_cpu_mean_us).map(([k, us]) => [Number(k), us])),
    coldStartCpuMs: lambda.init_cpu_ms + lambda.first_invocation_cpu_ms,
    appLogBytesPerInvocation: lambda.app_log_bytes_per_invocation,
    metricsLine: { bytes: lambda.metrics_line_bytes, intervalSeconds: lambda.metrics_interval_s },
    simulatedEventsPerRequest,
    browserEventsPerRequest: opts.browserEventsPerRequest ?? readBrowsing()?.value.events_per_request,
  };
}

/** Straight lines between measured (x, y) points, flat beyond the ends. */
export function interpolate(points: [number, number][]): (x: number) => number {
  const p = [...points].sort((a, b) => a[0] - b[0]);
  if (!p.length) throw new Error('interpolate needs at least one point');
  return (x) => {
    if (x <= p[0]![0]) return p[0]![1];
    for (let i = 1; i < p.length; i++) {
      const [x1, y1] = p[i]!;
      const [x0, y0] = p[i - 1]!;
      if (x <= x1) return y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
    }
    return p[p.length - 1]![1];
  };
}

/** The last browsing run on record in bench/results.json (npm run bench -- --only-slow --browsing). */
export function readBrowsing(): { measured_at: string; value: { events_per_request: number } } | undefined {
  const file = join(__dirname, 'results.json');
  if (!existsSync(file)) return undefined;
  const b = (JSON.parse(readFileSync(file, 'utf8')) as { browsing?: { measured_at: string; value: { events_per_request: number } } })
    .browsing;
  return b && b.value.events_per_request > 0 ? b : undefined;
}

/** The ingest function's logging settings, function level first, then the provider's (as the framework does). */
export function loggingOf(sls: ReturnType<typeof readServerless>): Logging {
  const l = sls.functions.ingest.logs ?? sls.provider.logs?.lambda ?? {};
  const format = l.logFormat === 'JSON' ? 'JSON' : 'Text';
  // Lambda's defaults once the format is JSON: INFO for both (Text cannot filter by level).
  return {
    format,
    systemLevel: (l.systemLogLevel ?? 'INFO') as Logging['systemLevel'],
    applicationLevel: (l.applicationLogLevel ?? 'INFO') as Logging['applicationLevel'],
  };
}

/** Model options from serverless.yml and athena-queries/ (so the bill follows the config). */
export function modelOptions(eventsPerMonth: number, arch: Arch, putMs?: number, memoryMB?: number): ModelOptions {
  const sls = readServerless();
  const root = join(__dirname, '..');
  return {
    eventsPerMonth,
    arch,
    putMs,
    // Function level wins over the provider's, as in the framework; 1,024 MB is its default.
    memoryMB: Number(memoryMB ?? sls.functions.ingest.memorySize ?? sls.provider.memorySize ?? 1024),
    bufferSeconds: Number(sls.custom.firehose.intervalSeconds),
    bufferMB: Number(sls.custom.firehose.sizeMB),
    transitionDays: Number(sls.params.default.dataTransitionDays),
    expirationDays: Number(sls.params.default.dataExpirationDays),
    savedQueries: readdirSync(join(root, 'athena-queries')).filter((f) => f.endsWith('.sql')).length,
    logging: loggingOf(sls),
    alarms: Object.values(sls.resources.Resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && (r as { Condition?: string }).Condition !== 'IsParquet',
    ).length, // default JSON output: the Parquet-only alarm is not created
    edge: String((sls.params.default as Record<string, unknown>).edge ?? 'true') === 'true',
    waf: String((sls.params.default as Record<string, unknown>).edgeWafRateLimit ?? '') !== '',
  };
}

/** One memory size priced at the browser (or simulated) events per request and at full batches. */
export interface MemoryOption {
  memory_mb: number;
  cpu_share: number;
  /** Modelled billed duration of a warm invocation at the traffic's events per request, and of a 500-event batch. */
  billed_ms: number;
  billed_ms_500: number;
  /** Modelled INIT of a cold start (bundle load + first invocation, CPU divided by the share: an upper bound). */
  cold_start_ms: number;
  /** Measured peak RSS of the largest batch against this size. */
  rss_headroom: number;
  /** Lambda lines only (requests, duration, INIT), per million events, at that traffic and at full batches. */
  lambda_per_million_usd: number;
  lambda_per_million_usd_full_batches: number;
  /** The whole per-million figure at that traffic. */
  per_million_usd: number;
}

export interface CostReport {
  measured_at: string;
  prices_checked: string;
  region: string;
  events_per_month: number;
  batch: number;
  arch: Arch;
  memory_mb: number;
  /** The PutRecordBatch round trip assumed (not measurable without AWS). */
  put_ms: number;
  logging: Logging & { app_log_bytes: number; platform_log_bytes: number };
  measured: {
    row_bytes: number;
    wire_event_bytes: number;
    gzip_ratio_at_default: number;
    simulated_events_per_request: number;
    /** CPU of a warm invocation at `batch` events (mean), and of a cold start, at one full core here. */
    invocation_cpu_us: number;
    cold_start_cpu_ms: number;
    /** The measured application log line(s) per invocation, before Lambda's level filter. */
    app_log_bytes_measured: number;
    /** The metrics line written per interval per execution environment, and its interval. */
    metrics_line_bytes: number;
    metrics_interval_s: number;
  };
  bills: Bill[];
  /** Our design at the SDK's batch size: the target figure. */
  cost_per_million_events_usd: number;
  /** Our design at the simulator's events per request (one flush per page). */
  cost_per_million_events_usd_simulated_traffic: number;
  /** Events per request measured in Chromium (bench/browsing.ts) and our design's bill at that figure. */
  browser_events_per_request?: number;
  browser_measured_at?: string;
  cost_per_million_events_usd_browser_traffic?: number;
  /** Each memory size of MEMORY_SIZES priced at the browser figure (the simulator's without one). */
  memory_sizes: { events_per_request: number; traffic: 'browser' | 'simulated'; options: MemoryOption[] };
  /** Peak RSS measured with the largest batch (bench/lambda.ts), MB. */
  max_rss_mb: number;
  /** The edge (CloudFront): as serverless.yml deploys it, what it adds, what its free tier covers, and the optional WAF. */
  edge: EdgeReport;
}

export interface EdgeReport {
  on: boolean;
  waf: boolean;
  /** The CloudFront lines of our design, per million events, at the SDK's batch size and at browser (or simulated) traffic. */
  per_million_usd: number;
  per_million_usd_traffic: number;
  /** What the always-free tier takes off the edge at this volume and traffic. */
  free_tier_usd: number;
  /** The SDK script (Brotli bytes of the full build) and its monthly edge cost per 100,000 visitors (one download each). */
  script_brotli_bytes: number;
  script_usd_per_100k_visitors: number;
  /** AWS WAF if turned on, at this volume and traffic (requests to /v1/ inspected). */
  waf_month_usd: number;
}

/** The edge's share of our bills, with the free tier, the script and the WAF beside them. */
function edgeReport(atBatch: Bill, atTraffic: Bill, opts: ModelOptions): EdgeReport {
  const cf = (b: Bill) => (b.lines.filter((l) => l.service === 'CloudFront').reduce((x, l) => x + l.usd, 0) / b.eventsPerMonth) * 1e6;
  const script = scriptBrotliBytes();
  return {
    on: !!opts.edge,
    waf: !!opts.waf,
    per_million_usd: cf(atBatch),
    per_million_usd_traffic: cf(atTraffic),
    free_tier_usd: atTraffic.facts.edge_free_tier_usd ?? 0,
    script_brotli_bytes: script,
    script_usd_per_100k_visitors: edgeScriptUsd(100_000, script),
    waf_month_usd: wafMonthUsd(atTraffic.facts.requests ?? 0),
  };
}

/** Runs the whole model: measure, then bill every design. */
export async function costReport(
  o: {
    eventsPerMonth?: number;
    batch?: number;
    browserBatch?: number;
    browserMeasuredAt?: string;
    arch?: Arch;
    putMs?: number;
    memoryMB?: number;
    measured?: Measured;
    lambda?: LambdaInvocationCost;
    log?: (s: string) => void;
  } = {},
): Promise<CostReport> {
  const lambda = o.lambda ?? (o.measured ? undefined : await measureLambda({ batches: [1, 3, 10, 20, 500], invocations: 200, log: o.log }));
  const m = o.measured ?? (await measure({ lambda, browserEventsPerRequest: o.browserBatch }));
  const n = o.eventsPerMonth ?? DEFAULT_EVENTS_PER_MONTH;
  const k = o.batch ?? SDK_BATCH_SIZE;
  const arch = o.arch ?? 'arm64';
  const opts = modelOptions(n, arch, o.putMs, o.memoryMB);
  const bills = designs(m, k).map((d) => bill(d, m, opts));
  const ours = (kk: number, name: string, mo = opts) => bill({ ...designs(m, kk)[0]!, name }, m, mo);
  const simulated = ours(
    m.simulatedEventsPerRequest,
    `this design, simulated traffic (${m.simulatedEventsPerRequest.toFixed(1)} events/request)`,
  );
  const kb = m.browserEventsPerRequest;
  const browser = kb ? ours(kb, `this design, browser traffic (${kb.toFixed(2)} events/request, measured in Chromium)`) : undefined;
  const trafficK = kb ?? m.simulatedEventsPerRequest;
  const maxRss = lambda?.max_rss_mb ?? 0;
  const lambdaPerMillion = (b: Bill) => (b.lines.filter((l) => l.service === 'Lambda').reduce((s, l) => s + l.usd, 0) / n) * 1e6;
  const options = MEMORY_SIZES.map((mb): MemoryOption => {
    const mo = { ...opts, memoryMB: mb };
    const b = ours(trafficK, '', mo);
    const share = Math.min(1, mb / LAMBDA_FULL_VCPU_MB);
    return {
      memory_mb: mb,
      cpu_share: Math.round(share * 1000) / 1000,
      billed_ms: b.facts.lambda_billed_ms!,
      billed_ms_500: Math.ceil(m.invocationCpuUs(500) / 1000 / share + (o.putMs ?? ASSUMPTIONS.putMs)),
      cold_start_ms: b.facts.lambda_init_ms!,
      rss_headroom: maxRss ? Math.round((mb / maxRss) * 100) / 100 : 0,
      lambda_per_million_usd: lambdaPerMillion(b),
      lambda_per_million_usd_full_batches: lambdaPerMillion(ours(k, '', mo)),
      per_million_usd: b.perMillionUsd,
    };
  });
  return {
    measured_at: new Date().toISOString().slice(0, 10),
    prices_checked: PRICES_CHECKED,
    region: PRICES_REGION,
    events_per_month: n,
    batch: k,
    arch,
    memory_mb: opts.memoryMB,
    put_ms: o.putMs ?? ASSUMPTIONS.putMs,
    logging: {
      ...opts.logging,
      app_log_bytes: appLogBytes(opts.logging, m.appLogBytesPerInvocation),
      platform_log_bytes: platformLogBytes(opts.logging, opts.memoryMB),
    },
    measured: {
      row_bytes: m.rowBytes,
      wire_event_bytes: m.wireEventBytes,
      gzip_ratio_at_default: bills[0]!.facts.gzip_ratio!,
      simulated_events_per_request: m.simulatedEventsPerRequest,
      invocation_cpu_us: m.invocationCpuUs(k),
      cold_start_cpu_ms: m.coldStartCpuMs,
      app_log_bytes_measured: m.appLogBytesPerInvocation,
      metrics_line_bytes: m.metricsLine?.bytes ?? 0,
      metrics_interval_s: m.metricsLine?.intervalSeconds ?? 0,
    },
    bills: [bills[0]!, ...(browser ? [browser] : []), simulated, ...bills.slice(1)],
    cost_per_million_events_usd: bills[0]!.perMillionUsd,
    cost_per_million_events_usd_simulated_traffic: simulated.perMillionUsd,
    ...(browser
      ? {
          browser_events_per_request: kb,
          browser_measured_at: o.browserMeasuredAt ?? (o.browserBatch ? undefined : readBrowsing()?.measured_at),
          cost_per_million_events_usd_browser_traffic: browser.perMillionUsd,
        }
      : {}),
    memory_sizes: { events_per_request: trafficK, traffic: kb ? 'browser' : 'simulated', options },
    max_rss_mb: maxRss,
    edge: edgeReport(bills[0]!, browser ?? simulated, opts),
  };
}

/** Brotli bytes of the built full SDK (what the edge serves compressed), 0 when client-sdk/dist is not built. */
export function scriptBrotliBytes(): number {
  const file = join(__dirname, '..', 'client-sdk', 'dist', 'clickstream.min.js');
  return existsSync(file) ? brotliCompressSync(readFileSync(file), { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } }).length : 0;
}

const usd = (x: number) => (x >= 100 ? `$${x.toFixed(0)}` : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(4)}`);

/** Terminal tables: the bill per service for our design, every design side by side, memory sizes. */
export function formatCost(r: CostReport): string {
  const ours = r.bills[0]!;
  const t1 = new Table({ head: ['service', 'item', 'USD / month'], colAligns: ['left', 'left', 'right'], style: { head: [], border: [] } });
  for (const l of ours.lines) t1.push([l.service, l.item + (l.perEvent ? '' : ' (fixed/usage)'), usd(l.usd)]);
  t1.push(['', 'total', usd(ours.totalUsd)]);
  const t2 = new Table({
    head: ['design', 'per million events', 'month total', 'requests', 'Firehose records', 'S3 objects'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  for (const b of r.bills)
    t2.push([
      b.design,
      usd(b.perMillionUsd),
      usd(b.totalUsd),
      Math.round(b.facts.requests!).toLocaleString('en-US'),
      Math.round(b.facts.records!).toLocaleString('en-US'),
      Math.round(b.facts.s3_objects!).toLocaleString('en-US'),
    ]);
  const ms = r.memory_sizes;
  const t3 = new Table({
    head: [
      'memory',
      'vCPU share',
      'billed ms',
      'billed ms, 500 events',
      'cold start ms (upper bound)',
      'peak RSS headroom',
      'Lambda $/M events',
      `same at ${r.batch}/request`,
      'total $/M events',
    ],
    colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  for (const x of ms.options)
    t3.push([
      `${x.memory_mb} MB${x.memory_mb === r.memory_mb ? ' *' : ''}`,
      x.cpu_share.toFixed(3),
      String(x.billed_ms),
      String(x.billed_ms_500),
      String(x.cold_start_ms),
      `${x.rss_headroom.toFixed(1)}x`,
      usd(x.lambda_per_million_usd),
      usd(x.lambda_per_million_usd_full_batches),
      usd(x.per_million_usd),
    ]);
  const m = r.measured;
  const lg = r.logging;
  return [
    `${r.events_per_month.toLocaleString('en-US')} events/month, ${r.batch} events/request, Lambda ${r.memory_mb} MB ${r.arch}; list prices ${r.region}, checked ${r.prices_checked} (local/prices.ts)`,
    `measured: ${m.row_bytes.toFixed(0)} B per stored row, ${m.wire_event_bytes.toFixed(0)} B per wire event, gzip ratio ${m.gzip_ratio_at_default.toFixed(3)} at ${Math.round(ours.facts.rows_per_object!)} rows/object, invocation ${m.invocation_cpu_us.toFixed(0)} us CPU here (cold start ${m.cold_start_cpu_ms.toFixed(0)} ms), simulator ${m.simulated_events_per_request.toFixed(2)} events/request${r.browser_events_per_request ? `, Chromium ${r.browser_events_per_request.toFixed(2)} events/request${r.browser_measured_at ? ` (${r.browser_measured_at})` : ''}` : ''}`,
    `logs per invocation: ${lg.app_log_bytes} B from the function (measured ${m.app_log_bytes_measured.toFixed(0)} B) + ${lg.platform_log_bytes} B of Lambda's own lines (${lg.format}, system level ${lg.systemLevel}, application level ${lg.applicationLevel}); plus a ${m.metrics_line_bytes} B metrics line per ${m.metrics_interval_s} s per busy execution environment (${ours.facts.metrics_lines_per_invocation!.toPrecision(2)} per invocation at ${r.batch} events/request)`,
    t1.toString(),
    t2.toString(),
    `memory sizes at ${ms.events_per_request.toFixed(2)} events/request (${ms.traffic} traffic); * = serverless.yml. CPU measured at one full core here, divided by the share Lambda gives (memory / ${LAMBDA_FULL_VCPU_MB.toLocaleString('en-US')} MB): not measured on Lambda.`,
    t3.toString(),
    `edge (CloudFront, ${r.edge.on ? 'on' : 'off'} in serverless.yml): ${usd(r.edge.per_million_usd)} per million events at ${r.batch}/request, ${usd(r.edge.per_million_usd_traffic)} at ${r.memory_sizes.events_per_request.toFixed(2)}/request; its always-free tier covers ${usd(r.edge.free_tier_usd)} of that a month here; the script (${r.edge.script_brotli_bytes} B Brotli) ${usd(r.edge.script_usd_per_100k_visitors)} per 100,000 visitors; WAF if turned on ${usd(r.edge.waf_month_usd)} a month`,
    'per million events = lines that scale with events (API, CloudFront, Lambda, Firehose, S3, logs); Athena, metrics, alarms and the secret are monthly amounts (see docs/cost.md).',
    '',
  ].join('\n');
}

const USAGE =
  'usage: npm run cost -- --events-per-month N [--batch K] [--browser-batch K] [--arch arm64|x86] [--put-ms MS] [--memory MB] [--json]';

async function main(): Promise<number> {
  const config = {
    options: {
      'events-per-month': { type: 'string' },
      batch: { type: 'string' },
      'browser-batch': { type: 'string' },
      arch: { type: 'string' },
      'put-ms': { type: 'string' },
      memory: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  } as const;
  let values: ReturnType<typeof parseArgs<typeof config>>['values'];
  try {
    ({ values } = parseArgs(config));
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
    const r = await costReport({
      eventsPerMonth: num(values['events-per-month'], 'events-per-month', 1, 1e13),
      batch: num(values.batch, 'batch', 1, 500),
      browserBatch: num(values['browser-batch'], 'browser-batch', 1, 500),
      putMs: num(values['put-ms'], 'put-ms', 0, 10_000),
      // Lambda's range (Configure Lambda function memory: 128 MB to 10,240 MB).
      memoryMB: num(values.memory, 'memory', 128, 10_240),
      arch,
    });
    process.stdout.write(values.json ? `${JSON.stringify(r, null, 2)}\n` : formatCost(r));
    return 0;
  } catch (e) {
    process.stderr.write(`cost: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
}

if (require.main === module)
  void main().then((code) => {
    process.exitCode = code;
  });

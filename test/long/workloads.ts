/**
 * Workloads shared by the fault, crash and load tests (test/long, test/integration/faults.test.ts)
 * and by local/reliability.ts, which runs them and writes docs/reliability.md. Everything runs over
 * real sockets on 127.0.0.1 against the local stack; every loop is bounded in count and time.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { packRecords } from '../../handlers/lib/pack';
import { configFromEnv, processRequest } from '../../handlers/lib/pipeline';
import { openLocalAthena } from '../../local/athena-local/duckdb';
import { runSaved } from '../../local/athena-local/queries';
import { freePort, readRows } from '../support/stack';

export const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** One page_view per event, unique ids: daily_active_users.page_views must equal the count sent. */
export function pageViews(n: number, run: string): Record<string, unknown>[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    event_id: randomUUID(),
    type: 'page_view',
    ts: new Date(now - 1_000).toISOString(),
    anonymous_id: `${run}-visitor-${i % 97}`,
    session_id: `${run}-session-${i % 211}`,
    url: `https://restaurant.example/menu/${i % 13}`,
    referrer: 'https://www.google.com/',
  }));
}

const body = (events: unknown[]) => JSON.stringify({ site_id: 'demo', sent_at: new Date().toISOString(), events });

export type NetworkFault = 'before-send' | 'after-send' | 'closed-port';

export interface SendOutcome {
  status?: number;
  accepted?: number;
  fault?: NetworkFault;
  error?: string;
}

/**
 * One POST over node:http. With a fault: 'before-send' aborts before a byte leaves, 'closed-port'
 * connects to a port nobody listens on, 'after-send' writes the whole request and then drops the
 * connection without reading the answer (the server may or may not have stored it: the client
 * cannot know, which is the case that makes duplicates).
 */
export function post(apiUrl: string, payload: string, fault?: NetworkFault, closedPort?: number): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const url = new URL('/v1/events', fault === 'closed-port' ? `http://127.0.0.1:${closedPort}` : apiUrl);
    const ac = new AbortController();
    const req = httpRequest(
      url,
      {
        method: 'POST',
        signal: ac.signal,
        agent: false,
        headers: { 'content-type': 'text/plain', 'user-agent': CHROME, 'content-length': Buffer.byteLength(payload) },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let accepted: number | undefined;
          try {
            accepted = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accepted?: number }).accepted;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, accepted, fault });
        });
        res.on('error', (e) => resolve({ error: e.message, fault }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message, fault }));
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    if (fault === 'before-send') {
      ac.abort();
      return;
    }
    if (fault === 'after-send') req.on('finish', () => setTimeout(() => req.destroy(new Error('connection dropped after send')), 1));
    req.end(payload);
  });
}

export interface FaultRunOptions {
  /** Events in all, sent as batches of `batchSize`. */
  events: number;
  batchSize: number;
  /** Share of sends that fail at the network (every 1/rate-th send; the three kinds in turn). */
  networkFailureRate: number;
  concurrency: number;
  /** Stop retrying one batch after this many attempts (a bound, not an expected path). */
  maxAttemptsPerBatch: number;
  /** Whole-run deadline. */
  deadlineMs: number;
  /** Jitter of the client's backoff. */
  random?: () => number;
  /** Called after each batch is settled, e.g. to kill and restart the stack mid-run. */
  onBatchDone?: (done: number) => Promise<void>;
}

export interface FaultRunReport {
  sent: number;
  batches: number;
  sends: number;
  networkFaults: Record<NetworkFault, number>;
  statuses: Record<string, number>;
  /** Event ids the client got a 200 for (all of them, when nothing gave up). */
  acceptedIds: string[];
  gaveUp: number;
}

/**
 * Sends `events` page views in batches, each retried like the SDK (network error, 429, 5xx:
 * back off and resend the same events; 200: done; other 4xx: give up) until it gets a 200.
 * `target()` is read on every send so a crash test can swap in a restarted stack.
 */
export async function sendWithFaults(target: () => string, opts: FaultRunOptions): Promise<FaultRunReport> {
  const random = opts.random ?? Math.random;
  const run = randomUUID().slice(0, 8);
  const all = pageViews(opts.events, run);
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < all.length; i += opts.batchSize) batches.push(all.slice(i, i + opts.batchSize));
  const closedPort = await freePort();
  const report: FaultRunReport = {
    sent: all.length,
    batches: batches.length,
    sends: 0,
    networkFaults: { 'before-send': 0, 'after-send': 0, 'closed-port': 0 },
    statuses: {},
    acceptedIds: [],
    gaveUp: 0,
  };
  const deadline = Date.now() + opts.deadlineMs;
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      let ok = false;
      for (let attempt = 0; attempt < opts.maxAttemptsPerBatch && Date.now() < deadline; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)) * (0.5 + random() / 2)));
        // Exactly networkFailureRate of all sends fail, the three kinds in turn: even a short run hits each.
        const sendNo = report.sends++;
        const every = Math.round(1 / opts.networkFailureRate);
        const fault: NetworkFault | undefined =
          opts.networkFailureRate > 0 && sendNo % every === every - 1
            ? (['before-send', 'after-send', 'closed-port'] as const)[Math.floor(sendNo / every) % 3]
            : undefined;
        const out = await post(target(), body(batch), fault, closedPort);
        if (fault) report.networkFaults[fault]++;
        const key = out.status !== undefined ? String(out.status) : 'network error';
        report.statuses[key] = (report.statuses[key] ?? 0) + 1;
        if (out.status === 200 && !fault) {
          // A 200 read through an injected fault cannot happen (the answer is never read).
          if (out.accepted !== batch.length) throw new Error(`batch answered 200 with accepted=${out.accepted}, expected ${batch.length}`);
          report.acceptedIds.push(...batch.map((e) => e.event_id as string));
          ok = true;
          break;
        }
        if (out.status !== undefined && out.status < 500 && out.status !== 429) break; // the SDK drops other 4xx
      }
      if (!ok) report.gaveUp++;
      done++;
      await opts.onBatchDone?.(done);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return report;
}

export interface StoredCount {
  /** Rows in events/ objects (copies included). */
  storedRows: number;
  storedUnique: number;
  /** Accepted ids with no row on disk. */
  lost: string[];
  /** Rows of the de-duplicating view for these ids, and how many ids it holds more than once. */
  dedupRows: number;
  dedupCountedTwice: number;
  /** Sum of daily_active_users.page_views over the run's days (the saved query, on DuckDB). */
  pageViewsCounted: number;
}

/** Reads the gzip objects under dataDir and runs the saved query over them on DuckDB. */
export async function countStored(dataDir: string, acceptedIds: readonly string[]): Promise<StoredCount> {
  const rows = readRows(join(dataDir, 'events'));
  const onDisk = new Set(rows.map((r) => r.event_id as string));
  const lost = acceptedIds.filter((id) => !onDisk.has(id));
  const db = await openLocalAthena(dataDir);
  try {
    const dedup = await db.run('SELECT count(*) AS n, count(*) - count(DISTINCT event_id) AS twice FROM events_dedup');
    const today = new Date();
    const day = (offset: number) => new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10);
    const dau = await runSaved(db, 'daily_active_users', day(-1), day(1));
    const col = dau.columns.indexOf('page_views');
    return {
      storedRows: rows.length,
      storedUnique: onDisk.size,
      lost,
      dedupRows: dedup.rows[0]![0] as number,
      dedupCountedTwice: dedup.rows[0]![1] as number,
      pageViewsCounted: dau.rows.reduce((s, r) => s + (r[col] as number), 0),
    };
  } finally {
    db.close();
  }
}

// autocannon ships no type declarations: the slice used here.
interface CannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = require('autocannon') as (
  opts: {
    url: string;
    connections: number;
    duration: number;
    timeout: number;
    requests: {
      method: string;
      path: string;
      headers: Record<string, string>;
      setupRequest: (req: CannonRequest, context: Record<string, unknown>) => CannonRequest;
      onResponse: (status: number, body: string, context: Record<string, unknown>) => void;
    }[];
  },
  done: (err: Error | null, result: CannonResult) => void,
) => { stop(): void };

export interface LoadOptions {
  connections: number;
  durationSec: number;
  /** Upper bound on requests, whatever the duration. */
  maxRequests: number;
  eventsPerBatch: number;
}

export interface LoadReport {
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  errorRate: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  requestsPerSec: number;
  /** Answers by HTTP status (requests that timed out or failed have none). */
  statuses: Record<number, number>;
  eventsAccepted: number;
  acceptedIds: string[];
}

/** autocannon against the API: every request a fresh 20-event batch with unique event_ids. */
export async function loadApi(apiUrl: string, opts: LoadOptions): Promise<LoadReport> {
  const acceptedIds: string[] = [];
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const run = randomUUID().slice(0, 8);
  // serverless offline loads the handler on the first request (seconds on a busy machine): warm it
  // up first so the measured window holds traffic, not one cold start. These events are not counted.
  for (let i = 0; i < 3; i++) {
    const warm = await post(apiUrl, body(pageViews(1, `${run}-warmup`)));
    if (warm.status !== 200) throw new Error(`warm-up request answered ${warm.status ?? warm.error}`);
  }
  let instance: { stop(): void } | undefined;
  // autocannon ignores `duration` when `amount` is set: bound by duration, and stop at maxRequests here.
  const result = await new Promise<CannonResult>((resolve, reject) => {
    instance = autocannon(
      {
        url: apiUrl,
        connections: opts.connections,
        duration: opts.durationSec,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            path: '/v1/events',
            headers: { 'content-type': 'text/plain', 'user-agent': CHROME },
            setupRequest: (req, context) => {
              const events = pageViews(opts.eventsPerBatch, run);
              context.ids = events.map((e) => e.event_id as string);
              context.t0 = performance.now();
              return { ...req, body: body(events) };
            },
            onResponse: (status, resBody, context) => {
              // autocannon's percentiles stop at 90 / 97.5; one request in flight per connection, so this times it.
              latencies.push(performance.now() - (context.t0 as number));
              statuses[status] = (statuses[status] ?? 0) + 1;
              if (latencies.length >= opts.maxRequests) instance?.stop();
              if (status !== 200) return;
              const ids = context.ids as string[];
              if ((JSON.parse(resBody) as { accepted: number }).accepted === ids.length) acceptedIds.push(...ids);
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  const requests = result.requests.total;
  return {
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    errorRate: requests + result.errors ? (result.non2xx + result.errors) / (requests + result.errors) : 0,
    latencyMs: { p50: at(50), p95: at(95), p99: at(99), max: latencies[latencies.length - 1] ?? 0 },
    requestsPerSec: result.requests.average,
    statuses,
    eventsAccepted: acceptedIds.length,
    acceptedIds,
  };
}

export interface InProcessReport {
  requests: number;
  events: number;
  latencyMs: { p50: number; p95: number; p99: number };
  requestsPerSec: number;
}

/** The pipeline alone (parse, validate, enrich, pack; no network) on the same bodies. */
export function loadInProcess(opts: { requests: number; eventsPerBatch: number; maxMs: number }): InProcessReport {
  const config = configFromEnv({ VISITOR_SALT_SECRET: 'reliability-in-process-salt-01' });
  const bodies = Array.from({ length: Math.min(opts.requests, 500) }, () => body(pageViews(opts.eventsPerBatch, 'inproc')));
  const times: number[] = [];
  const start = process.hrtime.bigint();
  const end = Date.now() + opts.maxMs;
  for (let i = 0; i < opts.requests && Date.now() < end; i++) {
    const t = process.hrtime.bigint();
    const r = processRequest(
      { body: bodies[i % bodies.length], contentType: 'text/plain', userAgent: CHROME, sourceIp: '127.0.0.1', receivedAt: new Date() },
      config,
    );
    packRecords(r.events);
    if (r.status !== 200 || r.events.length !== opts.eventsPerBatch) throw new Error(`in-process request ${i} answered ${r.status}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return {
    requests: times.length,
    events: times.length * opts.eventsPerBatch,
    latencyMs: { p50: at(50), p95: at(95), p99: at(99) },
    requestsPerSec: (times.length / totalMs) * 1000,
  };
}

/** Firehose stand-in counters (records it failed on purpose, records it kept). */
export async function firehoseStats(firehoseUrl: string): Promise<{ acceptedRecords: number; failedRecords: number; objects: number }> {
  const r = await fetch(`${firehoseUrl}/_local/stats`, { method: 'POST' });
  return (await r.json()) as { acceptedRecords: number; failedRecords: number; objects: number };
}

/** The figures worth keeping from a fault run (ids dropped). */
export function faultFigures(sent: FaultRunReport, stored: StoredCount, extra: Record<string, unknown> = {}) {
  const { acceptedIds, ...client } = sent;
  return { ...client, accepted: acceptedIds.length, ...stored, lost: stored.lost.length, ...extra };
}

/** Writes figures for local/reliability.ts when RELIABILITY_OUT names a folder. */
export function recordFigures(name: string, figures: unknown): void {
  const dir = process.env.RELIABILITY_OUT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(figures, null, 2)}\n`);
}

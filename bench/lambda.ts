/**
 * What one invocation of the ingest Lambda costs, measured on the real bundle: CPU time per
 * invocation (middy, Powertools, the pipeline, the AWS SDK serialising and signing PutRecordBatch,
 * the HTTP round trip's CPU side), the bytes it writes to its logs, the cold start (loading the
 * bundle) and its peak memory.
 *
 * The bundle is built as serverless.yml says (bench/coldstart.ts) and run in a fresh child Node
 * process, so nothing of this process's warm JIT or heap counts. Its Firehose endpoint is a tiny
 * stand-in in this process on 127.0.0.1 that accepts every record (CPU spent there is not the
 * child's). The child counts every byte written to stdout and stderr per invocation: on Lambda,
 * that is what CloudWatch Logs ingests from the function's own code (application logs). The
 * platform's START/END/REPORT lines are Lambda's, not the code's; the cost model adds them from the
 * function's LoggingConfig (see platformLogBytes in bench/cost.ts).
 *
 * What cannot be measured here: Lambda's CPU share below 1,769 MB (a fraction of a vCPU; "Configure
 * Lambda function memory", AWS Lambda developer guide) and the network wait for Firehose. Every
 * figure is CPU time at one full core of this machine; bench/cost.ts divides it by the share the
 * memory size buys and adds the PutRecordBatch wait it assumes.
 *
 *   npx tsx bench/lambda.ts            (prints JSON)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { METRICS_INTERVAL_MS } from '../handlers/ingest-metrics';
import { BUNDLE, COLD_ENV, buildBundle } from './coldstart';
import { makeRequests } from './fixtures';
import { median, type Stat } from './pipeline';

const root = join(__dirname, '..');

export interface LambdaInvocationCost {
  /** Events per request of each measured batch. */
  batches: number[];
  invocations_per_batch: number;
  /** CPU time (user + system) of one warm invocation, microseconds, by events per request. */
  invocation_cpu_us: Record<string, Stat>;
  /** The mean of the same (garbage collection included): what a month of invocations adds up to. */
  invocation_cpu_mean_us: Record<string, number>;
  /** Wall time of one warm invocation on loopback (no network wait), microseconds. */
  invocation_wall_us: Record<string, Stat>;
  /** Bytes the function's code wrote to stdout/stderr per successful invocation (application logs). */
  app_log_bytes_per_invocation: number;
  /** One invocation's log output, as written (empty when the invocation writes nothing). */
  app_log_sample: string;
  /**
   * The EMF line with EventsAccepted / EventsRejected that the function writes at most once per
   * interval per execution environment (handlers/ingest-metrics.ts): its bytes, measured on the
   * first invocation after the child's clock is moved past the interval, and the interval.
   */
  metrics_line_bytes: number;
  metrics_line_sample: string;
  metrics_interval_s: number;
  /** Loading the bundle (module scope: config, clients, Logger, Metrics), CPU and wall milliseconds. */
  init_cpu_ms: number;
  init_wall_ms: number;
  /** The first invocation after loading (lazy SDK setup, first TLS-free connection), CPU ms. */
  first_invocation_cpu_ms: number;
  /** Peak resident memory of the child after its largest batch, MB. */
  max_rss_mb: number;
  /** The largest batch measured (the wire contract allows up to 500 events). */
  max_batch: number;
  firehose_records_received: number;
  node: string;
}

/** The child: loads the bundle, invokes it, counts its log bytes; its result goes to fd 3 (stdout is the log being measured). */
const CHILD = `
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
let logBytes = 0;
let sample = '';
const capture = (stream) => {
  stream.write = (chunk, enc, cb) => {
    const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    logBytes += Buffer.byteLength(s);
    sample += s;
    if (typeof enc === 'function') enc(); else if (typeof cb === 'function') cb();
    return true;
  };
};
capture(process.stdout);
capture(process.stderr);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system); };
let c0 = cpu(); let w0 = performance.now();
const { handler } = require(input.bundle);
const init = { cpu_us: cpu() - c0, wall_ms: performance.now() - w0 };
let n = 0;
const context = () => {
  const started = Date.now();
  n++;
  return {
    functionName: 'clickstream-dev-ingest', functionVersion: '$LATEST', memoryLimitInMB: '512',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:clickstream-dev-ingest',
    awsRequestId: '8f5b1c2d-3e4f-4a5b-9c6d-' + String(n).padStart(12, '0'),
    logGroupName: '/aws/lambda/clickstream-dev-ingest', logStreamName: '2026/12/03/[$LATEST]0123456789abcdef0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10000 - (Date.now() - started),
  };
};
const event = (r) => ({ ...input.template, body: r.body, headers: { ...input.template.headers, 'user-agent': r.userAgent, 'content-length': String(Buffer.byteLength(r.body)) },
  requestContext: { ...input.template.requestContext, http: { ...input.template.requestContext.http, sourceIp: r.sourceIp, userAgent: r.userAgent } } });
(async () => {
  const out = { init, first_cpu_us: 0, batches: {}, log: { bytes: 0, invocations: 0, sample: '' } };
  let first = true;
  for (const b of input.batches) {
    const cpus = []; const walls = [];
    for (const r of b.requests) {
      const before = logBytes; sample = '';
      c0 = cpu(); w0 = performance.now();
      const res = await handler(event(r), context());
      const c = cpu() - c0; const w = (performance.now() - w0) * 1000;
      if (res.statusCode !== 200) throw new Error('invocation answered ' + res.statusCode + ': ' + res.body);
      if (first) { out.first_cpu_us = c; first = false; continue; }
      cpus.push(c); walls.push(w);
      if (b.k === input.logBatch) { out.log.bytes += logBytes - before; out.log.invocations++; out.log.sample = sample; }
    }
    out.batches[b.k] = { cpu_us: cpus, wall_us: walls };
  }
  // The per-environment metrics line: the window's, written by the first invocation once the window
  // has run its interval. Moved a whole interval on, that invocation follows a quiet minute and is
  // written on its own too (handlers/lib/count-window.ts), after the window's line: measure the first.
  const realNow = Date.now;
  Date.now = () => realNow() + input.metricsIntervalMs;
  const last = input.batches.find((b) => b.k === input.logBatch).requests[0];
  sample = '';
  await handler(event(last), context());
  const line = sample.split('\\n')[0] + '\\n';
  out.metrics_line = { bytes: Buffer.byteLength(line), sample: line };
  Date.now = realNow;
  out.max_rss_mb = process.resourceUsage().maxRSS / 1024;
  fs.writeSync(3, JSON.stringify(out));
})().catch((e) => { fs.writeSync(3, JSON.stringify({ error: String(e && e.stack || e) })); process.exitCode = 1; });
`;

interface ChildOut {
  error?: string;
  init: { cpu_us: number; wall_ms: number };
  first_cpu_us: number;
  batches: Record<string, { cpu_us: number[]; wall_us: number[] }>;
  log: { bytes: number; invocations: number; sample: string };
  metrics_line: { bytes: number; sample: string };
  max_rss_mb: number;
}

/** A PutRecordBatch stand-in that accepts every record (AWS JSON 1.1 protocol, as the SDK speaks it). */
async function fakeFirehose(): Promise<{ url: string; records: () => number; close: () => void }> {
  let records = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { Records?: unknown[] };
      const n = body.Records?.length ?? 0;
      records += n;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          FailedPutCount: 0,
          Encrypted: false,
          RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `r${records}-${i}` })),
        }),
      );
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records: () => records,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const stat = (xs: number[]): Stat => ({ median: round2(median(xs)), min: round2(Math.min(...xs)), max: round2(Math.max(...xs)) });

/**
 * Builds the bundle, runs it in a child process against a loopback Firehose and returns the
 * per-invocation figures. `batches` are events per request; the last one is also the peak-memory case.
 * @example
 * const m = await measureLambda({ batches: [3, 20], invocations: 100 });
 * console.log(m.invocation_cpu_us['3']!.median, m.app_log_bytes_per_invocation);
 */
export async function measureLambda(
  opts: { batches?: number[]; invocations?: number; logBatch?: number; build?: boolean; log?: (s: string) => void } = {},
): Promise<LambdaInvocationCost> {
  const batches = opts.batches ?? [1, 3, 20, 500];
  const invocations = opts.invocations ?? 200;
  if (!Number.isInteger(invocations) || invocations < 2 || invocations > 10_000)
    throw new Error(`invocations must be an integer from 2 to 10,000, not ${invocations}`);
  const logBatch = opts.logBatch ?? batches.find((k) => k >= 3) ?? batches[0]!;
  if (opts.build !== false) await buildBundle();
  const template = JSON.parse(readFileSync(join(root, 'test', 'events', 'post-events-browser.json'), 'utf8')) as Record<string, unknown>;
  // Same site and origin rules as the bench fixtures: every request is accepted whole.
  const input = {
    bundle: join(root, relative(root, BUNDLE)),
    template: { ...template, headers: { ...(template.headers as object), origin: 'https://www.example.com' } },
    logBatch,
    metricsIntervalMs: METRICS_INTERVAL_MS,
    // The 500-event batch is slow to make and to run: fewer of them, enough for a median.
    batches: batches.map((k) => ({ k, requests: makeRequests(k >= 100 ? Math.min(invocations, 20) : invocations, k, Date.now(), 11) })),
  };
  const fh = await fakeFirehose();
  try {
    const child = spawn(process.execPath, ['-e', CHILD], {
      cwd: root,
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        ...COLD_ENV,
        SITES: '{"demo":{"origins":["https://www.example.com"],"allowNoOrigin":true}}',
        FIREHOSE_ENDPOINT: fh.url,
        AWS_ACCESS_KEY_ID: 'AKIDBENCHONLY',
        AWS_SECRET_ACCESS_KEY: 'bench-only-not-a-secret',
        // As deployed (serverless.yml functions.ingest.environment; test/infra pins them), and what
        // Lambda itself sets for a function with LoggingConfig JSON / ApplicationLogLevel INFO.
        POWERTOOLS_SERVICE_NAME: 'clickstream-ingest',
        POWERTOOLS_METRICS_NAMESPACE: 'Clickstream',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        AWS_LAMBDA_LOG_FORMAT: 'JSON',
        AWS_LAMBDA_LOG_LEVEL: 'INFO',
        AWS_LAMBDA_FUNCTION_NAME: 'clickstream-dev-ingest',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      },
    });
    let result = '';
    let stderr = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      result += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin!.end(JSON.stringify(input));
    const code = await new Promise<number | null>((ok) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        ok(c);
      });
    });
    const out = JSON.parse(result || '{}') as ChildOut;
    if (code !== 0 || out.error || !out.batches)
      throw new Error(`lambda bench child failed (exit ${code}): ${out.error ?? ''} ${stderr.slice(-1000)}`);
    const perBatch = Object.entries(out.batches).map(([k, v]) => `${k} events ${median(v.cpu_us).toFixed(0)} us`);
    const logs = `${(out.log.bytes / out.log.invocations).toFixed(0)} B of logs per invocation, a ${out.metrics_line.bytes} B metrics line per ${METRICS_INTERVAL_MS / 1000} s`;
    opts.log?.(`lambda: init ${(out.init.cpu_us / 1000).toFixed(0)} ms CPU, ${perBatch.join(', ')}, ${logs}`);
    return {
      batches,
      invocations_per_batch: invocations,
      invocation_cpu_us: Object.fromEntries(Object.entries(out.batches).map(([k, v]) => [k, stat(v.cpu_us)])),
      invocation_cpu_mean_us: Object.fromEntries(
        Object.entries(out.batches).map(([k, v]) => [k, round2(v.cpu_us.reduce((a, b) => a + b, 0) / v.cpu_us.length)]),
      ),
      invocation_wall_us: Object.fromEntries(Object.entries(out.batches).map(([k, v]) => [k, stat(v.wall_us)])),
      app_log_bytes_per_invocation: out.log.bytes / out.log.invocations,
      app_log_sample: out.log.sample,
      metrics_line_bytes: out.metrics_line.bytes,
      metrics_line_sample: out.metrics_line.sample,
      metrics_interval_s: METRICS_INTERVAL_MS / 1000,
      init_cpu_ms: round2(out.init.cpu_us / 1000),
      init_wall_ms: round2(out.init.wall_ms),
      first_invocation_cpu_ms: round2(out.first_cpu_us / 1000),
      max_rss_mb: round2(out.max_rss_mb),
      max_batch: Math.max(...batches),
      firehose_records_received: fh.records(),
      node: process.version,
    };
  } finally {
    fh.close();
  }
}

if (require.main === module) {
  measureLambda({ log: (s) => process.stderr.write(`${s}\n`) }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`lambda: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

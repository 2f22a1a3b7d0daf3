/**
 * End to end on one machine: autocannon -> serverless offline (the real handler) -> Firehose
 * stand-in -> gzip objects on disk, over 127.0.0.1. Bounded in time and in requests; every body
 * carries fresh event_ids, so afterwards each event the API accepted must be found on disk exactly
 * as often as it was accepted. The stack is stopped (by its own PID) even when the run fails.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { startLocalStack, type LocalStack } from '../local/stack-process';
import { makeRequests } from './fixtures';

export interface E2eResult {
  seconds: number;
  connections: number;
  batch: number;
  requests_sent: number;
  requests_2xx: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  requests_per_s: number;
  events_per_s: number;
  /** Measured per request (setupRequest -> onResponse), milliseconds. */
  latency_ms: { p50: number; p95: number; p99: number; max: number };
  /** autocannon's own figures, as a cross-check. */
  autocannon_latency_ms: { p50: number; p99: number };
  events_accepted: number;
  events_on_disk: number;
  accepted_missing_on_disk: number;
  /** Warm-up requests (one per connection, all at once on cold instances) not answered 200. */
  warmup_non_200: number;
}

export async function runE2e(
  opts: { seconds?: number; connections?: number; batch?: number; maxRequests?: number; log?: (s: string) => void } = {},
): Promise<E2eResult> {
  const seconds = opts.seconds ?? 10;
  const connections = opts.connections ?? 50;
  const batch = opts.batch ?? 20;
  const maxRequests = opts.maxRequests ?? 100_000;
  // Bodies are made as they are sent (fresh event_ids every time) so no request repeats another.
  const ids = new Map<number, string[]>();
  const body = (i: number) => makeRequests(1, batch, Date.now(), i)[0]!;
  const accepted = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  let warmupNon200 = 0;
  let stack: LocalStack | undefined;
  try {
    // A 1 s buffer so the final flush has little to wait for; the bytes written are the same.
    stack = await startLocalStack({ bufferSeconds: 1 });
    opts.log?.(`e2e: stack up at ${stack.apiUrl}; ${seconds} s x ${connections} connections, ${batch} events/request`);
    const url = `${stack.apiUrl}/v1/events`;
    // serverless offline starts one handler instance per concurrent request, each loading the
    // bundle (seconds on busy cores): warm as many as there will be connections, once, bounded,
    // so the measurement is of a running service rather than of 50 cold starts.
    const warm = await Promise.all(
      Array.from({ length: connections }, async (_, i) => {
        const b = makeRequests(1, batch, Date.now(), 1_000_000 + i)[0]!;
        const r = await fetch(url, {
          method: 'POST',
          body: b.body,
          headers: { 'content-type': 'text/plain', 'user-agent': b.userAgent },
          signal: AbortSignal.timeout(180_000),
        });
        await r.text();
        return r.status;
      }),
    );
    // A cold instance that fails is a finding to report (warmup_non_200), not a reason to stop.
    if (warm.every((st) => st !== 200)) throw new Error(`warm-up answered ${JSON.stringify(warm)}`);
    warmupNon200 = warm.filter((st) => st !== 200).length;
    opts.log?.('e2e: warm; measuring');
    const result = await autocannon({
      // `amount` would make autocannon ignore `duration`; maxOverallRequests bounds the count alongside it.
      url,
      connections,
      duration: seconds,
      maxOverallRequests: maxRequests,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          setupRequest: (req: Record<string, unknown>, context: Record<string, unknown>) => {
            const i = next++;
            const b = body(i);
            ids.set(
              i,
              (JSON.parse(b.body) as { events: { event_id: string }[] }).events.map((e) => e.event_id),
            );
            context.i = i;
            // autocannon's own percentiles stop at 90 / 97.5: time each request here for p95.
            context.t = performance.now();
            return { ...req, body: b.body, headers: { 'content-type': 'text/plain;charset=UTF-8', 'user-agent': b.userAgent } };
          },
          onResponse: (status: number, body: string, context: Record<string, unknown>) => {
            latencies.push(performance.now() - (context.t as number));
            if (status !== 200) return;
            const n = (JSON.parse(body) as { accepted?: number }).accepted ?? 0;
            accepted.set(context.i as number, n);
          },
        },
      ],
    });

    await stack.flush();
    const rows = await stack.readEvents();
    const onDisk = new Map<string, number>();
    for (const r of rows) onDisk.set(String(r.event_id), (onDisk.get(String(r.event_id)) ?? 0) + 1);
    let missing = 0;
    let acceptedEvents = 0;
    for (const [i, n] of accepted) {
      acceptedEvents += n;
      // A 200 with every event accepted: each of its ids must be stored (duplicates are allowed by design).
      if (n === batch) for (const id of ids.get(i)!) if (!onDisk.has(id)) missing++;
      if (n !== batch) missing += batch - n;
    }
    const sorted = latencies.sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    return {
      seconds,
      connections,
      batch,
      requests_sent: result.requests.sent,
      requests_2xx: result['2xx'],
      non_2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      requests_per_s: result['2xx'] / (result.duration || seconds),
      events_per_s: acceptedEvents / (result.duration || seconds),
      latency_ms: { p50: pct(50), p95: pct(95), p99: pct(99), max: sorted[sorted.length - 1] ?? NaN },
      autocannon_latency_ms: { p50: result.latency.p50, p99: result.latency.p99 },
      events_accepted: acceptedEvents,
      events_on_disk: rows.length,
      accepted_missing_on_disk: missing,
      warmup_non_200: warmupNon200,
    };
  } finally {
    await stack?.stop();
  }
}

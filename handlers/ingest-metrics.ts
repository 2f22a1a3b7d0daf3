/**
 * EventsAccepted and EventsRejected, summed in the execution environment and written at most once a
 * minute per environment (one EMF line; two when a lull closes the window and is itself written at
 * once, lib/count-window.ts), instead of one line per invocation (docs/cost.md, "The levers,
 * measured", item 3; docs/operations.md, "The ingest function's metrics"). The sums live in this module, not in
 * Powertools' store: Powertools clears its store on every publish and keeps it per invocation when
 * an environment runs invocations concurrently (AWS_LAMBDA_MAX_CONCURRENCY), so it cannot hold
 * counts across invocations. Powertools only writes the line, with the window's start as its EMF
 * Timestamp (CloudWatch files the metrics under that time: "Specification: Embedded metric format").
 *
 * The logMetrics middleware is not used: it publishes after every invocation and, with nothing
 * stored, Powertools writes a "No application metrics to publish" warning line instead (its
 * `publishStoredMetrics`), which is the per-invocation line this module exists to remove.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CountWindow, metricTimestamp } from './lib/count-window';

/** At most one metrics line per execution environment per interval; CloudWatch's finest standard resolution is 60 s. */
export const METRICS_INTERVAL_MS = 60_000;

const KEYS = ['EventsAccepted', 'EventsRejected'] as const;

/**
 * Returns `count(accepted, rejected)`, to call once per invocation: it adds the invocation's counts
 * and writes what the window hands out (lib/count-window.ts: a closed window's sums, or a count
 * that follows a quiet minute) through `metrics`, one line each, synchronously, so nothing else
 * lands in the same line.
 */
export function eventCounter(metrics: Metrics, intervalMs = METRICS_INTERVAL_MS) {
  const window = new CountWindow(KEYS, intervalMs);
  return (accepted: number, rejected: number): void => {
    const now = Date.now();
    for (const closed of window.add(now, { EventsAccepted: accepted, EventsRejected: rejected })) {
      metrics.setTimestamp(metricTimestamp(closed.startedAt, now));
      for (const k of KEYS) metrics.addMetric(k, MetricUnit.Count, closed.totals[k]);
      metrics.publishStoredMetrics();
    }
  };
}

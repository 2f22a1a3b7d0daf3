/**
 * Counts summed in the execution environment and handed out at most once per interval, so that a
 * successful invocation writes no metrics line of its own: at browser traffic (2.56 events per
 * request) a 277 B EMF line per invocation was ~$0.05 of CloudWatch Logs per million events
 * (docs/cost.md, "The levers, measured", item 3). Pure: the caller brings the clock and writes the
 * totals (handlers/ingest-metrics.ts).
 *
 * A window opens with the first count after the previous one was handed out and closes on the first
 * count at least `intervalMs` after it opened; that count starts the next window. Every count of a
 * closed window arrived within `intervalMs` of its start, so dating the totals at the start files
 * them at most one interval early, however long the environment then sat idle. Counts still open
 * when Lambda shuts the environment down are never handed out (docs/operations.md, "The ingest function's metrics").
 */

/** What a closed window summed. */
export interface WindowTotals<K extends string> {
  /** Epoch ms of the window's first count: the time its totals are filed under. */
  startedAt: number;
  /** Invocations counted in it. */
  invocations: number;
  totals: Record<K, number>;
}

export class CountWindow<K extends string> {
  #startedAt: number | undefined;
  #invocations = 0;
  #totals: Record<K, number>;

  constructor(
    private readonly keys: readonly K[],
    private readonly intervalMs: number,
  ) {
    this.#totals = this.#zero();
  }

  /**
   * Adds one invocation's counts, made at `now` (epoch ms). Returns the previous window's totals
   * when `now` is past its end (they are to be written now), otherwise undefined.
   */
  add(now: number, counts: Readonly<Record<K, number>>): WindowTotals<K> | undefined {
    const start = this.#startedAt;
    // A clock stepped back (NTP) closes the window too, rather than holding counts until it catches up.
    const closed = start !== undefined && (now - start >= this.intervalMs || now < start) ? this.#take(start) : undefined;
    this.#startedAt ??= now;
    this.#invocations++;
    for (const k of this.keys) this.#totals[k] += counts[k];
    return closed;
  }

  #take(startedAt: number): WindowTotals<K> {
    const closed = { startedAt, invocations: this.#invocations, totals: this.#totals };
    this.#startedAt = undefined;
    this.#invocations = 0;
    this.#totals = this.#zero();
    return closed;
  }

  #zero(): Record<K, number> {
    return Object.fromEntries(this.keys.map((k) => [k, 0])) as Record<K, number>;
  }
}

/**
 * CloudWatch drops log events, and the metrics embedded in them, more than 14 days old
 * (CloudWatch Logs API reference, "PutLogEvents": "Events older than 14 days ... are rejected";
 * Powertools' `setTimestamp` documents the same bound for EMF). An hour of margin for the trip.
 */
export const MAX_METRIC_AGE_MS = 14 * 24 * 3600_000 - 3600_000;

/**
 * The Timestamp to file a window's totals under when they are written at `now`: its start, unless
 * that is too old to be kept, or ahead of `now` (a clock stepped back).
 */
export function metricTimestamp(startedAt: number, now: number): number {
  return Math.max(Math.min(startedAt, now), now - MAX_METRIC_AGE_MS);
}

/**
 * Counts summed in the execution environment and handed out at most once per interval, so that a
 * successful invocation writes no metrics line of its own: at browser traffic (2.56 events per
 * request) a 277 B EMF line per invocation was ~$0.05 of CloudWatch Logs per million events
 * (docs/cost.md, "The levers, measured", item 3). Pure: the caller brings the clock and writes the
 * totals (handlers/ingest-metrics.ts).
 *
 * A count that follows a quiet interval (no count in the `intervalMs` before it: the environment's
 * first invocation, or one after a lull) is handed out at once, on its own. Otherwise it goes into
 * the open window, which opens with the first such count and closes on the first count at least
 * `intervalMs` after it opened; that count starts the next window. Every count of a closed window
 * arrived within `intervalMs` of its start, so dating the totals at the start files them at most
 * one interval early, however long the environment then sat idle. Hand-outs are at least
 * `intervalMs` apart. What Lambda's shutdown of an environment loses is its open window: counts
 * that came within an interval of the count before them, after the last hand-out. A site with a
 * request every few minutes loses none (each is handed out at once); a busy environment loses at
 * most its last minute (docs/operations.md, "The ingest function's metrics").
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
  #lastCountAt: number | undefined;
  #invocations = 0;
  #totals: Record<K, number>;

  constructor(
    private readonly keys: readonly K[],
    private readonly intervalMs: number,
  ) {
    this.#totals = this.#zero();
  }

  /**
   * Adds one invocation's counts, made at `now` (epoch ms). Returns what is to be written now, in
   * order: the open window's totals when `now` is past its end, and this count on its own when it
   * follows a quiet interval; usually nothing.
   */
  add(now: number, counts: Readonly<Record<K, number>>): WindowTotals<K>[] {
    const last = this.#lastCountAt;
    this.#lastCountAt = now;
    // A clock stepped back (NTP) counts as quiet, and closes the window, rather than holding counts until it catches up.
    const quiet = last === undefined || now - last >= this.intervalMs || now < last;
    const start = this.#startedAt;
    const out = start !== undefined && (quiet || now - start >= this.intervalMs) ? [this.#take(start)] : [];
    if (quiet) {
      out.push({ startedAt: now, invocations: 1, totals: Object.fromEntries(this.keys.map((k) => [k, counts[k]])) as Record<K, number> });
      return out;
    }
    this.#startedAt ??= now;
    this.#invocations++;
    for (const k of this.keys) this.#totals[k] += counts[k];
    return out;
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
 * An EMF Timestamp must lie within 14 days back and 2 hours ahead (Powertools Metrics
 * `setTimestamp`, EMF_MAX_TIMESTAMP_PAST_AGE / _FUTURE_AGE; outside it the metrics are not kept).
 * An hour of margin for the trip.
 */
export const MAX_METRIC_AGE_MS = 14 * 24 * 3600_000 - 3600_000;

/**
 * The Timestamp to file a window's totals under when they are written at `now`: its start, unless
 * that is too old to be kept, or ahead of `now` (a clock stepped back).
 */
export function metricTimestamp(startedAt: number, now: number): number {
  return Math.max(Math.min(startedAt, now), now - MAX_METRIC_AGE_MS);
}

/**
 * Exponential backoff with "equal jitter": half of the window fixed, half random, so tabs that
 * failed together do not come back together, and a retry never fires right away.
 * attempt 1 waits 0.5-1 s, attempt 2 1-2 s, ... capped at `cap`.
 */
export function backoff(attempt: number, random: () => number = Math.random, base = 1000, cap = 60_000): number {
  const w = Math.min(cap, base * 2 ** (attempt - 1));
  return (w * (1 + random())) / 2;
}

/**
 * Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP date. Returns milliseconds from `now`,
 * 0 when absent or unreadable. The API must list it in Access-Control-Expose-Headers for a
 * cross-origin page to read it.
 */
export function retryAfter(header: string | null | undefined, now?: number): number {
  // No separate check for an absent header: null reads as 0 s, and anything unreadable ends as NaN.
  const s = +header!;
  const ms = !__CS_RARE__ || s >= 0 ? s * 1000 : Date.parse(header!) - (now ?? Date.now());
  // Cap at one hour so a bad header cannot park the queue for the rest of the visit.
  return ms > 0 ? Math.min(ms, 3_600_000) : 0;
}

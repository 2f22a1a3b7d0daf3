import { backoff, retryAfter } from '../../client-sdk/src/backoff';

// The retry rule by status and body: test/unit/sdk-transport.test.ts.

describe('SDK backoff', () => {
  it('doubles the window per attempt, half fixed and half jitter', () => {
    // Prepare: the two extremes of the random source
    const lo = () => 0;
    const hi = () => 0.999999;
    // Act + Assess
    expect(backoff(1, lo)).toBe(500);
    expect(backoff(1, hi)).toBeCloseTo(1000, 0);
    expect(backoff(2, lo)).toBe(1000);
    expect(backoff(4, lo)).toBe(4000);
    expect(backoff(4, hi)).toBeCloseTo(8000, 0);
  });

  it('caps the window', () => {
    expect(backoff(30, () => 1)).toBe(60_000);
    expect(backoff(30, () => 0)).toBe(30_000);
    expect(backoff(3, () => 1, 1000, 2000)).toBe(2000);
  });

  it('spreads retries of tabs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => Math.round(backoff(3))));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(2000);
    for (const d of delays) expect(d).toBeLessThanOrEqual(4000);
  });
});

describe('SDK Retry-After', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  const G = globalThis as Record<string, unknown>;
  // The full build (client-sdk/build.mjs flags); the core build reads only delay-seconds.
  beforeEach(() => (G.__CS_RARE__ = true));
  afterAll(() => delete G.__CS_RARE__);
  it('reads delay-seconds', () => {
    expect(retryAfter('7', now)).toBe(7000);
    expect(retryAfter('0', now)).toBe(0);
  });
  it('reads an HTTP date', () => {
    expect(retryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });
  it('in the core build, reads a date as no Retry-After (its backoff applies)', () => {
    G.__CS_RARE__ = false;
    expect(retryAfter('Sun, 22 Nov 2026 10:00:30 GMT', now)).toBe(0);
    expect(retryAfter('7', now)).toBe(7000);
  });
  it('ignores absent or unreadable values and caps huge ones at an hour', () => {
    expect(retryAfter(null, now)).toBe(0);
    expect(retryAfter('soon', now)).toBe(0);
    expect(retryAfter('-5', now)).toBe(0);
    expect(retryAfter('999999', now)).toBe(3_600_000);
  });
});

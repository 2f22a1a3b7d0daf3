/**
 * handlers/lib/deliver.ts: delivery that retries only the records PutRecordBatch reported as failed,
 * with capped, jittered backoff bounded by the time the Lambda has left. The clock, the random
 * source and sleep are injected, so nothing here waits for real.
 */
import { backoffMs, deliverWithRetry, type RetryPolicy, type SendBatch } from '../../handlers/lib/deliver';

const records = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`row-${i}\n`));
const names = (batch: Uint8Array[]) => batch.map((r) => Buffer.from(r).toString().trim());

/** A fake clock: sleep advances it, timeLeftMs reads it against a deadline. */
function policy(over: Partial<RetryPolicy> & { deadlineMs?: number } = {}) {
  const clock = { now: 0, sleeps: [] as number[] };
  const deadline = over.deadlineMs ?? 60_000;
  const p: RetryPolicy = {
    baseMs: 50,
    capMs: 1_000,
    maxAttempts: 6,
    timeLeftMs: () => deadline - clock.now,
    random: () => 0.5,
    sleep: async (ms) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
    ...over,
  };
  return { p, clock };
}

/** A fake PutRecordBatch that fails the records whose names are listed for each attempt. */
function fakeSend(failByAttempt: string[][]) {
  const calls: string[][] = [];
  let attempt = 0;
  const send: SendBatch = async (batch) => {
    const got = names(batch);
    calls.push(got);
    const fail = new Set(failByAttempt[attempt++] ?? []);
    const failed = got.flatMap((n, i) => (fail.has(n) ? [i] : []));
    return { failed, errorCodes: failed.map(() => 'ServiceUnavailableException') };
  };
  return { send, calls };
}

describe('deliverWithRetry', () => {
  it('delivers in one call when nothing fails', async () => {
    // Prepare
    const { send, calls } = fakeSend([]);
    const { p, clock } = policy();
    // Act
    const report = await deliverWithRetry(records(3), send, p);
    // Assess
    expect(report).toEqual({ delivered: 3, failed: 0, attempts: 1, lastError: undefined });
    expect(calls).toEqual([['row-0', 'row-1', 'row-2']]);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries only the failed record indexes, then succeeds', async () => {
    // Prepare: attempt 1 fails rows 1 and 3, attempt 2 fails row 3 again
    const { send, calls } = fakeSend([['row-1', 'row-3'], ['row-3']]);
    const { p } = policy();
    // Act
    const report = await deliverWithRetry(records(5), send, p);
    // Assess
    expect(calls).toEqual([['row-0', 'row-1', 'row-2', 'row-3', 'row-4'], ['row-1', 'row-3'], ['row-3']]);
    expect(report).toEqual({ delivered: 5, failed: 0, attempts: 3, lastError: 'ServiceUnavailableException' });
  });

  it('gives up after maxAttempts and reports what failed', async () => {
    // Prepare: row-0 fails every time
    const { send, calls } = fakeSend(Array.from({ length: 10 }, () => ['row-0']));
    const { p, clock } = policy({ maxAttempts: 4 });
    // Act
    const report = await deliverWithRetry(records(2), send, p);
    // Assess
    expect(calls).toEqual([['row-0', 'row-1'], ['row-0'], ['row-0'], ['row-0']]);
    expect(report).toEqual({ delivered: 1, failed: 1, attempts: 4, lastError: 'ServiceUnavailableException' });
    expect(clock.sleeps).toHaveLength(3);
  });

  it('retries the whole batch when the call throws (throttling after the SDK retries)', async () => {
    // Prepare
    const calls: string[][] = [];
    const send: SendBatch = async (batch) => {
      calls.push(names(batch));
      if (calls.length === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { failed: [] };
    };
    // Act
    const report = await deliverWithRetry(records(2), send, policy().p);
    // Assess
    expect(calls).toEqual([
      ['row-0', 'row-1'],
      ['row-0', 'row-1'],
    ]);
    expect(report).toEqual({ delivered: 2, failed: 0, attempts: 2, lastError: 'ThrottlingException' });
  });

  it('stops when the next backoff would not fit in the time left', async () => {
    // Prepare: random ~1 makes waits 49, 99, 199, ...; 300 ms left at the start
    const { send, calls } = fakeSend(Array.from({ length: 10 }, () => ['row-0']));
    const { p, clock } = policy({ deadlineMs: 300, random: () => 0.999, maxAttempts: 10 });
    // Act
    const report = await deliverWithRetry(records(1), send, p);
    // Assess: after 49 + 99 = 148 ms, 152 ms are left and 199 ms would not fit
    expect(clock.sleeps).toEqual([49, 99]);
    expect(calls).toHaveLength(3);
    expect(report).toMatchObject({ delivered: 0, failed: 1, attempts: 3 });
    expect(clock.now).toBeLessThanOrEqual(300);
  });

  it('does not retry at all when no time is left', async () => {
    const { send, calls } = fakeSend([['row-0']]);
    const { p, clock } = policy({ deadlineMs: 0 });
    const report = await deliverWithRetry(records(1), send, p);
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(report).toMatchObject({ failed: 1, attempts: 1 });
  });

  it('gives each call the time left as its budget, so a hung call cannot outlast the answer margin', async () => {
    // Prepare: 1,000 ms left; the first call fails after the clock moves 300 ms
    const budgets: number[] = [];
    const { p, clock } = policy({ deadlineMs: 1_000, random: () => 0 });
    const send: SendBatch = async (_batch, budgetMs) => {
      budgets.push(budgetMs);
      clock.now += 300;
      return budgets.length === 1 ? { failed: [0] } : { failed: [] };
    };
    // Act
    await deliverWithRetry(records(1), send, p);
    // Assess: the budget shrinks with the time used
    expect(budgets).toEqual([1_000, 700]);
  });

  it('sleeps with capped exponential backoff and jitter between attempts', async () => {
    // Prepare: half of the window every time; the window doubles from 50 ms and stops at 1,000 ms
    const { send } = fakeSend(Array.from({ length: 10 }, () => ['row-0']));
    const { p, clock } = policy({ maxAttempts: 8, random: () => 0.5 });
    // Act
    await deliverWithRetry(records(1), send, p);
    // Assess
    expect(clock.sleeps).toEqual([25, 50, 100, 200, 400, 500, 500]);
  });

  it('splits pending records into PutRecordBatch calls of at most 500 and maps failed indexes per call', async () => {
    // Prepare: 501 records: calls of 500 and 1; row-7 (first call) and row-500 (index 0 of the second) fail once
    const calls: string[][] = [];
    const failOnce = new Set(['row-7', 'row-500']);
    const send: SendBatch = async (batch) => {
      const got = names(batch);
      calls.push(got);
      const failed = got.flatMap((n, i) => (failOnce.delete(n) ? [i] : []));
      return { failed };
    };
    // Act
    const report = await deliverWithRetry(records(501), send, policy().p);
    // Assess
    expect(calls.map((c) => c.length)).toEqual([500, 1, 2]);
    expect(calls[2]).toEqual(['row-7', 'row-500']);
    expect(report).toMatchObject({ delivered: 501, failed: 0, attempts: 2 });
  });

  it('does nothing for no records', async () => {
    const { send, calls } = fakeSend([]);
    expect(await deliverWithRetry([], send, policy().p)).toEqual({ delivered: 0, failed: 0, attempts: 0, lastError: undefined });
    expect(calls).toEqual([]);
  });
});

describe('backoffMs', () => {
  const p = { baseMs: 50, capMs: 1_000 };

  it('is full jitter: from 0 up to (not including) the window', () => {
    expect(backoffMs(0, p, () => 0)).toBe(0);
    expect(backoffMs(0, p, () => 0.999_999)).toBe(49);
    expect(backoffMs(3, p, () => 0.999_999)).toBe(399);
  });

  it('caps the window', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const w = backoffMs(attempt, p, () => 0.999_999);
      expect(w).toBeLessThan(Math.min(p.capMs, p.baseMs * 2 ** attempt));
      expect(w).toBeGreaterThanOrEqual(0);
    }
    expect(backoffMs(30, p, () => 0.999_999)).toBe(999);
  });

  it('spreads retries with Math.random by default', async () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffMs(5, p, Math.random)));
    expect(waits.size).toBeGreaterThan(10);
  });
});

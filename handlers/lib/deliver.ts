/**
 * Delivery with retries of only the failed records (PutRecordBatch reports FailedPutCount and a
 * per-record ErrorCode; the call itself may also throw on throttling). Capped exponential backoff
 * with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"), bounded by the time
 * the Lambda has left, so a request answers 503 in time for the client to retry instead of timing out.
 * No AWS imports: the adapter passes in a `send` that maps to PutRecordBatch.
 */
import { chunkBatches, FIREHOSE_LIMITS } from './pack';

/**
 * One batch call: indexes (into the batch) of records that failed. `budgetMs` is the time the call
 * may take; past it the adapter abandons the call (it then counts as failed).
 */
export type SendBatch = (records: Uint8Array[], budgetMs: number) => Promise<{ failed: number[]; errorCodes?: string[] }>;

export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  maxAttempts: number;
  /** Milliseconds left for this call; retries stop when the next backoff would not fit. */
  timeLeftMs: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  attempts: number;
  lastError?: string;
}

/**
 * The ingest handler's policy: at most 6 PutRecordBatch calls, waits capped at 1 s. Exported so the
 * template test checks the Lambda timeout against these numbers, not a copy of them.
 */
export const INGEST_RETRY = { baseMs: 50, capMs: 1_000, maxAttempts: 6 } as const satisfies Pick<
  RetryPolicy,
  'baseMs' | 'capMs' | 'maxAttempts'
>;
/**
 * Time kept back to answer (503) before the Lambda timeout. The Lambda timeout itself stays under
 * API Gateway's: an HTTP API's maximum integration timeout is 30 s and cannot be raised (API Gateway
 * developer guide, "Quotas for configuring and running an HTTP API").
 */
export const ANSWER_MARGIN_MS = 1_000;

export const backoffMs = (attempt: number, p: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: () => number): number =>
  Math.floor(random() * Math.min(p.capMs, p.baseMs * 2 ** attempt));

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function deliverWithRetry(records: Uint8Array[], send: SendBatch, policy: RetryPolicy): Promise<DeliveryReport> {
  const random = policy.random ?? Math.random;
  const sleep = policy.sleep ?? defaultSleep;
  let pending = records;
  let attempts = 0;
  let lastError: string | undefined;
  while (pending.length > 0 && attempts < policy.maxAttempts) {
    if (attempts > 0) {
      const wait = backoffMs(attempts - 1, policy, random);
      if (wait >= policy.timeLeftMs()) break;
      await sleep(wait);
    }
    attempts++;
    const stillFailing: Uint8Array[] = [];
    for (const batch of chunkBatches(pending, FIREHOSE_LIMITS)) {
      try {
        // Bounded by the time left: a hung call must not run past the answer margin into the Lambda
        // timeout (a 500 from API Gateway instead of our 503).
        const { failed, errorCodes } = await send(batch, Math.max(0, policy.timeLeftMs()));
        for (const i of failed) stillFailing.push(batch[i] as Uint8Array);
        if (errorCodes?.length) lastError = errorCodes[0];
      } catch (err) {
        // Throttling or a 5xx after the SDK's own retries: the whole batch is retried.
        lastError = (err as Error).name || String(err);
        stillFailing.push(...batch);
      }
    }
    pending = stillFailing;
  }
  return { delivered: records.length - pending.length, failed: pending.length, attempts, lastError };
}

/**
 * The one place that creates the Firehose client, once, at module scope (reused across warm
 * invocations). The endpoint comes from the environment: unset on AWS, the local stand-in's URL
 * under `npm start`. The handler never knows which one it talks to.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { SendBatch } from '../lib/deliver';

const endpoint = process.env.FIREHOSE_ENDPOINT || undefined;

/**
 * Per attempt, milliseconds: to open the connection, and for the answer once the request is sent.
 * `throwOnRequestTimeout`: without it the SDK only logs a warning when requestTimeout passes.
 */
export const FIREHOSE_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true } as const;

export const firehose = new FirehoseClient({
  endpoint,
  // Lambda always hands the function its role's credentials in AWS_ACCESS_KEY_ID /
  // AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (local/start.ts sets the first two), so the default
  // provider chain (SSO, ini files, STS, IMDS...) is dead weight; the bundle stubs it out
  // (scripts/esbuild-plugins.js), which is only safe because credentials are given here.
  credentials: fromEnv(),
  // The SDK retries throttling/5xx of the whole call; deliverWithRetry retries failed records.
  maxAttempts: 2,
  // Bound every attempt. Without a timeout a connection that never answers holds the request until
  // the Lambda times out (and for ever under serverless offline's --noTimeout): no 503, no retry by
  // the SDK in the browser. PutRecordBatch normally answers in tens of milliseconds.
  requestHandler: FIREHOSE_TIMEOUTS,
});

export const sendTo =
  (stream: string): SendBatch =>
  async (records, budgetMs) => {
    const out = await firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records.map((Data) => ({ Data })) }), {
      abortSignal: AbortSignal.timeout(budgetMs),
    });
    const failed: number[] = [];
    const errorCodes: string[] = [];
    if (out.FailedPutCount) {
      out.RequestResponses?.forEach((r, i) => {
        if (r.ErrorCode) {
          failed.push(i);
          errorCodes.push(r.ErrorCode);
        }
      });
    }
    return { failed, errorCodes };
  };

/**
 * What the ingest handler's unit tests share: the environment it reads at import (its cold start),
 * the API Gateway v2 fixtures in test/events/, a Lambda context, and a clock where only Date is
 * fake (the retry loop's real timers still run).
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The deployed function's variables (serverless.yml functions.ingest.environment), with test values. */
export const INGEST_ENV = {
  EVENTS_STREAM_NAME: 'clickstream-test-events',
  REJECTS_STREAM_NAME: 'clickstream-test-rejects',
  VISITOR_SALT_SECRET: 'unit-test-secret-0123456789',
  SITES: JSON.stringify({
    shop: { origins: ['https://www.shop.example'], allowNoOrigin: false },
    demo: { origins: ['http://localhost:*'], allowNoOrigin: true },
  }),
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_SERVICE_NAME: 'clickstream-ingest',
  POWERTOOLS_METRICS_NAMESPACE: 'Clickstream',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

export type Fixture = APIGatewayProxyEventV2;
/** A real API Gateway v2 payload from test/events/. */
export const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(join(__dirname, '..', 'events', `${name}.json`), 'utf8')) as Fixture;

/** A Lambda context with `remainingMs` left. */
export const lambdaContext = (remainingMs = 10_000): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'clickstream-test-ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:clickstream-test-ingest',
  memoryLimitInMB: '512',
  awsRequestId: '3f1e2d4c-5b6a-4798-8a1b-2c3d4e5f6a7b',
  logGroupName: '/aws/lambda/clickstream-test-ingest',
  logStreamName: '2026/11/22/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => remainingMs,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** Fakes Date only, at `now`: the handler's clock. */
export function fakeDateOnly(now: number): void {
  jest.useFakeTimers({
    now,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/**
 * The catalogue of hostile requests (test/support/hostile-cases.ts), each with the answer it must get, run twice: through the pure
 * pipeline (processRequest) and through the real Lambda handler export with Firehose mocked at the
 * SDK client. For every case: no 5xx, valid events of the same batch are kept, every rejection
 * carries a reason, and Object.prototype is untouched after that very case (each case checks it
 * itself, so any one runs alone or in any order). Strings that look like SQL or HTML are data,
 * stored verbatim; test/integration/hostile-duckdb.test.ts reads them back through the saved-query
 * engine.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpApiEvent } from '../../handlers/ingest';
import { mockClient } from 'aws-sdk-client-mock';
import { configFromEnv, processRequest, type RequestInput, type StoredEvent } from '../../handlers/lib/pipeline';
import { assessAnswer, CASES, CHROME, NOW, SALT, SITES, SOURCE_IP, type Case } from '../support/hostile-cases';

const config = configFromEnv({ VISITOR_SALT_SECRET: SALT, SITES });

const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
/** Checked after every case, so the case that pollutes is the one that fails, whatever ran before. */
function expectPrototypeUntouched(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
}

function inputOf(c: Case): RequestInput {
  return {
    body: c.body,
    isBase64Encoded: c.base64,
    contentType: c.contentType ?? 'text/plain',
    userAgent: c.userAgent ?? CHROME,
    sourceIp: SOURCE_IP,
    origin: c.origin,
    requestId: 'req-hostile',
    receivedAt: NOW,
  };
}

test('the catalogue holds at least 50 distinct hostile inputs', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(50);
  expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
});

describe('hostile inputs through processRequest', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = processRequest(inputOf(c), config);

    assessAnswer(c, result.status, result.response as Record<string, unknown>);
    // Every rejection, per event or whole request, also becomes a reject row with its reason.
    const rejectedCount = c.status === 200 ? (c.reasons ?? []).length : 1;
    expect(result.rejects).toHaveLength(rejectedCount);
    for (const r of result.rejects) expect(r.reason.length).toBeGreaterThan(0);
    expect(result.events).toHaveLength(c.accepted ?? 0);
    expect(JSON.stringify(result.events)).not.toContain(SOURCE_IP);
    c.stored?.(result.events);
    expectPrototypeUntouched();
  });
});

describe('hostile inputs through the Lambda handler (Firehose mocked at the SDK client)', () => {
  const firehose = mockClient(FirehoseClient);
  const put: Record<string, Record<string, unknown>[]> = {};
  let handler: (e: HttpApiEvent, ctx: Context) => Promise<APIGatewayProxyStructuredResultV2>;

  const savedEnv = { ...process.env };
  beforeAll(async () => {
    // handlers/ingest.ts reads its configuration at import (cold start): set it first.
    Object.assign(process.env, {
      VISITOR_SALT_SECRET: SALT,
      SITES,
      EVENTS_STREAM_NAME: 'events-stream',
      REJECTS_STREAM_NAME: 'rejects-stream',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_METRICS_NAMESPACE: 'Test',
      POWERTOOLS_DEV: 'false',
    });
    ({ handler } = (await import('../../handlers/ingest')) as unknown as { handler: typeof handler });
  });
  beforeEach(() => {
    firehose.reset();
    for (const k of Object.keys(put)) delete put[k];
    firehose.on(PutRecordBatchCommand).callsFake((input: { DeliveryStreamName: string; Records: { Data: Uint8Array }[] }) => {
      const rows = input.Records.flatMap((r) =>
        Buffer.from(r.Data)
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
      put[input.DeliveryStreamName] = [...(put[input.DeliveryStreamName] ?? []), ...rows];
      return { FailedPutCount: 0, Encrypted: false, RequestResponses: input.Records.map((_, i) => ({ RecordId: `r${i}` })) };
    });
  });
  afterAll(() => {
    firehose.restore();
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  });

  const context = { functionName: 'ingest', awsRequestId: 'req-hostile', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  const apiEvent = (c: Case): HttpApiEvent => ({
    version: '2.0',
    routeKey: 'POST /v1/events',
    rawPath: '/v1/events',
    rawQueryString: '',
    headers: {
      'content-type': c.contentType ?? 'text/plain',
      'user-agent': c.userAgent ?? CHROME,
      ...(c.origin !== undefined ? { origin: c.origin } : {}),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      requestId: 'req-hostile',
      routeKey: 'POST /v1/events',
      stage: '$default',
      time: NOW.toUTCString(),
      timeEpoch: NOW.getTime(),
      http: { method: 'POST', path: '/v1/events', protocol: 'HTTP/1.1', sourceIp: SOURCE_IP, userAgent: c.userAgent ?? CHROME },
    },
    body: c.body,
    isBase64Encoded: c.base64 ?? false,
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const res = await handler(apiEvent(c), context);

    assessAnswer(c, res.statusCode!, JSON.parse(res.body!) as Record<string, unknown>);
    // What reached Firehose: exactly the accepted events, and a reject row per rejection.
    const events = put['events-stream'] ?? [];
    expect(events).toHaveLength(c.accepted ?? 0);
    expect(put['rejects-stream'] ?? []).toHaveLength(c.status === 200 ? (c.reasons ?? []).length : 1);
    expect(JSON.stringify(events)).not.toContain(SOURCE_IP);
    c.stored?.(events as unknown as StoredEvent[]);
    expectPrototypeUntouched();
  });
});

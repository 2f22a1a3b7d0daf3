/**
 * handlers/ingest.ts end to end, in process: real API Gateway HTTP API v2 payloads from
 * test/events/ go through middy, the pipeline and the retry loop; AWS is mocked at the Firehose
 * SDK client only (aws-sdk-client-mock), and the records it receives are decoded and checked.
 */
import { FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandInput } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { INGEST_RETRY } from '../../handlers/lib/deliver';
import { type Fixture, fakeDateOnly, fixture, INGEST_ENV, lambdaContext } from '../support/ingest-unit';

// The handler reads its configuration once, at import (cold start), as on AWS.
const ENV = {
  ...INGEST_ENV,
  URL_DROP_PARAMS: 'email,token',
  URL_DROP_QUERY: 'false',
  // Keep test output readable: no EMF metrics or JSON logs on stdout.
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};
const savedEnv = { ...process.env };
Object.assign(process.env, ENV);
const { handler } = require('../../handlers/ingest') as typeof import('../../handlers/ingest');

const context = lambdaContext;

const invoke = (event: Fixture, ctx = context()) => handler(event, ctx) as Promise<APIGatewayProxyStructuredResultV2>;

const firehose = mockClient(FirehoseClient);
const ok = (n = 1) => ({ FailedPutCount: 0, RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `r${i}` })) });

/** PutRecordBatch calls made to one stream. */
const callsTo = (stream: string): PutRecordBatchCommandInput[] =>
  firehose
    .commandCalls(PutRecordBatchCommand)
    .map((c) => c.args[0].input)
    .filter((i) => i.DeliveryStreamName === stream);
/** The NDJSON rows a stream received, decoded from the records' bytes. */
const rowsIn = (calls: PutRecordBatchCommandInput[]) =>
  calls
    .flatMap((c) => c.Records ?? [])
    .flatMap((r) =>
      Buffer.from(r.Data as Uint8Array)
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );

beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).resolves(ok());
  // The request "arrives" at the fixture's requestContext.timeEpoch. Only Date is faked: the
  // retry loop's real setTimeout still runs (with tiny waits, see below).
  fakeDateOnly(fixture('post-events-browser').requestContext.timeEpoch);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});
afterAll(() => {
  firehose.restore();
  process.env = savedEnv;
});

describe('POST /v1/events from a browser', () => {
  it('answers 200 with the accepted count and sends the enriched rows to the events stream', async () => {
    // Prepare
    const event = fixture('post-events-browser');
    // Act
    const res = await invoke(event);
    // Assess: the answer
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ accepted: 3, rejected: [] });
    expect(res.headers).toMatchObject({ 'content-type': 'application/json' });
    // Assess: what Firehose received
    const calls = callsTo(ENV.EVENTS_STREAM_NAME);
    expect(calls).toHaveLength(1);
    expect(callsTo(ENV.REJECTS_STREAM_NAME)).toHaveLength(0);
    const rows = rowsIn(calls);
    expect(rows.map((r) => r.event_id)).toEqual([
      '0193f2a1-0c11-7aaa-8b01-000000000001',
      '0193f2a1-0c11-7aaa-8b01-000000000002',
      '0193f2a1-0c11-7aaa-8b01-000000000003',
    ]);
    expect(rows[0]).toMatchObject({
      type: 'page_view',
      site_id: 'shop',
      received_at: '2026-11-22T10:00:10.000Z',
      sent_at: '2026-11-22T10:00:09.250Z',
      // skew-corrected: ts + (received_at - sent_at) = 10:00:01.000 + 0.750 s
      event_time: '2026-11-22T10:00:01.750Z',
      browser: 'Chrome',
      os: 'Windows',
      device_type: 'desktop',
      is_bot: false,
      host: 'www.shop.example',
      path: '/lamps',
      utm_source: 'newsletter',
      utm_campaign: 'autumn',
      source: 'newsletter',
      medium: 'email',
      referrer_type: 'email',
      url: 'https://www.shop.example/lamps?utm_source=newsletter&utm_medium=email&utm_campaign=autumn',
      schema_version: 1,
    });
    expect(rows[2]).toMatchObject({
      type: 'custom',
      name: 'add_to_cart',
      properties: JSON.stringify({ sku: 'LMP-042', price: 49.9, currency: 'EUR', gift: false }),
    });
    expect(rows[0]!.visitor_hash).toMatch(/^[0-9a-f]{16}$/);
    // One visitor hash per request, and neither the raw IP nor the dropped e-mail is stored
    expect(new Set(rows.map((r) => r.visitor_hash)).size).toBe(1);
    const stored = rowsIn(calls)
      .map((r) => JSON.stringify(r))
      .join('\n');
    expect(stored).not.toContain(event.requestContext.http.sourceIp);
    expect(stored).not.toContain('jane');
  });

  it("sets no CORS headers of its own: API Gateway answers CORS and ignores an integration's", async () => {
    const res = await invoke(fixture('post-events-browser'));
    expect(Object.keys(res.headers ?? {}).filter((k) => k.toLowerCase().startsWith('access-control-'))).toEqual([]);
  });

  it('answers 400, not 500, to an empty POST, whose body API Gateway passes as null', async () => {
    // Prepare: what an HTTP API (and serverless offline) sends for a POST without a body
    const event = { ...fixture('post-events-browser'), body: null, isBase64Encoded: false };
    // Act
    const res = await invoke(event as unknown as ReturnType<typeof fixture>);
    // Assess
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body as string)).toEqual({ error: 'body is empty: send {"site_id", "sent_at", "events": [...]}' });
    expect(rowsIn(callsTo(ENV.REJECTS_STREAM_NAME))).toEqual([
      expect.objectContaining({ event_index: -1, reason: expect.stringContaining('body is empty') }),
    ]);
  });

  it('keeps valid events of a mixed batch and sends the rejected ones, with reasons, to the rejects stream', async () => {
    // Act
    const res = await invoke(fixture('post-events-mixed'));
    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'name is required for custom events' },
        { index: 2, reason: 'event_id has the wrong format (expected a UUID v4 or v7)' },
        { index: 3, reason: 'duplicate event_id in this batch' },
      ],
    });
    const events = rowsIn(callsTo(ENV.EVENTS_STREAM_NAME));
    expect(events.map((r) => [r.event_id, r.device_type, r.browser])).toEqual([
      ['0193f2a1-0c11-7aaa-8b01-000000000011', 'mobile', 'Mobile Safari'],
      ['0193f2a1-0c11-7aaa-8b01-000000000013', 'mobile', 'Mobile Safari'],
    ]);
    const rejects = rowsIn(callsTo(ENV.REJECTS_STREAM_NAME));
    expect(rejects.map((r) => [r.event_index, r.reason, r.event_id])).toEqual([
      [1, 'name is required for custom events', '0193f2a1-0c11-7aaa-8b01-000000000012'],
      [2, 'event_id has the wrong format (expected a UUID v4 or v7)', 'not-a-uuid'],
      [3, 'duplicate event_id in this batch', '0193f2a1-0c11-7aaa-8b01-000000000011'],
    ]);
    expect(rejects[0]).toMatchObject({ site_id: 'shop', request_id: 'Jx2kQhR1DoEEJcA=', received_at: '2026-11-22T10:00:10.000Z' });
    expect(JSON.parse(rejects[0]!.event as string)).toMatchObject({ type: 'custom', ts: '2026-11-22T10:00:03.000Z' });
  });

  it('decodes a base64 body from a tool without Origin (curl) and sends no CORS header', async () => {
    // Act
    const res = await invoke(fixture('post-events-curl-base64'));
    // Assess
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ accepted: 1, rejected: [] });
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    expect(rowsIn(callsTo(ENV.EVENTS_STREAM_NAME))[0]).toMatchObject({
      site_id: 'demo',
      name: 'curl_test',
      is_bot: true,
      properties: '{"note":"Café ✓"}',
    });
  });
});

describe('requests the handler refuses', () => {
  it('403 for a disallowed origin, without CORS headers, logged to rejects only', async () => {
    // Act
    const res = await invoke(fixture('post-events-bad-origin'));
    // Assess
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(res.body as string)).toEqual({ error: "origin https://evil.example is not allowed for site 'shop'" });
    expect(res.headers).not.toHaveProperty('access-control-allow-origin');
    expect(callsTo(ENV.EVENTS_STREAM_NAME)).toHaveLength(0);
    expect(rowsIn(callsTo(ENV.REJECTS_STREAM_NAME))).toEqual([
      expect.objectContaining({ event_index: -1, site_id: 'shop', reason: "origin https://evil.example is not allowed for site 'shop'" }),
    ]);
  });

  it('400 for a malformed body, recorded in the rejects stream', async () => {
    // Act
    const res = await invoke(fixture('post-events-malformed'));
    // Assess
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body as string).error).toMatch(/^body is not valid JSON/);
    expect(callsTo(ENV.EVENTS_STREAM_NAME)).toHaveLength(0);
    expect(rowsIn(callsTo(ENV.REJECTS_STREAM_NAME))[0]).toMatchObject({ event_index: -1, request_id: 'Jx2kTkU4DoEEJfD=' });
  });

  it('415 for a content type the endpoint does not take', async () => {
    // Prepare
    const event = fixture('post-events-browser');
    event.headers['content-type'] = 'application/xml';
    // Act
    const res = await invoke(event);
    // Assess
    expect(res.statusCode).toBe(415);
    expect(callsTo(ENV.EVENTS_STREAM_NAME)).toHaveLength(0);
  });
});

describe('delivery to Firehose', () => {
  it('retries a partial FailedPutCount and then answers 200', async () => {
    // Prepare: the first call to the events stream fails its only record, the second succeeds
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .resolvesOnce({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }] })
      .resolves(ok());
    // Act
    const res = await invoke(fixture('post-events-browser'));
    // Assess: the same record was sent again
    expect(res.statusCode).toBe(200);
    const calls = callsTo(ENV.EVENTS_STREAM_NAME);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.Records).toEqual(calls[0]!.Records);
    expect(rowsIn([calls[1]!])).toHaveLength(3);
  });

  it('answers 503 with retry-after when the events cannot be stored after retries', async () => {
    // Prepare: every call fails; no jitter, so the retries do not wait
    jest.spyOn(Math, 'random').mockReturnValue(0);
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }] });
    // Act
    const res = await invoke(fixture('post-events-browser'));
    // Assess: retryable status and a hint when to retry (a page reads it through API Gateway's exposedResponseHeaders)
    expect(res.statusCode).toBe(503);
    expect(res.headers).toMatchObject({ 'retry-after': '1' });
    expect(JSON.parse(res.body as string)).toEqual({ error: 'events could not be stored right now; retry later' });
    // Bounded by the handler's policy (test/infra/template.test.ts checks it fits the Lambda timeout)
    expect(callsTo(ENV.EVENTS_STREAM_NAME)).toHaveLength(INGEST_RETRY.maxAttempts);
  });

  it('answers 503 when Firehose throttles every call', async () => {
    // Prepare
    jest.spyOn(Math, 'random').mockReturnValue(0);
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    // Act
    const res = await invoke(fixture('post-events-browser'));
    // Assess
    expect(res.statusCode).toBe(503);
  });

  it('stops retrying when the Lambda is about to time out', async () => {
    // Prepare: 1.1 s left, of which the handler keeps 1 s to answer; waits are 49, 99, 199 ms, ...
    jest.spyOn(Math, 'random').mockReturnValue(0.999);
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException' }] });
    // Act
    const res = await invoke(fixture('post-events-browser'), context(1_100));
    // Assess: waits of 49 and 99 ms fit in the 100 ms left, 199 ms does not
    expect(res.statusCode).toBe(503);
    expect(callsTo(ENV.EVENTS_STREAM_NAME)).toHaveLength(3);
  });

  it('still answers 200 when only the rejects stream fails: the valid events are stored', async () => {
    // Prepare
    jest.spyOn(Math, 'random').mockReturnValue(0);
    firehose.on(PutRecordBatchCommand, { DeliveryStreamName: ENV.REJECTS_STREAM_NAME }).rejects(new Error('rejects stream down'));
    // Act
    const res = await invoke(fixture('post-events-mixed'));
    // Assess
    expect(res.statusCode).toBe(200);
    expect(rowsIn(callsTo(ENV.EVENTS_STREAM_NAME))).toHaveLength(2);
  });
});

describe('unexpected errors and configuration', () => {
  /** Loads a fresh copy of the handler (a new cold start) with the given environment. */
  function coldStart(env: Record<string, string | undefined>, mocks: () => void = () => undefined) {
    const before = { ...process.env };
    Object.assign(process.env, ENV, env);
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    try {
      let loaded: typeof import('../../handlers/ingest') | undefined;
      jest.isolateModules(() => {
        mocks();
        loaded = require('../../handlers/ingest');
      });
      return loaded!;
    } finally {
      process.env = before;
    }
  }

  it('turns an unexpected error into a generic 500 that leaks nothing', async () => {
    // Prepare: a fault deep in the pipeline, with internals in its message
    const secret = 'connection string postgres://admin:hunter2@10.0.0.5/db';
    const fresh = coldStart({}, () => {
      jest.doMock('../../handlers/lib/useragent', () => ({
        parseUserAgent: () => {
          throw new TypeError(secret);
        },
      }));
    });
    // Act
    const res = (await fresh.handler(fixture('post-events-browser'), context())) as APIGatewayProxyStructuredResultV2;
    // Assess
    expect(res.statusCode).toBe(500);
    const text = JSON.stringify(res);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('TypeError');
    expect(text).not.toContain('useragent');
    expect(text).not.toContain('at ');
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['EVENTS_STREAM_NAME is missing', { EVENTS_STREAM_NAME: undefined }, /^EVENTS_STREAM_NAME must be set$/],
    ['REJECTS_STREAM_NAME is missing', { REJECTS_STREAM_NAME: undefined }, /^REJECTS_STREAM_NAME must be set$/],
    ['VISITOR_SALT_SECRET is too short', { VISITOR_SALT_SECRET: 'short' }, /^VISITOR_SALT_SECRET must be set \(at least 16 characters\)/],
    ['SITES is not JSON', { SITES: '{shop' }, /^SITES must be JSON like /],
  ])('fails the cold start with a clear message when %s', (_name, env, message) => {
    expect(() => coldStart(env)).toThrow(expect.objectContaining({ name: 'ConfigError', message: expect.stringMatching(message) }));
  });
});

/**
 * The ingest function's metrics lines (handlers/ingest-metrics.ts, handlers/lib/count-window.ts):
 * EventsAccepted / EventsRejected summed across invocations and written at most once a minute per
 * execution environment, DeliveryFailed written at once. The handler runs in process with
 * Powertools Metrics enabled; AWS is mocked at the Firehose SDK client only, and what the function
 * writes to stdout/stderr (what CloudWatch Logs ingests on Lambda) is captured and parsed.
 */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { METRICS_INTERVAL_MS } from '../../handlers/ingest-metrics';
import { CountWindow, MAX_METRIC_AGE_MS, metricTimestamp } from '../../handlers/lib/count-window';
import { fakeDateOnly, fixture, INGEST_ENV, lambdaContext } from '../support/ingest-unit';

const ENV = {
  ...INGEST_ENV,
  // Metrics on, as deployed; the Logger at ERROR, so a successful invocation should write nothing at all.
  POWERTOOLS_METRICS_DISABLED: 'false',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};
const savedEnv = { ...process.env };
Object.assign(process.env, ENV);
const { handler } = require('../../handlers/ingest') as typeof import('../../handlers/ingest');

/** A line the function writes: an EMF document (with _aws) or a Logger line. */
interface Line {
  _aws?: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}
type EmfLine = Line & { _aws: NonNullable<Line['_aws']> };
const T0 = fixture('post-events-browser').requestContext.timeEpoch;

const context = () => lambdaContext();

const firehose = mockClient(FirehoseClient);
const ok = { FailedPutCount: 0, RequestResponses: [{ RecordId: 'r0' }] };

/** Everything the function writes while `act` runs, split into lines. */
let written: string[] = [];
beforeEach(() => {
  firehose.reset();
  firehose.on(PutRecordBatchCommand).resolves(ok);
  written = [];
  for (const stream of [process.stdout, process.stderr])
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
  // Only Date is faked: the handler's clock. The retry loop's real timers still run.
  fakeDateOnly(T0);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});
afterAll(() => {
  firehose.restore();
  process.env = savedEnv;
});

const lines = () =>
  written
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const emfLines = () => lines().filter((l): l is EmfLine => l._aws !== undefined);
const bytes = () => written.reduce((n, s) => n + Buffer.byteLength(s), 0);

/** Invokes at `at` (epoch ms) and returns what the answer reports accepted and rejected. */
async function invokeAt(at: number, name: string): Promise<{ status: number; accepted: number; rejected: number }> {
  jest.setSystemTime(at);
  const res = (await handler(fixture(name), context())) as APIGatewayProxyStructuredResultV2;
  const body = JSON.parse(res.body as string) as { accepted?: number; rejected?: unknown[] };
  return { status: res.statusCode as number, accepted: body.accepted ?? 0, rejected: body.rejected?.length ?? 0 };
}

// One module-scope window is shared by every test below (as by every invocation of one
// environment): each test starts far enough after the last to close what the one before left open.
let clock = T0;
const nextTest = () => {
  clock += 10 * METRICS_INTERVAL_MS;
  return clock;
};

describe('EventsAccepted / EventsRejected across invocations of one execution environment', () => {
  it('writes a call after a quiet minute at once, nothing on calls inside the window, then one line with their sums', async () => {
    const start = nextTest();
    // Act: the first invocation after a quiet interval (each test starts ten intervals after the last)
    const first = await invokeAt(start, 'post-events-mixed');
    // Assess: written at once, on its own, dated now (it may be the environment's only invocation)
    const own = emfLines();
    expect(own.map((l) => [l._aws.Timestamp, l.EventsAccepted, l.EventsRejected])).toEqual([[start, first.accepted, first.rejected]]);
    written = [];
    // Act: more invocations within the minute, mixed accepted and rejected
    const answers: { status: number; accepted: number; rejected: number }[] = [];
    const names = ['post-events-browser', 'post-events-mixed', 'post-events-curl-base64', 'post-events-browser', 'post-events-mixed'];
    for (const [i, name] of names.entries()) answers.push(await invokeAt(start + 1_000 + i * 11_000, name));
    // Assess: not one byte of logs on those successful invocations
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(bytes()).toBe(0);
    // Act: the first invocation at the end of the window, which opened at start + 1 s
    const closing = await invokeAt(start + 1_000 + METRICS_INTERVAL_MS, 'post-events-browser');
    // Assess: exactly one EMF line, with the window's sums, dated at the window's start
    const emf = emfLines();
    expect(emf).toHaveLength(1);
    const line = emf[0]!;
    expect(line.EventsAccepted).toBe(answers.reduce((n, a) => n + a.accepted, 0));
    expect(line.EventsRejected).toBe(answers.reduce((n, a) => n + a.rejected, 0));
    expect(line.EventsRejected).toBeGreaterThan(0);
    expect(line._aws.Timestamp).toBe(start + 1_000);
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Clickstream', Dimensions: [['service']] });
    expect(line.service).toBe('clickstream-ingest');
    // The closing invocation opened the next window: a call after a lull writes it, then itself.
    written = [];
    const later = await invokeAt(start + 5 * METRICS_INTERVAL_MS, 'post-events-mixed');
    expect(emfLines().map((l) => [l._aws.Timestamp, l.EventsAccepted, l.EventsRejected])).toEqual([
      [start + 1_000 + METRICS_INTERVAL_MS, closing.accepted, closing.rejected],
      [start + 5 * METRICS_INTERVAL_MS, later.accepted, later.rejected],
    ]);
    expect(later.status).toBe(200);
  });

  it('a site with a request every few minutes has every one written, each under its own time', async () => {
    const start = nextTest();
    const sent: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const at = start + i * 3 * METRICS_INTERVAL_MS;
      const a = await invokeAt(at, i % 2 ? 'post-events-mixed' : 'post-events-browser');
      sent.push([at, a.accepted, a.rejected]);
    }
    // Nothing is left in an open window for Lambda's shutdown of the environment to lose.
    expect(emfLines().map((l) => [l._aws.Timestamp, l.EventsAccepted, l.EventsRejected])).toEqual(sent);
  });

  it('counts an environment that sits idle: its next invocation writes the old window, dated when it started', async () => {
    const start = nextTest();
    await invokeAt(start, 'post-events-browser');
    await invokeAt(start + 10_000, 'post-events-browser');
    await invokeAt(start + 20_000, 'post-events-browser');
    written = [];
    // Act: hours later
    const a = await invokeAt(start + 3 * 3600_000, 'post-events-mixed');
    // Assess: the window of the two calls after the first, filed under its own minute, then the call itself
    expect(emfLines().map((l) => [l._aws.Timestamp, l.EventsAccepted])).toEqual([
      [start + 10_000, 6],
      [start + 3 * 3600_000, a.accepted],
    ]);
    expect(a.status).toBe(200);
  });
});

describe('DeliveryFailed', () => {
  it('is written at once on the failing invocation, and the events it could not store are not counted as accepted', async () => {
    const start = nextTest();
    await invokeAt(start, 'post-events-browser'); // after a quiet interval: written at once
    await invokeAt(start + 500, 'post-events-browser'); // opens a window
    written = [];
    // Prepare: the events stream fails every attempt; no backoff jitter, so the retries do not wait
    jest.spyOn(Math, 'random').mockReturnValue(0);
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }] });
    // Act
    const failed = await invokeAt(start + 1_000, 'post-events-browser');
    // Assess: a 503 and its own line, now, with only DeliveryFailed in it (the alarm's metric and dimensions)
    expect(failed.status).toBe(503);
    const emf = emfLines();
    expect(emf).toHaveLength(1);
    expect(emf[0]!.DeliveryFailed).toBe(1);
    expect(emf[0]!._aws.Timestamp).toBe(start + 1_000);
    expect(emf[0]!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name)).toEqual(['DeliveryFailed']);
    expect(emf[0]!.service).toBe('clickstream-ingest');
    // The error is still logged, beside the metric
    expect(
      lines()
        .filter((l) => l.level === 'ERROR')
        .map((l) => l.message),
    ).toEqual(['events could not be delivered']);
    // Act: delivery works again; the window closes a minute after it opened
    firehose.reset();
    firehose.on(PutRecordBatchCommand).resolves(ok);
    written = [];
    await invokeAt(start + 500 + METRICS_INTERVAL_MS, 'post-events-browser');
    // Assess: the window holds the second invocation's 3 events only, not the 3 that failed
    const window = emfLines();
    expect(window).toHaveLength(1);
    expect(window[0]!.EventsAccepted).toBe(3);
    expect(window[0]!.DeliveryFailed).toBeUndefined();
  });

  it('a failing invocation that also closes a window writes both, the window first and under its own time', async () => {
    const start = nextTest();
    await invokeAt(start, 'post-events-mixed'); // after a quiet interval: written at once
    await invokeAt(start + 10_000, 'post-events-mixed'); // opens a window
    await invokeAt(start + 40_000, 'post-events-mixed');
    written = [];
    jest.spyOn(Math, 'random').mockReturnValue(0);
    firehose
      .on(PutRecordBatchCommand, { DeliveryStreamName: ENV.EVENTS_STREAM_NAME })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const failed = await invokeAt(start + 10_000 + METRICS_INTERVAL_MS, 'post-events-browser');
    expect(failed.status).toBe(503);
    const emf = emfLines();
    expect(emf.map((l) => [l._aws.Timestamp, l.EventsAccepted, l.EventsRejected, l.DeliveryFailed])).toEqual([
      [start + 10_000, 4, 6, undefined],
      [start + 10_000 + METRICS_INTERVAL_MS, undefined, undefined, 1],
    ]);
  });
});

describe('CountWindow (pure)', () => {
  const keys = ['a', 'b'] as const;
  it('hands every count out exactly once, at most once per interval, whatever the spacing of the calls', () => {
    // Prepare: pseudo-random gaps (mostly seconds, sometimes minutes) and counts, fixed seed
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const w = new CountWindow(keys, 60_000);
    let now = 1_000_000;
    let last = -Infinity;
    let sentA = 0;
    let sentB = 0;
    let gotA = 0;
    let gotB = 0;
    let lastOut = -Infinity;
    let alone = 0;
    // Act
    for (let i = 0; i < 2_000; i++) {
      now += rnd(4) === 0 ? rnd(200_000) : rnd(5_000);
      const c = { a: rnd(30), b: rnd(3) };
      sentA += c.a;
      sentB += c.b;
      const out = w.add(now, c);
      const quiet = now - last >= 60_000;
      if (out.length) {
        // Assess: hand-outs at least an interval apart
        expect(now - lastOut).toBeGreaterThanOrEqual(60_000);
        lastOut = now;
      }
      for (const closed of out) {
        if (closed.startedAt === now && closed.invocations === 1 && quiet) {
          // a count after a quiet interval, on its own
          expect(closed.totals).toEqual(c);
          alone++;
        } else expect(now - closed.startedAt).toBeGreaterThanOrEqual(60_000);
        gotA += closed.totals.a;
        gotB += closed.totals.b;
      }
      // Assess: a quiet call always hands itself out
      if (quiet) expect(out.at(-1)).toEqual({ startedAt: now, invocations: 1, totals: c });
      last = now;
    }
    expect(alone).toBeGreaterThan(50);
    // Assess: what is still open plus what was handed out is everything counted
    const rest = w.add(now + 60_000, { a: 0, b: 0 });
    expect(gotA + rest.reduce((n, r) => n + r.totals.a, 0)).toBe(sentA);
    expect(gotB + rest.reduce((n, r) => n + r.totals.b, 0)).toBe(sentB);
  });

  it('closes on a clock stepped back, and files under a time CloudWatch keeps', () => {
    const w = new CountWindow(keys, 60_000);
    expect(w.add(5_000_000, { a: 1, b: 0 })).toEqual([{ startedAt: 5_000_000, invocations: 1, totals: { a: 1, b: 0 } }]);
    expect(w.add(5_001_000, { a: 2, b: 0 })).toEqual([]);
    expect(w.add(4_000_000, { a: 3, b: 1 })).toEqual([
      { startedAt: 5_001_000, invocations: 1, totals: { a: 2, b: 0 } },
      { startedAt: 4_000_000, invocations: 1, totals: { a: 3, b: 1 } },
    ]);
    expect(metricTimestamp(5_000_000, 4_000_000)).toBe(4_000_000);
    const now = Date.UTC(2026, 11, 3);
    expect(metricTimestamp(now - 60_000, now)).toBe(now - 60_000);
    expect(metricTimestamp(now - 20 * 24 * 3600_000, now)).toBe(now - MAX_METRIC_AGE_MS);
    expect(MAX_METRIC_AGE_MS).toBeLessThan(14 * 24 * 3600_000);
  });
});

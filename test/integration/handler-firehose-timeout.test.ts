/**
 * handlers/clients/firehose.ts against a real socket that accepts a request and never answers: no
 * SDK mock here, so the client's own timeouts are what is tested.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';

describe('sendTo against an endpoint that never answers', () => {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  const env = { ...process.env };

  beforeAll(async () => {
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    Object.assign(process.env, {
      FIREHOSE_ENDPOINT: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
  });
  afterAll(async () => {
    process.env = env;
    for (const s of sockets) s.destroy();
    await new Promise((ok) => server.close(ok));
  });

  it('gives up within its timeouts instead of waiting for ever, so the handler can still answer 503', async () => {
    // Prepare: the module reads FIREHOSE_ENDPOINT when it loads
    const { sendTo, FIREHOSE_TIMEOUTS } = await import('../../handlers/clients/firehose');
    // Act
    const started = Date.now();
    const error = await sendTo('clickstream-events-test')([Buffer.from('{"i":0}\n')], 60_000).then(
      () => undefined,
      (e: Error) => e,
    );
    const took = Date.now() - started;
    // Assess: it fails (deliverWithRetry then retries the records or answers 503) after at most the
    // SDK's two attempts, each cut at its request timeout
    expect(sockets.size).toBeGreaterThan(0);
    expect(error?.name).toBe('TimeoutError');
    expect(took).toBeLessThan(2 * (FIREHOSE_TIMEOUTS.connectionTimeout + FIREHOSE_TIMEOUTS.requestTimeout) + 3_000);
  }, 20_000);

  it('gives up when the time the handler has left runs out, even inside one attempt', async () => {
    const { sendTo, FIREHOSE_TIMEOUTS } = await import('../../handlers/clients/firehose');
    // Act: 300 ms left, far less than one attempt's own bound
    const started = Date.now();
    const error = await sendTo('clickstream-events-test')([Buffer.from('{"i":1}\n')], 300).then(
      () => undefined,
      (e: Error) => e,
    );
    const took = Date.now() - started;
    // Assess: abandoned at the budget, not at the client's timeouts
    expect(error).toBeDefined();
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(FIREHOSE_TIMEOUTS.requestTimeout);
  }, 20_000);
});

/**
 * The cost model (bench/cost.ts bill()) is pure arithmetic on list prices and measured bytes: check
 * its lines against hand-computed bills, so a wrong formula cannot publish a wrong figure.
 */
import { bill, designs, type Measured, type ModelOptions } from '../../bench/cost';
import { GB, PRICES } from '../../bench/prices';

// Prepare: round, fixed inputs instead of this machine's measurements.
const measured: Measured = {
  rowBytes: 600,
  wireEventBytes: 300,
  envelopeBytes: 100,
  gzipRatio: () => 0.1,
  pipelineUsPerRequest: () => 0, // CPU time out of the way: duration = overhead + put wait
  simulatedEventsPerRequest: 3,
};
const options: ModelOptions = {
  eventsPerMonth: 10_000_000, arch: 'arm64', putMs: 20, memoryMB: 512,
  bufferSeconds: 60, bufferMB: 64, transitionDays: 30, expirationDays: 400, savedQueries: 14, alarms: 8,
};
const N = options.eventsPerMonth;
const line = (b: ReturnType<typeof bill>, service: string, item: string) => {
  const found = b.lines.filter((l) => l.service === service && l.item.startsWith(item));
  expect(found).toHaveLength(1);
  return found[0]!.usd;
};
const [ours, onePerRequest, onePerRecord, rest] = designs(measured, 20);

describe('cost model', () => {
  it('bills HTTP API requests per request: 20 events per request is 1/20 of the events', () => {
    const b = bill(ours!, measured, options);
    expect(line(b, 'API Gateway', 'HTTP API')).toBeCloseTo((N / 20) * PRICES.apiGateway.httpPerMillion / 1e6, 9);
    const single = bill(onePerRequest!, measured, options);
    expect(line(single, 'API Gateway', 'HTTP API')).toBeCloseTo(N * PRICES.apiGateway.httpPerMillion / 1e6, 9);
  });

  it('rounds every Firehose record up to 5 KB: one 600-byte event per record bills 5 KB per event', () => {
    const b = bill(onePerRecord!, measured, options);
    expect(line(b, 'Firehose', 'ingestion')).toBeCloseTo(((N * 5 * 1024) / GB) * PRICES.firehose.perGB, 9);
  });

  it('packs a request into one record: 20 x 600 B = 12,000 B bills as 15 KB per 20 events', () => {
    const b = bill(ours!, measured, options);
    expect(line(b, 'Firehose', 'ingestion')).toBeCloseTo((((N / 20) * 15 * 1024) / GB) * PRICES.firehose.perGB, 9);
  });

  it('bills Lambda per request and per GB-second of whole milliseconds', () => {
    const b = bill(ours!, measured, options);
    expect(b.facts.lambda_billed_ms).toBe(21); // 0 CPU + 1 ms overhead + 20 ms put
    expect(line(b, 'Lambda', 'requests')).toBeCloseTo((N / 20) * PRICES.lambda.requestPerMillion / 1e6, 9);
    expect(line(b, 'Lambda', 'duration')).toBeCloseTo((N / 20) * 0.5 * 0.021 * PRICES.lambda.gbSecond.arm64, 9);
  });

  it('the REST-to-Firehose lab design has no Lambda and pays REST prices per event', () => {
    const b = bill(rest!, measured, options);
    expect(b.lines.some((l) => l.service === 'Lambda')).toBe(false);
    expect(line(b, 'API Gateway', 'REST API')).toBeCloseTo(N * PRICES.apiGateway.restPerMillion / 1e6, 9);
  });

  it('per million events counts only the lines that grow with events', () => {
    const b = bill(ours!, measured, options);
    const perEvent = b.lines.filter((l) => l.perEvent).reduce((s, l) => s + l.usd, 0);
    const fixed = b.lines.filter((l) => !l.perEvent).reduce((s, l) => s + l.usd, 0);
    expect(fixed).toBeGreaterThan(0); // Athena, alarms, the secret
    expect(b.perMillionUsd).toBeCloseTo((perEvent / N) * 1e6, 9);
    expect(b.totalUsd).toBeCloseTo(perEvent + fixed, 9);
  });

  it('orders the designs as the issue expects: batching is cheapest, REST-to-Firehose dearest', () => {
    const [a, b, c, d] = [ours, onePerRequest, onePerRecord, rest].map((x) => bill(x!, measured, options).perMillionUsd);
    expect(a).toBeLessThan(c!);
    expect(c).toBeLessThan(b!);
    expect(b).toBeLessThan(d!);
  });
});

/**
 * The cost model (bench/cost.ts bill()) is pure arithmetic on list prices and measured bytes: check
 * its lines against hand-computed bills, so a wrong formula cannot publish a wrong figure.
 */
import {
  ASSUMPTIONS,
  appLogBytes,
  bill,
  designs,
  edgeFreeTierUsd,
  edgeScriptUsd,
  interpolate,
  loggingOf,
  platformLogBytes,
  wafMonthUsd,
  type Logging,
  type Measured,
  type ModelOptions,
} from '../../bench/cost';
import { GB, PRICES } from '../../bench/prices';

// Prepare: round, fixed inputs instead of this machine's measurements.
const measured: Measured = {
  rowBytes: 600,
  wireEventBytes: 300,
  envelopeBytes: 100,
  gzipRatio: () => 0.1,
  invocationCpuUs: () => 0, // CPU time out of the way: duration = put wait
  coldStartCpuMs: 0,
  appLogBytesPerInvocation: 300,
  simulatedEventsPerRequest: 3,
};
const quiet: Logging = { format: 'JSON', systemLevel: 'WARN', applicationLevel: 'INFO' };
const options: ModelOptions = {
  eventsPerMonth: 10_000_000,
  arch: 'arm64',
  putMs: 20,
  memoryMB: 512,
  bufferSeconds: 60,
  bufferMB: 64,
  transitionDays: 30,
  expirationDays: 400,
  savedQueries: 14,
  alarms: 8,
  logging: quiet,
  // The edge's lines are checked on their own below; off here so each other line stands alone.
  edge: false,
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
    expect(line(b, 'API Gateway', 'HTTP API')).toBeCloseTo(((N / 20) * PRICES.apiGateway.httpPerMillion) / 1e6, 9);
    const single = bill(onePerRequest!, measured, options);
    expect(line(single, 'API Gateway', 'HTTP API')).toBeCloseTo((N * PRICES.apiGateway.httpPerMillion) / 1e6, 9);
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
    expect(b.facts.lambda_billed_ms).toBe(20); // 0 CPU + 20 ms put
    expect(line(b, 'Lambda', 'requests')).toBeCloseTo(((N / 20) * PRICES.lambda.requestPerMillion) / 1e6, 9);
    expect(line(b, 'Lambda', 'duration')).toBeCloseTo((N / 20) * 0.5 * 0.02 * PRICES.lambda.gbSecond.arm64, 9);
  });

  it('divides measured CPU by the vCPU share the memory size buys (1,769 MB = one vCPU), then rounds up to 1 ms', () => {
    // 1,769 us of CPU at one full core: 1.769 ms at 1,769 MB, twice as long at half the memory.
    const cpu: Measured = { ...measured, invocationCpuUs: () => 1_769, coldStartCpuMs: 100 };
    const half = bill(ours!, cpu, { ...options, memoryMB: 884.5 });
    expect(half.facts.lambda_billed_ms).toBe(Math.ceil(2 * 1.769 + 20));
    const full = bill(ours!, cpu, { ...options, memoryMB: 1_769 });
    expect(full.facts.lambda_billed_ms).toBe(Math.ceil(1.769 + 20));
    // More memory than one vCPU's worth buys no more speed for this single-threaded handler.
    expect(bill(ours!, cpu, { ...options, memoryMB: 3_538 }).facts.lambda_billed_ms).toBe(full.facts.lambda_billed_ms);
    // A cold start's INIT is billed too: 1 % of invocations x 100 ms / share.
    expect(full.facts.lambda_init_ms).toBe(100);
    expect(line(full, 'Lambda', 'INIT')).toBeCloseTo((N / 20) * 0.01 * 0.1 * (1_769 / 1024) * PRICES.lambda.gbSecond.arm64, 9);
  });

  it('at the same duration, halving the memory halves the duration line', () => {
    const a = line(bill(ours!, measured, { ...options, memoryMB: 256 }), 'Lambda', 'duration');
    const b = line(bill(ours!, measured, { ...options, memoryMB: 512 }), 'Lambda', 'duration');
    expect(a).toBeCloseTo(b / 2, 12);
  });

  it('at our duration (~2 ms of CPU, ~20 ms waiting on Firehose) the smallest size priced is the cheapest, at 3 and at 20 events/request', () => {
    const ours2: Measured = { ...measured, invocationCpuUs: () => 2_000, coldStartCpuMs: 75 };
    const lambdaUsd = (k: number, memoryMB: number) =>
      bill(designs(ours2, k)[0]!, ours2, { ...options, memoryMB })
        .lines.filter((l) => l.service === 'Lambda')
        .reduce((s, l) => s + l.usd, 0);
    for (const k of [3, 20]) {
      expect(lambdaUsd(k, 256)).toBeLessThan(lambdaUsd(k, 512));
      expect(lambdaUsd(k, 512)).toBeLessThan(lambdaUsd(k, 1024));
    }
  });

  it('the REST-to-Firehose lab design has no Lambda and pays REST prices per event', () => {
    const b = bill(rest!, measured, options);
    expect(b.lines.some((l) => l.service === 'Lambda')).toBe(false);
    expect(line(b, 'API Gateway', 'REST API')).toBeCloseTo((N * PRICES.apiGateway.restPerMillion) / 1e6, 9);
  });

  it('per million events counts only the lines that grow with events', () => {
    const b = bill(ours!, measured, options);
    const perEvent = b.lines.filter((l) => l.perEvent).reduce((s, l) => s + l.usd, 0);
    const fixed = b.lines.filter((l) => !l.perEvent).reduce((s, l) => s + l.usd, 0);
    expect(fixed).toBeGreaterThan(0); // Athena, alarms, the secret
    expect(b.perMillionUsd).toBeCloseTo((perEvent / N) * 1e6, 9);
    expect(b.totalUsd).toBeCloseTo(perEvent + fixed, 9);
  });

  it("logs: the measured function line plus Lambda's own lines as the LoggingConfig lets them through", () => {
    // Text format (Lambda's default): START, END and REPORT on every invocation.
    const text: Logging = { format: 'Text', systemLevel: 'INFO', applicationLevel: 'INFO' };
    const textBytes = platformLogBytes(text, 512);
    expect(textBytes).toBeGreaterThan(150);
    expect(bill(ours!, measured, { ...options, logging: text }).facts.log_bytes_per_invocation).toBe(300 + textBytes);
    // JSON at system level INFO: the platform.start and platform.report objects.
    expect(platformLogBytes({ ...quiet, systemLevel: 'INFO' }, 512)).toBeGreaterThan(textBytes);
    // JSON at WARN: a successful invocation writes only the function's own line.
    expect(platformLogBytes(quiet, 512)).toBe(0);
    const b = bill(ours!, measured, options);
    expect(b.facts.log_bytes_per_invocation).toBe(300);
    expect(line(b, 'CloudWatch', 'Lambda logs')).toBeCloseTo((((N / 20) * 300) / GB) * PRICES.cloudwatch.logsIngestPerGB, 12);
  });

  it('the metrics line: once per interval per busy execution environment, at most once per invocation', () => {
    // Prepare: a 300 B line per 60 s; nothing else logged per invocation
    const m: Measured = { ...measured, appLogBytesPerInvocation: 0, metricsLine: { bytes: 300, intervalSeconds: 60 } };
    const minutes = (30.4375 * 86_400) / 60;
    // Act
    const b = bill(ours!, m, options);
    // Assess: at 500,000 requests a month, 22 ms each, the minimum number of environments write it every minute
    const perInvocation = (ASSUMPTIONS.metricsMinEnvironments * minutes) / (N / 20);
    expect(b.facts.metrics_lines_per_invocation).toBeCloseTo(perInvocation, 12);
    expect(b.facts.log_bytes_per_invocation).toBeCloseTo(300 * perInvocation, 9);
    expect(line(b, 'CloudWatch', 'Lambda logs')).toBeCloseTo(
      (((N / 20) * 300 * perInvocation) / GB) * PRICES.cloudwatch.logsIngestPerGB,
      12,
    );
    // Few requests: never more than one line per invocation (each invocation closes the window before it)
    expect(bill(ours!, m, { ...options, eventsPerMonth: 20_000 }).facts.metrics_lines_per_invocation).toBe(1);
    // Many requests: environments grow with the mean concurrency (requests/s x billed seconds)
    const busy = bill(ours!, m, { ...options, eventsPerMonth: 1e11 });
    const requestsPerSecond = 1e11 / 20 / (30.4375 * 86_400);
    const environments = Math.ceil(
      ASSUMPTIONS.metricsEnvironmentsPerConcurrency * requestsPerSecond * (busy.facts.lambda_billed_ms! / 1000),
    );
    expect(environments).toBeGreaterThan(ASSUMPTIONS.metricsMinEnvironments);
    expect(busy.facts.metrics_lines_per_invocation).toBeCloseTo((environments * minutes) / (1e11 / 20), 12);
    // Without a metrics line measured, none is priced
    expect(bill(ours!, measured, options).facts.metrics_lines_per_invocation).toBe(0);
    // The metrics line has no "level" either: at an application level above INFO Lambda drops it too
    const warn = bill(ours!, m, { ...options, logging: { ...quiet, applicationLevel: 'WARN' } });
    expect(warn.facts.log_bytes_per_invocation).toBe(0);
  });

  it('an application level above INFO drops the EMF line (Lambda reads a line without "level" as INFO), so it counts no bytes', () => {
    expect(appLogBytes({ ...quiet, applicationLevel: 'WARN' }, 277)).toBe(0);
    expect(appLogBytes({ ...quiet, applicationLevel: 'INFO' }, 277)).toBe(277);
    expect(appLogBytes({ format: 'Text', systemLevel: 'INFO', applicationLevel: 'WARN' }, 277)).toBe(277); // Text cannot filter
  });

  it("reads the logging config function level first, then the provider's; JSON levels default to INFO", () => {
    const sls = (fn?: object, provider?: object) =>
      ({
        functions: { ingest: { handler: 'h', logs: fn } },
        provider: { architecture: 'arm64', logs: provider && { lambda: provider } },
      }) as never;
    expect(loggingOf(sls())).toEqual({ format: 'Text', systemLevel: 'INFO', applicationLevel: 'INFO' });
    expect(loggingOf(sls(undefined, { logFormat: 'JSON', systemLogLevel: 'WARN' }))).toEqual({
      format: 'JSON',
      systemLevel: 'WARN',
      applicationLevel: 'INFO',
    });
    expect(loggingOf(sls({ logFormat: 'JSON', systemLogLevel: 'INFO' }, { logFormat: 'JSON', systemLogLevel: 'WARN' })).systemLevel).toBe(
      'INFO',
    );
  });

  it('interpolates CPU between measured batch sizes and holds it flat past the ends', () => {
    const f = interpolate([
      [20, 3_000],
      [1, 1_100],
      [3, 1_300],
    ]);
    expect(f(1)).toBe(1_100);
    expect(f(2)).toBeCloseTo(1_200, 9);
    expect(f(11.5)).toBeCloseTo(2_150, 9);
    expect(f(0.5)).toBe(1_100);
    expect(f(500)).toBe(3_000);
  });

  describe('the edge (CloudFront in front of the API)', () => {
    const edgeOn = { ...options, edge: true };
    const requests = N / 20;
    const body = 100 + 20 * 300; // envelope + 20 wire events

    it('bills every POST as an HTTPS request, its body towards the origin and its answer out, all per event', () => {
      const b = bill(ours!, measured, edgeOn);
      expect(line(b, 'CloudFront', 'HTTPS requests')).toBeCloseTo((requests / 1e4) * PRICES.cloudfront.httpsPer10k, 9);
      expect(line(b, 'CloudFront', 'data transfer to origin')).toBeCloseTo(((requests * body) / GB) * PRICES.cloudfront.toOriginPerGB, 9);
      expect(line(b, 'CloudFront', 'data transfer out')).toBeCloseTo(
        ((requests * ASSUMPTIONS.edgeResponseBytes) / GB) * PRICES.cloudfront.outPerGB,
        9,
      );
      expect(b.lines.filter((l) => l.service === 'CloudFront').every((l) => l.perEvent)).toBe(true);
      // The per-million figure grows by exactly those lines.
      const without = bill(ours!, measured, options);
      const cf = b.lines.filter((l) => l.service === 'CloudFront').reduce((x, l) => x + l.usd, 0);
      expect(b.perMillionUsd - without.perMillionUsd).toBeCloseTo((cf / N) * 1e6, 9);
      // $1.00 per million requests: 20 events per request make it 5 cents per million events.
      expect((line(b, 'CloudFront', 'HTTPS requests') / N) * 1e6).toBeCloseTo(0.05, 9);
    });

    it('scales with requests: one event per request pays the request price on every event', () => {
      const b = bill(onePerRequest!, measured, edgeOn);
      expect(line(b, 'CloudFront', 'HTTPS requests')).toBeCloseTo((N / 1e4) * PRICES.cloudfront.httpsPer10k, 9);
    });

    it('adds the generated origin secret (Secrets Manager, monthly) only with the edge on', () => {
      const secrets = (b: ReturnType<typeof bill>) => b.lines.filter((l) => l.service === 'Secrets Manager').map((l) => l.item);
      expect(secrets(bill(ours!, measured, edgeOn))).toEqual(['visitor salt secret', 'edge origin secret']);
      expect(secrets(bill(ours!, measured, options))).toEqual(['visitor salt secret']);
      expect(line(bill(ours!, measured, edgeOn), 'Secrets Manager', 'edge origin secret')).toBe(PRICES.secretsManager.secretMonth);
    });

    it('never touches the REST-to-Firehose lab design (no edge there)', () => {
      expect(bill(rest!, measured, edgeOn).lines.some((l) => l.service === 'CloudFront')).toBe(false);
    });

    it('WAF: no line unless turned on; then the web ACL and its rule monthly, plus $0.60 per million requests inspected', () => {
      expect(bill(ours!, measured, edgeOn).lines.some((l) => l.service === 'AWS WAF')).toBe(false);
      const b = bill(ours!, measured, { ...edgeOn, waf: true });
      expect(line(b, 'AWS WAF', 'web ACL')).toBe(PRICES.waf.webAclMonth + PRICES.waf.ruleMonth);
      expect(b.lines.find((l) => l.item.startsWith('web ACL'))?.perEvent).toBe(false);
      expect(line(b, 'AWS WAF', 'requests inspected')).toBeCloseTo((requests / 1e6) * 0.6, 9);
      expect(wafMonthUsd(requests)).toBeCloseTo(6 + (requests / 1e6) * 0.6, 9);
    });

    it('always-free tier: covers everything below 10 M requests and 1 TB out, and no more above', () => {
      const small = bill(ours!, measured, edgeOn);
      const edgeLines = small.lines.filter((l) => l.service === 'CloudFront' && !l.item.includes('origin')).reduce((x, l) => x + l.usd, 0);
      expect(small.facts.edge_free_tier_usd).toBeCloseTo(edgeLines, 9);
      // 20 M requests: only the first 10 M are free.
      expect(edgeFreeTierUsd(20_000_000, 0)).toBeCloseTo((10_000_000 / 1e4) * PRICES.cloudfront.httpsPer10k, 9);
      expect(edgeFreeTierUsd(0, 2 * 1024 ** 4)).toBeCloseTo(1024 * PRICES.cloudfront.outPerGB, 6);
    });

    it('the script: one request and its Brotli bytes per visitor, not per event', () => {
      expect(edgeScriptUsd(100_000, 3_000)).toBeCloseTo(
        10 * PRICES.cloudfront.httpsPer10k + ((100_000 * (3_000 + ASSUMPTIONS.edgeResponseBytes)) / GB) * PRICES.cloudfront.outPerGB,
        9,
      );
    });
  });

  it('orders the designs as the issue expects: batching is cheapest, REST-to-Firehose dearest', () => {
    const [a, b, c, d] = [ours, onePerRequest, onePerRecord, rest].map((x) => bill(x!, measured, options).perMillionUsd);
    expect(a).toBeLessThan(c!);
    expect(c).toBeLessThan(b!);
    expect(b).toBeLessThan(d!);
  });
});

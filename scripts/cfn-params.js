'use strict';
/**
 * Package-time resolvers for the capacity params in serverless.yml (`${file(./scripts/cfn-params.js):name}`):
 * each checks its param and fails the package with a clear message, and the HTTP API throttle is
 * derived from the Firehose quota of the target region unless set explicitly.
 */

/**
 * Amazon Data Firehose Quota (Firehose developer guide, "Amazon Data Firehose Quota", limits.html):
 * with Direct PUT, each stream takes a combined quota for PutRecord and PutRecordBatch, per second.
 * 5 MiB/s in us-east-1, us-west-2 and eu-west-1; 1 MiB/s and 1,000 requests/s elsewhere. The records
 * figures are the smaller ones the page has listed (newer versions list more); they never bind here.
 * The three scale together when AWS raises the throughput quota (see docs/operations.md).
 */
const FIREHOSE_DIRECT_PUT = {
  default: { mibPerSecond: 1, requestsPerSecond: 1_000, recordsPerSecond: 1_000 },
  'us-east-1': { mibPerSecond: 5, requestsPerSecond: 2_000, recordsPerSecond: 5_000 },
  'us-west-2': { mibPerSecond: 5, requestsPerSecond: 2_000, recordsPerSecond: 5_000 },
  'eu-west-1': { mibPerSecond: 5, requestsPerSecond: 2_000, recordsPerSecond: 5_000 },
};

/**
 * What one API request costs the events stream. The SDK sends at most `batchSize` events per request
 * (default 20, client-sdk/src/index.ts), and handlers/lib/pack.ts packs all of a request's rows into
 * one record (up to 1,000 KiB), so one request = one PutRecordBatch call = one record. A stored row
 * measures about 864 bytes (bench/results.json `row_bytes`); 1,000 bytes leaves room for longer URLs
 * and properties. test/infra/template.test.ts measures real rows against this budget.
 */
const REQUEST_SHAPE = { eventsPerRequest: 20, bytesPerEvent: 1_000, recordsPerRequest: 1 };

const MIB = 1024 * 1024;

/** The Direct PUT quota of `region`, scaled to `mibPerSecond` when a raise was granted. */
function firehoseQuota(region, mibPerSecond) {
  const base = FIREHOSE_DIRECT_PUT[region] ?? FIREHOSE_DIRECT_PUT.default;
  const scale = mibPerSecond === undefined ? 1 : mibPerSecond / base.mibPerSecond;
  return {
    mibPerSecond: base.mibPerSecond * scale,
    requestsPerSecond: base.requestsPerSecond * scale,
    recordsPerSecond: base.recordsPerSecond * scale,
  };
}

/**
 * The highest API request rate the events stream absorbs at full 20-event requests: the smallest of
 * bytes, requests and records. 1 MiB/s / 20,000 B = 52 requests/s; 5 MiB/s gives 262.
 */
function throttleFromQuota(quota, shape = REQUEST_SHAPE) {
  const byBytes = (quota.mibPerSecond * MIB) / (shape.eventsPerRequest * shape.bytesPerEvent);
  return Math.floor(Math.min(byBytes, quota.requestsPerSecond, quota.recordsPerSecond / shape.recordsPerRequest));
}

/** A param that is unset ('' or absent) yields undefined; anything else must be a number >= min. */
function numberParam(name, raw, { min, integer }) {
  if (raw === undefined || raw === null || String(raw).trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`param ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}; got "${raw}"`);
  }
  return n;
}

/**
 * Lambda reserved concurrency, or '' for none. 0 is refused: it throttles every request (AWS Lambda
 * developer guide, "Configuring reserved concurrency": "To throttle a function, set the reserved
 * concurrency to zero"), which is never what a deploy parameter means.
 */
function reservedConcurrencyOf(raw) {
  if (String(raw ?? '').trim() === '0') {
    throw new Error('param reservedConcurrency=0 would throttle every request; leave it unset for no reservation, or give a number >= 1');
  }
  return numberParam('reservedConcurrency', raw, { min: 1, integer: true }) ?? '';
}

/** { rate, burst } for the HTTP API stage: explicit params win, else the region's Firehose quota. */
function throttleOf({ region, throttleRate, throttleBurst, firehoseMiBps }) {
  const mib = numberParam('firehoseMiBps', firehoseMiBps, { min: 1, integer: false });
  const derived = throttleFromQuota(firehoseQuota(region, mib));
  const rate = numberParam('throttleRate', throttleRate, { min: 1, integer: false }) ?? derived;
  // Burst = one second of the rate. After an idle spell the first second may still carry up to twice
  // the rate (full bucket plus refill); what Firehose throttles of that, the handler retries with
  // backoff, then answers 503 and the SDK retries. A larger burst only moves the throttling to Firehose.
  const burst = numberParam('throttleBurst', throttleBurst, { min: 1, integer: true }) ?? Math.max(1, Math.floor(rate));
  return { rate, burst };
}

const params = async (resolveVariable) => ({
  region: String(await resolveVariable('self:provider.region')),
  throttleRate: await resolveVariable('param:throttleRate'),
  throttleBurst: await resolveVariable('param:throttleBurst'),
  firehoseMiBps: await resolveVariable('param:firehoseMiBps'),
});

module.exports = {
  reservedConcurrency: async ({ resolveVariable }) => reservedConcurrencyOf(await resolveVariable('param:reservedConcurrency')),
  hasReservedConcurrency: async ({ resolveVariable }) =>
    String(reservedConcurrencyOf(await resolveVariable('param:reservedConcurrency')) !== ''),
  throttleRate: async ({ resolveVariable }) => throttleOf(await params(resolveVariable)).rate,
  throttleBurst: async ({ resolveVariable }) => throttleOf(await params(resolveVariable)).burst,
  FIREHOSE_DIRECT_PUT,
  REQUEST_SHAPE,
  firehoseQuota,
  throttleFromQuota,
  throttleOf,
  reservedConcurrencyOf,
};

/**
 * The Direct PUT throughput quota of a Firehose stream, as the local stand-in enforces it: bytes,
 * calls and records per second, combined over PutRecord and PutRecordBatch (Firehose developer
 * guide, "Amazon Data Firehose Quota"). A call over any of them is throttled whole, as a
 * ServiceUnavailableException, which the handler retries and then answers 503.
 *
 * Each dimension is a token bucket holding one second of its rate: a burst after an idle spell is
 * absorbed up to that second, as a per-second quota allows. The figures per region are the ones the
 * deploy derives its API throttle from (scripts/cfn-params.js), so the two cannot disagree.
 */
// require: the CommonJS resolver serverless.yml loads (one list of quotas for both).
const { firehoseQuota } = require('../../scripts/cfn-params.js') as {
  firehoseQuota: (region: string, mibPerSecond?: number) => DirectPutQuota;
};

export interface DirectPutQuota {
  mibPerSecond: number;
  requestsPerSecond: number;
  recordsPerSecond: number;
}

/** LOCAL_FIREHOSE_QUOTA: unset = the region's default quota; "off"; or MiB/s after a raise (the others scale). */
export function quotaFromSetting(setting: string | undefined, region: string): DirectPutQuota | undefined {
  const s = (setting ?? '').trim();
  if (s === 'off') return undefined;
  if (s === '') return firehoseQuota(region);
  const mib = Number(s);
  if (!(mib > 0)) throw new Error(`LOCAL_FIREHOSE_QUOTA: "${s}" is not "off" or a number of MiB/s`);
  return firehoseQuota(region, mib);
}

class Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = perSecond;
    this.at = now;
  }
  refill(now: number): void {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
  }
  has(n: number): boolean {
    return this.tokens >= n;
  }
  take(n: number): void {
    this.tokens -= n;
  }
}

export class StreamThroughput {
  private readonly bytes: Bucket;
  private readonly calls: Bucket;
  private readonly records: Bucket;
  constructor(
    quota: DirectPutQuota,
    private readonly now: () => number = Date.now,
  ) {
    const t = now();
    this.bytes = new Bucket(quota.mibPerSecond * 1024 * 1024, t);
    this.calls = new Bucket(quota.requestsPerSecond, t);
    this.records = new Bucket(quota.recordsPerSecond, t);
  }

  /** Takes one call of `records` records and `bytes` bytes, or nothing when any quota would be exceeded. */
  admit(records: number, bytes: number): boolean {
    const t = this.now();
    const all: [Bucket, number][] = [
      [this.bytes, bytes],
      [this.calls, 1],
      [this.records, records],
    ];
    for (const [b] of all) b.refill(t);
    if (!all.every(([b, n]) => b.has(n))) return false;
    for (const [b, n] of all) b.take(n);
    return true;
  }
}

/**
 * The Firehose stand-in enforces a stream's Direct PUT throughput quota, as Firehose does (developer
 * guide, "Amazon Data Firehose Quota"): over its bytes, calls or records per second, a call is
 * answered ServiceUnavailableException and nothing of it is kept. Real sockets, a fake clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotaFromSetting, type DirectPutQuota } from '../../local/firehose/quota';
import { FirehoseStandIn } from '../../local/firehose/server';
import type { StreamConfig } from '../../local/serverless-config';

const STREAM: StreamConfig = {
  name: 'quota-events',
  intervalSeconds: 60,
  sizeMB: 64,
  gzip: true,
  prefix: 'events/',
  errorOutputPrefix: 'errors/',
};
const record = (bytes: number) => ({ Data: Buffer.alloc(bytes, 0x61).toString('base64') });

async function putRecordBatch(url: string, records: { Data: string }[]) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Firehose_20150804.PutRecordBatch' },
    body: JSON.stringify({ DeliveryStreamName: STREAM.name, Records: records }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('Firehose stand-in: Direct PUT throughput quota', () => {
  let dir: string;
  let clock = 0;
  let standIn: FirehoseStandIn;
  let url: string;
  const start = async (quota: DirectPutQuota) => {
    standIn = new FirehoseStandIn({ dataDir: dir, streams: [STREAM], quota, now: () => clock });
    ({ url } = await standIn.listen(0));
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fh-quota-'));
    clock = 0;
  });
  afterEach(async () => {
    await standIn?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("bytes: a call over the second's budget is throttled whole, and the budget refills with time", async () => {
    // 0.01 MiB/s = 10,485 bytes per second
    await start({ mibPerSecond: 0.01, requestsPerSecond: 1_000, recordsPerSecond: 1_000 });

    const first = await putRecordBatch(url, [record(4_000), record(4_000)]);
    const over = await putRecordBatch(url, [record(4_000)]);
    clock += 500; // +5,242 bytes of budget: 2,485 + 5,242 >= 4,000
    const later = await putRecordBatch(url, [record(4_000)]);

    expect(first).toMatchObject({ status: 200, body: { FailedPutCount: 0 } });
    expect(over).toEqual({ status: 400, body: { __type: 'ServiceUnavailableException', message: expect.stringContaining('Slow down.') } });
    expect(later.status).toBe(200);
    expect(standIn.stats).toMatchObject({ acceptedRecords: 3, throttledCalls: 1 });
  });

  test('calls per second bind on their own, whatever the size', async () => {
    await start({ mibPerSecond: 5, requestsPerSecond: 2, recordsPerSecond: 1_000 });

    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await putRecordBatch(url, [record(10)])).status);
    clock += 1_000;
    statuses.push((await putRecordBatch(url, [record(10)])).status);

    expect(statuses).toEqual([200, 200, 400, 200]);
  });

  test('LOCAL_FIREHOSE_QUOTA: the region\'s default quota unless "off" or a raised MiB/s', () => {
    expect(quotaFromSetting(undefined, 'us-east-1')).toEqual({ mibPerSecond: 5, requestsPerSecond: 2_000, recordsPerSecond: 5_000 });
    expect(quotaFromSetting('', 'eu-central-1')?.mibPerSecond).toBe(1);
    expect(quotaFromSetting('off', 'us-east-1')).toBeUndefined();
    expect(quotaFromSetting('10', 'eu-central-1')?.mibPerSecond).toBe(10);
    expect(() => quotaFromSetting('fast', 'us-east-1')).toThrow(/LOCAL_FIREHOSE_QUOTA/);
  });
});

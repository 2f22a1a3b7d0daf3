/**
 * Small guard of the no-loss promise (the full run is test/long/faults.test.ts): 300 page views
 * through the local stack (batches of 10) while Firehose throttles 20 % of calls and fails
 * 20 % of records, and every 10th send of the client fails at the network (aborted before sending, dropped after sending,
 * or sent to a closed port). The client retries like the SDK until 200. Then every accepted
 * event_id is on disk, and the saved query counts each page view exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../support/stack';
import { countStored, faultFigures, firehoseStats, recordFigures, sendWithFaults } from '../long/workloads';

const EVENTS = 300;

describe('faults: Firehose throttling + partial failures + network failures', () => {
  let stack: LocalStack | undefined;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'clickstream-faults-'));
    stack = await startLocalStack({ dataDir, bufferSeconds: 60, faults: { throttle: 0.2, partial: 0.2 } });
  }, 150_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${EVENTS} events: none lost, none counted twice`, async () => {
    // Act
    const sent = await sendWithFaults(() => stack!.apiUrl, {
      events: EVENTS,
      batchSize: 10,
      networkFailureRate: 0.1,
      concurrency: 4,
      maxAttemptsPerBatch: 40,
      deadlineMs: 90_000,
    });
    await stack!.flush();
    const stored = await countStored(dataDir, sent.acceptedIds);
    const firehose = await firehoseStats(stack!.firehoseUrl);
    recordFigures('faults-small', faultFigures(sent, stored, { firehoseFailedRecords: firehose.failedRecords }));

    // Assess
    expect(sent.gaveUp).toBe(0);
    // The faults really happened: each kind of network failure, and records Firehose refused.
    expect(Object.values(sent.networkFaults).every((n) => n > 0)).toBe(true);
    expect(firehose.failedRecords).toBeGreaterThan(0);
    expect(sent.acceptedIds).toHaveLength(EVENTS);
    expect(stored.lost).toEqual([]);
    expect(stored.storedUnique).toBe(EVENTS);
    expect(stored.dedupCountedTwice).toBe(0);
    expect(stored.dedupRows).toBe(EVENTS);
    expect(stored.pageViewsCounted).toBe(EVENTS);
  }, 120_000);
});

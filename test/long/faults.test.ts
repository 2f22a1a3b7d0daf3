/**
 * The no-loss promise at size (LONG_TESTS=1, `npm run test:long`): 5,000 page views through the
 * local stack with Firehose throttling 20 % of calls and failing 20 % of records, every 10th client
 * send failing at the network, retried like the SDK until 200. Then the gzip objects on disk hold
 * every accepted event_id, and the saved query on DuckDB counts each exactly once. A second run
 * kills the whole stack (SIGKILL) twice mid-traffic and restarts it on the same folder: the
 * stand-in's write-ahead log and the client's retries must still lose nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack } from '../support/stack';
import { countStored, faultFigures, firehoseStats, recordFigures, sendWithFaults } from './workloads';

const long = process.env.LONG_TESTS ? describe : describe.skip;
const EVENTS = Number(process.env.FAULT_EVENTS ?? 5_000);
const FAULTS = { throttle: 0.2, partial: 0.2 };

long('faults at size', () => {
  let dataDir: string;
  let stack: LocalStack | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'clickstream-long-faults-'));
  });
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${EVENTS} events under Firehose faults and network failures: 0 lost, 0 counted twice`, async () => {
    stack = await startLocalStack({ dataDir, bufferSeconds: 5, faults: FAULTS });

    const sent = await sendWithFaults(() => stack!.apiUrl, {
      events: EVENTS,
      batchSize: 20,
      networkFailureRate: 0.1,
      concurrency: 8,
      maxAttemptsPerBatch: 60,
      deadlineMs: 600_000,
    });
    await stack.flush();
    const firehose = await firehoseStats(stack.firehoseUrl);
    const stored = await countStored(dataDir, sent.acceptedIds);
    const figures = faultFigures(sent, stored, { firehoseFailedRecords: firehose.failedRecords, firehoseFaults: FAULTS });
    recordFigures('faults', figures);
    console.log('faults', JSON.stringify(figures));

    expect(sent.gaveUp).toBe(0);
    expect(sent.acceptedIds).toHaveLength(EVENTS);
    expect(firehose.failedRecords).toBeGreaterThan(0);
    expect(stored.lost).toEqual([]);
    expect(stored.storedUnique).toBe(EVENTS);
    expect(stored.dedupRows).toBe(EVENTS);
    expect(stored.dedupCountedTwice).toBe(0);
    expect(stored.pageViewsCounted).toBe(EVENTS);
  }, 900_000);

  test('the stack killed twice mid-traffic and restarted on the same folder: 0 lost, 0 counted twice', async () => {
    const events = Math.min(EVENTS, 2_000);
    stack = await startLocalStack({ dataDir, bufferSeconds: 60, faults: FAULTS });
    let crashes = 0;
    let restarting: Promise<void> | undefined;
    const crashAt = new Set([Math.floor(events / 20 / 3), Math.floor((2 * events) / 20 / 3)]);

    const sent = await sendWithFaults(() => stack!.apiUrl, {
      events,
      batchSize: 20,
      networkFailureRate: 0.1,
      concurrency: 4,
      maxAttemptsPerBatch: 400,
      deadlineMs: 600_000,
      // Other workers keep sending into the dead stack meanwhile: their sends fail and are retried.
      onBatchDone: async (done) => {
        if (!crashAt.has(done) || restarting !== undefined) return;
        crashAt.delete(done);
        restarting = (async () => {
          await stack!.kill();
          crashes++;
          stack = await startLocalStack({ dataDir, bufferSeconds: 60, faults: FAULTS });
        })();
        await restarting;
        restarting = undefined;
      },
    });
    await stack.flush();
    const stored = await countStored(dataDir, sent.acceptedIds);
    const figures = faultFigures(sent, stored, { crashes, firehoseFaults: FAULTS });
    recordFigures('crash', figures);
    console.log('crash', JSON.stringify(figures));

    expect(crashes).toBe(2);
    expect(sent.gaveUp).toBe(0);
    expect(sent.acceptedIds).toHaveLength(events);
    expect(stored.lost).toEqual([]);
    expect(stored.dedupRows).toBe(events);
    expect(stored.dedupCountedTwice).toBe(0);
    expect(stored.pageViewsCounted).toBe(events);
  }, 900_000);
});

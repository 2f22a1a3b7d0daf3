/**
 * Load (LONG_TESTS=1): autocannon against the local stack on 127.0.0.1, bounded in connections,
 * time and request count, every request a fresh 20-event batch with unique event_ids. Then the
 * buffers are flushed and every event the API accepted must be on disk, once. Reports the
 * error rate and latency p50/p95/p99, and the handler pipeline alone in-process on the same bodies.
 * Nothing here asserts speed: figures go to docs/reliability.md (local/reliability.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRows, startLocalStack, type LocalStack } from '../support/stack';
import { loadApi, loadInProcess, recordFigures } from './workloads';

const long = process.env.LONG_TESTS ? describe : describe.skip;
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 100);
const DURATION_SEC = Number(process.env.LOAD_SECONDS ?? 30);
const EVENTS_PER_BATCH = 20;

long('load', () => {
  let dataDir: string;
  let stack: LocalStack | undefined;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'clickstream-load-'));
    stack = await startLocalStack({ dataDir, bufferSeconds: 60 });
  }, 150_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${CONNECTIONS} connections for ${DURATION_SEC} s: events on disk == events accepted`, async () => {
    const api = await loadApi(stack!.apiUrl, {
      connections: CONNECTIONS,
      durationSec: DURATION_SEC,
      maxRequests: 200_000,
      eventsPerBatch: EVENTS_PER_BATCH,
    });
    await stack!.flush();
    const rows = readRows(join(dataDir, 'events'));
    // The three warm-up events are not part of the measured load.
    const loadRows = rows.filter((r) => !String(r.anonymous_id).includes('-warmup-'));
    const onDisk = new Set(loadRows.map((r) => r.event_id as string));
    const inProcess = loadInProcess({ requests: Math.max(api.requests, 2_000), eventsPerBatch: EVENTS_PER_BATCH, maxMs: 30_000 });
    const { acceptedIds, ...figures } = api;
    const lost = acceptedIds.filter((id) => !onDisk.has(id));
    const out = {
      connections: CONNECTIONS,
      durationSec: DURATION_SEC,
      eventsPerBatch: EVENTS_PER_BATCH,
      api: figures,
      eventsOnDisk: loadRows.length,
      uniqueOnDisk: onDisk.size,
      lostAccepted: lost.length,
      inProcess,
    };
    recordFigures('load', out);
    console.log('load', JSON.stringify(out));

    expect(api.requests).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    // No faults injected: nothing is stored twice. Requests still in flight when autocannon stopped
    // (at most one per connection) may be stored without their answer having been read.
    expect(loadRows.length).toBe(onDisk.size);
    expect(onDisk.size - acceptedIds.length).toBeGreaterThanOrEqual(0);
    expect(onDisk.size - acceptedIds.length).toBeLessThanOrEqual(CONNECTIONS * EVENTS_PER_BATCH);
  }, 300_000);
});

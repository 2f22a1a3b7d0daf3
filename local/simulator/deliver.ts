/**
 * Runs simulated requests through the real pipeline and writes the rows as Amazon Data Firehose
 * would: gzip NDJSON objects named by local/firehose/layout.ts under the arrival-time prefix.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packRecords } from '../../handlers/lib/pack';
import { processRequest, type PipelineConfig, type RejectRow, type StoredEvent } from '../../handlers/lib/pipeline';
import { objectKey } from '../firehose/layout';
import { readIngestStreams } from '../serverless-config';
import { requestBody, type SimRequest } from './generate';

// One source for the layout: serverless.yml, read as the local Firehose stand-in reads it. The
// prefixes use no stage variable; the stream names do (streamNames in ./index). Their !{timestamp:...}
// is the approximate arrival time of the object's oldest record, in UTC (Firehose developer guide,
// "Understand custom prefixes for Amazon S3 objects").
const STREAMS = readIngestStreams('dev');
export const EVENTS_PREFIX = STREAMS.events.prefix;
export const REJECTS_PREFIX = STREAMS.rejects.prefix;
/** The events stream's BufferingHints.IntervalInSeconds. */
export const BUFFER_MS = STREAMS.events.intervalSeconds * 1000;

export interface Delivered<T> {
  row: T;
  /** When Firehose received the record (the object's prefix time comes from the oldest one). */
  arrivalMs: number;
  /** Firehose wrote this record twice (a retried PutRecordBatch): keep it out of the first object. */
  copy: boolean;
}

export interface Deliveries {
  events: Delivered<StoredEvent>[];
  rejects: Delivered<RejectRow>[];
  statusCounts: Record<number, number>;
}

export function runPipeline(
  requests: readonly SimRequest[],
  siteId: string,
  config: PipelineConfig,
  onRequest?: (done: number) => void,
): Deliveries {
  const out: Deliveries = { events: [], rejects: [], statusCounts: {} };
  requests.forEach((req, i) => {
    const result = processRequest(
      {
        body: requestBody(req, siteId),
        contentType: 'text/plain',
        userAgent: req.userAgent,
        sourceIp: req.sourceIp,
        origin: req.origin,
        requestId: `sim-${i}`,
        receivedAt: req.receivedAt,
      },
      config,
    );
    out.statusCounts[result.status] = (out.statusCounts[result.status] ?? 0) + 1;
    // The Lambda's PutRecordBatch reaches Firehose a few ms after the request arrived.
    const arrivalMs = req.receivedAt.getTime() + 30;
    for (const row of result.events) out.events.push({ row, arrivalMs, copy: req.firehoseCopy });
    // A Firehose retry duplicates event records, not the rejects of the same request.
    if (!req.firehoseCopy) for (const row of result.rejects) out.rejects.push({ row, arrivalMs, copy: false });
    onRequest?.(i + 1);
  });
  return out;
}

/**
 * Groups records into objects the way a 60 s buffer does and writes them. Copies go into a
 * later object, as a retried batch would. Returns the number of objects written.
 */
export function writeObjects<T>(
  dataDir: string,
  prefix: string,
  stream: string,
  records: readonly Delivered<T>[],
  onObject?: (done: number, total: number) => void,
): number {
  const buckets = new Map<number, { at: number; rows: T[] }>();
  for (const rec of records) {
    const arrival = rec.copy ? rec.arrivalMs + BUFFER_MS + 15_000 : rec.arrivalMs;
    const key = Math.floor(arrival / BUFFER_MS) * 2 + (rec.copy ? 1 : 0);
    let b = buckets.get(key);
    if (!b) {
      b = { at: arrival, rows: [] };
      buckets.set(key, b);
    }
    b.at = Math.min(b.at, arrival);
    b.rows.push(rec.row);
  }
  let done = 0;
  for (const { at, rows } of buckets.values()) {
    const file = join(dataDir, objectKey({ prefix, stream, at: new Date(at), gzip: true }));
    mkdirSync(dirname(file), { recursive: true });
    // The handler's own packing: Firehose concatenates record bytes as they are.
    writeFileSync(file, gzipSync(Buffer.concat(packRecords(rows as object[]))));
    done++;
    onObject?.(done, buckets.size);
  }
  return buckets.size;
}

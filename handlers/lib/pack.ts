/**
 * Packs rows as newline-delimited JSON into as few Firehose records as the limits allow. Firehose
 * concatenates record bytes as they are, so every row ends in '\n' and the S3 object stays valid
 * NDJSON however records are buffered together.
 */

/** Firehose quotas ("Amazon Data Firehose Quota"): record 1,000 KiB; PutRecordBatch 500 records / 4 MiB. */
export const FIREHOSE_LIMITS = {
  maxRecordBytes: 1_000 * 1024,
  maxBatchRecords: 500,
  maxBatchBytes: 4 * 1024 * 1024,
} as const;

export function packRecords(rows: readonly object[], maxRecordBytes: number = FIREHOSE_LIMITS.maxRecordBytes): Buffer[] {
  const records: Buffer[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = `${JSON.stringify(row)}\n`;
    const bytes = Buffer.byteLength(line);
    if (bytes > maxRecordBytes) throw new RangeError(`one row is ${bytes} bytes, over the ${maxRecordBytes}-byte record limit`);
    if (size + bytes > maxRecordBytes) {
      records.push(Buffer.from(parts.join('')));
      parts = [];
      size = 0;
    }
    parts.push(line);
    size += bytes;
  }
  if (parts.length) records.push(Buffer.from(parts.join('')));
  return records;
}

/** Splits records into PutRecordBatch calls within 500 records and 4 MiB each. */
export function chunkBatches<T extends { length: number }>(records: readonly T[], limits = FIREHOSE_LIMITS): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let bytes = 0;
  for (const r of records) {
    if (batch.length === limits.maxBatchRecords || (batch.length > 0 && bytes + r.length > limits.maxBatchBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(r);
    bytes += r.length;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

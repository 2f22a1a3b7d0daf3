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

/**
 * Serialises rows as NDJSON and packs them greedily, in order, into records of at most
 * `maxRecordBytes` UTF-8 bytes each.
 *
 * A UTF-16 code unit is at most 3 UTF-8 bytes, so while 3 x (characters so far) stays within the
 * limit no byte needs counting: a typical request (a few dozen rows of ~1 KB against 1,000 KiB)
 * never takes a byte count at all. Only a record that could be near the limit is counted exactly.
 *
 * @throws RangeError when one row alone is over the limit.
 */
export function packRecords(rows: readonly object[], maxRecordBytes: number = FIREHOSE_LIMITS.maxRecordBytes): Buffer[] {
  return packLines(
    rows.map((r) => JSON.stringify(r)),
    maxRecordBytes,
  );
}

/**
 * {@link packRecords} for rows already serialized (one JSON text each, no newline), as the
 * pipeline makes them.
 *
 * @throws RangeError when one row alone is over the limit.
 */
export function packLines(rows: readonly string[], maxRecordBytes: number = FIREHOSE_LIMITS.maxRecordBytes): Buffer[] {
  const records: Buffer[] = [];
  let parts: string[] = [];
  // Bytes of parts[0, counted) are known exactly; parts[counted, end) hold `pendingChars` characters.
  let counted = 0;
  let bytes = 0;
  let pendingChars = 0;
  for (const row of rows) {
    const line = `${row}\n`;
    if (bytes + 3 * (pendingChars + line.length) <= maxRecordBytes) {
      parts.push(line);
      pendingChars += line.length;
      continue;
    }
    for (; counted < parts.length; counted++) bytes += Buffer.byteLength(parts[counted] as string);
    pendingChars = 0;
    const lineBytes = Buffer.byteLength(line);
    if (lineBytes > maxRecordBytes) throw new RangeError(`one row is ${lineBytes} bytes, over the ${maxRecordBytes}-byte record limit`);
    if (bytes + lineBytes > maxRecordBytes) {
      records.push(Buffer.from(parts.join('')));
      parts = [];
      bytes = 0;
    }
    parts.push(line);
    bytes += lineBytes;
    counted = parts.length;
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

/**
 * handlers/lib/pack.ts: rows -> NDJSON Firehose records within the Firehose quotas
 * (record 1,000 KiB; PutRecordBatch 500 records / 4 MiB).
 */
import fc from 'fast-check';
import { chunkBatches, FIREHOSE_LIMITS, packRecords } from '../../handlers/lib/pack';

const text = (records: Buffer[]) => records.map((r) => r.toString('utf8')).join('');
const lines = (records: Buffer[]) =>
  text(records)
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as unknown);

describe('packRecords', () => {
  it('quotes the Firehose quotas', () => {
    expect(FIREHOSE_LIMITS).toEqual({ maxRecordBytes: 1_024_000, maxBatchRecords: 500, maxBatchBytes: 4_194_304 });
  });

  it('writes NDJSON: every row is one line ending in \\n, and every record ends on a row boundary', () => {
    // Prepare: a small record limit so the rows spread over several records
    const rows = Array.from({ length: 20 }, (_, i) => ({ i, note: `line ${i}\nwith a newline inside` }));
    // Act
    const records = packRecords(rows, 200);
    // Assess
    expect(records.length).toBeGreaterThan(1);
    for (const r of records) expect(r.toString('utf8').endsWith('\n')).toBe(true);
    expect(lines(records)).toEqual(rows);
  });

  it('packs a typical batch into one record', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ event_id: `e${i}`, url: `https://www.shop.example/p/${i}` }));
    expect(packRecords(rows)).toHaveLength(1);
  });

  it('uses as few records as the limit allows (greedy fill, in order)', () => {
    // Prepare: rows of exactly 100 bytes including '\n' ({"p":"x..."} is 8 bytes of JSON syntax + 91 characters)
    const row = { p: 'x'.repeat(91) };
    expect(Buffer.byteLength(`${JSON.stringify(row)}\n`)).toBe(100);
    const rows = Array.from({ length: 25 }, () => row);
    // Act: 10 rows fit a 1,000-byte record exactly, so 25 rows need 3 records
    const records = packRecords(rows, 1_000);
    // Assess
    expect(records.map((r) => r.length)).toEqual([1_000, 1_000, 500]);
  });

  it('counts bytes, not characters, against the limit', () => {
    // Prepare: "ü" is 2 bytes in UTF-8; a row is 8 + 2*50 + 1 = 109 bytes but 59 characters
    const rows = Array.from({ length: 10 }, () => ({ p: 'ü'.repeat(50) }));
    // Act
    const records = packRecords(rows, 600);
    // Assess
    for (const r of records) expect(r.length).toBeLessThanOrEqual(600);
    expect(records).toHaveLength(2);
    expect(lines(records)).toEqual(rows);
  });

  it('throws for a row over the record limit, naming the sizes', () => {
    expect(() => packRecords([{ a: 1 }, { big: 'x'.repeat(100) }], 50)).toThrow(
      new RangeError('one row is 111 bytes, over the 50-byte record limit'),
    );
  });

  it('packs no rows into no records', () => {
    expect(packRecords([])).toEqual([]);
  });

  it('property: concatenated records give back exactly the rows, in order, and no record is over the limit', () => {
    const bytes = (row: object) => Buffer.byteLength(`${JSON.stringify(row)}\n`);
    fc.assert(
      fc.property(
        // Rows with optional keys and the characters that change byte counts or need escaping
        // (multi-byte, astral, control, newline, quote); 'binary' strings and fc.dictionary are slow here.
        fc.array(
          fc.record(
            {
              id: fc.nat(),
              s: fc.string({ unit: fc.constantFrom('a', 'ü', '😀', '\n', '"', '\\', '\u0000', '\u2028'), maxLength: 40 }),
              v: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.integer(), fc.boolean(), fc.constant(null)),
            },
            { requiredKeys: ['id'] },
          ),
          { maxLength: 60 },
        ),
        fc.nat({ max: 1_500 }),
        (rows, slack) => {
          // The limit is at least the largest row (a larger row throws, tested above) plus some slack.
          const limit = Math.max(1, ...rows.map(bytes)) + slack;
          const records = packRecords(rows, limit);
          const expected = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
          if (text(records) !== expected) return false;
          if (records.some((r) => r.length > limit || r.length === 0)) return false;
          // As few records as possible: no record could also have taken the next record's first row.
          return records.every((r, i) => {
            const next = records[i + 1];
            return next === undefined || r.length + next.indexOf(10) + 1 > limit;
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('chunkBatches', () => {
  const rec = (bytes: number) => Buffer.alloc(bytes);

  it(`splits at ${FIREHOSE_LIMITS.maxBatchRecords} records per PutRecordBatch`, () => {
    // Act
    const batches = chunkBatches(Array.from({ length: 1_201 }, () => rec(10)));
    // Assess
    expect(batches.map((b) => b.length)).toEqual([500, 500, 201]);
  });

  it('splits at 4 MiB per PutRecordBatch', () => {
    // Prepare: five records of 1,000 KiB: four are 4,000 KiB (under 4 MiB = 4,096 KiB), five are over
    const records = Array.from({ length: 5 }, () => rec(FIREHOSE_LIMITS.maxRecordBytes));
    // Act
    const batches = chunkBatches(records);
    // Assess
    expect(batches.map((b) => b.length)).toEqual([4, 1]);
    for (const b of batches) expect(b.reduce((n, r) => n + r.length, 0)).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxBatchBytes);
  });

  it('fills a batch up to exactly 4 MiB', () => {
    // Prepare: 3 MiB + 1 MiB is exactly 4 MiB; one more byte starts a new batch
    const mib = 1024 * 1024;
    // Act + Assess
    expect(chunkBatches([rec(3 * mib), rec(mib), rec(1)]).map((b) => b.length)).toEqual([2, 1]);
  });

  it('keeps every record once, in order', () => {
    // Prepare
    const records = Array.from({ length: 1_234 }, (_, i) => Buffer.from(String(i)));
    // Act
    const batches = chunkBatches(records);
    // Assess
    expect(batches.flat()).toEqual(records);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(FIREHOSE_LIMITS.maxBatchRecords);
  });

  it('returns no batches for no records', () => {
    expect(chunkBatches([])).toEqual([]);
  });
});

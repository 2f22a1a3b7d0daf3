/**
 * What `dataFormat=parquet` would have written: every gzip NDJSON object of `events/` converted,
 * one to one, into a Parquet object (Snappy, as Firehose's record format conversion writes) with
 * the same name and partition folder. One object per 60 s buffer either way, because Firehose
 * flushes on the interval before a small site fills the 64 MB a conversion needs.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckColumns, sqlString } from '../local/athena-local/duckdb';
import { objectsUnder } from '../local/firehose/layout';
import { EVENT_COLUMNS } from '../schema/columns';

/** Sum of the sizes of `files`, in bytes. */
export const bytesOf = (files: readonly string[]): number => files.reduce((s, f) => s + statSync(f).size, 0);

/** Converts `fromDir` (gzip NDJSON objects) into `toDir` (Parquet); returns the objects written. */
export async function convertToParquet(fromDir: string, toDir: string, log?: (s: string) => void): Promise<number> {
  const files = objectsUnder(fromDir, '.gz');
  const instance = await DuckDBInstance.create(':memory:');
  const columns = duckColumns(EVENT_COLUMNS);
  let next = 0;
  let done = 0;
  // Two statements at a time on two connections: the machine has two cores.
  const worker = async () => {
    const c = await instance.connect();
    try {
      for (let i = next++; i < files.length; i = next++) {
        const from = files[i]!;
        const to = join(toDir, relative(fromDir, from)).replace(/\.gz$/, '.parquet');
        mkdirSync(dirname(to), { recursive: true });
        await c.run(`COPY (SELECT * FROM read_json(${sqlString(from)}, format = 'newline_delimited', compression = 'gzip', columns = ${columns}))
          TO ${sqlString(to)} (FORMAT parquet, COMPRESSION snappy)`);
        if (++done % 10_000 === 0) log?.(`parquet: ${done} of ${files.length} objects`);
      }
    } finally {
      c.closeSync();
    }
  };
  try {
    await Promise.all([worker(), worker()]);
  } finally {
    instance.closeSync();
  }
  return files.length;
}

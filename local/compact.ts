/**
 * npm run compact -- [--through YYYY-MM-DD] [--quiet]
 *
 * The deployed compaction (docs/operations.md "Compaction"), locally: every raw arrival day of
 * LOCAL_DATA_DIR (default .data) up to and including --through (default: yesterday, UTC, so every
 * closed day) is rewritten into Parquet under compacted/: events de-duplicated by event_id
 * (events_compacted), sessions (sessions_compacted) and daily visitors, by the SQL of
 * athena-queries/compaction/ on DuckDB; then compaction_state records the day and its cutoff, and
 * the views read compacted history plus the raw days not compacted yet. Raw objects stay.
 *
 * A day is compacted again only when its raw objects changed (count or bytes) or when it was
 * compacted while open and has closed since: a second run right after the first changes nothing.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { COMPACTED_TABLES, duckSelect, STATE_TABLE, type CompactedTable, type Seam } from './athena-local/compaction';
import {
  compactedDir,
  createCompactedTables,
  createViews,
  openLocalAthena,
  readSeam,
  sqlString,
  type LocalAthena,
} from './athena-local/duckdb';
import { objectsUnder } from './firehose/layout';

const DAY_MS = 86_400_000;
/**
 * Rows received this close to the run may still sit in a Firehose buffer (60 s, serverless.yml
 * custom.firehose.intervalSeconds): the cutoff leaves them to the raw side, read until the day is
 * compacted again. The deployed state machine uses the same margin.
 */
export const CUTOFF_MARGIN_MS = 15 * 60_000;

export interface CompactOptions {
  /** Last arrival day to compact, YYYY-MM-DD; default the day before `now` (UTC). */
  through?: string;
  now?: Date;
  onStart?: (days: number) => void;
  onDay?: (dt: string, done: number) => void;
}

export interface CompactResult {
  /** Days written this run. */
  compacted: string[];
  /** Days up to `through` left as they were (compacted before, nothing new). */
  unchanged: string[];
  seam: Seam;
}

export class CompactUsageError extends Error {
  override name = 'CompactUsageError';
}

const nextDay = (dt: string) => new Date(Date.parse(`${dt}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
/** As athena-queries/compaction/seam.sql: a cutoff an hour past the day's end leaves no raw row behind. */
export const isComplete = (dt: string, cutoff: string) => cutoff >= `${nextDay(dt)}T01:00:00.000Z`;

/** The raw arrival days present under events/, sorted. */
export function rawDays(dataDir: string): string[] {
  const dir = join(dataDir, 'events');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => /^dt=\d{4}-\d{2}-\d{2}$/.test(d))
    .map((d) => d.slice(3))
    .sort();
}

/** What changes when a raw object is added to the day: their count and total bytes. */
function fingerprint(dataDir: string, dt: string): string {
  const files = objectsUnder(join(dataDir, 'events', `dt=${dt}`), '.gz');
  return `${files.length}:${files.reduce((s, f) => s + statSync(f).size, 0)}`;
}

/** Writes the rows of `select` as the day's object of `table`, replacing it at once (rename). */
async function writeDay(db: LocalAthena, dataDir: string, table: string, dt: string, select: string): Promise<void> {
  const dir = join(compactedDir(dataDir, table), `dt=${dt}`);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, 'data.parquet.tmp');
  // ZSTD: what the deployed Iceberg tables write (Athena's default for Iceberg Parquet).
  await db.connection.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
  renameSync(tmp, join(dir, 'data.parquet'));
}

async function compactDay(db: LocalAthena, dataDir: string, dt: string, cutoff: string, compactedAt: string, fp: string): Promise<void> {
  // The raw table lists the day's objects only (as partition projection would), not every object
  // of the folder on every statement: 3 s a statement at 84,000 objects.
  await db.runInRange?.('SELECT 1', [], dt, dt);
  // Events first: sessions and daily visitors read them back through events_dedup.
  for (const t of COMPACTED_TABLES as readonly CompactedTable[]) {
    await writeDay(db, dataDir, t.name, dt, duckSelect(t, { dt, cutoff }));
    // The first object of a table turns its empty stand-in into a read of the objects.
    await createCompactedTables(db, dataDir);
  }
  // Last, as on AWS: a state row means the day's tables are all written.
  const events = `(SELECT count(*) FROM events_compacted c WHERE c.dt = ${sqlString(dt)})`;
  const cols = STATE_TABLE.columns.filter((c) => c.name !== 'dt');
  const values: Record<string, string> = {
    cutoff: sqlString(cutoff),
    compacted_at: sqlString(compactedAt),
    events,
    raw_fingerprint: sqlString(fp),
  };
  await writeDay(
    db,
    dataDir,
    STATE_TABLE.name,
    dt,
    `SELECT ${cols.map((c) => `CAST(${values[c.name]} AS ${c.duck}) AS ${c.name}`).join(', ')}`,
  );
  await createCompactedTables(db, dataDir);
}

/** Compacts LOCAL_DATA_DIR's raw days up to `through` (see the file header). */
export async function compact(dataDir: string, opts: CompactOptions = {}): Promise<CompactResult> {
  const now = opts.now ?? new Date();
  const through = opts.through ?? new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(through) || Number.isNaN(Date.parse(through)))
    throw new CompactUsageError(`--through must be a date YYYY-MM-DD, got ${through}`);
  const cutoff = new Date(now.getTime() - CUTOFF_MARGIN_MS).toISOString();
  const db = await openLocalAthena(dataDir);
  try {
    const state = new Map(
      (await db.run('SELECT dt, cutoff, raw_fingerprint FROM compaction_state')).rows.map((r) => [
        String(r[0]),
        { cutoff: String(r[1]), fp: String(r[2]) },
      ]),
    );
    const days = rawDays(dataDir).filter((d) => d <= through);
    const todo: { dt: string; fp: string }[] = [];
    const unchanged: string[] = [];
    for (const dt of days) {
      const fp = fingerprint(dataDir, dt);
      const st = state.get(dt);
      // Nothing new, and compacting again would not close the day: leave it.
      if (st && st.fp === fp && (isComplete(dt, st.cutoff) || !isComplete(dt, cutoff))) unchanged.push(dt);
      else todo.push({ dt, fp });
    }
    opts.onStart?.(todo.length);
    for (const [i, { dt, fp }] of todo.entries()) {
      await compactDay(db, dataDir, dt, cutoff, now.toISOString(), fp);
      opts.onDay?.(dt, i + 1);
    }
    const seam = await readSeam(db);
    await createViews(db, seam);
    return { compacted: todo.map((t) => t.dt), unchanged, seam };
  } finally {
    db.close();
  }
}

/** Removes everything `npm run compact` wrote (the raw objects stay). */
export function removeCompacted(dataDir: string): void {
  rmSync(join(dataDir, 'compacted'), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { through: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help) {
    process.stdout.write('usage: npm run compact -- [--through YYYY-MM-DD] [--quiet]\n');
    return;
  }
  const dataDir = resolve(process.env.LOCAL_DATA_DIR ?? '.data');
  const bar = new SingleBar(
    { format: 'compact  [{bar}] {value}/{total} days | {dt}', noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true },
    Presets.shades_classic,
  );
  const t0 = Date.now();
  try {
    const r = await compact(dataDir, {
      through: values.through,
      onStart: (n) => {
        if (!values.quiet) bar.start(Math.max(n, 1), 0, { dt: '' });
      },
      onDay: (dt, done) => {
        if (!values.quiet) bar.update(done, { dt });
      },
    });
    if (!values.quiet) bar.stop();
    const s = r.seam;
    const range =
      s.compacted_from <= s.compacted_to
        ? `${s.compacted_from} to ${s.compacted_to} read from Parquet${s.raw_from <= s.compacted_to ? ` (rows of ${s.compacted_to} received from ${s.cutoff} on are still read raw)` : ''}`
        : 'nothing compacted yet';
    process.stdout.write(
      `compacted ${r.compacted.length} day(s), ${r.unchanged.length} unchanged, in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${range}\n`,
    );
  } catch (e) {
    bar.stop();
    if (e instanceof CompactUsageError) {
      process.stderr.write(`compact: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`compact: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}

/**
 * One `osls package` at a time per checkout, across jest workers. osls always writes
 * <service>/.serverless/serverless-state.json and serverless-esbuild copies through <service>/.serverless,
 * whatever --package says, so two packages of one checkout at once race: one removes the folder the
 * other is writing to (ENOENT on serverless-state.json, seen when template.test.ts and
 * compaction.test.ts ran in two workers). A directory is the lock: mkdir is atomic.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const LOCK = join(tmpdir(), `clickstream-osls-package-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
/** Longer than any one package takes here (about 20 s); a lock older than this was left by a killed run. */
const STALE_MS = 5 * 60_000;

export async function withPackageLock<T>(work: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  for (const end = Date.now() + waitMs; ; await new Promise((r) => setTimeout(r, 250))) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = (() => {
        try {
          return Date.now() - statSync(LOCK).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > end) throw new Error(`another osls package of this checkout held ${LOCK} for ${waitMs / 1000} s`);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

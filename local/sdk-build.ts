/**
 * `npm start` serves the browser SDK from client-sdk/dist/, which a fresh clone does not have (it is
 * built, not committed). Build it when it is missing or older than its sources. Several local stacks
 * start at once under `npm test`, and may find the same stale SDK: each builds into a folder of its
 * own and renames the files into dist/ (a rename replaces a file at once, POSIX rename(2)), the
 * manifest last, so a page of another stack never misses a file or reads a half-written one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The files dist/ is built from: build.mjs, package.json (the version) and src/. */
function sourceFiles(sdkDir: string): string[] {
  const src = join(sdkDir, 'src');
  return [
    join(sdkDir, 'build.mjs'),
    join(sdkDir, 'package.json'),
    ...readdirSync(src, { recursive: true }).map((f) => join(src, String(f))),
  ];
}

/** Output files build.mjs writes; missing ones mean "build". */
export const SDK_OUTPUTS = ['clickstream.min.js', 'clickstream.core.min.js', 'loader.min.js', 'manifest.json'];

export function sdkIsStale(sdkDir: string): boolean {
  const outputs = SDK_OUTPUTS.map((f) => join(sdkDir, 'dist', f));
  if (!outputs.every((f) => existsSync(f))) return true;
  const oldestOutput = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return sourceFiles(sdkDir).some((f) => statSync(f).mtimeMs > oldestOutput);
}

/**
 * Builds the SDK when stale. An over-budget build still writes its files (build.mjs checks sizes
 * after writing): the stack then starts with a warning, rather than refuse to run while someone
 * works on the SDK. Throws only when there is nothing to serve.
 */
export function ensureSdkBuilt(sdkDir: string, warn: (m: string) => void = console.warn): 'built' | 'fresh' {
  if (!sdkIsStale(sdkDir)) return 'fresh';
  // Beside dist/, so that the renames stay on one file system.
  const tmp = mkdtempSync(join(sdkDir, '.dist-'));
  try {
    const r = spawnSync(process.execPath, [join(sdkDir, 'build.mjs'), '--outdir', tmp], { cwd: sdkDir, encoding: 'utf8' });
    const output = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim();
    // An over-budget build still writes its files (build.mjs checks sizes after writing).
    if (existsSync(join(tmp, 'manifest.json'))) moveInto(tmp, join(sdkDir, 'dist'));
    if (r.status !== 0) {
      if (!existsSync(join(sdkDir, 'dist', SDK_OUTPUTS[0] as string)))
        throw new Error(`the browser SDK did not build, so the demo site could not record anything:\n${output}`);
      warn(`warning: the browser SDK build reported a problem; serving what it wrote:\n${output}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return 'built';
}

/** Renames every file under `from` to the same place under `to`, manifest.json last (it names the hashed files). */
function moveInto(from: string, to: string) {
  const files = readdirSync(from, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(from, f)).isFile())
    .sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    renameSync(join(from, f), join(to, f));
  }
}

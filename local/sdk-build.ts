/**
 * `npm start` serves the browser SDK from client-sdk/dist/, which a fresh clone does not have (it is
 * built, not committed). Build it when it is missing or older than its sources. Only then: several
 * local stacks start at once under `npm test`, and build.mjs empties dist/ before writing, so an
 * unconditional build would make a page of another stack miss the SDK for a moment.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The files dist/ is built from: build.mjs, package.json (the version) and src/. */
function sourceFiles(sdkDir: string): string[] {
  const src = join(sdkDir, 'src');
  return [join(sdkDir, 'build.mjs'), join(sdkDir, 'package.json'), ...readdirSync(src, { recursive: true }).map((f) => join(src, String(f)))];
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
  const r = spawnSync(process.execPath, [join(sdkDir, 'build.mjs')], { cwd: sdkDir, encoding: 'utf8' });
  const output = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim();
  if (r.status !== 0) {
    if (!existsSync(join(sdkDir, 'dist', SDK_OUTPUTS[0] as string))) throw new Error(`the browser SDK did not build, so the demo site could not record anything:\n${output}`);
    warn(`warning: the browser SDK build reported a problem; serving what it wrote:\n${output}`);
  }
  return 'built';
}

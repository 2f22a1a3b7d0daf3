/**
 * `npm start` on a fresh clone: client-sdk/dist/ does not exist (it is built, not committed), and
 * the demo site's /sdk/clickstream.min.js was a 404, so the demo recorded nothing. The start script
 * builds the SDK when dist/ is missing or older than its sources, and leaves a current one alone.
 * Runs on a copy of client-sdk/ inside the checkout (so build.mjs finds esbuild in node_modules).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSdkBuilt, SDK_OUTPUTS, sdkIsStale } from '../../local/sdk-build';

const root = join(__dirname, '..', '..');

describe('the SDK build npm start runs', () => {
  let sdk: string;
  let work: string;
  beforeAll(() => {
    mkdirSync(join(root, '.local-build'), { recursive: true });
    work = mkdtempSync(join(root, '.local-build', 'sdk-build-test-'));
    sdk = join(work, 'client-sdk');
    // Sources only, as in a fresh clone.
    for (const f of ['src', 'build.mjs', 'package.json']) cpSync(join(root, 'client-sdk', f), join(sdk, f), { recursive: true });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('builds a missing dist/, then leaves a current one alone, then rebuilds after a source changes', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    expect(sdkIsStale(sdk)).toBe(true);

    // Fresh clone: built, every output there.
    expect(ensureSdkBuilt(sdk, warn)).toBe('built');
    const built = SDK_OUTPUTS.map((f) => statSync(join(sdk, 'dist', f)).mtimeMs);
    expect(built.every((t) => t > 0)).toBe(true);

    // Nothing changed: no rebuild (another stack may be serving these files).
    expect(ensureSdkBuilt(sdk, warn)).toBe('fresh');
    expect(SDK_OUTPUTS.map((f) => statSync(join(sdk, 'dist', f)).mtimeMs)).toEqual(built);

    // A source edited after the build: rebuilt.
    const later = new Date(Math.max(...built) + 1);
    utimesSync(join(sdk, 'src', 'index.ts'), later, later);
    expect(sdkIsStale(sdk)).toBe(true);
    expect(ensureSdkBuilt(sdk, warn)).toBe('built');
    expect(sdkIsStale(sdk)).toBe(false);
  }, 60_000);

  test('a rebuild never leaves dist/ without the script, nor its temporary folder behind', async () => {
    // Prepare: a built dist/, then a source edited, so the next start rebuilds
    ensureSdkBuilt(sdk, () => {});
    const script = join(sdk, 'dist', 'clickstream.min.js');
    // Just after the build, never in the future: a source dated ahead of the clock would still be
    // newer than the rebuild's own files (a fast rebuild then looked stale).
    const later = new Date(Math.min(statSync(script).mtimeMs + 1, Date.now()));
    utimesSync(join(sdk, 'src', 'index.ts'), later, later);
    // Act: the rebuild in another process (as another stack's start), while this one reads the script
    const build = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `require(${JSON.stringify(join(root, 'local', 'sdk-build.ts'))}).ensureSdkBuilt(${JSON.stringify(sdk)})`],
      { cwd: root, stdio: 'ignore' },
    );
    const done = new Promise<number | null>((ok) => build.on('exit', ok));
    let reads = 0;
    let missing = 0;
    for (let exited = false; !exited; ) {
      exited = await Promise.race([done.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), 5))]);
      reads++;
      if (!existsSync(script) || !readFileSync(script, 'utf8').endsWith('\n')) missing++;
    }
    // Assess
    expect(await done).toBe(0);
    expect(reads).toBeGreaterThan(20);
    expect(missing).toBe(0);
    expect(sdkIsStale(sdk)).toBe(false);
    expect(readdirSync(sdk).filter((f) => f.startsWith('.dist-'))).toEqual([]);
  }, 60_000);
});

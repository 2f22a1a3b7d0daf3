/**
 * What `npm start` rebuilds on. serverless-esbuild's watcher rebuilds the handler on every file its
 * patterns match, and each rebuild makes serverless offline end its Lambda workers, busy ones
 * included: their requests were never answered. The default pattern (any .js/.ts below the
 * checkout) matched the SDK's dist/, the benchmarks, the tests and the stacks' own build folders.
 * The patterns must match every source file the handler bundle is built from, and nothing else.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { esbuildOptionsFromServerless, readServerless } from '../../bench/coldstart';

const root = join(__dirname, '..', '..');
// The matcher chokidar (serverless-esbuild's watcher) uses, resolved the way it resolves it.
const chokidarDir = dirname(require.resolve('chokidar', { paths: [require.resolve('serverless-esbuild')] }));
const anymatch = require(require.resolve('anymatch', { paths: [chokidarDir] })) as (patterns: string[], path: string) => boolean;

describe('npm start watcher', () => {
  const watch = (readServerless().custom.esbuild as unknown as { watch?: { pattern?: string | string[]; ignore?: string | string[] } })
    .watch;
  const patterns = [watch?.pattern ?? []].flat();

  it('has patterns of its own in serverless.yml (the default watches the whole checkout)', () => {
    expect(patterns.length).toBeGreaterThan(0);
  });

  it('matches every repository file the handler bundle is built from, so an edit still reloads', async () => {
    const { entry, ...options } = esbuildOptionsFromServerless();
    const r = await build({ ...options, entryPoints: [entry], write: false, metafile: true, outfile: 'ingest.js', logLevel: 'silent' });
    const sources = Object.keys(r.metafile!.inputs)
      .map((f) => relative(root, join(root, f)))
      .filter((f) => !f.startsWith('node_modules') && existsSync(join(root, f)));

    expect(sources.length).toBeGreaterThan(5);
    expect(sources.filter((f) => !anymatch(patterns, f))).toEqual([]);
  }, 60_000);

  it.each([
    'client-sdk/dist/clickstream.min.js',
    'client-sdk/src/index.ts',
    '.local-build/offline/.build/handlers/ingest.js',
    '.esbuild/.build/handlers/ingest.js',
    'local/start.ts',
    'bench/out/ingest.js',
    'test/unit/handler-ingest.test.ts',
  ])('does not rebuild for %s', (file) => {
    expect(anymatch(patterns, file)).toBe(false);
  });
});

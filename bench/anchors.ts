/**
 * Size anchors: what other trackers cost a page, measured the same way as our SDK (esbuild minify,
 * then gzip -9 and brotli q11). Each npm tracker is installed into a temporary folder and bundled
 * for the browser from a typical-use snippet (init + page view + one event), so tree-shaking
 * counts in its favour; Umami's tracker is not published as a library, so its ready-made
 * script.js is taken from the `umami` package when present. Needs the npm registry: a package that
 * cannot be fetched or bundled is recorded with its error, not left out.
 *
 *   npm run bench -- --anchors      (or: npx tsx bench/anchors.ts)   -> bench/anchors.json
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface AnchorSpec {
  pkg: string;
  /** Typical use, bundled as an ES module for the browser. */
  entry?: string;
  /** Or: a ready browser script inside the package (first that exists). */
  files?: string[];
}

export const ANCHORS: AnchorSpec[] = [
  {
    pkg: 'plausible-tracker',
    entry:
      "import Plausible from 'plausible-tracker'; const p = Plausible({ domain: 'example.com' }); p.enableAutoPageviews(); p.trackEvent('signup');",
  },
  { pkg: 'umami', files: ['public/script.js', 'dist/script.js', 'src/tracker/index.js'] },
  {
    pkg: '@snowplow/browser-tracker',
    entry:
      "import { newTracker, trackPageView, trackStructEvent } from '@snowplow/browser-tracker'; newTracker('sp', 'https://c.example.com', { appId: 'x' }); trackPageView(); trackStructEvent({ category: 'c', action: 'a' });",
  },
  {
    pkg: '@segment/analytics-next',
    entry:
      "import { AnalyticsBrowser } from '@segment/analytics-next'; const a = AnalyticsBrowser.load({ writeKey: 'x' }); a.page(); a.track('signup');",
  },
  {
    pkg: '@aws/clickstream-web',
    entry:
      "import { ClickstreamAnalytics } from '@aws/clickstream-web'; ClickstreamAnalytics.init({ appId: 'x', endpoint: 'https://c.example.com/collect' }); ClickstreamAnalytics.record({ name: 'signup' });",
  },
  {
    pkg: 'posthog-js',
    entry: "import posthog from 'posthog-js'; posthog.init('phc_x', { api_host: 'https://c.example.com' }); posthog.capture('signup');",
  },
];

export interface AnchorResult {
  pkg: string;
  version?: string;
  method?: string;
  min?: number;
  gzip?: number;
  brotli?: number;
  error?: string;
}

export interface AnchorsFile {
  measured_at: string;
  node: string;
  note: string;
  results: AnchorResult[];
}

/** min, gzip -9 and brotli q11 byte counts of one script, as client-sdk/build.mjs counts ours. */
export function sizes(code: string): { min: number; gzip: number; brotli: number } {
  const buf = Buffer.from(code);
  return {
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

/** Runs npm in `cwd` (a temporary folder: anchors never enter package.json) and returns its stdout. */
export const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  }).toString();

/** `npm install` of packages into `dir` without touching any lockfile or running install scripts. */
export const npmInstall = (pkgs: string[], dir: string): string =>
  npm(['install', ...pkgs, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--legacy-peer-deps'], dir);

async function measureOne(spec: AnchorSpec, dir: string): Promise<AnchorResult> {
  try {
    if (spec.files) {
      // Only the tarball: the umami app's own dependencies are not needed to read its tracker.
      const tgz = npm(['pack', spec.pkg, '--silent', '--pack-destination', dir], dir).trim().split('\n').pop()!;
      const out = join(dir, 'unpacked');
      execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
      execFileSync('mv', [join(dir, 'package'), out]);
      const version = (JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as { version: string }).version;
      const file = spec.files.find((f) => existsSync(join(out, f)));
      if (!file) return { pkg: spec.pkg, version, error: `no browser script in the package (looked for ${spec.files.join(', ')})` };
      const r = await build({
        entryPoints: [join(out, file)],
        bundle: true,
        minify: true,
        format: 'iife',
        platform: 'browser',
        write: false,
        logLevel: 'silent',
        legalComments: 'none',
      });
      return { pkg: spec.pkg, version, method: `${file}, esbuild --minify`, ...sizes(r.outputFiles[0]!.text) };
    }
    npmInstall([spec.pkg], dir);
    const version = (JSON.parse(readFileSync(join(dir, 'node_modules', spec.pkg, 'package.json'), 'utf8')) as { version: string }).version;
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, spec.entry!);
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
      define: { 'process.env.NODE_ENV': '"production"' },
      absWorkingDir: dir,
    });
    return {
      pkg: spec.pkg,
      version,
      method: 'typical-use snippet bundled by esbuild --minify (browser, ESM)',
      ...sizes(r.outputFiles.map((f) => f.text).join('')),
    };
  } catch (e) {
    const msg = (e as { stderr?: Buffer }).stderr?.toString() || (e as Error).message;
    return { pkg: spec.pkg, error: msg.split('\n').filter(Boolean).slice(-3).join(' | ').slice(0, 400) };
  }
}

/** Installs and measures every anchor, one temporary folder each; writes bench/anchors.json. */
export async function runAnchors(log: (s: string) => void = () => {}): Promise<AnchorsFile> {
  const results: AnchorResult[] = [];
  for (const spec of ANCHORS) {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-anchor-'));
    writeFileSync(join(dir, 'package.json'), '{"private":true}');
    try {
      const r = await measureOne(spec, dir);
      log(`anchor ${spec.pkg}: ${r.error ? `FAILED ${r.error}` : `${r.gzip} B min+gzip`}`);
      results.push(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const file: AnchorsFile = {
    measured_at: new Date().toISOString().slice(0, 10),
    node: process.version,
    note: 'esbuild minify; gzip level 9; brotli quality 11. Snippet bundles include what the typical use pulls in (dynamic imports inlined).',
    results,
  };
  writeFileSync(join(__dirname, 'anchors.json'), `${JSON.stringify(file, null, 2)}\n`);
  return file;
}

/** The last committed anchors, if any. */
export function readAnchors(): AnchorsFile | undefined {
  const p = join(__dirname, 'anchors.json');
  return existsSync(p) && statSync(p).size > 0 ? (JSON.parse(readFileSync(p, 'utf8')) as AnchorsFile) : undefined;
}

if (require.main === module) {
  runAnchors((s) => process.stdout.write(`${s}\n`)).catch((e: unknown) => {
    process.stderr.write(`anchors: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

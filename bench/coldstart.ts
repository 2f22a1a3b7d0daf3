/**
 * Builds the Lambda bundle exactly as serverless.yml's custom.esbuild says (read from the file, so
 * the figure follows the config) and times a whole `node -e "require(bundle)"` against `node -e ''`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { readServerlessDoc } from '../local/serverless-config';
import { median } from './pipeline';

const root = join(__dirname, '..');
export const OUT_DIR = join(__dirname, 'out');
export const BUNDLE = join(OUT_DIR, 'ingest.js');

interface SlsEsbuild {
  bundle?: boolean;
  minify?: boolean;
  sourcemap?: boolean;
  target?: string;
  platform?: 'node';
  format?: 'cjs' | 'esm';
  mainFields?: string[];
  exclude?: string[];
  plugins?: string;
}

/** The parts of serverless.yml the benchmarks and the cost model follow. */
export interface ServerlessFacts {
  custom: { esbuild: SlsEsbuild; firehose: { intervalSeconds: number; sizeMB: number } };
  functions: {
    ingest: { handler: string; memorySize?: number; logs?: { logFormat?: string; applicationLogLevel?: string; systemLogLevel?: string } };
  };
  provider: {
    memorySize?: number;
    architecture: string;
    logs?: { lambda?: { logFormat?: string; applicationLogLevel?: string; systemLogLevel?: string } };
  };
  params: { default: { dataTransitionDays: number; dataExpirationDays: number } };
  resources: { Resources: Record<string, { Type: string }> };
}

/** serverless.yml as plain data (local/serverless-config.ts reads it as the local stack does). */
export function readServerless(): ServerlessFacts {
  return readServerlessDoc(join(root, 'serverless.yml')) as unknown as ServerlessFacts;
}

/** esbuild options equivalent to serverless.yml custom.esbuild, including its plugins file. */
export function esbuildOptionsFromServerless(): BuildOptions & { entry: string } {
  const doc = readServerless();
  const e = doc.custom.esbuild;
  // handler "handlers/ingest.handler" -> handlers/ingest.ts
  const entry = join(root, `${doc.functions.ingest.handler.replace(/\.[^.]+$/, '')}.ts`);
  return {
    entry,
    bundle: e.bundle,
    minify: e.minify,
    sourcemap: e.sourcemap,
    target: e.target,
    platform: e.platform,
    format: e.format,
    mainFields: e.mainFields,
    // exclude: [] means nothing is external: the AWS SDK is bundled.
    external: e.exclude ?? [],
    // serverless-esbuild requires custom.esbuild.plugins relative to the service folder.
    plugins: e.plugins ? (require(join(root, e.plugins)) as Plugin[]) : undefined,
  };
}

/** Builds the Lambda bundle into bench/out/ingest.js as serverless-esbuild would; returns its size. */
export async function buildBundle(): Promise<{ bytes: number; options: Record<string, unknown> }> {
  mkdirSync(OUT_DIR, { recursive: true });
  const { entry, ...options } = esbuildOptionsFromServerless();
  await build({ ...options, entryPoints: [entry], outfile: BUNDLE, logLevel: 'warning' });
  // Plugin names, not the objects: the options are reported as data.
  return {
    bytes: statSync(BUNDLE).size,
    options: { entry: relative(root, entry), ...options, plugins: options.plugins?.map((p) => p.name) },
  };
}

export const COLD_ENV = {
  EVENTS_STREAM_NAME: 'bench-events',
  REJECTS_STREAM_NAME: 'bench-rejects',
  VISITOR_SALT_SECRET: 'bench-visitor-salt-not-a-secret',
  AWS_REGION: 'us-east-1',
  // The AWS SDK warns once, at client construction, on Node < 22 (these machines run Node 20); the
  // Lambda runs nodejs22.x, where it does not. Measured about 4 ms of the bundle's load here.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

function timeNode(code: string): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    env: { ...process.env, ...COLD_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 10_000,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node -e ${code} failed: ${r.stderr?.toString().slice(0, 500)}`);
  return ms;
}

export interface ColdStart {
  runs: number;
  empty_ms: { median: number; min: number; max: number };
  require_ms: { median: number; min: number; max: number };
  cold_start_ratio: number;
}

export function measureColdStart(runs = 15): ColdStart {
  const req = `require('./${relative(root, BUNDLE).split('\\').join('/')}')`;
  timeNode('');
  timeNode(req); // page cache warm for both, as on a warm Lambda host
  const empty: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first so neither always follows the other.
    if (i % 2) {
      full.push(timeNode(req));
      empty.push(timeNode(''));
    } else {
      empty.push(timeNode(''));
      full.push(timeNode(req));
    }
  }
  const s = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  return { runs, empty_ms: s(empty), require_ms: s(full), cold_start_ratio: median(full) / median(empty) };
}

/**
 * Starts the real local stack (`local/start.ts`: serverless offline + Firehose stand-in + demo
 * server) as a child process on free ports with its own data and build folders: for the
 * integration and browser tests (through test/support/stack.ts) and for the end-to-end benchmarks
 * (bench/e2e.ts, bench/browsing.ts), which must not import test/. stop() ends only the process it
 * started (and its process group).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FaultConfig } from './firehose/server';
import { objectsUnder } from './firehose/layout';
import { freePort } from './net';

export type { FaultConfig };

export interface StartOptions {
  bufferSeconds?: number;
  faults?: FaultConfig;
  env?: Record<string, string>;
  dataDir?: string;
}

export interface LocalStack {
  /** The API on 127.0.0.1, for Node clients (no IPv6 surprises with "localhost"). */
  apiUrl: string;
  /** The API as the demo's config.js announces it to browsers (http://localhost:PORT). */
  publicApiUrl: string;
  demoUrl: string;
  firehoseUrl: string;
  dataDir: string;
  flush(): Promise<void>;
  readEvents(): Promise<Record<string, unknown>[]>;
  readRejects(): Promise<Record<string, unknown>[]>;
  setFaults(f: FaultConfig): Promise<void>;
  stop(): Promise<void>;
  /** Kills the stack without a clean stop (SIGKILL), for crash tests. */
  kill(): Promise<void>;
  /** Everything the stack printed so far (stdout and stderr; the handler's logs unless LOCAL_QUIET). */
  logs(): string;
}

const root = join(__dirname, '..');

export { freePort };

/** All rows stored under a prefix folder (gzip NDJSON objects, as Firehose writes them). */
export function readRows(dir: string): Record<string, unknown>[] {
  return objectsUnder(dir).flatMap((f) => {
    const raw = readFileSync(f);
    const text = (f.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  });
}

/** Stacks started by this process (or jest test file) and not yet stopped (process group leaders). */
const live = new Set<number>();
/** Ends every stack still running (SIGKILL to its process group); test/support/stack.ts calls it after each test file. */
export function killAllStacks(): void {
  for (const pid of live) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  live.clear();
}
// When the process exits, no stack it started outlives it.
process.once('exit', killAllStacks);

export async function startLocalStack(opts: StartOptions = {}): Promise<LocalStack> {
  const work = mkdtempSync(join(tmpdir(), 'clickstream-stack-'));
  const dataDir = opts.dataDir ?? join(work, 'data');
  const port = await freePort();
  // Not under .esbuild/: `osls package` (the infra tests, `npm run package`) deletes that folder wholesale.
  const buildDir = join('.local-build', `stack-${process.pid}-${port}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DEMO_PORT: String(await freePort()),
    FIREHOSE_PORT: String(await freePort()),
    LOCAL_DATA_DIR: dataDir,
    LOCAL_QUIET: '1',
    // serverless v3-family CLIs write ~/.serverless and /tmp/<service>-*: keep them in our folder.
    HOME: work,
    TMPDIR: work,
    // Relative to the service folder (serverless-esbuild joins it there); .local-build/ is git-ignored.
    CLICKSTREAM_BUILD_DIR: buildDir,
    ...(opts.bufferSeconds !== undefined ? { LOCAL_BUFFER_SECONDS: String(opts.bufferSeconds) } : {}),
    ...(opts.faults
      ? {
          LOCAL_FIREHOSE_FAULTS: Object.entries(opts.faults)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        }
      : {}),
    ...opts.env,
  };
  const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'local', 'start.ts')], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) live.add(child.pid);
  let output = '';
  const ready = new Promise<{ apiUrl: string; demoUrl: string; firehoseUrl: string }>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`local stack did not start in 120 s:\n${output.slice(-4000)}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const m = /CLICKSTREAM_READY (.+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(JSON.parse(m[1] as string));
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`local stack exited (${code}) before it was ready:\n${output.slice(-4000)}`));
    });
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const signal = async (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        /* gone */
      }
      // Bounded wait; the timer is cleared so a prompt exit does not keep jest alive for 15 s.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise((r) => {
          timer = setTimeout(r, 15_000);
        }),
      ]);
      clearTimeout(timer);
    }
    if (child.pid) live.delete(child.pid);
  };
  let urls: { apiUrl: string; demoUrl: string; firehoseUrl: string };
  try {
    urls = await ready;
  } catch (err) {
    await signal('SIGKILL');
    rmSync(join(root, buildDir), { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  const admin = async (path: string, body?: unknown) => {
    const r = await fetch(`${urls.firehoseUrl}/_local/${path}`, {
      method: 'POST',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`stand-in ${path}: HTTP ${r.status}`);
  };
  // Tests reach the API on 127.0.0.1 (no IPv6 surprises with "localhost").
  const apiUrl = urls.apiUrl.replace('localhost', '127.0.0.1');
  return {
    apiUrl,
    publicApiUrl: urls.apiUrl,
    demoUrl: urls.demoUrl,
    firehoseUrl: urls.firehoseUrl,
    dataDir,
    flush: () => admin('flush'),
    readEvents: async () => readRows(join(dataDir, 'events')),
    readRejects: async () => readRows(join(dataDir, 'rejects')),
    setFaults: (f) => admin('faults', f),
    logs: () => output,
    stop: async () => {
      await signal('SIGTERM');
      rmSync(join(root, buildDir), { recursive: true, force: true });
      if (!opts.dataDir) rmSync(work, { recursive: true, force: true });
    },
    kill: async () => {
      await signal('SIGKILL');
      rmSync(join(root, buildDir), { recursive: true, force: true });
    },
  };
}

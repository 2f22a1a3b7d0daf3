/**
 * test/unit/ is for tests that touch no disk, no DuckDB and no network, so `npm run test:unit` stays
 * fast and can run anywhere, in any order. Run for every test file (jest.config.js
 * setupFilesAfterEnv), it turns that rule into failures for the files under test/unit/: writing a
 * file, deleting one or making a directory (opening a file for writing included), listening or
 * connecting on a socket (UDP too), starting a process, or loading DuckDB fails the test
 * that did it, with what it did. Reading checked-in files (fixtures in
 * test/events/, serverless.yml, the bundled bot lists and geo table) is allowed: it is what the code
 * under test reads in production too. Tests that need more belong in test/integration/.
 */
import { sep } from 'node:path';

// The modules themselves (require), not an import's namespace copy: the code under test must see the guards.
const fs = require('node:fs') as typeof import('node:fs');
const net = require('node:net') as typeof import('node:net');
const dgram = require('node:dgram') as typeof import('node:dgram');
const childProcess = require('node:child_process') as typeof import('node:child_process');

const testPath = expect.getState().testPath ?? '';
const unitDir = `${sep}test${sep}unit${sep}`;
const fileName = testPath.slice(testPath.lastIndexOf(sep) + 1);
const guarded = testPath.includes(unitDir);

// Core modules are shared by every test file of a jest worker: keep the originals where the next
// file's setup finds them, so it never wraps a wrapper, and put them back after each file.
// (On the fs module: the sandbox's `process` is a new object per test file.)
type Patch = { target: Record<string, unknown>; key: string; original: unknown };
const STORE = Symbol.for('clickstream.unit-no-io.patches');
const proc = fs as unknown as Record<symbol, Patch[] | undefined>;
function restoreAll(): void {
  for (const p of (proc[STORE] ?? []).reverse()) p.target[p.key] = p.original;
  proc[STORE] = [];
}
restoreAll();

if (guarded) {
  const violations: string[] = [];
  const refuse = (what: string): never => {
    const message = `${fileName} is a unit test and must not ${what} (test/unit/setup-no-io.ts): move it to test/integration/ or give the code under test what it needs in memory`;
    violations.push(message);
    throw new Error(message);
  };
  const wrap = (target: object, key: string, what: (args: unknown[]) => string | undefined) => {
    const t = target as Record<string, unknown>;
    const original = t[key];
    if (typeof original !== 'function') return;
    const patches = proc[STORE] ?? [];
    patches.push({ target: t, key, original });
    proc[STORE] = patches;
    t[key] = function (this: unknown, ...args: unknown[]) {
      const refused = what(args);
      if (refused) refuse(refused);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  };
  // Jest's own transform cache may be written from the worker; it is not the test's doing.
  const ownCache = (p: unknown) => String(p).includes(`${sep}jest_`) || String(p).includes(`${sep}.jest-cache`);
  const write = (verb: string) => (args: unknown[]) => (ownCache(args[0]) ? undefined : `${verb} ${String(args[0])}`);
  for (const key of [
    'writeFileSync',
    'writeFile',
    'appendFileSync',
    'appendFile',
    'mkdirSync',
    'mkdir',
    'mkdtempSync',
    'mkdtemp',
    'createWriteStream',
    'copyFileSync',
    'renameSync',
    'rmSync',
    'rm',
    'unlinkSync',
    'unlink',
    'rmdirSync',
    'truncateSync',
    'symlinkSync',
    'symlink',
    'linkSync',
    'link',
    'cpSync',
    'cp',
    'rmdir',
  ]) {
    wrap(fs, key, write(`write to disk (fs.${key})`));
  }
  for (const key of [
    'writeFile',
    'appendFile',
    'mkdir',
    'mkdtemp',
    'copyFile',
    'rename',
    'rm',
    'rmdir',
    'unlink',
    'truncate',
    'symlink',
    'link',
    'cp',
  ])
    wrap(fs.promises, key, write(`write to disk (fs.promises.${key})`));
  // open() with a flag that writes, creates or truncates; reading checked-in files stays allowed
  // (handlers/lib/geo.ts reads its table through openSync).
  const { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND } = fs.constants;
  const writes = (flags: unknown) =>
    typeof flags === 'number'
      ? (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)) !== 0
      : typeof flags === 'string' && /[wax+]/.test(flags);
  const open = (verb: string) => (args: unknown[]) =>
    writes(args[1]) && !ownCache(args[0]) ? `${verb} ${String(args[0])} for writing` : undefined;
  wrap(fs, 'openSync', open('open (fs.openSync)'));
  wrap(fs, 'open', open('open (fs.open)'));
  wrap(fs.promises, 'open', open('open (fs.promises.open)'));
  // esbuild's service is a compiler, like jest's transform: a unit test may build in memory (write: false).
  for (const key of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'])
    wrap(childProcess, key, (args) =>
      /[\\/]node_modules[\\/]@?esbuild[\\/].*esbuild(\.exe)?$/.test(String(args[0]))
        ? undefined
        : `start a process (child_process.${key} ${String(args[0]).slice(0, 80)})`,
    );
  wrap(dgram, 'createSocket', () => 'open a UDP socket (dgram.createSocket)');
  wrap(net.Server.prototype, 'listen', () => 'listen on a socket');
  wrap(net.Socket.prototype, 'connect', (args) => `open a network connection (${JSON.stringify(args[0])})`);
  jest.mock('@duckdb/node-api', () => refuse('load DuckDB (@duckdb/node-api)'));

  afterEach(() => {
    // A refused call may have been caught by the code under test: fail the test that made it anyway.
    const found = violations.splice(0);
    if (found.length) throw new Error(found.join('\n'));
  });
}
afterAll(restoreAll);

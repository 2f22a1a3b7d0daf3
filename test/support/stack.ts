/**
 * The local stack for integration and browser tests: local/stack-process.ts starts it (the
 * benchmarks use it from there too); this module adds what only tests need.
 */
import { killAllStacks } from '../../local/stack-process';

export { freePort, readRows, startLocalStack, type FaultConfig, type LocalStack, type StartOptions } from '../../local/stack-process';

/** Reads until `done` holds or `ms` has passed (bounded polling), and returns the last read. */
export async function eventually<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    v = await read();
  }
  return v;
}

// A test that times out never reaches its own stop(): end what it left when the file is done
// (local/stack-process.ts also ends them when the worker exits).
if (typeof afterAll === 'function') afterAll(killAllStacks);

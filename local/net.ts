import { createServer } from 'node:net';

/** A port that was free on 127.0.0.1 a moment ago (the OS picks it), for servers started next. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer()
      .once('error', fail)
      .listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
  });
}

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deadline } from '../../client-sdk/src/transport';

// The SDK's send deadline against a real socket (a server on 127.0.0.1 that never answers); its
// timer logic without a socket is in test/unit/sdk-transport.test.ts.
describe('SDK send deadline on a real connection', () => {
  it('ends a real fetch that gets no answer, and closes its connection', async () => {
    // Prepare: a server that reads the request and never answers
    let closed!: () => void;
    const socketClosed = new Promise<void>((ok) => (closed = ok));
    const server = createServer((req: IncomingMessage) => {
      req.resume();
      req.socket.on('close', () => closed());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`;
    try {
      // Act
      const t0 = Date.now();
      const outcome = await fetch(url, { method: 'POST', body: '{}', signal: deadline(200) }).then(
        () => 'answered',
        (e: Error) => e.name,
      );
      // Assess
      expect(outcome).toMatch(/^(TimeoutError|AbortError)$/);
      expect(Date.now() - t0).toBeLessThan(5000);
      await socketClosed;
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/**
 * The hostile catalogue (test/support/hostile-cases.ts) over real HTTP: each case is POSTed to the
 * local stack (the API Gateway stand-in, serverless offline, the real handler, the Firehose
 * stand-in), the way a client sends it. Every answer is the catalogue's, never a 5xx, and what is
 * stored afterwards is exactly the accepted events and one reject row per rejection. This is the
 * path the unit tests cannot see: offline passes `body: null` for an empty POST, and API Gateway's
 * own answers (payload quota) come before the function.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import type { StoredEvent } from '../../handlers/lib/pipeline';
import { assessAnswer, CASES, CHROME, type Case } from '../support/hostile-cases';
import { startLocalStack, type LocalStack } from '../support/stack';

function post(url: string, c: Case): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  // What a client puts on the wire: the bytes (a base64 case's decoded bytes), its headers.
  const bytes = c.body == null ? undefined : c.base64 ? Buffer.from(c.body, 'base64') : Buffer.from(c.body, 'utf8');
  const headers: Record<string, string> = { 'content-type': c.contentType ?? 'text/plain' };
  const ua = c.userAgent ?? CHROME;
  if (ua !== '') headers['user-agent'] = ua;
  if (c.origin !== undefined) headers.origin = c.origin;
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // A body refused early (413) may end the connection while it is still being written.
    req.on('error', fail);
    req.end(bytes);
  });
}

/** Event ids a case's body carries (its own events, to find their stored rows). */
function idsOf(c: Case): string[] {
  try {
    const text = c.base64 ? Buffer.from(c.body ?? '', 'base64').toString('utf8') : (c.body ?? '');
    const events = (JSON.parse(text) as { events?: unknown }).events;
    return Array.isArray(events)
      ? events.map((e) => (e as { event_id?: unknown } | null)?.event_id).filter((id): id is string => typeof id === 'string')
      : [];
  } catch {
    return [];
  }
}

const sent = CASES.filter((c) => c.http !== 'skip');

describe('hostile inputs over real HTTP through the local stack', () => {
  let stack: LocalStack;
  let url: string;
  const answered: { c: Case; status: number; accepted: number; rejections: number }[] = [];
  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 1 });
    url = `${stack.apiUrl}/v1/events`;
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  test.each(sent.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const res = await post(url, c);

      expect(res.status).toBeLessThan(500);
      const over = typeof c.http === 'object' ? c.http : {};
      const body = JSON.parse(res.body) as Record<string, unknown>;
      if (over.gateway) {
        expect(res.status).toBe(over.status ?? c.status);
        expect(body).toEqual({ message: over.gateway });
        answered.push({ c, status: res.status, accepted: 0, rejections: 0 });
        return;
      }
      if (over.anyReason) {
        expect(res.status).toBe(over.status ?? c.status);
        expect(typeof body.error).toBe('string');
        expect((body.error as string).length).toBeGreaterThan(0);
      } else {
        assessAnswer(c, res.status, body);
      }
      const rejections = res.status === 200 ? (body.rejected as unknown[]).length : 1;
      answered.push({ c, status: res.status, accepted: res.status === 200 ? (body.accepted as number) : 0, rejections });
    },
    60_000,
  );

  // Declared last: jest runs a file's tests in order, so every case above has been sent.
  test('stores exactly the accepted events, verbatim, and one reject row per rejection', async () => {
    expect(answered).toHaveLength(sent.length);
    await stack.flush();
    const events = (await stack.readEvents()) as unknown as StoredEvent[];
    const rejects = await stack.readRejects();

    expect(events).toHaveLength(answered.reduce((n, a) => n + a.accepted, 0));
    expect(rejects).toHaveLength(answered.reduce((n, a) => n + a.rejections, 0));
    for (const r of rejects) expect(String(r.reason).length).toBeGreaterThan(0);
    // The client's address is never stored (here the loopback address every request came from).
    expect(JSON.stringify(events)).not.toMatch(/127\.0\.0\.1|::1/);
    const byId = new Map(events.map((e) => [e.event_id.toLowerCase(), e]));
    for (const { c } of answered.filter((a) => a.c.stored && a.status === 200)) {
      const rows = idsOf(c)
        .map((id) => byId.get(id.toLowerCase()))
        .filter((r): r is StoredEvent => r !== undefined);
      c.stored!(rows);
    }
  }, 60_000);
});

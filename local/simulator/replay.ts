/**
 * Replays simulated requests through a running HTTP API (the local stack or a deployed stage), as
 * browsers would send them: text/plain POSTs to /v1/events with their User-Agent and Origin.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { requestBody, type SimRequest } from './generate';

export interface ReplayResult {
  sent: number;
  /** HTTP status -> count; 0 = network error or timeout. */
  statuses: Record<number, number>;
  accepted: number;
}

function post(api: URL, body: string, req: SimRequest, timeoutMs: number): Promise<{ status: number; text: string }> {
  const send = api.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'user-agent': req.userAgent };
    if (req.origin) headers.origin = req.origin;
    // The visitor's address: believed only by a local stack started with LOCAL_FORWARDED_FOR=true
    // (handlers/lib/geo.ts forwardedForFromLoopback); a deployed stage uses its own sourceIp.
    headers['x-forwarded-for'] = req.sourceIp;
    const r = send(new URL('/v1/events', api), { method: 'POST', headers, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    r.on('timeout', () => r.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(body);
  });
}

/**
 * Sends every request once, `concurrency` at a time, in arrival order. Firehose-side copies are
 * skipped (they cannot be made through the API); SDK re-sends are sent again, as a retry would.
 * sent_at is the client clock now, so the server's skew correction sees a real batch.
 */
export async function replay(
  requests: readonly SimRequest[],
  api: URL,
  siteId: string,
  opts: { concurrency?: number; timeoutMs?: number; onProgress?: (done: number) => void } = {},
): Promise<ReplayResult> {
  const result: ReplayResult = { sent: 0, statuses: {}, accepted: 0 };
  const queue = requests.filter((r) => !r.firehoseCopy);
  let next = 0;
  const worker = async () => {
    while (next < queue.length) {
      const req = queue[next++]!;
      const { status, text } = await post(api, requestBody(req, siteId, Date.now()), req, opts.timeoutMs ?? 10_000).catch(() => ({
        status: 0,
        text: '',
      }));
      result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      if (status === 200) result.accepted += (JSON.parse(text) as { accepted?: number }).accepted ?? 0;
      result.sent++;
      opts.onProgress?.(result.sent);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return result;
}

/**
 * Countries through the local stack's own path: the simulator replays its visitors (each with an
 * address drawn from the geo table, sent as X-Forwarded-For) through the API Gateway stand-in and
 * serverless offline with LOCAL_FORWARDED_FOR=true; each stored event must carry its visitor's
 * drawn country, and the countries saved query over the stored objects must equal the ground truth.
 * Also: the stand-in passes X-Forwarded-For on only with the switch on.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { openLocalAthena } from '../../local/athena-local/duckdb';
import { runSaved } from '../../local/athena-local/queries';
import { startApiGateway } from '../../local/api-gateway';
import { freePort } from '../../local/net';
import type { HttpApiConfig } from '../../local/serverless-config';
import { diffRows } from '../../local/simulator/compare';
import { DEFAULT_OPTIONS, generate, type SimOptions } from '../../local/simulator/generate';
import { replay } from '../../local/simulator/replay';
import { TRUTH } from '../../local/simulator/truth';
import type { StoredEvent } from '../../handlers/lib/pipeline';
import { eventually, startLocalStack, type LocalStack } from '../support/stack';

const HTTP: HttpApiConfig = { timeoutSeconds: 2 };

describe('the API Gateway stand-in and X-Forwarded-For', () => {
  it.each([
    [true, '81.2.69.142'],
    [false, undefined],
  ])('with the switch %s passes on %s', async (forwardedFor, expected) => {
    // Prepare: a stand-in for offline that records the headers reaching it
    const seen: IncomingHttpHeaders[] = [];
    const offline = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    const port = await freePort();
    await new Promise<void>((ok) => offline.listen(port, '127.0.0.1', ok));
    const gw = await startApiGateway({ port: 0, target: `http://127.0.0.1:${port}`, http: HTTP, forwardedFor, log: () => {} });
    try {
      // Act
      await new Promise<void>((ok, fail) => {
        const r = request(`${gw.url}/v1/events`, { method: 'POST', headers: { 'x-forwarded-for': '81.2.69.142' } }, (res) => {
          res.resume();
          res.on('end', ok);
        });
        r.on('error', fail);
        r.end('{}');
      });
      // Assess
      expect(seen[0]?.['x-forwarded-for']).toBe(expected);
    } finally {
      await gw.close();
      await new Promise<void>((ok) => offline.close(() => ok()));
    }
  });
});

describe('countries through the local stack', () => {
  let stack: LocalStack;
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  // Recent days only: the API rejects events older than 30 days. No bots: they are left out anyway.
  const SIM: SimOptions = {
    ...DEFAULT_OPTIONS,
    visitors: 60,
    days: 2,
    end: yesterday,
    seed: 21,
    botShare: 0,
    rejectShare: 0,
    duplicateShare: 0,
    lateShare: 0,
  };

  beforeAll(async () => {
    stack = await startLocalStack({ bufferSeconds: 1, env: { LOCAL_FORWARDED_FOR: 'true' } });
  }, 150_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("stores each visitor's drawn country, and the countries query equals the ground truth", async () => {
    // Prepare
    const { requests, botVisitors, visitorCountries } = generate(SIM);
    const sent = requests.filter((r) => !r.firehoseCopy);
    const events = sent.reduce((n, r) => n + r.events.length, 0);
    expect(new Set(sent.map((r) => visitorCountries.get(r.events[0]?.anonymous_id as string))).size).toBeGreaterThan(3);
    expect(sent.some((r) => r.sourceIp.includes(':'))).toBe(true);

    // Act
    const r = await replay(requests, new URL(stack.apiUrl), 'demo', { concurrency: 4, timeoutMs: 10_000 });
    expect(r.statuses[200]).toBe(sent.length);
    await stack.flush();
    const rows = (await eventually(
      () => stack.readEvents(),
      (rs) => rs.length >= events,
      30_000,
    )) as unknown as StoredEvent[];

    // Assess: every row has its visitor's country (from the address the simulator drew)
    expect(rows.length).toBe(events);
    const wrong = rows.filter((x) => x.country !== visitorCountries.get(x.anonymous_id));
    expect(wrong.map((x) => [x.anonymous_id, x.country, visitorCountries.get(x.anonymous_id)]).slice(0, 3)).toEqual([]);
    // ...and the saved query over what the stack stored says what the ground truth says
    const days = [...new Set(rows.map((x) => x.event_time.slice(0, 10)))].sort();
    const range = { from: days[0]!, to: days[days.length - 1]! };
    const db = await openLocalAthena(stack.dataDir);
    try {
      const got = await runSaved(db, 'countries', range.from, range.to);
      const want = TRUTH.countries!(
        { events: rows.map((row) => ({ row, arrivalMs: 0 })), rejects: [], botVisitors, visitorCountries },
        range,
      );
      expect(want.length).toBeGreaterThan(3);
      expect(diffRows('countries', got, want)).toEqual([]);
    } finally {
      db.close();
    }
  }, 120_000);
});

/**
 * Partition pruning does not depend on the optimizer: every saved query filters `dt` with a range
 * computed from its parameters alone, so the engine drops the other prefixes while planning.
 *
 * DuckDB prunes hive partitions only from such a static filter (a join on a computed dt list made
 * it open every object), which makes it a fair local stand-in: objects just outside the range are
 * unreadable here, so a query that opened one would fail. On Athena the same filter drives
 * partition projection ("How to use the date type" in the Athena user guide: conditions on the
 * projected dt key decide which prefixes are listed), and the workgroup's bytes-scanned cutoff
 * stays as the safety net.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openLocalAthena, stripComments, type LocalAthena } from '../../local/athena-local/duckdb';
import { loadQuery, queryNames, queryParams, runSaved } from '../../local/athena-local/queries';

const FROM = '2026-11-04';
const TO = '2026-11-10';

describe('saved queries read only the partitions of their range', () => {
  let dir: string;
  let db: LocalAthena;

  const put = (table: string, dt: string, body: Buffer) => {
    const folder = join(dir, table, `dt=${dt}`, 'hour=12');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `clickstream-test-${table}-1-${dt}-12-00-00-${Math.random().toString(16).slice(2)}.gz`), body);
  };
  const rows = (...r: object[]) => gzipSync(r.map((x) => `${JSON.stringify(x)}\n`).join(''));
  const pageView = (id: string, eventTime: string, receivedAt: string) => ({
    event_id: id,
    type: 'page_view',
    event_time: eventTime,
    received_at: receivedAt,
    anonymous_id: `a-${id}`,
    session_id: `s-${id}`,
    is_bot: false,
    path: '/',
    url: 'https://demo.example/',
    source: 'direct',
    medium: 'none',
    duration_ms: 0,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cs-prune-'));
    // Inside the slack: stamped a few seconds ahead of the server clock (arrives the day before
    // `from`), an ordinary one, and one sent from an offline queue 3 days after `to`.
    put('events', '2026-11-03', rows(pageView('early', '2026-11-04T00:00:10.000Z', '2026-11-03T23:59:59.000Z')));
    put('events', FROM, rows(pageView('plain', '2026-11-04T12:00:00.000Z', '2026-11-04T12:00:01.000Z')));
    put('events', '2026-11-13', rows(pageView('late', '2026-11-10T23:00:00.000Z', '2026-11-13T08:00:00.000Z')));
    put('rejects', FROM, rows({ received_at: '2026-11-04T12:00:00.000Z', reason: 'type: not one of the allowed values', event_index: 0 }));
    // Just outside the slack: not gzip, so reading them fails the query.
    for (const table of ['events', 'rejects']) {
      for (const dt of ['2026-11-02', '2026-11-14', '2025-01-01'])
        put(table, dt, Buffer.from('not a gzip object: this partition must not be read'));
    }
    db = await openLocalAthena(dir);
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(queryNames())('%s', async (name) => {
    await expect(runSaved(db, name, FROM, TO, name === 'funnel' ? ['/'] : [])).resolves.toBeDefined();
    // Also with every object listed (db.run): runSaved lists only the days of the range, as
    // partition projection would, so this is what proves the static filter prunes by itself.
    const q = loadQuery(name);
    await expect(db.run(stripComments(q.sql), queryParams(q, FROM, TO, name === 'funnel' ? ['/'] : []))).resolves.toBeDefined();
  });

  it('still reads the whole slack: the day before `from` to 3 days after `to`', async () => {
    const r = await runSaved(db, 'daily_active_users', FROM, TO);
    const views = r.rows.reduce((n, row) => n + (row[r.columns.indexOf('page_views')] as number), 0);
    expect(views).toBe(3);
    const dq = await runSaved(db, 'data_quality', FROM, TO);
    expect(dq.rows.map((row) => row[dq.columns.indexOf('rejected')])).toContain(1);
  });
});

/** The local Athena layer: Trino functions behave as on Athena, tables are typed from the schema. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openEngine, openLocalAthena, type LocalAthena } from '../../local/athena-local/duckdb';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../schema/columns';

describe('Trino macros on DuckDB', () => {
  let db: LocalAthena;
  beforeAll(async () => {
    db = await openEngine();
  });
  afterAll(() => db.close());
  const one = async (sql: string) => (await db.run(`SELECT ${sql}`)).rows[0]![0];

  it.each([
    // Late evening UTC stays on its UTC date whatever the machine's zone.
    ["CAST(CAST(from_iso8601_timestamp('2026-11-22T23:30:05.120Z') AS DATE) AS VARCHAR)", '2026-11-22'],
    ["hour(from_iso8601_timestamp('2026-11-22T23:30:05.120Z'))", 23],
    ["CAST(CAST(from_iso8601_timestamp('2026-11-23T00:30:00+01:00') AS DATE) AS VARCHAR)", '2026-11-22'],
    ["json_extract_scalar('{\"item\":\"Margherita\",\"price\":11.5}', '$.item')", 'Margherita'],
    ["url_extract_host('https://www.example.com:8080/menu.html?utm_source=x#top')", 'www.example.com'],
    ["url_extract_path('https://www.example.com:8080/menu.html?utm_source=x#top')", '/menu.html'],
    ["url_extract_parameter('https://x.com/?a=1&utm_source=news&b=2', 'utm_source')", 'news'],
    ["url_extract_parameter('https://x.com/?a=1', 'utm_source')", null],
    ["date_diff('millisecond', from_iso8601_timestamp('2026-11-22T10:00:00Z'), from_iso8601_timestamp('2026-11-22T10:00:01.250Z'))", 1250],
    ["CAST(CAST(CAST('2026-03-01' AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)", '2026-02-28'],
    ["CAST(CAST(date_trunc('week', DATE '2026-11-22') AS DATE) AS VARCHAR)", '2026-11-16'],
  ])('%s = %j', async (sql, want) => {
    expect(await one(sql)).toEqual(want);
  });

  it('approx_percentile is the nearest-rank percentile locally', async () => {
    const r = await db.run('SELECT approx_percentile(x, 0.5), approx_percentile(x, 0.95) FROM range(1, 101) t(x)');
    expect(r.rows[0]).toEqual([50, 95]);
  });
});

describe('events table', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cs-duck-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has the schema columns with their types plus dt and hour as strings, and data_quality runs without rejects', async () => {
    const part = join(dir, 'events/dt=2026-11-22/hour=09');
    mkdirSync(part, { recursive: true });
    const row = { event_id: '0192f5e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6', type: 'click', event_time: '2026-11-22T09:00:00.000Z', received_at: '2026-11-22T09:00:01.000Z', duration_ms: 1500, is_bot: false, anonymous_id: 'a', session_id: 's' };
    writeFileSync(join(part, 'clickstream-dev-events-1-2026-11-22-09-00-30-x.gz'), gzipSync(`${JSON.stringify(row)}\n`));
    const db = await openLocalAthena(dir);
    try {
      const cols = await db.run('DESCRIBE events');
      const types = Object.fromEntries(cols.rows.map((r) => [r[0], r[1]]));
      expect(Object.keys(types)).toEqual([...EVENT_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.name));
      expect(types).toMatchObject({ duration_ms: 'BIGINT', scroll_depth: 'INTEGER', is_bot: 'BOOLEAN', properties: 'VARCHAR', dt: 'VARCHAR', hour: 'VARCHAR' });
      const r = await db.run("SELECT dt, hour, duration_ms FROM events_dedup");
      expect(r.rows).toEqual([['2026-11-22', '09', 1500]]);
      expect((await db.run('SELECT count(*) FROM rejects')).rows).toEqual([[0]]);
    } finally {
      db.close();
    }
  });
});

/** The local Athena layer: Trino functions behave as on Athena, tables are typed from the schema. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hasObject, openEngine, openLocalAthena, sqlString, type LocalAthena } from '../../local/athena-local/duckdb';
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
    ["CAST(CAST(from_iso8601_timestamp('2026-11-23T00:30:00+00:00') AS DATE) AS VARCHAR)", '2026-11-23'],
    // No zone: the session zone, UTC on Athena and here.
    ["hour(from_iso8601_timestamp('2026-11-22T23:30:05'))", 23],
    ['json_extract_scalar(\'{"item":"Margherita","price":11.5}\', \'$.item\')', 'Margherita'],
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

/**
 * Each macro gives Trino's answer or fails the query with a message naming the function: never a
 * silently different value. Expected values follow Trino's docs (functions/json.md, datetime.md,
 * array.md, url.md) and UrlFunctions.java (java.net.URI, URLDecoder).
 */
describe('Trino macros match Trino or refuse loudly', () => {
  let db: LocalAthena;
  beforeAll(async () => {
    db = await openEngine();
  });
  afterAll(() => db.close());
  const one = async (sql: string) => (await db.run(`SELECT ${sql}`)).rows[0]![0];
  // From a table, so DuckDB cannot fold the call into a constant and fail while planning.
  const fromRow = async (expr: string, value: string) =>
    (await db.run(`SELECT ${expr} FROM (VALUES (${sqlString(value)})) v(x)`)).rows[0]![0];

  describe('json_extract_scalar', () => {
    it.each([
      ['{"item":"Margherita","price":11.5,"qty":2,"ok":true}', '$.item', 'Margherita'],
      ['{"item":"Margherita","price":11.5,"qty":2,"ok":true}', '$.price', '11.5'],
      ['{"item":"Margherita","price":11.5,"qty":2,"ok":true}', '$.qty', '2'],
      ['{"item":"Margherita","price":11.5,"qty":2,"ok":true}', '$.ok', 'true'],
      ['{"a":[10,20]}', '$.a[1]', '20'],
      ['{"a":"x\\"y \\u00e9"}', '$.a', 'x"y é'],
      // Not a scalar: Trino returns NULL where DuckDB's json_extract_string returns the JSON text.
      ['{"a":[1,2]}', '$.a', null],
      ['{"a":{"b":1}}', '$.a', null],
      ['{"a":null}', '$.a', null],
      ['{"a":1}', '$.b', null],
    ])('%s %s = %j', async (j, p, want) => {
      expect(await fromRow(`json_extract_scalar(x, ${sqlString(p)})`, j)).toEqual(want);
    });

    it.each([
      // Trino returns the number as written; DuckDB would re-print 1.5 and 100.0.
      ['{"a":1.50}', '$.a', /re-prints it: 1\.5 /],
      ['{"a":1e2}', '$.a', /re-prints it: 100\.0 /],
      // DuckDB also reads JSON pointers and wildcards, Trino's path language does not.
      ['{"a":1}', '/a', /only \$\.key and \[n\] paths/],
      ['{"a":[1,2]}', '$.a[*]', /only \$\.key and \[n\] paths/],
      ['{"a":1', '$.a', /invalid JSON/],
    ])('%s %s fails', async (j, p, message) => {
      await expect(fromRow(`json_extract_scalar(x, ${sqlString(p)})`, j)).rejects.toThrow(message);
    });
  });

  describe('date_format (MySQL specifiers, as in Trino)', () => {
    const t = "TIMESTAMPTZ '2026-01-05 13:04:05.123456+00'";
    it.each([
      ['%Y-%m-%d %H:%i:%s', '2026-01-05 13:04:05'],
      ['%W %M %e %c', 'Monday January 5 1'],
      ['%k %l %h %I %p', '13 1 01 01 PM'],
      ['%r|%T', '01:04:05 PM|13:04:05'],
      // Fraction: six digits, truncated to milliseconds.
      ['%f', '123000'],
      ['%j %a %b %y %S', '005 Mon Jan 26 05'],
      // ISO week and its year: 2026-01-05 is in week 2 of 2026.
      ['%v/%x', '02/2026'],
      ['100%% %Q', '100% Q'],
    ])('%s', async (f, want) => {
      expect(await one(`date_format(${t}, ${sqlString(f)})`)).toBe(want);
    });

    it('reads a DATE as midnight', async () => {
      expect(await one("date_format(DATE '2026-01-05', '%Y/%m/%d %H:%i')")).toBe('2026/01/05 00:00');
    });

    it.each(['%D', '%U', '%u', '%V', '%w', '%X', 'at 5%'])('refuses %s, which Trino does not support', async (f) => {
      await expect(one(`date_format(${t}, ${sqlString(f)})`)).rejects.toThrow(/date_format: Trino does not support/);
    });
  });

  describe('sequence', () => {
    it('steps one day, backwards when start > stop, up to 10,000 entries', async () => {
      expect(await one("array_to_string(sequence(DATE '2026-01-30', DATE '2026-02-01'), ',')")).toBe('2026-01-30,2026-01-31,2026-02-01');
      expect(await one("array_to_string(sequence(DATE '2026-01-03', DATE '2026-01-01'), ',')")).toBe('2026-01-03,2026-01-02,2026-01-01');
      expect(await one("len(sequence(DATE '2020-01-01', DATE '2047-05-18'))")).toBe(10_000);
    });

    it('fails past 10,000 entries, as Trino does', async () => {
      await expect(one("sequence(DATE '2020-01-01', DATE '2047-05-19')")).rejects.toThrow(/must not have more than 10000 entries/);
      await expect(one("sequence(DATE '2047-05-19', DATE '2020-01-01')")).rejects.toThrow(/must not have more than 10000 entries/);
    });
  });

  describe('date_diff', () => {
    it.each([
      // Whole units, as Trino: DuckDB's own date_diff counts boundaries crossed (1 day, 1 hour).
      ["date_diff('day', TIMESTAMP '2026-01-04 23:00:00', TIMESTAMP '2026-01-05 01:00:00')", 0],
      ["date_diff('hour', TIMESTAMP '2026-01-04 10:59:59', TIMESTAMP '2026-01-04 11:00:01')", 0],
      ["date_diff('day', TIMESTAMP '2026-01-05 01:00:00', TIMESTAMP '2026-01-04 23:00:00')", 0],
      [
        "date_diff('millisecond', from_iso8601_timestamp('2026-11-22T10:00:00Z'), from_iso8601_timestamp('2026-11-22T10:00:01.250Z'))",
        1250,
      ],
      ["date_diff('week', DATE '2026-11-16', DATE '2026-11-30')", 2],
      ["date_diff('day', DATE '2026-02-27', DATE '2026-03-01')", 2],
    ])('%s = %j', async (sql, want) => {
      expect(await one(sql)).toBe(want);
    });
  });

  describe('from_iso8601_timestamp', () => {
    it('refuses a non-UTC offset, which Trino keeps as the value zone (its hour and date differ)', async () => {
      await expect(fromRow('hour(from_iso8601_timestamp(x))', '2026-11-23T00:30:00+01:00')).rejects.toThrow(
        /from_iso8601_timestamp: a non-UTC offset/,
      );
      await expect(fromRow('from_iso8601_timestamp(x)', '2026-11-22T10:00:00-05:00')).rejects.toThrow(/non-UTC offset/);
    });

    it('keeps a plain date', async () => {
      expect(await fromRow('CAST(CAST(from_iso8601_timestamp(x) AS DATE) AS VARCHAR)', '2026-11-22')).toBe('2026-11-22');
    });
  });

  describe('url_extract_*', () => {
    it.each([
      ['url_extract_host', 'https://www.example.com:8080/menu.html?utm_source=x#top', 'www.example.com'],
      ['url_extract_host', 'http://127.0.0.1:3000/', '127.0.0.1'],
      ['url_extract_host', 'http://localhost./', 'localhost.'],
      // getPath() is percent-decoded, '+' kept; no path is ''.
      ['url_extract_path', 'https://x.com/caf%C3%A9/a+b.html?q=1', '/café/a+b.html'],
      ['url_extract_path', 'https://x.com?a=1', ''],
      // java.net.URI rejects a space, a bad escape, a second '#': Trino returns NULL.
      ['url_extract_host', 'https://x.com/a b', null],
      ['url_extract_path', 'https://x.com/%zz', null],
      ['url_extract_host', 'https://x.com/a#b#c', null],
      ['url_extract_host', 'https://x.com/{x}', null],
    ])('%s(%s) = %j', async (fn, url, want) => {
      expect(await fromRow(`${fn}(x)`, url)).toEqual(want);
    });

    it.each([
      ['https://x.com/?a=1&utm_source=news&b=2', 'utm_source', 'news'],
      ['https://x.com/?utm_source=a&utm_source=b', 'utm_source', 'a'],
      ['https://x.com/?a=1', 'utm_source', null],
      ['https://x.com/', 'a', null],
      // Present without a value: '' (the old regex macro returned NULL).
      ['https://x.com/?a=&b', 'a', ''],
      ['https://x.com/?a=&b', 'b', ''],
      // The value is form-decoded (URLDecoder): %XX as UTF-8, '+' as a space; the name is raw.
      ['https://x.com/?q=caf%C3%A9+au+lait', 'q', 'café au lait'],
      ['https://x.com/?a.b=1', 'a.b', '1'],
      ['https://x.com/?ab=1', 'a.', null],
      ['https://x.com/?q=a=b', 'q', 'a=b'],
      ['https://x.com/?q=a b', 'q', null],
    ])('url_extract_parameter(%s, %s) = %j', async (url, name, want) => {
      expect(await fromRow(`url_extract_parameter(x, ${sqlString(name)})`, url)).toEqual(want);
    });

    it.each([
      // java.net.URI reads these hosts as a registry authority (no host) or needs rules the
      // local regex does not have: refused rather than guessed.
      'http://my_host/x',
      'http://user@x.com/',
      'http://[::1]:8080/',
      'http://1.2.3.999/',
      'https://bücher.de/',
      '/relative/path',
      'mailto:someone@example.com',
    ])('refuses %s', async (url) => {
      for (const fn of ['url_extract_host', 'url_extract_path']) {
        await expect(fromRow(`${fn}(x)`, url)).rejects.toThrow(new RegExp(`${fn}: not an absolute ASCII URL`));
      }
      await expect(fromRow("url_extract_parameter(x, 'a')", url)).rejects.toThrow(/url_extract_parameter: not an absolute ASCII URL/);
    });

    it('passes NULL through', async () => {
      expect(await one('url_extract_host(NULL)')).toBeNull();
      expect(await one("url_extract_parameter(NULL, 'a')")).toBeNull();
    });
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
    const row = {
      event_id: '0192f5e4-8a1b-7c3d-9e4f-a1b2c3d4e5f6',
      type: 'click',
      event_time: '2026-11-22T09:00:00.000Z',
      received_at: '2026-11-22T09:00:01.000Z',
      duration_ms: 1500,
      is_bot: false,
      anonymous_id: 'a',
      session_id: 's',
    };
    writeFileSync(join(part, 'clickstream-dev-events-1-2026-11-22-09-00-30-x.gz'), gzipSync(`${JSON.stringify(row)}\n`));
    const db = await openLocalAthena(dir);
    try {
      const cols = await db.run('DESCRIBE events');
      const types = Object.fromEntries(cols.rows.map((r) => [r[0], r[1]]));
      expect(Object.keys(types)).toEqual([...EVENT_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.name));
      expect(types).toMatchObject({
        duration_ms: 'BIGINT',
        scroll_depth: 'INTEGER',
        is_bot: 'BOOLEAN',
        properties: 'VARCHAR',
        dt: 'VARCHAR',
        hour: 'VARCHAR',
      });
      const r = await db.run('SELECT dt, hour, duration_ms FROM events_dedup');
      expect(r.rows).toEqual([['2026-11-22', '09', 1500]]);
      expect((await db.run('SELECT count(*) FROM rejects')).rows).toEqual([[0]]);
    } finally {
      db.close();
    }
  });

  it('opens without binding the raw objects (the first query lists what it reads) and still finds whether there are any', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cs-duck-empty-'));
    try {
      mkdirSync(join(empty, 'events/dt=2026-11-22/hour=09'), { recursive: true });
      writeFileSync(join(empty, 'events/dt=2026-11-22/hour=09/x.gz.tmp'), '');
      expect(hasObject(join(empty, 'events'), '.gz')).toBe(false);
      await expect(openLocalAthena(empty)).rejects.toThrow(/no event objects/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const good = join(dir, 'events/dt=2026-11-22/hour=10');
    mkdirSync(good, { recursive: true });
    const row = {
      event_id: '0192f5e4-8a1b-7c3d-9e4f-a1b2c3d4e5f7',
      type: 'click',
      event_time: '2026-11-22T10:00:00.000Z',
      received_at: '2026-11-22T10:00:01.000Z',
      is_bot: false,
      anonymous_id: 'a',
      session_id: 's',
    };
    writeFileSync(join(good, 'clickstream-dev-events-1-2026-11-22-10-00-30-x.gz'), gzipSync(`${JSON.stringify(row)}\n`));
    expect(hasObject(join(dir, 'events'), '.gz')).toBe(true);
    // A corrupt object on another day: opening and a query of the good day never touch it.
    const other = join(dir, 'events/dt=2026-11-25/hour=00');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'clickstream-dev-events-1-2026-11-25-00-00-00-y.gz'), 'not gzip');
    const db = await openLocalAthena(dir);
    try {
      expect(
        (await db.runInRange!("SELECT count(*) FROM events_dedup WHERE event_id LIKE '%e5f7'", [], '2026-11-21', '2026-11-23')).rows,
      ).toEqual([[1]]);
      await expect(db.run('SELECT count(*) FROM events')).rejects.toThrow(/gzip|GZIP/);
    } finally {
      db.close();
      rmSync(join(dir, 'events/dt=2026-11-25'), { recursive: true, force: true });
      rmSync(good, { recursive: true, force: true });
    }
  });
});

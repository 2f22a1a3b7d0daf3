/**
 * Trino typing traps: the saved SQL must give the same numbers on Athena (Trino) as on the local
 * DuckDB, where the two engines type the same expression differently without an error.
 */
import { readFileSync } from 'node:fs';
import { openEngine, viewFiles, type LocalAthena } from '../../local/athena-local/duckdb';
import { loadQuery, queryNames } from '../../local/athena-local/queries';
import { trinoTypeTraps } from '../../local/athena-local/trino-types';

const rules = (sql: string) => trinoTypeTraps(sql).map((t) => t.rule);

describe('saved SQL has no Trino typing trap', () => {
  it.each(queryNames())('%s', (name) => {
    expect(trinoTypeTraps(loadQuery(name).sql)).toEqual([]);
  });

  it.each(viewFiles())('view %s', (file) => {
    const sql = readFileSync(file, 'utf8').replace(/^CREATE OR REPLACE VIEW \w+ AS/m, '');
    expect(trinoTypeTraps(sql)).toEqual([]);
  });
});

describe('the typing check', () => {
  it.each([
    // data_quality before the fix: bigint / DECIMAL(5,1) keeps one decimal place on Trino.
    [
      "SELECT approx_percentile(date_diff('millisecond', a, b) / 1000.0, 0.5) AS p FROM t",
      ['decimal-literal-arithmetic', 'division-not-double'],
    ],
    // A bounce rate as count / count is 0 on Trino (integer division), 0.25 on DuckDB by default.
    ['SELECT count_if(bounced) / count(*) AS r FROM t', ['division-not-double']],
    ['SELECT sum(duration_ms) / count(*) AS r FROM events', ['division-not-double']],
    ['SELECT x.copies / 2 AS r FROM (SELECT count(*) AS copies FROM events) x', ['division-not-double']],
    // Not provably double: a column the check cannot type.
    ['SELECT mystery / 2 AS r FROM t', ['division-not-double']],
    ['SELECT duration_ms * 1.5 AS r FROM events', ['decimal-literal-arithmetic']],
    // The VARCHAR partition key compared with a DATE: an error on Trino, a silent cast on DuckDB.
    ['SELECT 1 AS x FROM events e WHERE e.dt BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)', ['dt-not-varchar', 'dt-not-varchar']],
    ["SELECT 1 AS x FROM events e WHERE e.dt = DATE '2026-11-01'", ['dt-not-varchar']],
  ])('flags %s', (sql, want) => {
    expect(rules(sql)).toEqual(want);
  });

  it.each([
    "SELECT approx_percentile(CAST(date_diff('millisecond', a, b) AS DOUBLE) / 1000, 0.5) AS p FROM t",
    'SELECT round(CAST(sum(bounced) AS DOUBLE) / count(*), 4) AS r FROM t',
    'SELECT round(avg(duration_ms) / 1000, 2) AS s FROM events',
    'SELECT sum(duration_ms) / 1e3 AS s FROM events',
    'SELECT approx_percentile(x, 0.95) AS p FROM t WHERE y > 0.5',
    "SELECT 1 AS x FROM events e WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR) AND '2026-11-30'",
  ])('accepts %s', (sql) => {
    expect(trinoTypeTraps(sql)).toEqual([]);
  });
});

describe('the local engine divides integers as Trino does', () => {
  let db: LocalAthena;
  beforeAll(async () => {
    db = await openEngine();
  });
  afterAll(() => db.close());

  it('truncates integer / integer (toward zero) and keeps DOUBLE division for a DOUBLE operand', async () => {
    const r = await db.run(
      'SELECT 7 / 2, -7 / 2, CAST(count(*) AS BIGINT) / 4, CAST(7 AS DOUBLE) / 2, avg(x) / 2 FROM (VALUES (1), (2)) t(x)',
    );
    expect(r.rows).toEqual([[3, -3, 0, 3.5, 0.75]]);
  });
});

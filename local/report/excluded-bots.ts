/**
 * "Bots excluded: N events": the number a business query's answer leaves out, said next to the
 * answer. Someone testing with headless Chromium or curl is a bot to the collector; without this
 * line every query answers `(0 rows)` and nothing says why.
 *
 * The count is one companion query over the same rows the business queries read (events_dedup,
 * the same partition range, the same event-date range), keeping only what they drop (is_bot).
 * It runs wherever the answer came from (DuckDB or Athena), so the two always agree.
 */
import { parseQuery, type SavedQuery } from '../athena-local/queries';
import type { ResultSet } from '../athena-local/duckdb';

/**
 * Kept in the shape of the saved queries (calendar, static dt range, one row per event_id) so the
 * same parameters, pruning and engines apply. Not a saved query of its own: in the Athena console
 * data_quality's `bots` column gives the same count per day (athena-queries/README.md).
 */
export const EXCLUDED_BOTS_SQL = `-- Bot events the business queries left out, by event type.
--
-- Parameters, in order: from, to, from, to (as every business query: calendar, then partitions).
WITH range_days AS (
  SELECT cal_day
  FROM UNNEST(sequence(DATE '2020-01-01', DATE '2047-05-18')) AS cal(cal_day)
  WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
),
params AS (
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to FROM range_days
),
ev AS (
  SELECT e.event_id, e.type, CAST(from_iso8601_timestamp(e.event_time) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  CROSS JOIN params p
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND e.is_bot
)
SELECT type, count(DISTINCT event_id) AS events
FROM ev
WHERE event_date BETWEEN date_from AND date_to
GROUP BY type
ORDER BY type
`;

export const excludedBotsQuery = (): SavedQuery => parseQuery('excluded_bots', EXCLUDED_BOTS_SQL);

/**
 * Saved queries that are not business queries: they count bots (docs/design: "Bots are excluded
 * from business queries and counted in data_quality"). A `NOT is_bot` inside one (data_quality
 * drops bots from a sub-count) does not make its answer bot-free.
 */
export const COUNTS_BOTS: ReadonlySet<string> = new Set(['data_quality']);

/** Whether a saved query's answer leaves bots out: a business query whose SQL filters `NOT is_bot`. */
export function excludesBots(q: SavedQuery): boolean {
  return !COUNTS_BOTS.has(q.name) && /\bNOT\s+(?:\w+\.)?is_bot\b/i.test(q.sql.replace(/--[^\n]*/g, ''));
}

export interface ExcludedBots {
  total: number;
  byType: [string, number][];
}

export function excludedFrom(rs: ResultSet): ExcludedBots {
  const byType = rs.rows.map((r) => [String(r[0]), Number(r[1])] as [string, number]);
  return { total: byType.reduce((a, [, n]) => a + n, 0), byType };
}

/** One line, the same in the CLI and the report. */
export function excludedLine(x: ExcludedBots): string {
  if (x.total === 0) return 'bots excluded: none in this range';
  const parts = x.byType.map(([t, n]) => `${n.toLocaleString('en-US')} ${t}`).join(', ');
  return `bots excluded: ${x.total.toLocaleString('en-US')} event${x.total === 1 ? '' : 's'} (${parts}) from crawlers, headless browsers and automation; data_quality counts them per day`;
}

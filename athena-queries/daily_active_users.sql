-- Daily visitors, sessions and page views (Google Analytics "Users" / AWS Clickstream "Active users").
--
-- Parameters, in order: from, to, from, to (YYYY-MM-DD, inclusive; event dates in UTC). Athena
-- binds each placeholder to one value by position, so the dates go in twice: for the calendar,
-- then for the partition filter (npm run query repeats them; the Athena console asks for all four).
-- Definitions:
--   dt          event date: skew-corrected event_time, UTC (not the arrival partition)
--   visitors    count(DISTINCT anonymous_id) of non-bot events that day (the SDK's browser id)
--   sessions    count(DISTINCT session_id) (the SDK's session id) with any event that day
--   page_views  count(DISTINCT event_id) of page_view events that day
-- Reads events_dedup (one row per event_id) and drops is_bot rows.
-- Partitions: arrival dates (dt) from the day before `from` (an event may be stamped up to 5
-- minutes ahead of the server clock) to 3 days after `to` (SDK queues sent late); events that
-- arrive more than 3 days late are not counted. That range is a filter on e.dt computed from the
-- parameters alone, so Athena prunes the S3 prefixes while planning (partition projection on
-- dt) rather than relying on dynamic filtering; it passes the view's window since dt is the
-- window's partition key.
-- Athena takes placeholders in WHERE clauses only, never in a SELECT list: the calendar
-- (range_days) turns the dates into the columns date_from and date_to. Dates must lie in that
-- calendar, 2020-01-01 to 2047-05-18 (sequence() stops at 10,000 entries).
WITH range_days AS (
  SELECT cal_day
  FROM UNNEST(sequence(DATE '2020-01-01', DATE '2047-05-18')) AS cal(cal_day)
  WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
),
params AS (
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to FROM range_days
),
ev AS (
  SELECT e.event_id, e.type, e.session_id, e.anonymous_id,
         -- The UTC date of the fixed-width ISO-8601 event_time: its first 10 characters (what a cast of
         -- the timestamp gives, at a third of its cost per row on DuckDB, docs/queries.md).
         CAST(substr(e.event_time, 1, 10) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  CROSS JOIN params p
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT e.is_bot
)
SELECT CAST(event_date AS VARCHAR) AS dt,
       count(DISTINCT anonymous_id) AS visitors,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT CASE WHEN type = 'page_view' THEN event_id END) AS page_views
FROM ev
WHERE event_date BETWEEN date_from AND date_to
GROUP BY event_date
ORDER BY event_date

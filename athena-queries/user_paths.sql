-- Page-to-page transitions within sessions (AWS Clickstream "Path explorer", GA path exploration).
--
-- Parameters, in order: from, to, from, to (YYYY-MM-DD, inclusive; event dates in UTC). Athena
-- binds each placeholder to one value by position, so the dates go in twice: for the calendar,
-- then for the partition filter (npm run query repeats them; the Athena console asks for all four).
-- Definitions:
--   from_path, to_path  consecutive page views of one session (SDK session id), ordered by event
--                       time then event_id; the next page view may fall after the range
--   transitions         count of such pairs whose first page view is dated in the range
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
  SELECT e.*, from_iso8601_timestamp(e.event_time) AS event_at,
         -- The UTC date of the fixed-width ISO-8601 event_time: its first 10 characters (what a cast of
         -- the timestamp gives, at a third of its cost per row on DuckDB, docs/queries.md).
         CAST(substr(e.event_time, 1, 10) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  CROSS JOIN params p
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT e.is_bot
),
pv AS (
  SELECT session_id, event_id, arbitrary(path) AS path, min(event_at) AS event_at, min(event_date) AS event_date
  FROM ev
  WHERE type = 'page_view'
  GROUP BY session_id, event_id
),
steps AS (
  SELECT path AS from_path, event_date,
         lead(path) OVER (PARTITION BY session_id ORDER BY event_at, event_id) AS to_path
  FROM pv
)
SELECT s.from_path, s.to_path, count(*) AS transitions
FROM steps s CROSS JOIN params p
WHERE s.to_path IS NOT NULL AND s.event_date BETWEEN p.date_from AND p.date_to
GROUP BY s.from_path, s.to_path
ORDER BY transitions DESC, s.from_path, s.to_path

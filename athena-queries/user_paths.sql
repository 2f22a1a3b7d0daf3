-- Page-to-page transitions within sessions (AWS Clickstream "Path explorer", GA path exploration).
--
-- Parameters, in order: from, to (YYYY-MM-DD, inclusive), event dates in UTC.
-- Definitions:
--   from_path, to_path  consecutive page views of one session (SDK session id), ordered by event
--                       time then event_id; the next page view may fall after the range
--   transitions         count of such pairs whose first page view is dated in the range
-- Reads events_dedup (one row per event_id) and drops is_bot rows.
-- Partitions: arrival dates (dt) from the day before `from` (an event may be stamped up to 5
-- minutes ahead of the server clock) to 3 days after `to` (SDK queues sent late); events that
-- arrive more than 3 days late are not counted. They are an equi-join on dt, the view's window
-- partition key, so Athena's dynamic partition pruning reads only those prefixes.
-- The parameters sit in range_days' WHERE clause only: Athena accepts them nowhere
-- else. Dates must lie in its calendar, 2020-01-01 to 2047-05-18 (sequence() stops at 10,000).
WITH range_days AS (
  SELECT cal_day
  FROM UNNEST(sequence(DATE '2020-01-01', DATE '2047-05-18')) AS cal(cal_day)
  WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
),
params AS (
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to FROM range_days
),
partitions AS (
  SELECT DISTINCT CAST(CAST(r.cal_day + k * INTERVAL '1' DAY AS DATE) AS VARCHAR) AS dt
  FROM range_days r CROSS JOIN UNNEST(ARRAY[-1, 0, 1, 2, 3]) AS slack(k)
),
ev AS (
  SELECT e.*, from_iso8601_timestamp(e.event_time) AS event_at,
         CAST(from_iso8601_timestamp(e.event_time) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  JOIN partitions pt ON pt.dt = e.dt
  CROSS JOIN params p
  WHERE NOT e.is_bot
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

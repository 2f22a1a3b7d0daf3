-- Page views and visitors by hour of day, UTC (when to staff the kitchen, when to post).
--
-- Parameters, in order: from, to (YYYY-MM-DD, inclusive), event dates in UTC.
-- Definitions:
--   hour        0..23, hour of the skew-corrected event time in UTC, over all days of the range;
--               hours without page views are absent
--   page_views  count(DISTINCT event_id) of page_view events
--   visitors    count(DISTINCT anonymous_id) with a page view in that hour (on any day)
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
)
SELECT hour(event_at) AS hour,
       count(DISTINCT event_id) AS page_views,
       count(DISTINCT anonymous_id) AS visitors
FROM ev
WHERE type = 'page_view' AND event_date BETWEEN date_from AND date_to
GROUP BY hour(event_at)
ORDER BY hour(event_at)

-- Daily visitors, sessions and page views (Google Analytics "Users" / AWS Clickstream "Active users").
--
-- Parameters, in order: from, to (YYYY-MM-DD, inclusive), event dates in UTC.
-- Definitions:
--   dt          event date: skew-corrected event_time, UTC (not the arrival partition)
--   visitors    count(DISTINCT anonymous_id) of non-bot events that day (the SDK's browser id)
--   sessions    count(DISTINCT session_id) (the SDK's session id) with any event that day
--   page_views  count(DISTINCT event_id) of page_view events that day
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
  SELECT e.event_id, e.type, e.session_id, e.anonymous_id,
         CAST(from_iso8601_timestamp(e.event_time) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  JOIN partitions pt ON pt.dt = e.dt
  CROSS JOIN params p
  WHERE NOT e.is_bot
)
SELECT CAST(event_date AS VARCHAR) AS dt,
       count(DISTINCT anonymous_id) AS visitors,
       count(DISTINCT session_id) AS sessions,
       count(DISTINCT CASE WHEN type = 'page_view' THEN event_id END) AS page_views
FROM ev
WHERE event_date BETWEEN date_from AND date_to
GROUP BY event_date
ORDER BY event_date

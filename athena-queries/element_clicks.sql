-- Which elements (menu items, buttons, links) are clicked, and after how long on the page.
--
-- Parameters, in order: from, to (YYYY-MM-DD, inclusive), event dates in UTC.
-- Definitions:
--   element                 click target as the SDK named it: data-cs-name, else id, else text;
--                           '(unnamed)' when empty
--   clicks                  count(DISTINCT event_id) of click events dated in the range
--   visitors                count(DISTINCT anonymous_id) who clicked it
--   avg_time_spent_seconds  mean duration_ms / 1000 of those clicks: the visible time spent on
--                           the page before the click, seconds, 2 places
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
clicks AS (
  SELECT event_id, arbitrary(element) AS element, arbitrary(anonymous_id) AS anonymous_id, arbitrary(duration_ms) AS duration_ms
  FROM ev
  WHERE type = 'click' AND event_date BETWEEN date_from AND date_to
  GROUP BY event_id
)
SELECT coalesce(nullif(element, ''), '(unnamed)') AS element,
       count(*) AS clicks,
       count(DISTINCT anonymous_id) AS visitors,
       round(avg(duration_ms) / 1000, 2) AS avg_time_spent_seconds
FROM clicks
GROUP BY coalesce(nullif(element, ''), '(unnamed)')
ORDER BY clicks DESC, element

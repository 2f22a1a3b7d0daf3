-- Sessions per day with bounce rate, length and depth (GA "Engagement overview").
--
-- Parameters, in order: from, to, from, to (YYYY-MM-DD, inclusive; event dates in UTC). Athena
-- binds each placeholder to one value by position, so the dates go in twice: for the calendar,
-- then for the partition filter (npm run query repeats them; the Athena console asks for all four).
-- Definitions:
--   session     the SDK session id; a session belongs to the date (UTC) of its first event and
--               keeps its events after midnight; sessions without a page view are left out
--   bounce      a session with one page view and no engagement event. An engagement event is a
--               click, a custom event, or an `engagement` event reporting >= 10 s of engaged time
--               (the SDK sends an `engagement` event on every page hide, so "any engagement
--               event" would make every session engaged; 10 s is Google Analytics 4's
--               engaged-session threshold)
--   dt                   the session's date
--   sessions             count(DISTINCT session_id)
--   bounce_rate          bounced sessions / sessions, 0..1, rounded to 4 places
--   avg_session_seconds  mean of (last event - first event) per session, seconds, 1 place
--   pages_per_session    mean count(DISTINCT page_view event_id) per session, 2 places
-- Reads the `sessions` view (athena-queries/views/sessions.sql: one row per session and arrival
-- day, from the compacted sessions table or summarised live from events_dedup) and drops bot
-- sessions; a session's rows are combined here by the rules that view's header gives.
-- Partitions: arrival dates (dt) from the day before `from` (an event may be stamped up to 5
-- minutes ahead of the server clock) to 3 days after `to` (SDK queues sent late); events that
-- arrive more than 3 days late are not counted. That range is a filter on s.dt computed from the
-- parameters alone, so Athena prunes while planning (partition projection on the raw table,
-- Iceberg partitions on the compacted ones) rather than relying on dynamic filtering; it passes
-- the views' aggregation and window since dt is a grouping and partition key in both.
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
parts AS (
  SELECT s.*
  FROM sessions s
  WHERE s.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT s.is_bot
),
-- One row per session from its rows of the range (a page view that arrived twice, on two days,
-- counts once: only a session with rows on several days merges its lists, views/sessions.sql).
combined AS (
  SELECT session_id,
         from_iso8601_timestamp(min(started_time)) AS started,
         from_iso8601_timestamp(max(ended_time)) AS ended,
         CASE WHEN count(*) = 1 THEN sum(page_views)
              ELSE cardinality(array_distinct(flatten(array_agg(page_view_ids)))) END AS page_views,
         coalesce(bool_or(engaged), false) AS engaged,
         min_by(landing_path, landing_key) AS landing_path,
         max_by(exit_path, exit_key) AS exit_path
  FROM parts
  GROUP BY session_id
),
in_range AS (
  SELECT c.*, CAST(c.started AS DATE) AS session_date,
         CASE WHEN c.page_views = 1 AND NOT c.engaged THEN 1 ELSE 0 END AS bounced
  FROM combined c CROSS JOIN params p
  WHERE c.page_views > 0 AND CAST(c.started AS DATE) BETWEEN p.date_from AND p.date_to
)
SELECT CAST(session_date AS VARCHAR) AS dt,
       count(DISTINCT session_id) AS sessions,
       round(CAST(sum(bounced) AS DOUBLE) / count(*), 4) AS bounce_rate,
       round(avg(date_diff('millisecond', started, ended)) / 1000, 1) AS avg_session_seconds,
       round(avg(page_views), 2) AS pages_per_session
FROM in_range
GROUP BY session_date
ORDER BY session_date

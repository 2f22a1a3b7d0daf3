-- Ordered funnel of up to 4 steps within a session (AWS Clickstream "Funnel analysis").
--
-- Parameters, in order: from, to, from, to, step1, step2, step3, step4 (dates YYYY-MM-DD,
-- inclusive, twice: for the calendar, then for the partition filter, since Athena binds each
-- placeholder to one value by position; npm run query repeats them). A step is a page path
-- (matches page_view events on that path) or an event name (matches other events with that
-- name, e.g. custom add_to_cart or click menu_item). Pass '' for unused trailing steps.
-- Definitions:
--   step       1..4
--   step_name  the step as given; NULL when no event in the range matches it (a typo, or an
--              unused slot: the runner drops those rows and fills the names in)
--   sessions   count(DISTINCT session_id) that reached the step after every earlier step, in
--              order: a step's first match strictly after the time the previous step was
--              reached; only events dated in the range count
-- Reads events_dedup (one row per event_id) and drops is_bot rows.
-- Partitions: arrival dates (dt) from the day before `from` (an event may be stamped up to 5
-- minutes ahead of the server clock) to 3 days after `to` (SDK queues sent late); events that
-- arrive more than 3 days late are not counted. That range is a filter on e.dt computed from the
-- parameters alone, so Athena prunes the S3 prefixes while planning (partition projection on
-- dt) rather than relying on dynamic filtering; it passes the view's window since dt is the
-- window's partition key.
-- Athena takes placeholders in WHERE clauses only (range_days, ev, wanted), never in a SELECT
-- list: the calendar turns the dates into columns, and each step is looked up among the range's
-- events so the query can name it. Dates must lie in the calendar, 2020-01-01 to 2047-05-18
-- (sequence() stops at 10,000 entries).
WITH range_days AS (
  SELECT cal_day
  FROM UNNEST(sequence(DATE '2020-01-01', DATE '2047-05-18')) AS cal(cal_day)
  WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
),
params AS (
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to FROM range_days
),
ev AS (
  SELECT e.session_id, from_iso8601_timestamp(e.event_time) AS event_at,
         CASE WHEN e.type = 'page_view' THEN e.path ELSE e.name END AS step_key
  FROM events_dedup e
  CROSS JOIN params p
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT e.is_bot
    -- The UTC date of the fixed-width ISO-8601 event_time: its first 10 characters (what a cast of
    -- the timestamp gives, at a third of its cost per row on DuckDB, docs/queries.md).
    AND CAST(substr(e.event_time, 1, 10) AS DATE) BETWEEN p.date_from AND p.date_to
),
wanted AS (
  SELECT 1 AS step, step_key FROM ev WHERE step_key = ? GROUP BY step_key
  UNION ALL
  SELECT 2, step_key FROM ev WHERE step_key = ? GROUP BY step_key
  UNION ALL
  SELECT 3, step_key FROM ev WHERE step_key = ? GROUP BY step_key
  UNION ALL
  SELECT 4, step_key FROM ev WHERE step_key = ? GROUP BY step_key
),
-- The events that are one of the steps, with the step's number (one row per step an event
-- matches: a page can be steps 1 and 3). The steps below read these rows only: joining every
-- event of the range with `wanted` once per step was most of this query's time (EXPLAIN ANALYZE
-- on DuckDB, docs/queries.md).
matched AS (
  SELECT w.step, e.session_id, e.event_at
  FROM ev e JOIN wanted w ON w.step_key = e.step_key
),
s1 AS (
  SELECT m.session_id, min(m.event_at) AS t
  FROM matched m
  WHERE m.step = 1
  GROUP BY m.session_id
),
s2 AS (
  SELECT m.session_id, min(m.event_at) AS t
  FROM matched m JOIN s1 ON s1.session_id = m.session_id AND m.event_at > s1.t
  WHERE m.step = 2
  GROUP BY m.session_id
),
s3 AS (
  SELECT m.session_id, min(m.event_at) AS t
  FROM matched m JOIN s2 ON s2.session_id = m.session_id AND m.event_at > s2.t
  WHERE m.step = 3
  GROUP BY m.session_id
),
s4 AS (
  SELECT m.session_id, min(m.event_at) AS t
  FROM matched m JOIN s3 ON s3.session_id = m.session_id AND m.event_at > s3.t
  WHERE m.step = 4
  GROUP BY m.session_id
),
reached AS (
  SELECT 1 AS step, count(*) AS sessions FROM s1
  UNION ALL SELECT 2, count(*) FROM s2
  UNION ALL SELECT 3, count(*) FROM s3
  UNION ALL SELECT 4, count(*) FROM s4
)
SELECT r.step, w.step_key AS step_name, r.sessions
FROM reached r LEFT JOIN wanted w ON w.step = r.step
ORDER BY r.step

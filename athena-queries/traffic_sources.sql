-- Sessions by traffic source / medium / campaign (GA "Traffic acquisition").
--
-- Parameters, in order: from, to, from, to (YYYY-MM-DD, inclusive; event dates in UTC). Athena
-- binds each placeholder to one value by position, so the dates go in twice: for the calendar,
-- then for the partition filter (npm run query repeats them; the Athena console asks for all four).
-- Definitions:
--   source, medium, campaign  of the session's first page view (the landing), as the server
--               classified it: utm_*, else ad click id, else referrer kind, else (direct)/(none);
--               a missing campaign is '(not set)'
--   sessions    count(DISTINCT session_id) whose landing page view is dated in the range
--   visitors    count(DISTINCT anonymous_id) of those sessions, one id per session: the smallest
--               anonymous_id among the session's events of its landing day (the SDK keeps one id
--               per session; a client that changes it mid-session is counted by that one)
-- Reads the `sessions` view (athena-queries/views/sessions.sql: one row per session and arrival
-- day, from the compacted sessions table or summarised live from events_dedup; its landing_*
-- columns are the attribution of that row's first page view) and drops bot sessions, whose rows
-- hold only bot events. A session's rows are combined by the rules that view's header gives: its
-- landing is the row with the smallest landing_key (event_time || event_id of the first page view,
-- fixed-width ISO-8601 text, so text order is time order, ties broken by event_id as before).
-- Reading sessions rather than ranking every page view: the compacted side stores one row per
-- session, so this query no longer reads each event's id from Parquet (bytes scanned, docs/queries.md).
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
  SELECT s.session_id, s.anonymous_id, s.landing_key, s.landing_source, s.landing_medium, s.landing_campaign
  FROM sessions s
  WHERE s.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT s.is_bot
    AND s.landing_key IS NOT NULL
),
-- One row per session with a page view: the attribution of its earliest landing over its rows.
landings AS (
  SELECT session_id,
         min_by(anonymous_id, landing_key) AS anonymous_id,
         min_by(landing_source, landing_key) AS source,
         min_by(landing_medium, landing_key) AS medium,
         min_by(landing_campaign, landing_key) AS campaign,
         CAST(substr(min(landing_key), 1, 10) AS DATE) AS landing_date
  FROM parts
  GROUP BY session_id
)
SELECT l.source,
       l.medium,
       coalesce(l.campaign, '(not set)') AS campaign,
       count(DISTINCT l.session_id) AS sessions,
       count(DISTINCT l.anonymous_id) AS visitors
FROM landings l CROSS JOIN params p
WHERE l.landing_date BETWEEN p.date_from AND p.date_to
GROUP BY l.source, l.medium, coalesce(l.campaign, '(not set)')
ORDER BY sessions DESC, l.source, l.medium, campaign

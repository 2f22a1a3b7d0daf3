-- Exit pages: the last page a session viewed.
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
--   path   path of the session's last page view (ordered by event time, then event_id)
--   exits  sessions whose last page view was on the path
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
         CAST(from_iso8601_timestamp(e.event_time) AS DATE) AS event_date, p.date_from, p.date_to
  FROM events_dedup e
  CROSS JOIN params p
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT e.is_bot
),
sessions AS (
  SELECT session_id,
         min(event_at) AS started,
         max(event_at) AS ended,
         count(DISTINCT CASE WHEN type = 'page_view' THEN event_id END) AS page_views,
         count(DISTINCT CASE WHEN type IN ('click', 'custom') OR (type = 'engagement' AND duration_ms >= 10000)
                             THEN event_id END) AS engaged_events
  FROM ev
  GROUP BY session_id
),
in_range AS (
  SELECT s.*, CAST(s.started AS DATE) AS session_date,
         CASE WHEN s.page_views = 1 AND s.engaged_events = 0 THEN 1 ELSE 0 END AS bounced
  FROM sessions s CROSS JOIN params p
  WHERE s.page_views > 0 AND CAST(s.started AS DATE) BETWEEN p.date_from AND p.date_to
),
-- One row per page view even when a copy arrived on another day (see events_dedup).
pv AS (
  SELECT session_id, event_id, arbitrary(path) AS path, min(event_at) AS event_at
  FROM ev
  WHERE type = 'page_view'
  GROUP BY session_id, event_id
),
lasts AS (
  SELECT session_id, path, row_number() OVER (PARTITION BY session_id ORDER BY event_at DESC, event_id DESC) AS nth FROM pv
)
SELECT l.path,
       count(DISTINCT s.session_id) AS exits
FROM in_range s JOIN lasts l ON l.session_id = s.session_id AND l.nth = 1
GROUP BY l.path
ORDER BY exits DESC, l.path

-- Pipeline health per day: accepted, rejected, duplicate and bot events, delivery latency.
--
-- Parameters, in order: from, to, from, to, from, to (YYYY-MM-DD, inclusive): for the calendar,
-- then for the partition filters of `events` and of `rejects` (Athena binds each placeholder to
-- one value by position; npm run query repeats the dates, the Athena console asks for all six).
-- Not a business query: it reads the raw `events` table (to see the copies the view removes)
-- and includes bots (to count them).
-- Definitions:
--   dt                   event date (skew-corrected event_time, UTC) for events; for rejects,
--                        the date the server received them (a rejected event has no trusted time)
--   accepted             count(DISTINCT event_id) stored, bots included
--   rejected             rows in `rejects` (one per rejected event, or per unreadable request)
--   duplicates           stored rows minus distinct event_ids: extra copies from Firehose or
--                        SDK retries, also those that arrived on another day
--   bots                 count(DISTINCT event_id) flagged is_bot (crawler User-Agent or webdriver)
--   p50/p95_latency_seconds  percentiles of received_at - event_time of each event's first copy:
--                        how late events reach the collector (offline queues, page-hide flushes).
--                        approx_percentile on Athena; exact (quantile_disc) on local DuckDB.
--                        Milliseconds are CAST to DOUBLE before dividing: Trino types a literal
--                        like 1000.0 as DECIMAL(5,1), and bigint / DECIMAL(5,1) keeps one
--                        decimal place, so latencies would come back rounded to 0.1 s
-- Partitions read: dt from the day before `from` to 3 days after `to`, a filter on each table's
-- dt computed from the parameters, so Athena prunes while planning (see daily_active_users).
WITH range_days AS (
  SELECT cal_day
  FROM UNNEST(sequence(DATE '2020-01-01', DATE '2047-05-18')) AS cal(cal_day)
  WHERE cal_day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
),
params AS (
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to FROM range_days
),
per_event AS (
  SELECT e.event_id,
         count(*) AS copies,
         bool_or(e.is_bot) AS is_bot,
         min(e.event_time) AS event_time,
         min(e.received_at) AS received_at
  FROM events e
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
  GROUP BY e.event_id
),
daily AS (
  SELECT CAST(CAST(from_iso8601_timestamp(x.event_time) AS DATE) AS VARCHAR) AS dt,
         count(*) AS accepted,
         sum(x.copies - 1) AS duplicates,
         count_if(x.is_bot) AS bots,
         round(approx_percentile(CAST(date_diff('millisecond', from_iso8601_timestamp(x.event_time), from_iso8601_timestamp(x.received_at)) AS DOUBLE) / 1000, 0.5), 3) AS p50_latency_seconds,
         round(approx_percentile(CAST(date_diff('millisecond', from_iso8601_timestamp(x.event_time), from_iso8601_timestamp(x.received_at)) AS DOUBLE) / 1000, 0.95), 3) AS p95_latency_seconds
  FROM per_event x CROSS JOIN params p
  WHERE CAST(from_iso8601_timestamp(x.event_time) AS DATE) BETWEEN p.date_from AND p.date_to
  GROUP BY CAST(CAST(from_iso8601_timestamp(x.event_time) AS DATE) AS VARCHAR)
),
rejected AS (
  SELECT CAST(CAST(from_iso8601_timestamp(r.received_at) AS DATE) AS VARCHAR) AS dt, count(*) AS rejected
  FROM rejects r
  CROSS JOIN params p
  WHERE r.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND CAST(from_iso8601_timestamp(r.received_at) AS DATE) BETWEEN p.date_from AND p.date_to
  GROUP BY CAST(CAST(from_iso8601_timestamp(r.received_at) AS DATE) AS VARCHAR)
)
SELECT coalesce(d.dt, r.dt) AS dt,
       coalesce(d.accepted, 0) AS accepted,
       coalesce(r.rejected, 0) AS rejected,
       coalesce(d.duplicates, 0) AS duplicates,
       coalesce(d.bots, 0) AS bots,
       d.p50_latency_seconds,
       d.p95_latency_seconds
FROM daily d FULL OUTER JOIN rejected r ON r.dt = d.dt
ORDER BY coalesce(d.dt, r.dt)

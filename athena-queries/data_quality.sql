-- Pipeline health per day: accepted, rejected, duplicate and bot events (by reason), delivery latency.
--
-- Parameters, in order: from, to, from, to, from, to (YYYY-MM-DD, inclusive): for the calendar,
-- then for the partition filters of `events_copies` and of `rejects` (Athena binds each
-- placeholder to one value by position; npm run query repeats the dates, the Athena console asks
-- for all six).
-- Not a business query: it reads every copy of each event (the events_copies view: the raw rows,
-- or for compacted days the copy counts the compaction kept, athena-queries/views/events_copies.sql)
-- and includes bots (to count them).
-- Definitions:
--   dt                   event date (skew-corrected event_time, UTC) for events; for rejects,
--                        the date the server received them (a rejected event has no trusted time)
--   accepted             count(DISTINCT event_id) stored, bots included
--   rejected             rows in `rejects` (one per rejected event, or per unreadable request)
--   duplicates           stored rows minus distinct event_ids: extra copies from Firehose or
--                        SDK retries, also those that arrived on another day
--   bots                 count(DISTINCT event_id) flagged is_bot (is_bot = bot_reason is not null)
--   bot_share            bots / accepted, DOUBLE, 4 decimals (null on a day with no events)
--   bots_headless .. bots_behaviour  bots by bot_reason, the first layer that matched
--                        (handlers/lib/bots.ts): headless browser, crawler list (isbot),
--                        SDK webdriver flag, cloud/hosting network, referrer-spam list, an
--                        impossible rate inside one request; bots_no_reason counts rows stored
--                        before bot_reason existed (is_bot true, bot_reason null)
--   fast_visitors        visitor_hashes not flagged as bots with more than 120 page views in one
--                        UTC hour of event time: the cross-request rate layer, which only a query
--                        can see (each Lambda copy sees its own requests). Counted, not excluded:
--                        business queries drop is_bot rows only (docs/security.md, "Bots")
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
  SELECT min(cal_day) AS date_from, max(cal_day) AS date_to,
         CAST(min(cal_day) AS VARCHAR) AS day_from, CAST(max(cal_day) AS VARCHAR) AS day_to
  FROM range_days
),
-- One row per event over its copies. event_time is ISO-8601 UTC text of fixed width, so its first
-- 10 characters are the event's date and min over them is the date of the first copy. The times
-- are aggregated as timestamps and the visitor hash only for page views (its one use; min(type) =
-- 'page_view', the largest type, only when every copy is one): the same values as min over the
-- long strings, which was most of this query's time on DuckDB, as was turning a timestamp with time
-- zone into a date for every event (EXPLAIN ANALYZE, docs/queries.md).
-- One aggregation over events_copies, read once: Trino (Athena) does not keep a WITH query's
-- result but runs it again where it is named (trinodb/trino issue 10, "Named queries (WITH) should be
-- evaluated only once"; the Trino SELECT docs warn of it), so a split into the events with one row
-- and those with several, which DuckDB computed once and was a fifth faster here, made Athena scan
-- the partitions three times per use (review, 2026-12-03). per_event itself is named twice (daily,
-- visitor_hours), as it was before.
per_event AS (
  SELECT e.event_id,
         CAST(sum(e.copies) AS BIGINT) AS copies,
         bool_or(e.is_bot) AS is_bot,
         max(e.bot_reason) AS bot_reason,
         min(e.type) AS type,
         min(CASE WHEN e.type = 'page_view' THEN e.visitor_hash END) AS visitor_hash,
         min(substr(e.event_time, 1, 10)) AS event_day,
         min(substr(e.event_time, 1, 13)) AS event_hour,
         min(from_iso8601_timestamp(e.event_time)) AS event_at,
         min(from_iso8601_timestamp(e.received_at)) AS received_at
  FROM events_copies e
  WHERE e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
  GROUP BY e.event_id
),
daily AS (
  SELECT x.event_day AS dt,
         count(*) AS accepted,
         sum(x.copies - 1) AS duplicates,
         count_if(x.is_bot) AS bots,
         round(CAST(count_if(x.is_bot) AS DOUBLE) / count(*), 4) AS bot_share,
         count_if(x.bot_reason = 'headless') AS bots_headless,
         count_if(x.bot_reason = 'ua_list') AS bots_ua_list,
         count_if(x.bot_reason = 'webdriver') AS bots_webdriver,
         count_if(x.bot_reason = 'datacenter_ip') AS bots_datacenter_ip,
         count_if(x.bot_reason = 'referrer_spam') AS bots_referrer_spam,
         count_if(x.bot_reason = 'behaviour') AS bots_behaviour,
         count_if(x.is_bot AND x.bot_reason IS NULL) AS bots_no_reason,
         round(approx_percentile(CAST(date_diff('millisecond', x.event_at, x.received_at) AS DOUBLE) / 1000, 0.5), 3) AS p50_latency_seconds,
         round(approx_percentile(CAST(date_diff('millisecond', x.event_at, x.received_at) AS DOUBLE) / 1000, 0.95), 3) AS p95_latency_seconds
  FROM per_event x CROSS JOIN params p
  WHERE x.event_day BETWEEN p.day_from AND p.day_to
  GROUP BY x.event_day
),
-- The UTC hour as text (YYYY-MM-DDTHH, the prefix of the fixed-width event_time), not
-- date_trunc('hour', ...) of a timestamp with time zone: the same hours at a tenth of the cost per
-- row on DuckDB (EXPLAIN ANALYZE, docs/queries.md).
visitor_hours AS (
  SELECT x.visitor_hash, x.event_hour, count(*) AS page_views
  FROM per_event x
  WHERE x.type = 'page_view' AND NOT x.is_bot
  GROUP BY x.visitor_hash, x.event_hour
),
fast AS (
  SELECT substr(v.event_hour, 1, 10) AS event_day, count(DISTINCT v.visitor_hash) AS fast_visitors
  FROM visitor_hours v
  WHERE v.page_views > 120
  GROUP BY substr(v.event_hour, 1, 10)
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
       d.bot_share,
       coalesce(d.bots_headless, 0) AS bots_headless,
       coalesce(d.bots_ua_list, 0) AS bots_ua_list,
       coalesce(d.bots_webdriver, 0) AS bots_webdriver,
       coalesce(d.bots_datacenter_ip, 0) AS bots_datacenter_ip,
       coalesce(d.bots_referrer_spam, 0) AS bots_referrer_spam,
       coalesce(d.bots_behaviour, 0) AS bots_behaviour,
       coalesce(d.bots_no_reason, 0) AS bots_no_reason,
       coalesce(f.fast_visitors, 0) AS fast_visitors,
       d.p50_latency_seconds,
       d.p95_latency_seconds
FROM daily d FULL OUTER JOIN rejected r ON r.dt = d.dt
LEFT JOIN fast f ON f.event_day = coalesce(d.dt, r.dt)
ORDER BY coalesce(d.dt, r.dt)

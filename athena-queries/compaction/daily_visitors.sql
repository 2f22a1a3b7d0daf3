-- Compaction source for one arrival day of daily_visitors: one row per visitor (anonymous_id),
-- event day (UTC, skew-corrected event_time) and bot flag, from the events that arrived that day.
-- A visitor's day may span two arrival days (events sent after midnight, offline queues): sum
-- nothing across rows, take count(DISTINCT anonymous_id) per event_date over the dt range.
--   sessions / page_views / events  distinct session_ids, page view event_ids and event_ids
--   first_time / last_time          first and last event_time of the visitor that day
-- Token {{dt}}: YYYY-MM-DD. Athena: MERGE INTO daily_visitors on (dt, event_date, anonymous_id,
-- is_bot), updating a matched row. DuckDB: COPY to the day's object.
SELECT e.dt,
       substr(e.event_time, 1, 10) AS event_date,
       e.anonymous_id,
       e.is_bot,
       count(DISTINCT e.session_id) AS sessions,
       count(DISTINCT CASE WHEN e.type = 'page_view' THEN e.event_id END) AS page_views,
       count(DISTINCT e.event_id) AS events,
       min(e.event_time) AS first_time,
       max(e.event_time) AS last_time
FROM events_dedup e
WHERE e.dt = '{{dt}}'
GROUP BY e.dt, substr(e.event_time, 1, 10), e.anonymous_id, e.is_bot

-- session_days: one row per session, arrival day (dt) and bot flag, summarised from events_dedup.
--
-- Why per arrival day: a saved query reads the days of its range plus slack (docs/queries.md
-- "Partition slack"), so it must be able to pick a session's events by dt; grouping by dt keeps the
-- dt filter pushed down to the partitions (Trino and DuckDB push a filter on a GROUP BY key below
-- the aggregation). Nearly every session arrives on one day; one that crosses midnight, or whose
-- events come from an offline queue, has one row per day, and the queries combine those rows per
-- session_id (see athena-queries/views/sessions.sql for the combination rules).
--
-- Every column combines across rows and across copies of an event without double counting: min,
-- max, bool_or, and the page views as a list of event_ids (a copy that arrived on another day
-- appears in two rows' lists; array_distinct counts it once). event_time is ISO-8601 UTC with
-- milliseconds, always 24 characters (handlers/lib/enrich.ts isoTime), so comparing it as text
-- orders by time, and event_time || event_id orders by (time, event_id), the order the saved
-- queries use for a session's first and last page.
--
-- The compaction stores this view's rows for compacted days in `sessions_compacted`
-- (athena-queries/compaction/, the same view, so the two cannot differ); `sessions` reads them.
--   started_time / ended_time  first and last event_time (any event type)
--   page_view_ids              event_ids of the page views (empty when none; no FILTER clause,
--                              which the offline Trino syntax check cannot parse: '' is never
--                              an event_id, the wire contract's is a UUID)
--   page_views                 how many distinct ones (an open day's row holds a copy received
--                              before the cutoff, from Parquet, and one after it, raw, when both
--                              exist: events_dedup keeps both). The queries add these up for
--                              a session with one row, and merge the lists only for a session with
--                              rows on several days (merging every session's lists was most of
--                              the session queries' time: EXPLAIN ANALYZE, docs/queries.md)
--   engaged                    a click, a custom event, or an engagement event of >= 10 s
--                              (false or NULL when none of these)
--   landing_key / exit_key     event_time || event_id of the first / last page view (min_by and
--                              max_by skip the rows whose key is NULL: the other event types)
--   landing_* / exit_path      that page view's path, and the landing one's attribution
CREATE OR REPLACE VIEW session_days AS
SELECT e.dt,
       e.session_id,
       e.is_bot,
       min(e.anonymous_id) AS anonymous_id,
       min(e.event_time) AS started_time,
       max(e.event_time) AS ended_time,
       array_remove(array_agg(CASE WHEN e.type = 'page_view' THEN e.event_id ELSE '' END), '') AS page_view_ids,
       bool_or(e.type IN ('click', 'custom') OR (e.type = 'engagement' AND e.duration_ms >= 10000)) AS engaged,
       min(CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS landing_key,
       min_by(e.path, CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS landing_path,
       min_by(e.source, CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS landing_source,
       min_by(e.medium, CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS landing_medium,
       min_by(e.campaign, CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS landing_campaign,
       max(CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS exit_key,
       max_by(e.path, CASE WHEN e.type = 'page_view' THEN e.event_time || e.event_id END) AS exit_path,
       min_by(e.device_type, e.event_time || e.event_id) AS device_type,
       min_by(e.browser, e.event_time || e.event_id) AS browser,
       min_by(e.os, e.event_time || e.event_id) AS os,
       count(DISTINCT CASE WHEN e.type = 'page_view' THEN e.event_id END) AS page_views
FROM events_dedup e
GROUP BY e.dt, e.session_id, e.is_bot

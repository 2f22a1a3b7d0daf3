-- sessions: session_days for every day, from the compacted table where the compaction has written
-- it and from the live view elsewhere. The saved session queries read this view.
--
-- Seam: as in events_dedup (the same {{...}} tokens, substituted by the deploy and by the
-- compaction). Compacted days before raw_from are read from `sessions_compacted`; every other day
-- is summarised live from events_dedup (for compacted_to when it was compacted while open, that is
-- its Parquet rows plus the raw rows received after the cutoff). A session's rows of different
-- days may come from different sides: every column of session_days combines by min, max, bool_or
-- or a distinct list, so the combination does not depend on where a row came from.
--
-- Combining a session's rows (what sessions_summary, landing_pages and exit_pages do, per
-- session_id over the dt range of the query):
--   started / ended   min(started_time) / max(ended_time), as timestamps
--   page_views        sum(page_views) for a session with one row; with rows on several days,
--                     cardinality(array_distinct(flatten(array_agg(page_view_ids)))), as a page
--                     view that arrived on two days is in both rows (CASE on count(*): both
--                     engines evaluate the merge only for those sessions, one scan either way)
--   bounced           page_views = 1 and no row engaged
--   landing / exit    min_by(landing_path, landing_key) / max_by(exit_path, exit_key)
-- page_views of rows compacted before sessions_compacted had that column is counted from their
-- lists (distinct: a day compacted while open can hold a copy from each side of its cutoff), so those days need no re-processing: ALTER TABLE ... ADD COLUMNS changes Iceberg metadata
-- only and older rows read NULL (Athena user guide, "Evolve Iceberg table schema";
-- docs/operations.md "Schema changes").
-- Partition pruning: both sides filter dt with constants only, and session_days groups by dt.
CREATE OR REPLACE VIEW sessions AS
SELECT s.dt, s.session_id, s.is_bot, s.anonymous_id, s.started_time, s.ended_time, s.page_view_ids, s.engaged,
       s.landing_key, s.landing_path, s.landing_source, s.landing_medium, s.landing_campaign, s.exit_key, s.exit_path,
       s.device_type, s.browser, s.os, coalesce(s.page_views, cardinality(array_distinct(s.page_view_ids))) AS page_views
FROM sessions_compacted s
WHERE s.dt >= '{{compacted_from}}' AND s.dt < '{{raw_from}}'
UNION ALL
SELECT d.dt, d.session_id, d.is_bot, d.anonymous_id, d.started_time, d.ended_time, d.page_view_ids, d.engaged,
       d.landing_key, d.landing_path, d.landing_source, d.landing_medium, d.landing_campaign, d.exit_key, d.exit_path,
       d.device_type, d.browser, d.os, d.page_views
FROM session_days d
WHERE d.dt < '{{compacted_from}}' OR d.dt >= '{{raw_from}}'

-- events_dedup: one row per event_id and arrival day (dt), the only way business queries read events.
--
-- Why: Firehose delivers at least once and the SDK re-sends a batch whose answer it never saw,
-- so `events` holds copies. The copy kept is the first to arrive (received_at, then the object).
--
-- Two sources, one answer. The compaction (athena-queries/compaction/, docs/operations.md
-- "Compaction") rewrites closed days of `events` into `events_compacted` (Parquet, the same
-- de-duplication, one partition per dt); this view reads compacted days from there and every other
-- day from the raw objects. The seam is the marker the compaction writes (compaction_state, read by
-- athena-queries/compaction/seam.sql) and the deploy and the compaction substitute for the
-- {{...}} tokens below: days compacted_from..compacted_to come from `events_compacted`; raw rows of
-- those days are skipped, except rows of compacted_to received at or after `cutoff` when that day
-- was compacted while still open (`npm run compact -- --through <today>`; raw_from is then
-- compacted_to, else the day after it, and the raw objects of a complete day are not opened). A row
-- is therefore read from exactly one side, and a row sent after its day was compacted still counts.
-- Unsubstituted (the file as it is, the first deploy) the tokens sort after every date: nothing is
-- compacted and the view reads the raw objects only, which is also correct.
--
-- Partition pruning: both sides filter dt with constants only, so a query's static dt range prunes
-- both (partition projection on `events`, Iceberg partition pruning on `events_compacted`; locally
-- hive partitions on both). Trino pushes a filter on `dt` through the window because dt is a
-- PARTITION BY key, so the window is partitioned by (dt, event_id). The price: two copies that
-- arrive on different days (an SDK retry after midnight), or one on each side of the cutoff, both
-- survive. The saved queries therefore count DISTINCT event_id and group by event_id before any sum
-- or ordering, so such a pair still counts once.
--
-- copy_no is always 1 here; it stays in the column list because Trino has no SELECT * EXCEPT.
-- Both sides name their columns: UNION ALL matches by position, and a column added later is
-- appended to the Iceberg table (ALTER TABLE ... ADD COLUMNS) but lands before dt and hour in the
-- Glue table. test/integration/query-compaction-tables.test.ts checks both lists against schema/columns.ts.
-- Deploy: the stack runs this statement itself (Custom::AthenaViews, docs/operations.md), on the
-- first deploy and whenever this file or a Glue table changes; the compaction re-runs it with its
-- marker after every run. Keep it one CREATE OR REPLACE VIEW.
CREATE OR REPLACE VIEW events_dedup AS
SELECT c.event_id, c.type, c.name, c.site_id, c.event_time, c.ts, c.sent_at, c.received_at,
       c.anonymous_id, c.session_id, c.user_id, c.url, c.host, c.path, c.referrer, c.referrer_host,
       c.title, c.element, c.duration_ms, c.scroll_depth, c.properties, c.screen, c.viewport,
       c.language, c.timezone, c.sdk, c.browser, c.browser_version, c.os, c.os_version,
       c.device_type, c.is_bot, c.bot_reason, c.source, c.medium, c.campaign, c.utm_source,
       c.utm_medium, c.utm_campaign, c.utm_term, c.utm_content, c.click_id_type, c.referrer_type,
       c.country, c.region, c.visitor_hash, c.schema_version, c.dt, c.hour,
       CAST(1 AS BIGINT) AS copy_no
FROM events_compacted c
WHERE c.dt BETWEEN '{{compacted_from}}' AND '{{compacted_to}}'
UNION ALL
SELECT *
FROM (
  SELECT e.event_id, e.type, e.name, e.site_id, e.event_time, e.ts, e.sent_at, e.received_at,
         e.anonymous_id, e.session_id, e.user_id, e.url, e.host, e.path, e.referrer,
         e.referrer_host, e.title, e.element, e.duration_ms, e.scroll_depth, e.properties,
         e.screen, e.viewport, e.language, e.timezone, e.sdk, e.browser, e.browser_version, e.os,
         e.os_version, e.device_type, e.is_bot, e.bot_reason, e.source, e.medium, e.campaign,
         e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.click_id_type,
         e.referrer_type, e.country, e.region, e.visitor_hash, e.schema_version, e.dt, e.hour,
         row_number() OVER (PARTITION BY e.dt, e.event_id ORDER BY e.received_at, e.hour) AS copy_no
  FROM events e
  -- The first condition names dt alone, so engines prune the compacted days' raw objects with it.
  WHERE (e.dt < '{{compacted_from}}' OR e.dt >= '{{raw_from}}')
    AND (e.dt <> '{{compacted_to}}' OR e.received_at >= '{{cutoff}}')
) copies
WHERE copy_no = 1

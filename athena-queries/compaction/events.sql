-- Compaction source for one arrival day: its raw rows received before the cutoff, one per event_id.
--
-- The same rule as events_dedup (the first copy to arrive: received_at, then the object's hour),
-- within the day. Rows received at or after the cutoff stay raw-only: events_dedup reads them from
-- the raw objects until a later compaction of the day (local/athena-local/compaction.ts).
-- Tokens, substituted by local/athena-local/compaction.ts (checked formats, never free text):
--   {{dt}}      the arrival day, YYYY-MM-DD
--   {{cutoff}}  ISO-8601 UTC, e.g. 2026-11-05T01:15:00.000Z
-- Athena: the body of a MERGE INTO events_compacted (insert when not matched on dt, event_id), so a
-- re-run inserts only rows it has not seen. DuckDB: COPY ... TO the day's Parquet object.
-- The copy columns (copies, copies_*) summarise every raw copy of the event that day before the
-- cutoff, for data_quality (athena-queries/views/events_copies.sql; local/athena-local/compaction.ts
-- COPY_COLUMNS): how many there were, and the aggregates data_quality takes over copies. A re-run
-- with a later cutoff recounts them (Athena: the MERGE updates a row whose counts changed).
SELECT *
FROM (
  SELECT e.*,
         row_number() OVER (PARTITION BY e.event_id ORDER BY e.received_at, e.hour) AS copy_no,
         count(*) OVER (PARTITION BY e.event_id) AS copies,
         bool_or(e.is_bot) OVER (PARTITION BY e.event_id) AS copies_is_bot,
         max(e.bot_reason) OVER (PARTITION BY e.event_id) AS copies_bot_reason,
         min(e.type) OVER (PARTITION BY e.event_id) AS copies_type,
         min(e.visitor_hash) OVER (PARTITION BY e.event_id) AS copies_visitor_hash,
         min(e.event_time) OVER (PARTITION BY e.event_id) AS copies_event_time
  FROM events e
  WHERE e.dt = '{{dt}}' AND e.received_at < '{{cutoff}}'
) firsts
WHERE copy_no = 1

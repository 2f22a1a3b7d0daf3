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
SELECT *
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY e.event_id ORDER BY e.received_at, e.hour) AS copy_no
  FROM events e
  WHERE e.dt = '{{dt}}' AND e.received_at < '{{cutoff}}'
) copies
WHERE copy_no = 1

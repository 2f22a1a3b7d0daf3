-- events_dedup: one row per event_id, the only way business queries read events.
--
-- Why: Firehose delivers at least once and the SDK re-sends a batch whose answer it never saw,
-- so `events` holds copies. The copy kept is the first to arrive (received_at, then the object).
--
-- Partition pruning: Athena (Trino) pushes a filter on `dt` through a window function only when
-- dt is a PARTITION BY key, so the window is partitioned by (dt, event_id). A query's `dt`
-- filter then still prunes S3 prefixes (scanned bytes are the bill). The price: two copies that
-- arrive on different days (an SDK retry after midnight) both survive this view. The saved
-- queries therefore count DISTINCT event_id and group by event_id before any sum or ordering,
-- so such a pair still counts once.
--
-- copy_no is always 1 here; it stays in the column list because Trino has no SELECT * EXCEPT.
-- Deploy: the stack runs this statement itself (Custom::AthenaViews, docs/operations.md), on the
-- first deploy and whenever this file or a Glue table changes; keep it one CREATE OR REPLACE VIEW.
CREATE OR REPLACE VIEW events_dedup AS
SELECT *
FROM (
  SELECT e.*, row_number() OVER (PARTITION BY e.dt, e.event_id ORDER BY e.received_at, e.hour) AS copy_no
  FROM events e
) copies
WHERE copy_no = 1

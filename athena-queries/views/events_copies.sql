-- events_copies: the copies of each event, read where events_dedup reads its rows, for data_quality
-- (which counts the copies the de-duplication removes, and includes bots).
--
-- One row per raw copy on the raw side (copies = 1, the copy's own values); one row per event_id and
-- compacted arrival day on the compacted side, carrying what the compaction kept of that day's
-- copies (athena-queries/compaction/events.sql: their number, bool_or(is_bot), max(bot_reason),
-- min(type), min(visitor_hash), min(event_time); received_at is the first copy's, the minimum).
-- Summing copies and taking bool_or / max / min per event_id over any mix of rows of both sides
-- therefore gives exactly what the raw objects alone give, also when copies of one event arrived
-- on different days, or on both sides of an open day's cutoff.
--
-- Seam: the same {{...}} tokens and the same conditions as events_dedup (see its header), so a raw
-- row is read from exactly one side. Partition pruning: both sides filter dt with constants only,
-- so a query's static dt range prunes both (and the raw objects of compacted days stay closed).
CREATE OR REPLACE VIEW events_copies AS
SELECT c.event_id, c.dt, c.copies, c.copies_is_bot AS is_bot, c.copies_bot_reason AS bot_reason,
       c.copies_type AS type, c.copies_visitor_hash AS visitor_hash, c.copies_event_time AS event_time,
       c.received_at
FROM events_compacted c
WHERE c.dt BETWEEN '{{compacted_from}}' AND '{{compacted_to}}'
UNION ALL
SELECT e.event_id, e.dt, CAST(1 AS BIGINT) AS copies, e.is_bot, e.bot_reason, e.type, e.visitor_hash,
       e.event_time, e.received_at
FROM events e
WHERE (e.dt < '{{compacted_from}}' OR e.dt >= '{{raw_from}}')
  AND (e.dt <> '{{compacted_to}}' OR e.received_at >= '{{cutoff}}')

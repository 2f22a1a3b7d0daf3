-- The seam the views read (tokens {{compacted_from}}, {{compacted_to}}, {{cutoff}}, {{raw_from}}), from
-- compaction_state: one row per compacted arrival day, written after that day's events, sessions
-- and daily_visitors (so a row there means all three are stored).
--
-- compacted_from  the first compacted day
-- compacted_to    the last day of the unbroken run of compacted days that starts there, or the
--                 first day of it that is not complete, whichever comes first. A day is complete
--                 when its cutoff is at least an hour after the day ended: every raw row of that
--                 dt was received before it (a row is received before Firehose files it under its
--                 arrival day; the hour is slack for the two clocks). Days before compacted_to are
--                 read only from the compacted tables; raw rows of compacted_to received at or after
--                 its cutoff are still read raw; days after it are read raw, as are days after a
--                 gap (a failed run, say) until the gap is compacted.
-- cutoff          compacted_to's cutoff
-- raw_from        the first day whose raw objects the views read: compacted_to while it is not
--                 complete (its rows from the cutoff on), else the day after it
-- With nothing compacted: '9999-12-31', '0000-00-00', '9999-12-31T00:00:00.000Z', '0000-00-00':
-- every day raw.
WITH st AS (
  SELECT s.dt, s.cutoff,
         s.cutoff >= CAST(CAST(CAST(s.dt AS DATE) + INTERVAL '1' DAY AS DATE) AS VARCHAR) || 'T01:00:00.000Z' AS complete
  FROM compaction_state s
),
ends AS (
  SELECT min(st.dt) AS compacted_to
  FROM st
  LEFT JOIN st nxt ON nxt.dt = CAST(CAST(CAST(st.dt AS DATE) + INTERVAL '1' DAY AS DATE) AS VARCHAR)
  WHERE nxt.dt IS NULL OR NOT st.complete
)
SELECT coalesce((SELECT min(dt) FROM st), '9999-12-31') AS compacted_from,
       coalesce((SELECT compacted_to FROM ends), '0000-00-00') AS compacted_to,
       coalesce((SELECT min(st.cutoff) FROM st JOIN ends ON st.dt = ends.compacted_to), '9999-12-31T00:00:00.000Z') AS cutoff,
       coalesce((SELECT CASE WHEN st.complete THEN CAST(CAST(CAST(st.dt AS DATE) + INTERVAL '1' DAY AS DATE) AS VARCHAR) ELSE st.dt END
                 FROM st JOIN ends ON st.dt = ends.compacted_to), '0000-00-00') AS raw_from

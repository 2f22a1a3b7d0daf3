-- Compaction source for one arrival day of sessions_compacted: the session_days view's rows of
-- that day (athena-queries/views/session_days.sql), so the stored rows are what the live view
-- gives. Token {{dt}}: YYYY-MM-DD. Athena: MERGE INTO sessions_compacted on (dt, session_id,
-- is_bot), updating a matched row (late events change it). DuckDB: COPY to the day's object.
SELECT d.*
FROM session_days d
WHERE d.dt = '{{dt}}'

-- Which elements (menu items, buttons, links) are clicked, where, and after how long on the page.
--
-- Parameters, in order: from, to, from, to (YYYY-MM-DD, inclusive; event dates in UTC). Athena
-- binds each placeholder to one value by position, so the dates go in twice: for the event-date
-- filter, then for the partition filter (npm run query repeats them; the Athena console asks for all four).
-- Definitions:
--   element                 click target as the SDK named it: data-cs-name, else id, else text;
--                           '(unnamed)' when empty
--   name                    what kind of click, as the SDK named it: the target's data-cs-event
--                           (the demo's menu_item card, order_click and add_button buttons), else
--                           link, outbound_link, button or element; '(unnamed)' when empty
--   path                    URL path of the page the click happened on
--   One row per (element, name, path): the same label clicked on a menu card, on its Order
--   button and on the order page's Add button are three rows, not one.
--   clicks                  count(DISTINCT event_id) of click events dated in the range
--   visitors                count(DISTINCT anonymous_id) who clicked it
--   avg_time_spent_seconds  mean duration_ms / 1000 of those clicks: the visible time spent on
--                           the page before the click, seconds, 2 places
-- Reads events_dedup (one row per event_id) and drops is_bot rows.
-- Partitions: arrival dates (dt) from the day before `from` (an event may be stamped up to 5
-- minutes ahead of the server clock) to 3 days after `to` (SDK queues sent late); events that
-- arrive more than 3 days late are not counted. That range is a filter on e.dt computed from the
-- parameters alone, so Athena prunes the S3 prefixes while planning (partition projection on
-- dt) rather than relying on dynamic filtering; it passes the view's window since dt is the
-- window's partition key.
-- Athena takes placeholders in WHERE clauses only, never in a SELECT list. This query needs the
-- dates only in WHERE, so it compares each event's date with them there instead of joining a
-- calendar (range_days, as the queries that output dates do): on DuckDB that join is a nested loop
-- over every row, a fifth of the CPU time of a query like this at 1 M events (docs/queries.md).
WITH ev AS (
  SELECT e.*, from_iso8601_timestamp(e.event_time) AS event_at,
         -- The UTC date of the fixed-width ISO-8601 event_time: its first 10 characters (what a cast of
         -- the timestamp gives, at a third of its cost per row on DuckDB, docs/queries.md).
         CAST(substr(e.event_time, 1, 10) AS DATE) AS event_date
  FROM events_dedup e
  WHERE CAST(substr(e.event_time, 1, 10) AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
    AND e.dt BETWEEN CAST(CAST(CAST(? AS DATE) - INTERVAL '1' DAY AS DATE) AS VARCHAR)
                 AND CAST(CAST(CAST(? AS DATE) + INTERVAL '3' DAY AS DATE) AS VARCHAR)
    AND NOT e.is_bot
),
clicks AS (
  SELECT event_id, arbitrary(element) AS element, arbitrary(name) AS name, arbitrary(path) AS path,
         arbitrary(anonymous_id) AS anonymous_id, arbitrary(duration_ms) AS duration_ms
  FROM ev
  WHERE type = 'click'
  GROUP BY event_id
)
SELECT coalesce(nullif(element, ''), '(unnamed)') AS element,
       coalesce(nullif(name, ''), '(unnamed)') AS name,
       path,
       count(*) AS clicks,
       count(DISTINCT anonymous_id) AS visitors,
       round(avg(duration_ms) / 1000, 2) AS avg_time_spent_seconds
FROM clicks
GROUP BY coalesce(nullif(element, ''), '(unnamed)'), coalesce(nullif(name, ''), '(unnamed)'), path
ORDER BY clicks DESC, element, name, path

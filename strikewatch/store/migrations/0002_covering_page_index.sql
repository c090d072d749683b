-- The read API's pages walk incidents newest first and test each row's filters until 50 match.
-- With the filter columns in the page index (INCLUDE), that walk is an index-only scan: ~60 index
-- tuples per 8 kB page instead of one heap page per row tested. Over 100k incidents
-- (bench/bench_api.py's shapes, backend CPU per page, custom plans): actor (3 % of rows)
-- 1.5 -> 0.5 ms, a 20x15 bbox 1.5 -> 0.4 ms, min_severity 0.6 -> 0.3 ms; all 12 shapes 0.75 -> 0.5 ms
-- (with random_page_cost 1.1, strikewatch/web/routes.py). 19 MB per 100k incidents instead of 5 MB.
-- It replaces incidents_page (same key): an unfiltered page reads it the same way.
DROP INDEX incidents_page;
CREATE INDEX incidents_page ON incidents (event_at DESC, id DESC)
    INCLUDE (event_type, countries, actors, severity, source_count, lon, lat);

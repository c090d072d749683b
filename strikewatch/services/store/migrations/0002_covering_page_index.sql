-- The read API's pages walk incidents newest first and test each row's filters until 50 match.
-- With the filter columns in the page index (INCLUDE), that walk is an index-only scan: ~60 index
-- tuples per 8 kB page instead of one heap page per row tested. Over 100k incidents
-- (bench/bench_api.py's shapes, backend CPU per page, custom plans): actor (3 % of rows)
-- 1.5 -> 0.5 ms, a 20x15 bbox 1.5 -> 0.4 ms, min_severity 0.6 -> 0.3 ms; all 12 shapes 0.75 -> 0.5 ms
-- (with random_page_cost 1.1, strikewatch/web/routes.py). The index is 19 MB per 100k incidents instead
-- of 5 MB; store ingest (bench/bench_store.py, two runs each, interleaved, load 1.5-3) 4,939 and 5,653
-- records/s with it, 5,547 and 5,113 without: no change beyond the noise; database 681-702 vs 672 MB.
-- It replaces incidents_page (same key): an unfiltered page reads it the same way.
DROP INDEX incidents_page;
CREATE INDEX incidents_page ON incidents (event_at DESC, id DESC)
    INCLUDE (event_type, countries, actors, severity, source_count, lon, lat);

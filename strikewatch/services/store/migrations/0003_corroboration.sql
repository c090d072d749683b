-- Issue 21: how corroborated an incident is, for the read API's filters min_independent_sources,
-- contested and grade. Rows stored before this migration read as one source, not contested,
-- no grade (the pipeline fills them on the incident's next revision).
ALTER TABLE incidents ADD COLUMN independent_sources integer NOT NULL DEFAULT 1;
ALTER TABLE incidents ADD COLUMN contested boolean NOT NULL DEFAULT false;
ALTER TABLE incidents ADD COLUMN grade text;
-- The page index covers every filter column (0002): these three join it.
DROP INDEX incidents_page;
CREATE INDEX incidents_page ON incidents (event_at DESC, id DESC)
    INCLUDE (event_type, countries, actors, severity, source_count, lon, lat, independent_sources, contested, grade);

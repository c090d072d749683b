-- Issue 19: the languages of an incident's reports (of an event's article), for the read API's
-- language filter. Rows stored before this migration have none (NULL): the filter skips them
-- until the pipeline writes their next revision.
ALTER TABLE incidents ADD COLUMN languages text[];
ALTER TABLE events ADD COLUMN languages text[];
-- The page indexes cover every filter column (0002, 0003): languages joins them. (Numbered 0005:
-- 0004 is the stream sequence, written beside it.)
DROP INDEX incidents_page;
CREATE INDEX incidents_page ON incidents (event_at DESC, id DESC)
    INCLUDE (event_type, countries, actors, severity, source_count, lon, lat, independent_sources, contested, grade, languages);

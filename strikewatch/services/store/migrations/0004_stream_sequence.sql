-- /v1/stream's event ids: every time an incident row moves (a new incident, a newer revision) it takes the
-- next number of one sequence, so a client that reconnects with Last-Event-ID N is sent exactly the rows
-- whose stream_seq > N (strikewatch/web/routes.py). Set by triggers, so the store's writes (db.py) are
-- unchanged; an ON CONFLICT that updates nothing leaves a gap, which costs nothing.
--
-- Numbers must be taken in commit order, or a client could resume past a row committed after it: with
-- two store processes, transaction A could take 10, B take 11 and commit first. So the statement that
-- writes incidents first takes a transaction-scoped advisory lock: writers of incidents commit one after
-- another (one store process, the usual deployment, never waits on it). Taken before any incidents row
-- is locked, so it cannot deadlock with them.

CREATE SEQUENCE incidents_stream_seq;
ALTER TABLE incidents ADD COLUMN stream_seq bigint;
UPDATE incidents SET stream_seq = nextval('incidents_stream_seq');
ALTER TABLE incidents ALTER COLUMN stream_seq SET NOT NULL;
CREATE UNIQUE INDEX incidents_stream ON incidents (stream_seq);

-- Arbitrary constant: the advisory lock that orders incident writers (db.MIGRATION_LOCK is another).
CREATE FUNCTION incidents_stream_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(4211012);
    RETURN NULL;
END $$;

CREATE FUNCTION incidents_stream_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.stream_seq := nextval('incidents_stream_seq');
    RETURN NEW;
END $$;

CREATE TRIGGER incidents_stream_order BEFORE INSERT OR UPDATE ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION incidents_stream_order();
CREATE TRIGGER incidents_stream_seq BEFORE INSERT OR UPDATE ON incidents
    FOR EACH ROW EXECUTE FUNCTION incidents_stream_seq();

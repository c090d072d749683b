-- The incident store: what the pipeline found, as it found it. Every table keeps the record
-- as the topic carried it (jsonb `record`) plus the columns the read API filters and sorts on.
-- Writes are upserts keyed by the record's own id (and revision), so a replay writes nothing twice.

CREATE TABLE incidents (
    id            text PRIMARY KEY,
    revision      integer NOT NULL,          -- the latest revision stored
    event_type    text NOT NULL,
    event_at      timestamptz NOT NULL,      -- sort key: time.start, else time.date 00:00 UTC, else first seen
    event_date    date,
    country       text,                      -- first place's country (ACLED spelling)
    country_code  text,                      -- its ISO 3166-1 alpha-2
    countries     text[] NOT NULL,           -- every place's country name and code, lower case
    lat           double precision,          -- first located place
    lon           double precision,
    geo_precision text,
    attacker      text,
    actors        text[] NOT NULL,           -- attacker and target names, lower case
    severity      real,
    source_count  integer NOT NULL,
    theatre       text,
    first_seen_at timestamptz,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    record        json NOT NULL
);
-- Keyset pagination, newest first: (event_at, id) < cursor ORDER BY event_at DESC, id DESC.
CREATE INDEX incidents_page ON incidents (event_at DESC, id DESC);
CREATE INDEX incidents_type_page ON incidents (event_type, event_at DESC, id DESC);
CREATE INDEX incidents_countries ON incidents USING gin (countries);
CREATE INDEX incidents_actors ON incidents USING gin (actors);
-- bbox (strikewatch/store/queries.py picks by the box's area): a small box asks point(lon, lat) <@ box,
-- answered by the GiST index (no PostGIS needed); a large one asks lon/lat BETWEEN, which the planner
-- estimates from column statistics and answers by walking incidents_page, or by the lat index.
CREATE INDEX incidents_geo ON incidents USING gist (point(lon, lat)) WHERE lat IS NOT NULL;
CREATE INDEX incidents_lat ON incidents (lat);

CREATE TABLE incident_revisions (
    incident_id text NOT NULL,
    revision    integer NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    record      json NOT NULL,
    PRIMARY KEY (incident_id, revision)
);

-- Which events (reports) an incident was made of, from every revision's sources.
CREATE TABLE incident_events (
    incident_id text NOT NULL,
    event_id    text NOT NULL,
    PRIMARY KEY (incident_id, event_id)
);
CREATE INDEX incident_events_event ON incident_events (event_id);

CREATE TABLE events (
    id            text PRIMARY KEY,
    article_id    text NOT NULL,
    event_type    text NOT NULL,
    modality      text NOT NULL,
    event_at      timestamptz NOT NULL,      -- as for incidents; else the article's publication
    event_date    date,
    country       text,
    country_code  text,
    countries     text[] NOT NULL,
    lat           double precision,
    lon           double precision,
    geo_precision text,
    attacker      text,
    actors        text[] NOT NULL,
    confidence    real,
    article_url   text,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    record        json NOT NULL
);
CREATE INDEX events_page ON events (event_at DESC, id DESC);
CREATE INDEX events_countries ON events USING gin (countries);
CREATE INDEX events_actors ON events USING gin (actors);
CREATE INDEX events_geo ON events USING gist (point(lon, lat)) WHERE lat IS NOT NULL;
CREATE INDEX events_lat ON events (lat);

CREATE TABLE escalation (
    scope     text NOT NULL,
    key       text NOT NULL,
    at        timestamptz NOT NULL,
    value     real NOT NULL,
    chain     text[] NOT NULL,               -- tit-for-tat chain (incident ids, in order)
    stored_at timestamptz NOT NULL DEFAULT now(),
    record    jsonb NOT NULL,
    PRIMARY KEY (scope, key, at)
);
CREATE INDEX escalation_chain ON escalation USING gin (chain);

CREATE TABLE alerts (
    id                text PRIMARY KEY,
    subscription_id   text NOT NULL,
    owner             text NOT NULL,
    incident_id       text NOT NULL,
    incident_revision integer NOT NULL,
    kind              text NOT NULL,
    created_at        timestamptz NOT NULL,
    stored_at         timestamptz NOT NULL DEFAULT now(),
    record            jsonb NOT NULL
);
CREATE INDEX alerts_owner ON alerts (owner, created_at DESC);
CREATE INDEX alerts_incident ON alerts (incident_id);

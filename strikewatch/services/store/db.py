"""The store's tables: migrations and idempotent writes.

``migrate(conn)`` applies ``migrations/NNNN_*.sql`` in order, once each, recording them in
``schema_migrations`` (under an advisory lock, so the store and the API may both call it on
start). ``Writer.write(records)`` upserts one batch of decoded records in one transaction:

* incidents: every revision into ``incident_revisions`` (key id + revision); the
  ``incidents`` row only moves forward (``WHERE incidents.revision < EXCLUDED.revision``),
  so a replay, or revisions arriving out of order, leave the newest;
* events, alerts: key id; escalation: key scope + key + at (the newest value wins).

A changed incident row sends ``NOTIFY strikewatch_incidents, 'id:revision'`` in the same
transaction, so ``/v1/stream`` hears of it only once it is committed and queryable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb  # noqa: F401  (re-exported for callers building rows)

from strikewatch.core.filters import Keys, event_keys, incident_keys
from strikewatch.core.models import Alert, EscalationScore, Event, Incident, Place

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
NOTIFY_CHANNEL = "strikewatch_incidents"
# Arbitrary constant: the advisory lock id that serialises migrations across processes.
MIGRATION_LOCK = 4_211_011


def migrations() -> list[tuple[str, str]]:
    """(version, sql) of every migration file, in order of its number."""
    files = sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations not yet applied; returns their versions."""
    applied_now = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        for version, sql in migrations():
            if version in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now


# --------------------------------------------------------------------------- columns


def _located(places: list[Place]) -> Place | None:
    return next((p for p in places if p.lat is not None and p.lon is not None), None)


def _points(k: Keys) -> dict:
    """The located places' columns: every point (lons, lats) and their bounding box (bounds)."""
    lons = [x for x, _ in k.points]
    lats = [y for _, y in k.points]
    bounds = f"(({max(lons)},{max(lats)}),({min(lons)},{min(lats)}))" if lons else None
    return dict(lons=lons, lats=lats, bounds=bounds)


def _json(record) -> str:
    return record.model_dump_json()


def _where_and_who(k, places, time, attacker) -> dict:
    """The columns an incident's and an event's rows share: when, where and who, as shown and as
    filtered (``k``: their ``filters`` keys)."""
    loc = _located(places)
    first = places[0] if places else None
    return dict(
        event_type=k.event_type,
        event_at=k.event_at,
        event_date=time.date,
        country=first.country if first else None,
        country_code=first.country_code if first else None,
        countries=list(k.countries),
        lat=loc.lat if loc else None,
        lon=loc.lon if loc else None,
        geo_precision=loc.precision if loc else None,
        attacker=attacker.name if attacker else None,
        actors=list(k.actors),
        languages=list(k.languages),
        **_points(k),
    )


def incident_row(inc: Incident) -> dict:
    """The incident's row: its filter columns are ``filters.incident_keys`` (what the read API's
    filters, the stream and subscriptions all read), the rest is for display and exports."""
    k = incident_keys(inc)
    return dict(
        id=inc.id,
        revision=inc.revision,
        **_where_and_who(k, inc.places, inc.time, inc.attacker),
        severity=k.severity,
        source_count=k.source_count,
        independent_sources=k.independent_sources,
        contested=k.contested,
        grade=k.grade,
        theatre=inc.theatre,
        first_seen_at=inc.first_seen_at,
        record=_json(inc),
    )


def event_row(ev: Event) -> dict:
    """The event's row: filter columns from ``filters.event_keys``, as ``incident_row``."""
    k = event_keys(ev)
    return dict(
        id=ev.id,
        article_id=ev.article_id,
        **_where_and_who(k, ev.places, ev.time, ev.attacker),
        modality=k.modality,
        confidence=ev.confidence,
        article_url=ev.article_url,
        record=_json(ev),
    )


def _insert(table: str, cols: list[str], conflict: str, update: str) -> str:
    casts = {"record": "::json", "bounds": "::box"}
    placeholders = ", ".join(f"%({c})s{casts.get(c, '')}" for c in cols)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders}) ON CONFLICT {conflict} {update}"


_INC_COLS = [
    "id",
    "revision",
    "event_type",
    "event_at",
    "event_date",
    "country",
    "country_code",
    "countries",
    "lat",
    "lon",
    "geo_precision",
    "attacker",
    "actors",
    "severity",
    "source_count",
    "independent_sources",
    "contested",
    "grade",
    "languages",
    "lons",
    "lats",
    "bounds",
    "theatre",
    "first_seen_at",
    "record",
]
_EV_COLS = [
    "id",
    "article_id",
    "event_type",
    "modality",
    "event_at",
    "event_date",
    "country",
    "country_code",
    "countries",
    "lat",
    "lon",
    "geo_precision",
    "attacker",
    "actors",
    "confidence",
    "article_url",
    "languages",
    "lons",
    "lats",
    "bounds",
    "record",
]


def _set_all(cols: list[str], skip: tuple[str, ...] = ("id",)) -> str:
    return ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in skip) + ", stored_at = now()"


UPSERT_INCIDENT = (
    _insert(
        "incidents",
        _INC_COLS,
        "(id)",
        f"DO UPDATE SET {_set_all(_INC_COLS)} WHERE incidents.revision < EXCLUDED.revision",
    )
    + " RETURNING (xmax = 0) AS inserted"
)
INSERT_REVISION = (
    "INSERT INTO incident_revisions (incident_id, revision, record) VALUES (%s, %s, %s::json) "
    "ON CONFLICT (incident_id, revision) DO NOTHING"
)
LINK_EVENT = "INSERT INTO incident_events (incident_id, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"
# An event re-extracted under the same id (same article, type and anchor) replaces the old one.
UPSERT_EVENT = _insert(
    "events",
    _EV_COLS,
    "(id)",
    f"DO UPDATE SET {_set_all(_EV_COLS)} WHERE events.record::text IS DISTINCT FROM EXCLUDED.record::text",
)
UPSERT_ESCALATION = (
    "INSERT INTO escalation (scope, key, at, value, chain, record) VALUES (%s, %s, %s, %s, %s, %s::jsonb) "
    "ON CONFLICT (scope, key, at) DO UPDATE SET value = EXCLUDED.value, chain = EXCLUDED.chain, "
    "record = EXCLUDED.record, "
    "stored_at = now() WHERE escalation.record IS DISTINCT FROM EXCLUDED.record"
)
INSERT_ALERT = (
    "INSERT INTO alerts (id, subscription_id, owner, incident_id, incident_revision, kind, created_at, record) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (id) DO NOTHING"
)


@dataclass
class WriteResult:
    written: dict[str, int] = field(default_factory=dict)  # kind -> records written (changed or not)
    new_incidents: list[Incident] = field(default_factory=list)  # first stored in this batch
    changed_incidents: list[str] = field(default_factory=list)  # "id:revision" of every incident row that moved


def write_batch(cur: psycopg.Cursor, recs: list, result: WriteResult) -> None:
    """Upsert records (inside the caller's transaction), one ``executemany`` per statement:
    psycopg pipelines those (bench/bench_store.py measures the ingest rate)."""
    incidents = [r for r in recs if isinstance(r, Incident)]
    events = [r for r in recs if isinstance(r, Event)]
    scores = [r for r in recs if isinstance(r, EscalationScore)]
    alerts = [r for r in recs if isinstance(r, Alert)]
    if len(incidents) + len(events) + len(scores) + len(alerts) != len(recs):
        raise TypeError(f"the store keeps no {sorted({type(r).__name__ for r in recs} - set(KINDS))}")
    if incidents:
        rows = [incident_row(i) for i in incidents]
        cur.executemany(INSERT_REVISION, [(r["id"], r["revision"], r["record"]) for r in rows])
        cur.executemany(LINK_EVENT, [(i.id, s.event_id) for i in incidents for s in i.sources])
        # One statement at a time, in order: two revisions of one incident in a batch both apply.
        cur.executemany(UPSERT_INCIDENT, rows, returning=True)
        moved = []
        for inc in incidents:
            row = cur.fetchone()
            if row is not None:
                if row[0]:
                    result.new_incidents.append(inc)
                moved.append(f"{inc.id}:{inc.revision}")
            cur.nextset()
        result.changed_incidents.extend(moved)
        if moved:
            cur.execute("SELECT pg_notify(%s, m) FROM unnest(%s::text[]) AS m", (NOTIFY_CHANNEL, moved))
    if events:
        cur.executemany(UPSERT_EVENT, [event_row(e) for e in events])
    if scores:
        cur.executemany(
            UPSERT_ESCALATION, [(r.scope, r.key, r.at, r.value, list(r.tit_for_tat_chain), _json(r)) for r in scores]
        )
    if alerts:
        cur.executemany(
            INSERT_ALERT,
            [
                (r.id, r.subscription_id, r.owner, r.incident_id, r.incident_revision, r.kind, r.created_at, _json(r))
                for r in alerts
            ],
        )
    for kind, group in (("Incident", incidents), ("Event", events), ("EscalationScore", scores), ("Alert", alerts)):
        if group:
            result.written[kind] = result.written.get(kind, 0) + len(group)


KINDS = ("Incident", "Event", "EscalationScore", "Alert")

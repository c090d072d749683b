"""The one filter (strikewatch/core/filters.py): its SQL on the real PostgreSQL and its Python agree
on random incidents, events and filters (hypothesis), and each field keeps its one meaning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from strikewatch.core.filters import UNDATED, IncidentFilter, event_keys, incident_keys
from strikewatch.core.models import Actor, Event, EventTime, EventType, Incident, IncidentSource, Modality, Place
from strikewatch.services.store import db

T0 = datetime(2024, 3, 1, tzinfo=UTC)
# Small pools, so that random filters often hit: places on a grid (a box edge can fall exactly on one),
# names in several cases, one place with no point (unresolved) and one known only to its country.
PLACES = [
    Place(name="Albu Kamal", country="Syria", country_code="SY", lat=34.45, lon=40.92, precision="city"),
    Place(name="Al Qaim", country="Iraq", country_code="IQ", lat=34.37, lon=41.09, precision="city"),
    Place(name="Kharkiv", country="Ukraine", country_code="UA", lat=50.0, lon=36.25, precision="city"),
    Place(name="Grid", country="Ukraine", country_code="UA", lat=48.0, lon=37.0, precision="point"),
    Place(name="Zholobok", country="Ukraine", country_code="UA", precision="unknown"),
    Place(name="Yemen", country="Yemen", country_code="YE", precision="country"),
]
NAMES = ["United States", "Houthis", "Russia", "Kataib Hezbollah", "Civilians"]
TYPES = [e.value for e in (EventType.AIR_STRIKE, EventType.DRONE_STRIKE, EventType.SHELLING, EventType.MISSILE_ATTACK)]
LANGS = ["en", "uk", "ar"]
GRADES = ["confirmed", "corroborated", "single_source", "contested"]

times = st.one_of(
    st.none(),
    st.integers(0, 20).map(lambda d: EventTime(start=T0 + timedelta(days=d), precision="hour")),
    st.integers(0, 20).map(lambda d: EventTime(date=(T0 + timedelta(days=d)).date(), precision="day")),
)
actors = st.builds(lambda n, up: Actor(name=n.upper() if up else n), st.sampled_from(NAMES), st.booleans())


@st.composite
def incidents(draw, i: int):
    t = draw(times)
    sources = [
        IncidentSource(
            event_id=f"e{i}_{k}",
            article_id=f"a{i}_{k}",
            source="s",
            language=draw(st.sampled_from(LANGS)),
            published_at=draw(st.none() | st.just(T0 + timedelta(days=k))),
        )
        for k in range(draw(st.integers(1, 3)))
    ]
    return Incident(
        id=f"i_{i:04d}",
        event_type=draw(st.sampled_from(TYPES)),
        attacker=draw(st.none() | actors),
        targets=draw(st.lists(actors, max_size=2)),
        places=draw(st.lists(st.sampled_from(PLACES), max_size=3)),
        time=t or EventTime(),
        sources=sources,
        source_count=len(sources),
        severity=draw(st.none() | st.floats(0, 1)),
        independent_sources=draw(st.integers(1, 4)),
        contested=draw(st.booleans()),
        grade=draw(st.none() | st.sampled_from(GRADES)),
    )


@st.composite
def events(draw, i: int):
    return Event(
        id=f"e_{i:04d}",
        article_id=f"a_{i:04d}",
        event_type=draw(st.sampled_from(TYPES)),
        modality=draw(st.sampled_from([Modality.ASSERTED, Modality.HISTORICAL, Modality.DENIED])),
        attacker=draw(st.none() | actors),
        targets=draw(st.lists(actors, max_size=2)),
        places=draw(st.lists(st.sampled_from(PLACES), max_size=3)),
        time=draw(times) or EventTime(),
        article_published_at=draw(st.none() | st.just(T0)),
        language=draw(st.none() | st.sampled_from(LANGS)),
    )


coords = st.sampled_from([30.0, 34.37, 34.45, 36.25, 37.0, 40.92, 41.09, 45.0, 48.0, 50.0, 52.0])


@st.composite
def filters(draw):
    """A filter on one to three fields (more would match nothing, and agree trivially)."""
    x = sorted(draw(st.lists(coords, min_size=2, max_size=2)))
    y = sorted(draw(st.lists(coords, min_size=2, max_size=2)))
    day = st.integers(-1, 22).map(lambda d: T0 + timedelta(days=d))
    fields = {
        "since": day,
        "until": day,
        "countries": st.lists(
            st.sampled_from(["syria", "SY", "Ukraine", "ua", "Yemen", "IQ", "France"]), min_size=1, max_size=2
        ),
        "actors": st.lists(st.sampled_from(NAMES + ["houthis", "kataib", "US"]), min_size=1, max_size=2),
        "bbox": st.just((x[0], y[0], x[1], y[1])),
        "event_types": st.lists(st.sampled_from(TYPES), min_size=1, max_size=2),
        "languages": st.lists(st.sampled_from(LANGS + ["RU"]), min_size=1, max_size=2),
        "min_severity": st.sampled_from([0.0, 0.3, 0.5, 1.0]),
        "min_sources": st.integers(1, 3),
        "min_independent_sources": st.integers(1, 4),
        "contested": st.booleans(),
        "grades": st.lists(st.sampled_from(GRADES), min_size=1, max_size=2),
        "modalities": st.lists(st.sampled_from(["asserted", "denied"]), min_size=1, max_size=1),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=3, unique=True))
    values = {k: draw(fields[k]) for k in chosen}
    return IncidentFilter(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _sql_ids(conn, table: str, f: IncidentFilter) -> set[str]:
    conds, params = f.to_sql(table)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL("")
    return {r[0] for r in conn.execute(sql.SQL("SELECT id FROM {t}").format(t=sql.Identifier(table)) + where, params)}


@pytest.fixture
def conn(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        db.migrate(c)
        yield c


@pytest.mark.integration
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_sql_and_python_agree_on_random_incidents_and_filters(conn, data):
    recs = [data.draw(incidents(i)) for i in range(data.draw(st.integers(1, 12)))]
    evs = [data.draw(events(i)) for i in range(data.draw(st.integers(1, 8)))]
    conn.execute("TRUNCATE incidents, incident_revisions, incident_events, events")
    with conn.transaction(), conn.cursor() as cur:
        db.write_batch(cur, recs + evs, db.WriteResult())
    for f in data.draw(st.lists(filters(), min_size=1, max_size=8)):
        assert _sql_ids(conn, "incidents", f) == {r.id for r in recs if f.matches(incident_keys(r))}, f
        assert _sql_ids(conn, "events", f) == {e.id for e in evs if f.matches(event_keys(e), "events")}, f


def test_each_field_keeps_its_one_meaning():
    """Pure logic: whole names, any place's box with its edges, no undated record in a time range."""
    two_places = incident_keys(
        Incident(
            id="i",
            event_type="air_strike",
            attacker=Actor(name="Kataib Hezbollah"),
            places=[PLACES[4], PLACES[0], PLACES[2]],
            time=EventTime(date=date(2024, 3, 2)),
        )
    )
    assert IncidentFilter(actors=("KATAIB HEZBOLLAH",)).matches(two_places)
    assert not IncidentFilter(actors=("kataib",)).matches(two_places)  # not a substring
    assert IncidentFilter(bbox=(36.0, 49.0, 37.0, 51.0)).matches(two_places)  # the third place, not the first
    assert IncidentFilter(bbox=(40.92, 34.45, 41.0, 35.0)).matches(two_places)  # a point on the edges is inside
    assert not IncidentFilter(bbox=(38.0, 47.0, 39.0, 48.0)).matches(two_places)  # the unresolved one has no point
    undated = incident_keys(Incident(id="u", event_type="shelling"))
    assert undated.event_at == UNDATED
    assert IncidentFilter().matches(undated)
    assert not IncidentFilter(until=T0).matches(undated) and not IncidentFilter(since=UNDATED).matches(undated)

"""The read API on the real PostgreSQL (and the real broker behind the subscription app):
auth and the OpenAPI key scheme, every filter against the same filter computed in Python,
keyset pagination, every format (STIX validated by the stix2 package), the incident page's
data, escalation series, and the live stream."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import psycopg
import pytest
import stix2
from fastapi.testclient import TestClient
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core.filters import IncidentFilter
from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import SubscriptionStore, create_app
from strikewatch.services.store import db, queries
from strikewatch.services.store import synthetic as R
from strikewatch.services.web.formats import ACLED_COLUMNS

pytestmark = pytest.mark.integration
N = 120
KEY = {"X-API-Key": "ka"}


def fill(dsn: str, n: int = N) -> list:
    incidents = [R.incident(i, r) for i in range(n) for r in range(i % 3 + 1)]
    events = [R.event(i, s) for i in range(n) for s in range(i % 3 + 1)]
    scores = [R.escalation(i) for i in range(min(n, 90))]  # 90: at (a day of the 90) and key stay unique
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, incidents + events + scores, db.WriteResult())
    return [R.incident(i, i % 3) for i in range(n)]  # the latest revision of each


@pytest.fixture
def settings(pg_dsn, kafka_bootstrap):
    return ApiSettings(
        api_keys="ka=alice,kb=bob", bootstrap_servers=kafka_bootstrap, postgres_db=conninfo_to_dict(pg_dsn)["dbname"]
    )


@pytest.fixture
def subs(kafka_bootstrap, new_topic):
    store = SubscriptionStore(kafka_bootstrap, new_topic("subs", compact=True))
    yield store
    store.close()


@pytest.fixture
def client(settings, subs, pg_dsn):
    latest = fill(pg_dsn)
    with TestClient(create_app(settings, subs)) as c:
        c.latest = latest
        yield c


def all_pages(c, path: str, **params) -> list[dict]:
    out, cursor, pages = [], None, 0
    while True:
        r = c.get(
            path,
            params={**params, **({"cursor": cursor} if cursor else {}), "limit": params.get("limit", 7)},
            headers=KEY,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        cursor = body["next_cursor"]
        pages += 1
        assert ("Link" in r.headers) == bool(cursor)
        if not cursor:
            return out
        assert pages < 100


def rows(latest) -> list[dict]:
    return [db.incident_row(i) for i in latest]


def expect(latest, pred) -> list[str]:
    """Ids matching pred, in the API's order (event time, then id, newest first)."""
    rs = sorted((r for r in rows(latest) if pred(r)), key=lambda r: (r["event_at"], r["id"]), reverse=True)
    return [r["id"] for r in rs]


def test_auth_and_openapi(client):
    assert client.get("/v1/incidents").status_code == 401
    assert client.get("/v1/incidents", headers={"X-API-Key": "nope"}).status_code == 401
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "Your API key (local default: dev-key)",
    }
    for path in ("/v1/incidents", "/v1/events", "/v1/escalation", "/v1/stream", "/subscriptions"):
        op = spec["paths"][path]["get"]
        assert op["security"] == [{"APIKeyHeader": []}], path
        assert op.get("description"), path
    params = {p["name"]: p for p in spec["paths"]["/v1/incidents"]["get"]["parameters"]}
    assert {
        "since",
        "until",
        "country",
        "bbox",
        "event_type",
        "actor",
        "min_severity",
        "min_sources",
        "cursor",
        "format",
        "limit",
    } <= set(params)
    assert params["bbox"]["description"] and params["country"]["schema"]["examples"] == ["Iraq,SY"]


def test_pagination_newest_first(client):
    got = all_pages(client, "/v1/incidents")
    assert [i["id"] for i in got] == expect(client.latest, lambda r: True)
    assert len({i["id"] for i in got}) == N
    assert all(i["revision"] == int(i["id"][2:]) % 3 for i in got)  # the latest revision of each
    r = client.get("/v1/incidents", params={"cursor": "not-a-cursor"}, headers=KEY)
    assert r.status_code == 400 and "cursor" in r.json()["detail"]


@pytest.mark.parametrize(
    "params, pred",
    [
        ({"since": "2024-02-01"}, lambda r: r["event_at"] >= datetime(2024, 2, 1, tzinfo=UTC)),
        ({"until": "2024-01-15T00:00:00Z"}, lambda r: r["event_at"] < datetime(2024, 1, 15, tzinfo=UTC)),
        (
            {"since": "2024-01-10", "until": "2024-01-20"},
            lambda r: datetime(2024, 1, 10, tzinfo=UTC) <= r["event_at"] < datetime(2024, 1, 20, tzinfo=UTC),
        ),
        ({"country": "Iraq"}, lambda r: "iraq" in r["countries"]),
        ({"country": "SS,ye"}, lambda r: {"ss", "yemen"} & set(r["countries"])),
        ({"bbox": "40,30,45,36"}, lambda r: 40 <= r["lon"] <= 45 and 30 <= r["lat"] <= 36),  # small: the GiST index
        ({"bbox": "25,0,60,40"}, lambda r: 25 <= r["lon"] <= 60 and 0 <= r["lat"] <= 40),  # large: column statistics
        ({"event_type": "drone_strike"}, lambda r: r["event_type"] == "drone_strike"),
        ({"actor": "kataib hezbollah"}, lambda r: "kataib hezbollah" in r["actors"]),
        ({"min_severity": 0.6}, lambda r: r["severity"] >= 0.6),
        ({"min_sources": 3}, lambda r: r["source_count"] >= 3),
        ({"min_independent_sources": 2}, lambda r: r["independent_sources"] >= 2),
        ({"contested": "true"}, lambda r: r["contested"]),
        (
            {"contested": "false", "grade": "single_source"},
            lambda r: not r["contested"] and r["grade"] == "single_source",
        ),
        ({"grade": "corroborated,contested".split(",")}, lambda r: r["grade"] in ("corroborated", "contested")),
        ({"language": "uk"}, lambda r: "uk" in r["languages"]),
        ({"language": "ar,RU"}, lambda r: {"ar", "ru"} & set(r["languages"])),
        (
            {"country": "Syria", "event_type": "air_strike", "min_sources": 2},
            lambda r: "syria" in r["countries"] and r["event_type"] == "air_strike" and r["source_count"] >= 2,
        ),
    ],
)
def test_every_filter(client, params, pred):
    want = expect(client.latest, pred)
    assert 0 < len(want) < N  # the filter selects something, and not everything
    assert [i["id"] for i in all_pages(client, "/v1/incidents", **params)] == want


async def _text_mode_page(conn, table: str, f, limit: int, cursor=None):
    """The page query as it was before binary results: text mode, the same SQL (the reference)."""
    from psycopg import sql

    where, params = queries._where(f, table, cursor)
    q = sql.SQL(
        "SELECT p.event_at, p.id, t.record::text"
        " FROM (SELECT event_at, id FROM {t}{w} ORDER BY event_at DESC, id DESC LIMIT %s) AS p "
        "JOIN {t} AS t ON t.id = p.id ORDER BY p.event_at DESC, p.id DESC"
    ).format(t=sql.Identifier(table), w=where)
    rows = await (await conn.execute(q, [*params, limit + 1], binary=False)).fetchall()
    nxt = queries.encode_cursor(rows[limit - 1][0], rows[limit - 1][1]) if len(rows) > limit else None
    return rows[:limit], nxt


PAGE_FILTERS = [
    IncidentFilter(),
    IncidentFilter(countries=("SS", "yemen")),
    IncidentFilter(actors=("Houthis",), since=datetime(2024, 1, 5, tzinfo=UTC)),
    IncidentFilter(bbox=(25.0, 0.0, 60.0, 40.0), event_types=("drone_strike", "shelling")),
    IncidentFilter(bbox=(40.0, 30.0, 45.0, 36.0), min_severity=0.3),
    IncidentFilter(min_sources=2, until=datetime(2024, 3, 1, tzinfo=UTC)),
    IncidentFilter(min_independent_sources=2, grades=("corroborated", "contested")),
    IncidentFilter(languages=("uk", "ar")),
]


@pytest.mark.parametrize("table", ["incidents", "events"])
def test_pages_are_those_of_the_text_mode_query(settings, subs, pg_dsn, table):
    """Binary results (0002) give the same rows, records and cursors as the text-mode query did, on
    the API's own pool (whose planner settings are checked too), page after page."""
    import asyncio

    from strikewatch.services.web.routes import PLAN_CACHE_MODE, RANDOM_PAGE_COST, Store

    fill(pg_dsn)

    async def run():
        store = Store(pg_dsn)
        await store.open()
        try:
            async with store.conn() as conn:
                got = [r[0] for r in await (await conn.execute("SHOW plan_cache_mode")).fetchall()]
                got += [r[0] for r in await (await conn.execute("SHOW random_page_cost")).fetchall()]
                assert got == [PLAN_CACHE_MODE, str(RANDOM_PAGE_COST)]
                pages = 0
                for f in PAGE_FILTERS:
                    cursor = None
                    while True:
                        page = await queries.page(conn, table, f, 7, cursor)
                        want_rows, want_next = await _text_mode_page(conn, table, f, 7, cursor)
                        assert page.rows == want_rows and page.next_cursor == want_next
                        assert all(isinstance(r[2], str) for r in page.rows)
                        pages += 1
                        cursor = page.next_cursor
                        if not cursor:
                            break
                assert pages > 2 * len(PAGE_FILTERS)
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.parametrize(
    "params",
    [
        {"bbox": "1,2,3"},
        {"bbox": "10,0,5,1"},
        {"since": "yesterday"},
        {"since": "2024-02-01", "until": "2024-01-01"},
        {"limit": 501},
        {"event_type": "picnic"},
        {"min_severity": 2},
        {"language": "ukrainian"},
    ],
)
def test_bad_parameters_are_422(client, params):
    r = client.get("/v1/incidents", params=params, headers=KEY)
    assert r.status_code == 422 and r.json()["detail"]


def test_events_list_and_filters(client):
    got = all_pages(client, "/v1/events", country="Yemen", limit=50)
    want = {f"e_{i:06d}_{s}" for i in range(N) for s in range(i % 3 + 1) if R.PLACES[i % 5].country == "Yemen"}
    assert {e["id"] for e in got} == want
    assert all(e["evidence"] and e["evidence"][0]["start"] == 0 for e in got)  # evidence quotes with offsets
    assert all_pages(client, "/v1/events", modality="negated") == []
    got = all_pages(client, "/v1/events", language="ar", limit=50)
    want = {
        f"e_{i:06d}_{s}" for i in range(N) for s in range(i % 3 + 1) if R.LANGUAGES[(i + s) % len(R.LANGUAGES)] == "ar"
    }
    assert want and {e["id"] for e in got} == want and {e["language"] for e in got} == {"ar"}


def test_geojson(client):
    r = client.get("/v1/incidents", params={"format": "geojson", "limit": 10, "country": "Iraq"}, headers=KEY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 10 and fc["next_cursor"]
    f = fc["features"][0]
    assert f["geometry"] == {"type": "Point", "coordinates": [41.09, 34.37]}
    assert f["properties"]["country"] == "Iraq" and f["properties"]["sources"][0]["url"].startswith(
        "https://news.example/"
    )
    ev = client.get("/v1/events", params={"format": "geojson", "limit": 3}, headers=KEY).json()
    assert len(ev["features"]) == 3 and ev["features"][0]["properties"]["kind"] == "event"


def test_csv_has_acled_columns(client):
    r = client.get("/v1/incidents", params={"format": "csv", "limit": 20, "country": "South Sudan"}, headers=KEY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(r.text))
    assert tuple(reader.fieldnames) == ACLED_COLUMNS
    assert ACLED_COLUMNS[:6] == ("event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type")
    got = list(reader)
    assert len(got) == 20 and "Link" in r.headers
    row = got[0]
    assert (
        row["country"] == "South Sudan"
        and row["iso"] == "728"
        and row["sub_event_type"] in ("Air/drone strike", "Shelling/artillery/missile attack")
    )
    assert (
        row["event_type"] == "Explosions/Remote violence"
        and float(row["latitude"]) == 4.85
        and row["source"] == "news.example"
    )
    assert (
        row["region"] == "Eastern Africa"
        and row["geo_precision"] == "1"
        and row["actor1"]
        and row["inter1"] in "12345678"
    )
    assert row["event_date"].startswith("2024-") and row["year"] == "2024" and row["time_precision"] == "1"
    ev = client.get("/v1/events", params={"format": "csv", "limit": 5}, headers=KEY)
    assert tuple(csv.DictReader(io.StringIO(ev.text)).fieldnames) == ACLED_COLUMNS


def test_stix_bundle_validates(client):
    r = client.get("/v1/incidents", params={"format": "stix", "limit": 6}, headers=KEY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/stix+json")
    bundle = stix2.parse(r.text, allow_custom=False, version="2.1")  # raises on any invalid object
    types = [o.type for o in bundle.objects]
    assert types.count("incident") == 6
    assert {"location", "identity", "sighting", "relationship"} <= set(types)
    inc = next(o for o in bundle.objects if o.type == "incident")
    sightings = [o for o in bundle.objects if o.type == "sighting" and o.sighting_of_ref == inc.id]
    assert sightings and all(any(ref.startswith("identity--") for ref in s.where_sighted_refs) for s in sightings)
    # Each report's link: sighting -> observed-data -> url (an external reference with a url needs the page's hash).
    by_id = {o.id: o for o in bundle.objects}
    links = [by_id[ref].value for s in sightings for od in s.observed_data_refs for ref in by_id[od].object_refs]
    assert links and all(u.startswith("https://news.example/") for u in links)
    ref = inc.external_references[0]
    assert ref.source_name == "strikewatch" and ref.external_id.startswith("i_")
    # Stable ids: the same page exports to the same STIX ids.
    again = json.loads(client.get("/v1/incidents", params={"format": "stix", "limit": 6}, headers=KEY).text)
    assert [o["id"] for o in again["objects"]] == [o.id for o in bundle.objects]
    ev = client.get("/v1/events", params={"format": "stix", "limit": 4}, headers=KEY)
    assert [o.type for o in stix2.parse(ev.text, allow_custom=False).objects].count("incident") == 4


def test_incident_page_data(client):
    r = client.get("/v1/incidents/i_000005", headers=KEY)
    assert r.status_code == 200
    body = r.json()
    assert body["incident"]["id"] == "i_000005" and body["incident"]["revision"] == 2
    assert [rv["revision"] for rv in body["revisions"]] == [0, 1, 2]
    assert {e["id"] for e in body["events"]} == {"e_000005_0", "e_000005_1", "e_000005_2"}
    ev = body["events"][0]
    assert ev["casualties"]["evidence"]["text"] == "no immediate reports of casualties"
    assert (
        ev["evidence"][0]["text"][ev["casualties"]["evidence"]["start"] : ev["casualties"]["evidence"]["end"]]
        == "no immediate reports of casualties"
    )
    assert [s["url"] for s in body["sources"]] == [f"https://news.example/5/{n}" for n in range(3)]
    chain = body["tit_for_tat"]["chain"]
    assert [c["id"] for c in chain] == ["i_000005", "i_000010"] and chain[0][
        "attacker"
    ] == "Kataib Hezbollah"  # the latest chain listing it
    assert client.get("/v1/incidents/i_nope", headers=KEY).status_code == 404


def test_escalation(client):
    r = client.get("/v1/escalation", params={"scope": "theatre", "key": "Iraq"}, headers=KEY)
    scores = r.json()["scores"]
    assert scores and all(s["key"] == "Iraq" for s in scores)
    assert [s["at"] for s in scores] == sorted(s["at"] for s in scores)
    latest = client.get("/v1/escalation", params={"scope": "theatre"}, headers=KEY).json()["scores"]
    assert sorted(s["key"] for s in latest) == sorted({p.country for p in R.PLACES})
    c = client.get("/v1/escalation", params={"scope": "theatre", "key": "Iraq", "format": "csv"}, headers=KEY)
    assert c.text.splitlines()[0] == "scope,key,at,value,chain" and len(c.text.splitlines()) == len(scores) + 1
    assert client.get("/v1/escalation", params={"scope": "galaxy"}, headers=KEY).status_code == 422


def test_stream_sends_new_and_revised_incidents(settings, subs, pg_dsn):
    import uvicorn

    from strikewatch.core.procs import free_port

    fill(pg_dsn, 3)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, subs), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    got: list[tuple[str, dict]] = []
    listening = threading.Event()

    def read():
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{port}/v1/stream",
            params={"country": "Iraq"},
            headers=KEY,
            timeout=30,
            trust_env=False,
        ) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            ev_id = None
            for line in r.iter_lines():
                if line == ": listening":
                    listening.set()
                elif line.startswith("id: "):
                    ev_id = line[4:]
                elif line.startswith("data: "):
                    got.append((ev_id, json.loads(line[6:])))
                    if len(got) == 2:
                        return

    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        assert listening.wait(20)
        with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.transaction(), conn.cursor() as cur:
            # i_000200 is in Iraq (200 % 5 == 0), i_000201 in Syria: the filter drops it.
            db.write_batch(cur, [R.incident(201), R.incident(200)], db.WriteResult())
        with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.transaction(), conn.cursor() as cur:
            db.write_batch(
                cur, [R.incident(200, 1), R.incident(200, 0)], db.WriteResult()
            )  # a revision, then an old one again
        reader.join(20)
        assert [(d["id"], d["revision"]) for _, d in got] == [("i_000200", 0), ("i_000200", 1)]
        ids = [int(i) for i, _ in got]  # the stream's positions (stream_seq), for Last-Event-ID
        assert ids == sorted(set(ids))
        assert got[1][1]["source_count"] == 2
    finally:
        server.should_exit = True
        thread.join(15)

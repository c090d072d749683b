"""The web map in headless Chromium (Debian's /usr/bin/chromium via Playwright) on the real
API and PostgreSQL: an incident whose place is unresolved (name kept, precision "unknown",
no point) is listed but drawn nowhere; one at a town is drawn; a bbox around where a
capital fallback would have put it does not return it."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from datetime import UTC, date, datetime

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core.models import EventTime, EventType, Incident, IncidentSource, Place
from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import SubscriptionStore, create_app
from strikewatch.services.store import db

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
KEY = "ka"


def _incident(id_: str, place: Place) -> Incident:
    pub = datetime(2024, 5, 26, 9, tzinfo=UTC)
    return Incident(
        id=id_,
        event_type=EventType.SHELLING,
        places=[place],
        time=EventTime(date=date(2024, 5, 26), precision="day"),
        sources=[IncidentSource(event_id="e_" + id_, article_id="a_" + id_, source="test", published_at=pub)],
        source_count=1,
    )


UNRESOLVED = _incident("i_unresolved", Place(name="Zxqivka", country="Ukraine", country_code="UA", precision="unknown"))
TOWN = _incident(
    "i_town",
    Place(
        name="Sentianivka",
        country="Ukraine",
        country_code="UA",
        admin1="Luhansk",
        lat=48.67,
        lon=38.75,
        precision="city",
    ),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def api(pg_dsn, kafka_bootstrap, new_topic):
    import uvicorn

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, [UNRESOLVED, TOWN], db.WriteResult())
    settings = ApiSettings(
        api_keys=f"{KEY}=alice", bootstrap_servers=kafka_bootstrap, postgres_db=conninfo_to_dict(pg_dsn)["dbname"]
    )
    subs = SubscriptionStore(kafka_bootstrap, new_topic("subs", compact=True))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, subs), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
    subs.close()


def test_an_unresolved_place_is_listed_but_not_drawn_and_no_bbox_matches_it(api):
    from playwright.sync_api import sync_playwright

    # Kyiv's box (where the old capital fallback put unknown villages) returns neither; the town's box returns it.
    kyiv = httpx.get(f"{api}/v1/incidents", params={"bbox": "30.2,50.2,30.8,50.6"}, headers={"X-API-Key": KEY}).json()
    assert [r["id"] for r in kyiv["items"]] == []
    luhansk = httpx.get(f"{api}/v1/incidents", params={"bbox": "38,48,39.5,49"}, headers={"X-API-Key": KEY}).json()
    assert [r["id"] for r in luhansk["items"]] == ["i_town"]
    geo = httpx.get(f"{api}/v1/incidents", params={"format": "geojson"}, headers={"X-API-Key": KEY}).json()
    geometry = {f["id"]: f["geometry"] for f in geo["features"]}
    assert geometry["i_unresolved"] is None and geometry["i_town"]["type"] == "Point"

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 800},
        )
        try:
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{api}/#key={KEY}")
            page.wait_for_selector("#incidents tbody tr[data-id='i_unresolved']", timeout=30_000)
            page.wait_for_selector("#incidents tbody tr[data-id='i_town']", timeout=30_000)
            assert page.wait_for_selector("path.incident-i_town", state="attached", timeout=10_000)
            assert page.query_selector("path.incident-i_unresolved") is None  # listed, never drawn as a point
            assert "Zxqivka (not located)" in page.inner_text("#incidents tbody tr[data-id='i_unresolved']")
            assert not errors
        finally:
            ctx.close()

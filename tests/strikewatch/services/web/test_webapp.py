"""The web app in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) on a
running local stack: ``strikewatch run --services pipeline,store,api --replay`` with the
reference article, on a broker of its own (``stack.isolated``: fresh dedup state and groups)
and a fresh database on the test PostgreSQL.

Its incidents show on the map and in the list (live, from /v1/stream, when the page was open
before they were stored); the air strike's page shows Kataib Hezbollah, the F-15E and the "no
immediate reports" casualty statement, each with its quote, and links to the article; the key
from ``#key=`` leaves the address bar; no request leaves 127.0.0.1. Screenshots go to
``.artifacts/``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core import procs
from strikewatch.devstack import stack

pytestmark = pytest.mark.integration
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_S = 300  # pipeline start (spaCy, MiniLM on the first event) and the article's way through it: ~60-90 s here


@pytest.fixture
def local_stack(tmp_path, postgres, pg_dsn, repo_root, shared_data):
    """`strikewatch run` with the reference article; yields the app's base URL."""
    iso = stack.isolated(tmp_path / "stack")
    port = procs.free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "STRIKEWATCH_STACK_DIR": str(iso.stack_dir),
        "STRIKEWATCH_KAFKA_PORT": str(iso.kafka_port),
        "STRIKEWATCH_CONTROLLER_PORT": str(iso.controller_port),
        "STRIKEWATCH_BOOTSTRAP_SERVERS": iso.bootstrap_servers,
        "STRIKEWATCH_KAFKA_HEAP": "256m",
        "STRIKEWATCH_PRISM_PORT": str(procs.free_port()),
        "STRIKEWATCH_PORT": str(port),
        "STRIKEWATCH_POSTGRES_PORT": str(postgres.postgres_port),
        "STRIKEWATCH_POSTGRES_DB": conninfo_to_dict(pg_dsn)["dbname"],
    }
    env.pop("STRIKEWATCH_API_KEYS", None)  # the local default key, dev-key
    article = shared_data / "articles" / "us_strikes_iraq_syria_2021-06-28.txt"
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "run", "--services", "pipeline,store,api", "--replay", str(article)],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the API did not come up: " + (tmp_path / "run.log").read_text()[-3000:])
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        stack.stop_kafka(iso)
        from strikewatch.devstack.postgres import stop_postgres

        stop_postgres(iso)  # a no-op: `run` found the test server on its port


def test_reference_article_on_the_map_in_the_list_and_on_its_page(local_stack, repo_root):
    from playwright.sync_api import sync_playwright

    artifacts = repo_root / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        ctx = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        try:
            page = ctx.new_page()
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{local_stack}/#key=dev-key")
            page.wait_for_selector("#view-map:not([hidden])")
            assert "dev-key" not in page.url  # the key leaves the address bar
            page.wait_for_function("document.querySelector('#live').textContent === 'live'", timeout=30_000)
            empty_at_load = page.is_visible("#list-empty")

            row = page.wait_for_selector("#incidents tbody tr:has-text('Kataib Hezbollah')", timeout=WAIT_S * 1000)
            assert "air strike" in row.inner_text() and "United States" in row.inner_text()
            inc_id = row.get_attribute("data-id")
            assert page.wait_for_selector(
                f"path.incident-{inc_id}", state="attached", timeout=10_000
            )  # its marker on the map
            if empty_at_load:  # it was stored after the page loaded: it came over /v1/stream
                assert page.evaluate("window.strikewatchLive") >= 1
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts / "webapp_map.png"))

            row.query_selector("a").click()
            page.wait_for_selector("#incident dl.facts")
            text = page.inner_text("#incident")
            assert "Kataib Hezbollah" in text and "F-15E" in text
            assert "No immediate reports of casualties" in text
            marks = [m.inner_text() for m in page.query_selector_all("#incident mark")]
            assert "Kataib Hezbollah" in marks and "no immediate reports of casualties" in marks
            assert any(m.startswith("F-15E") for m in marks)
            links = [a.get_attribute("href") for a in page.query_selector_all("#incident a.source-link")]
            assert links and all(
                h.startswith("file://") and h.endswith("us_strikes_iraq_syria_2021-06-28.txt") for h in links
            )
            page.screenshot(path=str(artifacts / "webapp_incident.png"), full_page=True)
            assert not errors
        finally:
            ctx.close()
    assert requests and all(u.startswith(local_stack + "/") or u.startswith("data:") for u in requests), sorted(
        {u for u in requests if not u.startswith(local_stack)}
    )
    assert (artifacts / "webapp_map.png").stat().st_size > 10_000 and (
        artifacts / "webapp_incident.png"
    ).stat().st_size > 10_000


def test_local_defaults_serve_the_app_and_the_api_with_dev_key():
    """`strikewatch run` serves the app on http://127.0.0.1:8088/ and the API under /v1 with the
    local key dev-key (settings defaults, no environment), and starts the store and the API."""
    from fastapi.testclient import TestClient

    from strikewatch.core.settings import ApiSettings
    from strikewatch.devstack import run
    from strikewatch.services.api import create_app, parse_keys

    defaults = ApiSettings.model_construct()  # the declared defaults, whatever this shell's environment says
    assert (defaults.host, defaults.port, defaults.api_url) == ("127.0.0.1", 8088, "http://127.0.0.1:8088")
    assert "dev-key" in parse_keys(defaults.api_keys.get_secret_value())
    assert {"pipeline", "store", "api"} <= set(run.SERVICES)

    class NoSubscriptions:
        def list(self, owner):
            return []

    app = create_app(ApiSettings(api_keys=defaults.api_keys), NoSubscriptions())  # no lifespan: no database needed
    c = TestClient(app)
    index = c.get("/")
    assert index.status_code == 200 and "<title>strikewatch</title>" in index.text and "vendor/leaflet.js" in index.text
    assert c.get("/vendor/countries-50m.json").json()["type"] == "Topology"
    assert c.get("/app.js").status_code == 200 and c.get("/vendor/leaflet.css").status_code == 200
    assert c.get("/v1/incidents").status_code == 401  # the API under /v1, behind the key
    assert {"/v1/incidents", "/v1/incidents/{incident_id}", "/v1/events", "/v1/escalation", "/v1/stream"} <= set(
        app.openapi()["paths"]
    )

"""The web app with an Arabic strike report on the running local stack (``strikewatch run
--replay`` of a text written for this test): the incident's fields are English, its quotes
are Arabic and read right to left, and the language filter keeps it. Screenshot in
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

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
WAIT_S = 300  # pipeline start and the article's way through it (tests/strikewatch/services/web/test_webapp.py)

pytestmark = pytest.mark.integration

ARABIC = """date 2024-03-14
غارات إسرائيلية على خان يونس

شنت الطائرات الحربية الإسرائيلية أمس غارات على مدينة خان يونس جنوب قطاع غزة، ما أسفر عن مقتل سبعة أشخاص وإصابة آخرين، وفق مصادر طبية.
"""


@pytest.fixture
def arabic_stack(tmp_path, postgres, pg_dsn, repo_root):
    iso = stack.isolated(tmp_path / "stack")
    port = procs.free_port()
    article = tmp_path / "khan_younis_ar.txt"
    article.write_text(ARABIC, encoding="utf-8")
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
    env.pop("STRIKEWATCH_API_KEYS", None)
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


def test_arabic_report_fields_in_english_quotes_right_to_left(arabic_stack, repo_root):
    from playwright.sync_api import sync_playwright

    artifacts = repo_root / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    # The API filter first: the incident is there for language=ar and not for language=fr.
    deadline = time.monotonic() + WAIT_S
    items = []
    while time.monotonic() < deadline and not items:
        r = httpx.get(
            f"{arabic_stack}/v1/incidents", params={"language": "ar"}, headers={"X-API-Key": "dev-key"}, trust_env=False
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        time.sleep(2)
    assert items, "no Arabic incident stored"
    inc = items[0]
    assert inc["event_type"] == "air_strike" and inc["places"][0]["country"] == "Palestine"
    assert [s["language"] for s in inc["sources"]] == ["ar"]
    assert inc["attacker"]["name"] == "Israel"  # "غارات إسرائيلية": the adjective after the strike names who struck
    assert inc["casualties"]["killed"] == 7 and inc["casualties"]["injured"] is None
    r = httpx.get(
        f"{arabic_stack}/v1/incidents", params={"language": "fr"}, headers={"X-API-Key": "dev-key"}, trust_env=False
    )
    assert all(i["id"] != inc["id"] for i in r.json()["items"])
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
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{arabic_stack}/#key=dev-key")
            page.wait_for_selector("#view-map:not([hidden])")
            page.select_option("#filters select[name=language]", "ar")
            page.click("#filters button[type=submit]")
            row = page.wait_for_selector(f"#incidents tbody tr[data-id='{inc['id']}']", timeout=60_000)
            assert "air strike" in row.inner_text()
            row.query_selector("a").click()
            page.wait_for_selector("#incident dl.facts")
            facts = page.inner_text("#incident dl.facts")
            assert "Air strike" in facts or "air strike" in facts
            assert "Israel" in facts  # the attacker in English
            rtl = page.query_selector_all("#incident blockquote[lang=ar][dir=rtl]")
            assert rtl and any("خان يونس" in q.inner_text() or "غارات" in q.inner_text() for q in rtl)
            assert page.query_selector("#incident .lang-tag") is not None
            page.screenshot(path=str(artifacts / "webapp_incident_ar.png"), full_page=True)
            assert not errors
        finally:
            ctx.close()

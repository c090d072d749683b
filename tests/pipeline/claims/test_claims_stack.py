"""Issue 21's acceptance on the real stack: ``strikewatch run --services pipeline,store,api``
(Kafka, the pipeline on Prism, the store in PostgreSQL, the API) on a broker of its own
(``stack.isolated``) and a fresh database, replaying streams written here
(``pipeline/claims/synthetic.py: acceptance_stream``), read back through ``/v1``; then the web
app in headless Chromium (Debian's /usr/bin/chromium, Playwright).

* three outlets on one missile strike on a Kharkiv hospital, with tolls 9, 11 and 2 and a denial
  of Moscow's: one incident, a casualty claim per outlet, the denial, ``contested``, three
  independent sources;
* a wire story on the agency's site and four copies elsewhere: one incident, five sources, one
  independent source (``wire:reuters``), ``single_source``;
* two outlets on a Mykolaiv school: ``corroborated``;
* the incident page shows the claims side by side with the grade and its reason; "corroborated
  only" on the map hides the single-source incident and keeps the corroborated one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest

from pipeline.claims.synthetic import acceptance_stream
from strikewatch.core import procs
from strikewatch.devstack import stack

pytestmark = pytest.mark.integration
WAIT_S = 480  # the stack's start (~60 s), spaCy and MiniLM on the first events, ten articles through: ~2-4 min here
KEY = {"X-API-Key": "dev-key"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _ours(inc: dict, run: str) -> bool:
    return any(run in (s.get("url") or "") for s in inc["sources"])


def _incidents(base: str, run: str) -> list[dict]:
    r = httpx.get(
        f"{base}/v1/incidents",
        params={"since": "2024-05-15", "until": "2024-05-22", "limit": 100},
        headers=KEY,
        timeout=10,
        trust_env=False,
    )
    r.raise_for_status()
    return [i for i in r.json()["items"] if _ours(i, run)]


def _town(inc: dict) -> str:
    return next((p["name"] for p in inc["places"] if p.get("precision") == "city"), "")


@pytest.fixture(scope="module")
def claims_stack(tmp_path_factory, postgres, repo_root):
    """`strikewatch run` replaying the acceptance streams; waits until their three incidents
    are stored with all their sources, and yields the base URL, the run id and the incidents."""
    import psycopg
    from psycopg import sql

    from strikewatch.devstack.postgres import ensure_database, stop_postgres

    tmp = tmp_path_factory.mktemp("claims_stack")
    run = uuid.uuid4().hex[:8]
    streams = acceptance_stream(run)
    # (the wire story's follow-ups are the alert test's: here the wire story stays single-source)
    articles = sorted(streams["contested"] + streams["wire"] + streams["corroborated"], key=lambda a: a.published_at)
    jsonl = tmp / "articles.jsonl"
    jsonl.write_text("".join(a.model_dump_json() + "\n" for a in articles), encoding="utf-8")
    db = f"test_{uuid.uuid4().hex[:10]}"
    ensure_database(postgres, db)
    iso = stack.isolated(tmp / "stack")
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
        "STRIKEWATCH_POSTGRES_DB": db,
    }
    env.pop("STRIKEWATCH_API_KEYS", None)  # the local default key, dev-key
    log_path = tmp / "run.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "run", "--services", "pipeline,store,api", "--replay", str(jsonl)],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    want = {
        "Kharkiv": len(streams["contested"]),
        "Odesa": len(streams["wire"]),
        "Mykolayiv": len(streams["corroborated"]),
    }
    try:
        deadline = time.monotonic() + WAIT_S
        found: dict[str, dict] = {}
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                found = {_town(i): i for i in _incidents(base, run)}
            except httpx.HTTPError:
                found = {}
            if all(found.get(t, {}).get("source_count", 0) >= n for t, n in want.items()):
                break
            time.sleep(3)
        else:
            pytest.fail(
                f"incidents stored: {[(t, i['source_count']) for t, i in found.items()]}, wanted {want}\n"
                + log_path.read_text()[-3000:]
            )
        time.sleep(5)  # a revision still on its way would show in the API by now
        yield SimpleNamespace(base=base, run=run, streams=streams, log=log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        stack.stop_kafka(iso)
        stop_postgres(iso)  # a no-op: `run` found the test server on its port
        with psycopg.connect(postgres.postgres_dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))


def _detail(base: str, incident_id: str) -> dict:
    r = httpx.get(f"{base}/v1/incidents/{incident_id}", headers=KEY, timeout=10, trust_env=False)
    r.raise_for_status()
    return r.json()


def test_three_outlets_tolls_and_a_denial_make_one_contested_incident(claims_stack):
    mine = [i for i in _incidents(claims_stack.base, claims_stack.run) if _town(i) == "Kharkiv"]
    assert len(mine) == 1, [(i["id"], i["source_count"]) for i in mine]  # one incident, not three
    inc = mine[0]
    assert inc["source_count"] == 3 and inc["independent_sources"] == 3 and not inc["single_source"]
    assert inc["contested"] and inc["grade"] == "contested"
    outlets = {a.canonical_url.split("/")[2].removeprefix("www."): a for a in claims_stack.streams["contested"]}
    tolls = {c["outlet"]: c["killed"] for c in inc["claims"] if c["kind"] == "casualties"}
    assert tolls == {
        "kharkiv-observer.net": 9,
        "steppe-times.org": 11,
        "border-dispatch.com": 2,
    }  # a claim per outlet, none overwritten
    denials = [c for c in inc["claims"] if c["kind"] == "responsibility" and c["stance"] == "denied"]
    assert (
        denials
        and {c["party_side"] for c in denials} == {"RU"}
        and {c["outlet"] for c in denials} == {"border-dispatch.com"}
    )
    for c in inc["claims"]:  # each quote is the article's own words at its offsets
        art = outlets[c["outlet"]]
        assert art.text[c["quote"]["start"] : c["quote"]["end"]] == c["quote"]["text"]
    assert inc["killed_range"] == [2, 11]
    assert "tolls differ" in inc["grade_reason"] and "denies it" in inc["grade_reason"]
    assert {f["first_report_at"] is not None for f in inc["families"]} == {True} and len(inc["families"]) == 3
    # the filters of the read API see it so
    r = httpx.get(
        f"{claims_stack.base}/v1/incidents",
        params={"since": "2024-05-15", "until": "2024-05-22", "contested": "true", "min_independent_sources": 3},
        headers=KEY,
        timeout=10,
        trust_env=False,
    )
    assert [i["id"] for i in r.json()["items"] if _ours(i, claims_stack.run)] == [inc["id"]]
    # every revision is kept: the claims of the first report survive in the last
    detail = _detail(claims_stack.base, inc["id"])
    revisions = detail["revisions"]
    assert len(revisions) >= 3 and revisions[-1]["claims"] is not None


def test_five_syndicated_copies_are_one_independent_source(claims_stack):
    mine = [i for i in _incidents(claims_stack.base, claims_stack.run) if _town(i) == "Odesa"]
    assert len(mine) == 1, [(i["id"], i["source_count"]) for i in mine]
    inc = mine[0]
    assert inc["source_count"] == 5 and inc["independent_sources"] == 1 and inc["single_source"]
    assert inc["grade"] == "single_source"
    [family] = inc["families"]
    assert family["id"] == "wire:reuters" and len(family["articles"]) == 5
    assert {s["family"] for s in inc["sources"]} == {"wire:reuters"}
    r = httpx.get(
        f"{claims_stack.base}/v1/incidents",
        params={"since": "2024-05-15", "until": "2024-05-22", "min_independent_sources": 2},
        headers=KEY,
        timeout=10,
        trust_env=False,
    )
    assert inc["id"] not in [i["id"] for i in r.json()["items"]]


def test_two_independent_outlets_corroborate(claims_stack):
    [inc] = [i for i in _incidents(claims_stack.base, claims_stack.run) if _town(i) == "Mykolayiv"]
    assert inc["independent_sources"] == 2 and inc["grade"] == "corroborated" and not inc["contested"]


def test_claims_table_and_corroborated_only_map_in_the_browser(claims_stack, repo_root):
    from playwright.sync_api import sync_playwright

    base = claims_stack.base
    found = {_town(i): i for i in _incidents(base, claims_stack.run)}
    contested, single, corroborated = found["Kharkiv"], found["Odesa"], found["Mykolayiv"]
    artifacts = repo_root / ".artifacts"
    artifacts.mkdir(exist_ok=True)
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
            page.goto(f"{base}/#key=dev-key")
            page.wait_for_selector("#view-map:not([hidden])")
            since = page.locator("#filters input[name=since]")
            since.fill("2024-05-15")
            page.locator("#filters input[name=until]").fill("2024-05-22")
            page.click("#filters button[type=submit]")
            for inc in (contested, single, corroborated):
                page.wait_for_selector(f"#incidents tbody tr[data-id='{inc['id']}']", timeout=30_000)
                page.wait_for_selector(f"path.incident-{inc['id']}", state="attached", timeout=10_000)

            # "corroborated only": the single-source incident leaves the list and the map
            page.select_option("#filters select[name=grade]", "corroborated,confirmed")
            page.click("#filters button[type=submit]")
            page.wait_for_selector(f"#incidents tbody tr[data-id='{single['id']}']", state="detached", timeout=30_000)
            page.wait_for_selector(f"#incidents tbody tr[data-id='{corroborated['id']}']", timeout=30_000)
            assert page.locator(f"path.incident-{single['id']}").count() == 0
            assert page.locator(f"path.incident-{corroborated['id']}").count() == 1
            assert (
                page.locator(f"#incidents tbody tr[data-id='{contested['id']}']").count() == 0
            )  # contested is not corroborated
            page.screenshot(path=str(artifacts / "webapp_corroborated_only.png"))

            # the contested incident's page: the grade with its reason and the claims side by side
            page.goto(f"{base}/#/incident/{contested['id']}")
            page.wait_for_selector("#claims tbody tr")
            grade = page.inner_text("#incident p.grade")
            assert grade.startswith("contested") and "tolls differ" in grade and "3 independent source(s)" in grade
            rows = page.query_selector_all("#claims tbody tr.claim-casualties")
            by_outlet = {r.query_selector("td:nth-child(4) a").inner_text(): r for r in rows}
            assert set(by_outlet) == {"kharkiv-observer.net", "steppe-times.org", "border-dispatch.com"}
            assert "2 killed" in by_outlet["border-dispatch.com"].inner_text()
            assert (
                "killed two people"
                in by_outlet["border-dispatch.com"].query_selector("td:nth-child(3) blockquote").inner_text()
            )
            assert (
                by_outlet["steppe-times.org"]
                .query_selector("td:nth-child(1)")
                .inner_text()
                .startswith("Ukraine's State Emergency Service")
            )
            denial = page.query_selector("#claims tbody tr.claim-denied")
            assert denial is not None and "denies it" in denial.inner_text()
            href = by_outlet["kharkiv-observer.net"].query_selector("td:nth-child(4) a").get_attribute("href")
            assert href.startswith("https://www.kharkiv-observer.net/")
            page.screenshot(path=str(artifacts / "webapp_claims.png"), full_page=True)
            assert not errors
        finally:
            ctx.close()

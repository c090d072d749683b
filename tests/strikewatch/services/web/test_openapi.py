"""The OpenAPI document keeps its word: schemathesis (the CLI, as API users run it) against the real app
under uvicorn on 127.0.0.1, its read API on a real PostgreSQL store holding incidents, events and
escalation scores, its subscriptions on the real broker. Every check, every phase (examples, coverage,
fuzzing, stateful), bounded: a fixed seed and a few examples per operation (~1,000 cases, ~1 min here).

The rules OpenAPI cannot state (bbox and since/until order, a webhook host DNS must find public) are
applied to the cases schemathesis calls valid by ``openapi_hooks.py``. One setting differs from
schemathesis' defaults, and only widens what counts as a refusal: a body over the size limit is refused
with 413 before it is parsed, which negative_data_rejection's default list of refusals lacks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import SubscriptionStore, create_app
from strikewatch.services.store import db
from strikewatch.services.store import synthetic as R

pytestmark = pytest.mark.integration
SEED = 20
MAX_EXAMPLES = 8  # per operation and phase
HERE = Path(__file__).resolve().parent
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
"""


def fill(dsn: str, n: int = 40) -> None:
    records = [R.incident(i, r) for i in range(n) for r in range(i % 3 + 1)]
    records += [R.event(i, s) for i in range(n) for s in range(i % 3 + 1)] + [R.escalation(i) for i in range(n)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, records, db.WriteResult())


@pytest.fixture
def served(pg_dsn, kafka_bootstrap, new_topic):
    """The app on a free port: high rate limits (the run is thousands of requests from one key and one
    address), streams that end after 0.5 s (schemathesis reads a response to its end)."""
    import uvicorn

    from strikewatch.core.procs import free_port

    fill(pg_dsn)
    settings = ApiSettings(
        api_keys="ka=alice,kb=bob",
        bootstrap_servers=kafka_bootstrap,
        postgres_db=conninfo_to_dict(pg_dsn)["dbname"],
        rate_limit_per_s=1e6,
        rate_limit_burst=1_000_000,
        failed_key_rate_per_s=1e6,
        failed_key_burst=1_000_000,
        max_streams_per_key=1000,
        stream_max_s=0.5,
    )
    store = SubscriptionStore(kafka_bootstrap, new_topic("subs", compact=True))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(15)
    store.close()


def test_schemathesis_finds_nothing(served, http_server, route, tmp_path, repo_root):
    http_server.routes["/hook"] = route(status=204)  # the valid webhook of generated subscriptions
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(repo_root), str(HERE)]),
        "SCHEMATHESIS_HOOKS": "openapi_hooks",
        "STRIKEWATCH_TEST_WEBHOOK": http_server.url("/hook"),
    }
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "run",
        f"{served}/openapi.json",
        "--checks",
        "all",
        "-H",
        "X-API-Key: ka",
        "--seed",
        str(SEED),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
        "--output-truncate",
        "true",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    run = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    tail = "\n".join(line[:300] for line in run.stdout.splitlines()[-80:])
    assert run.returncode == 0, tail
    result = json.loads(report.read_text())
    assert result["failures"] == [] and result["errors"] == [], tail
    assert result["operations"]["tested"] == result["operations"]["total"] >= 12
    assert all(p["status"] == "success" for p in result["phases"].values()), result["phases"]
    assert result["test_cases"]["generated"] >= 300 and result["test_cases"]["with_failures"] == 0


def test_the_document_names_what_the_routes_answer(served):
    """What schemathesis cannot miss by chance: each status, media type and header named where it applies."""
    import httpx

    spec = httpx.get(f"{served}/openapi.json", trust_env=False).json()
    paths = spec["paths"]
    incidents = paths["/v1/incidents"]["get"]["responses"]
    assert set(incidents) >= {"200", "400", "401", "413", "422", "429", "503"}
    assert set(incidents["200"]["content"]) == {
        "application/json",
        "application/geo+json",
        "text/csv",
        "application/stix+json;version=2.1",
    }
    assert set(incidents["200"]["headers"]) == {"Link", "Content-Disposition"}
    assert incidents["429"]["headers"]["Retry-After"]["required"] is True
    assert set(paths["/v1/events"]["get"]["responses"]["200"]["content"]) == set(incidents["200"]["content"])
    assert set(paths["/v1/escalation"]["get"]["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert "404" in paths["/v1/incidents/{incident_id}"]["get"]["responses"]
    for path, method in [
        ("/subscriptions/{sub_id}", "get"),
        ("/subscriptions/{sub_id}", "delete"),
        ("/subscriptions/{sub_id}/rotate-secret", "post"),
    ]:
        assert {"401", "404", "429"} <= set(paths[path][method]["responses"]), (path, method)
    created = paths["/subscriptions"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    model = spec["components"]["schemas"][created["$ref"].rsplit("/", 1)[1]]
    assert "webhook_secret" in model["properties"]
    # One 422 shape, documented once and answered by every 422 (a FastAPI one and a handler's own).
    shapes = {
        json.dumps(op["responses"]["422"])
        for item in paths.values()
        for op in item.values()
        if "422" in op["responses"]
    }
    assert len(shapes) == 1 and "ValidationErrors" in shapes.pop()
    key = {"X-API-Key": "ka"}
    for url in (
        f"{served}/v1/incidents?limit=0",
        f"{served}/v1/incidents?since=yesterday",
        f"{served}/v1/incidents?bbox=10,0,5,1",
        f"{served}/v1/escalation?scope=theatre&since=2024-13-01",
    ):
        body = httpx.get(url, headers=key, trust_env=False).json()
        assert isinstance(body["detail"], list) and {"loc", "msg", "type"} <= set(body["detail"][0]), url

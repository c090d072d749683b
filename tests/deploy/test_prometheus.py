"""Prometheus config, rules and dashboards, checked with the real tools:
``promtool`` on the config and the rule unit tests, and a real Prometheus server
scraping every service of a real ``strikewatch run`` (pipeline on Prism, connectors polling
a local feed, store, API, deliverer posting to a local webhook, lag exporter) on the ports
``strikewatch status`` lists, with every Grafana panel query and recording rule asked of
it; and the console of that run."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
GRAFANA = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} missing: scripts/setup.sh installs the Debian 'prometheus' package")
    return path


def test_promtool_checks_rules_and_runs_their_unit_tests():
    out = subprocess.run(
        [_tool("promtool"), "check", "rules", str(PROM / "rules" / "strikewatch.yml")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run(
        [_tool("promtool"), "test", "rules", "strikewatch_test.yml"], cwd=PROM / "tests", capture_output=True, text=True
    )
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def test_promtool_checks_the_deployment_config(tmp_path):
    cfg = (PROM / "prometheus.yml").read_text().replace("/etc/prometheus/rules/*.yml", str(PROM / "rules" / "*.yml"))
    (tmp_path / "prometheus.yml").write_text(cfg)
    out = subprocess.run(
        [_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 1 rule files found" in out.stdout + out.stderr


def test_promtool_checks_the_local_stack_config():
    out = subprocess.run(
        [_tool("promtool"), "check", "config", str(PROM / "local.yml")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 1 rule files found" in out.stdout + out.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _query(port, expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]["result"]


def _panel_queries():
    """(dashboard, panel, expr) with the template variables as Grafana sends them for "All"."""
    out = []
    for d in sorted(GRAFANA.glob("*.json")):
        for p in json.loads(d.read_text())["panels"]:
            for t in p["targets"]:
                out.append((d.name, p["title"], t["expr"].replace("$theatre", ".*")))
    return out


def _recording_rules():
    import yaml

    groups = yaml.safe_load((PROM / "rules" / "strikewatch.yml").read_text())["groups"]
    return sorted({r["record"] for g in groups for r in g["rules"] if "record" in r})


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """A real Prometheus (Debian package binary) scraping this test process every second,
    with the deployment's rule file loaded. Yields its port."""
    from prometheus_client import start_http_server

    tmp = tmp_path_factory.mktemp("prometheus")
    exporter_port, prom_port = _free_port(), _free_port()
    server, _t = start_http_server(exporter_port, addr="127.0.0.1")
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{PROM / 'rules' / 'strikewatch.yml'}']\n"
        f"scrape_configs:\n  - job_name: pipeline\n    static_configs: [{{targets: ['127.0.0.1:{exporter_port}']}}]\n"
    )
    prom = subprocess.Popen(
        [
            _tool("prometheus"),
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        scraped = False
        while not scraped and time.monotonic() < deadline and prom.poll() is None:
            try:
                scraped = any(r["value"][1] == "1" for r in _query(prom_port, 'up{job="pipeline"}'))
            except OSError:
                pass
            if not scraped:
                time.sleep(0.5)
        assert scraped, "Prometheus never scraped the test exporter"
        yield prom_port
    finally:
        prom.terminate()
        prom.wait(30)
        server.shutdown()


def test_every_dashboard_query_parses(prometheus):
    """promtool asks the running server each panel query: a PromQL syntax error fails."""
    bad = []
    for name, title, expr in _panel_queries():
        out = subprocess.run(
            [_tool("promtool"), "query", "instant", f"http://127.0.0.1:{prometheus}", expr],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            bad.append((name, title, expr, out.stderr.strip()))
    assert not bad, bad


def test_dashboards_are_provisionable():
    import yaml

    ds = yaml.safe_load((GRAFANA.parent / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ][0]
    titles = set()
    for path in sorted(GRAFANA.glob("*.json")):
        d = json.loads(path.read_text())
        titles.add(d["title"])
        ids = [p["id"] for p in d["panels"]]
        assert len(ids) == len(set(ids)), path
        for p in d["panels"]:
            assert p["targets"] and p["datasource"]["uid"] == ds["uid"], (path.name, p["title"])
    assert titles == {"strikewatch operations", "strikewatch situation"}


def _wait_for_data(port, exprs, budget_s=90):
    """Bounded poll: the exprs that still return no (non-NaN) sample when the budget ends."""
    deadline = time.monotonic() + budget_s
    pending = list(exprs)
    while pending and time.monotonic() < deadline:
        time.sleep(1)
        pending = [e for e in pending if not any(r["value"][1] != "NaN" for r in _query(port, e[-1]))]
    return pending


# --------------------------------------------------------------------------- the local stack, scraped whole

# Seconds the running stack gets to deliver its first alert: Prism, spaCy and MiniLM start (~60-90 s here,
# more under load) plus the first articles' way through.
READY_S = 300
# A new strike report on the test feed every this many seconds, each a new incident (another city or
# another day of the last week), so every counter and histogram the dashboards read keeps moving: 84
# incidents at 5 s last 7 minutes, longer than the stack's start and the checks together.
REPORT_EVERY_S = 5.0
# Cities at least 75 km apart (clustering's MAX_KM), so each city's strike is its own incident.
CITIES = [
    ("Damascus", "Syria"),
    ("Aleppo", "Syria"),
    ("Homs", "Syria"),
    ("Latakia", "Syria"),
    ("Deir ez-Zor", "Syria"),
    ("Raqqa", "Syria"),
    ("Palmyra", "Syria"),
    ("Baghdad", "Iraq"),
    ("Mosul", "Iraq"),
    ("Basra", "Iraq"),
    ("Kirkuk", "Iraq"),
    ("Najaf", "Iraq"),
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FEED_POLL_S = 1


class _Feeds(ThreadingHTTPServer):
    """The feed (a new strike report every REPORT_EVERY_S, the last three listed) and the webhook."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.hook: list[bytes] = []
        feeds = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                newest = int((time.monotonic() - feeds.t0) / REPORT_EVERY_S)
                items = "".join(feeds.item(k) for k in range(max(0, newest - 2), newest + 1))
                body = (
                    f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                feeds.hook.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), H)
        self.daemon_threads = True
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @staticmethod
    def item(k: int) -> str:
        from email.utils import format_datetime

        city, country = CITIES[k % len(CITIES)]
        day = DAYS[(k // len(CITIES)) % len(DAYS)]
        text = (
            f"Israeli jets struck a weapons depot near {city} in {country} on {day}, killing 3 people, "
            f"the defence ministry said in statement {k}."
        )
        return (
            f"<item><title>Strike near {city} ({k})</title><link>https://n.example/prom/{k}</link>"
            f"<description>{text}</description><pubDate>{format_datetime(datetime.now(UTC))}</pubDate></item>"
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class LocalRun:
    """``strikewatch run`` with every service on a broker of its own, a fresh database on the test
    PostgreSQL and free ports, fed by a local feed, a broken feed and one junk record, with a
    subscription posting to a local webhook."""

    SERVICES = ("pipeline", "connectors", "store", "api", "deliver", "lag")

    def __init__(self, root: Path, base_settings, postgres, repo_root: Path):
        from strikewatch.core import procs
        from strikewatch.devstack import stack
        from strikewatch.devstack.postgres import ensure_database

        self.root, self.repo_root = root, repo_root
        self.iso = stack.isolated(root / "stack", base_settings)
        self.db = f"test_run_{time.monotonic_ns() % 10**10}"
        ensure_database(postgres, self.db)
        self.postgres = postgres
        self.feeds = _Feeds()
        feeds_toml = root / "feeds.toml"
        feeds_toml.write_text(
            f'[[feed]]\nname = "promtest"\nurl = "{self.feeds.url("/feed.xml")}"\ninterval_s = {FEED_POLL_S}\n'
            '[[feed]]\nname = "promtest-broken"\nurl = "http://no-such-host.invalid/feed"\ninterval_s = 5\n'
        )
        self.ports = {name: procs.free_port() for name in self.SERVICES}
        self.env = {
            **{
                k: v
                for k, v in __import__("os").environ.items()
                if k not in ("STRIKEWATCH_API_KEYS", "STRIKEWATCH_METRICS_PORT")
            },
            "PYTHONPATH": str(repo_root),
            "STRIKEWATCH_STACK_DIR": str(self.iso.stack_dir),
            "STRIKEWATCH_KAFKA_PORT": str(self.iso.kafka_port),
            "STRIKEWATCH_CONTROLLER_PORT": str(self.iso.controller_port),
            "STRIKEWATCH_BOOTSTRAP_SERVERS": self.iso.bootstrap_servers,
            "STRIKEWATCH_KAFKA_HEAP": "256m",
            "STRIKEWATCH_PRISM_PORT": str(procs.free_port()),
            "STRIKEWATCH_POSTGRES_PORT": str(postgres.postgres_port),
            "STRIKEWATCH_POSTGRES_DB": self.db,
            "STRIKEWATCH_FEEDS_FILE": str(feeds_toml),
            "STRIKEWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1/32",
            "STRIKEWATCH_PORT": str(self.ports["api"]),
            "STRIKEWATCH_API_URL": f"http://127.0.0.1:{self.ports['api']}",
            **{
                f"STRIKEWATCH_{'DELIVERY' if n == 'deliver' else n.upper()}_METRICS_PORT": str(p)
                for n, p in self.ports.items()
                if n != "api"
            },
        }
        self.stdout, self.stderr = root / "run.stdout", root / "run.stderr"
        self.proc = None

    def start(self) -> None:
        from kafka import KafkaProducer

        from strikewatch.core import topics
        from strikewatch.core.models import Subscription
        from strikewatch.devstack import stack
        from strikewatch.services.api import SubscriptionStore

        stack.up(self.iso)  # the topics, before the subscription and the junk record go on them
        subs = SubscriptionStore(self.iso.bootstrap_servers)
        subs.put(
            Subscription(
                id="promtest", owner="promtest", countries=["Syria", "Iraq"], webhook_url=self.feeds.url("/hook")
            )
        )
        subs.close()
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [__import__("sys").executable, "-m", "strikewatch.cli", "run"],
                cwd=self.repo_root,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        p = KafkaProducer(bootstrap_servers=self.iso.bootstrap_servers)
        p.send(topics.ARTICLES.name, key=b"junk", value=b"\xff not an article")  # a dead letter for its panel
        p.flush()
        p.close()
        deadline = time.monotonic() + READY_S
        while not self.feeds.hook and time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            time.sleep(1)
        assert self.feeds.hook, "no alert delivered within the time\n" + self.output()

    def output(self) -> str:
        return (
            self.stderr.read_text(errors="replace")[-4000:]
            + "\n--- stdout ---\n"
            + self.stdout.read_text(errors="replace")[-2000:]
        )

    def stop(self) -> int | None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(__import__("signal").SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def close(self) -> None:
        import psycopg
        from psycopg import sql

        from strikewatch.devstack import stack

        self.stop()
        stack.stop_kafka(self.iso)
        self.feeds.shutdown()
        with psycopg.connect(self.postgres.postgres_dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db)))


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, stack_settings, postgres, repo_root):
    run = LocalRun(tmp_path_factory.mktemp("local-run"), stack_settings, postgres, repo_root)
    try:
        run.start()
        yield run
    finally:
        run.close()


def test_real_prometheus_scrapes_every_service_of_run_and_answers_every_dashboard_query(local_run, tmp_path):
    """deploy/prometheus/local.yml (its targets moved to this run's ports, scraped every second)
    scrapes every service `strikewatch run` started: each target is up, `strikewatch status`
    lists each port as answering, and every dashboard panel and recording rule has data."""
    import yaml

    ports = local_run.ports
    job_service = {
        "connectors": "connectors",
        "pipeline": "pipeline",
        "delivery": "deliver",
        "store": "store",
        "api": "api",
        "lag": "lag",
    }
    cfg = yaml.safe_load((PROM / "local.yml").read_text())
    cfg["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    cfg["rule_files"] = [str(PROM / "rules" / "*.yml")]
    assert {j["job_name"] for j in cfg["scrape_configs"]} == set(job_service)
    for job in cfg["scrape_configs"]:
        job["static_configs"] = [{"targets": [f"127.0.0.1:{ports[job_service[job['job_name']]]}"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    status = subprocess.run(
        [__import__("sys").executable, "-m", "strikewatch.cli", "status"],
        env=local_run.env,
        cwd=local_run.repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    metrics = json.loads(status.stdout)["metrics"]
    assert {name: m["url"] for name, m in metrics.items()} == {
        name: f"http://127.0.0.1:{port}/metrics" for name, port in ports.items()
    }
    assert all(m["up"] for m in metrics.values()), metrics
    prom_port = _free_port()
    prom = subprocess.Popen(
        [
            _tool("prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        up: dict = {}
        while time.monotonic() < deadline and len(up) < len(job_service):
            time.sleep(1)
            try:
                up = {r["metric"]["job"]: r["value"][1] for r in _query(prom_port, "up") if r["value"][1] == "1"}
            except OSError:
                pass
        assert set(up) == set(job_service), f"targets not up: {set(job_service) - set(up)}"
        exprs = _panel_queries()
        assert len(exprs) >= 15
        missing = _wait_for_data(prom_port, exprs, budget_s=180)
        assert not missing, f"panels without data: {missing}\n{local_run.output()}"
        missing = _wait_for_data(prom_port, [(r,) for r in _recording_rules()])
        assert not missing, f"recording rules without data: {missing}"
    finally:
        prom.terminate()
        prom.wait(30)


# What the console of a normal run may say on stderr: the stack line, one start line per service, the
# stop lines. Anything else there (a warning) is a finding of this test.
CONSOLE_LINES = (
    r"stack up in [\d.]+ s: Kafka 127\.0\.0\.1:\d+( \(started\))?, PostgreSQL 127\.0\.0\.1:\d+; service logs in .*",
    r"(pipeline|connectors|store|api|deliver|lag) started \(pid \d+\): .*; log .*/logs/\1\.log",
    r"stopping pipeline, connectors, store, api, deliver, lag",
    r"stopped",
)


def test_the_console_of_a_normal_run(local_run):
    """The run of the test above, stopped with SIGTERM: stdout is one JSON line per event, alert
    and dead letter (the junk record's and the broken feed's among them); stderr is the stack line,
    one start line per service and the stop lines, nothing else (no library INFO, no Beam warning,
    no "pipeline is running", no traceback); the services' own lines are in .stack/logs/."""
    import re

    assert local_run.stop() == 0, local_run.output()
    err = local_run.stderr.read_text().splitlines()
    odd = [line for line in err if not any(re.fullmatch(p, line) for p in CONSOLE_LINES)]
    assert not odd, "unexpected console lines:\n" + "\n".join(odd)
    started = [line.split()[0] for line in err if " started (pid " in line]
    assert sorted(started) == sorted(LocalRun.SERVICES), started
    assert err[0].startswith("stack up in") and err[-2:] == [
        "stopping pipeline, connectors, store, api, deliver, lag",
        "stopped",
    ]
    records = [json.loads(line) for line in local_run.stdout.read_text().splitlines()]
    assert any(r.get("event") == "air_strike" for r in records)
    assert any("alert" in r and r["subscription"] == "promtest" for r in records)
    dead = {(r["dead_letter"], r["reason"]) for r in records if "dead_letter" in r}
    assert ("pipeline.decode", "not_utf8") in dead and ("connector.fetch", "unreachable") in dead, dead
    logs = local_run.iso.stack_dir / "logs"
    assert "FastPrimitivesCoder" in (logs / "pipeline.log").read_text()
    assert "apitools not found" in (logs / "pipeline.log").read_text()
    assert " INFO kafka." in (logs / "connectors.log").read_text()
    assert "Uvicorn running" in (logs / "api.log").read_text()

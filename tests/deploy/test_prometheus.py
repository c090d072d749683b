"""Prometheus config, rules and dashboards, checked with the real tools:
``promtool`` on the config and the rule unit tests, and a real Prometheus server
scraping this process's metrics after real strikewatch code ran (a feed poll into
Kafka, the Beam graph, a webhook delivery, a lag measurement), with every Grafana
panel query asked of it."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
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
    out = subprocess.run([_tool("promtool"), "check", "rules", str(PROM / "rules" / "strikewatch.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run([_tool("promtool"), "test", "rules", "strikewatch_test.yml"], cwd=PROM / "tests", capture_output=True, text=True)
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr


def test_promtool_checks_the_deployment_config(tmp_path):
    cfg = (PROM / "prometheus.yml").read_text().replace("/etc/prometheus/rules/*.yml", str(PROM / "rules" / "*.yml"))
    (tmp_path / "prometheus.yml").write_text(cfg)
    out = subprocess.run([_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 1 rule files found" in out.stdout + out.stderr


def test_promtool_checks_the_local_stack_config():
    out = subprocess.run([_tool("promtool"), "check", "config", str(PROM / "local.yml")], capture_output=True, text=True)
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


def _read_articles_on_prism(bootstrap, topic, stack_settings):
    """The pipeline's Kafka reader on Prism (LOOPBACK: its DoFns run in this process, so
    their counters land in this process's registry) until it has consumed a record."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    from prometheus_client import REGISTRY

    from pipeline import kafka_io
    from strikewatch.stack import prism_path

    def consumed():
        return REGISTRY.get_sample_value("strikewatch_pipeline_kafka_records_consumed_total", {"topic": topic}) or 0

    opts = PipelineOptions(["--runner=PrismRunner", f"--prism_location={prism_path(stack_settings)}", "--environment_type=LOOPBACK", "--streaming"])
    p = beam.Pipeline(options=opts)
    _ = p | kafka_io.ReadFromKafka(bootstrap, [topic], "promtest-" + topic) | beam.Map(lambda r: None)
    result = p.run()
    try:
        deadline = time.monotonic() + 120
        while consumed() == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert consumed() > 0, "the Kafka reader consumed nothing"
    finally:
        result.cancel()
        # A LOOPBACK worker finishes the process() call it is in before it stops.
        time.sleep(kafka_io.POLL_SECONDS + 2)


def _exercise(kafka_bootstrap, new_topic, tmp_path, stack_settings, pg_dsn):
    """Run real code paths so every metric the dashboards use has samples."""
    import apache_beam as beam

    from connectors.dedup import SeenStore
    from connectors.fetch import Fetcher
    from connectors.producer import Publisher, TopicNames
    from connectors.scheduler import FeedConfig, Poller
    from pipeline.graph import GraphConfig, build_graph
    from strikewatch import lag
    from strikewatch.delivery import Deliverer
    from strikewatch.models import Article, Subscription

    hits = []

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = (b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Strike</title><link>https://n.example/%d</link>'
                    b"<description>Israeli jets struck a depot near Damascus on Sunday.</description></item></channel></rss>" % time.time_ns())
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            hits.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    names = TopicNames(articles=new_topic("art"), seen=new_topic("seen", compact=True), dead_letters=new_topic("dl"))
    pub = Publisher(kafka_bootstrap, names)
    feeds = [FeedConfig("promtest", base + "/feed"), FeedConfig("promtest-broken", "http://no-such-host.invalid/feed")]  # one fails
    poller = Poller(feeds, Fetcher("t", "127.0.0.1/32", host_interval_s=0), pub, SeenStore())
    for f in feeds:
        poller.poll(f)
    pub.flush()
    _read_articles_on_prism(kafka_bootstrap, names.articles, stack_settings)
    # A second poll seconds (several 1 s scrapes) after the first, so rate() over the
    # fetch-latency histogram sees an increase.
    poller.poll(feeds[0])
    pub.flush()

    published = datetime.now(timezone.utc)
    arts = [Article.new(f"https://n.example/g{i}", body="Israeli jets struck a weapons depot near Damascus in Syria on Sunday, killing 3.", published_at=published).to_bytes()
            for i in range(2)] + [b"\xff junk"]
    from pipeline.kafka_io import KafkaRecord

    subs = [KafkaRecord("subs", 0, 0, b"s1", Subscription(id="s1", owner="o", webhook_url=base + "/hook").to_bytes(), 0)]
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        out = build_graph(p | "arts" >> beam.Create(arts), GraphConfig(similarity="jaccard"), p | "subs" >> beam.Create(subs))
        out["alerts"] | beam.Map(lambda a: a.model_dump_json()) | beam.io.WriteToText(str(tmp_path / "alerts"), shard_name_template="")
    from strikewatch.models import Alert

    alerts = [line.encode() for line in (tmp_path / "alerts").read_text().splitlines() if line]

    topics = {"alerts": new_topic("alerts"), "delivered": new_topic("delivered", compact=True), "dead": new_topic("dead")}
    d = Deliverer(kafka_bootstrap, b"s", group="promtest", alerts_topic=topics["alerts"], delivered_topic=topics["delivered"], dead_topic=topics["dead"])
    for raw in alerts:
        d.handle(Alert.from_bytes(raw))
    d.close()
    # A consumer group that read nothing of the articles topic yet (committed offset 0).
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

    lag_group = "promtest-lag-" + names.articles
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=lag_group, enable_auto_commit=False)
    c.commit({TopicPartition(names.articles, 0): OffsetAndMetadata(0, "", -1)})
    c.close()
    measured = lag.measure(kafka_bootstrap, [lag_group])
    assert measured[(lag_group, names.articles)] > 0, measured
    for (group, topic), value in measured.items():
        lag.METRICS.lag.labels(group, topic).set(value)
    # The store writes the pipeline's incidents (its ISO-keyed incident counter feeds the situation map).
    from strikewatch.models import Incident
    from strikewatch.store.consumer import Store

    incidents = [a.incident.to_bytes() for a in map(Alert.from_bytes, alerts)]
    inc_topic = new_topic("incidents")
    store_topics = {inc_topic: Incident}
    for raw in incidents:
        pub._send(inc_topic, None, raw)
    pub.flush()
    store = Store(kafka_bootstrap, pg_dsn, "promtest-store-" + inc_topic, store_topics, topics["dead"])
    store.run(max_idle_s=2)
    store.close()
    pub.close()
    srv.shutdown()
    assert alerts and hits, "the exercise must have produced an alert and a delivery"


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
    prom = subprocess.Popen([_tool("prometheus"), f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        out = subprocess.run([_tool("promtool"), "query", "instant", f"http://127.0.0.1:{prometheus}", expr], capture_output=True, text=True)
        if out.returncode != 0:
            bad.append((name, title, expr, out.stderr.strip()))
    assert not bad, bad


def test_dashboards_are_provisionable():
    import yaml

    ds = yaml.safe_load((GRAFANA.parent / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"][0]
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


def test_real_prometheus_answers_every_dashboard_query(prometheus, kafka_bootstrap, new_topic, tmp_path, stack_settings, pg_dsn):
    _exercise(kafka_bootstrap, new_topic, tmp_path, stack_settings, pg_dsn)
    exprs = _panel_queries()
    assert len(exprs) >= 15
    missing = _wait_for_data(prometheus, exprs)
    assert not missing, f"panels without data: {missing}"
    # The recording rules run on the same samples (rule evaluation every 1 s here).
    missing = _wait_for_data(prometheus, [(r,) for r in _recording_rules()])
    assert not missing, f"recording rules without data: {missing}"

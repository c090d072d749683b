"""Issue 21 end to end on the real broker: a subscription with ``min_independent_sources=2``
is alerted only when the second independent outlet reports the strike, and exactly once. The
pipeline runs on Prism as its own process, the deliverer here, posting to a webhook on
127.0.0.1 (as tests/pipeline/test_alerts_e2e.py starts them).

The wire story and a syndicated copy of it (one outlet family) make the incident: no alert. An
outlet of its own makes it two independent sources: one alert. A third outlet: no other."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipeline.claims.synthetic import acceptance_stream
from strikewatch.core import topics
from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Incident, Subscription
from strikewatch.services.api import SubscriptionStore
from strikewatch.services.delivery import Deliverer, make_metrics

pytestmark = pytest.mark.integration
WAIT_S = 300
QUIET_S = 20  # a duplicate or early alert would arrive by then (an alert takes ~1-3 s from its incident here)


class Incidents:
    """This run's incident revisions from the incidents topic, read from its end as of now."""

    def __init__(self, bootstrap: str, run: str):
        self.run = run
        self.c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
        parts = [TopicPartition(topics.INCIDENTS.name, p) for p in self.c.partitions_for_topic(topics.INCIDENTS.name)]
        self.c.assign(parts)
        for tp, end in self.c.end_offsets(parts).items():
            self.c.seek(tp, end)
        self.seen: list[Incident] = []

    def poll(self) -> list[Incident]:
        for msg in self.c:
            inc = Incident.from_bytes(msg.value)
            if any(self.run in (s.url or "") for s in inc.sources):
                self.seen.append(inc)
        return self.seen

    def holding(self, url: str) -> Incident | None:
        return next((i for i in reversed(self.poll()) if any(s.url == url for s in i.sources)), None)

    def close(self):
        self.c.close()


def test_alerted_once_when_the_second_independent_outlet_arrives(kafka_bootstrap, repo_root, tmp_path, group_at_end):
    got: list[dict] = []

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    run = uuid.uuid4().hex[:8]
    streams = acceptance_stream(run)
    wire, copy = streams["wire"][:2]
    second, third = streams["wire_followups"]
    sub = Subscription(
        id=f"sub-corroborated-{run}",
        owner=f"o-{run}",
        countries=["Ukraine"],
        min_independent_sources=2,
        notify_on=["new_incident", "corroborated", "contested"],
        webhook_url=f"http://127.0.0.1:{srv.server_address[1]}/hook",
    )
    store = SubscriptionStore(kafka_bootstrap)
    store.put(sub)
    store.close()

    group = "e2e-claims-deliver-" + run
    group_at_end(group, topics.ALERTS.name)
    incidents = Incidents(kafka_bootstrap, run)
    # Recovery would reopen the incidents earlier tests left on this shared broker, and the run's
    # strike would join one of them (source_count 6, not 2); tests/system/test_faults.py tests it.
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "e2e-claims-" + run,
        "STRIKEWATCH_START_FROM": "latest",
        "STRIKEWATCH_RECOVER_OPEN_INCIDENTS": "false",
    }
    log_path = tmp_path / "pipeline.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "pipeline"],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    d = Deliverer(kafka_bootstrap, b"s", group=group, metrics=make_metrics(CollectorRegistry()))
    t = threading.Thread(target=d.run, daemon=True)
    t.start()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")

    def send(*arts):
        for a in arts:
            producer.send(topics.ARTICLES.name, key=a.id.encode(), value=a.to_bytes())
        producer.flush()

    def mine() -> list[dict]:
        return [g["data"] for g in got if g["data"]["subscription_id"] == sub.id]

    def wait_for(pred, what: str, timeout: float = WAIT_S):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            value = pred()
            if value:
                return value
            time.sleep(1)
        pytest.fail(f"no {what} in {timeout:.0f} s; alerts: {mine()}\npipeline log:\n{log_path.read_text()[-3000:]}")

    try:
        # The job starts at the topic's end: offer the wire story and its copy until they make
        # the incident (the same articles again change nothing).
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (incidents.holding(copy.url) and incidents.holding(wire.url)):
            assert proc.poll() is None, log_path.read_text()[-3000:]
            send(wire, copy)
            time.sleep(10)
        first = incidents.holding(copy.url)
        assert first is not None and first.source_count == 2 and first.independent_sources == 1, log_path.read_text()[
            -3000:
        ]
        time.sleep(QUIET_S)
        assert mine() == []  # one outlet family: no alert, however many copies

        send(second)
        corroborated = wait_for(lambda: incidents.holding(second.url), "revision with the second outlet")
        assert corroborated.id == first.id and corroborated.independent_sources == 2
        alerts = wait_for(mine, "alert")
        send(third)
        wait_for(lambda: incidents.holding(third.url), "revision with the third outlet")
        time.sleep(QUIET_S)
        alerts = mine()
        assert len(alerts) == 1, [
            (a["kind"], a["incident_revision"], a["incident"]["independent_sources"]) for a in alerts
        ]
        [alert] = alerts
        assert alert["kind"] == "new_incident" and alert["incident_id"] == first.id
        assert alert["incident"]["independent_sources"] == 2 and alert["incident"]["grade"] == "corroborated"
        assert second.url in [s["url"] for s in alert["incident"]["sources"]]
        assert third.url not in [s["url"] for s in alert["incident"]["sources"]]
    finally:
        cleanup = SubscriptionStore(kafka_bootstrap)
        cleanup.delete(sub.id)  # later runs must not alert this run's dead webhook
        cleanup.close()
        incidents.close()
        producer.close()
        d.stop()
        t.join(30)
        d.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
        srv.shutdown()

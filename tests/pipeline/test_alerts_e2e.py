"""Issue-5 end to end on the real broker: a burst of reports about one strike from
several outlets becomes one incident and one alert per matching subscription,
delivered to a real webhook on 127.0.0.1 (the pipeline runs on Prism as its own
process; the deliverer runs here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaProducer

from strikewatch.core import topics
from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Article, Subscription
from strikewatch.services.api import SubscriptionStore
from strikewatch.services.delivery import Deliverer, make_metrics

pytestmark = pytest.mark.integration
WAIT_S = 300

REPORTS = [
    "Israeli warplanes struck an Iranian weapons depot near Albu Kamal in eastern Syria early Monday, the "
    "Syrian Observatory said.",
    "Israeli jets bombed a weapons depot used by Iran-backed militias near Albu Kamal, Syria, on Monday, "
    "monitors said.",
    "Israeli air strikes hit a weapons warehouse near the Syrian town of Albu Kamal early on Monday, a war "
    "monitor reported.",
]


def test_burst_of_reports_one_incident_one_alert_per_subscription(kafka_bootstrap, repo_root, tmp_path, group_at_end):
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
    hook = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    run = uuid.uuid4().hex[:8]
    store = SubscriptionStore(kafka_bootstrap)
    # Hygiene on a shared dev broker: subscriptions left by an interrupted earlier run
    # would send alerts to webhooks that no longer exist.
    for stale in [s for s in store._subs.values() if s.owner.startswith("o-")]:
        store.delete(stale.id)
    syria = Subscription(
        id=f"sub-syria-{run}",
        owner=f"o-{run}",
        countries=["Syria"],
        event_types=["air_strike"],
        notify_on=["new_incident"],
        webhook_url=hook,
    )
    israel = Subscription(
        id=f"sub-israel-{run}", owner=f"o-{run}", actors=["Israel"], notify_on=["new_incident"], webhook_url=hook
    )
    yemen = Subscription(id=f"sub-yemen-{run}", owner=f"o-{run}", countries=["Yemen"], webhook_url=hook)
    for s in (syria, israel, yemen):
        store.put(s)
    store.close()

    # A fresh delivery group that starts at the alerts topic's end as of now: only this
    # run's alerts (older runs' alerts point at webhooks that no longer exist and would
    # sit in retries). Committed before anything can produce an alert; a group left to
    # reset to "latest" by itself could land after this run's one new_incident alert
    # and wait forever on revisions that are not alerted.
    group = "e2e-deliver-" + run
    group_at_end(group, topics.ALERTS.name)
    # A pipeline reopens the incidents published in the last 72 h (pipeline/recovery.py). On the shared dev
    # broker those are other tests' too: test_main's U.S. strike near Albu Kamal on 28 June 2021 is, by
    # place, day and weapon, the strike of this burst, which then joined it as a contested report and
    # never alerted the Israel subscription. This test is about one burst from a fresh state; restart
    # recovery is tested in tests/pipeline/test_recovery.py and tests/system/test_faults.py.
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "e2e-alerts-" + run,
        "STRIKEWATCH_START_FROM": "latest",
        "STRIKEWATCH_RECOVER_OPEN_INCIDENTS": "false",
    }
    log = open(tmp_path / "pipeline.log", "wb")
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
    try:
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        published = datetime(2021, 6, 28, 9, tzinfo=UTC)
        # This run's subscriptions, about this run's reports: the dev broker is shared, and
        # other strike news about Syria (a feed capture another test replayed) alerts the
        # Syria subscription too, rightly; an incident that holds any of this run's reports
        # counts, so a burst split into two incidents still fails the test.
        ours = lambda a: any(f"/{run}/" in (s.get("url") or "") for s in a["data"]["incident"]["sources"])  # noqa: E731
        mine = lambda: [g for g in got if g["data"]["subscription_id"].endswith(run) and ours(g)]  # noqa: E731
        deadline = time.monotonic() + WAIT_S
        sent = 0
        # The job starts at the end of the topic: keep offering the burst until it is up.
        while time.monotonic() < deadline and not mine():
            assert proc.poll() is None, (tmp_path / "pipeline.log").read_text()[-3000:]
            for i, text in enumerate(REPORTS):
                art = Article.new(
                    f"https://outlet{i}.example/{run}/{sent}",
                    title="",
                    body=text,
                    published_at=published,
                    source=f"outlet{i}",
                )
                producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
            producer.flush()
            sent += 1
            time.sleep(10)
        time.sleep(15)  # any duplicate alert would arrive by now
        alerts = mine()
        by_sub = {}
        for a in alerts:
            by_sub.setdefault(a["data"]["subscription_id"], []).append(a["data"])
        assert set(by_sub) == {syria.id, israel.id}, (tmp_path / "pipeline.log").read_text()[-2000:]
        for sub_id, items in by_sub.items():
            seen = [
                (
                    a["kind"],
                    a["incident_id"],
                    a["incident_revision"],
                    [src.get("url") for src in a["incident"]["sources"]],
                )
                for a in items
            ]
            # A str message: pytest cuts any other to 240 characters in the middle (saferepr),
            # which lost which alerts came in a clean-clone CI failure.
            assert [a["kind"] for a in items] == ["new_incident"], (
                f"{sub_id}: {len(items)} alerts (kind, incident, revision, sources, alert id): "
                + "; ".join(map(str, [(*s, a["id"]) for s, a in zip(seen, items)]))
                + "\npipeline log:\n"
                + (tmp_path / "pipeline.log").read_text()[-3000:]
            )
            assert items[0]["incident"]["attacker"]["name"] == "Israel"
        # One incident for the whole burst, and it holds several outlets.
        assert len({a["incident_id"] for items in by_sub.values() for a in items}) == 1
    finally:
        cleanup = SubscriptionStore(kafka_bootstrap)
        for s in (syria, israel, yemen):
            cleanup.delete(s.id)  # later runs must not alert this run's dead webhook
        cleanup.close()
        d.stop()
        t.join(30)
        d.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        srv.shutdown()

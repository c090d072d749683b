"""Webhook delivery end to end on the real broker and a real webhook server on
127.0.0.1: signed payloads, every alert delivered once, a webhook outage loses
nothing, a restart re-sends nothing, and a dead webhook ends in a dead letter."""

import hashlib
import hmac
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaConsumer, TopicPartition

from strikewatch.delivery import RETRY_DELAYS_S, Deliverer, make_metrics, payload
from strikewatch.metrics import CollectorRegistry
from strikewatch.models import Actor, Alert, DeadLetter, EventType, Incident, IncidentSource

pytestmark = pytest.mark.integration
SECRET = b"test-secret"


class Hook:
    def __init__(self):
        self.received: list[tuple[dict, str]] = []
        self.down_until = 0.0
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if time.monotonic() < hook.down_until:
                    self.send_response(503)
                else:
                    hook.received.append((json.loads(body), self.headers["X-Strikewatch-Signature"], body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"


def alert(i, url, fmt="cloudevents", events=None, incident=None):
    """Alert ``al{i}`` about incident ``i{i}`` made of one report, event ``e{i}``."""
    sources = [IncidentSource(event_id=e, article_id="a" + e, source="s", published_at=datetime(2021, 6, 28, tzinfo=timezone.utc)) for e in (events or [f"e{i}"])]
    inc = Incident(id=incident or f"i{i}", event_type=EventType.AIR_STRIKE, attacker=Actor(name="United States", type="state_military"), severity=0.6,
                   sources=sources, theatre="Syria")
    return Alert(id=f"al{i}", subscription_id="s1", owner="o", incident_id=inc.id, incident_revision=0, kind="new_incident", severity=0.6,
                 title=f"strike {i}", summary="x", incident=inc, created_at=datetime.now(timezone.utc), webhook_url=url, webhook_format=fmt)


def deliverer(bootstrap, names, registry, delays=(0.5, 0.5, 1, 1, 2, 2)):
    return Deliverer(bootstrap, SECRET, group="g-" + names["alerts"], alerts_topic=names["alerts"], delivered_topic=names["delivered"],
                     dead_topic=names["dead"], retry_delays_s=delays, metrics=make_metrics(registry))


@pytest.fixture
def names(new_topic):
    return {"alerts": new_topic("alerts"), "delivered": new_topic("delivered", compact=True), "dead": new_topic("dead")}


def test_outage_loses_nothing_and_restart_resends_nothing(kafka_bootstrap, names, producer):
    hook = Hook()
    for i in range(5):
        producer.send(names["alerts"], key=b"s1", value=alert(i, hook.url).to_bytes())
    producer.flush()
    hook.down_until = time.monotonic() + 4  # the webhook is down for the first seconds
    reg = CollectorRegistry()
    d = deliverer(kafka_bootstrap, names, reg)
    d.run(max_idle_s=3)
    d.close()
    ids = [b["id"] for b, _sig, _raw in hook.received]
    assert sorted(ids) == [f"al{i}" for i in range(5)]
    for body, sig, raw in hook.received:
        assert sig == "sha256=" + hmac.new(SECRET, raw, hashlib.sha256).hexdigest()
        assert body["specversion"] == "1.0" and body["type"] == "io.strikewatch.alert.new_incident"
    assert reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "retry"}) >= 1

    # Restart with a new consumer group: offsets would replay everything, the
    # delivered-ids topic prevents any second delivery.
    producer.send(names["alerts"], key=b"s1", value=alert(5, hook.url).to_bytes())
    producer.flush()
    d2 = Deliverer(kafka_bootstrap, SECRET, group="other-" + names["alerts"], alerts_topic=names["alerts"], delivered_topic=names["delivered"],
                   dead_topic=names["dead"], retry_delays_s=(0.5,), metrics=make_metrics(CollectorRegistry()))
    d2.run(max_idle_s=3)
    d2.close()
    assert sorted(b["id"] for b, _s, _r in hook.received) == [f"al{i}" for i in range(6)]


def test_webhook_down_for_a_minute_loses_nothing_with_the_default_retries(kafka_bootstrap, names, producer):
    """The production retry schedule (RETRY_DELAYS_S, 123 s in all) outlasts a webhook
    that answers 503 for a whole minute: every alert arrives once, none is dead-lettered."""
    hook = Hook()
    for i in range(3):
        producer.send(names["alerts"], key=b"s1", value=alert(i, hook.url).to_bytes())
    producer.flush()
    hook.down_until = time.monotonic() + 60
    reg = CollectorRegistry()
    d = deliverer(kafka_bootstrap, names, reg, delays=RETRY_DELAYS_S)
    d.run(max_idle_s=3)
    d.close()
    assert sorted(b["id"] for b, _s, _r in hook.received) == ["al0", "al1", "al2"]
    assert time.monotonic() >= hook.down_until  # delivered after the outage, not during it
    assert reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "dead_letter"}) is None
    assert reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "retry"}) >= 5


def test_a_new_incident_repeating_delivered_reports_is_not_alerted_again(kafka_bootstrap, names, producer):
    """A pipeline restarted without its clustering state re-reads its last articles and
    makes a new incident (new id) of reports the subscriber was already alerted to."""
    hook = Hook()
    producer.send(names["alerts"], value=alert(1, hook.url, events=["eA", "eB"], incident="iX").to_bytes())
    producer.flush()
    reg = CollectorRegistry()
    d = deliverer(kafka_bootstrap, names, reg)
    d.run(max_idle_s=2)
    d.close()
    # The restarted deliverer reads the delivered reports back from the compacted topic.
    producer.send(names["alerts"], value=alert(2, hook.url, events=["eB"], incident="iY").to_bytes())  # eB again, new incident id
    producer.send(names["alerts"], value=alert(3, hook.url, events=["eC"], incident="iZ").to_bytes())  # a different strike
    producer.flush()
    reg2 = CollectorRegistry()
    d2 = deliverer(kafka_bootstrap, names, reg2)
    d2.run(max_idle_s=2)
    d2.close()
    assert [b["data"]["incident_id"] for b, _s, _r in hook.received] == ["iX", "iZ"]
    assert reg2.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "duplicate_incident"}) == 1


def test_dead_webhook_ends_in_a_dead_letter(kafka_bootstrap, names, producer):
    hook = Hook()
    hook.down_until = time.monotonic() + 3600
    producer.send(names["alerts"], value=alert(9, hook.url).to_bytes())
    producer.send(names["alerts"], value=b"junk")
    producer.flush()
    d = deliverer(kafka_bootstrap, names, CollectorRegistry(), delays=(0.2, 0.2))
    d.run(max_idle_s=2)
    d.close()
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=1500)
    tp = TopicPartition(names["dead"], 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    dls = [DeadLetter.from_bytes(m.value) for m in c]
    assert sorted((d.stage, d.reason) for d in dls) == [("delivery.decode", "schema_mismatch"), ("delivery.webhook", "webhook_failed")]
    assert Alert.from_bytes([d for d in dls if d.reason == "webhook_failed"][0].payload).id == "al9"


def test_slack_and_alertmanager_payloads():
    s = payload(alert(1, "http://x", "slack"))
    assert s["text"].startswith("[new_incident]") and s["blocks"][0]["type"] == "section"
    [am] = payload(alert(1, "http://x", "alertmanager"))
    assert am["labels"]["alertname"] == "StrikewatchIncident" and am["labels"]["theatre"] == "Syria" and "summary" in am["annotations"]


def test_every_payload_links_the_sources_and_the_incident_page():
    a = alert(2, "http://x", "slack")
    src = [IncidentSource(event_id="e1", article_id="a1", source="s", url="https://news.example/story?a=1&b=2",
                          title="US strikes <militias>", outlet="news.example"),
           IncidentSource(event_id="e2", article_id="a2", source="s", url="file:///data/article.txt")]
    a = a.model_copy(update={"incident": a.incident.model_copy(update={"sources": src})})
    web = "http://127.0.0.1:8088"
    slack = payload(a, web)
    text = "\n".join(b["text"]["text"] for b in slack["blocks"] if b["type"] == "section")
    assert "<https://news.example/story?a=1&b=2|US strikes &lt;militias&gt; — news.example>" in text
    assert "file:///data/article.txt" in text  # not a Slack link (not http), but shown
    assert slack["blocks"][-1]["elements"][0]["text"] == f"<{web}/#/incident/i2|Open in strikewatch>"
    ce = payload(a.model_copy(update={"webhook_format": "cloudevents"}), web)
    assert [s["url"] for s in ce["data"]["incident"]["sources"]] == [s.url for s in src]
    first = ce["data"]["incident"]["sources"][0]
    assert first["title"] == "US strikes <militias>" and first["outlet"] == "news.example"
    assert ce["sourceurls"] == "https://news.example/story?a=1&b=2 file:///data/article.txt"
    assert ce["incidenturl"] == f"{web}/#/incident/i2"
    [am] = payload(a.model_copy(update={"webhook_format": "alertmanager"}), web)
    assert am["annotations"]["sources"].splitlines() == [s.url for s in src]
    assert am["generatorURL"] == f"{web}/#/incident/i2"
    # Version-1 alerts (no links) still render, without a sources block.
    old = payload(alert(3, "http://x", "slack"))
    assert [b["type"] for b in old["blocks"]] == ["section"] and "incidenturl" not in payload(alert(3, "http://x"))

"""Webhook delivery end to end on the real broker and a real webhook server on
127.0.0.1: signed payloads, every alert delivered once, a webhook outage loses
nothing, a restart re-sends nothing, and a dead webhook ends in a dead letter."""

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kafka import KafkaConsumer, TopicPartition

from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Actor, Alert, DeadLetter, EventType, Incident, IncidentSource
from strikewatch.services import webhooks
from strikewatch.services.delivery import RETRY_DELAYS_S, Deliverer, make_metrics, payload

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
                    hook.received.append((json.loads(body), dict(self.headers), body))
                    self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"


def alert(i, url, fmt="cloudevents", events=None, incident=None):
    """Alert ``al{i}`` about incident ``i{i}`` made of one report, event ``e{i}``."""
    sources = [
        IncidentSource(event_id=e, article_id="a" + e, source="s", published_at=datetime(2021, 6, 28, tzinfo=UTC))
        for e in (events or [f"e{i}"])
    ]
    inc = Incident(
        id=incident or f"i{i}",
        event_type=EventType.AIR_STRIKE,
        attacker=Actor(name="United States", type="state_military"),
        severity=0.6,
        sources=sources,
        theatre="Syria",
    )
    return Alert(
        id=f"al{i}",
        subscription_id="s1",
        owner="o",
        incident_id=inc.id,
        incident_revision=0,
        kind="new_incident",
        severity=0.6,
        title=f"strike {i}",
        summary="x",
        incident=inc,
        created_at=datetime.now(UTC),
        webhook_url=url,
        webhook_format=fmt,
    )


def deliverer(bootstrap, names, registry, delays=(0.5, 0.5, 1, 1, 2, 2)):
    return Deliverer(
        bootstrap,
        SECRET,
        group="g-" + names["alerts"],
        alerts_topic=names["alerts"],
        delivered_topic=names["delivered"],
        dead_topic=names["dead"],
        retry_delays_s=delays,
        metrics=make_metrics(registry),
    )


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
    secret = webhooks.subscription_secret(SECRET, "s1", 1)
    for body, headers, raw in hook.received:
        assert webhooks.verify(secret, headers, raw), headers  # Standard Webhooks, the subscription's own secret
        assert headers["webhook-id"] == body["id"] and headers["webhook-signature"].startswith("v1,")
        assert body["specversion"] == "1.0" and body["type"] == "io.strikewatch.alert.new_incident"
    assert reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "retry"}) >= 1

    # Restart with a new consumer group: offsets would replay everything, the
    # delivered-ids topic prevents any second delivery.
    producer.send(names["alerts"], key=b"s1", value=alert(5, hook.url).to_bytes())
    producer.flush()
    d2 = Deliverer(
        kafka_bootstrap,
        SECRET,
        group="other-" + names["alerts"],
        alerts_topic=names["alerts"],
        delivered_topic=names["delivered"],
        dead_topic=names["dead"],
        retry_delays_s=(0.5,),
        metrics=make_metrics(CollectorRegistry()),
    )
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
    assert (
        reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "dead_letter"})
        is None
    )
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
    producer.send(
        names["alerts"], value=alert(2, hook.url, events=["eB"], incident="iY").to_bytes()
    )  # eB again, new incident id
    producer.send(
        names["alerts"], value=alert(3, hook.url, events=["eC"], incident="iZ").to_bytes()
    )  # a different strike
    producer.flush()
    reg2 = CollectorRegistry()
    d2 = deliverer(kafka_bootstrap, names, reg2)
    d2.run(max_idle_s=2)
    d2.close()
    assert [b["data"]["incident_id"] for b, _s, _r in hook.received] == ["iX", "iZ"]
    assert (
        reg2.get_sample_value(
            "strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "duplicate_incident"}
        )
        == 1
    )


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
    assert sorted((d.stage, d.reason) for d in dls) == [
        ("delivery.decode", "schema_mismatch"),
        ("delivery.webhook", "webhook_failed"),
    ]
    assert Alert.from_bytes([d for d in dls if d.reason == "webhook_failed"][0].payload).id == "al9"


def test_slack_and_alertmanager_payloads():
    s = payload(alert(1, "http://x", "slack"))
    assert s["text"].startswith("[new_incident]") and s["blocks"][0]["type"] == "section"
    [am] = payload(alert(1, "http://x", "alertmanager"))
    assert (
        am["labels"]["alertname"] == "StrikewatchIncident"
        and am["labels"]["theatre"] == "Syria"
        and "summary" in am["annotations"]
    )


def test_every_payload_links_the_sources_and_the_incident_page():
    a = alert(2, "http://x", "slack")
    src = [
        IncidentSource(
            event_id="e1",
            article_id="a1",
            source="s",
            url="https://news.example/story?a=1&b=2",
            title="US strikes <militias>",
            outlet="news.example",
        ),
        IncidentSource(event_id="e2", article_id="a2", source="s", url="file:///data/article.txt"),
    ]
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


def test_slack_payloads_escape_what_article_text_puts_in_them():
    """Attacker-chosen text (a party named "The <!channel> militia", a headline, a source URL with < > |) is shown,
    never parsed by Slack as a mention or a link of its own (issue 20, second attack round)."""
    a = alert(4, "http://x", "slack")
    src = [
        IncidentSource(
            event_id="e1",
            article_id="a1",
            source="s",
            url="https://evil.example/a>|<!channel>?q=<b>",
            title="Strike on <!here> & <https://phish.example|bank>",
            outlet="evil.example",
        )
    ]
    inc = a.incident.model_copy(
        update={"attacker": Actor(name="The <!channel> militia", type="militia_proxy"), "sources": src}
    )
    a = a.model_copy(
        update={"title": "The <!channel> militia struck <@U123>", "summary": "<!everyone> & co", "incident": inc}
    )
    body = payload(a, "http://127.0.0.1:8088")
    texts = [body["text"]] + [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    texts += [e["text"] for b in body["blocks"] if b["type"] == "context" for e in b["elements"]]
    everything = "\n".join(texts)
    assert "<!" not in everything and "<@" not in everything and "<https://phish" not in everything
    assert body["text"] == "[new_incident] The &lt;!channel&gt; militia struck &lt;@U123&gt;"
    assert "&lt;!everyone&gt; &amp; co" in texts[1]
    link = next(line for line in texts[2].splitlines() if "evil.example/a" in line)
    assert link == (
        "• <https://evil.example/a%3E%7C%3C!channel%3E?q=%3Cb%3E|Strike on &lt;!here&gt; &amp; "
        "&lt;https://phish.example|bank&gt; — evil.example>"
    )
    # Each Slack link is one <url|label>: exactly one < and one > per link, the rest escaped.
    for line in texts[2].splitlines()[1:]:
        assert line.count("<") == 1 and line.count(">") == 1


# --- hostile and failing endpoints (issue 13, item 3) ---------------------------------------------------------------
import logging  # noqa: E402
import random  # noqa: E402
from types import SimpleNamespace  # noqa: E402


class Hooks:
    """Webhook endpoints on 127.0.0.1 by path. ``answers[path]`` is a list of (status, headers[, body size])
    given in turn (the last one repeats); every request is recorded as (monotonic time, path, headers, body)."""

    def __init__(self):
        self.answers: dict[str, list[tuple[int, dict]]] = {}
        self.log: list[tuple[float, str, dict, bytes]] = []
        hooks = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                path = self.path.split("?")[0]
                n = sum(1 for _t, p, _h, _b in hooks.log if p == path)
                hooks.log.append((time.monotonic(), path, dict(self.headers), body))
                seq = hooks.answers.get(path, [(404, {})])
                status, headers, *extra = seq[min(n, len(seq) - 1)]
                size = extra[0] if extra else 0  # a body of this many bytes (a hostile answer)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    for _ in range(size // 65536):
                        self.wfile.write(b"\0" * 65536)
                except OSError:  # the deliverer hung up without reading it: the point
                    pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.port = self.srv.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> list[float]:
        return [t for t, p, _h, _b in self.log if p == path]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def hooks():
    h = Hooks()
    yield h
    h.close()


def for_sub(a: Alert, sub: str, **kw) -> Alert:
    return a.model_copy(update={"subscription_id": sub, **kw})


def _dead(bootstrap, topic) -> list[DeadLetter]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=1500)
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    out = [DeadLetter.from_bytes(m.value) for m in c]
    c.close()
    return out


def test_signatures_follow_standard_webhooks():
    master = b"master"
    a1, a1v2, b1 = (webhooks.subscription_secret(master, s, v) for s, v in (("sub_a", 1), ("sub_a", 2), ("sub_b", 1)))
    assert len({a1, a1v2, b1}) == 3 and all(s.startswith("whsec_") for s in (a1, a1v2, b1))
    body = b'{"id":"al1"}'
    h = webhooks.sign_headers(a1, "al1", body, now=1_700_000_000)
    assert h["webhook-id"] == "al1" and h["webhook-timestamp"] == "1700000000"
    assert webhooks.verify(a1, h, body, now=1_700_000_010)
    assert not webhooks.verify(a1, h, body + b" ", now=1_700_000_010)  # body tampered
    assert not webhooks.verify(b1, h, body, now=1_700_000_010)  # another subscriber cannot forge a's alerts
    assert not webhooks.verify(a1v2, h, body, now=1_700_000_010)  # a rotated secret no longer verifies
    assert not webhooks.verify(a1, h, body, now=1_700_000_000 + 301)  # replayed after the tolerance
    forged = {**h, "webhook-timestamp": str(1_700_000_000 + 1000)}
    assert not webhooks.verify(a1, forged, body, now=1_700_000_000 + 1000)  # a fresh timestamp needs a new MAC


def test_permanent_failures_are_dead_lettered_at_once(kafka_bootstrap, names, producer, hooks):
    """4xx (not 408/429), an address the guard refuses and a malformed URL: one attempt, then a dead letter,
    although the retry schedule would wait 30 s before the next try."""
    hooks.answers["/gone"] = [(410, {})]
    hooks.answers["/forbidden"] = [(403, {})]
    sent = [
        for_sub(alert(1, hooks.url("/gone")), "s-gone"),
        for_sub(alert(2, hooks.url("/forbidden")), "s-403"),
        for_sub(alert(3, "http://10.255.255.1/hook"), "s-ssrf"),
        for_sub(alert(4, "http://127.0.0.1:99999/x"), "s-port"),
        for_sub(alert(5, "file:///etc/passwd"), "s-file"),
    ]
    for a in sent:
        producer.send(names["alerts"], value=a.to_bytes())
    producer.flush()
    d = deliverer(kafka_bootstrap, names, CollectorRegistry(), delays=(30, 30, 30))
    t0 = time.monotonic()
    d.run(max_idle_s=1)
    d.close()
    assert time.monotonic() - t0 < 25, "nothing waited for a retry"
    assert len(hooks.hits("/gone")) == 1 and len(hooks.hits("/forbidden")) == 1
    reasons = {Alert.from_bytes(dl.payload).subscription_id: dl.reason for dl in _dead(kafka_bootstrap, names["dead"])}
    assert reasons == {
        "s-gone": "webhook_rejected",
        "s-403": "webhook_rejected",
        "s-ssrf": "ssrf_blocked",
        "s-port": "bad_url",
        "s-file": "bad_url",
    }


def test_retry_after_is_honoured_and_backoff_is_jittered(kafka_bootstrap, names, producer, hooks):
    hooks.answers["/busy"] = [(429, {"Retry-After": "2"}), (204, {})]
    producer.send(names["alerts"], value=alert(1, hooks.url("/busy")).to_bytes())
    producer.flush()
    d = deliverer(kafka_bootstrap, names, CollectorRegistry(), delays=(0.05, 0.05))
    d.run(max_idle_s=1)
    d.close()
    first, second = hooks.hits("/busy")
    assert second - first >= 1.9, "the receiver asked for 2 s"
    # Jitter: the nominal delays scaled by 1 +/- 20 %, never the same twice in a row.
    fake = SimpleNamespace(retry_delays_s=(10, 10, 10, 10), rng=random.Random(7))
    waits = [Deliverer.backoff(fake, i) for i in range(4)]
    assert all(8 <= w <= 12 for w in waits) and len(set(waits)) == 4


def test_a_failing_endpoint_never_delays_another_subscription(kafka_bootstrap, names, producer, hooks):
    """Subscription A's endpoint answers 503 and each retry waits 1-2 s; B's alerts come after A's in the
    partition. With one queue per subscription B's are delivered while A is still on its first tries
    (before: after all of A's retries, 124.6 s late with the production schedule)."""
    hooks.answers["/a"] = [(503, {})]
    hooks.answers["/b"] = [(204, {})]
    for i in range(3):
        producer.send(names["alerts"], value=for_sub(alert(i, hooks.url("/a")), "sub-A").to_bytes())
    for i in range(3, 6):
        producer.send(names["alerts"], value=for_sub(alert(i, hooks.url("/b")), "sub-B").to_bytes())
    producer.flush()
    reg = CollectorRegistry()
    d = deliverer(kafka_bootstrap, names, reg, delays=(1, 2, 2))
    d.run(max_idle_s=1)
    d.close()
    b_done = max(hooks.hits("/b"))
    assert len(hooks.hits("/b")) == 3
    a_tries_before_b = [t for t in hooks.hits("/a") if t <= b_done]
    assert len(a_tries_before_b) <= 2, "B waited for A's retries"
    assert len(hooks.hits("/a")) == 3 * 4  # A's alerts still got every try (in order), then dead letters
    assert (
        reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "dead_letter"}) == 3
    )


def test_every_request_has_a_total_deadline(kafka_bootstrap, names, producer, http_server, route):
    """Response headers trickled one byte every 0.3 s: each attempt ends at the 1 s deadline (before: the
    10 s timeout applied per byte, and this answer alone would take ~40 s)."""
    http_server.routes["/slow"] = route(status=204, headers={"X-Pad": "a" * 100}, trickle_headers_s=0.3)
    producer.send(names["alerts"], value=alert(1, http_server.url("/slow")).to_bytes())
    producer.flush()
    d = Deliverer(
        kafka_bootstrap,
        SECRET,
        group="g-" + names["alerts"],
        alerts_topic=names["alerts"],
        delivered_topic=names["delivered"],
        dead_topic=names["dead"],
        retry_delays_s=(0.1,),
        metrics=make_metrics(CollectorRegistry()),
        request_deadline_s=1.0,
    )
    t0 = time.monotonic()
    d.run(max_idle_s=1)
    d.close()
    assert time.monotonic() - t0 < 20
    [dl] = _dead(kafka_bootstrap, names["dead"])
    assert dl.reason == "webhook_failed" and "timed out" in dl.error
    assert http_server.routes["/slow"].hits == 2


def test_no_secret_or_webhook_path_in_logs_reprs_or_dead_letters(kafka_bootstrap, names, producer, hooks, caplog):
    token_path = "/services/T0SECRET/B0SECRET/xoxb-very-secret-token"
    hooks.answers[token_path] = [(500, {})]
    a = alert(1, hooks.url(token_path) + "?token=querysecret", fmt="slack")
    producer.send(names["alerts"], value=a.to_bytes())
    producer.flush()
    # What `strikewatch deliver` logs (basicConfig at INFO), and our own modules at DEBUG. (kafka-python's
    # DEBUG protocol dumps hold whole records, the alert with its URL included, as the alerts topic does.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="strikewatch")
    d = Deliverer(
        kafka_bootstrap,
        b"master-secret-value",
        group="g-" + names["alerts"],
        alerts_topic=names["alerts"],
        delivered_topic=names["delivered"],
        dead_topic=names["dead"],
        retry_delays_s=(0.05, 0.05),
        metrics=make_metrics(CollectorRegistry()),
    )
    d.run(max_idle_s=1)
    d.close()
    assert len(hooks.hits(token_path)) == 3
    secret_bits = [
        "SECRET",
        "very-secret-token",
        "querysecret",
        "master-secret-value",
        webhooks.subscription_secret(b"master-secret-value", "s1", 1),
    ]
    [dl] = _dead(kafka_bootstrap, names["dead"])
    texts = {
        "logs": caplog.text,
        "repr(deliverer)": repr(d),
        "repr(alert)": repr(a),
        "dead letter": dl.to_bytes().decode(),
    }
    for where, text in texts.items():
        for bit in secret_bits:
            assert bit not in text, f"{bit!r} in {where}"
    assert f"http://127.0.0.1:{hooks.port}/…" in caplog.text  # what is logged instead
    assert Alert.from_bytes(dl.payload).webhook_url == f"http://127.0.0.1:{hooks.port}/…"


def test_the_deliverer_connects_to_the_address_it_vetted(kafka_bootstrap, names, producer, hooks):
    """DNS rebinding: the name answers an allowed address once, then a private one. One lookup, at connect."""
    calls = []

    def rebinding(host, port, type=0):
        calls.append(host)
        return [(2, 1, 6, "", ("127.0.0.1" if len(calls) == 1 else "10.0.0.7", port))]

    hooks.answers["/hook"] = [(204, {})]
    producer.send(names["alerts"], value=alert(1, f"http://hook.test:{hooks.port}/hook").to_bytes())
    producer.flush()
    d = Deliverer(
        kafka_bootstrap,
        SECRET,
        group="g-" + names["alerts"],
        alerts_topic=names["alerts"],
        delivered_topic=names["delivered"],
        dead_topic=names["dead"],
        retry_delays_s=(0.1,),
        metrics=make_metrics(CollectorRegistry()),
        resolver=rebinding,
    )
    d.run(max_idle_s=1)
    d.close()
    [(_t, _p, headers, _b)] = hooks.log
    assert headers["Host"] == f"hook.test:{hooks.port}" and calls == ["hook.test"]


def test_a_huge_answer_is_never_read(kafka_bootstrap, names, producer, hooks):
    """An endpoint answering 2 GB within the deadline: httpx's post() would hold it all in memory."""
    import tracemalloc

    hooks.answers["/huge"] = [(200, {}, 2 * 1024**3)]
    producer.send(names["alerts"], value=alert(1, hooks.url("/huge")).to_bytes())
    producer.flush()
    reg = CollectorRegistry()
    d = deliverer(kafka_bootstrap, names, reg)
    tracemalloc.start()
    d.run(max_idle_s=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    d.close()
    assert reg.get_sample_value("strikewatch_deliveries_total", {"format": "cloudevents", "outcome": "delivered"}) == 1
    assert peak < 50 * 1024 * 1024, f"{peak / 2**20:.0f} MiB peak"


def test_a_rotated_secret_signs_the_alerts_made_after_it(kafka_bootstrap, names, producer, hooks):
    hooks.answers["/hook"] = [(204, {})]
    producer.send(
        names["alerts"], value=alert(1, hooks.url("/hook")).model_copy(update={"webhook_secret_version": 2}).to_bytes()
    )
    producer.flush()
    d = deliverer(kafka_bootstrap, names, CollectorRegistry())
    d.run(max_idle_s=1)
    d.close()
    [(_t, _p, headers, body)] = hooks.log
    headers = {k.lower(): v for k, v in headers.items()}
    assert webhooks.verify(webhooks.subscription_secret(SECRET, "s1", 2), headers, body)
    assert not webhooks.verify(webhooks.subscription_secret(SECRET, "s1", 1), headers, body)

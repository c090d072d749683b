"""Delivery is fair per owner and per endpoint, and an endpoint that keeps timing out is cut
off by its circuit breaker.

The attack (issue 20, second round): 80 subscriptions of one owner pointing at an endpoint
that holds each request 9.5 s (just under the 10 s deadline) took all 16 workers, and another
subscriber's alert waited up to 36 s for a free one."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Actor, Alert, EventType, Incident, IncidentSource
from strikewatch.services.delivery import (
    DELIVERY_WORKERS,
    SHARE_PER_ENDPOINT,
    CircuitBreaker,
    Deliverer,
    endpoint_of,
    make_metrics,
)

HOLD_S = 9.5  # the attack's endpoint: each request held just under the 10 s deadline
SLOW_SUBSCRIPTIONS = 80
# "Not delayed by more than a few seconds": the other subscriber's alert, from the first slow request
# to its own delivery (before: up to 36 s in the attack, 47.7 s measured here on the old dispatcher; 0.0 s after).
FAIR_DELAY_S = 3.0


def test_circuit_opens_after_failures_in_a_row_and_a_probe_decides():
    c = CircuitBreaker(failures=3, open_s=10, max_open_s=25)
    assert c.allow(0)
    assert not c.record(False, 0) and not c.record(False, 1)
    assert c.record(True, 2) is False and c.failures == 0  # a success resets the count
    for t in (3, 4):
        c.record(False, t)
    assert c.record(False, 5) is True and c.is_open  # the third in a row opens it
    assert not c.allow(6) and c.retry_in(6) == 9
    assert c.allow(15)  # the probe
    assert not c.allow(15.1)  # only one probe at a time
    assert c.record(False, 16) is True and c.open_until == 36  # failed probe: open twice as long
    assert c.allow(36) and c.record(False, 37) and c.open_until == 37 + 25  # capped
    assert c.allow(62) and not c.record(True, 63) and not c.is_open and c.allow(63)


def test_endpoint_key_is_scheme_host_and_port():
    assert endpoint_of("https://Hooks.Example.com/services/T0/B0/secret") == "https://hooks.example.com:443"
    assert endpoint_of("http://127.0.0.1:8080/a?b=c") == "http://127.0.0.1:8080"
    assert endpoint_of("ftp://x/") == endpoint_of(None) == ""


class _Endpoints:
    """A webhook server on 127.0.0.1: ``/slow`` holds each request ``hold_s``, ``/hang`` does not answer
    within any deadline while ``hanging``, anything else answers 204 at once. Records when and what came."""

    def __init__(self, hold_s: float = HOLD_S):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.delivered: dict[str, float] = {}
        self.concurrent = {"slow": 0, "max_slow": 0}
        self.hanging = True
        me = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                with me.lock:
                    me.times.setdefault(self.path, []).append(now)
                if self.path == "/slow":
                    with me.lock:
                        me.concurrent["slow"] += 1
                        me.concurrent["max_slow"] = max(me.concurrent["max_slow"], me.concurrent["slow"])
                    time.sleep(hold_s)
                    with me.lock:
                        me.concurrent["slow"] -= 1
                elif self.path == "/hang" and me.hanging:
                    time.sleep(5)
                    self.close_connection = True
                    return
                with me.lock:
                    me.delivered[json.loads(body)["data"]["id"]] = time.monotonic()
                try:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the deliverer gave up on it
                    pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.srv.server_address[1]}{path}"

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def _alert(n: int, sub: str, owner: str, url: str) -> Alert:
    inc = Incident(
        id=f"i{n}",
        event_type=EventType.AIR_STRIKE,
        attacker=Actor(name="United States", type="state_military"),
        severity=0.6,
        theatre="Syria",
        sources=[
            IncidentSource(
                event_id=f"e{n}", article_id=f"a{n}", source="s", published_at=datetime(2021, 6, 28, tzinfo=UTC)
            )
        ],
    )
    return Alert(
        id=f"al-{sub}-{n}",
        subscription_id=sub,
        owner=owner,
        incident_id=inc.id,
        incident_revision=0,
        kind="new_incident",
        severity=0.6,
        title=f"strike {n}",
        summary="x",
        incident=inc,
        created_at=datetime.now(UTC),
        webhook_url=url,
    )


def _run(d: Deliverer, until, budget_s: float) -> None:
    t = threading.Thread(target=d.run, daemon=True)
    t.start()
    deadline = time.monotonic() + budget_s
    try:
        while not until() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        d.stop()
        t.join(30)
        d.close()


@pytest.mark.integration
def test_slow_endpoints_of_one_owner_do_not_delay_another_subscriber(kafka_bootstrap, new_topic, producer):
    """The attack: 80 subscriptions' alerts to an endpoint holding each request 9.5 s, then one
    alert of another owner to a healthy endpoint, in that order on one partition."""
    ep, elsewhere = _Endpoints(), _Endpoints()  # the other subscriber's endpoint is another server
    alerts, delivered, dead = new_topic("fair-al"), new_topic("fair-dlv", compact=True), new_topic("fair-dl")
    for n in range(SLOW_SUBSCRIPTIONS):
        producer.send(alerts, key=f"slow{n}".encode(), value=_alert(n, f"slow{n}", "hog", ep.url("/slow")).to_bytes())
    other = _alert(999, "other", "someone-else", elsewhere.url("/fast"))
    producer.send(alerts, key=b"other", value=other.to_bytes())
    producer.flush()
    d = Deliverer(
        kafka_bootstrap,
        b"s",
        group="fair-" + alerts,
        alerts_topic=alerts,
        delivered_topic=delivered,
        dead_topic=dead,
        metrics=make_metrics(CollectorRegistry()),
    )
    try:
        _run(d, lambda: other.id in elsewhere.delivered, budget_s=90)
        assert other.id in elsewhere.delivered, "the other subscriber's alert was never delivered"
        first_slow = ep.times["/slow"][0]
        delay = elsewhere.delivered[other.id] - first_slow
        assert delay < FAIR_DELAY_S, f"the other subscriber waited {delay:.1f} s behind the slow endpoint"
        # The slow endpoint held its share of the workers, never all of them.
        assert ep.concurrent["max_slow"] <= SHARE_PER_ENDPOINT < DELIVERY_WORKERS
    finally:
        ep.close()
        elsewhere.close()


@pytest.mark.integration
def test_an_endpoint_that_keeps_timing_out_is_cut_off_then_probed_back(kafka_bootstrap, new_topic, producer):
    """8 subscriptions post to an endpoint that hangs past the deadline for its first 3 s, then
    recovers. The circuit opens after 3 timeouts in a row: the endpoint gets (almost) no request
    while it is open, a healthy subscriber is served meanwhile, the probe after it recovers closes
    the circuit, and every alert is delivered: none lost, none dead-lettered."""
    ep = _Endpoints()
    alerts, delivered, dead = new_topic("cb-al"), new_topic("cb-dlv", compact=True), new_topic("cb-dl")
    hung = [_alert(n, f"hang{n}", f"owner{n}", ep.url("/hang")) for n in range(8)]
    for a in hung:
        producer.send(alerts, key=a.subscription_id.encode(), value=a.to_bytes())
    producer.flush()
    reg = CollectorRegistry()
    metrics = make_metrics(reg)
    d = Deliverer(
        kafka_bootstrap,
        b"s",
        group="cb-" + alerts,
        alerts_topic=alerts,
        delivered_topic=delivered,
        dead_topic=dead,
        metrics=metrics,
        request_deadline_s=0.5,
        breaker_failures=3,
        breaker_open_s=2.0,
        retry_delays_s=(0.5, 1, 1, 2, 2, 4, 4),
    )
    elsewhere = _Endpoints()
    healthy = _alert(500, "healthy", "calm", elsewhere.url("/ok"))

    def recover():  # the endpoint hangs for 3 s after its first request, then answers; the healthy one posts meanwhile
        while "/hang" not in ep.times:
            time.sleep(0.05)
        time.sleep(1.0)
        producer.send(alerts, key=b"healthy", value=healthy.to_bytes())
        producer.flush()
        time.sleep(2.0)
        ep.hanging = False

    threading.Thread(target=recover, daemon=True).start()
    try:
        _run(d, lambda: all(a.id in ep.delivered for a in hung), budget_s=60)
        hang_start = ep.times["/hang"][0]
        timed_out = [t for t in ep.times["/hang"] if t - hang_start < 3.0]
        # Without a breaker every alert retries on its own: 8 alerts, a try every 0.5-1 s for 3 s.
        assert len(timed_out) <= 6, f"{len(timed_out)} requests reached the hanging endpoint"
        assert metrics.circuits_opened._value.get() >= 1
        assert metrics.deliveries.labels("cloudevents", "circuit_open")._value.get() > 0
        assert elsewhere.delivered.get(healthy.id, 1e9) - hang_start < 3.0, (
            "the healthy subscriber waited for the hanging one"
        )
        assert sorted(ep.delivered) == sorted(a.id for a in hung) and list(elsewhere.delivered) == [healthy.id]
        assert metrics.deliveries.labels("cloudevents", "dead_letter")._value.get() == 0
        assert metrics.circuits_open._value.get() == 0  # closed again by the probe
    finally:
        ep.close()
        elsewhere.close()

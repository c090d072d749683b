"""``strikewatch deliver``: alerts from Kafka to subscribers' webhooks.

Each alert is POSTed to its subscription's webhook as CloudEvents 1.0 (structured
JSON), a Slack-compatible ``{"text", "blocks"}`` message, or an Alertmanager-compatible
list of alerts, signed with ``X-Strikewatch-Signature: sha256=<HMAC of the body>``.

Delivery guarantees:

* retries with exponential backoff (``RETRY_DELAYS_S``: over two minutes in all, so a
  webhook down for a minute loses nothing); after the last try the alert becomes a
  dead letter (reason ``webhook_failed``) with its payload;
* the consumer offset is committed only after the alert was delivered or
  dead-lettered, so a crash loses nothing;
* delivered alert ids go to the compacted ``strikewatch.delivered`` topic before the
  commit and are read back on start, so a restart re-sends nothing that was
  delivered (the one window left is a crash between the webhook's 2xx and that
  write; receivers can also deduplicate on the CloudEvents ``id``);
* with each id goes the subscription, the incident and the event ids of its reports:
  a ``new_incident`` alert whose reports were already delivered to that subscription
  under another incident id is skipped. That happens when the pipeline restarted on a
  runner without durable state (Prism): it re-reads its last articles and clusters
  them into an incident afresh, whose id is new.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx

from . import topics
from .metrics import LATENCY_BUCKETS_S, REGISTRY, CollectorRegistry, Counter, Histogram, SimpleNamespace, serve
from .models import Alert, DeadLetter
from .settings import DeliverySettings

log = logging.getLogger(__name__)

# Seconds to wait before each retry: 1+2+4+8+16+32+60 = 123 s of retrying.
RETRY_DELAYS_S = (1, 2, 4, 8, 16, 32, 60)
# Seconds between tries while Kafka itself cannot be reached (a broker restart takes
# ~4 s here): the deliverer waits for it rather than exiting.
KAFKA_RETRY_S = 2.0
WEBHOOK_TIMEOUT_S = 10.0


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        deliveries=Counter("strikewatch_deliveries_total", "Webhook deliveries by outcome", ["format", "outcome"], registry=registry),
        latency=Histogram("strikewatch_delivery_seconds", "Alert created -> delivered", buckets=LATENCY_BUCKETS_S, registry=registry),
        published_to_delivered=Histogram("strikewatch_publish_to_alert_seconds", "Article published -> alert delivered (end to end)",
                                         buckets=LATENCY_BUCKETS_S + (600.0, 3600.0), registry=registry),
    )


METRICS = make_metrics()


def _slack_escape(text: str) -> str:
    # Slack mrkdwn: &, < and > are control characters; | ends a link's URL.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def source_links(alert: Alert) -> list[dict]:
    """The reporting articles of the alert's incident: url, title, outlet (schema 2; None in
    version-1 records), in the order they were reported."""
    return [{"url": s.url, "title": s.title, "outlet": s.outlet,
             "published_at": s.published_at.isoformat() if s.published_at else None} for s in alert.incident.sources]


def incident_url(alert: Alert, web_url: str | None) -> str | None:
    """The incident's page in the web app, when its base URL is known."""
    return f"{web_url.rstrip('/')}/#/incident/{alert.incident_id}" if web_url else None


def payload(alert: Alert, web_url: str | None = None) -> dict | list:
    """The webhook body: every format links the incident's source articles (and, with
    ``web_url``, its page in the web app)."""
    data = json.loads(alert.model_dump_json())
    page = incident_url(alert, web_url)
    links = source_links(alert)
    if alert.webhook_format == "slack":
        lines = []
        for n, src in enumerate(links, 1):
            if not (src["url"] or src["title"]):
                continue  # a version-1 source: nothing to link
            label = _slack_escape(" — ".join(x for x in (src["title"], src["outlet"]) if x) or f"source {n}")
            url = src["url"] or ""
            linked = url.startswith(("http://", "https://"))
            lines.append(f"• <{url.replace('|', '%7C')}|{label}>" if linked else f"• {label} {_slack_escape(url)}")
        head = f"*{_slack_escape(alert.title)}*\n{_slack_escape(alert.summary)}\nseverity {alert.severity:.2f}"
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
        if lines:  # Slack caps a section's text at 3,000 characters
            sources = "*Sources*\n" + "\n".join(lines)[:2900]
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": sources}})
        if page:
            link = {"type": "mrkdwn", "text": f"<{page}|Open in strikewatch>"}
            blocks.append({"type": "context", "elements": [link]})
        return {"text": f"[{alert.kind}] {alert.title}", "blocks": blocks}
    if alert.webhook_format == "alertmanager":
        inc = alert.incident
        annotations = {"summary": alert.title, "description": alert.summary,
                       "sources": "\n".join(x["url"] for x in links if x["url"])}
        if page:
            annotations["incident_url"] = page
        return [{"labels": {"alertname": "StrikewatchIncident", "severity": "critical" if alert.severity >= 0.7 else "warning",
                            "event_type": str(inc.event_type), "theatre": inc.theatre or "unknown", "incident": inc.id},
                 "annotations": annotations, "generatorURL": page or "",
                 "startsAt": (inc.first_seen_at or alert.created_at).isoformat()}]
    # CloudEvents: data is the Alert (its incident's sources carry url, title, outlet);
    # extension attributes (lower-case alphanumerics, strings) give a receiver the links flat.
    event = {"specversion": "1.0", "id": alert.id, "source": "strikewatch", "type": f"io.strikewatch.alert.{alert.kind}",
             "subject": alert.incident_id, "time": alert.created_at.isoformat(), "datacontenttype": "application/json",
             "data": data}
    urls = [x["url"] for x in links if x["url"]]
    if urls:
        event["sourceurls"] = " ".join(urls)
    if page:
        event["incidenturl"] = page
    return event


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass
class Deliverer:
    bootstrap: str
    secret: bytes
    group: str = "strikewatch-delivery"
    alerts_topic: str = topics.ALERTS.name
    delivered_topic: str = topics.DELIVERED.name
    dead_topic: str = topics.DEAD_LETTERS.name
    retry_delays_s: tuple = RETRY_DELAYS_S
    allow_private: str = "127.0.0.1/32"
    auto_offset_reset: str = "earliest"  # where a new group starts; "latest" skips the backlog
    web_url: str | None = None  # the web app, for "open in strikewatch" links in payloads
    metrics: SimpleNamespace = field(default_factory=lambda: METRICS)

    def __post_init__(self):
        from kafka import KafkaConsumer, KafkaProducer

        from connectors.fetch import Fetcher  # the SSRF guard: webhook URLs are user input

        self._guard = Fetcher("strikewatch-delivery", self.allow_private)
        self._http = httpx.Client(timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False, trust_env=False)
        self._producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True)
        self._delivered = self._load_delivered()
        self._consumer = KafkaConsumer(self.alerts_topic, bootstrap_servers=self.bootstrap, group_id=self.group,
                                       enable_auto_commit=False, auto_offset_reset=self.auto_offset_reset, max_poll_records=50,
                                       max_poll_interval_ms=600_000)  # one alert may retry for 2 minutes
        self._stop = threading.Event()

    def _load_delivered(self) -> set[str]:
        from connectors.producer import read_compacted

        self._reported: dict[tuple[str, str], str] = {}  # (subscription id, event id) -> incident id delivered
        delivered = set()
        for k, v in read_compacted(self.bootstrap, self.delivered_topic).items():
            if v is None:
                continue
            delivered.add(k.decode())
            if v.startswith(b"{"):
                rec = json.loads(v)
                self._remember(rec["subscription_id"], rec["incident_id"], rec["events"])
        return delivered

    def _remember(self, subscription_id: str, incident_id: str, events: list[str]) -> None:
        for ev in events:
            self._reported[(subscription_id, ev)] = incident_id

    def _already_reported(self, alert: Alert) -> bool:
        """A new incident made of reports this subscription was alerted to under another id."""
        if alert.kind != "new_incident":
            return False
        known = {self._reported.get((alert.subscription_id, s.event_id)) for s in alert.incident.sources}
        return bool(known - {None, alert.incident_id})

    def _mark_delivered(self, alert: Alert) -> None:
        events = [s.event_id for s in alert.incident.sources]
        value = json.dumps({"subscription_id": alert.subscription_id, "incident_id": alert.incident_id, "events": events}).encode()
        self._produce(self.delivered_topic, alert.id.encode(), value)
        self._delivered.add(alert.id)
        self._remember(alert.subscription_id, alert.incident_id, events)

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        """Send and wait for the broker's acknowledgement, re-sending while it is away:
        the offset is committed only after this, so nothing is lost meanwhile."""
        from kafka.errors import KafkaError

        while True:
            try:
                self._producer.send(topic, key=key, value=value).get(timeout=WEBHOOK_TIMEOUT_S * 6)
                return
            except KafkaError as e:
                if self._stop.is_set():
                    raise InterruptedError("stopping") from e  # uncommitted: the next run redoes it
                log.warning("Kafka write to %s failed, retrying in %.0f s: %s", topic, KAFKA_RETRY_S, e)
                self._stop.wait(KAFKA_RETRY_S)

    def post(self, alert: Alert) -> None:
        """One attempt; raises on failure."""
        if not alert.webhook_url:
            return
        self._guard.check_url(alert.webhook_url)
        body = json.dumps(payload(alert, self.web_url)).encode()
        headers = {"Content-Type": "application/cloudevents+json" if alert.webhook_format == "cloudevents" else "application/json",
                   "X-Strikewatch-Signature": sign(self.secret, body), "X-Strikewatch-Alert-Id": alert.id}
        r = self._http.post(alert.webhook_url, content=body, headers=headers)
        if r.status_code >= 300:
            raise RuntimeError(f"webhook answered HTTP {r.status_code}")

    def handle(self, alert: Alert) -> str:
        if alert.id in self._delivered:
            return "duplicate_skipped"
        if self._already_reported(alert):
            self._mark_delivered(alert)  # its later replays are plain duplicates
            self.metrics.deliveries.labels(alert.webhook_format, "duplicate_incident").inc()
            log.info("alert %s skipped: incident %s repeats reports already delivered to %s", alert.id, alert.incident_id, alert.subscription_id)
            return "duplicate_incident_skipped"
        last = None
        for attempt in range(len(self.retry_delays_s) + 1):
            if attempt and self._stop.wait(self.retry_delays_s[attempt - 1]):
                raise InterruptedError("stopping")  # leave it uncommitted: the next run retries it
            try:
                self.post(alert)
                break
            except Exception as e:  # noqa: BLE001 - any failure is retried, then dead-lettered
                last = e
                self.metrics.deliveries.labels(alert.webhook_format, "retry").inc()
                log.warning("alert %s to %s failed (attempt %d): %s", alert.id, alert.webhook_url, attempt + 1, e)
        else:
            self._produce(self.dead_topic, b"delivery", DeadLetter.of("delivery.webhook", "webhook_failed", last, alert.to_bytes()).to_bytes())
            self.metrics.deliveries.labels(alert.webhook_format, "dead_letter").inc()
            return "dead_letter"
        self._mark_delivered(alert)
        self.metrics.deliveries.labels(alert.webhook_format, "delivered").inc()
        now = time.time()
        self.metrics.latency.observe(max(0.0, now - alert.created_at.timestamp()))
        pubs = [s.published_at for s in alert.incident.sources if s.published_at]
        if pubs:
            self.metrics.published_to_delivered.observe(max(0.0, now - min(pubs).timestamp()))
        return "delivered"

    def run(self, max_idle_s: float | None = None) -> None:
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError

        idle_since = time.monotonic()
        while not self._stop.is_set():
            try:
                batch = self._consumer.poll(timeout_ms=500)
            except KafkaError as e:  # broker away: wait for it, the committed offset holds our place
                log.warning("Kafka poll failed, retrying in %.0f s: %s", KAFKA_RETRY_S, e)
                self._stop.wait(KAFKA_RETRY_S)
                continue
            if not batch:
                if max_idle_s is not None and time.monotonic() - idle_since > max_idle_s:
                    return
                continue
            idle_since = time.monotonic()
            for tp, records in batch.items():
                for r in records:
                    alert, error = None, None
                    try:
                        alert = Alert.from_bytes(r.value)
                    except ValueError as e:
                        error = e
                    try:
                        if alert is None:
                            self._produce(self.dead_topic, b"delivery", DeadLetter.of("delivery.decode", "schema_mismatch", error, r.value, self.alerts_topic).to_bytes())
                        else:
                            self.handle(alert)
                    except InterruptedError:
                        return
                    try:
                        self._consumer.commit({TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(r.offset + 1, "", -1)})
                    except KafkaError as e:  # re-read after a restart, then skipped as delivered
                        log.warning("offset commit failed at %s[%d] %d: %s", tp.topic, tp.partition, r.offset + 1, e)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._consumer.close()
        self._producer.flush()
        self._producer.close()
        self._http.close()


def deliver_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strikewatch deliver", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args(argv)
    s = DeliverySettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = serve(s.metrics_port, addr=s.metrics_host) if s.metrics_port else None
    d = Deliverer(s.bootstrap_servers, s.webhook_hmac_secret.get_secret_value().encode(), s.consumer_group,
                  allow_private=s.allow_private_hosts, web_url=s.web_url or None)
    signal.signal(signal.SIGTERM, lambda *_: d.stop())
    signal.signal(signal.SIGINT, lambda *_: d.stop())
    try:
        d.run()
    finally:
        d.close()
        if server is not None:
            server.shutdown()
    return 0

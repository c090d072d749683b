"""``strikewatch deliver``: alerts from Kafka to subscribers' webhooks.

Each alert is POSTed to its subscription's webhook as CloudEvents 1.0 (structured
JSON), a Slack-compatible ``{"text", "blocks"}`` message, or an Alertmanager-compatible
list of alerts, signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,...`` over ``id.timestamp.body``) with the subscription's own
secret, derived from the master secret (``strikewatch/services/webhooks.py``).

Delivery guarantees:

* one queue per subscription: alerts of one subscription go out in order, and a failing or slow endpoint
  holds only its own queue; ``DELIVERY_WORKERS`` threads make the attempts, and a queue waiting for its
  next retry holds no thread;
* fair shares: one owner's queues hold at most ``SHARE_PER_OWNER`` of the workers at once, and the queues
  of one endpoint (scheme, host, port) at most ``SHARE_PER_ENDPOINT``, so slow endpoints of one subscriber
  cannot make everyone else's alerts wait for a free worker;
* a circuit breaker per endpoint: after ``BREAKER_FAILURES`` timeouts or connection failures in a row, the
  endpoint gets no request for ``BREAKER_OPEN_S`` (doubling while it keeps failing, up to
  ``BREAKER_OPEN_MAX_S``); its alerts wait meanwhile without a request (and without using up a retry), then
  one probe request decides; an alert held longer than its retries would have lasted is dead-lettered;
* temporary failures (network errors, timeouts, 408, 429, 5xx) are retried with exponential backoff and
  jitter (``RETRY_DELAYS_S`` +/- ``JITTER_FRACTION``: over 1.5 minutes in all, so a webhook down for a minute
  loses nothing); a ``Retry-After`` on 429/503 sets the next delay (capped at ``RETRY_AFTER_MAX_S``); after
  the last try the alert becomes a dead letter (``webhook_failed``);
* permanent failures are dead-lettered at once: another 4xx or a 3xx (``webhook_rejected``), a URL the SSRF
  guard refuses (``ssrf_blocked``), a malformed one (``bad_url``);
* every attempt has one total deadline (``WEBHOOK_DEADLINE_S``: connect, TLS, headers, body), and connects
  only to the address the SSRF guard vetted (``strikewatch.core.netguard``);
* nothing logged, no repr and no dead letter holds a secret or a webhook URL's path or query (a Slack URL's
  path is its token): URLs appear as ``scheme://host/…`` and dead-lettered alerts carry that form;
* the consumer offset of a partition is committed only up to the first alert not yet delivered or
  dead-lettered, so a crash loses nothing;
* delivered alert ids go to the compacted ``strikewatch.delivered`` topic before the
  commit and are read back on start, so a restart re-sends nothing that was
  delivered (the one window left is a crash between the webhook's 2xx and that
  write; receivers can also deduplicate on ``webhook-id``);
* with each id goes the subscription, the incident and the event ids of its reports:
  a ``new_incident`` alert whose reports were already delivered to that subscription
  under another incident id is skipped. That happens when the pipeline restarted on a
  runner without durable state (Prism): it re-reads its last articles and clusters
  them into an incident afresh, whose id is new.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import logging
import random
import socket
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from strikewatch.core import netguard, topics
from strikewatch.core.errors import StrikewatchError
from strikewatch.core.kafka import AckedSender, KafkaConfig, Stopping, clients, consume, read_compacted, stop_on_signals
from strikewatch.core.metrics import (
    LATENCY_BUCKETS_S,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    SimpleNamespace,
    serve,
)
from strikewatch.core.models import Alert, DeadLetter
from strikewatch.core.settings import DeliverySettings
from strikewatch.services import webhooks

log = logging.getLogger(__name__)

# Seconds to wait before each retry: 1+2+4+8+16+32+60 = 123 s of retrying, 98 s at the low end of the jitter:
# a webhook down for a minute still loses nothing.
RETRY_DELAYS_S = (1, 2, 4, 8, 16, 32, 60)
# Each delay is scaled by 1 +/- this (uniform), so subscriptions that failed together do not retry together.
JITTER_FRACTION = 0.2
# Longest Retry-After honoured (s); a longer one is cut to this: a receiver cannot park an alert for hours.
RETRY_AFTER_MAX_S = 300.0
# Seconds between tries while Kafka itself cannot be reached (a broker restart takes
# ~4 s here): the deliverer waits for it rather than exiting.
KAFKA_RETRY_S = 2.0
# Total seconds one webhook request may take, from connect to the last body byte: Slack and Alertmanager
# answer in well under 1 s; 10 s is the old per-read timeout, now for the whole request.
WEBHOOK_DEADLINE_S = 10.0
# Threads making webhook requests at once. Each attempt ends within WEBHOOK_DEADLINE_S; waits between retries
# hold no thread.
DELIVERY_WORKERS = 16
# Most workers one owner's subscriptions, and one endpoint (scheme, host, port), may hold at once. In the
# attack round, 80 subscriptions of one owner pointing at an endpoint that held each request 9.5 s took all
# 16 workers and delayed another subscriber's alert by up to 36 s; holding 4, they leave 12 for everyone
# else. Four at once still passes ~40 alerts/s to an endpoint answering in 0.1 s.
SHARE_PER_OWNER = 4
SHARE_PER_ENDPOINT = 4
# Timeouts or connection failures in a row after which an endpoint's circuit opens: one slow answer is
# noise, five in a row (each up to WEBHOOK_DEADLINE_S) is an endpoint that is down or holding requests.
BREAKER_FAILURES = 5
# Seconds an open circuit sends nothing to its endpoint before one probe; doubled after each failed probe,
# up to the cap. 30 s is under a quarter of an alert's retry window (~2 minutes), so an endpoint that comes
# back within it still gets the alerts that waited.
BREAKER_OPEN_S = 30.0
BREAKER_OPEN_MAX_S = 300.0
# Alerts read but not yet delivered or dead-lettered, over all queues: above this the consumer pauses,
# which bounds memory when endpoints are down (an alert is ~2-10 kB).
MAX_IN_FLIGHT = 5000
# Seconds the consumer waits for records in one poll: also how often ready retries are dispatched.
POLL_S = 0.1
# Seconds between offset commits (each commits every partition up to its first unfinished alert).
COMMIT_INTERVAL_S = 1.0


class DeliveryFailure(StrikewatchError):
    """One failed attempt. ``permanent``: no retry can help (dead-letter now); ``retry_after``: the
    receiver's Retry-After in seconds, if it sent one. The message never holds a URL's path."""

    def __init__(self, message: str, reason: str, permanent: bool, retry_after: float | None = None):
        super().__init__(message)
        self.reason, self.permanent, self.retry_after = reason, permanent, retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped at RETRY_AFTER_MAX_S."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_S)


def redacted(alert: Alert) -> Alert:
    """The alert as a dead letter may keep it: its webhook URL cut to ``scheme://host/…``."""
    return alert.model_copy(update={"webhook_url": netguard.redact_url(alert.webhook_url)})


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        deliveries=Counter(
            "strikewatch_deliveries_total", "Webhook deliveries by outcome", ["format", "outcome"], registry=registry
        ),
        circuits_opened=Counter(
            "strikewatch_delivery_circuits_opened_total",
            "Endpoint circuits opened (timeouts or connection failures in a row)",
            registry=registry,
        ),
        circuits_open=Gauge(
            "strikewatch_delivery_circuits_open", "Endpoints whose circuit is open now", registry=registry
        ),
        latency=Histogram(
            "strikewatch_delivery_seconds", "Alert created -> delivered", buckets=LATENCY_BUCKETS_S, registry=registry
        ),
        published_to_delivered=Histogram(
            "strikewatch_publish_to_alert_seconds",
            "Article published -> alert delivered (end to end)",
            buckets=LATENCY_BUCKETS_S + (600.0, 3600.0),
            registry=registry,
        ),
    )


METRICS = make_metrics()


def _slack_escape(text: str) -> str:
    # Slack mrkdwn: &, < and > are control characters ("<!channel>" pings a whole channel, "<url|x>" links).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Characters that end or split a Slack link (<url|label>), percent-encoded in its URL: a URL never needs
# them literally, and "https://a/x>|<!channel>" would otherwise close the link and ping the channel.
_SLACK_URL_ESCAPES = {"<": "%3C", ">": "%3E", "|": "%7C", " ": "%20", "\n": "%0A", "\r": "%0D", "\t": "%09"}


def _slack_link(url: str, label: str) -> str:
    """A Slack link to ``url`` shown as ``label`` (plain text, escaped here)."""
    safe = "".join(_SLACK_URL_ESCAPES.get(c, c) for c in url)
    return f"<{safe}|{_slack_escape(label)}>"


def source_links(alert: Alert) -> list[dict]:
    """The reporting articles of the alert's incident: url, title, outlet (schema 2; None in
    version-1 records), in the order they were reported."""
    return [
        {
            "url": s.url,
            "title": s.title,
            "outlet": s.outlet,
            "published_at": s.published_at.isoformat() if s.published_at else None,
        }
        for s in alert.incident.sources
    ]


def incident_url(alert: Alert, web_url: str | None) -> str | None:
    """The incident's page in the web app, when its base URL is known."""
    return f"{web_url.rstrip('/')}/#/incident/{alert.incident_id}" if web_url else None


def corroboration(inc) -> str:
    """How corroborated an incident is, for a person: its grade's reason ("corroborated by 3
    independent sources", "contested: ..."), else its count of independent sources."""
    if inc.grade_reason:
        return inc.grade_reason
    n = inc.independent_sources or inc.source_count
    return f"{n} independent source" + ("s" if n != 1 else "")


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
            label = " — ".join(x for x in (src["title"], src["outlet"]) if x) or f"source {n}"
            url = src["url"] or ""
            linked = url.startswith(("http://", "https://"))
            lines.append(f"• {_slack_link(url, label)}" if linked else f"• {_slack_escape(label)} {_slack_escape(url)}")
        head = (
            f"*{_slack_escape(alert.title)}*\n{_slack_escape(alert.summary)}\nseverity {alert.severity:.2f}"
            f" · {_slack_escape(corroboration(alert.incident))}"
        )
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
        if lines:  # Slack caps a section's text at 3,000 characters
            sources = "*Sources*\n" + "\n".join(lines)[:2900]
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": sources}})
        if page:
            link = {"type": "mrkdwn", "text": _slack_link(page, "Open in strikewatch")}
            blocks.append({"type": "context", "elements": [link]})
        # text: the notification's fallback, read as mrkdwn too (a title "The <!channel> militia" pinged everyone).
        return {"text": _slack_escape(f"[{alert.kind}] {alert.title}"), "blocks": blocks}
    if alert.webhook_format == "alertmanager":
        inc = alert.incident
        annotations = {
            "summary": alert.title,
            "description": alert.summary,
            "sources": "\n".join(x["url"] for x in links if x["url"]),
            "corroboration": corroboration(inc),
        }
        if page:
            annotations["incident_url"] = page
        return [
            {
                "labels": {
                    "alertname": "StrikewatchIncident",
                    "severity": "critical" if alert.severity >= 0.7 else "warning",
                    "event_type": str(inc.event_type),
                    "theatre": inc.theatre or "unknown",
                    "incident": inc.id,
                    "grade": inc.grade or "unknown",
                    "independent_sources": str(inc.independent_sources),
                    "contested": "true" if inc.contested else "false",
                },
                "annotations": annotations,
                "generatorURL": page or "",
                "startsAt": (inc.first_seen_at or alert.created_at).isoformat(),
            }
        ]
    # CloudEvents: data is the Alert (its incident's sources carry url, title, outlet);
    # extension attributes (lower-case alphanumerics, strings) give a receiver the links flat.
    event = {
        "specversion": "1.0",
        "id": alert.id,
        "source": "strikewatch",
        "type": f"io.strikewatch.alert.{alert.kind}",
        "subject": alert.incident_id,
        "time": alert.created_at.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    urls = [x["url"] for x in links if x["url"]]
    if urls:
        event["sourceurls"] = " ".join(urls)
    inc = alert.incident
    event.update(
        grade=inc.grade or "unknown",
        independentsources=str(inc.independent_sources),
        contested="true" if inc.contested else "false",
    )
    if page:
        event["incidenturl"] = page
    return event


def endpoint_of(url: str | None) -> str:
    """The endpoint a webhook URL posts to, ``scheme://host:port`` (the key of the per-endpoint share and
    circuit), or "" for a URL that is not one (its attempt fails as ``bad_url`` anyway)."""
    try:
        scheme, host, port = netguard.split_url(url or "")
    except netguard.Blocked:
        return ""
    return f"{scheme}://{host}:{port}"


class CircuitBreaker:
    """The circuit of one endpoint (pure: the caller passes the time). Closed: requests go, and
    ``failures`` consecutive failures open it. Open: ``allow`` is False until ``open_until``. Then one
    caller is let through as the probe (half-open); its success closes the circuit, its failure opens it
    again for twice as long (up to ``max_open_s``)."""

    def __init__(
        self, failures: int = BREAKER_FAILURES, open_s: float = BREAKER_OPEN_S, max_open_s: float = BREAKER_OPEN_MAX_S
    ):
        self.threshold, self.base_open_s, self.max_open_s = failures, open_s, max_open_s
        self.failures = 0
        self.open_s = open_s
        self.open_until: float | None = None  # None: closed
        self.probing = False

    @property
    def is_open(self) -> bool:
        return self.open_until is not None

    def allow(self, now: float) -> bool:
        if self.open_until is None:
            return True
        if now >= self.open_until and not self.probing:
            self.probing = True  # half-open: this caller's request is the probe
            return True
        return False

    def retry_in(self, now: float) -> float:
        """Seconds until the circuit lets a request through again (0 when it does now)."""
        return 0.0 if self.open_until is None else max(0.0, self.open_until - now)

    def record(self, ok: bool, now: float) -> bool:
        """The result of a request that was allowed; True when this opened the circuit."""
        if ok:
            self.failures, self.open_until, self.probing, self.open_s = 0, None, False, self.base_open_s
            return False
        self.failures += 1
        if self.probing:  # the probe failed: open again, for longer
            self.probing = False
            self.open_s = min(self.open_s * 2, self.max_open_s)
            self.open_until = now + self.open_s
            return True
        if self.open_until is None and self.failures >= self.threshold:
            self.open_until = now + self.open_s
            return True
        return False


# Failures that count against an endpoint's circuit: it did not answer in time or not at all. An HTTP error
# status is an answer (fast), so it does not.
BREAKER_REASONS = frozenset({"timeout", "unreachable"})


@dataclass
class _Item:
    partition: tuple[str, int]
    offset: int
    alert: Alert
    attempt: int = 0
    since: float | None = None  # monotonic time of the first try


@dataclass
class _Lane:
    """The queue of one subscription: at most one attempt at a time, the next not before ``ready_at``."""

    items: deque = field(default_factory=deque)
    ready_at: float = 0.0
    busy: bool = False
    owner: str = ""
    endpoint: str = ""


@dataclass
class Deliverer:
    kafka: KafkaConfig | str
    secret: bytes = field(repr=False)  # the master secret; each subscription's is derived from it
    group: str = "strikewatch-delivery"
    alerts_topic: str = topics.ALERTS.name
    delivered_topic: str = topics.DELIVERED.name
    dead_topic: str = topics.DEAD_LETTERS.name
    retry_delays_s: tuple = RETRY_DELAYS_S
    allow_private: str = "127.0.0.1/32"
    auto_offset_reset: str = "earliest"  # where a new group starts; "latest" skips the backlog
    web_url: str | None = None  # the web app, for "open in strikewatch" links in payloads
    metrics: SimpleNamespace = field(default_factory=lambda: METRICS, repr=False)
    request_deadline_s: float = WEBHOOK_DEADLINE_S
    workers: int = DELIVERY_WORKERS
    share_per_owner: int = SHARE_PER_OWNER
    share_per_endpoint: int = SHARE_PER_ENDPOINT
    breaker_failures: int = BREAKER_FAILURES
    breaker_open_s: float = BREAKER_OPEN_S
    resolver: netguard.Resolver = field(default=socket.getaddrinfo, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self):
        self.kafka = KafkaConfig.coerce(self.kafka)
        self._guard = netguard.Guard(self.allow_private, self.resolver)  # webhook URLs are user input
        self._http = netguard.client(self._guard, timeout=httpx.Timeout(self.request_deadline_s))
        self._stop = threading.Event()
        # Writes wait for the broker, re-sending while it is away, until stop(): the
        # offset is committed only after them, so nothing is lost meanwhile.
        self._sender = AckedSender(self.kafka, backoff_s=KAFKA_RETRY_S, stop=self._stop)
        self._lock = threading.Lock()  # the delivered ids, reported events and per-partition progress
        self._delivered = self._load_delivered()
        self._consumer = clients.consumer(
            self.kafka,
            self.alerts_topic,
            group_id=self.group,
            auto_offset_reset=self.auto_offset_reset,
            max_poll_records=500,
            max_poll_interval_ms=600_000,
        )
        self._lanes: dict[str, _Lane] = {}
        # Attempts running now, in all and per owner and endpoint (the fair shares), and the circuits of
        # endpoints that failed lately (a closed circuit with no failure is dropped: memory follows trouble).
        self._active = 0
        self._active_by: dict[str, int] = {}
        self._circuits: dict[str, CircuitBreaker] = {}
        self._pending: dict[tuple[str, int], set[int]] = {}  # offsets read, not yet finished, per partition
        self._high: dict[tuple[str, int], int] = {}  # next offset after the last one read, per partition
        self._committed: dict[tuple[str, int], int] = {}

    def _load_delivered(self) -> set[str]:
        self._reported: dict[tuple[str, str], str] = {}  # (subscription id, event id) -> incident id delivered
        delivered = set()
        for k, v in read_compacted(self.kafka, self.delivered_topic).items():
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
        with self._lock:
            known = {self._reported.get((alert.subscription_id, s.event_id)) for s in alert.incident.sources}
        return bool(known - {None, alert.incident_id})

    def _mark_delivered(self, alert: Alert) -> None:
        events = [s.event_id for s in alert.incident.sources]
        value = json.dumps(
            {"subscription_id": alert.subscription_id, "incident_id": alert.incident_id, "events": events}
        ).encode()
        self._produce(self.delivered_topic, alert.id.encode(), value)
        with self._lock:
            self._delivered.add(alert.id)
            self._remember(alert.subscription_id, alert.incident_id, events)

    def _produce(self, topic: str, key: bytes, value: bytes) -> None:
        """Send and wait for the broker's acknowledgement, re-sending while it is away
        (strikewatch.core.kafka.acks): the offset is committed only after this, so nothing is
        lost meanwhile. On stop() the alert stays uncommitted: the next run redoes it."""
        try:
            rejected = self._sender.send_and_wait(topic, key, value)
        except Stopping as e:
            raise InterruptedError("stopping") from e
        if rejected is not None:  # larger than the topic allows: nothing to retry
            log.error("record for %s refused by Kafka, not written: %s", topic, rejected.error)

    def _dead_letter(self, alert: Alert, reason: str, error: str) -> None:
        dl = DeadLetter.of("delivery.webhook", reason, error, redacted(alert).to_bytes(), source=self.alerts_topic)
        self._produce(self.dead_topic, b"delivery", dl.to_bytes())
        self.metrics.deliveries.labels(alert.webhook_format, "dead_letter").inc()

    # ------------------------------------------------------------------ one attempt
    def post(self, alert: Alert) -> None:
        """One attempt; raises ``DeliveryFailure``."""
        if not alert.webhook_url:
            return
        try:
            netguard.split_url(alert.webhook_url)
        except netguard.Blocked as e:
            raise DeliveryFailure(str(e), e.reason, permanent=True) from None
        body = json.dumps(payload(alert, self.web_url)).encode()
        secret = webhooks.subscription_secret(self.secret, alert.subscription_id, alert.webhook_secret_version)
        ctype = "application/cloudevents+json" if alert.webhook_format == "cloudevents" else "application/json"
        headers = {"Content-Type": ctype, **webhooks.sign_headers(secret, alert.id, body)}
        where = netguard.redact_url(alert.webhook_url)
        try:
            # Streamed, and the response body never read: an endpoint answering gigabytes within the deadline
            # costs nothing (httpx's post() would hold the whole answer in memory).
            with (
                netguard.deadline(self.request_deadline_s),
                self._http.stream("POST", alert.webhook_url, content=body, headers=headers) as r,
            ):
                status, retry_header = r.status_code, r.headers.get("retry-after")
        except netguard.Blocked as e:
            raise DeliveryFailure(f"{where}: {e}", e.reason, permanent=e.reason != "unreachable") from None
        except httpx.TimeoutException as e:
            raise DeliveryFailure(f"{where}: timed out ({type(e).__name__})", "timeout", permanent=False) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
            raise DeliveryFailure(f"{where}: invalid URL ({type(e).__name__})", "bad_url", permanent=True) from None
        except httpx.TransportError as e:
            # httpx's messages name the socket error, not the URL; the type and errno are all we keep.
            raise DeliveryFailure(
                f"{where}: {type(e).__name__}: {str(e)[:200]}", "unreachable", permanent=False
            ) from None
        if 200 <= status < 300:
            return
        retryable = status in (408, 429) or status >= 500
        retry_after = parse_retry_after(retry_header) if status in (429, 503) else None
        raise DeliveryFailure(
            f"{where} answered HTTP {status}",
            "webhook_failed" if retryable else "webhook_rejected",
            permanent=not retryable,
            retry_after=retry_after,
        )

    def _post_through_circuit(self, alert: Alert) -> None:
        """``post``, unless the endpoint's circuit is open: then fail fast (no request), retryable, with the
        retry no sooner than the circuit lets a probe through."""
        endpoint = endpoint_of(alert.webhook_url)
        with self._lock:
            circuit = self._circuits.get(endpoint)
            allowed = circuit is None or circuit.allow(time.monotonic())
            wait = 0.0 if allowed else circuit.retry_in(time.monotonic())
        if not allowed:
            self.metrics.deliveries.labels(alert.webhook_format, "circuit_open").inc()
            raise DeliveryFailure(
                f"{netguard.redact_url(alert.webhook_url)}: circuit open after {circuit.failures} "
                "timeouts or connection failures in a row; no request sent",
                "circuit_open",
                permanent=False,
                retry_after=max(wait, 0.05),
            )
        ok = False
        try:
            self.post(alert)
            ok = True
        except DeliveryFailure as e:
            ok = e.reason not in BREAKER_REASONS
            raise
        finally:  # always: a probe whose result went unrecorded would hold its circuit open for good
            self._circuit_result(endpoint, ok)

    def _circuit_result(self, endpoint: str, ok: bool) -> None:
        with self._lock:
            circuit = self._circuits.get(endpoint)
            if circuit is None:
                if ok:
                    return
                circuit = self._circuits[endpoint] = CircuitBreaker(self.breaker_failures, self.breaker_open_s)
            opened = circuit.record(ok, time.monotonic())
            if ok:
                del self._circuits[endpoint]
            self.metrics.circuits_open.set(sum(c.is_open for c in self._circuits.values()))
        if opened:
            self.metrics.circuits_opened.inc()
            log.warning(
                "circuit of %s open for %.0f s after %d timeouts or connection failures in a row",
                endpoint,
                circuit.open_s,
                circuit.failures,
            )

    def retry_window_s(self) -> float:
        """The longest an alert's retries take (every delay at the top of its jitter)."""
        return sum(self.retry_delays_s) * (1 + JITTER_FRACTION)

    def backoff(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (0-based), jittered."""
        return self.retry_delays_s[attempt] * (1 + self.rng.uniform(-JITTER_FRACTION, JITTER_FRACTION))

    def attempt(self, alert: Alert, attempt: int, since: float | None = None) -> tuple[str, float | None]:
        """Try one delivery: (outcome, None) when the alert is finished with, ("retry", seconds) after a failed
        request, or ("held", seconds) while its endpoint's circuit is open (no request made, so no retry
        used up: a webhook down for a minute still loses nothing). ``since``: monotonic time of the alert's
        first try; held past the whole retry window, it is dead-lettered like one that used its retries."""
        with self._lock:
            if alert.id in self._delivered:
                return "duplicate_skipped", None
        if self._already_reported(alert):
            self._mark_delivered(alert)  # its later replays are plain duplicates
            self.metrics.deliveries.labels(alert.webhook_format, "duplicate_incident").inc()
            log.info(
                "alert %s skipped: incident %s repeats reports already delivered to %s",
                alert.id,
                alert.incident_id,
                alert.subscription_id,
            )
            return "duplicate_incident_skipped", None
        try:
            self._post_through_circuit(alert)
        except DeliveryFailure as e:
            if e.permanent:
                log.warning(
                    "alert %s of %s dead-lettered at once (%s): %s", alert.id, alert.subscription_id, e.reason, e
                )
                self._dead_letter(alert, e.reason, str(e))
                return "dead_letter", None
            if e.reason == "circuit_open":
                waited = time.monotonic() - since if since is not None else 0.0
                if waited < self.retry_window_s():
                    log.debug("alert %s of %s held: %s", alert.id, alert.subscription_id, e)
                    return "held", max(e.retry_after or 0.0, self.backoff(min(attempt, len(self.retry_delays_s) - 1)))
                log.warning(
                    "alert %s of %s failed: %s, for longer than its retries last", alert.id, alert.subscription_id, e
                )
                self._dead_letter(alert, "webhook_failed", str(e))
                return "dead_letter", None
            self.metrics.deliveries.labels(alert.webhook_format, "retry").inc()
            if attempt >= len(self.retry_delays_s):
                log.warning("alert %s of %s failed its last try (%s): %s", alert.id, alert.subscription_id, e.reason, e)
                self._dead_letter(alert, "webhook_failed", str(e))
                return "dead_letter", None
            delay = e.retry_after if e.retry_after is not None else self.backoff(attempt)
            log.warning(
                "alert %s of %s failed (attempt %d, %s), next try in %.1f s: %s",
                alert.id,
                alert.subscription_id,
                attempt + 1,
                e.reason,
                delay,
                e,
            )
            return "retry", delay
        self._mark_delivered(alert)
        self.metrics.deliveries.labels(alert.webhook_format, "delivered").inc()
        now = time.time()
        self.metrics.latency.observe(max(0.0, now - alert.created_at.timestamp()))
        pubs = [s.published_at for s in alert.incident.sources if s.published_at]
        if pubs:
            self.metrics.published_to_delivered.observe(max(0.0, now - min(pubs).timestamp()))
        return "delivered", None

    def handle(self, alert: Alert) -> str:
        """Deliver one alert here and now, retries included (blocking); ``run`` uses queues instead."""
        since, n = time.monotonic(), 0
        while True:
            outcome, delay = self.attempt(alert, n, since)
            if outcome not in ("retry", "held"):
                return outcome
            n += outcome == "retry"
            if self._stop.wait(delay or 0):
                raise InterruptedError("stopping")

    # ------------------------------------------------------------------ queues
    def _work(self, lane: _Lane) -> None:
        """One attempt for the head of a lane (a worker thread). ``busy`` is cleared last, so the dispatcher
        never sees the lane free before its head and ``ready_at`` are up to date."""
        item = lane.items[0]
        if item.since is None:
            item.since = time.monotonic()
        try:
            outcome, delay = self.attempt(item.alert, item.attempt, item.since)
        except InterruptedError:
            self._release(lane)
            return  # stopping: left pending (uncommitted) and busy, so nothing dispatches it again
        except Exception:  # noqa: BLE001 - a bug with one alert must not stop its queue for ever
            log.exception("alert %s: unexpected error; retrying", item.alert.id)
            outcome, delay = "retry", self.backoff(min(item.attempt, len(self.retry_delays_s) - 1))
        if outcome == "held":
            lane.ready_at = time.monotonic() + (delay or 0)
        elif outcome == "retry" and item.attempt < len(self.retry_delays_s):
            item.attempt += 1
            lane.ready_at = time.monotonic() + (delay or 0)
        else:
            lane.items.popleft()
            lane.ready_at = 0.0
            self._finish(item.partition, item.offset)
        self._release(lane)
        lane.busy = False

    def _take(self, lane: _Lane) -> bool:
        """Reserve a worker for ``lane`` if one is free within its owner's and its endpoint's share (those of
        its head alert: a subscription's URL can change between alerts)."""
        head = lane.items[0].alert
        owner, endpoint = head.owner, endpoint_of(head.webhook_url)
        with self._lock:
            if (
                self._active >= self.workers
                or self._active_by.get("o:" + owner, 0) >= self.share_per_owner
                or self._active_by.get("e:" + endpoint, 0) >= self.share_per_endpoint
            ):
                return False
            lane.owner, lane.endpoint = owner, endpoint  # what _release gives back
            self._active += 1
            for k in ("o:" + lane.owner, "e:" + lane.endpoint):
                self._active_by[k] = self._active_by.get(k, 0) + 1
            return True

    def _release(self, lane: _Lane) -> None:
        with self._lock:
            self._active -= 1
            for k in ("o:" + lane.owner, "e:" + lane.endpoint):
                n = self._active_by.get(k, 0) - 1
                if n > 0:
                    self._active_by[k] = n
                else:
                    self._active_by.pop(k, None)

    def _finish(self, partition: tuple[str, int], offset: int) -> None:
        with self._lock:
            self._pending[partition].discard(offset)

    def _enqueue(self, r) -> None:
        part = (r.topic, r.partition)
        with self._lock:
            self._pending.setdefault(part, set()).add(r.offset)
            self._high[part] = max(self._high.get(part, 0), r.offset + 1)
        try:
            alert = Alert.from_bytes(r.value)
        except ValueError as e:
            dl = DeadLetter.of("delivery.decode", "schema_mismatch", e, r.value, self.alerts_topic)
            self._produce(self.dead_topic, b"delivery", dl.to_bytes())
            self._finish(part, r.offset)
            return
        self._lanes.setdefault(alert.subscription_id, _Lane()).items.append(_Item(part, r.offset, alert))

    def _dispatch(self, pool: ThreadPoolExecutor) -> None:
        """Hand ready queues to free workers, within the fair shares. Nothing waits in the pool's own queue
        (handing every ready queue to it put a subscriber behind all 80 of another's slow requests); the
        queue that went first moves to the back, so queues over their share take turns."""
        now = time.monotonic()
        for sub_id, lane in list(self._lanes.items()):
            if lane.busy:
                continue
            if not lane.items:
                del self._lanes[sub_id]  # idle queues go: memory follows the active subscriptions
                continue
            if lane.ready_at <= now and self._take(lane):
                lane.busy = True
                self._lanes[sub_id] = self._lanes.pop(sub_id)  # to the back: round robin
                pool.submit(self._work, lane)

    def _commit(self) -> None:
        """Commit each partition up to its first unfinished offset."""
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError

        with self._lock:
            todo = {p: (min(pend) if pend else self._high[p]) for p, pend in self._pending.items()}
        offsets = {
            TopicPartition(*p): OffsetAndMetadata(o, "", -1) for p, o in todo.items() if self._committed.get(p) != o
        }
        if not offsets:
            return
        try:
            self._consumer.commit(offsets)
            self._committed.update({(tp.topic, tp.partition): om.offset for tp, om in offsets.items()})
        except KafkaError as e:  # re-read after a restart, then skipped as delivered
            log.warning("offset commit failed (%s): %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in offsets), e)

    def in_flight(self) -> int:
        with self._lock:
            return sum(len(p) for p in self._pending.values())

    def run(self, max_idle_s: float | None = None) -> None:
        """Consume alerts into per-subscription queues until ``stop()`` (or, with ``max_idle_s``, until
        nothing was read and nothing was in flight for that long)."""
        state = {"busy": 0, "paused": False, "last_commit": 0.0}

        def before_poll() -> None:
            # Above MAX_IN_FLIGHT alerts in the queues the partitions pause (memory), below half they resume.
            state["busy"] = busy = self.in_flight()
            if busy >= MAX_IN_FLIGHT and not state["paused"]:
                self._consumer.pause(*self._consumer.assignment())
                state["paused"] = True
            elif busy < MAX_IN_FLIGHT // 2 and state["paused"]:
                self._consumer.resume(*self._consumer.paused())
                state["paused"] = False

        def handle(batch: dict) -> bool:
            for records in batch.values():
                for r in records:
                    self._enqueue(r)
            self._dispatch(pool)
            if time.monotonic() - state["last_commit"] > COMMIT_INTERVAL_S or not state["busy"]:
                self._commit()  # each partition up to its first unfinished alert
                state["last_commit"] = time.monotonic()
            return bool(state["busy"])

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="deliver") as pool:
            try:
                consume(
                    self._consumer,
                    handle,
                    self._stop,
                    poll_s=POLL_S,
                    retry_s=KAFKA_RETRY_S,
                    max_idle_s=max_idle_s,
                    before_poll=before_poll,
                )
            finally:
                self._commit()  # what finished so far
                self._stop.set()  # workers finish their attempt and leave the rest pending (uncommitted)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._consumer.close()
        self._sender.close()
        self._http.close()


def deliver_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch deliver", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.parse_args(argv)
    s = DeliverySettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = serve(s.metrics_port, addr=s.metrics_host) if s.metrics_port else None
    d = Deliverer(
        s.kafka,
        s.webhook_hmac_secret.get_secret_value().encode(),
        s.consumer_group,
        allow_private=s.allow_private_hosts,
        web_url=s.web_url or None,
    )
    stop_on_signals(d.stop)
    try:
        d.run()
    finally:
        d.close()
        if server is not None:
            server.shutdown()
    return 0

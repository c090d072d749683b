"""The subscription API (FastAPI) and its CLI.

    strikewatch api                                   # serve on 127.0.0.1:8088
    strikewatch subscriptions create --name iraq --country Iraq --event-type air_strike --webhook http://host/hook
    strikewatch subscriptions list
    strikewatch subscriptions delete SUB_ID

Requests carry ``X-API-Key``; each key maps to one subscriber (owner), who sees and
deletes only their own subscriptions. Subscriptions live in the compacted topic
``strikewatch.subscriptions`` (key = id; deletion = tombstone), which the pipeline reads
live; the API reads the topic whole on start, so it holds no state of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field

from . import topics
from .metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from .models import EventType, Subscription
from .settings import ApiSettings


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(requests=Counter("strikewatch_api_requests_total", "API requests", ["route", "status"], registry=registry))


METRICS = make_metrics()


class SubscriptionIn(BaseModel):
    name: str = ""
    event_types: list[EventType] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    min_severity: float = Field(0.0, ge=0, le=1)
    min_escalation: float = Field(0.0, ge=0, le=1)
    notify_on: list[Literal["new_incident", "update"]] = Field(default_factory=lambda: ["new_incident", "update"])
    webhook_url: str | None = None
    webhook_format: Literal["cloudevents", "slack", "alertmanager"] = "cloudevents"


class SubscriptionStore:
    """Subscriptions by id, backed by the compacted topic."""

    def __init__(self, bootstrap: str, topic: str = topics.SUBSCRIPTIONS.name):
        from kafka import KafkaProducer

        self._topic, self._bootstrap = topic, bootstrap
        self._producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        self._subs: dict[str, Subscription] = {}
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        from kafka import KafkaConsumer, TopicPartition

        c = KafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
        try:
            parts = [TopicPartition(self._topic, p) for p in (c.partitions_for_topic(self._topic) or [])]
            if not parts:
                return
            c.assign(parts)
            c.seek_to_beginning(*parts)
            ends = c.end_offsets(parts)
            while any(c.position(tp) < ends[tp] for tp in parts):
                for recs in c.poll(timeout_ms=500).values():
                    for r in recs:
                        if r.value is None:
                            self._subs.pop(r.key.decode(), None)
                        else:
                            try:
                                s = Subscription.from_bytes(r.value)
                            except ValueError:
                                continue  # junk on the topic: the pipeline dead-letters it
                            self._subs[s.id] = s
        finally:
            c.close()

    def list(self, owner: str) -> list[Subscription]:
        with self._lock:
            return [s for s in self._subs.values() if s.owner == owner]

    def get(self, owner: str, sub_id: str) -> Subscription | None:
        s = self._subs.get(sub_id)
        return s if s is not None and s.owner == owner else None

    def put(self, sub: Subscription) -> None:
        self._producer.send(self._topic, key=sub.id.encode(), value=sub.to_bytes()).get(timeout=30)
        with self._lock:
            self._subs[sub.id] = sub

    def delete(self, sub_id: str) -> None:
        self._producer.send(self._topic, key=sub_id.encode(), value=None).get(timeout=30)
        with self._lock:
            self._subs.pop(sub_id, None)

    def close(self) -> None:
        self._producer.close()


def parse_keys(spec: str) -> dict[str, str]:
    out = {}
    for pair in spec.split(","):
        if "=" in pair:
            k, owner = pair.split("=", 1)
            if k.strip():
                out[k.strip()] = owner.strip()
    return out


def create_app(settings: ApiSettings, store: SubscriptionStore):
    from fastapi import Depends, FastAPI, Header, HTTPException, Response
    from fastapi.responses import PlainTextResponse
    from prometheus_client import generate_latest

    keys = parse_keys(settings.api_keys.get_secret_value())
    app = FastAPI(title="strikewatch subscriptions", version="1")

    def owner_of(x_api_key: str | None = Header(default=None)) -> str:
        owner = keys.get(x_api_key or "")
        if owner is None:
            METRICS.requests.labels("auth", "401").inc()
            raise HTTPException(status_code=401, detail="missing or unknown X-API-Key")
        return owner

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics():
        return generate_latest(REGISTRY).decode()

    @app.post("/subscriptions", status_code=201, response_model=Subscription)
    def create(body: SubscriptionIn, owner: str = Depends(owner_of)):
        sub = Subscription(id="sub_" + uuid.uuid4().hex[:16], owner=owner, created_at=datetime.now(timezone.utc), **body.model_dump())
        store.put(sub)
        METRICS.requests.labels("create", "201").inc()
        return sub

    @app.get("/subscriptions", response_model=list[Subscription])
    def list_(owner: str = Depends(owner_of)):
        METRICS.requests.labels("list", "200").inc()
        return store.list(owner)

    @app.get("/subscriptions/{sub_id}", response_model=Subscription)
    def get(sub_id: str, owner: str = Depends(owner_of)):
        sub = store.get(owner, sub_id)
        if sub is None:  # another owner's id looks exactly like a missing one
            METRICS.requests.labels("get", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        return sub

    @app.delete("/subscriptions/{sub_id}", status_code=204)
    def delete(sub_id: str, owner: str = Depends(owner_of)):
        if store.get(owner, sub_id) is None:
            METRICS.requests.labels("delete", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        store.delete(sub_id)
        METRICS.requests.labels("delete", "204").inc()
        return Response(status_code=204)

    from .web import mount  # the read API (/v1), its OpenAPI key scheme and the web app at /

    mount(app, settings, owner_of)
    return app


def api_main(argv: list[str] | None = None) -> int:
    import uvicorn

    ap = argparse.ArgumentParser(prog="strikewatch api", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=None)
    args = ap.parse_args(argv)
    s = ApiSettings()
    store = SubscriptionStore(s.bootstrap_servers)
    try:
        # uvicorn handles SIGTERM: it stops accepting, finishes requests, then returns.
        # timeout_graceful_shutdown: /v1/stream responses never end by themselves; 5 s lets
        # other requests finish, then they are closed (clients reconnect).
        uvicorn.run(create_app(s, store), host=s.host, port=args.port or s.port, log_level="info", timeout_graceful_shutdown=5)
    finally:
        store.close()
    return 0


def subscriptions_main(argv: list[str] | None = None) -> int:
    import httpx

    ap = argparse.ArgumentParser(prog="strikewatch subscriptions", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("--name", default="")
    c.add_argument("--event-type", action="append", default=[])
    c.add_argument("--actor", action="append", default=[])
    c.add_argument("--country", action="append", default=[])
    c.add_argument("--bbox", type=float, nargs=4, metavar=("MIN_LON", "MIN_LAT", "MAX_LON", "MAX_LAT"))
    c.add_argument("--min-severity", type=float, default=0.0)
    c.add_argument("--min-escalation", type=float, default=0.0)
    c.add_argument("--updates", choices=["yes", "no"], default="yes", help="also alert on incident updates")
    c.add_argument("--webhook")
    c.add_argument("--format", choices=["cloudevents", "slack", "alertmanager"], default="cloudevents")
    sub.add_parser("list")
    d = sub.add_parser("delete")
    d.add_argument("id")
    args = ap.parse_args(argv)
    s = ApiSettings()
    headers = {"X-API-Key": s.api_key.get_secret_value()}
    with httpx.Client(base_url=s.api_url, headers=headers, timeout=10, trust_env=False) as http:
        if args.cmd == "create":
            body = {"name": args.name, "event_types": args.event_type, "actors": args.actor, "countries": args.country, "bbox": args.bbox,
                    "min_severity": args.min_severity, "min_escalation": args.min_escalation,
                    "notify_on": ["new_incident", "update"] if args.updates == "yes" else ["new_incident"],
                    "webhook_url": args.webhook, "webhook_format": args.format}
            r = http.post("/subscriptions", json=body)
        elif args.cmd == "list":
            r = http.get("/subscriptions")
        else:
            r = http.delete(f"/subscriptions/{args.id}")
    if r.status_code >= 400:
        print(f"strikewatch subscriptions: HTTP {r.status_code}: {r.text}", file=sys.stderr)
        return 1
    if r.content:
        print(json.dumps(r.json(), indent=2))
    return 0

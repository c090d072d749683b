"""The subscription API (FastAPI) and its CLI.

    strikewatch api [--dev]                           # serve on 127.0.0.1:8088
    strikewatch subscriptions create --name iraq --country Iraq --event-type air_strike --webhook https://host/hook
    strikewatch subscriptions list
    strikewatch subscriptions rotate-secret SUB_ID
    strikewatch subscriptions delete SUB_ID

Requests carry ``X-API-Key``; each key maps to one subscriber (owner), who sees and
deletes only their own subscriptions. Subscriptions live in the compacted topic
``strikewatch.subscriptions`` (key = id; deletion = tombstone), which the pipeline reads
live; the API reads the topic whole on start, so it holds no state of its own.

Hostile requests:

* the body is limited (``max_body_bytes``, 413) by an ASGI middleware that counts bytes as they arrive,
  chunked or not, before anything parses them; a body-carrying request without a valid key is answered
  401 before its body is read;
* keys are kept as SHA-256 digests (the setting may hold digests only) and compared in constant time;
  each key has a token-bucket rate limit (429 with Retry-After), each owner a subscription quota (403);
* every field is validated (422): lengths of strings and lists, non-empty actor and country names, a bbox
  of finite, in-range, ordered coordinates, finite thresholds in [0, 1], no unknown fields, a webhook URL
  that is http(s) and passes the SSRF guard (``strikewatch.netguard``) when it is created;
* a subscription with a webhook gets its own signing secret (``strikewatch/webhooks.py``), shown once in
  the 201 response and again only by ``POST /subscriptions/{id}/rotate-secret``, which replaces it;
* ``strikewatch api`` refuses to start on the demo key or the dev webhook secret unless ``--dev`` is given
  (``strikewatch run`` passes it on the local stack).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import math
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import Header, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from . import netguard, topics, webhooks
from .kafka import AckedSender, KafkaConfig, read_compacted
from .metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from .models import AlertKind, EventType, Grade, Subscription
from .settings import DEV_API_KEY, DEV_WEBHOOK_SECRET, ApiSettings

# Field limits (422 beyond). Names and places in the gazetteers are < 60 characters; 100 leaves room.
MAX_NAME_CHARS = 200
MAX_TERM_CHARS = 100
MAX_TERMS = 50  # actors or countries per subscription: a filter, not a list of everything
MAX_URL_CHARS = 2000  # browsers' practical limit; Slack's webhook URLs are ~80


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(requests=Counter("strikewatch_api_requests_total", "API requests", ["route", "status"], registry=registry))


METRICS = make_metrics()

Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TERM_CHARS)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=MAX_NAME_CHARS)
    event_types: list[EventType] = Field(default_factory=list, max_length=len(EventType))
    actors: list[Term] = Field(default_factory=list, max_length=MAX_TERMS)
    countries: list[Term] = Field(default_factory=list, max_length=MAX_TERMS)
    bbox: tuple[Lon, Lat, Lon, Lat] | None = None  # min_lon, min_lat, max_lon, max_lat
    min_severity: Unit = 0.0
    min_escalation: Unit = 0.0
    min_independent_sources: int = Field(0, ge=0, le=1000)
    contested: bool | None = None
    grades: list[Grade] = Field(default_factory=list, max_length=4)
    notify_on: list[AlertKind] = Field(default_factory=lambda: ["new_incident", "update"], min_length=1, max_length=4)
    webhook_url: str | None = Field(None, max_length=MAX_URL_CHARS)
    webhook_format: Literal["cloudevents", "slack", "alertmanager"] = "cloudevents"

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None:
            try:
                netguard.split_url(url)
            except netguard.Blocked as e:
                raise ValueError(str(e)) from None
        return url

    @model_validator(mode="after")
    def _bbox_in_order(self) -> SubscriptionIn:
        # A box across the antimeridian would need min_lon > max_lon; the matcher does not read it that way,
        # so it is refused rather than silently matching the rest of the world.
        if self.bbox is not None and not (self.bbox[0] < self.bbox[2] and self.bbox[1] < self.bbox[3]):
            raise ValueError("bbox must be [min_lon, min_lat, max_lon, max_lat] with min < max")
        return self


class RotatedSecret(BaseModel):
    id: str
    secret_version: int
    webhook_secret: str


# Seconds a subscription write may wait for the broker's acknowledgement before the
# request fails (the client sees a 500 and may retry; the write is idempotent).
PUT_TIMEOUT_S = 30.0


class SubscriptionStore:
    """Subscriptions by id, backed by the compacted topic."""

    def __init__(self, kafka: KafkaConfig | str, topic: str = topics.SUBSCRIPTIONS.name):
        self._topic = topic
        self._sender = AckedSender(kafka, backoff_s=1.0, give_up_s=PUT_TIMEOUT_S)
        self._subs: dict[str, Subscription] = {}
        self._lock = threading.Lock()
        self._load(self._sender.config)

    def _load(self, kafka: KafkaConfig) -> None:
        for key, value in read_compacted(kafka, self._topic).items():
            if value is None:
                continue
            try:
                s = Subscription.from_bytes(value)
            except ValueError:
                continue  # junk on the topic: the pipeline dead-letters it
            self._subs[s.id] = s

    def _write(self, key: bytes, value: bytes | None) -> None:
        rejected = self._sender.send_and_wait(self._topic, key, value)
        if rejected is not None:
            raise ValueError(f"subscription record refused by Kafka: {rejected.error}")

    def list(self, owner: str) -> list[Subscription]:
        with self._lock:
            return [s for s in self._subs.values() if s.owner == owner]

    def get(self, owner: str, sub_id: str) -> Subscription | None:
        s = self._subs.get(sub_id)
        return s if s is not None and s.owner == owner else None

    def put(self, sub: Subscription) -> None:
        self._write(sub.id.encode(), sub.to_bytes())
        with self._lock:
            self._subs[sub.id] = sub

    def delete(self, sub_id: str) -> None:
        self._write(sub_id.encode(), None)
        with self._lock:
            self._subs.pop(sub_id, None)

    def close(self) -> None:
        self._sender.close()


class KeyRing:
    """API keys as SHA-256 digests. ``spec``: "key=owner" or "sha256:<hex digest>=owner", comma-separated.
    ``lookup`` hashes the presented key and compares it with every digest in constant time."""

    def __init__(self, spec: str):
        self._entries: list[tuple[bytes, str]] = []
        for pair in spec.split(","):
            if "=" not in pair:
                continue
            key, owner = (x.strip() for x in pair.split("=", 1))
            if not key or not owner:
                continue
            if key.startswith("sha256:"):
                digest = bytes.fromhex(key.removeprefix("sha256:"))
                if len(digest) != 32:
                    raise ValueError("an api_keys digest must be 64 hex digits")
            else:
                digest = hashlib.sha256(key.encode()).digest()
            self._entries.append((digest, owner))

    def __repr__(self) -> str:
        return f"KeyRing({len(self._entries)} keys)"

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: str | None) -> tuple[str, str] | None:
        """(owner, key id) of a valid key, else None. The key id is a digest prefix: for rate limits and
        logs, never the key."""
        if not key:
            return None
        presented = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        found = None
        for digest, owner in self._entries:  # no early exit: every entry is compared
            if hmac.compare_digest(presented, digest) and found is None:
                found = (owner, digest.hex()[:12])
        return found

    def has(self, key: str) -> bool:
        return self.lookup(key) is not None

    __contains__ = has  # "dev-key" in ring


def parse_keys(spec: str) -> KeyRing:
    return KeyRing(spec)


class RateLimiter:
    """Token bucket per key: ``rate`` tokens a second, at most ``burst`` held."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at); bounded by the key count
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 if a request may go now, else the seconds until one may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate


class BodyLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` (413) while it streams in, chunked or not, before
    the app parses it; answer 401 to a body-carrying request with no valid key before reading its body.
    The app then reads the (bounded) body this middleware buffered."""

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, app, max_bytes: int, keyring: KeyRing):
        self.app, self.max_bytes, self.keyring = app, max_bytes, keyring

    async def _refuse(self, scope, receive, send, status: int, detail: str) -> None:
        from starlette.responses import JSONResponse

        METRICS.requests.labels("body", str(status)).inc()
        response = JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})
        await response(scope, receive, send)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return await self._refuse(scope, receive, send, 400, "invalid Content-Length")
            if int(declared) > self.max_bytes:
                return await self._refuse(scope, receive, send, 413, f"request body over {self.max_bytes} bytes")
        has_body = (scope["method"] in self.BODY_METHODS or declared not in (None, b"0")
                    or b"transfer-encoding" in headers)
        if not has_body:
            return await self.app(scope, receive, send)
        key = headers.get(b"x-api-key", b"").decode("latin-1")
        if self.keyring.lookup(key) is None:
            return await self._refuse(scope, receive, send, 401, "missing or unknown X-API-Key")
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(scope, receive, send, 413, f"request body over {self.max_bytes} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)


async def owner_of(request: Request, x_api_key: str | None = Header(default=None)) -> str:
    """The one key dependency of every route (modules adding routes use it too): the owner of a valid
    ``X-API-Key`` (401 otherwise), within its rate limit (429 with Retry-After otherwise).

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread pool,
    a hand-off to a worker thread and back on every request (a SHA-256 and a dict lookup need none)."""
    from fastapi import HTTPException

    state = request.app.state
    found = state.keyring.lookup(x_api_key)
    if found is None:
        METRICS.requests.labels("auth", "401").inc()
        raise HTTPException(status_code=401, detail="missing or unknown X-API-Key")
    owner, key_id = found
    wait = state.limiter.take(key_id)
    if wait > 0:
        METRICS.requests.labels("auth", "429").inc()
        raise HTTPException(status_code=429, detail="rate limit exceeded",
                            headers={"Retry-After": str(math.ceil(wait))})
    return owner


def create_app(settings: ApiSettings, store: SubscriptionStore):
    from fastapi import Depends, FastAPI, HTTPException, Response
    from fastapi.responses import JSONResponse, PlainTextResponse
    from prometheus_client import generate_latest

    from fastapi.exceptions import RequestValidationError

    app = FastAPI(title="strikewatch subscriptions", version="1")

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        # FastAPI's default echoes each bad input back: a NaN cannot be written as JSON (a 500), and a
        # 60 kB name would be sent back whole. Where, what and why is enough.
        METRICS.requests.labels("validate", "422").inc()
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:300], "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.state.keyring = KeyRing(settings.api_keys.get_secret_value())
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, keyring=app.state.keyring)
    master = settings.webhook_hmac_secret.get_secret_value().encode()
    guard = netguard.Guard(settings.allow_private_hosts)
    quota_lock = threading.Lock()

    def vet_webhook(url: str | None) -> None:
        if url is None:
            return
        try:
            guard.check_url(url)
        except netguard.Blocked as e:
            METRICS.requests.labels("create", "422").inc()
            raise HTTPException(status_code=422, detail=[{"loc": ["body", "webhook_url"], "type": e.reason,
                                                          "msg": f"webhook URL refused: {e}"}]) from None

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics():
        return generate_latest(REGISTRY).decode()

    @app.post("/subscriptions", status_code=201, response_model=Subscription)
    def create(body: SubscriptionIn, owner: str = Depends(owner_of)):
        vet_webhook(body.webhook_url)
        with quota_lock:
            if len(store.list(owner)) >= settings.max_subscriptions_per_owner:
                METRICS.requests.labels("create", "403").inc()
                raise HTTPException(status_code=403,
                                    detail=f"subscription quota reached ({settings.max_subscriptions_per_owner})")
            sub = Subscription(id="sub_" + uuid.uuid4().hex[:16], owner=owner, created_at=datetime.now(timezone.utc),
                               **body.model_dump())
            store.put(sub)
        METRICS.requests.labels("create", "201").inc()
        out = json.loads(sub.model_dump_json())
        if sub.webhook_url:  # shown this once; the deliverer derives it again from the master secret
            out["webhook_secret"] = webhooks.subscription_secret(master, sub.id, sub.secret_version)
        return JSONResponse(out, status_code=201)

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

    @app.post("/subscriptions/{sub_id}/rotate-secret", response_model=RotatedSecret)
    def rotate(sub_id: str, owner: str = Depends(owner_of)):
        """A new webhook secret (the old one stops verifying for alerts made from now on)."""
        sub = store.get(owner, sub_id)
        if sub is None:
            METRICS.requests.labels("rotate", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        new = sub.model_copy(update={"secret_version": sub.secret_version + 1})
        store.put(new)
        METRICS.requests.labels("rotate", "200").inc()
        return RotatedSecret(id=new.id, secret_version=new.secret_version,
                             webhook_secret=webhooks.subscription_secret(master, new.id, new.secret_version))

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


def dev_defaults_in_use(s: ApiSettings) -> list[str]:
    """The demo credentials these settings still hold (what ``strikewatch api`` refuses without --dev)."""
    found = []
    if KeyRing(s.api_keys.get_secret_value()).has(DEV_API_KEY):
        found.append(f"the demo API key {DEV_API_KEY!r} (set STRIKEWATCH_API_KEYS)")
    if s.webhook_hmac_secret.get_secret_value() == DEV_WEBHOOK_SECRET:
        found.append("the dev webhook secret (set STRIKEWATCH_WEBHOOK_HMAC_SECRET)")
    return found


def api_main(argv: list[str] | None = None) -> int:
    import uvicorn

    ap = argparse.ArgumentParser(prog="strikewatch api", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--dev", action="store_true", help="allow the demo key and dev webhook secret (local stack only)")
    args = ap.parse_args(argv)
    s = ApiSettings()
    dev = dev_defaults_in_use(s)
    if dev and not args.dev:
        print("strikewatch api: refusing to start with " + " and ".join(dev) + "; --dev allows them on a local stack",
              file=sys.stderr)
        return 2
    store = SubscriptionStore(s.kafka)
    try:
        # uvicorn handles SIGTERM: it stops accepting, finishes requests, then returns.
        # timeout_graceful_shutdown: /v1/stream responses never end by themselves; 5 s lets
        # other requests finish, then they are closed (clients reconnect).
        uvicorn.run(create_app(s, store), host=s.host, port=args.port or s.port, log_level="info",
                    access_log=s.access_log, timeout_graceful_shutdown=5)
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
    rot = sub.add_parser("rotate-secret", help="replace a subscription's webhook secret (printed once)")
    rot.add_argument("id")
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
        elif args.cmd == "rotate-secret":
            r = http.post(f"/subscriptions/{args.id}/rotate-secret")
        else:
            r = http.delete(f"/subscriptions/{args.id}")
    if r.status_code >= 400:
        print(f"strikewatch subscriptions: HTTP {r.status_code}: {r.text}", file=sys.stderr)
        return 1
    if r.content:
        print(json.dumps(r.json(), indent=2))
    return 0

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
  wrong keys are throttled per client address (``FailedKeys``: a bucket of ``failed_key_burst`` refilled
  at ``failed_key_rate_per_s``; an address that emptied it is answered 429 until it refills, whatever
  key it sends), in bounded memory;
* every response carries security headers (``SecurityHeaders``: CSP, X-Frame-Options, nosniff,
  Referrer-Policy; no-store on the API's answers); a method a path does not serve answers 405 with every
  method it does serve in ``Allow``;
* every field is validated (422): lengths of strings and lists, non-empty actor and country names, a bbox
  of finite, in-range, ordered coordinates, finite thresholds in [0, 1], no unknown fields, a webhook URL
  that is http(s) and passes the SSRF guard (``strikewatch.core.netguard``) when it is created;
* a subscription with a webhook gets its own signing secret (``strikewatch/services/webhooks.py``), shown once in
  the 201 response and again only by ``POST /subscriptions/{id}/rotate-secret``, which replaces it;
* ``strikewatch api`` refuses to start on the demo key or the dev webhook secret unless ``--dev`` is given
  (``strikewatch run`` passes it on the local stack).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import ipaddress
import json
import math
import sys
import threading
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Header, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from strikewatch.core import netguard, topics
from strikewatch.core.kafka import AckedSender, KafkaConfig, read_compacted
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.core.models import AlertKind, EventType, Grade, Subscription
from strikewatch.core.settings import DEV_API_KEY, DEV_WEBHOOK_SECRET, ApiSettings
from strikewatch.services import webhooks
from strikewatch.services.web.schemas import Error, SubscriptionCreated

# Field limits (422 beyond). Names and places in the gazetteers are < 60 characters; 100 leaves room.
MAX_NAME_CHARS = 200
MAX_TERM_CHARS = 100
MAX_TERMS = 50  # actors or countries per subscription: a filter, not a list of everything
MAX_URL_CHARS = 2000  # browsers' practical limit; Slack's webhook URLs are ~80


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        requests=Counter("strikewatch_api_requests_total", "API requests", ["route", "status"], registry=registry)
    )


METRICS = make_metrics()

# A name in a filter: at most MAX_TERM_CHARS as sent, at least one character that is not ASCII white space,
# stored stripped of it. (Stripping first, as before, measured the length after the strip and took Python's
# wider idea of white space: neither is what the OpenAPI document can say, so neither is what it said.)
BLANK = " \t\n\r\f\v"
Term = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TERM_CHARS, pattern=r"[^ \t\n\r\f\v]"),
    AfterValidator(lambda s: s.strip(BLANK)),
]
# http(s), a host, no white space: what netguard.split_url accepts; whether the host is public is asked of
# DNS when the subscription is created (422 otherwise), which no document can state.
WEBHOOK_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[^\s\x00-\x1f/?#@]*@)?(?:[^\s\x00-\x1f/?#@:\[\]]+|\[[0-9A-Fa-f:.]+\])"
    r"(?::[0-9]{1,5})?(?:[/?#][^\s\x00-\x1f]*)?$"
)
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
    webhook_url: str | None = Field(
        None,
        max_length=MAX_URL_CHARS,
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN, "format": "uri"},
        description="http(s) URL whose host resolves to public addresses only (checked when created)",
    )
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


class Health(BaseModel):
    ok: bool


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
        for _key, value in read_compacted(kafka, self._topic).items():
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


# Client addresses whose failed keys are counted at once; beyond, the least recently seen is forgotten.
# ~150 bytes each: 10,000 is ~1.5 MB, however many addresses an attacker brings.
FAILED_KEYS_TRACKED = 10_000
IPV6_GROUP_BITS = 64  # one IPv6 client holds a /64: it is counted as one address


def client_address(host: str | None) -> str:
    """The address failed keys are counted under: the IPv4 address, the IPv6 /64, else the name as given."""
    try:
        ip = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "?"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_GROUP_BITS}", strict=False))
    return str(ip)


class FailedKeys:
    """Wrong API keys per client address, as a token bucket: each wrong key takes a token (``burst`` at
    most, refilled at ``rate`` a second); an address with none left is refused (``wait``) until one
    refills, whatever key it sends, so guessing keys from one address runs at ``rate`` a second.
    A missing key is no guess and costs nothing. Memory is bounded (FAILED_KEYS_TRACKED addresses)."""

    def __init__(self, rate: float, burst: int, tracked: int = FAILED_KEYS_TRACKED):
        self.rate, self.burst, self.tracked = rate, burst, tracked
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (tokens, at)
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, at = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.rate)

    def wait(self, address: str, now: float | None = None) -> float:
        """0 if this address may try a key now, else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if address not in self._buckets:
                return 0.0
            tokens = self._tokens(address, now)
            return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def failed(self, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1), now)
            self._buckets.move_to_end(address)
            while len(self._buckets) > self.tracked:
                self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


class Refused(Exception):
    """A request the key check turns away: its status, detail and, for 429, the seconds to wait."""

    def __init__(self, status: int, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))} if self.retry_after is not None else {}


def identify(keyring: KeyRing, failed: FailedKeys, key: str | None, host: str | None) -> tuple[str, str]:
    """(owner, key id) of a valid key, from an address not throttled for wrong keys; else Refused."""
    if not key:  # no guess: told what is missing, throttled or not
        raise Refused(401, "missing or unknown X-API-Key")
    address = client_address(host)
    wait = failed.wait(address)
    if wait > 0:
        raise Refused(429, "too many wrong API keys from this address", wait)
    found = keyring.lookup(key)
    if found is None:
        failed.failed(address)
        raise Refused(401, "missing or unknown X-API-Key")
    return found


class BodyLimit:
    """ASGI middleware: refuse a body over ``max_bytes`` (413) while it streams in, chunked or not, before
    the app parses it; answer 401 to a body-carrying request with no valid key before reading its body.
    The app then reads the (bounded) body this middleware buffered."""

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, app, max_bytes: int, keyring: KeyRing, failed: FailedKeys):
        self.app, self.max_bytes, self.keyring, self.failed = app, max_bytes, keyring, failed

    async def _refuse(self, scope, receive, send, status: int, detail: str, headers: dict | None = None) -> None:
        from starlette.responses import JSONResponse

        METRICS.requests.labels("body", str(status)).inc()
        response = JSONResponse(
            {"detail": detail}, status_code=status, headers={"Connection": "close", **(headers or {})}
        )
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
        has_body = (
            scope["method"] in self.BODY_METHODS or declared not in (None, b"0") or b"transfer-encoding" in headers
        )
        if not has_body:
            return await self.app(scope, receive, send)
        key = headers.get(b"x-api-key", b"").decode("latin-1")
        try:
            identify(self.keyring, self.failed, key, (scope.get("client") or ("?",))[0])
        except Refused as e:
            return await self._refuse(scope, receive, send, e.status, e.detail, e.headers())
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
    ``X-API-Key`` (401 otherwise), within its rate limit (429 with Retry-After otherwise), from an address
    not throttled for wrong keys (429). The key's id goes to ``request.state.key_id`` (per-key caps).

    ``async`` although it awaits nothing: FastAPI runs a plain ``def`` dependency in its thread pool,
    a hand-off to a worker thread and back on every request (a SHA-256 and a dict lookup need none)."""
    from fastapi import HTTPException

    state = request.app.state
    try:
        owner, key_id = identify(
            state.keyring, state.failed_keys, x_api_key, request.client.host if request.client else None
        )
    except Refused as e:
        METRICS.requests.labels("auth", str(e.status)).inc()
        raise HTTPException(status_code=e.status, detail=e.detail, headers=e.headers()) from None
    request.state.key_id = key_id
    wait = state.limiter.take(key_id)
    if wait > 0:
        METRICS.requests.labels("auth", "429").inc()
        raise HTTPException(
            status_code=429, detail="rate limit exceeded", headers={"Retry-After": str(math.ceil(wait))}
        )
    return owner


# Security headers (issue 20). The web app loads only its own files (its page also states this CSP in a
# meta tag; a header adds frame-ancestors, which a meta tag cannot); API answers are data, never rendered;
# FastAPI's /docs page loads Swagger UI from its CDN with an inline script.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
API_PATHS = ("/v1", "/subscriptions", "/healthz", "/metrics", "/openapi.json")
DOCS_PATHS = ("/docs", "/redoc")
_COMMON_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """ASGI middleware: CSP, X-Frame-Options, X-Content-Type-Options and Referrer-Policy on every response
    (the outermost layer, so refusals from the other middleware carry them too), and ``Cache-Control:
    no-store`` on API answers that set none (a 201 holds a webhook secret; pages hold what a key may read)."""

    def __init__(self, app):
        self.app = app
        self._api = _COMMON_HEADERS + [(b"content-security-policy", API_CSP.encode())]
        self._docs = _COMMON_HEADERS + [(b"content-security-policy", DOCS_CSP.encode())]
        self._page = _COMMON_HEADERS + [(b"content-security-policy", PAGE_CSP.encode())]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        api = path.startswith(API_PATHS)
        extra = self._api if api else self._docs if path.startswith(DOCS_PATHS) else self._page

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ())) + extra
                if api and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def create_app(settings: ApiSettings, store: SubscriptionStore):
    from fastapi import Depends, FastAPI, HTTPException, Response
    from fastapi.exception_handlers import http_exception_handler
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, PlainTextResponse
    from prometheus_client import generate_latest
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from strikewatch.services.web.routes import single_values

    app = FastAPI(
        title="strikewatch",
        version="1",
        dependencies=[Depends(single_values)],
        description="Strike events and incidents from the news: the read API (/v1), alert subscriptions "
        "(/subscriptions). Every request but /healthz and /metrics carries X-API-Key.",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        # FastAPI's default echoes each bad input back: a NaN cannot be written as JSON (a 500), and a
        # 60 kB name would be sent back whole. Where, what and why is enough.
        METRICS.requests.labels("validate", "422").inc()
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:300], "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        # Starlette names the methods of the first route that matched the path only: /subscriptions has a GET
        # route and a POST route, and a PUT was told "Allow: POST". Every method the path serves:
        allowed: set[str] = set()
        for route in app.router.routes:
            methods = getattr(route, "methods", None)
            if methods and route.path_regex.match(request.scope["path"]):
                allowed |= methods
        return JSONResponse(
            {"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(sorted(allowed))}
        )

    app.state.keyring = KeyRing(settings.api_keys.get_secret_value())
    app.state.limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app.state.failed_keys = FailedKeys(settings.failed_key_rate_per_s, settings.failed_key_burst)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, keyring=app.state.keyring, failed=app.state.failed_keys
    )
    app.add_middleware(SecurityHeaders)  # added last: the outermost
    master = settings.webhook_hmac_secret.get_secret_value().encode()
    guard = netguard.Guard(settings.allow_private_hosts)
    quota_lock = threading.Lock()
    not_found = {404: {"model": Error, "description": "no such subscription (or another owner's)"}}

    def vet_webhook(url: str | None) -> None:
        if url is None:
            return
        try:
            guard.check_url(url)
        except netguard.Blocked as e:
            METRICS.requests.labels("create", "422").inc()
            raise HTTPException(
                status_code=422,
                detail=[{"loc": ["body", "webhook_url"], "type": e.reason, "msg": f"webhook URL refused: {e}"}],
            ) from None

    @app.get("/healthz", response_model=Health)
    async def healthz():
        return {"ok": True}

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics():
        return generate_latest(REGISTRY).decode()

    @app.post(
        "/subscriptions",
        status_code=201,
        response_model=SubscriptionCreated,
        responses={403: {"model": Error, "description": "the owner's subscription quota is reached"}},
    )
    def create(body: SubscriptionIn, owner: str = Depends(owner_of)):
        vet_webhook(body.webhook_url)
        with quota_lock:
            if len(store.list(owner)) >= settings.max_subscriptions_per_owner:
                METRICS.requests.labels("create", "403").inc()
                raise HTTPException(
                    status_code=403, detail=f"subscription quota reached ({settings.max_subscriptions_per_owner})"
                )
            sub = Subscription(
                id="sub_" + uuid.uuid4().hex[:16], owner=owner, created_at=datetime.now(UTC), **body.model_dump()
            )
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

    @app.get("/subscriptions/{sub_id}", response_model=Subscription, responses=not_found)
    def get(sub_id: str, owner: str = Depends(owner_of)):
        sub = store.get(owner, sub_id)
        if sub is None:  # another owner's id looks exactly like a missing one
            METRICS.requests.labels("get", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        return sub

    @app.post("/subscriptions/{sub_id}/rotate-secret", response_model=RotatedSecret, responses=not_found)
    def rotate(sub_id: str, owner: str = Depends(owner_of)):
        """A new webhook secret (the old one stops verifying for alerts made from now on)."""
        sub = store.get(owner, sub_id)
        if sub is None:
            METRICS.requests.labels("rotate", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        new = sub.model_copy(update={"secret_version": sub.secret_version + 1})
        store.put(new)
        METRICS.requests.labels("rotate", "200").inc()
        return RotatedSecret(
            id=new.id,
            secret_version=new.secret_version,
            webhook_secret=webhooks.subscription_secret(master, new.id, new.secret_version),
        )

    @app.delete("/subscriptions/{sub_id}", status_code=204, responses=not_found)
    def delete(sub_id: str, owner: str = Depends(owner_of)):
        if store.get(owner, sub_id) is None:
            METRICS.requests.labels("delete", "404").inc()
            raise HTTPException(status_code=404, detail="no such subscription")
        store.delete(sub_id)
        METRICS.requests.labels("delete", "204").inc()
        return Response(status_code=204)

    from strikewatch.services.web import mount  # the read API (/v1), its OpenAPI key scheme and the web app at /

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

    from strikewatch.services.httpserver import serve_config

    ap = argparse.ArgumentParser(
        prog="strikewatch api", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--port", type=int, default=None)
    ap.add_argument("--dev", action="store_true", help="allow the demo key and dev webhook secret (local stack only)")
    args = ap.parse_args(argv)
    s = ApiSettings()
    dev = dev_defaults_in_use(s)
    if dev and not args.dev:
        print(
            "strikewatch api: refusing to start with " + " and ".join(dev) + "; --dev allows them on a local stack",
            file=sys.stderr,
        )
        return 2
    store = SubscriptionStore(s.kafka)
    try:
        # uvicorn handles SIGTERM: it stops accepting, finishes requests, then returns.
        uvicorn.Server(serve_config(create_app(s, store), s, port=args.port)).run()
    finally:
        store.close()
    return 0


def subscriptions_main(argv: list[str] | None = None) -> int:
    import httpx

    ap = argparse.ArgumentParser(
        prog="strikewatch subscriptions", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
            body = {
                "name": args.name,
                "event_types": args.event_type,
                "actors": args.actor,
                "countries": args.country,
                "bbox": args.bbox,
                "min_severity": args.min_severity,
                "min_escalation": args.min_escalation,
                "notify_on": ["new_incident", "update"] if args.updates == "yes" else ["new_incident"],
                "webhook_url": args.webhook,
                "webhook_format": args.format,
            }
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

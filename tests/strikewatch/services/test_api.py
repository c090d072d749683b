"""The subscription API on the real broker: API keys, owners see only their own,
state in the compacted topic (a new API process reads it back)."""

import pytest
from fastapi.testclient import TestClient

from strikewatch.core.models import Subscription
from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import SubscriptionStore, create_app

pytestmark = pytest.mark.integration


@pytest.fixture
def topic(new_topic):
    return new_topic("subs", compact=True)


@pytest.fixture
def client():
    """Factory: a test client on a new store (a new API process); the stores' producers
    are closed afterwards, or their threads go on asking for the deleted topic."""
    stores: list[SubscriptionStore] = []

    def make(bootstrap, topic):
        stores.append(SubscriptionStore(bootstrap, topic))
        s = ApiSettings(api_keys="ka=alice,kb=bob", bootstrap_servers=bootstrap)
        return TestClient(create_app(s, stores[-1]))

    yield make
    for store in stores:
        store.close()


def test_crud_and_isolation(kafka_bootstrap, topic, client):
    c = client(kafka_bootstrap, topic)
    assert c.get("/subscriptions").status_code == 401
    assert c.get("/subscriptions", headers={"X-API-Key": "nope"}).status_code == 401
    r = c.post(
        "/subscriptions",
        headers={"X-API-Key": "ka"},
        json={"name": "iraq", "countries": ["Iraq"], "event_types": ["air_strike"], "min_severity": 0.3},
    )
    assert r.status_code == 201
    sub = Subscription.model_validate(r.json())
    assert sub.owner == "alice" and sub.countries == ["Iraq"]
    assert c.post("/subscriptions", headers={"X-API-Key": "ka"}, json={"min_severity": 3}).status_code == 422
    assert [s["id"] for s in c.get("/subscriptions", headers={"X-API-Key": "ka"}).json()] == [sub.id]
    assert c.get("/subscriptions", headers={"X-API-Key": "kb"}).json() == []
    assert c.get(f"/subscriptions/{sub.id}", headers={"X-API-Key": "kb"}).status_code == 404
    assert c.delete(f"/subscriptions/{sub.id}", headers={"X-API-Key": "kb"}).status_code == 404

    # A new API process rebuilds its state from the compacted topic.
    c2 = client(kafka_bootstrap, topic)
    assert [s["id"] for s in c2.get("/subscriptions", headers={"X-API-Key": "ka"}).json()] == [sub.id]
    assert c2.delete(f"/subscriptions/{sub.id}", headers={"X-API-Key": "ka"}).status_code == 204
    c3 = client(kafka_bootstrap, topic)  # the tombstone is read back too
    assert c3.get("/subscriptions", headers={"X-API-Key": "ka"}).json() == []


# --- hostile requests (issue 13, item 4) ----------------------------------------------------------------------------
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import httpx  # noqa: E402

from strikewatch.services import webhooks  # noqa: E402
from strikewatch.services.api import KeyRing  # noqa: E402

KA = {"X-API-Key": "ka"}


@pytest.fixture
def app_with():
    """Factory: (client, store) of an app with extra settings, on a new store."""
    stores: list[SubscriptionStore] = []

    def make(bootstrap, topic, **settings):
        stores.append(SubscriptionStore(bootstrap, topic))
        s = ApiSettings(
            **{
                "api_keys": "ka=alice,kb=bob",
                "bootstrap_servers": bootstrap,
                "webhook_hmac_secret": "test-master",
                **settings,
            }
        )
        return TestClient(create_app(s, stores[-1])), stores[-1]

    yield make
    for store in stores:
        store.close()


def test_bodies_are_limited_before_parsing_and_before_the_key_is_checked(kafka_bootstrap, topic, app_with):
    c, store = app_with(kafka_bootstrap, topic)
    big = json.dumps({"name": "x" * 1_100_000}).encode()
    assert c.post("/subscriptions", content=big, headers={"Content-Type": "application/json"}).status_code == 413
    r = c.post("/subscriptions", content=big, headers={**KA, "Content-Type": "application/json"})
    assert r.status_code == 413, "an authenticated body over the limit was a 500"

    def chunked(n_chunks, size=16 * 1024):  # no Content-Length: counted as it streams
        for _ in range(n_chunks):
            yield b" " * size

    r = c.post("/subscriptions", content=chunked(10), headers={**KA, "Content-Type": "application/json"})
    assert r.status_code == 413
    # Within the limit but without a key: 401 from the middleware, the body never parsed.
    assert (
        c.post("/subscriptions", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 401
    )
    assert (
        c.post("/subscriptions", content=b"{not json", headers={**KA, "Content-Type": "application/json"}).status_code
        == 422
    )
    assert store.list("alice") == []


def test_an_unauthenticated_stream_costs_the_server_nothing(kafka_bootstrap, topic, app_with):
    """A real uvicorn server: 50 MB streamed without a key is refused (401) before a byte of it is read; the
    old app read it all first (3.2x its size in memory)."""
    import uvicorn

    from strikewatch.core.procs import free_port

    c, _store = app_with(kafka_bootstrap, topic)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(c.app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tracemalloc.start()
    status = None
    try:

        def stream():
            for _ in range(50 * 16):
                yield b"x" * 65536

        with httpx.Client(timeout=10, trust_env=False) as http:
            status = http.post(f"http://127.0.0.1:{port}/subscriptions", content=stream()).status_code
    except httpx.HTTPError:
        status = "closed"  # the server answered and closed while the client was still sending
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        server.should_exit = True
        t.join(10)
    assert status in (401, "closed")
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.1f} MiB peak for a 50 MB body"


def test_rate_limit_per_key_and_quota_per_owner(kafka_bootstrap, topic, app_with):
    c, _store = app_with(
        kafka_bootstrap, topic, rate_limit_per_s=0.01, rate_limit_burst=3, max_subscriptions_per_owner=2
    )
    assert [c.post("/subscriptions", headers=KA, json={"name": f"s{i}"}).status_code for i in range(3)] == [
        201,
        201,
        403,
    ]
    r = c.get("/subscriptions", headers=KA)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert c.get("/subscriptions", headers={"X-API-Key": "kb"}).status_code == 200  # another key, its own bucket


@pytest.mark.parametrize(
    "body",
    [
        {"bbox": [-200, 0, 10, 10]},
        {"bbox": [0, -91, 10, 10]},
        {"bbox": [10, 0, 0, 10]},
        {"bbox": [0, 10, 10, 0]},
        {"bbox": [0, 0, 10]},
        {"min_severity": -0.1},
        {"name": "n" * 201},
        {"actors": [""]},
        {"actors": ["   "]},
        {"actors": ["a"] * 51},
        {"countries": ["c" * 101]},
        {"event_types": ["carpet_bombing"]},
        {"notify_on": []},
        {"webhook_url": "file:///etc/passwd"},
        {"webhook_url": "gopher://example.com/"},
        {"webhook_url": "http://example.com:99999/"},
        {"webhook_url": "https://example.com/" + "p" * 2000},
        {"surprise": 1},
        {"webhook_url": "http://169.254.169.254/latest/meta-data"},
        {"webhook_url": "http://10.0.0.1/hook"},
        {"webhook_url": "http://[fd00::1]/hook"},
        {"webhook_url": "http://100.64.0.1/hook"},
    ],
    ids=lambda b: json.dumps(b)[:40],
)
def test_every_field_is_validated(kafka_bootstrap, topic, app_with, body):
    c, store = app_with(kafka_bootstrap, topic)
    r = c.post("/subscriptions", headers=KA, json=body)
    assert r.status_code == 422, r.text
    assert store.list("alice") == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"bbox": [NaN, 0, 10, 10]}',
        b'{"min_severity": NaN}',
        b'{"min_escalation": Infinity}',
        b'{"bbox": [0, 0, Infinity, 10]}',
    ],
)
def test_nan_and_infinity_never_reach_the_topic(kafka_bootstrap, topic, app_with, raw):
    c, store = app_with(kafka_bootstrap, topic)
    assert c.post("/subscriptions", headers={**KA, "Content-Type": "application/json"}, content=raw).status_code == 422
    assert store.list("alice") == []


def test_a_valid_subscription_still_passes(kafka_bootstrap, topic, app_with):
    c, _store = app_with(kafka_bootstrap, topic)
    r = c.post(
        "/subscriptions",
        headers=KA,
        json={
            "name": "levant",
            "actors": [" Hezbollah "],
            "bbox": [34.0, 29.0, 42.5, 37.5],
            "webhook_url": "http://127.0.0.1:9/hook",
            "min_severity": 0.5,
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["actors"] == ["Hezbollah"] and r.json()["bbox"] == [34.0, 29.0, 42.5, 37.5]


def test_webhook_secret_shown_once_then_rotated(kafka_bootstrap, topic, app_with):
    c, _store = app_with(kafka_bootstrap, topic)
    r = c.post("/subscriptions", headers=KA, json={"webhook_url": "http://127.0.0.1:9/hook"})
    assert r.status_code == 201
    sub_id, secret = r.json()["id"], r.json()["webhook_secret"]
    assert secret == webhooks.subscription_secret(b"test-master", sub_id, 1) and secret.startswith("whsec_")
    assert "webhook_secret" not in c.get(f"/subscriptions/{sub_id}", headers=KA).json()  # shown once
    assert c.post(f"/subscriptions/{sub_id}/rotate-secret", headers={"X-API-Key": "kb"}).status_code == 404
    rot = c.post(f"/subscriptions/{sub_id}/rotate-secret", headers=KA).json()
    assert (
        rot["secret_version"] == 2
        and rot["webhook_secret"] == webhooks.subscription_secret(b"test-master", sub_id, 2) != secret
    )
    assert c.get(f"/subscriptions/{sub_id}", headers=KA).json()["secret_version"] == 2
    # No secret on the topic: only the version travels.
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=1500)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    raw = b"".join(m.value or b"" for m in consumer)
    consumer.close()
    assert (
        raw and secret.encode() not in raw and rot["webhook_secret"].encode() not in raw and b"test-master" not in raw
    )


def test_api_keys_are_stored_hashed_and_compared_in_constant_time(kafka_bootstrap, topic, app_with):
    digest = hashlib.sha256(b"carol-key").hexdigest()
    ring = KeyRing(f"sha256:{digest}=carol,plain-key=dave")
    assert ring.lookup("carol-key")[0] == "carol" and ring.lookup("plain-key")[0] == "dave"
    assert ring.lookup("carol") is None and ring.lookup("") is None and ring.lookup(digest) is None
    assert "plain-key" not in repr(ring) and digest not in repr(ring)
    c, _store = app_with(kafka_bootstrap, topic, api_keys=f"sha256:{digest}=carol")
    assert c.get("/subscriptions", headers={"X-API-Key": "carol-key"}).status_code == 200
    assert c.get("/subscriptions", headers={"X-API-Key": digest}).status_code == 401


def test_the_api_refuses_the_demo_key_unless_started_with_dev(kafka_bootstrap, repo_root):
    from strikewatch.core.procs import free_port

    env = {k: v for k, v in os.environ.items() if k not in ("STRIKEWATCH_API_KEYS", "STRIKEWATCH_WEBHOOK_HMAC_SECRET")}
    env["STRIKEWATCH_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    refused = subprocess.run(
        [sys.executable, "-m", "strikewatch.cli", "api"],
        env=env,
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "demo API key" in refused.stderr
    port = free_port()
    p = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "api", "--dev", "--port", str(port)],
        env=env,
        cwd=repo_root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert p.poll() is None and time.monotonic() < deadline
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
    finally:
        p.terminate()
        p.wait(30)

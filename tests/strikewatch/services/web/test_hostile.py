"""The API's side of issue 20's second attack round, each attack sent to the real app (uvicorn on
127.0.0.1, PostgreSQL): security headers, the Host header kept out of Link, wrong keys throttled per
address, a 3,000-deep JSON cursor, slow-header connections; and the guards' own logic."""

from __future__ import annotations

import base64
import socket
import threading
import time

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import FailedKeys, SubscriptionStore, client_address, create_app
from strikewatch.services.store import db
from strikewatch.services.store import synthetic as R

KEY = {"X-API-Key": "ka"}


# --- the guards alone (no services) ----------------------------------------------------------------------------------


def test_failed_keys_throttle_an_address_and_forget_the_oldest():
    f = FailedKeys(rate=1.0, burst=3, tracked=100)
    for _ in range(3):
        assert f.wait("198.51.100.7", now=0.0) == 0
        f.failed("198.51.100.7", now=0.0)
    assert f.wait("198.51.100.7", now=0.0) == pytest.approx(1.0)  # the bucket is empty: one more in 1 s
    assert f.wait("198.51.100.8", now=0.0) == 0  # another address is not slowed
    assert f.wait("198.51.100.7", now=1.0) == 0  # refilled at rate 1/s
    for n in range(1000):  # an attacker with many addresses: memory stays bounded
        f.failed(f"10.{n // 250}.{n % 250}.1", now=2.0)
    assert len(f) == 100 and f.wait("198.51.100.7", now=2.0) == 0  # the oldest was forgotten


def test_an_ipv6_client_is_one_address_per_64():
    assert client_address("2001:db8:1:2::1") == client_address("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1") != client_address("2001:db8:1:2::1")
    assert client_address("::ffff:192.0.2.1") == "192.0.2.1" and client_address("192.0.2.1") == "192.0.2.1"
    assert client_address(None) == "?" and client_address("testclient") == "testclient"


# --- the running app --------------------------------------------------------------------------------------------------


@pytest.fixture
def served(pg_dsn, kafka_bootstrap, new_topic):
    """Factory: the app as `strikewatch api` serves it (serve_config) with these settings; its base URL."""
    import uvicorn

    from strikewatch.core.procs import free_port
    from strikewatch.services.httpserver import serve_config

    records = [R.incident(i) for i in range(12)]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, records, db.WriteResult())
    running = []

    def start(**overrides) -> str:
        settings = ApiSettings(
            api_keys="ka=alice",
            bootstrap_servers=kafka_bootstrap,
            postgres_db=conninfo_to_dict(pg_dsn)["dbname"],
            host="127.0.0.1",
            **{"rate_limit_per_s": 1000.0, "rate_limit_burst": 1000, **overrides},
        )
        store = SubscriptionStore(kafka_bootstrap, new_topic("subs", compact=True))
        port = free_port()
        server = uvicorn.Server(serve_config(create_app(settings, store), settings, port=port, log_level="warning"))
        t = threading.Thread(target=server.run, daemon=True)
        t.start()
        running.append((server, t, store))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, t, store in running:
        server.should_exit = True
        t.join(15)
        store.close()


SECURITY = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


@pytest.mark.integration
def test_security_headers_on_the_page_and_the_api(served):
    base = served()
    with httpx.Client(base_url=base, trust_env=False) as http:
        for path, headers in [
            ("/", {}),
            ("/app.js", {}),
            ("/vendor/leaflet.js", {}),
            ("/healthz", {}),
            ("/v1/incidents", KEY),
            ("/v1/incidents", {}),
            ("/subscriptions", KEY),
            ("/openapi.json", {}),
            ("/no-such-page", {}),
        ]:
            r = http.get(path, headers=headers)
            for name, value in SECURITY.items():
                assert r.headers.get(name) == value, (path, name, r.headers.get(name))
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp, path
        page = http.get("/").headers["content-security-policy"]
        assert "default-src 'self'" in page and "script-src" not in page  # no inline script, nothing remote
        api = http.get("/v1/incidents", headers=KEY)
        assert api.headers["content-security-policy"].startswith("default-src 'none'")
        assert api.headers["cache-control"] == "no-store"
        # A refusal from the body-limit middleware carries them too.
        refused = http.post("/subscriptions", content=b"{}", headers={"Content-Type": "application/json"})
        assert refused.status_code == 401 and refused.headers["x-frame-options"] == "DENY"


@pytest.mark.integration
def test_the_host_header_never_reaches_link(served):
    base = served()
    r = httpx.get(
        f"{base}/v1/incidents",
        params={"limit": 2, "country": "Iraq,SY"},
        headers={**KEY, "Host": "evil.example"},
        trust_env=False,
    )
    assert r.status_code == 200 and "evil.example" not in r.headers["Link"]
    target = r.headers["Link"].split(";")[0].strip("<>")
    assert target.startswith("/v1/incidents?") and "cursor=" in target and "country=Iraq%2CSY" in target
    follow = httpx.get(base + target, headers=KEY, trust_env=False)  # a client resolves it against the request
    assert follow.status_code == 200 and follow.json()["items"]
    configured = served(public_url="https://strikewatch.example/")
    r = httpx.get(
        f"{configured}/v1/incidents", params={"limit": 2}, headers={**KEY, "Host": "evil.example"}, trust_env=False
    )
    assert r.headers["Link"].startswith("<https://strikewatch.example/v1/incidents?")


@pytest.mark.integration
def test_wrong_keys_are_throttled_per_address(served):
    base = served(failed_key_rate_per_s=0.5, failed_key_burst=5)
    with httpx.Client(base_url=base, trust_env=False) as http:
        codes = [http.get("/v1/incidents", headers={"X-API-Key": f"guess-{n}"}).status_code for n in range(8)]
        assert codes == [401] * 5 + [429] * 3
        r = http.get("/v1/incidents", headers={"X-API-Key": "guess-9"})
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 2
        # While throttled, even the right key is refused from this address (or guessing would go on: a 200
        # tells the guesser it won), and so is a body-carrying request, before its body is read.
        assert http.get("/v1/incidents", headers=KEY).status_code == 429
        assert http.post("/subscriptions", headers={"X-API-Key": "guess"}, json={}).status_code == 429
        # X-Forwarded-For is believed only from configured proxies: it cannot make a new address.
        spoofed = http.get("/v1/incidents", headers={"X-API-Key": "guess", "X-Forwarded-For": "198.51.100.9"})
        assert spoofed.status_code == 429
        assert http.get("/v1/incidents").status_code == 401  # no key is no guess: told what is wrong
        time.sleep(2.1)  # the bucket refills at 0.5/s
        assert http.get("/v1/incidents", headers=KEY).status_code == 200


@pytest.mark.integration
def test_a_deep_json_cursor_is_a_400(served):
    base = served()
    deep = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("=")
    for cursor in (deep, "null", "", "W10", "1.zz", "1." + "00" * 600, "9" * 19 + ".00"):
        r = httpx.get(f"{base}/v1/incidents", params={"cursor": cursor}, headers=KEY, trust_env=False)
        assert r.status_code == 400 and "cursor" in r.json()["detail"] and "Traceback" not in r.text, cursor
    # Any well-formed position pages from where it points, NUL and bad UTF-8 in its id included.
    for cursor in ("1704067200000000.695f303030303035", "-99999999999999999.", "1704067200000000.00ff"):
        r = httpx.get(f"{base}/v1/incidents", params={"cursor": cursor}, headers=KEY, trust_env=False)
        assert r.status_code == 200, (cursor, r.text)


@pytest.mark.integration
def test_slow_header_connections_are_closed_and_do_not_hold_healthz(served, monkeypatch):
    from strikewatch.services.httpserver import HeaderDeadline

    monkeypatch.setattr(HeaderDeadline, "header_timeout_s", 1.0)
    base = served()
    port = int(base.rsplit(":", 1)[1])
    slow = []
    for _ in range(50):  # each a request line, then a header byte every 0.2 s, never finished
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(s)
    silent = socket.create_connection(("127.0.0.1", port), timeout=5)  # opens and sends nothing at all
    t0 = time.monotonic()
    answered = []
    while time.monotonic() - t0 < 1.5:
        for s in slow:
            try:
                s.sendall(b"a")
            except OSError:
                pass
        r0 = time.perf_counter()
        assert httpx.get(f"{base}/healthz", timeout=5, trust_env=False).status_code == 200
        answered.append(time.perf_counter() - r0)
        time.sleep(0.2)
    assert max(answered) < 1.0  # /healthz kept answering while they trickled
    for s in slow + [silent]:  # each was answered 408 and closed at its deadline
        s.settimeout(5)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        assert data.startswith(b"HTTP/1.1 408"), data[:60]
        s.close()
    assert time.monotonic() - t0 < 6

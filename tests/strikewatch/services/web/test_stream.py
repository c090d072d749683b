"""/v1/stream on the real app (uvicorn on 127.0.0.1) and PostgreSQL: a client cut off mid-stream resumes
with Last-Event-ID and is sent what it missed, then the live stream; a replay is bounded; every
notification is read from the store once for all clients; a key holds a bounded number of streams."""

from __future__ import annotations

import json
import threading
import time

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from strikewatch.core.settings import ApiSettings
from strikewatch.services.api import SubscriptionStore, create_app
from strikewatch.services.store import db
from strikewatch.services.store import synthetic as R
from strikewatch.services.web import routes

pytestmark = pytest.mark.integration
KEY = {"X-API-Key": "ka"}


def write(dsn: str, *records) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction(), conn.cursor() as cur:
        db.write_batch(cur, list(records), db.WriteResult())


class Client(threading.Thread):
    """An SSE client on its own thread: (id, event, data) of each event it reads, until ``stop`` or ``want``."""

    def __init__(self, base: str, params=None, headers=None, want: int | None = None):
        super().__init__(daemon=True)
        self.base, self.params, self.headers, self.want = base, params or {}, {**KEY, **(headers or {})}, want
        self.events: list[tuple[str | None, str, str]] = []
        self.listening, self.stop, self.status = threading.Event(), threading.Event(), None
        self.response: httpx.Response | None = None

    def close(self) -> None:
        """Hang up now (from another thread), as a browser tab that is closed."""
        self.stop.set()
        if self.response is not None:
            self.response.close()

    def run(self):
        try:
            self._read()
        except (httpx.HTTPError, RuntimeError):
            if not self.stop.is_set():
                raise

    def _read(self):
        with httpx.stream(
            "GET", f"{self.base}/v1/stream", params=self.params, headers=self.headers, timeout=30, trust_env=False
        ) as r:
            self.response, self.status = r, r.status_code
            if r.status_code != 200:
                self.listening.set()
                return
            ev_id, event = None, "message"
            for line in r.iter_lines():
                if line == ": listening":
                    self.listening.set()
                elif line.startswith("id: "):
                    ev_id = line[4:]
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    self.events.append((ev_id, event, line[6:]))
                    ev_id, event = None, "message"
                if self.stop.is_set() or (self.want is not None and len(self.events) >= self.want):
                    return  # leaving the with-block closes the connection: a client gone mid-stream

    def ids(self) -> list[tuple[str, int]]:
        return [(json.loads(d)["id"], json.loads(d)["revision"]) for _, e, d in self.events if e == "incident"]


def wait(pred, seconds=20.0) -> None:
    deadline = time.monotonic() + seconds
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def app_at(pg_dsn, kafka_bootstrap, new_topic):
    """Factory: the app with these settings on a free port; yields its base URL."""
    import uvicorn

    from strikewatch.core.procs import free_port

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        db.migrate(conn)
    servers, stores = [], []

    def start(**overrides) -> str:
        settings = ApiSettings(
            api_keys="ka=alice,kb=bob",
            bootstrap_servers=kafka_bootstrap,
            postgres_db=conninfo_to_dict(pg_dsn)["dbname"],
            **{"rate_limit_per_s": 1000.0, "rate_limit_burst": 1000, **overrides},
        )
        stores.append(SubscriptionStore(kafka_bootstrap, new_topic("subs", compact=True)))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings, stores[-1]), host="127.0.0.1", port=port, log_level="warning")
        )
        t = threading.Thread(target=server.run, daemon=True)
        t.start()
        servers.append((server, t))
        wait(lambda: server.started)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, t in servers:
        server.should_exit = True
        t.join(15)
    for s in stores:
        s.close()


def test_a_client_cut_off_mid_stream_resumes_where_it_was(app_at, pg_dsn):
    base = app_at()
    iraq = {"country": "Iraq"}  # i % 5 == 0 is in Iraq, 1 Syria
    first = Client(base, iraq, want=1)
    first.start()
    assert first.listening.wait(20)
    write(pg_dsn, R.incident(300))
    first.join(20)
    assert first.ids() == [("i_000300", 0)]
    last_id = first.events[0][0]
    # While it is away: two new Iraqi incidents, a Syrian one (filtered out), a revision of the first.
    write(pg_dsn, R.incident(305))
    write(pg_dsn, R.incident(301), R.incident(310))
    write(pg_dsn, R.incident(300, 1))
    again = Client(base, iraq, headers={"Last-Event-ID": last_id}, want=4)
    again.start()
    wait(lambda: len(again.events) >= 3)
    assert again.ids() == [("i_000305", 0), ("i_000310", 0), ("i_000300", 1)]  # the missed ones, in order
    write(pg_dsn, R.incident(315))  # then live
    again.join(20)
    assert again.ids()[3:] == [("i_000315", 0)]
    ids = [int(i) for i, _, _ in again.events]
    assert ids == sorted(ids) and ids[0] > int(last_id)
    # The query parameter does what the header does (for clients that cannot set headers).
    by_query = Client(base, {**iraq, "last_event_id": last_id}, want=4)
    by_query.start()
    by_query.join(20)
    assert by_query.ids() == again.ids()


def test_a_long_absence_is_replayed_up_to_the_bound(app_at, pg_dsn, monkeypatch):
    monkeypatch.setattr(routes, "STREAM_REPLAY_MAX", 3)
    base = app_at()
    write(pg_dsn, R.incident(400))
    with psycopg.connect(pg_dsn) as conn:
        start = conn.execute("SELECT stream_seq FROM incidents WHERE id = 'i_000400'").fetchone()[0]
    write(pg_dsn, *[R.incident(401 + n) for n in range(6)])
    c = Client(base, headers={"Last-Event-ID": str(start)}, want=4)
    c.start()
    c.join(20)
    assert c.events[0][1] == "truncated" and json.loads(c.events[0][2]) == {"replayed": 3}
    assert c.ids() == [("i_000404", 0), ("i_000405", 0), ("i_000406", 0)]  # the latest 3 of the 6 missed


def test_every_notification_is_read_once_for_all_clients(app_at, pg_dsn):
    base = app_at(max_streams_per_key=50)
    clients = [Client(base, want=5) for _ in range(20)]
    for c in clients:
        c.start()
    for c in clients:
        assert c.listening.wait(20)
    reads = routes.METRICS.fanout_reads._value.get()
    for n in range(5):
        write(pg_dsn, R.incident(500 + n))
    for c in clients:
        c.join(20)
        assert c.ids() == [(f"i_{500 + n:06d}", 0) for n in range(5)]
    # 5 notifications, 20 clients: at most 5 store reads (one per batch), not 100 (one per client).
    assert 1 <= routes.METRICS.fanout_reads._value.get() - reads <= 5


def test_streams_are_capped_per_key(app_at):
    base = app_at(max_streams_per_key=2)
    held = [Client(base) for _ in range(2)]
    for c in held:
        c.start()
        assert c.listening.wait(20) and c.status == 200
    r = httpx.get(f"{base}/v1/stream", headers=KEY, timeout=10, trust_env=False)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    other = Client(base, headers={"X-API-Key": "kb"})  # another key has streams of its own
    other.start()
    assert other.listening.wait(20) and other.status == 200
    held[0].close()
    other.close()
    # The closed stream gives its place back.
    deadline = time.monotonic() + 20
    while True:
        with httpx.stream("GET", f"{base}/v1/stream", headers=KEY, timeout=10, trust_env=False) as r:
            if r.status_code == 200:
                break
        assert time.monotonic() < deadline, "the closed stream's place was never given back"
        time.sleep(0.5)
    held[1].close()


def test_a_stream_ends_after_its_lifetime_and_resumes_without_loss(app_at, pg_dsn):
    base = app_at(stream_max_s=1.0)
    c = Client(base)
    c.start()
    assert c.listening.wait(20)
    write(pg_dsn, R.incident(600))
    c.join(10)  # the server ends it after ~1 s
    assert not c.is_alive() and c.ids() == [("i_000600", 0)]
    write(pg_dsn, R.incident(601))
    again = Client(base, headers={"Last-Event-ID": c.events[-1][0]}, want=1)
    again.start()
    again.join(10)
    assert again.ids() == [("i_000601", 0)]


def test_what_moves_while_listen_is_down_still_reaches_the_streams(app_at, pg_dsn):
    base = app_at()
    c = Client(base, want=2)
    c.start()
    assert c.listening.wait(20)
    write(pg_dsn, R.incident(700))
    wait(lambda: len(c.events) == 1)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # the API's LISTEN connection dies
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s"
            " AND datname = current_database()",
            (routes.LISTENER_NAME,),
        ).fetchall()
    assert killed
    write(pg_dsn, R.incident(701))  # notified to nobody: the listener is reconnecting
    c.join(20)
    assert c.ids() == [("i_000700", 0), ("i_000701", 0)]  # read when it came back

"""Shared fixtures: the real local stack, a real HTTP server on 127.0.0.1 with
programmable routes (feeds, pages, webhooks), and paths to the shared evaluation data.

``kafka_bootstrap`` starts the project's real Kafka broker (``strikewatch.devstack.stack.up``:
KRaft, jars from Maven Central, topics from the catalogue) once per test session,
reusing a broker that already listens on the port.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"evaluation data missing: {SHARED_DATA} (clone with ../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def stack_settings():
    from strikewatch.core.settings import StackSettings

    return StackSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack_settings) -> str:
    from strikewatch.devstack import stack

    info = stack.up(stack_settings)
    yield stack_settings.bootstrap_servers
    if info["postgres_started"]:  # the incident store's server, started by up() with the broker
        from strikewatch.devstack.postgres import stop_postgres

        stop_postgres(stack_settings)
    if info["kafka_started"]:  # leave a broker the developer started running
        import logging

        # Clients of finished tests (Prism workers' consumers) may still be polling;
        # their connection errors after the broker stops are noise, not results.
        logging.disable(logging.CRITICAL)
        stack.stop_kafka(stack_settings)


@pytest.fixture
def producer(kafka_bootstrap):
    """A KafkaProducer on the test broker, closed afterwards (an open one keeps asking
    for the metadata of topics the test deleted, for the rest of the session)."""
    from kafka import KafkaProducer

    p = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    yield p
    p.close()


@pytest.fixture
def group_at_end(kafka_bootstrap):
    """``group_at_end(group, topic)``: commit ``group``'s offsets at ``topic``'s end as of now, so a
    consumer of that group (a deliverer under test) reads only what this test produces."""

    def start_at_end(group: str, topic: str) -> None:
        from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

        c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        try:
            parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
            c.assign(parts)
            c.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in c.end_offsets(parts).items()})
        finally:
            c.close()

    return start_at_end


@pytest.fixture
def new_topic(kafka_bootstrap):
    """Factory: create a uniquely named topic (``partitions``, ``compact``) and return its name."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    created: list[str] = []

    def make(prefix: str = "test", partitions: int = 1, compact: bool = False) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        cfg = {"cleanup.policy": "compact"} if compact else {}
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=cfg)])
        created.append(name)
        return name

    yield make
    try:
        admin.delete_topics(created)
    except Exception:  # deletion is housekeeping; the broker's data dir is per stack
        pass
    admin.close()


# --- a real HTTP server on 127.0.0.1 with programmable routes --------------------------


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict = field(default_factory=dict)
    etag: str | None = None  # answer 304 when If-None-Match matches
    trickle_s: float = 0.0  # slow-loris: sleep between 1-byte chunks of the body
    trickle_headers_s: float = 0.0  # slow-loris: the status line and headers too, one byte per this many seconds
    hits: int = 0
    posts: list = field(default_factory=list)  # (headers, body) of every POST answered `status`


class Server:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                route.hits += 1
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    self.send_response(304)
                    self.send_header("ETag", route.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.trickle_headers_s:
                    self._trickle_headers(route)
                    return
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.etag:
                    self.send_header("ETag", route.etag)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    if route.trickle_s:
                        for i in range(len(route.body)):
                            self.wfile.write(route.body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(route.trickle_s)
                    else:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle_headers(self, route):
                head = f"HTTP/1.1 {route.status} OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in route.headers.items())
                raw = (head + f"Content-Length: {len(route.body)}\r\n\r\n").encode() + route.body
                try:
                    for i in range(len(raw)):
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                        time.sleep(route.trickle_headers_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            def do_POST(self):
                route = server.routes.get(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = route.status if route else 404
                if route is not None:
                    route.hits += 1
                    if route.trickle_headers_s:
                        self._trickle_headers(route)
                        return
                if route is not None and status < 300:
                    route.posts.append((dict(self.headers), body))
                self.send_response(status)
                for k, v in (route.headers if route else {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(scope="session")
def route():
    """The Route class, for tests to program the server."""
    return Route


# --- the real PostgreSQL of the incident store -----------------------------------------


@pytest.fixture(scope="session")
def postgres(stack_settings):
    """The local PostgreSQL (``strikewatch.devstack.postgres``: Debian's binaries, data under
    .stack/postgres), started once per session unless one already answers on the port."""
    from strikewatch.devstack.postgres import start_postgres, stop_postgres

    started = start_postgres(stack_settings)
    yield stack_settings
    if started:
        stop_postgres(stack_settings)


@pytest.fixture
def pg_dsn(postgres):
    """A fresh, empty database on the test server (dropped afterwards): its DSN."""
    import psycopg
    from psycopg import sql

    from strikewatch.devstack.postgres import ensure_database

    name = f"test_{uuid.uuid4().hex[:10]}"
    ensure_database(postgres, name)
    yield postgres.postgres_dsn(name)
    with psycopg.connect(postgres.postgres_dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

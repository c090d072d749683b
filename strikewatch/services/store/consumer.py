"""``strikewatch store``: the events, incidents (every revision), escalation and alerts topics
into PostgreSQL.

    strikewatch store            # migrate, then consume until SIGTERM

One consumer group (``strikewatch-store``) reads the four topics; each poll's records are
written in one transaction (``db.write_batch`` upserts, so writing a record twice changes
nothing) and only then are the offsets committed. A crash between the two re-reads the
batch on restart and writes nothing twice; a crash before the write loses nothing.

Bad input: a record that does not decode is a dead letter (``store.decode``,
``schema_mismatch``); one PostgreSQL rejects (U+0000 in a text, an index row over its size
limit, say) is retried alone and then dead-lettered (``store.write``, ``store_rejected``, with
its SQLSTATE); both are counted, and the stream goes on. PostgreSQL or Kafka away (no answer,
or a SQLSTATE that says so: ``database_away``): the batch is retried every ``RETRY_S``
seconds, uncommitted, until it is back. Nothing else is retried: psycopg raises some record
errors as ``OperationalError`` too (54000, an index row too large), and retrying those
stopped the store for good.
"""

from __future__ import annotations

import argparse
import logging
import threading
import time

import psycopg

from strikewatch.core import countries, topics
from strikewatch.core.kafka import AckedSender, KafkaConfig, Stopping, clients, consume, stop_on_signals
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, Histogram, SimpleNamespace, serve
from strikewatch.core.models import Alert, DeadLetter, EscalationScore, Event, Incident, Reason, Record
from strikewatch.core.settings import StoreSettings
from strikewatch.services.store import db

log = logging.getLogger(__name__)

TOPIC_MODELS: dict[str, type[Record]] = {
    topics.EVENTS.name: Event,
    topics.INCIDENTS.name: Incident,
    topics.ESCALATION.name: EscalationScore,
    topics.ALERTS.name: Alert,
}
# Records per poll, so per transaction: 500 keeps a batch's transaction under ~0.3 s here
# (bench/bench_store.py: ~3k records/s), short enough for a clean SIGTERM.
MAX_POLL_RECORDS = 500
# Seconds between tries while PostgreSQL or Kafka is away (either restarts in ~2-4 s here).
RETRY_S = 2.0
# Seconds one poll waits for records: a stop is seen within this.
POLL_S = 0.5
# SQLSTATEs that mean the database, or the way to it, is away rather than the record wrong
# (PostgreSQL's appendix A): connection exceptions (08), insufficient resources (53: disk
# full, out of memory, too many connections), operator intervention by shutdown or start-up
# (57P01-57P03), system errors (58), and a transaction that lost a race (40001, 40P01).
AWAY_SQLSTATE_CLASSES = ("08", "53", "58")
AWAY_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01"})
# Write-batch buckets, seconds: a batch of 1 is ~2 ms, of 500 ~0.2 s.
WRITE_BUCKETS_S = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        records=Counter(
            "strikewatch_store_records_total",
            "Records the store consumed, by kind and outcome (written, dead_letter)",
            ["kind", "outcome"],
            registry=registry,
        ),
        write=Histogram(
            "strikewatch_store_write_seconds", "One batch's transaction", buckets=WRITE_BUCKETS_S, registry=registry
        ),
        # sqlstate_class: PostgreSQL's two-character classes (a fixed set of ~40) or "none".
        rejected=Counter(
            "strikewatch_store_rejected_total",
            "Records PostgreSQL refused and the store dead-lettered, by SQLSTATE class",
            ["sqlstate_class"],
            registry=registry,
        ),
        # iso: ISO 3166-1 alpha-2 from the fixed set in strikewatch/core/countries.py, else "other";
        # theatre: the incident's theatre when its code is in that set, else "other" (bounded).
        incidents=Counter(
            "strikewatch_store_incidents_total",
            "Incidents stored for the first time",
            ["event_type", "theatre", "iso"],
            registry=registry,
        ),
    )


METRICS = make_metrics()


def kafka_clients(
    kafka: KafkaConfig | str,
    group: str,
    topic_names: list[str],
    start_from: str = "earliest",
    stop: threading.Event | None = None,
):
    """(consumer, acked sender) for the store, from the shared Kafka layer (strikewatch.core.kafka):
    the sender re-sends dead letters while the broker is away, until ``stop``."""
    consumer = clients.consumer(
        kafka, *topic_names, group_id=group, auto_offset_reset=start_from, max_poll_records=MAX_POLL_RECORDS
    )
    return consumer, AckedSender(kafka, backoff_s=RETRY_S, stop=stop)


def database_away(error: psycopg.Error) -> bool:
    """True when ``error`` says PostgreSQL (or the connection to it) is away, so the write is
    retried; False when the record is what PostgreSQL refused, so it is dead-lettered."""
    state = error.sqlstate
    if state is None:  # no answer from the server: a broken or closed connection
        return isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError))
    return state[:2] in AWAY_SQLSTATE_CLASSES or state in AWAY_SQLSTATES


def connect(dsn: str) -> psycopg.Connection:
    return psycopg.connect(dsn, autocommit=True, connect_timeout=10)


class Store:
    """Consumes ``topic_models``' topics into the database at ``dsn``."""

    def __init__(
        self,
        kafka: KafkaConfig | str,
        dsn: str,
        group: str = "strikewatch-store",
        topic_models: dict[str, type[Record]] | None = None,
        dead_topic: str = topics.DEAD_LETTERS.name,
        start_from: str = "earliest",
        metrics: SimpleNamespace | None = None,
    ):
        self.topic_models = topic_models or TOPIC_MODELS
        self.dead_topic = dead_topic
        self.metrics = metrics or METRICS
        self._dsn = dsn
        self._stop = threading.Event()
        self._conn = self._connect()
        db.migrate(self._conn)
        self._consumer, self._sender = kafka_clients(kafka, group, list(self.topic_models), start_from, self._stop)

    def _connect(self) -> psycopg.Connection:
        while True:
            try:
                return connect(self._dsn)
            except psycopg.OperationalError as e:
                if self._stop.is_set():
                    raise InterruptedError("stopping") from e
                log.warning("PostgreSQL unreachable, retrying in %.0f s: %s", RETRY_S, e)
                self._stop.wait(RETRY_S)

    # ------------------------------------------------------------------ one batch

    def decode(self, records) -> tuple[list[tuple[str, Record]], list[DeadLetter]]:
        decoded, dead = [], []
        for r in records:
            model = self.topic_models[r.topic]
            try:
                decoded.append((r.topic, model.from_bytes(r.value)))
            except (ValueError, TypeError) as e:  # pydantic's ValidationError is a ValueError
                dead.append(DeadLetter.of("store.decode", "schema_mismatch", e, r.value, r.topic))
                self.metrics.records.labels(model.__name__, "dead_letter").inc()
        return decoded, dead

    def write(self, decoded: list[tuple[str, Record]]) -> tuple[db.WriteResult, list[DeadLetter]]:
        """Upsert a batch in one transaction; records PostgreSQL rejects are dead letters.
        Retries while the database is away."""
        while True:
            try:
                return self._write_once(decoded)
            except psycopg.Error as e:
                if not database_away(e):  # outside any one record's savepoint (a commit): give the batch up
                    log.error(
                        "PostgreSQL refused a batch of %d as a whole (SQLSTATE %s): %s", len(decoded), e.sqlstate, e
                    )
                    return db.WriteResult(), [self._rejected(topic, rec, e) for topic, rec in decoded]
                if self._stop.is_set():
                    raise InterruptedError("stopping") from e
                log.warning("PostgreSQL write failed, retrying in %.0f s: %s", RETRY_S, e)
                self._stop.wait(RETRY_S)
                try:
                    self._conn.close()
                finally:
                    self._conn = self._connect()

    def _write_once(self, decoded):
        t0 = time.perf_counter()
        dead: list[DeadLetter] = []
        with self._conn.transaction(), self._conn.cursor() as cur:
            result = db.WriteResult()
            try:
                with self._conn.transaction():  # a savepoint: undo the batch, keep the transaction
                    db.write_batch(cur, [rec for _topic, rec in decoded], result)
            except psycopg.Error as batch_error:
                if database_away(batch_error):
                    raise
                log.warning("batch of %d rejected (%s); writing one by one", len(decoded), batch_error)
                result = db.WriteResult()
                for topic, rec in decoded:
                    try:
                        with self._conn.transaction():
                            db.write_batch(cur, [rec], result)
                    except psycopg.Error as e:
                        if database_away(e):
                            raise
                        dead.append(self._rejected(topic, rec, e))
        self.metrics.write.observe(time.perf_counter() - t0)
        for kind, n in result.written.items():
            self.metrics.records.labels(kind, "written").inc(n)
        for inc in result.new_incidents:
            iso = countries.iso_label(next((p.country_code for p in inc.places if p.country), None))
            theatre = (inc.theatre or countries.OTHER) if iso != countries.OTHER else countries.OTHER
            self.metrics.incidents.labels(str(inc.event_type), theatre, iso).inc()
        return result, dead

    def _rejected(self, topic: str, rec: Record, error: psycopg.Error) -> DeadLetter:
        """The dead letter of a record PostgreSQL refused, counted."""
        self.metrics.records.labels(type(rec).__name__, "dead_letter").inc()
        self.metrics.rejected.labels((error.sqlstate or "none")[:2]).inc()
        why = f"SQLSTATE {error.sqlstate or 'none'}: {type(error).__name__}: {error}"
        return DeadLetter.of("store.write", Reason.STORE_REJECTED, why, rec.to_bytes(), topic)

    def _dead_letters(self, dead: list[DeadLetter]) -> None:
        batch = self._sender.batch()
        for dl in dead:
            batch.send(self.dead_topic, dl.stage.encode(), dl.to_bytes())
        try:
            refused = batch.wait()
        except Stopping as e:
            raise InterruptedError("stopping") from e
        for r in refused:  # a dead letter larger than the topic takes: nothing smaller to write
            log.error("dead letter refused by Kafka, not written: %s", r.error)

    def handle(self, batch: dict) -> db.WriteResult:
        """Write one poll's records, send its dead letters, then commit its offsets."""
        from kafka import OffsetAndMetadata, TopicPartition
        from kafka.errors import KafkaError

        records = [r for recs in batch.values() for r in recs]
        decoded, dead = self.decode(records)
        result, rejected = self.write(decoded)
        self._dead_letters(dead + rejected)
        offsets = {
            TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(recs[-1].offset + 1, "", -1)
            for tp, recs in batch.items()
            if recs
        }
        try:
            self._consumer.commit(offsets)
        except KafkaError as e:  # re-read after a restart or rebalance, and written again as the same rows
            log.warning("offset commit failed: %s", e)
        return result

    # ------------------------------------------------------------------ loop

    def run(self, max_idle_s: float | None = None) -> None:
        """Consume until ``stop()``, or until nothing came for ``max_idle_s`` after joining the group."""

        def handle(batch: dict) -> bool:
            if batch:
                self.handle(batch)  # commits after the write
            return False

        consume(self._consumer, handle, self._stop, poll_s=POLL_S, retry_s=RETRY_S, max_idle_s=max_idle_s)

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._consumer.close()
        self._sender.close()
        self._conn.close()


def store_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch store", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.parse_args(argv)
    s = StoreSettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = serve(s.metrics_port, addr=s.metrics_host) if s.metrics_port else None
    store = Store(s.kafka, s.postgres_dsn(), s.store_consumer_group, start_from=s.store_start_from)
    stop_on_signals(store.stop)
    log.info(
        "store consuming %s into %s:%d/%s",
        ", ".join(store.topic_models),
        s.postgres_host,
        s.postgres_port,
        s.postgres_db,
    )
    try:
        store.run()
    finally:
        store.close()
        if server is not None:
            server.shutdown()
    return 0

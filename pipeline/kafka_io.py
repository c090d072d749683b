"""Kafka at the edges of the Beam pipeline: the only pipeline module that talks to Kafka.

``ReadFromKafka`` is a splittable DoFn over (topic, partition) with an unbounded offset
restriction, reading with kafka-python, and ``WriteToKafka`` a DoFn around the shared
acked sender (``strikewatch.core.kafka.acks``). Both take a ``KafkaConfig`` (security
protocol, SASL, TLS); it pickles without its secrets, which the workers take from
their own settings.

Why not Beam's cross-language ``apache_beam.io.kafka.ReadFromKafka``: it needs the Java
expansion service jar of the same Beam release (``beam-sdks-java-io-expansion-service``
2.77.0) and a Java SDK harness. The Maven mirror this project builds from serves that
artifact only at 2.33.0/2.34.0/2.43.0 (measured 2026-11-24: 2.77.0 and 2.76.0 answer
404), and the Java harness defaults to a Docker environment, which has no engine here.
So the reader is Python; it keeps the cross-language reader's semantics that matter:

* offsets are claimed through an ``OffsetRestrictionTracker``, so a runner (Prism,
  Flink, Dataflow) can checkpoint and split the read;
* the consumer group's offsets are committed only from a bundle-finalization callback,
  i.e. after the runner has durably committed everything the bundle produced (on
  Flink: when a checkpoint completes), and only for offsets claimed ``COMMIT_LAG_S``
  ago, so a restarted job resumes where it stopped and loses nothing (at-least-once;
  record ids are content-derived, so a replay produces the same keys);
* the partitions are reshuffled before they are read, so a runner with several
  workers spreads the reads over them;
* the watermark follows record timestamps, and advances with wall time while a
  partition is idle so event-time windows downstream still fire.

Run it through ``pipeline.main`` (``strikewatch pipeline``).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.utils.timestamp import Duration, Timestamp

from strikewatch.core import topics as catalogue
from strikewatch.core.kafka import AckedSender, KafkaConfig, NotAcknowledged, Rejected, clients
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, Gauge, SimpleNamespace
from strikewatch.core.models import DeadLetter, Reason

from .errors import PipelineError
from .recovery import LOAD_TIMEOUT_S, WINDOWS_S, Seeds, open_incidents, sent_fingerprints

if TYPE_CHECKING:  # for annotations only: load_seeds imports recovery when it runs
    from .recovery import RecoveryConfig, Seeds

log = logging.getLogger(__name__)

# Longest one process() call polls an idle partition before handing the rest of it
# back to the runner (a self-checkpoint); a call that got records returns as soon as
# it has taken what the consumer already fetched, since a bundle's outputs move
# downstream only when it ends. Measured with bench/bench_e2e.py on Prism at 20
# articles/s: polling to the deadline, 1.0 s gave p50/p99 1.9/5.6 s and 0.3 s 1.7/4.7 s;
# returning after the first batch, p50/p99 0.16/1.70 s with burst throughput 0.72 of
# bare spaCy (returning after one poll, without taking what was fetched, cost burst
# throughput on Flink: 0.62 against 0.86).
POLL_SECONDS = 0.3
# kafka-python poll timeout per call, in ms; a quarter of POLL_SECONDS so a bundle
# that has records returns soon after the batch arrives.
POLL_TIMEOUT_MS = 250
# Maximum records handed back by one poll; bounds a bundle's memory (articles are
# at most a few hundred kB each).
MAX_POLL_RECORDS = 200
# After a partition has been idle this long, the watermark advances to wall time
# minus this, so windows close even when no article arrives. 5 s: longer than a
# broker round trip plus producer linger, short against the minutes-scale windows.
IDLE_WATERMARK_LAG_S = 5.0
# Delay before the runner resumes a partition that had no records (seconds). At 20
# articles/s over 6 partitions most polls of a partition find nothing, and a record
# arriving during this pause waits for it. Measured on the local Flink, publish ->
# extraction at 20 articles/s (100-200 articles): p50 0.94 s at 0.5 s, 0.74 s at 0.1 s.
IDLE_RESUME_S = 0.1
# Delay before a partition is read again after the broker could not be reached
# (seconds): the broker restarts in ~4 s here, so 2 s retries find it soon after.
BROKER_RETRY_S = 2.0
# How long a starting job waits for the broker before it fails (seconds): longer
# than a broker restart or a rolling upgrade, short enough that a wrong address fails.
BROKER_WAIT_S = 300.0
# Offsets are committed only once they were claimed at least this long ago (seconds).
# Bundle finalization tells that the runner holds a bundle's output, not that the
# stages after it have written their records to Kafka: Prism keeps in-flight elements
# in memory, so a killed pipeline would lose what it had read and committed but not
# yet written. Measured here: Kafka-in to events-out p99 is 4.6 s at 20 articles/s
# (bench/bench_e2e.py), so 30 s covers a full pipeline with margin; the cost is that
# a restart re-reads up to 30 s of articles (same record ids, so downstream dedups).
COMMIT_LAG_S = 30.0
# A bundle's writes that the broker did not acknowledge are re-sent every
# WRITE_BACKOFF_S seconds for up to WRITE_RETRY_S seconds (a broker restart, a
# leader election) before the bundle fails; the producer itself already retried
# each batch for its delivery timeout (120 s).
WRITE_BACKOFF_S = 2.0
WRITE_RETRY_S = 600.0
# Bytes of a record the topic refused (too large) kept in its dead letter: enough to
# see what it was; the record itself (a 7.4 MB Event from a 181k-character article)
# is what the topic could not take.
DEAD_PAYLOAD_BYTES = 65536
WRITE_STAGE = "pipeline.write"


# Offsets claimed and not yet committed, per (group, topic, partition): (monotonic time
# claimed, next offset), oldest first. Process-wide, not per DoFn instance: a worker
# runs concurrent bundles in separate DoFn instances, so the bundle that finalizes a
# partition's later read is often not the one that claimed its records.
_CLAIMS: dict[tuple[str, str, int], deque] = {}
_CLAIMS_LOCK = threading.Lock()


def _kafka_error(topic: str, op: str, e: object, retry_s: float = BROKER_RETRY_S) -> None:
    """Count and log a Kafka call that failed and will be retried."""
    METRICS.errors.labels(topic, op).inc()
    log.warning("Kafka %s on %s failed, retrying in %.0f s: %s", op, topic, retry_s, e)


class KafkaIOError(PipelineError):
    """A Kafka edge of the pipeline failed (connection, topic missing)."""


class KafkaRecord(NamedTuple):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        consumed=Counter(
            "strikewatch_pipeline_kafka_records_consumed_total",
            "Records read from Kafka by the pipeline",
            ["topic"],
            registry=registry,
        ),
        produced=Counter(
            "strikewatch_pipeline_kafka_records_produced_total",
            "Records written to Kafka by the pipeline",
            ["topic"],
            registry=registry,
        ),
        commits=Counter(
            "strikewatch_pipeline_kafka_offset_commits_total",
            "Offset commits after bundle finalization",
            ["topic", "outcome"],
            registry=registry,
        ),
        position=Gauge(
            "strikewatch_pipeline_kafka_position",
            "Next offset the pipeline reads, per topic (summed over partitions)",
            ["topic"],
            registry=registry,
        ),
        errors=Counter(
            "strikewatch_pipeline_kafka_errors_total",
            "Kafka calls that failed and were retried (broker unreachable)",
            ["topic", "op"],
            registry=registry,
        ),
    )


METRICS = make_metrics()


@dataclass(frozen=True)
class ConsumerConfig:
    kafka: KafkaConfig
    group_id: str
    # Where a partition without a committed offset starts: "earliest" so a fresh
    # deployment processes what the connectors already produced.
    auto_offset_reset: str = "earliest"
    # False for state topics read whole on every start (the compacted subscriptions
    # topic): no group offsets are used or committed.
    commit_offsets: bool = True
    commit_lag_s: float = COMMIT_LAG_S

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    def consumer(self):
        # Articles can be a few MB after full-text fetch: the client's fetch size is the
        # articles topic's 4 MiB message limit (clients.CONSUMER_DEFAULTS).
        return clients.consumer(
            self.kafka,
            group_id=self.group_id if self.commit_offsets else None,
            auto_offset_reset=self.auto_offset_reset,
            max_poll_records=MAX_POLL_RECORDS,
            consumer_timeout_ms=POLL_TIMEOUT_MS,
        )


class KafkaOffsetTracker(OffsetRestrictionTracker):
    """Offset tracker for an unbounded partition: only checkpoint splits.

    A fractional split of [start, infinity) would cut at an offset billions of
    records ahead and hand the runner a residual whose first claim is "before its
    start"; Kafka partitions are read by one reader each, so the only split that
    makes sense is the checkpoint (fraction 0), which ends the current read at the
    last claimed offset and resumes from the next one."""

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder > 0:
            return None
        return super().try_split(fraction_of_remainder)


class _ListPartitions(beam.DoFn):
    """Impulse -> one (topic, partition) element per partition of each topic."""

    def __init__(self, config: ConsumerConfig, topics: list[str]):
        self._config, self._topics = config, topics

    def process(self, _impulse) -> Iterable[tuple[str, int]]:
        for topic in self._topics:
            for p in sorted(self._partitions(topic)):
                yield (topic, p)

    def _partitions(self, topic: str) -> set[int]:
        from kafka.errors import KafkaError

        give_up = time.monotonic() + BROKER_WAIT_S
        while True:
            try:
                consumer = self._config.consumer()
                try:
                    parts = consumer.partitions_for_topic(topic)
                finally:
                    consumer.close()
            except KafkaError as e:  # broker not reachable (yet): wait for it, bounded
                parts, error = None, e
            else:
                error = None
            if parts:
                return parts
            if time.monotonic() > give_up:
                raise KafkaIOError(
                    f"topic {topic!r} has no partitions on {self._config.bootstrap_servers} "
                    f"after {BROKER_WAIT_S:.0f} s "
                    f"(run `strikewatch up`){f': {error}' if error else ''}"
                )
            _kafka_error(topic, "partitions", error or f"topic not found on {self._config.bootstrap_servers}")
            time.sleep(BROKER_RETRY_S)


class _ReadPartition(beam.DoFn, RestrictionProvider):
    """Splittable DoFn reading one Kafka partition from the restriction's start.

    It is its own RestrictionProvider: restriction = offsets [committed, infinity) of
    the partition (Beam uses the DoFn when ``RestrictionParam`` names no provider)."""

    def __init__(self, config: ConsumerConfig):
        self._config = config

    def setup(self) -> None:
        # One consumer per partition this worker reads, reused across bundles.
        self._consumers: dict[tuple[str, int], object] = {}
        self._last_record_wall: dict[tuple[str, int], float] = {}
        # The harness may tear this instance down on another thread while a read is
        # polling (a cancelled job): the consumers are used and closed under this lock,
        # held for one poll at most, so a poll never runs on a closed consumer (seen:
        # "KafkaConsumer is closed", then a RuntimeError traceback on every stop).
        self._io_lock = threading.Lock()
        self._closed = False

    def initial_restriction(self, element: tuple[str, int]) -> OffsetRange:
        from kafka.errors import KafkaError

        give_up = time.monotonic() + BROKER_WAIT_S
        while True:
            try:
                return OffsetRange(self._start_offset(*element), sys.maxsize)
            except KafkaError as e:  # broker restarting while the job starts
                if time.monotonic() > give_up:
                    raise KafkaIOError(
                        f"no start offset for {element} from {self._config.bootstrap_servers} "
                        f"within {BROKER_WAIT_S:.0f} s: {e}"
                    ) from e
                _kafka_error(element[0], "start_offset", e)
                time.sleep(BROKER_RETRY_S)

    def _start_offset(self, topic: str, partition: int) -> int:
        from kafka import TopicPartition

        tp = TopicPartition(topic, partition)
        consumer = self._config.consumer()
        try:
            consumer.assign([tp])
            committed = consumer.committed(tp) if self._config.commit_offsets else None
            if committed is not None:
                return committed
            if self._config.auto_offset_reset == "latest":
                return consumer.end_offsets([tp])[tp]
            return consumer.beginning_offsets([tp])[tp]
        finally:
            consumer.close()

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return KafkaOffsetTracker(restriction)

    def split(self, element, restriction: OffsetRange):
        # No initial split: one reader per partition (see KafkaOffsetTracker).
        yield restriction

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        # An unbounded restriction has no meaningful size; report a constant so the
        # runner does not try to split it by size.
        return 1

    def _consumer_at(self, topic: str, partition: int, offset: int):
        from kafka import TopicPartition

        key = (topic, partition)
        consumer = self._consumers.get(key)
        tp = TopicPartition(topic, partition)
        if consumer is None:
            consumer = self._config.consumer()
            consumer.assign([tp])
            self._consumers[key] = consumer
        if consumer.position(tp) != offset:
            consumer.seek(tp, offset)
        return consumer, tp

    def _commit_matured(self, topic: str, partition: int) -> None:
        """Bundle-finalization callback: commit the newest offset claimed at least
        ``commit_lag_s`` ago."""
        if (topic, partition) not in self._consumers:
            return  # this instance cannot commit (yet); the claims wait for one that can
        cutoff = time.monotonic() - self._config.commit_lag_s
        matured = None
        with _CLAIMS_LOCK:
            claims = _CLAIMS.get((self._config.group_id, topic, partition))
            while claims and claims[0][0] <= cutoff:
                matured = claims.popleft()[1]
        if matured is not None:
            self._commit(topic, partition, matured)

    def _commit(self, topic: str, partition: int, next_offset: int) -> None:
        from kafka import TopicPartition

        with self._io_lock:
            consumer = self._consumers.get((topic, partition))
            if consumer is None or self._closed:
                return
            self._commit_with(consumer, TopicPartition(topic, partition), next_offset)

    def _commit_with(self, consumer, tp, next_offset: int) -> None:
        from kafka import OffsetAndMetadata

        topic, partition = tp.topic, tp.partition
        try:
            # Several SDK worker processes may read one partition in turns (a restored
            # or rescaled Flink job), each committing its own matured claims: never
            # move the group's offset back to an older claim of another process.
            committed = consumer.committed(tp)
            if committed is not None and committed >= next_offset:
                METRICS.commits.labels(topic, "behind").inc()
                return
            consumer.commit({tp: OffsetAndMetadata(next_offset, "", -1)})
            METRICS.commits.labels(topic, "ok").inc()
        except Exception as e:  # a failed commit only means a re-read after restart
            log.warning("offset commit failed for %s[%d] at %d: %s", topic, partition, next_offset, e)
            METRICS.commits.labels(topic, "error").inc()

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        element: tuple[str, int],
        # The finalizer must come before the restriction and watermark parameters:
        # Beam passes those two by keyword and the ones after them by position.
        finalizer=beam.DoFn.BundleFinalizerParam,
        tracker=beam.DoFn.RestrictionParam(),
        watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterable[beam.window.TimestampedValue]:
        from kafka.errors import KafkaError

        topic, partition = element
        # Every bundle registers a finalizer: Prism asks each bundle of a stage that
        # uses finalization to finalize, and one that registered nothing answers
        # with an error. Committing matured claims from idle bundles too means an
        # idle partition's last records are committed COMMIT_LAG_S after they came.
        finalizer.register(
            lambda t=topic, p=partition: self._commit_matured(t, p) if self._config.commit_offsets else None
        )
        start = tracker.current_restriction().start
        try:
            with self._io_lock:
                if self._closed:  # torn down: the job is stopping
                    tracker.defer_remainder(Duration.of(BROKER_RETRY_S))
                    return
                consumer, tp = self._consumer_at(topic, partition, start)
        except KafkaError as e:  # broker away: keep the restriction, try again soon
            _kafka_error(topic, "position", e)
            tracker.defer_remainder(Duration.of(BROKER_RETRY_S))
            return
        deadline = time.monotonic() + POLL_SECONDS
        claimed_upto = None
        while (left_ms := int((deadline - time.monotonic()) * 1000)) > 0:
            # Wait for records only until the first batch; after it, take what the
            # consumer has already fetched and return: the records move on only when
            # the bundle ends, but a burst still fills the bundle.
            try:
                with self._io_lock:
                    if self._closed:
                        break
                    batch = consumer.poll(timeout_ms=min(POLL_TIMEOUT_MS, left_ms) if claimed_upto is None else 0).get(
                        tp, []
                    )
            except KafkaError as e:
                _kafka_error(topic, "poll", e)
                break
            for rec in batch:
                if not tracker.try_claim(rec.offset):
                    return
                claimed_upto = rec.offset
                ts = Timestamp.of(rec.timestamp / 1000.0)
                if ts > (watermark.current_watermark() or Timestamp(micros=-(2**62))):
                    watermark.set_watermark(ts)
                METRICS.consumed.labels(topic).inc()
                yield beam.window.TimestampedValue(
                    KafkaRecord(topic, partition, rec.offset, rec.key, rec.value, rec.timestamp), ts
                )
            if batch:
                self._last_record_wall[(topic, partition)] = time.time()
            elif claimed_upto is not None:
                break
        if claimed_upto is not None:
            METRICS.position.labels(topic).set(claimed_upto + 1)
            if self._config.commit_offsets:
                with _CLAIMS_LOCK:
                    _CLAIMS.setdefault((self._config.group_id, topic, partition), deque()).append(
                        (time.monotonic(), claimed_upto + 1)
                    )
        if claimed_upto is None:
            idle_since = self._last_record_wall.get((topic, partition), 0.0)
            if time.time() - idle_since > IDLE_WATERMARK_LAG_S:
                wall = Timestamp.of(time.time() - IDLE_WATERMARK_LAG_S)
                current = watermark.current_watermark()
                if current is None or wall > current:
                    watermark.set_watermark(wall)
        tracker.defer_remainder(Duration.of(IDLE_RESUME_S if claimed_upto is None else 0))

    def teardown(self) -> None:
        with self._io_lock:
            self._closed = True
            for consumer in self._consumers.values():
                try:
                    consumer.close()
                except Exception:  # closing on shutdown: nothing left to save
                    pass
            self._consumers.clear()


def _fusion_root(partition: tuple[str, int]) -> tuple[str, int]:
    """Identity step between the Reshuffle and the splittable read.

    Prism (2.77) runs a splittable DoFn as three transforms, pair-with-restriction ->
    split-and-size -> process, and copies the DoFn's ``requests_finalization`` flag onto
    all three. A stage whose first transform has the flag gets a FinalizeBundle request
    after every bundle, whether or not the bundle asked for one. When the read follows
    the Reshuffle directly, Prism makes pair-with-restriction a stage root (depending on
    the order it visits transforms in, so on some starts only); that stage never calls
    ``process()``, registers no finalizer, and the SDK harness, which released the bundle,
    answers "Bundle is not in a finalizable state" with a traceback on stderr (printed
    and logged: up to 4 per start with two readers). After this step the pairing fuses
    into this step's stage, whose root requests no finalization. Offsets were never at
    risk: they are committed from the process stage's finalization, which works."""
    return partition


class ReadFromKafka(beam.PTransform):
    """Unbounded read of ``topics`` as ``KafkaRecord`` elements timestamped by Kafka."""

    def __init__(
        self,
        kafka: KafkaConfig | str,
        topics: list[str],
        group_id: str,
        auto_offset_reset: str = "earliest",
        commit_offsets: bool = True,
        commit_lag_s: float = COMMIT_LAG_S,
    ):
        super().__init__()
        kafka = KafkaConfig.coerce(kafka)
        self._config = ConsumerConfig(kafka, group_id, auto_offset_reset, commit_offsets, commit_lag_s)
        self._topics = list(topics)

    def expand(self, pbegin):
        return (
            pbegin
            | "Impulse" >> beam.Impulse()
            | "ListPartitions" >> beam.ParDo(_ListPartitions(self._config, self._topics))
            # Impulse runs in one task, and a runner fuses ListPartitions with the read
            # after it: without a shuffle, every partition would be read by the one
            # worker that got the impulse (seen on Flink with two SDK workers).
            | "SpreadPartitions" >> beam.Reshuffle()
            # Not directly after the Reshuffle (see _fusion_root): a plain step here
            # keeps the read's restriction pairing out of bundle finalization on Prism.
            | "PartitionsToRead" >> beam.Map(_fusion_root)
            | "ReadPartitions" >> beam.ParDo(_ReadPartition(self._config))
        )


class _WriteDoFn(beam.DoFn):
    """Sends (topic, key, value) through the acked sender. A bundle completes only after
    the broker acknowledged all its records: ``finish_bundle`` waits, re-sends what failed
    (broker restarting) every WRITE_BACKOFF_S for up to WRITE_RETRY_S, and only then fails
    the bundle. A record the topic can never take (over its message size) is not retried:
    it becomes a dead letter (reason ``too_large``) on the dead-letters topic."""

    def __init__(self, kafka: KafkaConfig, dead_letters_topic: str = catalogue.DEAD_LETTERS.name):
        self._kafka, self._dead_topic = kafka, dead_letters_topic
        self._sender: AckedSender | None = None
        self._batch = None

    def _client(self) -> AckedSender:
        # The producer inside is created on first send, not in setup(): a worker may set
        # up a new DoFn instance while the broker is away, and the constructor would
        # then fail to bootstrap.
        if self._sender is None:
            self._sender = AckedSender(
                self._kafka,
                backoff_s=WRITE_BACKOFF_S,
                give_up_s=WRITE_RETRY_S,
                on_retry=lambda topic, e: _kafka_error(topic, "write", e, WRITE_BACKOFF_S),
                linger_ms=5,
            )  # 5 ms: batches a bundle's records without adding visible latency
        return self._sender

    def start_bundle(self) -> None:
        self._batch = self._client().batch()

    def process(self, element: tuple[str, bytes | None, bytes | None]):
        topic, key, value = element
        if self._batch is None:
            self.start_bundle()
        self._batch.send(topic, key, value)

    def finish_bundle(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None or not len(batch):
            return
        try:
            rejected = batch.wait()
            if rejected:
                dead = self._client().batch()
                for r in rejected:
                    dead.send(self._dead_topic, WRITE_STAGE.encode(), self._dead_letter(r).to_bytes())
                if dead.wait():  # a 64 kB dead letter the topic refuses: nothing smaller to write
                    log.error("dead letters of %d refused records were refused too", len(rejected))
                batch.acked.update(dead.acked)
        except NotAcknowledged as e:
            raise KafkaIOError(str(e)) from e
        for topic, n in batch.acked.items():
            METRICS.produced.labels(topic).inc(n)

    def _dead_letter(self, r: Rejected) -> DeadLetter:
        from pipeline.decode import count_dead

        size = len(r.value or b"")
        log.warning("record of %d bytes for %s refused by Kafka, dead-lettered: %s", size, r.topic, r.error)
        METRICS.errors.labels(r.topic, "too_large").inc()
        count_dead(WRITE_STAGE, Reason.TOO_LARGE)
        payload = (r.value or b"")[:DEAD_PAYLOAD_BYTES]
        error = f"{size} bytes for {r.topic}: {r.error}"
        return DeadLetter.of(WRITE_STAGE, Reason.TOO_LARGE, error, payload, source=r.topic)

    def teardown(self) -> None:
        if self._sender is not None:
            self._sender.close()
            self._sender = None


class WriteToKafka(beam.PTransform):
    """Writes ``(topic, key: bytes|None, value: bytes|None)`` tuples to Kafka."""

    def __init__(self, kafka: KafkaConfig | str, dead_letters_topic: str = catalogue.DEAD_LETTERS.name):
        super().__init__()
        self._kafka, self._dead_topic = KafkaConfig.coerce(kafka), dead_letters_topic

    def expand(self, records):
        return records | "Produce" >> beam.ParDo(_WriteDoFn(self._kafka, self._dead_topic))


def load_seeds(config: RecoveryConfig) -> Seeds:
    """What this pipeline published before it (re)started, read once per worker process
    (``pipeline/recovery.py``): the incidents still open and what each subscription was told
    about them. A read that fails (broker away past ``LOAD_TIMEOUT_S``) is a warning, and the
    pipeline goes on without: reports about incidents from before the restart then start new
    ones, as without recovery."""
    from kafka.errors import KafkaError

    from strikewatch.core.kafka import iter_since
    from strikewatch.core.kafka.window import WindowReadTimeout

    t0 = time.monotonic()
    now_s = time.time()
    try:  # decoded as they are read: the raw records are never all held at once
        open_, inc_counts = open_incidents(
            iter_since(
                config.kafka, config.incidents_topic, int((now_s - WINDOWS_S["incidents"]) * 1000), LOAD_TIMEOUT_S
            ),
            now_s,
        )
        sent, alert_counts = sent_fingerprints(
            iter_since(config.kafka, config.alerts_topic, int((now_s - WINDOWS_S["alerts"]) * 1000), LOAD_TIMEOUT_S)
        )
    except (WindowReadTimeout, KafkaError) as e:
        log.warning(
            "open incidents not recovered (%s): reports about incidents from before this start begin new ones", e
        )
        return Seeds()
    log.info(
        "recovered %d open incidents (%s) and what %d incidents' subscribers were told (%s) in %.1f s",
        inc_counts["open"],
        inc_counts,
        alert_counts["incidents"],
        alert_counts,
        time.monotonic() - t0,
    )
    return Seeds(open_, sent)

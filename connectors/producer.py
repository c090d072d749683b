"""The one connectors module that talks to Kafka.

``Publisher`` wraps an idempotent kafka-python producer (acks=all, retries, key =
article id) that writes articles, dead letters and dedup marks; ``read_compacted``
reads a compacted topic to its end (the dedup state on start-up).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from strikewatch import topics
from strikewatch.models import Article, DeadLetter

from .errors import ConnectorError

log = logging.getLogger(__name__)

# Producer batching: 10 ms linger groups a feed's articles into one request without
# visible latency; gzip halves article payloads.
LINGER_MS = 10
FLUSH_TIMEOUT_S = 30.0
# Records the broker did not acknowledge within the producer's delivery timeout
# (120 s: a broker away that long) are re-sent every RESEND_BACKOFF_S seconds by
# flush() until they are, so an outage delays articles but loses none.
RESEND_BACKOFF_S = 5.0
# Largest record value sent (bytes, before compression). The articles topic and the local broker take 4 MiB
# (topics.py, stack.py: 4,194,304) and the producer's max_request_size is the same; 64 KiB less leaves room
# for the key, headers and batch overhead. A larger Article is a dead letter (too_large), never a send the
# broker refuses and we would re-send forever.
MAX_RECORD_BYTES = 4 * 1024 * 1024 - 64 * 1024
# A dead letter keeps this much of the record it replaces: enough to see what it was.
DEAD_PAYLOAD_BYTES = 64 * 1024


class RecordTooLarge(ConnectorError):
    """A record over ``MAX_RECORD_BYTES``: not sent; the caller dead-letters it."""

    reason = "too_large"


def _permanent(e: Exception) -> bool:
    """Errors that no re-send can fix: the record itself is refused."""
    from kafka.errors import (CorruptRecordError, InvalidRecordError, InvalidTopicError, MessageSizeTooLargeError,
                              RecordListTooLargeError)

    return isinstance(e, (MessageSizeTooLargeError, RecordListTooLargeError, InvalidRecordError, CorruptRecordError,
                          InvalidTopicError))


@dataclass(frozen=True)
class TopicNames:
    articles: str = topics.ARTICLES.name
    seen: str = topics.SEEN.name
    dead_letters: str = topics.DEAD_LETTERS.name


class Publisher:
    def __init__(self, bootstrap: str, names: TopicNames = TopicNames()):
        self.names = names
        self._bootstrap = bootstrap
        self._producer = self._new_producer()
        self._failed: list[tuple[str, bytes, bytes]] = []  # sends the broker never acknowledged
        self._refused: list[tuple[str, bytes, bytes]] = []  # failed with an error no re-send in order can fix
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def _new_producer(self):
        from kafka import KafkaProducer

        return KafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=LINGER_MS,
            compression_type="gzip", max_request_size=4 * 1024 * 1024, retries=2**31 - 1,
        )

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        from kafka.errors import KafkaError

        def failed(e, rec=(topic, key, value)):
            with self._lock:
                if _permanent(e):  # flush() isolates the refused record and dead-letters it
                    self._refused.append(rec)
                else:
                    self._failed.append(rec)

        try:
            self._producer.send(topic, key=key, value=value).add_errback(failed)
        except KafkaError as e:  # no metadata or buffer space within max_block_ms
            failed(e)

    def article(self, article: Article) -> None:
        """Send an article; ``RecordTooLarge`` (nothing sent) when it is over ``MAX_RECORD_BYTES``."""
        value = article.to_bytes()
        if len(value) > MAX_RECORD_BYTES:
            raise RecordTooLarge(f"article is {len(value)} bytes, over the {MAX_RECORD_BYTES}-byte record limit",
                                 payload=value[:DEAD_PAYLOAD_BYTES])
        self._send(self.names.articles, article.id.encode(), value)

    def seen(self, keys: list[str], article_id: str) -> None:
        for k in keys:
            self._send(self.names.seen, k.encode(), article_id.encode())

    def dead_letter(self, dl: DeadLetter) -> None:
        self._send(self.names.dead_letters, dl.stage.encode(), dl.to_bytes())

    def flush(self) -> None:
        """Wait until everything sent so far is acknowledged; what the broker did not
        take is re-sent (in order) until it is, or until ``close()`` gives up."""
        from kafka.errors import KafkaTimeoutError

        while True:
            try:
                self._producer.flush(timeout=FLUSH_TIMEOUT_S)
            except KafkaTimeoutError:  # still in the producer's own retries: keep waiting
                if self._closing.is_set():
                    log.error("closing with records still unacknowledged after %.0f s", FLUSH_TIMEOUT_S)
                    return
                continue
            with self._lock:
                failed, self._failed = self._failed, []
                refused, self._refused = self._refused, []
            if refused:
                self._dead_letter_refused(refused)
                continue  # wait for those dead letters and the re-sends of what the refusal aborted
            if not failed:
                return
            if self._closing.is_set():
                log.error("closing with %d records the broker did not acknowledge", len(failed))
                return
            log.warning("%d records not acknowledged by Kafka; re-sending in %.0f s", len(failed), RESEND_BACKOFF_S)
            self._closing.wait(RESEND_BACKOFF_S)
            for rec in failed:
                self._send(*rec)

    def _dead_letter_refused(self, refused: list[tuple[str, bytes, bytes]]) -> None:
        """The broker refused a batch for good (e.g. MESSAGE_TOO_LARGE under a topic limit below ours). An
        idempotent producer treats that as fatal and aborts every batch in flight with the same error, so
        the refused records are sent again one at a time on a new producer: the one that is refused again
        becomes a dead letter, the others go through. (Rare: ``article()`` checks sizes before sending.)"""
        from kafka.errors import KafkaError

        dead: list[DeadLetter] = []
        broken = True
        for topic, key, value in refused:
            if broken:
                self._replace_producer()
                broken = False
            try:
                self._producer.send(topic, key=key, value=value).get(timeout=FLUSH_TIMEOUT_S)
            except KafkaError as e:
                broken = True
                if not _permanent(e):
                    with self._lock:
                        self._failed.append((topic, key, value))
                    continue
                log.error("record for %s refused by Kafka (%s): dead-lettered, not re-sent", topic, type(e).__name__)
                if topic != self.names.dead_letters:  # a refused dead letter is only logged: no loop
                    reason = "too_large" if "TooLarge" in type(e).__name__ else "kafka_refused"
                    dead.append(DeadLetter.of("connector.publish", reason, e, value[:DEAD_PAYLOAD_BYTES], source=topic))
        if broken:
            self._replace_producer()
        for dl in dead:
            self._send(self.names.dead_letters, dl.stage.encode(), dl.to_bytes())

    def _replace_producer(self) -> None:
        old, self._producer = self._producer, self._new_producer()
        old.close(timeout=0)

    def stop(self) -> None:
        """Stop re-sending (SIGTERM): flushes in progress return after one more try."""
        self._closing.set()

    def close(self) -> None:
        """One last flush, no re-send loop: a stop must not hang on a broker that is away."""
        self._closing.set()
        self.flush()
        self._producer.close()


def read_compacted(bootstrap: str, topic: str, timeout_s: float = 60.0) -> dict[bytes, bytes | None]:
    """Latest value per key of a (compacted) topic, read from the beginning to the end
    offsets taken at start. Tombstones map to None."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
    try:
        parts = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or [])]
        if not parts:
            return {}
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        state: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} to its end took over {timeout_s} s")
            for tp, records in consumer.poll(timeout_ms=500).items():
                for r in records:
                    state[r.key] = r.value
        return state
    finally:
        consumer.close()

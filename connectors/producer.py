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

log = logging.getLogger(__name__)

# Producer batching: 10 ms linger groups a feed's articles into one request without
# visible latency; gzip halves article payloads.
LINGER_MS = 10
FLUSH_TIMEOUT_S = 30.0
# Records the broker did not acknowledge within the producer's delivery timeout
# (120 s: a broker away that long) are re-sent every RESEND_BACKOFF_S seconds by
# flush() until they are, so an outage delays articles but loses none.
RESEND_BACKOFF_S = 5.0


@dataclass(frozen=True)
class TopicNames:
    articles: str = topics.ARTICLES.name
    seen: str = topics.SEEN.name
    dead_letters: str = topics.DEAD_LETTERS.name


class Publisher:
    def __init__(self, bootstrap: str, names: TopicNames = TopicNames()):
        from kafka import KafkaProducer

        self.names = names
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=LINGER_MS,
            compression_type="gzip", max_request_size=4 * 1024 * 1024, retries=2**31 - 1,
        )
        self._failed: list[tuple[str, bytes, bytes]] = []  # sends the broker never acknowledged
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        from kafka.errors import KafkaError

        def failed(e, rec=(topic, key, value)):
            with self._lock:
                self._failed.append(rec)

        try:
            self._producer.send(topic, key=key, value=value).add_errback(failed)
        except KafkaError as e:  # no metadata or buffer space within max_block_ms
            failed(e)

    def article(self, article: Article) -> None:
        self._send(self.names.articles, article.id.encode(), article.to_bytes())

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
            if not failed:
                return
            if self._closing.is_set():
                log.error("closing with %d records the broker did not acknowledge", len(failed))
                return
            log.warning("%d records not acknowledged by Kafka; re-sending in %.0f s", len(failed), RESEND_BACKOFF_S)
            self._closing.wait(RESEND_BACKOFF_S)
            for rec in failed:
                self._send(*rec)

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

"""The one connectors module that talks to Kafka.

``Publisher`` wraps an idempotent kafka-python producer (acks=all, retries, key =
article id) that writes articles, dead letters and dedup marks; ``read_compacted``
reads a compacted topic to its end (the dedup state on start-up).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from strikewatch import topics
from strikewatch.models import Article, DeadLetter

log = logging.getLogger(__name__)

# Producer batching: 10 ms linger groups a feed's articles into one request without
# visible latency; gzip halves article payloads.
LINGER_MS = 10
FLUSH_TIMEOUT_S = 30.0


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

    def article(self, article: Article) -> None:
        self._producer.send(self.names.articles, key=article.id.encode(), value=article.to_bytes())

    def seen(self, keys: list[str], article_id: str) -> None:
        for k in keys:
            self._producer.send(self.names.seen, key=k.encode(), value=article_id.encode())

    def dead_letter(self, dl: DeadLetter) -> None:
        self._producer.send(self.names.dead_letters, key=dl.stage.encode(), value=dl.to_bytes())

    def flush(self) -> None:
        self._producer.flush(timeout=FLUSH_TIMEOUT_S)

    def close(self) -> None:
        self._producer.flush(timeout=FLUSH_TIMEOUT_S)
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

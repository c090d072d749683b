"""The one connectors module that talks to Kafka.

``Publisher`` writes articles, dead letters and dedup marks through the shared acked
sender (``strikewatch.core.kafka.acks``: idempotent producer, acks=all, key = article id).
Each polling thread's ``flush()`` waits until the broker acknowledged what that thread
sent, re-sending while the broker is away. An article over ``MAX_RECORD_BYTES`` is not
sent (``RecordTooLarge``: the caller dead-letters that item); a record the broker still
refuses for good (a topic limit below ours) becomes a dead letter instead of being
re-sent forever. ``read_compacted`` (re-exported) reads a compacted topic to its end.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from strikewatch.core import topics
from strikewatch.core.kafka import AckedSender, Batch, KafkaConfig, Rejected, Stopping, read_compacted
from strikewatch.core.kafka.clients import MAX_MESSAGE_BYTES
from strikewatch.core.models import Article, DeadLetter, Reason

from .errors import ConnectorError

__all__ = ["MAX_RECORD_BYTES", "Publisher", "RecordTooLarge", "TopicNames", "read_compacted"]

log = logging.getLogger(__name__)

# Producer batching: 10 ms linger groups a feed's articles into one request without
# visible latency.
LINGER_MS = 10
# Records the broker did not acknowledge within the producer's delivery timeout
# (120 s: a broker away that long) are re-sent every RESEND_BACKOFF_S seconds by
# flush() until they are, so an outage delays articles but loses none.
RESEND_BACKOFF_S = 5.0
# Largest record value sent (bytes, before compression). The articles topic and the local broker take 4 MiB
# (topics.py, stack.py: 4,194,304) and the producer's max_request_size is the same; 64 KiB less leaves room
# for the key, headers and batch overhead. A larger Article is a dead letter (too_large), never a send the
# broker refuses and we would re-send forever.
MAX_RECORD_BYTES = MAX_MESSAGE_BYTES - 64 * 1024
# A dead letter keeps this much of the record it replaces: enough to see what it was.
DEAD_PAYLOAD_BYTES = 64 * 1024
STAGE = "connector.publish"


class RecordTooLarge(ConnectorError):
    """A record over ``MAX_RECORD_BYTES``: not sent; the caller dead-letters it."""

    reason = "too_large"


@dataclass(frozen=True)
class TopicNames:
    articles: str = topics.ARTICLES.name
    seen: str = topics.SEEN.name
    dead_letters: str = topics.DEAD_LETTERS.name


class Publisher:
    def __init__(self, kafka: KafkaConfig | str, names: TopicNames = TopicNames()):
        self.names = names
        self._closing = threading.Event()
        self._sender = AckedSender(
            kafka, backoff_s=RESEND_BACKOFF_S, stop=self._closing, linger_ms=LINGER_MS, retries=2**31 - 1
        )
        self._local = threading.local()  # each polling thread's batch of unacknowledged sends

    def _batch(self) -> Batch:
        batch = getattr(self._local, "batch", None)
        if batch is None:
            batch = self._local.batch = self._sender.batch()
        return batch

    def _send(self, topic: str, key: bytes, value: bytes) -> None:
        self._batch().send(topic, key, value)

    def article(self, article: Article) -> None:
        """Send an article; ``RecordTooLarge`` (nothing sent) when it is over ``MAX_RECORD_BYTES``."""
        value = article.to_bytes()
        if len(value) > MAX_RECORD_BYTES:
            raise RecordTooLarge(
                f"article is {len(value)} bytes, over the {MAX_RECORD_BYTES}-byte record limit",
                payload=value[:DEAD_PAYLOAD_BYTES],
            )
        self._send(self.names.articles, article.id.encode(), value)

    def seen(self, keys: list[str], article_id: str) -> None:
        for k in keys:
            self._send(self.names.seen, k.encode(), article_id.encode())

    def dead_letter(self, dl: DeadLetter) -> None:
        self._send(self.names.dead_letters, dl.stage.encode(), dl.to_bytes())

    def flush(self) -> None:
        """Wait until everything this thread sent is acknowledged; what the broker did not
        take is re-sent (in order) until it is, or until ``stop()``/``close()`` gives up. A
        record the broker refuses for good becomes a dead letter (a refused dead letter is
        only logged: no loop)."""
        try:
            rejected = self._batch().wait()
            dead = [self._refused(r) for r in rejected if r.topic != self.names.dead_letters]
            for dl in dead:
                self.dead_letter(dl)
            if dead:
                self._batch().wait()
        except Stopping as e:
            log.error("closing: %s", e)

    def _refused(self, r: Rejected) -> DeadLetter:
        log.error("record for %s refused by Kafka (%s): dead-lettered, not re-sent", r.topic, type(r.error).__name__)
        reason = Reason.TOO_LARGE if "TooLarge" in type(r.error).__name__ else Reason.KAFKA_REFUSED
        payload = (r.value or b"")[:DEAD_PAYLOAD_BYTES]
        return DeadLetter.from_error(STAGE, r.error, payload, source=r.topic, reason=reason)

    def stop(self) -> None:
        """Stop re-sending (SIGTERM): flushes in progress return after one more try."""
        self._closing.set()

    def close(self) -> None:
        """One last flush, no re-send loop: a stop must not hang on a broker that is away."""
        self._closing.set()
        self.flush()
        self._sender.close()

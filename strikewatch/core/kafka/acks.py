"""Acked sends: records reach Kafka, or the caller is told exactly which could not.

    sender = AckedSender(settings.kafka, backoff_s=2.0, give_up_s=600.0)
    batch = sender.batch()
    batch.send("strikewatch.events", key, value)
    rejected = batch.wait()   # [] once the broker acknowledged every record

``Batch.wait`` returns when every record of the batch was acknowledged (acks=all,
idempotent producer). A record the broker did not take for a reason that can pass (a
broker restart, a leader election, no metadata yet, no producer because the broker was
away at start) is re-sent every ``backoff_s`` seconds, in order; one that can never be
written (larger than the topic allows) is not retried but returned as a ``Rejected``
for the caller to dead-letter. ``wait`` raises ``NotAcknowledged`` once ``give_up_s``
has passed, and ``Stopping`` when the ``stop`` event is set (after one last flush).

The producer is created on first use, not in the constructor: a process that starts
while the broker is away waits for it like for any other outage.

It replaces the three re-send loops the connectors' Publisher, the deliverer and the
Beam writer each had.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strikewatch.core.errors import StrikewatchError
from strikewatch.core.kafka import clients
from strikewatch.core.kafka.config import KafkaConfig

log = logging.getLogger(__name__)

# Longest one producer.flush() blocks before the batch is looked at again (seconds):
# the producer retries a batch by itself for its delivery timeout (120 s), so this only
# decides how often a stop or the give-up time is noticed.
FLUSH_TIMEOUT_S = 30.0
# Seconds close() waits for records still in the producer: a stop must not hang on a
# broker that is away.
CLOSE_TIMEOUT_S = 10.0


class NotAcknowledged(StrikewatchError):
    """Records were not acknowledged by the broker within the sender's give-up time."""


class Stopping(StrikewatchError):
    """The sender was asked to stop while records were still unacknowledged."""


def permanent(error: BaseException) -> bool:
    """True for errors that re-sending the same record cannot fix: the record itself is refused."""
    from kafka.errors import (
        CorruptRecordError,
        InvalidRecordError,
        InvalidTopicError,
        MessageSizeTooLargeError,
        RecordListTooLargeError,
    )

    return isinstance(
        error,
        (MessageSizeTooLargeError, RecordListTooLargeError, InvalidRecordError, CorruptRecordError, InvalidTopicError),
    )


@dataclass(frozen=True)
class Rejected:
    """A record the broker can never take, and why."""

    topic: str
    key: bytes | None
    value: bytes | None
    error: BaseException


@dataclass
class _Record:
    topic: str
    key: bytes | None
    value: bytes | None
    outcome: Any  # a kafka-python FutureRecordMetadata, or the exception send() raised
    producer: Any = None  # the producer that sent it
    alone: bool = False  # sent in a produce batch of its own

    @property
    def error(self) -> BaseException | None:
        if isinstance(self.outcome, BaseException):
            return self.outcome
        return self.outcome.exception if self.outcome.is_done and self.outcome.failed() else None


class AckedSender:
    """One lazily created producer and the re-send policy; ``batch()`` for each unit of
    work whose records must all be acknowledged together. Thread-safe: each thread
    uses its own batches."""

    def __init__(
        self,
        config: KafkaConfig | str,
        *,
        backoff_s: float,
        give_up_s: float | None = None,
        stop: threading.Event | None = None,
        on_retry: Callable[[str, BaseException], None] | None = None,
        **producer_overrides: Any,
    ):
        self.config = KafkaConfig.coerce(config)
        self.backoff_s, self.give_up_s = backoff_s, give_up_s
        self.stop = stop or threading.Event()
        self._on_retry = on_retry
        self._overrides = producer_overrides
        self._producer = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AckedSender({self.config.bootstrap_servers!r}, backoff_s={self.backoff_s}, give_up_s={self.give_up_s})"

    def batch(self) -> Batch:
        return Batch(self)

    def send_and_wait(self, topic: str, key: bytes | None, value: bytes | None) -> Rejected | None:
        """One record, acknowledged; returns it as Rejected if it can never be written."""
        batch = self.batch()
        batch.send(topic, key, value)
        rejected = batch.wait()
        return rejected[0] if rejected else None

    def _client(self):
        with self._lock:
            if self._producer is None:
                self._producer = clients.producer(self.config, **self._overrides)
            return self._producer

    def _send(self, topic: str, key: bytes | None, value: bytes | None, alone: bool = False) -> _Record:
        from kafka.errors import KafkaError

        producer = None
        try:
            producer = self._client()
            outcome = producer.send(topic, key=key, value=value)
        except KafkaError as e:  # no producer (broker away), no metadata or buffer within max_block_ms, too large
            outcome = e
        return _Record(topic, key, value, outcome, producer, alone)

    def _flush(self, timeout_s: float) -> None:
        from kafka.errors import KafkaError

        producer = self._producer
        if producer is None:
            return
        try:
            producer.flush(timeout=max(0.1, timeout_s))
        except KafkaError:  # still in the producer's own retries: the records are looked at one by one
            pass

    def _discard(self, producer) -> None:
        """Replace ``producer`` after a non-retriable error from the broker. kafka-python
        3.0.12 moves an idempotent producer into a fatal state on one (measured: after one
        MESSAGE_TOO_LARGE, every later send to the partition failed with the same error),
        so the records after it need a new producer. Its unsent records fail and are re-sent."""
        with self._lock:
            if producer is None or self._producer is not producer:
                return
            self._producer = None
        log.warning("Kafka producer replaced after a non-retriable error")
        producer.close(timeout=0)

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=timeout_s)


class Batch:
    """Records sent together; ``wait()`` until all are acknowledged."""

    def __init__(self, sender: AckedSender):
        self._sender = sender
        self._pending: list[_Record] = []
        self.acked: Counter[str] = Counter()  # acknowledged records per topic, filled by wait()

    def __len__(self) -> int:
        return len(self._pending)

    def send(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        self._pending.append(self._sender._send(topic, key, value))

    def wait(self) -> list[Rejected]:
        s = self._sender
        give_up = None if s.give_up_s is None else time.monotonic() + s.give_up_s
        pending, self._pending = self._pending, []
        rejected: list[Rejected] = []
        while pending:
            left = FLUSH_TIMEOUT_S if give_up is None else min(FLUSH_TIMEOUT_S, give_up - time.monotonic())
            s._flush(left)
            waiting, failed, isolate = [], [], []
            for rec in pending:
                if not isinstance(rec.outcome, BaseException) and not rec.outcome.is_done:
                    waiting.append(rec)
                    continue
                error = rec.error
                if error is None:
                    self.acked[rec.topic] += 1
                    continue
                from_broker = not isinstance(rec.outcome, BaseException)
                if from_broker and not getattr(error, "retriable", False):
                    s._discard(rec.producer)
                if permanent(error) and from_broker and not rec.alone:
                    # The broker refused a whole produce batch, or the producer was already in
                    # its fatal state (see _discard): a record the topic would take may be among
                    # them. Each is tried once more, in a batch of its own, on a new producer.
                    isolate.append(rec)
                elif permanent(error):
                    rejected.append(Rejected(rec.topic, rec.key, rec.value, error))
                else:
                    failed.append((rec, error))
            for rec in isolate:
                alone = s._send(rec.topic, rec.key, rec.value, alone=True)
                s._flush(FLUSH_TIMEOUT_S)  # the next record goes in a new batch
                if alone.error is not None and permanent(alone.error):
                    s._discard(alone.producer)
                waiting.append(alone)
            if not waiting and not failed:
                break
            left_over = len(waiting) + len(failed)
            if s.stop.is_set():
                raise Stopping(f"stopping with {left_over} records the broker did not acknowledge")
            if give_up is not None and time.monotonic() > give_up:
                raise NotAcknowledged(
                    f"{left_over} records not acknowledged by {s.config.bootstrap_servers} within {s.give_up_s:.0f} s"
                )
            if failed:
                for topic, error in {rec.topic: e for rec, e in failed}.items():
                    if s._on_retry is not None:
                        s._on_retry(topic, error)
                log.warning(
                    "%d records not acknowledged by Kafka (%s); re-sending in %.0f s",
                    len(failed),
                    failed[0][1],
                    s.backoff_s,
                )
                if s.stop.wait(s.backoff_s):
                    raise Stopping(f"stopping with {left_over} records the broker did not acknowledge")
            pending = waiting + [s._send(r.topic, r.key, r.value) for r, _e in failed]
        return rejected

"""One consume loop for every service that reads a topic: poll, hand the batch to the
service, which does the work and only then commits, and stop when asked (a signal).

    stop = threading.Event()
    stop_on_signals(stop.set)
    consume(consumer, handle, stop, poll_s=0.5, retry_s=5.0)

``handle(batch)`` gets every poll's records (``{TopicPartition: [records]}``, maybe empty),
does the work, commits what is done, and returns whether work is still in progress (the
deliverer's queues): a consumer with work in progress is not idle. A broker that is away
is waited for, ``retry_s`` at a time: the committed offsets hold the place. A handler that
raises ``InterruptedError`` (stopping in the middle of a batch) ends the loop with that
batch uncommitted, so the next run redoes it. Used by the store
(``strikewatch/services/store/consumer.py``) and the deliverer
(``strikewatch/services/delivery.py``); ``stop_on_signals`` by every service's main.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Polled = dict[Any, list[Any]]


def stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call ``stop``: the loop ends after the batch in hand."""
    signal.signal(signal.SIGTERM, lambda *_: stop())
    signal.signal(signal.SIGINT, lambda *_: stop())


def consume(
    consumer: Any,
    handle: Callable[[Polled], bool],
    stop: threading.Event,
    *,
    poll_s: float,
    retry_s: float,
    max_idle_s: float | None = None,
    before_poll: Callable[[], None] | None = None,
    idle_needs_assignment: bool = True,
) -> None:
    """Poll ``consumer`` and hand each batch to ``handle`` until ``stop`` is set.

    ``max_idle_s``: also return once nothing came and nothing was in progress for that long
    (counted, with ``idle_needs_assignment``, from when the group assigned partitions: a
    killed member holds a group up to 10 s). ``before_poll`` runs before every poll (the
    deliverer pauses and resumes its partitions there)."""
    from kafka.errors import KafkaError

    idle_since = time.monotonic()
    while not stop.is_set():
        if before_poll is not None:
            before_poll()
        try:
            batch = consumer.poll(timeout_ms=int(poll_s * 1000))
        except KafkaError as e:  # broker away: the committed offsets hold our place
            log.warning("Kafka poll failed, retrying in %.0f s: %s", retry_s, e)
            stop.wait(retry_s)
            continue
        try:
            busy = handle(batch)
        except InterruptedError:
            return  # uncommitted: the next run redoes this batch
        if batch or busy or (idle_needs_assignment and not consumer.assignment()):
            idle_since = time.monotonic()
        elif max_idle_s is not None and time.monotonic() - idle_since > max_idle_s:
            return

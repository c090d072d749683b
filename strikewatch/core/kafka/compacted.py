"""Read a compacted topic to its end: the latest value per key (tombstones as None).

Used on start-up by the connectors' dedup state, the deliverer's delivered set and
the API's subscription store.
"""

from __future__ import annotations

import time

from strikewatch.core.errors import StrikewatchError
from strikewatch.core.kafka import clients
from strikewatch.core.kafka.config import KafkaConfig

# Seconds one read of a whole compacted topic may take before it fails: the largest
# (connector-seen, ~100k keys after a month) reads in a few seconds here.
READ_TIMEOUT_S = 60.0


class CompactedReadTimeout(StrikewatchError):
    """A compacted topic was not read to its end in time (broker away or topic huge)."""


def read_compacted(
    config: KafkaConfig | str, topic: str, timeout_s: float = READ_TIMEOUT_S
) -> dict[bytes, bytes | None]:
    """Latest value per key of ``topic``, read from the beginning to the end offsets
    taken at start. Tombstones map to None. An absent topic reads as empty."""
    from kafka import TopicPartition

    consumer = clients.consumer(config, consumer_timeout_ms=500)
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
                raise CompactedReadTimeout(f"reading {topic} to its end took over {timeout_s} s")
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    state[r.key] = r.value
        return state
    finally:
        consumer.close()

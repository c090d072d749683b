"""strikewatch.core.kafka.read_since on the real broker: what a topic received since a time, up to
its end when asked, over every partition."""

import time

import pytest

from strikewatch.core.kafka import read_since

pytestmark = pytest.mark.integration


def test_reads_the_records_since_a_time_to_the_end(kafka_bootstrap, new_topic, producer):
    topic = new_topic("window", partitions=3)
    now_ms = int(time.time() * 1000)
    hour = 3_600_000
    for n in range(12):  # every partition gets old and new records
        at = now_ms - 5 * hour if n < 6 else now_ms - hour + n
        producer.send(topic, key=f"k{n}".encode(), value=f"v{n}".encode(), timestamp_ms=at, partition=n % 3)
    producer.flush()
    got = read_since(kafka_bootstrap, topic, now_ms - 2 * hour, timeout_s=30)
    assert sorted(r.value for r in got) == sorted(f"v{n}".encode() for n in range(6, 12))
    assert all(r.timestamp_ms >= now_ms - 2 * hour for r in got)
    assert read_since(kafka_bootstrap, topic, now_ms + hour, timeout_s=30) == []  # nothing that recent
    assert read_since(kafka_bootstrap, "no-such-topic-" + topic, 0, timeout_s=30) == []

"""Consumer lag measured against the real broker."""

import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition

from strikewatch.lag import measure

pytestmark = pytest.mark.integration


def test_lag_is_end_minus_committed(kafka_bootstrap, new_topic):
    topic = new_topic("lag", partitions=2)
    p = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(10):
        p.send(topic, key=str(i).encode(), value=b"x", partition=i % 2)
    p.flush()
    group = "lag-" + uuid.uuid4().hex[:6]
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    c.commit({TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1), TopicPartition(topic, 1): OffsetAndMetadata(5, "", -1)})
    c.close()
    assert measure(kafka_bootstrap, [group]) == {(group, topic): (5 - 2) + (5 - 5)}

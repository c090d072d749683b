"""Consumer lag measured against the real broker."""

import uuid

import pytest
from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition

from strikewatch.services.lag import measure

pytestmark = pytest.mark.integration


def test_lag_is_end_minus_committed(kafka_bootstrap, new_topic, producer):
    topic = new_topic("lag", partitions=2)
    for i in range(10):
        producer.send(topic, key=str(i).encode(), value=b"x", partition=i % 2)
    producer.flush()
    group = "lag-" + uuid.uuid4().hex[:6]
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    c.commit(
        {TopicPartition(topic, 0): OffsetAndMetadata(2, "", -1), TopicPartition(topic, 1): OffsetAndMetadata(5, "", -1)}
    )
    c.close()
    assert measure(kafka_bootstrap, [group]) == {(group, topic): (5 - 2) + (5 - 5)}


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lag_process_exports_the_gauge_and_stops_on_sigterm(kafka_bootstrap, new_topic, producer):
    """``strikewatch lag`` as a process: its /metrics shows the group's lag; SIGTERM ends it with 0."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    topic = new_topic("lagproc")
    for _i in range(7):
        producer.send(topic, value=b"x")
    producer.flush()
    group = "lagproc-" + uuid.uuid4().hex[:6]
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    c.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "", -1)})
    c.close()
    port = _free_port()
    env = {**os.environ, "STRIKEWATCH_BOOTSTRAP_SERVERS": kafka_bootstrap}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from strikewatch.services.lag import lag_main; sys.exit(lag_main(sys.argv[1:]))",
            "--port",
            str(port),
            "--interval",
            "0.5",
            "--group",
            group,
        ],
        env=env,
    )
    want = f'strikewatch_kafka_consumer_lag{{group="{group}",topic="{topic}"}} 4.0'
    text = ""
    try:
        deadline = time.monotonic() + 60
        while want not in text and time.monotonic() < deadline and proc.poll() is None:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                pass
            time.sleep(0.3)
        assert want in text
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    assert rc == 0

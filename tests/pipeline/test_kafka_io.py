"""The Kafka edges on Beam's Prism runner against the real broker: every record of a
multi-partition topic comes through, live records keep flowing, offsets are committed
from bundle finalization once they are ``commit_lag_s`` old (not before), and a
restarted job resumes without re-reading."""

import time
import uuid

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipeline.kafka_io import POLL_SECONDS, ReadFromKafka, WriteToKafka
from strikewatch.devstack.stack import prism_path

pytestmark = pytest.mark.integration

# Seconds to wait for records to come out of a running Prism job (start-up ~3 s here).
WAIT_S = 120
# The reader's commit lag in this test (production: COMMIT_LAG_S): long enough that
# "not committed right after the output" is certain, short enough to wait for.
LAG_S = 15


def _start(bootstrap, tin, tout, group, stack_settings):
    opts = PipelineOptions(
        [
            "--runner=PrismRunner",
            f"--prism_location={prism_path(stack_settings)}",
            "--environment_type=LOOPBACK",
            "--streaming",
        ]
    )
    p = beam.Pipeline(options=opts)
    (
        p
        | ReadFromKafka(bootstrap, [tin], group, commit_lag_s=LAG_S)
        | beam.Map(lambda r: (tout, r.key, r.value.upper() + b"|%d" % r.partition))
        | WriteToKafka(bootstrap)
    )
    return p.run()


def _cancel(result):
    """Cancel and wait until the job is really gone, so nothing it still reads races
    with what the test produces next."""
    result.cancel()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and str(result.state) not in ("CANCELLED", "DONE", "FAILED"):
        time.sleep(0.5)
    assert str(result.state) == "CANCELLED"
    # Prism reports CANCELLED at once, but a LOOPBACK worker finishes the process()
    # call it is in (up to POLL_SECONDS) and writes what it read: records produced in
    # that second would be written by the old job and, never finalized, read again by
    # the next one (at-least-once around a stop). Let the old call end first.
    time.sleep(POLL_SECONDS + 2)


def _collect(consumer, want, deadline):
    got = []
    while time.monotonic() < deadline and len(got) < want:
        for m in consumer:
            got.append(m.value)
    return got


def _committed(bootstrap, group, topic, partitions):
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return [c.committed(TopicPartition(topic, p)) for p in range(partitions)]
    finally:
        c.close()


def test_read_write_commit_and_resume_on_prism(kafka_bootstrap, new_topic, stack_settings):
    tin, tout = new_topic("io-in", partitions=3), new_topic("io-out")
    group = "test-" + uuid.uuid4().hex[:8]
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for i in range(30):
        producer.send(tin, key=b"k%d" % i, value=b"v%d" % i)
    producer.flush()
    out = KafkaConsumer(tout, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=500)

    result = _start(kafka_bootstrap, tin, tout, group, stack_settings)
    try:
        first = _collect(out, 30, time.monotonic() + WAIT_S)
        assert sorted(v.split(b"|")[0] for v in first) == sorted(b"V%d" % i for i in range(30))
        assert {v.split(b"|")[1] for v in first} == {b"0", b"1", b"2"}, "all partitions read"
        # Live: records produced while the job runs come through too.
        for i in range(30, 35):
            producer.send(tin, key=b"k%d" % i, value=b"v%d" % i)
        producer.flush()
        live = _collect(out, 5, time.monotonic() + WAIT_S)
        assert sorted(v.split(b"|")[0] for v in live) == sorted(b"V%d" % i for i in range(30, 35))
        # Not yet committed right after the output: the live records are younger
        # than the commit lag, so a crash now would re-read them, not lose them.
        assert sum(c or 0 for c in _committed(kafka_bootstrap, group, tin, 3)) < 35
        # Committed from bundle finalization once the lag has passed.
        deadline = time.monotonic() + LAG_S + 30
        while time.monotonic() < deadline and sum(c or 0 for c in _committed(kafka_bootstrap, group, tin, 3)) < 35:
            time.sleep(0.5)
        assert sum(c or 0 for c in _committed(kafka_bootstrap, group, tin, 3)) == 35
    finally:
        _cancel(result)

    # Restart with the same group: only records after the committed offsets come out.
    for i in range(35, 38):
        producer.send(tin, key=b"k%d" % i, value=b"v%d" % i)
    producer.flush()
    result = _start(kafka_bootstrap, tin, tout, group, stack_settings)
    try:
        resumed = _collect(out, 3, time.monotonic() + WAIT_S)
        time.sleep(3)  # anything re-read from before the commit would arrive by now
        resumed += _collect(out, 1, time.monotonic() + 2)
        assert sorted(v.split(b"|")[0] for v in resumed) == sorted(b"V%d" % i for i in range(35, 38))
    finally:
        _cancel(result)
        producer.close()
        out.close()


def test_the_splittable_read_does_not_follow_the_reshuffle_directly():
    """Prism makes a splittable DoFn's pair-with-restriction step a stage root when the
    DoFn reads the Reshuffle's output directly, and then asks that stage's bundles to
    finalize although they registered nothing: the SDK worker printed "Bundle is not in
    a finalizable state" tracebacks (pipeline/kafka_io.py, _fusion_root). The read must
    consume the output of a plain step, whatever order Prism visits transforms in."""
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2

    p = beam.Pipeline()
    _ = p | ReadFromKafka("127.0.0.1:1", ["t"], "g")
    proto = p.to_runner_api()
    transforms = proto.components.transforms
    producer_of = {pc: tid for tid, t in transforms.items() for pc in t.outputs.values() if not t.subtransforms}
    sdf = []
    for _tid, t in transforms.items():
        if t.spec.urn != common_urns.primitives.PAR_DO.urn:
            continue
        payload = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
        if payload.restriction_coder_id:
            sdf.append((t, payload))
    assert len(sdf) == 1
    read, payload = sdf[0]
    assert payload.requests_finalization  # offsets are committed from bundle finalization
    (input_pc,) = read.inputs.values()
    reshuffles = [t for t in transforms.values() if t.spec.urn == common_urns.composites.RESHUFFLE.urn]
    assert reshuffles, "the partitions are still spread over the workers"
    assert all(input_pc not in t.outputs.values() for t in reshuffles)
    upstream = transforms[producer_of[input_pc]]
    assert upstream.spec.urn == common_urns.primitives.PAR_DO.urn
    assert not beam_runner_api_pb2.ParDoPayload.FromString(upstream.spec.payload).requests_finalization


def test_outputs_too_large_for_the_topic_are_dead_lettered_not_retried(kafka_bootstrap, new_topic):
    """A record over the client's 4 MiB (a 7.4 MB Event from a 181k-character article) and one
    over a topic's own limit are written as dead letters (stage pipeline.write, too_large) with
    the start of the record; the bundle completes and the records beside them are written.
    Before: 600 s of re-sending, then a failed bundle."""
    import os

    from kafka.admin import NewTopic

    from strikewatch.core.kafka import clients
    from strikewatch.core.models import DeadLetter

    tout, dead = new_topic("io-big-out"), new_topic("io-big-dead")
    small = "io-small-" + uuid.uuid4().hex[:8]
    admin = clients.admin(kafka_bootstrap)
    admin.create_topics([NewTopic(small, 1, 1, topic_configs={"max.message.bytes": "2000"})])
    admin.close()
    huge, noisy = b"{" + b"x" * (7_400_000) + b"}", os.urandom(20_000)
    t0 = time.monotonic()
    try:
        with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
            records = [
                (tout, b"ok", b"fits"),
                (tout, b"huge", huge),
                (small, b"noisy", noisy),
                (small, b"ok2", b"fits too"),
            ]
            p | beam.Create(records) | WriteToKafka(kafka_bootstrap, dead_letters_topic=dead)
        assert time.monotonic() - t0 < 120
        c = KafkaConsumer(
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=2000,
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        c.subscribe([tout, small, dead])
        got = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(len(v) for v in got.values()) < 4:
            for m in c:
                got.setdefault(m.topic, []).append(m)
        c.close()
        assert [m.key for m in got[tout]] == [b"ok"] and [m.key for m in got[small]] == [b"ok2"]
        letters = sorted((DeadLetter.from_bytes(m.value) for m in got[dead]), key=lambda d: d.source)
        assert [(d.stage, d.reason, d.source) for d in letters] == sorted(
            [("pipeline.write", "too_large", tout), ("pipeline.write", "too_large", small)], key=lambda t: t[2]
        )
        by_source = {d.source: d for d in letters}
        assert by_source[tout].payload.startswith("{xxx") and len(by_source[tout].payload) == 65536
        assert "MessageSizeTooLargeError" in by_source[small].error
    finally:
        admin = clients.admin(kafka_bootstrap)
        admin.delete_topics([small])
        admin.close()

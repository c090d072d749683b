"""End to end through the real broker: ``strikewatch pipeline`` on Prism, as a separate
process, turns an Article on the articles topic into events on the events topic; junk
bytes and a 2 kB record nested 1,000 deep (which made the job fail and crash-loop on
restart) land on the dead-letter topic with their reasons and the stream keeps going;
SIGTERM stops the job cleanly, and nothing prints a traceback."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from strikewatch.core import topics
from strikewatch.core.models import Article, DeadLetter, Event
from strikewatch.core.procs import child_pids, pid_alive

pytestmark = pytest.mark.integration

# Seconds for the job to start (Prism + spaCy load) and process the first article.
FIRST_OUTPUT_TIMEOUT_S = 240

STRIKE_TEXT = (
    "U.S. fighter jets carried out airstrikes early Monday on a weapons depot used by "
    "Kataib Hezbollah near Al-Qaim in Iraq, the Pentagon said. There were no immediate "
    "reports of casualties."
)


def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
        return c.end_offsets(parts)
    finally:
        c.close()


def _consumer_from(bootstrap: str, topic: str, offsets: dict[TopicPartition, int]) -> KafkaConsumer:
    c = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=500, enable_auto_commit=False)
    c.assign(list(offsets))
    for tp, off in offsets.items():
        c.seek(tp, off)
    return c


@pytest.fixture
def pipeline_process(kafka_bootstrap, repo_root, tmp_path):
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "test-e2e-" + uuid.uuid4().hex[:8],
        "STRIKEWATCH_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    log = open(tmp_path / "pipeline.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "pipeline"],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.close()


def test_article_to_events_and_junk_to_dead_letters(kafka_bootstrap, pipeline_process, tmp_path):
    events_from = _end_offsets(kafka_bootstrap, topics.EVENTS.name)
    dead_from = _end_offsets(kafka_bootstrap, topics.DEAD_LETTERS.name)
    run_id = uuid.uuid4().hex[:8]
    first = Article.new(
        f"https://example.com/{run_id}/1",
        title="US strikes militia in Iraq",
        body=STRIKE_TEXT,
        published_at=datetime(2021, 6, 28, 12, tzinfo=UTC),
        source="e2e",
    )
    second = Article.new(
        f"https://example.com/{run_id}/2",
        title="Second report",
        body=STRIKE_TEXT.replace("Al-Qaim", "Albu Kamal in Syria"),
        published_at=datetime(2021, 6, 28, 13, tzinfo=UTC),
        source="e2e",
    )
    junk = b"\xff\xfe junk " + run_id.encode()
    nested = b'{"run": "' + run_id.encode() + b'", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    producer.send(topics.ARTICLES.name, key=first.id.encode(), value=first.to_bytes())
    producer.send(topics.ARTICLES.name, key=b"junk", value=junk)
    producer.send(topics.ARTICLES.name, key=b"nested", value=nested)
    producer.send(topics.ARTICLES.name, key=second.id.encode(), value=second.to_bytes())
    producer.flush()

    events = _consumer_from(kafka_bootstrap, topics.EVENTS.name, events_from)
    dead = _consumer_from(kafka_bootstrap, topics.DEAD_LETTERS.name, dead_from)
    seen_articles: dict[str, list[Event]] = {}
    dead_letters: list[DeadLetter] = []
    deadline = time.monotonic() + FIRST_OUTPUT_TIMEOUT_S
    while time.monotonic() < deadline and not (len(seen_articles) == 2 and len(dead_letters) == 2):
        assert pipeline_process.poll() is None, (tmp_path / "pipeline.log").read_text()[-3000:]
        for msg in events:
            ev = Event.from_bytes(msg.value)
            if ev.article_id in (first.id, second.id):
                seen_articles.setdefault(ev.article_id, []).append(ev)
                assert msg.key == ev.id.encode()
        for msg in dead:
            dl = DeadLetter.from_bytes(msg.value)
            raw = base64.b64decode(dl.payload) if dl.payload_encoding == "base64" else dl.payload.encode()
            if raw in (junk, nested):  # the raw payload is kept byte for byte
                dead_letters.append(dl)
    assert set(seen_articles) == {first.id, second.id}, (tmp_path / "pipeline.log").read_text()[-3000:]
    strikes = [e for e in seen_articles[first.id] if e.event_type == "air_strike" and e.modality == "asserted"]
    assert strikes, [e.model_dump() for e in seen_articles[first.id]]
    assert strikes[0].time.date.isoformat() == "2021-06-28"
    assert strikes[0].attacker.name == "United States"
    assert any(p.country == "Iraq" for p in strikes[0].places)
    reasons = sorted((d.stage, d.reason) for d in dead_letters)
    assert reasons == [("pipeline.decode", "not_utf8"), ("pipeline.decode", "too_deep")]

    prism = child_pids(pipeline_process.pid, name="prism")
    assert prism, "the job runs on a Prism job server started by the pipeline process"
    pipeline_process.send_signal(signal.SIGTERM)
    assert pipeline_process.wait(timeout=60) == 0
    # The Prism job server goes with it (no orphan left after each restart).
    deadline = time.monotonic() + 10
    while any(pid_alive(pid) for pid in prism) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(pid_alive(pid) for pid in prism)
    events.close()
    dead.close()
    # A normal run, junk input and the stop included, prints no traceback (the SDK
    # worker's "Bundle is not in a finalizable state" came on 3 of 4 starts; the
    # LOOPBACK worker's closed gRPC streams and a poll on a torn-down consumer on stops).
    output = (tmp_path / "pipeline.log").read_text(errors="replace")
    assert "Traceback" not in output, output[-6000:]


def test_ctrl_c_on_the_terminal_stops_without_tracebacks(kafka_bootstrap, repo_root, tmp_path):
    """A terminal's Ctrl-C sends SIGINT to the whole process group, the Prism job server
    included: the pipeline still cancels the job itself and stops Prism, with exit code 0
    and no traceback (Prism used to die first, and the worker's streams broke)."""
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "test-sigint-" + uuid.uuid4().hex[:8],
        "STRIKEWATCH_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    log_path = tmp_path / "pipeline.log"
    events_from = _end_offsets(kafka_bootstrap, topics.EVENTS.name)
    article = Article.new(
        f"https://example.com/{uuid.uuid4().hex[:8]}/sigint",
        title="",
        body=STRIKE_TEXT,
        published_at=datetime(2021, 6, 28, 12, tzinfo=UTC),
        source="e2e",
    )
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "strikewatch.cli", "pipeline"],
            cwd=repo_root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
            producer.send(topics.ARTICLES.name, key=article.id.encode(), value=article.to_bytes())
            producer.close()
            events = _consumer_from(kafka_bootstrap, topics.EVENTS.name, events_from)
            deadline, seen = time.monotonic() + FIRST_OUTPUT_TIMEOUT_S, False
            while not seen and time.monotonic() < deadline:
                assert proc.poll() is None, log_path.read_text()[-3000:]
                seen = any(Event.from_bytes(m.value).article_id == article.id for m in events)
            events.close()
            assert seen, log_path.read_text()[-3000:]
            prism = child_pids(proc.pid, name="prism")
            assert prism
            os.killpg(proc.pid, signal.SIGINT)
            assert proc.wait(timeout=60) == 0, log_path.read_text()[-3000:]
            deadline = time.monotonic() + 10
            while any(pid_alive(pid) for pid in prism) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not any(pid_alive(pid) for pid in prism)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output[-6000:]


def test_prism_runs_one_bundle_per_key_of_a_stateful_step(tmp_path):
    """With the pipeline's own Prism options, a slow stateful DoFn over one key sees its
    state grow by one per element (0, 1, ..., 11). Prism's splitting of a slow bundle
    without the experiment in PRISM_EXPERIMENTS runs a second bundle of the same key beside
    the first, and each count is seen twice (0, 0, 1, 1, ...): the race that alerted an
    incident twice as new."""
    import apache_beam as beam
    from apache_beam.coders import VarIntCoder
    from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

    from pipeline.main import PRISM_EXPERIMENTS
    from strikewatch.core.settings import PipelineSettings
    from strikewatch.devstack.runner import beam_options

    out = tmp_path / "seen.txt"

    class Count(beam.DoFn):
        N = ReadModifyWriteStateSpec("n", VarIntCoder())

        def process(self, kv, n=beam.DoFn.StateParam(N)):
            seen = n.read() or 0
            time.sleep(0.3)  # no progress for a progress tick: Prism asks the SDK to split
            n.write(seen + 1)
            with open(out, "a") as f:
                f.write(f"{seen}\n")
            yield seen

    opts = beam_options("PrismRunner", [], PipelineSettings())
    assert set(PRISM_EXPERIMENTS) <= set(opts.get_all_options()["experiments"] or [])
    with beam.Pipeline(options=opts) as p:
        _ = p | beam.Create([("k", i) for i in range(12)]) | beam.ParDo(Count())
    assert sorted(int(x) for x in out.read_text().split()) == list(range(12))

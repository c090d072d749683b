"""The pipeline on Beam's FlinkRunner: the local Flink (``strikewatch.devstack.flink``: Beam's
Flink job server with an embedded Flink cluster, and an SDK worker pool whose workers
are separate processes) runs ``strikewatch pipeline --runner FlinkRunner`` against the
real broker. Articles on all six partitions of the articles topic become events, read
with parallelism 2 on two SDK worker processes; Flink's checkpoints finalize the
bundles, which commits the consumer group's offsets; after SIGTERM no job server, pool
or SDK worker is left (the pipeline owns its local Flink)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from prometheus_client.multiprocess import MultiProcessCollector

from strikewatch.core import topics
from strikewatch.core.models import Article, Event
from strikewatch.core.procs import child_pids, free_port, pid_alive
from strikewatch.core.settings import StackSettings
from strikewatch.devstack import flink

pytestmark = pytest.mark.integration

# Seconds for the job to start (job server, two SDK workers loading spaCy and MiniLM)
# and to turn every article into events; measured ~60 s here when idle.
EVENTS_TIMEOUT_S = 300
# Checkpoints every 2 s: the first ones fall while the SDK workers load their models,
# and so into the first bundles. Without --finish_bundle_before_checkpointing that
# stranded the partition listing's output in every run at 2 s (strikewatch/devstack/flink.py).
CHECKPOINT_INTERVAL_MS = 2_000
# Seconds until the committed offsets reach the end: a checkpoint finalizes bundles,
# and claims are committed once 30 s old (kafka_io.COMMIT_LAG_S).
COMMIT_TIMEOUT_S = 180

STRIKE = (
    "Israeli warplanes carried out airstrikes on {day} on a weapons depot near {town} in Syria, "
    "the Syrian Observatory for Human Rights said. Report {n} of run {run}."
)
TOWNS = ["Albu Kamal", "Deir ez-Zor", "Homs", "Hama", "Aleppo", "Latakia"]


@pytest.fixture
def local_flink(tmp_path, stack_settings):
    """Settings for a local Flink on free ports in a directory of its own (sharing the
    jars); the pipeline starts it. Stopped here too if the test failed first."""
    root = tmp_path / "stack"
    root.mkdir()
    (root / "flink-jars").symlink_to(stack_settings.stack_dir / "flink-jars")
    s = StackSettings(
        stack_dir=root,
        flink_job_port=free_port(),
        flink_worker_pool_port=free_port(),
        flink_checkpoint_interval_ms=CHECKPOINT_INTERVAL_MS,
    )
    yield s
    flink.stop(s)


def _commit_at_end(bootstrap: str, group: str, topic: str) -> dict[TopicPartition, int]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic))]
        ends = c.end_offsets(tps)
        c.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in ends.items()})
        return ends
    finally:
        c.close()


def _committed(bootstrap: str, group: str, tps) -> dict[TopicPartition, int | None]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return {tp: c.committed(tp) for tp in tps}
    finally:
        c.close()


def _logs(tmp_path: Path, s: StackSettings, chars: int = 3000) -> str:
    """The tails of the pipeline's, the job server's and the worker pool's logs, for a
    failure message: a job that never produces says why only in the latter two."""
    paths = flink.FlinkPaths(s.stack_dir)
    out = []
    for name, f in (
        ("pipeline", tmp_path / "pipeline.log"),
        ("job server", paths.logfile("job-server")),
        ("worker pool", paths.logfile("worker-pool")),
    ):
        text = f.read_text(errors="replace") if f.exists() else "(no log)"
        out.append(f"--- {name} ({f}) ---\n{text[-chars:]}")
    return "\n".join(out)


def _consumed_per_process(metrics_dir: Path) -> dict[str, float]:
    """Articles read, per SDK worker process (one metrics file per pid)."""
    out = {}
    for f in metrics_dir.glob("counter_*.db"):
        total = sum(
            s.value
            for m in MultiProcessCollector.merge([str(f)])
            for s in m.samples
            if s.name == "strikewatch_pipeline_kafka_records_consumed_total"
            and s.labels.get("topic") == topics.ARTICLES.name
        )
        if total:
            out[f.stem.split("_")[-1]] = total
    return out


def test_pipeline_on_flink_with_two_sdk_workers_reads_every_partition_and_commits(
    kafka_bootstrap, local_flink, repo_root, tmp_path
):
    s = local_flink
    group = "test-flink-" + uuid.uuid4().hex[:8]
    starts = _commit_at_end(kafka_bootstrap, group, topics.ARTICLES.name)
    events_from = _commit_at_end(kafka_bootstrap, "unused-" + group, topics.EVENTS.name)
    metrics_port = free_port()
    env = {
        **os.environ,
        "STRIKEWATCH_STACK_DIR": str(s.stack_dir),
        "STRIKEWATCH_FLINK_JOB_PORT": str(s.flink_job_port),
        "STRIKEWATCH_FLINK_WORKER_POOL_PORT": str(s.flink_worker_pool_port),
        "STRIKEWATCH_FLINK_CHECKPOINT_INTERVAL_MS": str(s.flink_checkpoint_interval_ms),
        "STRIKEWATCH_CONSUMER_GROUP": group,
        "STRIKEWATCH_BOOTSTRAP_SERVERS": kafka_bootstrap,
    }
    log = open(tmp_path / "pipeline.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "strikewatch.cli",
            "pipeline",
            "--runner",
            "FlinkRunner",
            "--metrics-port",
            str(metrics_port),
        ],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        run = uuid.uuid4().hex[:8]
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        sent: dict[str, int] = {}
        for n in range(12):
            partition = n % len(starts)
            art = Article.new(
                f"https://example.com/flink/{run}/{n}",
                title="",
                source="flink-test",
                body=STRIKE.format(day="Monday", town=TOWNS[partition], n=n, run=run),
                published_at=datetime(2024, 3, 4, 12, tzinfo=UTC),
            )
            producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes(), partition=partition)
            sent[art.id] = partition
        producer.flush()
        producer.close()

        events = KafkaConsumer(bootstrap_servers=kafka_bootstrap, consumer_timeout_ms=500, enable_auto_commit=False)
        events.assign(list(events_from))
        for tp, off in events_from.items():
            events.seek(tp, off)
        got: dict[str, Event] = {}
        deadline = time.monotonic() + EVENTS_TIMEOUT_S
        while set(got) != set(sent) and time.monotonic() < deadline:
            assert proc.poll() is None, _logs(tmp_path, s)
            for msg in events:
                ev = Event.from_bytes(msg.value)
                if ev.article_id in sent:
                    got[ev.article_id] = ev
        events.close()
        assert set(got) == set(sent), f"{len(got)}/{len(sent)} articles:\n" + _logs(tmp_path, s)
        for _aid, ev in got.items():
            assert ev.event_type == "air_strike" and ev.attacker.name == "Israel"
            assert any(p.country == "Syria" for p in ev.places)

        # The job ran on two SDK worker processes (children of the pool), both alive,
        # and every article was read once across them. Which worker runs which
        # stage instance is Flink's round-robin in operator-opening order, so the
        # two read subtasks may share a worker: that split is reported, not asserted.
        workers = child_pids(flink.FlinkPaths(s.stack_dir).pidfile("worker-pool").read_text())
        assert len(workers) == s.flink_workers == 2, workers
        per_process = _consumed_per_process(flink.FlinkPaths(s.stack_dir).metrics)
        assert set(per_process) <= {str(w) for w in workers}, (per_process, workers)
        assert sum(per_process.values()) == len(sent), per_process
        # The pipeline's /metrics sums the workers' files.
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        line = next(
            ln
            for ln in body.splitlines()
            if ln.startswith("strikewatch_pipeline_kafka_records_consumed_total") and topics.ARTICLES.name in ln
        )
        assert float(line.split()[-1]) == sum(per_process.values())

        # Checkpoints finalize the bundles; the offsets of every partition are committed.
        want = {tp: off + sum(1 for p in sent.values() if p == tp.partition) for tp, off in starts.items()}
        deadline = time.monotonic() + COMMIT_TIMEOUT_S
        while (committed := _committed(kafka_bootstrap, group, want)) != want and time.monotonic() < deadline:
            time.sleep(2)
        assert committed == want, _logs(tmp_path, s)

        paths = flink.FlinkPaths(s.stack_dir)
        pids = [int(paths.pidfile(n).read_text()) for n in ("job-server", "worker-pool")] + workers
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=90) == 0, _logs(tmp_path, s)
        # The job stopped with it: no job server, pool or SDK worker is left (Beam's
        # job server cannot cancel a job on its embedded cluster, so it goes too).
        assert flink.status(s) == {"job_server": False, "worker_pool": False}
        assert not [p for p in pids if pid_alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()

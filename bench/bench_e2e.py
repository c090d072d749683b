"""End-to-end benchmark: Kafka in -> events out, on the local stack, with a realistic stream.

    .venv/bin/python bench/bench_e2e.py [--corpus FILE] [--strike-share 0.04] [--rate 50] [--seconds 60]
    .venv/bin/python bench/bench_e2e.py --acled-notes --rate 20         # the old run: ACLED strike notes only
    .venv/bin/python bench/bench_e2e.py --runner FlinkRunner [-- extra pipeline flags]
    .venv/bin/python bench/bench_e2e.py --perfect-gate --rate 100    # what everything but extraction costs
    .venv/bin/python bench/bench_e2e.py --native-share 0.2           # a fifth of the stream in ar/ru/uk/fr/es

The stream: the articles of ``--corpus`` (default ../shared/data/news/general_news.jsonl,
full-length general news, read in place) with ACLED strike notes (sub-event types
"Air/drone strike" and "Shelling/artillery/missile attack" of acled_dev.jsonl) interleaved
deterministically, one in 1/``--strike-share`` (4 %: every 25th). Each is sent as a fresh
Article (own URL and id; published now, an ACLED note on its event's day; latency is measured
from the produce time). ``--acled-notes`` streams the ACLED notes that
mention a strike word instead, every one of them (the benchmark before issue 12).

In one run it measures:

1. bare ``nlp.pipe`` (the spaCy model alone, no strikewatch code) over the stream's first
   ``--bare-articles`` articles: articles/s and words/s;
2. ``strikewatch pipeline`` (Prism, or ``--runner FlinkRunner``: the local Flink it starts,
   two SDK worker processes) as a child process with a fresh consumer group, warmed up
   until its first event and first incident;
3. the steady run: ``--rate`` articles/s for ``--seconds``. Latency is produce time ->
   first event on the events topic, over the strike articles (p50/p99/max). Sustained
   throughput counts every article the pipeline finished (its extraction counters on
   its /metrics endpoint: extracted plus dead-lettered), from the first send until the
   last offered article is done; ``backlog_at_end`` is what was still unprocessed when
   the sending stopped;
4. saturation: ``--burst`` articles of the same stream as fast as the producer can, timed
   until the pipeline has finished them all (articles/s, words/s, ratio to bare spaCy);
5. peak RSS (VmHWM) of this process, the pipeline process (on Prism it runs the SDK
   worker, LOOPBACK), the Prism job server, and on Flink the job server and each SDK worker.

Each phase prints a JSON line; the last line is one JSON object with every number,
including ``sustained_articles_per_s``, ``strike_p99_latency_s``,
``saturation_articles_per_s``, ``bare_nlp_pipe_articles_per_s`` and ``peak_rss_mb``.
Nothing is asserted. Numbers taken while other work runs on the machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from strikewatch.core import topics  # noqa: E402
from strikewatch.core.models import Article  # noqa: E402
from strikewatch.core.settings import StackSettings  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
GENERAL_NEWS = SHARED / "news" / "general_news.jsonl"
ACLED = SHARED / "eval" / "acled_dev.jsonl"
STRIKE_SUB_EVENTS = ("Air/drone strike", "Shelling/artillery/missile attack")
STRIKE_WORDS = ("airstrike", "air strike", "shell", "drone", "mortar", "rocket", "missile")
# Counters of the extraction stage (pipeline/extract.py) that together count every
# article the stage is done with.
DONE_COUNTERS = (
    "strikewatch_pipeline_articles_extracted_total",
    "strikewatch_pipeline_extract_dead_letters_total",
    "strikewatch_pipeline_articles_unread_language_total",
)
# Output quiet this long: the pipeline has drained (seconds).
IDLE_S = 20.0


@dataclass(frozen=True)
class Item:
    title: str
    body: str
    strike: bool
    # ACLED notes are published on their event's day (noon UTC): a report of a strike
    # years before its publication is background, not news, and opens no incident.
    published: datetime | None = None

    @property
    def words(self) -> int:
        return len(self.title.split()) + len(self.body.split())


def _jsonl(path: Path):
    with path.open() as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _note(r: dict) -> Item:
    return Item("", r["text"], True, datetime.fromisoformat(r["event_date"]).replace(hour=12, tzinfo=UTC))


def strike_notes() -> list[Item]:
    return [_note(r) for r in _jsonl(ACLED) if r.get("sub_event_type") in STRIKE_SUB_EVENTS]


def stream(corpus: Path, strike_share: float, n: int) -> list[Item]:
    """``n`` items: the corpus cycled, with a strike note wherever floor(i * share) steps."""
    general = [Item(r.get("title") or "", r["text"], False) for r in _jsonl(corpus)]
    notes = strike_notes()
    out, g, s = [], 0, 0
    for i in range(n):
        if math.floor((i + 1) * strike_share) > math.floor(i * strike_share):
            out.append(notes[s % len(notes)])
            s += 1
        else:
            out.append(general[g % len(general)])
            g += 1
    return out


MULTILINGUAL = SHARED / "eval" / "multilingual_dev.jsonl"


def with_native(items: list[Item], share: float) -> list[Item]:
    """``items`` with every 1/``share``-th one replaced by a multilingual_dev text (ar, ru,
    uk, fr, es; cycled, never translated; a strike where its label says so)."""
    if share <= 0:
        return items
    native = [Item(r.get("title") or "", r["text"], r["label"] == "strike") for r in _jsonl(MULTILINGUAL)]
    out, k = [], 0
    for i, it in enumerate(items):
        if math.floor((i + 1) * share) > math.floor(i * share):
            out.append(native[k % len(native)])
            k += 1
        else:
            out.append(it)
    return out


def acled_note_stream(n: int) -> list[Item]:
    notes = [_note(r) for r in _jsonl(ACLED) if any(w in r["text"].lower() for w in STRIKE_WORDS)]
    return [notes[i % len(notes)] for i in range(n)]


def peak_rss_mb(pid: int | str = "self") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def process_rss(pid: int, runner: str, s) -> dict:
    from strikewatch.core.procs import child_pids

    out = {"bench": peak_rss_mb(), "pipeline": peak_rss_mb(pid)}
    for i, child in enumerate(child_pids(pid, name="prism")):
        out[f"prism_{i + 1}" if i else "prism"] = peak_rss_mb(child)
    if runner == "FlinkRunner":
        from strikewatch.devstack.flink import FlinkPaths

        paths = FlinkPaths(s.stack_dir)
        out["flink_job_server"] = peak_rss_mb(paths.pidfile("job-server").read_text().strip())
        pool = paths.pidfile("worker-pool").read_text().strip()
        for i, child in enumerate(child_pids(pool)):
            out[f"sdk_worker_{i + 1}"] = peak_rss_mb(child)
    return out


def bare_spacy(items: list[Item], model: str) -> dict:
    """Bare ``nlp.pipe`` over the items' texts (title + body, as the pipeline reads them)."""
    import spacy

    nlp = spacy.load(model)
    texts = [f"{it.title}\n\n{it.body}" if it.title else it.body for it in items]
    list(nlp.pipe(texts[:20]))  # warm-up
    t0 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=32):
        pass
    dt = time.perf_counter() - t0
    return {
        "articles": len(texts),
        "articles_per_s": round(len(texts) / dt, 2),
        "words_per_s": round(sum(it.words for it in items) / dt, 1),
    }


class Metrics:
    """The pipeline's /metrics endpoint: how many articles the extraction stage is done with."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/metrics"

    def done(self, wait_s: float = 60.0) -> float:
        from prometheus_client.parser import text_string_to_metric_families

        give_up = time.monotonic() + wait_s
        while True:
            try:
                text = urllib.request.urlopen(self.url, timeout=5).read().decode()
                break
            except OSError as e:  # starting, or busy: a loaded machine answers late
                if time.monotonic() > give_up:
                    raise SystemExit(
                        f"the pipeline's metrics endpoint {self.url} did not answer within {wait_s:.0f} s: {e}"
                    ) from e
                time.sleep(0.5)
        total = 0.0
        for fam in text_string_to_metric_families(text):
            for sample in fam.samples:
                if sample.name in DONE_COUNTERS:
                    total += sample.value
        return total


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
    return None


def _pct(values: list[float], p: float) -> float | None:
    return round(values[min(len(values) - 1, int(p * len(values)))], 3) if values else None


def run_load(
    bootstrap: str,
    items: list[Item],
    rate: float,
    metrics: Metrics | None,
    out_topic: str = topics.EVENTS.name,
    idle_s: float = IDLE_S,
) -> dict:
    """Send ``items`` (at ``rate``/s, or as fast as possible if 0) and measure."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1, max_request_size=4 * 1024 * 1024)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=50, enable_auto_commit=False)
    offs = end_offsets(bootstrap, out_topic)
    consumer.assign(list(offs))
    for tp, o in offs.items():
        consumer.seek(tp, o)
    done0 = metrics.done() if metrics else 0.0
    sent: dict[str, tuple[float, Item]] = {}
    first_out: dict[str, float] = {}
    run = uuid.uuid4().hex[:8]
    next_metrics = 0.0
    done_series: list[tuple[float, float]] = []

    def poll():
        nonlocal next_metrics
        for msg in consumer:
            aid = article_id_of(msg.topic, msg.value)
            if aid in sent and aid not in first_out:
                first_out[aid] = time.perf_counter()
        now = time.perf_counter()
        if metrics and now >= next_metrics:
            done_series.append((now, metrics.done() - done0))
            next_metrics = now + 0.5

    t_start = time.perf_counter()
    for i, it in enumerate(items):
        published = it.published or datetime.now(UTC)
        art = Article.new(
            f"https://bench.invalid/{run}/{i}", title=it.title, body=it.body, published_at=published, source="bench"
        )
        if rate:
            target = t_start + i / rate
            while time.perf_counter() < target:
                poll()
        sent[art.id] = (time.perf_counter(), it)
        producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
        if not rate and i % 100 == 0:
            producer.flush()
    producer.flush()
    t_sent = time.perf_counter()
    backlog = len(items) - (metrics.done() - done0) if metrics else None
    # Drain: until every article is done (by the counters), or nothing moved for idle_s.
    last_change, last_state = time.perf_counter(), None
    while time.perf_counter() - last_change < idle_s:
        poll()
        state = (len(first_out), done_series[-1][1] if done_series else None)
        if state != last_state:
            last_state, last_change = state, time.perf_counter()
        if (
            metrics
            and done_series
            and done_series[-1][1] >= len(items)
            and len(first_out) >= sum(it.strike for _t, it in sent.values())
        ):
            break
    producer.close()
    consumer.close()

    done_all = next((t for t, d in done_series if d >= len(items)), None)
    t_done = done_all or (done_series[-1][0] if done_series else time.perf_counter())
    n_done = min(len(items), done_series[-1][1]) if done_series else None
    span = t_done - t_start
    words_done = sum(it.words for _t, it in sent.values()) * (n_done / len(items)) if n_done is not None else None
    strike_lat = sorted(first_out[a] - t for a, (t, it) in sent.items() if it.strike and a in first_out)
    n_strike = sum(it.strike for _t, it in sent.values())
    general_with_events = sum(1 for a, (_t, it) in sent.items() if not it.strike and a in first_out)
    series = sorted(
        (round(t - t_start, 3), round(first_out[a] - t, 3))
        for a, (t, it) in sent.items()
        if it.strike and a in first_out
    )
    return {
        "offered_articles_per_s": rate or None,
        "articles_sent": len(items),
        "send_seconds": round(t_sent - t_start, 2),
        "articles_done": n_done,
        "all_done": done_all is not None,
        "backlog_at_end": round(backlog) if backlog is not None else None,
        "articles_per_s": round(n_done / span, 2) if n_done is not None and span > 0 else None,
        "words_per_s": round(words_done / span, 1) if words_done is not None and span > 0 else None,
        "strike_articles": n_strike,
        "strike_articles_with_event": len(strike_lat),
        "strike_p50_latency_s": _pct(strike_lat, 0.50),
        "strike_p99_latency_s": _pct(strike_lat, 0.99),
        "strike_max_latency_s": round(strike_lat[-1], 3) if strike_lat else None,
        "general_articles_with_events": general_with_events,
        "series": series,
    }


def warm_up(bootstrap: str, items: list[Item], proc, metrics: Metrics) -> float:
    """Until one strike note has come through to the events and to the incidents topic:
    start-up (Prism, the reader's first restriction, loading spaCy and the embedding model
    when the first event reaches the clustering stage) stays out of the numbers."""
    notes = [it for it in items if it.strike] or items
    t0 = time.perf_counter()
    k = 0
    for topic in (topics.EVENTS.name, topics.INCIDENTS.name):
        before = sum(end_offsets(bootstrap, topic).values())
        while (
            sum(end_offsets(bootstrap, topic).values()) == before
        ):  # a new note each time: not every one opens an incident
            if proc.poll() is not None:
                raise SystemExit(f"the pipeline exited with {proc.returncode} before its first output on {topic}")
            run_load(bootstrap, notes[k % len(notes) : k % len(notes) + 1], 0, metrics, topic, idle_s=2)
            k += 1
    return round(time.perf_counter() - t0, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=GENERAL_NEWS, help="JSONL of articles ({title?, text}) to stream")
    ap.add_argument("--strike-share", type=float, default=0.04, help="share of ACLED strike notes interleaved")
    ap.add_argument(
        "--acled-notes", action="store_true", help="stream ACLED strike notes only (the pre-issue-12 benchmark)"
    )
    ap.add_argument(
        "--native-share",
        type=float,
        default=0.0,
        help="share of the stream replaced by multilingual_dev texts (ar ru uk fr es): 0.2 = a fifth",
    )
    ap.add_argument("--rate", type=float, default=50.0, help="offered articles per second in the steady run")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--burst", type=int, default=1000, help="articles in the saturation run (0: skip)")
    ap.add_argument(
        "--bare-articles", type=int, default=300, help="articles for the bare nlp.pipe measurement (0: skip)"
    )
    ap.add_argument("--runner", default="PrismRunner", choices=["PrismRunner", "FlinkRunner"])
    ap.add_argument(
        "--latencies", type=Path, help="write the steady run's (send time, latency) pairs of strike articles here"
    )
    ap.add_argument("--wrap", default="", help="command to run the pipeline under, e.g. 'py-spy record -o p.svg --'")
    ap.add_argument(
        "--perfect-gate",
        action="store_true",
        help="Prism only: extract only the strike notes (bench/perfect_gate.py), to measure the rest of the pipeline",
    )
    ap.add_argument("pipeline_args", nargs="*", help="extra flags for strikewatch pipeline (after --)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally below: stop the pipeline

    n_steady = int(args.rate * args.seconds)
    total = n_steady + args.burst
    items = acled_note_stream(total) if args.acled_notes else stream(args.corpus, args.strike_share, total)
    items = with_native(items, args.native_share)
    steady_items, burst_items = items[:n_steady], items[n_steady:]
    words = [it.words for it in items]
    info = {
        "stream": (
            "acled-notes" if args.acled_notes else f"{args.corpus.name} + {args.strike_share:.0%} ACLED strike notes"
        )
        + (f", {args.native_share:.0%} multilingual_dev" if args.native_share else ""),
        "articles": len(items),
        "strike_articles": sum(it.strike for it in items),
        "mean_words": round(sum(words) / len(words), 1),
        "median_words": sorted(words)[len(words) // 2],
    }
    print(json.dumps({"stream": info}), flush=True)
    from strikewatch.core.settings import PipelineSettings

    bare = bare_spacy(items[: args.bare_articles], PipelineSettings().spacy_model) if args.bare_articles else None
    print(json.dumps({"bare_nlp_pipe": bare}), flush=True)

    from strikewatch.core import procs
    from strikewatch.devstack import stack

    s = StackSettings()
    stack.up(s)
    if args.runner == "FlinkRunner":
        from strikewatch.devstack import flink

        flink.stop(s)  # the pipeline starts a fresh one: peak RSS is this run's
    port = procs.free_port()
    # A fresh group that starts at the end of the topic: only the bench's own articles.
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "bench-" + uuid.uuid4().hex[:8],
        "STRIKEWATCH_START_FROM": "latest",
    }
    log = open(REPO / ".stack" / "bench_e2e_pipeline.log", "wb") if (REPO / ".stack").is_dir() else subprocess.DEVNULL
    if args.perfect_gate and args.runner != "PrismRunner":
        raise SystemExit("--perfect-gate patches the extraction in the pipeline's process: Prism (LOOPBACK) only")
    gate = [sys.executable, str(REPO / "bench" / "perfect_gate.py")] if args.perfect_gate else []
    cmd = [
        *args.wrap.split(),
        *gate,
        sys.executable,
        "-m",
        "strikewatch.cli",
        "pipeline",
        f"--runner={args.runner}",
        f"--metrics-port={port}",
        *args.pipeline_args,
    ]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    pipeline_pid = proc.pid
    if args.wrap:  # the pipeline is the wrapper's child
        from strikewatch.core.procs import child_pids

        deadline = time.monotonic() + 30
        while not child_pids(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        pipeline_pid = (child_pids(proc.pid) or [proc.pid])[0]
    metrics = Metrics(port)
    result: dict = {"runner": args.runner, "perfect_gate": args.perfect_gate, "stream": info}
    try:
        result["startup_to_first_incident_s"] = warm_up(s.bootstrap_servers, items, proc, metrics)
        print(json.dumps({"startup_to_first_incident_s": result["startup_to_first_incident_s"]}), flush=True)
        steady = run_load(s.bootstrap_servers, steady_items, args.rate, metrics)
        series = steady.pop("series")
        if args.latencies:
            args.latencies.write_text(json.dumps(series))
        print(json.dumps({"steady": steady}), flush=True)
        result["steady"] = steady
        burst = None
        if args.burst:
            burst = run_load(s.bootstrap_servers, burst_items, 0, metrics)
            burst.pop("series")
            print(json.dumps({"saturation": burst}), flush=True)
            result["saturation"] = burst
        rss = process_rss(pipeline_pid, args.runner, s)
        print(json.dumps({"peak_rss_mb": rss}), flush=True)
    finally:
        os.kill(pipeline_pid, signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
        if args.runner == "FlinkRunner":
            flink.stop(s)  # in case the pipeline did not get to it
    sat = burst["articles_per_s"] if burst else None
    bare_aps = bare["articles_per_s"] if bare else None
    result.update(
        {
            "offered_articles_per_s": args.rate,
            "sustained_articles_per_s": steady["articles_per_s"],
            "sustained_words_per_s": steady["words_per_s"],
            "kept_up": steady["all_done"] and (steady["backlog_at_end"] or 0) <= args.rate * 2,
            "strike_p50_latency_s": steady["strike_p50_latency_s"],
            "strike_p99_latency_s": steady["strike_p99_latency_s"],
            "saturation_articles_per_s": sat,
            "saturation_words_per_s": burst["words_per_s"] if burst else None,
            "bare_nlp_pipe_articles_per_s": bare_aps,
            "bare_nlp_pipe_words_per_s": bare["words_per_s"] if bare else None,
            "saturation_ratio_to_bare_nlp_pipe": round(sat / bare_aps, 3) if sat and bare_aps else None,
            "peak_rss_mb": rss,
        }
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Long articles: extraction time by length, and what a long article costs the others.

    .venv/bin/python bench/bench_long_articles.py [--chars 5000 50000 200000] [--short 20]

1. ``extract_events`` on generated articles of ``--chars`` characters (a dull paragraph
   repeated, a strike report in every 20th: the shape of a long live-blog page), wall
   time and events, in this process.
2. On Prism, through Kafka (``strikewatch pipeline`` as a child process, warmed up): for
   each length, one long article, then ``--short`` short strike reports, one every 0.5 s.
   Prints how long the long article took to its first event or dead letter, and the
   short reports' publish -> event latency (p50/max) while it ran: with the long lane
   (pipeline/extract.py) they do not wait for it.

Nothing is asserted; one JSON line per measurement, the last line all of them.
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
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_e2e import Metrics, end_offsets, peak_rss_mb  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402

from strikewatch.core import topics  # noqa: E402
from strikewatch.core.models import Article, DeadLetter  # noqa: E402

PARAGRAPH = (
    "The council met on Tuesday to discuss the budget for the coming year, and members argued about road repairs, "
    "school funding and the price of water in the northern districts. "
)
STRIKE = (
    "Russian drones struck an energy facility near Kharkiv on Monday, killing two workers, the regional governor said. "
)
SHORT = "Israeli warplanes struck a weapons depot near Damascus on Sunday, the Syrian army said. Report {i}."


def long_text(chars: int) -> str:
    parts, i = [], 0
    while sum(map(len, parts)) < chars:
        parts.append((STRIKE if i % 20 == 0 else PARAGRAPH) + f"Item {i}.\n\n")
        i += 1
    return "".join(parts)[:chars]


def direct(lengths: list[int]) -> list[dict]:
    from pipeline.extraction import extract_events, load_nlp

    nlp = load_nlp()
    extract_events(nlp, [Article.new("https://x.invalid/warm", body=SHORT.format(i=0), published_at=datetime.now(UTC))])
    out = []
    for n in lengths:
        art = Article.new(f"https://x.invalid/{n}", body=long_text(n), published_at=datetime.now(UTC))
        t0 = time.perf_counter()
        events = extract_events(nlp, [art])[0]
        out.append({"chars": n, "extract_s": round(time.perf_counter() - t0, 2), "events": len(events)})
        print(json.dumps({"direct": out[-1]}), flush=True)
    return out


def on_prism(lengths: list[int], n_short: int) -> list[dict]:
    from strikewatch.core import procs
    from strikewatch.core.settings import StackSettings
    from strikewatch.devstack import stack

    s = StackSettings()
    stack.up(s)
    port = procs.free_port()
    env = {
        **os.environ,
        "STRIKEWATCH_CONSUMER_GROUP": "bench-long-" + uuid.uuid4().hex[:8],
        "STRIKEWATCH_START_FROM": "latest",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "pipeline", f"--metrics-port={port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    metrics = Metrics(port)
    producer = KafkaProducer(
        bootstrap_servers=s.bootstrap_servers, acks="all", linger_ms=1, max_request_size=4 * 1024 * 1024
    )
    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap_servers, consumer_timeout_ms=50, enable_auto_commit=False)
    parts = {
        **end_offsets(s.bootstrap_servers, topics.EVENTS.name),
        **end_offsets(s.bootstrap_servers, topics.DEAD_LETTERS.name),
    }
    consumer.assign(list(parts))
    for tp, o in parts.items():
        consumer.seek(tp, o)
    seen: dict[str, tuple[float, str]] = {}

    def poll():
        for m in consumer:
            if m.topic == topics.EVENTS.name:
                aid, kind = json.loads(m.value).get("article_id"), "event"
            else:
                dl = DeadLetter.from_bytes(m.value)
                try:
                    aid, kind = Article.from_bytes(dl.payload).id, f"dead_letter:{dl.reason}"
                except ValueError:
                    continue
            seen.setdefault(aid, (time.perf_counter(), kind))

    def send(art: Article) -> float:
        producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
        producer.flush()
        return time.perf_counter()

    out = []
    try:
        # Warm-up: a short report every 5 s until one comes through (the reader starts at
        # the end of the topic once it is up, so the first ones may be before its start).
        t_warm, warm_ids, next_warm = time.perf_counter(), set(), 0.0
        while not warm_ids & set(seen):
            if proc.poll() is not None:
                raise SystemExit(f"the pipeline exited with {proc.returncode}")
            if time.perf_counter() >= next_warm:
                warm = Article.new(
                    f"https://x.invalid/{uuid.uuid4().hex}", body=SHORT.format(i=-1), published_at=datetime.now(UTC)
                )
                send(warm)
                warm_ids.add(warm.id)
                next_warm = time.perf_counter() + 5
            poll()
        warm = next(a for a in warm_ids if a in seen)
        print(json.dumps({"startup_s": round(seen[warm][0] - t_warm, 1)}), flush=True)
        metrics.done()
        for n in lengths:
            run = uuid.uuid4().hex[:8]
            long_ = Article.new(f"https://x.invalid/{run}/long", body=long_text(n), published_at=datetime.now(UTC))
            t_long = send(long_)
            shorts = []
            for i in range(n_short):
                while time.perf_counter() < t_long + 0.5 * (i + 1):
                    poll()
                art = Article.new(
                    f"https://x.invalid/{run}/{i}", body=SHORT.format(i=i), published_at=datetime.now(UTC)
                )
                shorts.append((art.id, send(art)))
            deadline = time.perf_counter() + 900
            while (long_.id not in seen or any(a not in seen for a, _ in shorts)) and time.perf_counter() < deadline:
                poll()
            lat = sorted(seen[a][0] - t for a, t in shorts if a in seen)
            row = {
                "chars": n,
                "long_article_outcome": seen.get(long_.id, (None, "none within 900 s"))[1],
                "long_article_s": round(seen[long_.id][0] - t_long, 2) if long_.id in seen else None,
                "short_reports": len(shorts),
                "short_with_event": len(lat),
                "short_p50_latency_s": round(lat[len(lat) // 2], 3) if lat else None,
                "short_max_latency_s": round(lat[-1], 3) if lat else None,
                "short_done_before_long": sum(
                    1 for a, _ in shorts if a in seen and long_.id in seen and seen[a][0] < seen[long_.id][0]
                ),
            }
            out.append(row)
            print(json.dumps({"prism": row}), flush=True)
        print(json.dumps({"pipeline_peak_rss_mb": peak_rss_mb(proc.pid)}), flush=True)
    finally:
        producer.close()
        consumer.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chars", type=int, nargs="+", default=[5_000, 50_000, 200_000])
    ap.add_argument("--short", type=int, default=20, help="short strike reports sent during each long article")
    ap.add_argument("--no-direct", action="store_true")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    result = {"direct": [] if args.no_direct else direct(args.chars), "prism": on_prism(args.chars, args.short)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

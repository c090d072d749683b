"""Soak: a steady load through the whole running system for ``--minutes``, then checks.

    .venv/bin/python bench/bench_soak.py [--minutes 10] [--rate 5]

On a broker of its own (own directory and ports under a temporary directory):

    this process --articles--> Kafka --> strikewatch pipeline (Prism) --> alerts
        --> strikewatch deliver --> webhook server on 127.0.0.1 (this process)

1. Offers ``--rate`` articles/s for ``--minutes`` (ACLED strike notes read in place from
   ../shared, each wrapped as a fresh Article published on its note's date, cycled)
   with a catch-all subscription.
2. Samples the resident memory (VmRSS, MB) of the pipeline process tree (Python SDK
   worker + Prism) and of the deliverer every ``--sample-s`` seconds.
3. After the load: waits until the output is quiet, then checks
   - lost: articles whose text yields events when extracted in this process, but
     with no event on the events topic;
   - the pipeline's committed offsets reached the end of the articles topic;
   - duplicate deliveries: webhook posts with an alert id seen before;
   - duplicate incident alerts: more than one ``new_incident`` alert for one
     (subscription, incident).
4. Prints the memory series and the growth between the second quarter and the last
   quarter of the run (start-up and model loading excluded).

Nothing is asserted; the numbers go into the issue notes. Loopback only, bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from pipeline.kafka_io import COMMIT_LAG_S  # noqa: E402
from strikewatch.core import topics  # noqa: E402
from strikewatch.core.models import Article, Event, Subscription  # noqa: E402
from strikewatch.core.settings import StackSettings  # noqa: E402
from strikewatch.devstack import stack  # noqa: E402
from strikewatch.services import lag  # noqa: E402
from strikewatch.services.api import SubscriptionStore  # noqa: E402


def records(n: int) -> list[dict]:
    """The first ``n`` ACLED records, read in place."""
    out = []
    with (REPO.parent / "shared" / "data" / "eval" / "acled_dev.jsonl").open() as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


QUIET_S = 30  # output quiet this long after the load: the pipeline has drained


def tree_rss_mb(pid: int) -> float:
    """VmRSS of a process and all its descendants, MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return round(total / 1024, 1)


class Webhook:
    def __init__(self):
        self.posts: list[dict] = []
        hook = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                hook.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/hook"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--rate", type=float, default=5.0, help="offered articles per second")
    ap.add_argument("--sample-s", type=float, default=30.0, help="memory sampling period")
    args = ap.parse_args(argv)
    # (note, its event date): each article is published the day its note reports, so
    # its strikes are news (asserted) and go on to incidents and alerts.
    sample = [
        (r["text"], datetime.fromisoformat(r["event_date"]).replace(hour=12, tzinfo=UTC))
        for r in records(24000)
        if any(
            w in r["text"].lower() for w in ("airstrike", "air strike", "shell", "drone", "mortar", "rocket", "missile")
        )
    ]

    tmp = Path(tempfile.mkdtemp(prefix="strikewatch-soak-"))
    s = stack.isolated(tmp, kafka_heap=StackSettings().kafka_heap)
    stack.up(s)
    hook = Webhook()
    run = uuid.uuid4().hex[:8]
    store = SubscriptionStore(s.bootstrap_servers)
    store.put(Subscription(id=f"soak-{run}", owner="soak", notify_on=["new_incident", "update"], webhook_url=hook.url))
    store.close()
    env = {**os.environ, "STRIKEWATCH_BOOTSTRAP_SERVERS": s.bootstrap_servers, "STRIKEWATCH_STACK_DIR": str(tmp)}
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "strikewatch.cli", name],
            cwd=REPO,
            env=env,
            start_new_session=True,
            stdout=open(tmp / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        for name in ("pipeline", "deliver")
    }
    memory: list[dict] = []
    sent: dict[str, str] = {}
    try:
        producer = KafkaProducer(
            bootstrap_servers=s.bootstrap_servers, acks="all", enable_idempotence=True, linger_ms=5
        )
        n = int(args.rate * args.minutes * 60)
        t0 = time.monotonic()
        next_sample = t0
        for i in range(n):
            while time.monotonic() < t0 + i / args.rate:
                time.sleep(0.002)
            if time.monotonic() >= next_sample:
                memory.append(
                    {"t_s": round(time.monotonic() - t0), **{k: tree_rss_mb(p.pid) for k, p in procs.items()}}
                )
                next_sample += args.sample_s
            text, published = sample[i % len(sample)]
            art = Article.new(
                f"https://soak.invalid/{run}/{i}", title="", body=text, published_at=published, source="soak"
            )
            sent[art.id] = (text, published)
            producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
        producer.flush()
        load_s = time.monotonic() - t0
        memory.append({"t_s": round(load_s), **{k: tree_rss_mb(p.pid) for k, p in procs.items()}})
        print(json.dumps({"offered": n, "rate": args.rate, "load_seconds": round(load_s, 1)}), flush=True)

        # Drain: read events until nothing new for QUIET_S.
        events_by_article: Counter = Counter()
        c = KafkaConsumer(bootstrap_servers=s.bootstrap_servers, enable_auto_commit=False, consumer_timeout_ms=1000)
        parts = [TopicPartition(topics.EVENTS.name, p) for p in c.partitions_for_topic(topics.EVENTS.name)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET_S:
            got = 0
            for m in c:
                events_by_article[Event.from_bytes(m.value).article_id] += 1
                got += 1
            if got:
                quiet_since = time.monotonic()
        c.close()

        # Which articles should have events: extract each distinct text here once.
        from pipeline.extraction import extract_events, load_nlp

        distinct = sorted(set(sent.values()))
        found = extract_events(
            load_nlp(),
            [
                Article.new(f"https://x.invalid/{k}", title="", body=t, published_at=pub, source="soak")
                for k, (t, pub) in enumerate(distinct)
            ],
        )
        has_events = {t for t, evs in zip(distinct, found) if evs}
        should = {a for a, t in sent.items() if t in has_events}
        lost = should - set(events_by_article)

        # Offsets are committed COMMIT_LAG_S after they were read: give them that long.
        deadline = time.monotonic() + COMMIT_LAG_S + 60
        while True:
            behind = lag.measure(s.bootstrap_servers, ["strikewatch-pipeline"]).get(
                ("strikewatch-pipeline", topics.ARTICLES.name), n
            )
            if behind == 0 or time.monotonic() > deadline:
                break
            time.sleep(2)

        ids = Counter(p["data"]["id"] for p in hook.posts)
        new_per_incident = Counter(
            (p["data"]["subscription_id"], p["data"]["incident_id"])
            for p in hook.posts
            if p["data"]["kind"] == "new_incident"
        )
        print(
            json.dumps(
                {
                    "articles_with_events_expected": len(should),
                    "articles_with_events_seen": len(should & set(events_by_article)),
                    "lost": len(lost),
                    "committed_offsets_behind_end": behind,
                    "alerts_delivered": len(hook.posts),
                    "duplicate_deliveries": sum(v - 1 for v in ids.values()),
                    "duplicate_new_incident_alerts": sum(v - 1 for v in new_per_incident.values()),
                }
            ),
            flush=True,
        )
        q = max(1, len(memory) // 4)
        for name in procs:
            early = sum(m[name] for m in memory[q : 2 * q]) / q
            late = sum(m[name] for m in memory[-q:]) / q
            print(
                json.dumps(
                    {
                        "memory_mb": name,
                        "second_quarter_mean": round(early, 1),
                        "last_quarter_mean": round(late, 1),
                        "growth_pct": round(100 * (late - early) / early, 1) if early else None,
                    }
                ),
                flush=True,
            )
        print(json.dumps({"memory_series": memory}))
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        stack.stop_kafka(s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

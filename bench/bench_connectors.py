"""Connector throughput: 200 feeds served on 127.0.0.1 polled into the real broker.

    .venv/bin/python bench/bench_connectors.py [--feeds 200] [--workers 16]

Feeds are the real captures of ../shared/data/feeds (read in place, served with a
per-feed path so every feed yields distinct URLs). Prints feeds polled/s, articles/s
into Kafka (acked), and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--workers", type=int, default=16)
    args = ap.parse_args(argv)
    from kafka.admin import KafkaAdminClient, NewTopic

    from connectors.dedup import SeenStore
    from connectors.fetch import Fetcher
    from connectors.producer import Publisher, TopicNames
    from connectors.scheduler import FeedConfig, Poller, make_metrics
    from strikewatch.core.metrics import CollectorRegistry
    from strikewatch.core.settings import StackSettings
    from strikewatch.devstack import stack

    feeds_dir = REPO.parent / "shared" / "data" / "feeds"
    manifest = [m for m in json.loads((feeds_dir / "manifest.json").read_text()) if m["expat_wellformed"]]
    bodies = [(feeds_dir / m["file"]).read_bytes() for m in manifest]

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            n = int(self.path.strip("/").split("/")[0])
            # Distinct article URLs per feed: prefix every link with the feed number.
            body = re.sub(
                rb"(<link>|<link[^>]*href=\")(https?://)",
                lambda m: m.group(1) + m.group(2) + b"f%d." % n,
                bodies[n % len(bodies)],
            )
            # ...and distinct titles, or the content-hash dedup (rightly) drops the copies.
            body = re.sub(rb"<title>(<!\[CDATA\[)?", lambda m: m.group(0) + b"f%d " % n, body)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    s = StackSettings()
    stack.up(s)
    run = uuid.uuid4().hex[:6]
    names = TopicNames(articles=f"bench-art-{run}", seen=f"bench-seen-{run}", dead_letters=f"bench-dl-{run}")
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap_servers)
    admin.create_topics(
        [
            NewTopic(names.articles, 6, 1),
            NewTopic(names.seen, 3, 1, topic_configs={"cleanup.policy": "compact"}),
            NewTopic(names.dead_letters, 1, 1),
        ]
    )
    feeds = [FeedConfig(f"f{i}", f"http://127.0.0.1:{srv.server_address[1]}/{i}/feed.xml") for i in range(args.feeds)]
    pub = Publisher(s.bootstrap_servers, names)
    m = make_metrics(CollectorRegistry())
    poller = Poller(feeds, Fetcher("bench", "127.0.0.1/32", host_interval_s=0), pub, SeenStore(), m, random.Random(0))
    t0 = time.perf_counter()
    poller.run(once=True, workers=args.workers)
    pub.flush()
    dt = time.perf_counter() - t0
    emitted = sum(m.emitted.labels(f.name)._value.get() for f in feeds)
    rss = (
        next(int(ln.split()[1]) for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith("VmHWM:"))
        / 1024
    )
    print(
        json.dumps(
            {
                "feeds": len(feeds),
                "seconds": round(dt, 2),
                "feeds_per_s": round(len(feeds) / dt, 1),
                "articles": int(emitted),
                "articles_per_s": round(emitted / dt, 1),
                "peak_rss_mb": round(rss, 1),
            }
        )
    )
    pub.close()
    admin.delete_topics([names.articles, names.seen, names.dead_letters])
    srv.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``strikewatch connectors`` and ``strikewatch replay``.

    strikewatch connectors [--feeds deploy/feeds.toml] [--once]
    strikewatch replay PATH [--source NAME]

SIGTERM/SIGINT stop polling, let running polls finish, flush the producer and exit 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from strikewatch.core.metrics import serve
from strikewatch.core.settings import ConnectorSettings

from .dedup import SeenStore
from .fetch import Fetcher
from .producer import Publisher, TopicNames
from .replay import replay
from .scheduler import Poller, load_feeds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch connectors", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--feeds", type=Path, default=None)
    ap.add_argument("--once", action="store_true", help="poll every feed once and exit")
    args = ap.parse_args(argv)
    s = ConnectorSettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = serve(s.metrics_port, addr=s.metrics_host) if s.metrics_port else None
    feeds = load_feeds(args.feeds or s.feeds_file)
    names = TopicNames()
    publisher = Publisher(s.kafka, names)
    seen = SeenStore.load(s.kafka, names.seen)
    fetcher = Fetcher(s.user_agent, s.allow_private_hosts)
    poller = Poller(feeds, fetcher, publisher, seen)

    def _stop(*_):
        poller.stop()
        publisher.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logging.getLogger(__name__).info("polling %d feeds; %d articles already seen", len(feeds), len(seen))
    try:
        poller.run(once=args.once)
    finally:
        publisher.close()
        fetcher.close()
        if server is not None:
            server.shutdown()
    return 0


def replay_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch replay", description="Backfill articles (JSONL, .txt, directories) into Kafka."
    )
    ap.add_argument("path", type=Path)
    ap.add_argument("--source", default="replay")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    if not args.path.exists():
        print(f"strikewatch replay: {args.path} does not exist", file=sys.stderr)
        return 2
    s = ConnectorSettings()
    names = TopicNames()
    publisher = Publisher(s.kafka, names)
    try:
        seen = SeenStore.load(s.kafka, names.seen)
        counts = replay(args.path, publisher, seen, args.source, progress=not args.no_progress)
    finally:
        publisher.close()
    print(json.dumps(counts))
    return 0

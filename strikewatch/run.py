"""``strikewatch run``: the main job on the local stack, with embedded defaults.

    strikewatch run                         # stack + pipeline + connectors + store + API (and web app) + delivery
    strikewatch run --replay PATH           # also backfill articles from PATH (JSONL, dir, .txt)
    strikewatch run --duration 120          # stop by itself after 120 s

Starts the local stack (``strikewatch up``), then runs each service as a child process
(``strikewatch pipeline``, ``connectors``, ``store``, ``api``, ``deliver``), prints every event and
alert as one line while they arrive, and on SIGTERM/SIGINT stops the children with
SIGTERM (each flushes its producer) before exiting. A child that dies is restarted
with a back-off, so one crashing service does not stop the others.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import subprocess
import sys
import threading
import time

from . import stack, topics
from .kafka import clients
from .kafka.config import KafkaConfig
from .settings import StackSettings

log = logging.getLogger("strikewatch.run")

# A child that exits is restarted after this many seconds, doubling up to the cap:
# 2 s rides out a broker restart, 60 s stops a crash loop from burning the CPU.
RESTART_BACKOFF_S = 2.0
RESTART_BACKOFF_MAX_S = 60.0
# Seconds a child gets to flush and exit after SIGTERM before it is killed.
CHILD_STOP_TIMEOUT_S = 20.0

SERVICES = ("pipeline", "connectors", "store", "api", "deliver")


class Child:
    def __init__(self, name: str, argv: list[str]):
        self.name, self.argv = name, argv
        self.proc: subprocess.Popen | None = None
        self.backoff = RESTART_BACKOFF_S
        self.next_start = 0.0

    def start(self) -> None:
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.proc = subprocess.Popen([sys.executable, "-m", "strikewatch.cli", *self.argv])

    def check(self, now: float) -> None:
        if self.proc is None:
            if now >= self.next_start:
                self.start()
            return
        code = self.proc.poll()
        if code is not None:
            log.warning("%s exited with %s; restarting in %.0f s", self.name, code, self.backoff)
            self.proc = None
            self.next_start = now + self.backoff
            self.backoff = min(self.backoff * 2, RESTART_BACKOFF_MAX_S)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(CHILD_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _tail(config: KafkaConfig, stop: threading.Event) -> None:
    """Print events and alerts as they arrive (one JSON line each)."""
    consumer = clients.consumer(config, topics.EVENTS.name, topics.ALERTS.name, topics.DEAD_LETTERS.name,
                                auto_offset_reset="latest", consumer_timeout_ms=500)
    while not stop.is_set():
        for msg in consumer:
            try:
                rec = json.loads(msg.value)
            except (ValueError, TypeError):
                continue
            if msg.topic == topics.EVENTS.name:
                line = {"event": rec.get("event_type"), "modality": rec.get("modality"), "attacker": (rec.get("attacker") or {}).get("name"),
                        "places": [p.get("name") for p in rec.get("places", [])], "date": (rec.get("time") or {}).get("date")}
            elif msg.topic == topics.ALERTS.name:
                line = {"alert": rec.get("title"), "subscription": rec.get("subscription_id"), "severity": rec.get("severity")}
            else:
                line = {"dead_letter": rec.get("stage"), "reason": rec.get("reason")}
            print(json.dumps(line), flush=True)
            if stop.is_set():
                break
    consumer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="strikewatch run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replay", action="append", default=[], help="article file/dir/JSONL to backfill (repeatable)")
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated subset of " + ",".join(SERVICES))
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: until SIGTERM)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = StackSettings()
    t0 = time.monotonic()
    info = stack.up(settings)
    log.info("stack up in %.1f s: %s", time.monotonic() - t0, info)

    # The API refuses the demo key and dev webhook secret unless told this is a local stack.
    children = [Child(name, [name, "--dev"] if name == "api" else [name]) for name in args.services.split(",") if name]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tail = threading.Thread(target=_tail, args=(settings.kafka, stop), daemon=True)
    tail.start()
    for c in children:
        c.start()
    for path in args.replay:
        # One-shot backfill; the pipeline (already starting) picks it up from the topic.
        subprocess.run([sys.executable, "-m", "strikewatch.cli", "replay", path], check=False)
    deadline = time.monotonic() + args.duration if args.duration else None
    while not stop.wait(1.0):
        now = time.monotonic()
        for c in children:
            c.check(now)
        if deadline and now > deadline:
            break
    log.info("stopping %s", ", ".join(c.name for c in children))
    for c in reversed(children):
        c.stop()
    stop.set()
    tail.join(timeout=5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

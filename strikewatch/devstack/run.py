"""``strikewatch run``: the main job on the local stack, with embedded defaults.

    strikewatch run                         # stack + pipeline + connectors + store + API (and web app) + delivery + lag
    strikewatch run --replay PATH           # also backfill articles from PATH (JSONL, dir, .txt)
    strikewatch run --duration 120          # stop by itself after 120 s
    strikewatch run --verbose               # also show every service's log lines on the console

Starts the local stack (``strikewatch up``), then runs each service as a child process
(``strikewatch pipeline``, ``connectors``, ``store``, ``api``, ``deliver``, ``lag``), each serving
/metrics on its port (``strikewatch status`` lists them; ``deploy/prometheus/local.yml`` scrapes
them). On SIGTERM/SIGINT it stops the children with SIGTERM (each flushes its producer) before
exiting. A child that dies is restarted with a back-off, so one crashing service does not stop
the others.

The console: stdout carries one JSON line per event, alert and dead letter as they arrive;
stderr one line when the stack is up, one start line per service, and the warnings that need
someone (``strikewatch/devstack/console.py`` says which). Everything each service writes goes to
``.stack/logs/<service>.log`` (this process's own to ``run.log``); ``--verbose`` shows it here too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from strikewatch.core import procs, topics
from strikewatch.core.kafka import clients
from strikewatch.core.kafka.config import KafkaConfig
from strikewatch.core.settings import ApiSettings, StackSettings
from strikewatch.devstack import console, stack

log = logging.getLogger("strikewatch.devstack.run")

# A child that exits is restarted after this many seconds, doubling up to the cap:
# 2 s rides out a broker restart, 60 s stops a crash loop from burning the CPU.
RESTART_BACKOFF_S = 2.0
RESTART_BACKOFF_MAX_S = 60.0
# Seconds a child gets to flush and exit after SIGTERM before it is killed.
CHILD_STOP_TIMEOUT_S = 20.0
# Lines of a child's output kept to show when it exits (its last words: why it stopped).
LAST_LINES = 8
# A service's log file is moved to <name>.log.1 at start once it is this big (bytes), so an
# always-on stack keeps at most twice this per service.
LOG_ROTATE_BYTES = 50 * 1024 * 1024
# Characters of a dead letter's error shown on its console line.
DEAD_LETTER_ERROR_CHARS = 160

SERVICES = ("pipeline", "connectors", "store", "api", "deliver", "lag")


class Console:
    """The terminal: JSON records on stdout, everything for a person on stderr, one writer at a time."""

    def __init__(self, out=None, err=None):
        self._out, self._err = out or sys.stdout, err or sys.stderr
        self._lock = threading.Lock()

    def record(self, obj: dict) -> None:
        with self._lock:
            print(json.dumps(obj), file=self._out, flush=True)

    def say(self, text: str) -> None:
        with self._lock:
            print(text, file=self._err, flush=True)


def log_path(logs: Path, name: str) -> Path:
    path = logs / f"{name}.log"
    try:
        if path.stat().st_size > LOG_ROTATE_BYTES:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass
    return path


class Child:
    """One service: started, its output read line by line into its log file (and the console when
    ``console.LogLines`` says so), restarted with a back-off when it exits."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        term: Console,
        logs: Path,
        verbose: bool = False,
        env: dict[str, str] | None = None,
        where: str = "",
    ):
        self.name, self.argv, self.term, self.verbose, self.where = name, argv, term, verbose, where
        self.env = env or {}
        self.logfile = log_path(logs, name)
        self.proc: subprocess.Popen | None = None
        self.backoff = RESTART_BACKOFF_S
        self.next_start = 0.0
        self.last: deque[str] = deque(maxlen=LAST_LINES)
        self._reader: threading.Thread | None = None

    def start(self, again: bool = False) -> None:
        argv = [sys.executable, "-m", "strikewatch.cli", *self.argv]
        log.info("starting %s: %s", self.name, " ".join(self.argv))
        self.proc = subprocess.Popen(
            argv,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), name=f"log-{self.name}", daemon=True)
        self._reader.start()
        self.term.say(
            f"{self.name} {'restarted' if again else 'started'} (pid {self.proc.pid})"
            f"{': ' + self.where if self.where else ''}; log {self.logfile}"
        )

    def _read(self, proc: subprocess.Popen) -> None:
        lines = console.LogLines(verbose=self.verbose)
        with open(self.logfile, "ab") as f:
            for raw in proc.stdout:
                f.write(raw)
                f.flush()
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self.last.append(line)
                try:
                    show = lines.feed(line)
                except Exception:  # noqa: BLE001 - never stop reading: a full pipe would block the child
                    show = True
                if show:
                    self.term.say(f"[{self.name}] {line}")

    def check(self, now: float) -> None:
        if self.proc is None:
            if now >= self.next_start:
                self.start(again=True)
            return
        code = self.proc.poll()
        if code is not None:
            if self._reader is not None:
                self._reader.join(timeout=2)  # its last lines
            tail = "".join(f"\n    {line}" for line in self.last)
            self.term.say(
                f"WARNING {self.name} exited with {code}; restarting in {self.backoff:.0f} s. "
                f"Its last lines ({self.logfile}):{tail}"
            )
            self.last.clear()
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
            self.term.say(f"WARNING {self.name} did not stop within {CHILD_STOP_TIMEOUT_S:.0f} s; killed")
            self.proc.kill()
            self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=2)


def console_line(topic: str, rec: dict) -> dict:
    """The console's JSON line for one record of the events, alerts or dead-letters topic."""
    if topic == topics.EVENTS.name:
        return {
            "event": rec.get("event_type"),
            "modality": rec.get("modality"),
            "attacker": (rec.get("attacker") or {}).get("name"),
            "places": [p.get("name") for p in rec.get("places", [])],
            "date": (rec.get("time") or {}).get("date"),
        }
    if topic == topics.ALERTS.name:
        return {"alert": rec.get("title"), "subscription": rec.get("subscription_id"), "severity": rec.get("severity")}
    return {
        "dead_letter": rec.get("stage"),
        "reason": rec.get("reason"),
        "source": rec.get("source"),
        "error": str(rec.get("error") or "")[:DEAD_LETTER_ERROR_CHARS],
    }


def _tail(config: KafkaConfig, stop: threading.Event, term: Console) -> None:
    """Print events, alerts and dead letters as they arrive (one JSON line each)."""
    consumer = clients.consumer(
        config,
        topics.EVENTS.name,
        topics.ALERTS.name,
        topics.DEAD_LETTERS.name,
        auto_offset_reset="latest",
        consumer_timeout_ms=500,
    )
    while not stop.is_set():
        for msg in consumer:
            try:
                rec = json.loads(msg.value)
            except (ValueError, TypeError):
                continue
            if isinstance(rec, dict):
                term.record(console_line(msg.topic, rec))
            if stop.is_set():
                break
    consumer.close()


def _log_to_files(logs: Path, verbose: bool) -> None:
    """This process's own logging: everything to run.log; to the console only what console.py would
    show of a service (kafka-python's INFO from the tail's consumer and the stack's admin client stays
    in the file), or everything with --verbose."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file = logging.FileHandler(log_path(logs, "run"))
    file.setFormatter(fmt)
    root.addHandler(file)
    term = logging.StreamHandler(sys.stderr)
    term.setFormatter(fmt)
    if not verbose:
        term.addFilter(lambda r: not console.quiet(console.Head(r.levelno, r.name, r.getMessage())))
    root.addHandler(term)


def _children(names: list[str], s: StackSettings, term: Console, logs: Path, verbose: bool) -> list[Child]:
    ports = stack.metrics_ports(s)
    api = ApiSettings()
    out = []
    for name in names:
        port = ports.get(name, 0)
        if port and name != "api" and procs.port_open(s.metrics_host, port):
            setting = "STRIKEWATCH_" + ("DELIVERY" if name == "deliver" else name.upper()) + "_METRICS_PORT"
            term.say(
                f"WARNING {name}: port {port} is taken (another strikewatch run?), so it serves no /metrics; "
                f"set {setting} to a free port"
            )
            port = 0
        url = f"http://{s.metrics_host}:{port}/metrics"
        if name == "api":  # the API refuses the demo key and dev webhook secret unless told this is a local stack
            out.append(
                Child(
                    name,
                    ["api", "--dev"],
                    term,
                    logs,
                    verbose,
                    where=f"web app and API on http://{api.host}:{api.port}/, /metrics there",
                )
            )
        elif name == "lag":
            if not port:
                continue
            out.append(
                Child(name, ["lag", "--port", str(port), "--host", s.metrics_host], term, logs, verbose, where=url)
            )
        else:
            out.append(
                Child(
                    name,
                    [name],
                    term,
                    logs,
                    verbose,
                    env={"STRIKEWATCH_METRICS_PORT": str(port)},
                    where=url if port else "no /metrics",
                )
            )
    return out


def _replay(path: str, logs: Path, term: Console) -> None:
    """One-shot backfill; the pipeline (already starting) picks it up from the topic."""
    with open(log_path(logs, "replay"), "ab") as f:
        done = subprocess.run(
            [sys.executable, "-m", "strikewatch.cli", "replay", path, "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=f,
            check=False,
        )
    f_out = done.stdout.decode("utf-8", errors="replace").strip().splitlines()
    try:
        counts = json.loads(f_out[-1])
    except (IndexError, ValueError):
        counts = None
    if done.returncode == 0 and isinstance(counts, dict):
        term.say(f"replayed {path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    else:
        term.say(f"WARNING replay of {path} failed (exit {done.returncode}); see {logs / 'replay.log'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="strikewatch run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replay", action="append", default=[], help="article file/dir/JSONL to backfill (repeatable)")
    parser.add_argument(
        "--services", default=",".join(SERVICES), help="comma-separated subset of " + ",".join(SERVICES)
    )
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: until SIGTERM)")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show every line the services log (they always go to .stack/logs/)",
    )
    args = parser.parse_args(argv)
    settings = StackSettings()
    logs = settings.stack_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _log_to_files(logs, args.verbose)
    term = Console()
    t0 = time.monotonic()
    info = stack.up(settings)
    log.info("stack up: %s", info)
    term.say(
        f"stack up in {time.monotonic() - t0:.1f} s: Kafka {settings.bootstrap_servers}"
        f"{' (started)' if info['kafka_started'] else ''}, PostgreSQL "
        f"{settings.postgres_host}:{settings.postgres_port}; "
        f"service logs in {logs}{'' if args.verbose else ' (--verbose shows them here)'}"
    )

    names = [n for n in args.services.split(",") if n]
    unknown = set(names) - set(SERVICES)
    if unknown:
        parser.error(f"unknown services: {', '.join(sorted(unknown))}")
    children = _children(names, settings, term, logs, args.verbose)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tail = threading.Thread(target=_tail, args=(settings.kafka, stop, term), daemon=True)
    tail.start()
    for c in children:
        c.start()
    for path in args.replay:
        _replay(path, logs, term)
    deadline = time.monotonic() + args.duration if args.duration else None
    while not stop.wait(1.0):
        now = time.monotonic()
        for c in children:
            c.check(now)
        if deadline and now > deadline:
            break
    term.say(f"stopping {', '.join(c.name for c in children)}")
    for c in reversed(children):
        c.stop()
    stop.set()
    tail.join(timeout=5)
    term.say("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What ``strikewatch run`` shows on its console, and what only goes to the log files.

Every line a service writes goes to ``.stack/logs/<service>.log``; the console (stderr) gets
only what needs a person: warnings and errors, tracebacks, a service that exits. Library
INFO (kafka-python's ~11 connection lines a minute), and the warnings known to be harmless
(``QUIET``: each with the reason it is), stay in the files, and a warning that repeats is shown
once per ``REPEAT_QUIET_S``. ``strikewatch run --verbose`` shows every line.

Pure: ``LogLines.feed(line)`` reads a service's output line by line (the formats its loggers
write: ``logging.basicConfig``'s, Python's default ``LEVEL:name:msg``, uvicorn's
``LEVEL:     msg``; a traceback's lines belong to the record before them) and says whether to
show it. Tested alone in ``tests/strikewatch/devstack/test_console.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
SHOW_FROM = LEVELS["WARNING"]
# A warning with the same logger and text (numbers aside) is shown once per this many seconds: a broker
# outage makes every partition's reader warn every 2 s, and one line a minute says it as well.
REPEAT_QUIET_S = 60.0

# (logger name prefix, message pattern or None for any, why it needs no one's attention).
QUIET: tuple[tuple[str, str | None, str], ...] = (
    (
        "kafka",
        None,
        "kafka-python's own warnings: a coordinator moving at start-up (NotCoordinatorError), a slow "
        "selector task on a loaded machine, connection refused while a broker restarts; the clients "
        "retry, and strikewatch's code warns itself when Kafka stays away",
    ),
    ("root", r"^apitools not found", "Beam probes for its GCP client libraries on import; no GCP IO is used"),
    (
        "apache_beam.transforms.core",
        r"^Key coder FastPrimitivesCoder .* may not be deterministic",
        "the stateful steps' keys are strings (theatre, incident id, 'all'), which that coder encodes "
        "deterministically",
    ),
    ("apache_beam.utils.subprocess_server", r"^Really starting service", "Beam logs starting Prism as a warning"),
    ("connectors.scheduler", r"^feed \S+ failed", "the feed's dead-letter line on the console says it (and why)"),
    (
        "strikewatch.services.delivery",
        r" failed \(attempt \d+",
        "a retry; the alert's dead letter, if it comes, is shown",
    ),
)
_QUIET = tuple((name, re.compile(msg) if msg else None) for name, msg, _why in QUIET)

_STAMPED = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d[,.]\d+ (?P<level>[A-Z]+) (?P<name>[^\s:]+): ?(?P<msg>.*)$")
_PLAIN = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<name>[^\s:]+):(?P<msg>.*)$")
_UVICORN = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+(?P<msg>.*)$")
_PY_WARNING = re.compile(r"^\S+:\d+: (?P<name>\w*Warning): (?P<msg>.*)$")
_TRACEBACK = "Traceback (most recent call last):"
_THREAD = re.compile(r"^Exception (in thread|ignored in)\b")


@dataclass(frozen=True)
class Head:
    """The first line of one log record: its level, logger and message."""

    level: int
    name: str
    msg: str


def parse(line: str) -> Head | None:
    """The record a line starts, or None for a line that continues the one before. A traceback
    starts one too (an exception nobody logged); ``LogLines`` joins it to a warning or error
    record just before it, whose exception it is."""
    if line.startswith(_TRACEBACK) or _THREAD.match(line):
        return Head(LEVELS["ERROR"], "traceback", line)
    for pattern, default in ((_STAMPED, None), (_PLAIN, None), (_UVICORN, "uvicorn")):
        m = pattern.match(line)
        if m and m.group("level") in LEVELS:
            return Head(LEVELS[m.group("level")], default or m.group("name"), m.group("msg"))
    m = _PY_WARNING.match(line)
    if m:
        return Head(LEVELS["WARNING"], "py.warnings", f"{m.group('name')}: {m.group('msg')}")
    return None


def quiet(head: Head) -> bool:
    """A record that is below WARNING or known to be harmless (``QUIET``)."""
    if head.level < SHOW_FROM:
        return True
    for prefix, pattern in _QUIET:
        if (head.name == prefix or head.name.startswith(prefix + ".")) and (
            pattern is None or pattern.search(head.msg)
        ):
            return True
    return False


@dataclass
class LogLines:
    """The show/hide decision for one service's output, line by line. ``clock``: seconds (tests pass one)."""

    verbose: bool = False
    clock: Callable[[], float] = time.monotonic
    _showing: bool = False
    _head: Head | None = None
    _last_shown: dict = field(default_factory=dict)

    def feed(self, line: str) -> bool:
        """True when ``line`` goes to the console (every line goes to the log file anyway)."""
        head = parse(line)
        if (
            head is not None
            and line.startswith(_TRACEBACK)
            and self._head is not None
            and self._head.level >= SHOW_FROM
        ):
            # A warning or error logged with its exception (kafka-python's "Unhandled exception in task",
            # every 15 s in the lag exporter): the traceback is that record's and shares its fate.
            head = None
        if head is None:  # a continuation: a traceback's frames, a message's second line
            return self.verbose or self._showing
        self._head = head
        self._showing = not quiet(head) and not self._repeated(head)
        return self.verbose or self._showing

    def _repeated(self, head: Head) -> bool:
        if head.name == "traceback":
            return False
        key = (head.name, re.sub(r"\d+(\.\d+)?", "#", head.msg)[:200])
        now = self.clock()
        last = self._last_shown.get(key)
        if last is not None and now - last < REPEAT_QUIET_S:
            return True
        self._last_shown[key] = now
        if len(self._last_shown) > 1000:  # bounded: forget the oldest
            for k in sorted(self._last_shown, key=self._last_shown.get)[:500]:
                del self._last_shown[k]
        return False

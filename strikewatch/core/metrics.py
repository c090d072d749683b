"""Prometheus helpers shared by every process.

Convention (prometheus client_python style): each module that counts something defines

    def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace: ...
    METRICS = make_metrics()

so the process-wide metrics live at module level and tests build a fresh set on their own
``CollectorRegistry()``. Names are ``strikewatch_<component>_<what>_<unit>``; labels are low
cardinality (feed, stage, reason, event_type, theatre; never a URL or an id).

Label values that come from record content (an article's source, a theatre, a dyad,
a reason) go through a ``LabelSet``: the set of values the label may take (the feed
list, the gazetteer's countries, the ``Reason`` enum); anything else is counted as
``other``, so a hostile or buggy record cannot create series (a ``source`` label fed
from article content reached 5,000 series).

``serve(port)`` exposes the default registry over HTTP; with ``PROMETHEUS_MULTIPROC_DIR`` set by
the deployment, several worker processes of one service aggregate through client_python's
multiprocess collector.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server

__all__ = [
    "OTHER",
    "REGISTRY",
    "CollectorRegistry",
    "Counter",
    "Gauge",
    "Histogram",
    "LabelSet",
    "SimpleNamespace",
    "serve",
]

# Latency buckets in seconds, from 5 ms (one broker round trip) to 5 min (a slow feed
# fetch or a backlog): covers both the per-record stages and end-to-end latency.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


OTHER = "other"
# Label values for an article without a source, and for articles replayed from files
# (``strikewatch replay``'s default source).
NO_SOURCE, REPLAY_SOURCE = "unknown", "replay"
FEEDS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "feeds.toml"


class LabelSet:
    """The values one metric label may take; ``labels(x)`` is ``x`` if it is one of them,
    else ``other``. ``cap``: also admit the first ``cap`` other values seen by this
    process (for labels with no fixed vocabulary, e.g. dyads of actor names), then
    ``other``. Picklable, so a Beam DoFn can carry one."""

    def __init__(self, values: Iterable[str], cap: int = 0):
        self.values = frozenset(str(v) for v in values)
        self.cap = cap
        self._admitted: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: object) -> str:
        v = "" if value is None else str(value)
        if v in self.values:
            return v
        if self.cap:
            with self._lock:
                if v in self._admitted:
                    return v
                if len(self._admitted) < self.cap:
                    self._admitted.add(v)
                    return v
        return OTHER

    def __getstate__(self) -> dict:
        return {"values": self.values, "cap": self.cap}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["values"], state["cap"])

    def __repr__(self) -> str:
        return f"LabelSet({len(self.values)} values, cap={self.cap})"

    @classmethod
    def feeds(cls, path: str | Path | None = None, extra: Iterable[str] = ()) -> LabelSet:
        """Feed names of the feed list (``deploy/feeds.toml``) plus ``unknown`` and
        ``replay``: the values of every ``source``/``feed`` label."""
        p = Path(path) if path is not None else FEEDS_FILE
        feeds = tomllib.loads(p.read_text(encoding="utf-8")).get("feed", []) if p.exists() else []
        names = [f["name"] for f in feeds if "name" in f]
        return cls([*names, NO_SOURCE, REPLAY_SOURCE, *extra])

    def source(self, value: str | None) -> str:
        """An article's ``source`` as a label: empty is ``unknown``."""
        return self(value or NO_SOURCE)


def serve(port: int, addr: str = "127.0.0.1", multiproc_dir: str | None = None):
    """Start the /metrics HTTP endpoint; returns the server (``.shutdown()`` to stop).

    ``multiproc_dir``: aggregate the metrics files of several processes (the caller's
    settings pass it; this module reads no environment itself)."""
    if multiproc_dir:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
    else:
        registry = REGISTRY
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    return server

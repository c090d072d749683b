"""Prometheus helpers shared by every process.

Convention (prometheus client_python style): each module that counts something defines

    def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace: ...
    METRICS = make_metrics()

so the process-wide metrics live at module level and tests build a fresh set on their own
``CollectorRegistry()``. Names are ``strikewatch_<component>_<what>_<unit>``; labels are low
cardinality (feed, stage, reason, event_type, theatre; never a URL or an id).

``serve(port)`` exposes the default registry over HTTP; with ``PROMETHEUS_MULTIPROC_DIR`` set by
the deployment, several worker processes of one service aggregate through client_python's
multiprocess collector.
"""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client import multiprocess

__all__ = ["REGISTRY", "CollectorRegistry", "Counter", "Gauge", "Histogram", "SimpleNamespace", "serve"]

# Latency buckets in seconds, from 5 ms (one broker round trip) to 5 min (a slow feed
# fetch or a backlog): covers both the per-record stages and end-to-end latency.
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


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

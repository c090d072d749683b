"""``strikewatch lag``: consumer lag of strikewatch's consumer groups as Prometheus gauges.

    strikewatch lag --port 9108 [--host 127.0.0.1] [--interval 15]

Exports ``strikewatch_kafka_consumer_lag{group, topic}`` (end offsets minus committed
offsets, summed over partitions) for every consumer group that has offsets on a
catalogue topic. Labels are group and topic names: a handful, never per partition.
"""

from __future__ import annotations

import argparse
import logging
import threading

from strikewatch.core import topics
from strikewatch.core.kafka import clients, stop_on_signals
from strikewatch.core.kafka.config import KafkaConfig
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Gauge, SimpleNamespace, serve
from strikewatch.core.settings import StackSettings

# Seconds between lag measurements: 15 s matches the Prometheus scrape interval.
INTERVAL_S = 15.0


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        lag=Gauge(
            "strikewatch_kafka_consumer_lag",
            "Messages not yet consumed, per group and topic",
            ["group", "topic"],
            registry=registry,
        )
    )


METRICS = make_metrics()


def measure(config: KafkaConfig | str, groups: list[str] | None = None) -> dict[tuple[str, str], int]:
    admin = clients.admin(config)
    consumer = clients.consumer(config)
    try:
        names = groups if groups is not None else [g["group_id"] for g in admin.list_groups()]
        committed: dict[str, dict] = {}
        for group in names:
            offsets = admin.list_group_offsets({group: None}).get(group, {})
            committed[group] = {
                tp: om for tp, om in offsets.items() if tp.topic in topics.BY_NAME or groups is not None
            }
        partitions = {tp for offsets in committed.values() for tp in offsets}
        # The topics' metadata first, then one request for every end offset: kafka-python 3.0.12 answers a
        # reused consumer's end_offsets for a topic it has no metadata of yet without that topic's
        # partitions (a KeyError: the store's group, the fourth asked, failed at every 15 s measurement).
        for topic in {tp.topic for tp in partitions}:
            consumer.partitions_for_topic(topic)
        ends = consumer.end_offsets(sorted(partitions)) if partitions else {}
        out: dict[tuple[str, str], int] = {}
        for group, offsets in committed.items():
            for tp, om in offsets.items():
                out[(group, tp.topic)] = out.get((group, tp.topic), 0) + max(0, ends[tp] - om.offset)
        return out
    finally:
        consumer.close()
        admin.close()


def lag_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch lag", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--port", type=int, default=9108)
    ap.add_argument("--host", default="127.0.0.1", help="metrics listen address (0.0.0.0 in a container)")
    ap.add_argument("--interval", type=float, default=INTERVAL_S, help="seconds between measurements")
    ap.add_argument(
        "--group",
        action="append",
        help="consumer group to watch (repeatable; default: every group on a catalogue topic)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    s = StackSettings()
    server = serve(args.port, addr=args.host)
    stop = threading.Event()
    stop_on_signals(stop.set)
    shown: set[tuple[str, str]] = set()
    while not stop.is_set():
        try:
            lags = measure(s.kafka, args.group)
            for (group, topic), lag in lags.items():
                METRICS.lag.labels(group, topic).set(lag)
            # A group that went away (deleted, offsets expired) stops being exported.
            for gone in shown - set(lags):
                METRICS.lag.remove(*gone)
            shown = set(lags)
        except Exception as e:  # noqa: BLE001 - a broker hiccup must not kill the exporter
            logging.getLogger(__name__).warning("lag measurement failed: %s", e)
        stop.wait(args.interval)
    server.shutdown()
    return 0

"""The ``strikewatch`` command.

    strikewatch up | down | status        local stack: Kafka (KRaft) + topics + Prism + PostgreSQL
    strikewatch topics                    create the topic catalogue on a remote broker
    strikewatch run [--demo]              the main job: stack + pipeline + connectors + API + delivery
    strikewatch pipeline [beam flags]     the Beam job (Prism by default)
    strikewatch connectors [--once]       poll the feed list into Kafka
    strikewatch replay PATH               backfill JSONL/directories of articles into Kafka
    strikewatch extract FILE              events of one article as JSON
    strikewatch eval --data FILE.jsonl    score extraction (ACLED-shaped records, news documents, general news)
    strikewatch train                     fit the relevance model on the dev sets (cross-validated report)
    strikewatch train-lang                fit the native-language (ar ru uk fr es) relevance model
                                          (out of fold per language)
    strikewatch store                     events, incidents, escalation, alerts into PostgreSQL
    strikewatch api | subscriptions | deliver | backtest | lag

Each subcommand is a ``main(argv)`` function of its own module, imported only when used
so ``strikewatch status`` does not load spaCy or Beam.
"""

from __future__ import annotations

import importlib
import json
import sys

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "up": ("strikewatch.cli", "up_main"),
    "down": ("strikewatch.cli", "down_main"),
    "status": ("strikewatch.cli", "status_main"),
    "topics": ("strikewatch.cli", "topics_main"),
    "run": ("strikewatch.devstack.run", "main"),
    "pipeline": ("strikewatch.devstack.runner", "pipeline_main"),
    "connectors": ("connectors.main", "main"),
    "replay": ("connectors.main", "replay_main"),
    "extract": ("pipeline.extraction.commands", "extract_main"),
    "eval": ("pipeline.extraction.tools.train", "eval_main"),
    "train": ("pipeline.extraction.tools.train", "main"),
    "train-lang": ("pipeline.extraction.lang.train", "main"),
    "api": ("strikewatch.services.api", "api_main"),
    "subscriptions": ("strikewatch.services.api", "subscriptions_main"),
    "deliver": ("strikewatch.services.delivery", "deliver_main"),
    "store": ("strikewatch.services.store.consumer", "store_main"),
    "backtest": ("pipeline.escalation", "backtest_main"),
    "lag": ("strikewatch.services.lag", "lag_main"),
}


def up_main(argv: list[str] | None = None) -> int:
    """Start the local stack (idempotent) and print what it did as JSON."""
    from strikewatch.devstack import stack

    print(json.dumps(stack.up()))
    return 0


def topics_main(argv: list[str] | None = None) -> int:
    """Create the catalogue's topics on the configured broker (deployments: the
    compose ``topics`` job, connected as the admin user); idempotent. ``--grant USER``
    also grants USER the service ACLs (strikewatch/core/kafka/acls.py)."""
    import argparse

    from strikewatch.core.kafka import acls
    from strikewatch.core.settings import StackSettings
    from strikewatch.devstack import stack

    ap = argparse.ArgumentParser(prog="strikewatch topics", description=topics_main.__doc__)
    ap.add_argument(
        "--grant", action="append", default=[], metavar="USER", help="SASL user to grant the service ACLs (repeatable)"
    )
    args = ap.parse_args(argv)
    kafka = StackSettings().kafka
    out = {"topics_created": stack.create_topics(kafka)}
    if args.grant:
        out["acls_created"] = {user: acls.grant(kafka, user) for user in args.grant}
    print(json.dumps(out))
    return 0


def down_main(argv: list[str] | None = None) -> int:
    from strikewatch.core.settings import StackSettings
    from strikewatch.devstack import flink, stack

    # A local Flink left by a pipeline that was killed (it stops its own otherwise).
    flink_stopped = flink.stop(StackSettings())
    from strikewatch.devstack.postgres import stop_postgres

    print(
        json.dumps(
            {
                "flink_stopped": flink_stopped,
                "kafka_stopped": stack.stop_kafka(StackSettings()),
                "postgres_stopped": stop_postgres(StackSettings()),
            }
        )
    )
    return 0


def status_main(argv: list[str] | None = None) -> int:
    from strikewatch.devstack import stack

    st = stack.status()
    print(json.dumps(st, indent=2))
    return 0 if st["healthy"] else 1


def usage() -> str:
    return __doc__ or ""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in SUBCOMMANDS:
        print(f"strikewatch: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module, func = SUBCOMMANDS[name]
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        print(f"strikewatch {name}: not available in this build ({e})", file=sys.stderr)
        return 2
    code = fn(rest)
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())

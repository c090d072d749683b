"""What a restarted pipeline's start-up read costs (pipeline/recovery.py): the incidents topic for the
clustering window and the alerts topic for the suppression window, read and decoded into the
open incidents and what each subscription was told.

    PYTHONPATH=. .venv/bin/python bench/bench_recovery.py [--incidents 10000] [--alerts-per-incident 2]

Needs the local stack's Kafka (`strikewatch up`). Produces N incidents (a third with a second
revision, each with its cluster text) and their alerts on fresh topics, then times
``kafka_io.load_seeds`` on them, and prints one JSON line: records, seconds, records/s, open
incidents found, peak RSS of this process before and after.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strikewatch.core.models import Subscription
from strikewatch.core.settings import StackSettings
from strikewatch.services.store import synthetic as S


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--alerts-per-incident", type=int, default=2)
    args = ap.parse_args(argv)

    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    from pipeline.alerts import make_alert
    from pipeline.kafka_io import load_seeds
    from pipeline.recovery import RecoveryConfig

    kafka = StackSettings().kafka
    run = uuid.uuid4().hex[:8]
    names = {"incidents": f"bench-recovery-inc-{run}", "alerts": f"bench-recovery-al-{run}"}
    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    admin.create_topics([NewTopic(n, num_partitions=6, replication_factor=1) for n in names.values()])
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, linger_ms=20, max_request_size=4 * 1024 * 1024)
    subs = [Subscription(id=f"s{k}", owner="bench") for k in range(args.alerts_per_incident)]
    records = 0
    t0 = time.monotonic()
    for i in range(args.incidents):
        for rev in range(2 if i % 3 == 0 else 1):
            inc = S.incident(i, rev).model_copy(update={"cluster_text": S.event(i).evidence[0].text, "theatre": None})
            producer.send(names["incidents"], key=inc.id.encode(), value=inc.to_bytes())
            records += 1
            for sub in subs:
                a = make_alert(sub, inc, None, "new_incident" if rev == 0 else "update")
                producer.send(names["alerts"], key=sub.id.encode(), value=a.to_bytes())
                records += 1
    producer.flush()
    produced_s = time.monotonic() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.monotonic()
    seeds = load_seeds(RecoveryConfig(kafka, names["incidents"], names["alerts"]))
    seconds = time.monotonic() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "incidents": args.incidents,
                "records": records,
                "produce_seconds": round(produced_s, 1),
                "load_seconds": round(seconds, 2),
                "records_per_s": round(records / seconds),
                "open_incidents": sum(len(v) for v in seeds.open.values()),
                "theatres": len(seeds.open),
                "incidents_with_alerts": len(seeds.sent),
                "peak_rss_mb": {"before": round(rss_before), "after": round(rss_after)},
            }
        )
    )
    admin.delete_topics(list(names.values()))
    admin.close()
    producer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

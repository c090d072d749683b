"""Store benchmark: ingest rate (records/s through `strikewatch store`: Kafka -> PostgreSQL) and
database size per 100k incidents.

    PYTHONPATH=. .venv/bin/python bench/bench_store.py [--incidents 100000]

Needs the local stack (`strikewatch up`: Kafka and PostgreSQL). Produces N incidents (a third
with one more revision) and N events on fresh topics, runs the store until they are written,
and prints JSON: records, seconds, records/s, and the database and table sizes scaled to
100k incidents. Uses a fresh database (dropped afterwards unless --keep).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strikewatch.core.models import Actor, Event, Incident, Place
from strikewatch.core.settings import StoreSettings
from strikewatch.services.store import synthetic as S


def world(seed: int = 7):
    """Places over the gazetteer's ~240 countries and 60 actors: filters as selective as real data."""
    from strikewatch.core import countries

    rnd = random.Random(seed)
    entries = json.loads(countries.GAZETTEER.read_text())
    places = [
        Place(
            name=f"{c['name']} {k}",
            country=c["name"],
            country_code=c["key"],
            lat=max(-89.0, min(89.0, c["latitude"] + rnd.uniform(-2, 2))),
            lon=max(-179.0, min(179.0, c["longitude"] + rnd.uniform(-2, 2))),
            precision="city",
        )
        for c in entries
        for k in range(3)
    ]
    actors = [
        Actor(name=f"Armed group {i}", type=rnd.choice(["militia_proxy", "rebel", "state_military"])) for i in range(60)
    ]
    return places, actors


def incident(i: int, revision: int, places, actors, rnd: random.Random) -> Incident:
    base = S.incident(i, revision)
    place = places[rnd.randrange(len(places))]
    day = S.T0 + timedelta(days=rnd.randrange(730), hours=rnd.randrange(24))
    return base.model_copy(
        update={
            "places": [place],
            "attacker": actors[rnd.randrange(len(actors))],
            "targets": [actors[rnd.randrange(len(actors))]],
            "time": base.time.model_copy(update={"date": day.date(), "start": day}),
            "theatre": place.country,
            "severity": round(rnd.random(), 2),
            "event_type": S.TYPES[rnd.randrange(4)],
        }
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument(
        "--keep", action="store_true", help="keep the database (bench/bench_api.py --database can reuse it)"
    )
    ap.add_argument("--database", default=None)
    args = ap.parse_args(argv)
    import psycopg
    from kafka import KafkaAdminClient, KafkaProducer
    from kafka.admin import NewTopic

    from strikewatch.devstack.postgres import ensure_database
    from strikewatch.services.store.consumer import Store

    s = StoreSettings()
    name = args.database or f"bench_{uuid.uuid4().hex[:8]}"
    ensure_database(s, name)
    dsn = s.postgres_dsn(name)
    admin = KafkaAdminClient(bootstrap_servers=s.bootstrap_servers)
    names = {k: f"bench-{k}-{uuid.uuid4().hex[:6]}" for k in ("events", "incidents", "dead")}
    admin.create_topics([NewTopic(n, 3, 1) for n in names.values()])
    places, actors = world()
    rnd = random.Random(11)
    producer = KafkaProducer(
        bootstrap_servers=s.bootstrap_servers, linger_ms=20, batch_size=256 * 1024, compression_type="gzip"
    )
    t0 = time.perf_counter()
    records = 0
    for i in range(args.incidents):
        state = rnd.getstate()
        for rev in range(2 if i % 3 == 0 else 1):
            rnd.setstate(state)  # a revision keeps its incident's place, actors, time
            producer.send(
                names["incidents"], key=f"i_{i:06d}".encode(), value=incident(i, rev, places, actors, rnd).to_bytes()
            )
            records += 1
        producer.send(names["events"], key=f"e_{i:06d}".encode(), value=S.event(i).to_bytes())
        records += 1
    producer.flush()
    produce_s = time.perf_counter() - t0
    store = Store(
        s.bootstrap_servers, dsn, "bench-" + name, {names["events"]: Event, names["incidents"]: Incident}, names["dead"]
    )
    t0 = time.perf_counter()
    first, done = None, 0
    while done < records:  # the store's own loop, counting what it wrote
        batch = store._consumer.poll(timeout_ms=1000)
        if batch:
            first = first or time.perf_counter()
            done += sum(store.handle(batch).written.values())
    ingest_s = time.perf_counter() - (first or t0)
    store.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        db_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        tables = dict(
            conn.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                "'public'::regnamespace"
            ).fetchall()
        )
        incidents = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    scale = 100_000 / incidents
    out = {
        "incidents": incidents,
        "records": records,
        "produce_s": round(produce_s, 1),
        "ingest_s": round(ingest_s, 1),
        "records_per_s": round(records / ingest_s),
        "incidents_per_s": round(incidents / ingest_s),
        "db_mb_per_100k_incidents": round(db_bytes * scale / 2**20, 1),
        "tables_mb_per_100k_incidents": {k: round(v * scale / 2**20, 1) for k, v in sorted(tables.items())},
        "database": name if args.keep else None,
    }
    for t in names.values():
        try:
            admin.delete_topics([t])
        except Exception:  # noqa: BLE001 - housekeeping only
            pass
    admin.close()
    if not args.keep:
        with psycopg.connect(s.postgres_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The store against the real broker and the real PostgreSQL: replaying the topics twice
gives the same rows; a store SIGKILLed mid-stream loses nothing and doubles nothing; bad
records are dead letters and the stream goes on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Alert, DeadLetter, EscalationScore, Event, Incident
from strikewatch.services.store import db
from strikewatch.services.store import synthetic as R
from strikewatch.services.store.consumer import Store, make_metrics

pytestmark = pytest.mark.integration

TABLES = {  # table -> its key columns (every other column but stored_at is compared too)
    "incidents": "id",
    "incident_revisions": "incident_id, revision",
    "incident_events": "incident_id, event_id",
    "events": "id",
    "escalation": "scope, key, at",
    "alerts": "id",
}


@pytest.fixture
def names(new_topic):
    return {
        k: new_topic(f"store-{k}", partitions=2 if k in ("events", "incidents") else 1)
        for k in ("events", "incidents", "escalation", "alerts", "dead")
    }


def topic_models(names):
    return {
        names["events"]: Event,
        names["incidents"]: Incident,
        names["escalation"]: EscalationScore,
        names["alerts"]: Alert,
    }


def produce(producer, names, n: int) -> dict:
    """n incidents (0-2 revisions each, the newest sent first for every third one), their
    events, and some scores and alerts. Returns what a complete store must hold."""
    want = {"incidents": {}, "revisions": set(), "events": set(), "alerts": set()}
    for i in range(n):
        revs = list(range(i % 3 + 1))
        if i % 3 == 2:
            revs.reverse()  # out of order: the row must still end at the newest
        for r in revs:
            inc = R.incident(i, r)
            producer.send(names["incidents"], key=inc.id.encode(), value=inc.to_bytes())
            want["revisions"].add((inc.id, r))
        want["incidents"][f"i_{i:06d}"] = max(revs)
        ev = R.event(i)
        producer.send(names["events"], key=ev.id.encode(), value=ev.to_bytes())
        want["events"].add(ev.id)
        if i % 10 == 0:
            producer.send(names["escalation"], value=R.escalation(i).to_bytes())
            producer.send(names["alerts"], value=R.alert(i).to_bytes())
            want["alerts"].add(f"al_{i:06d}")
    producer.flush()
    return want


def snapshot(dsn: str) -> dict:
    out = {}
    with psycopg.connect(dsn) as conn:
        for table, key in TABLES.items():
            cols = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
                )
                if r[0] != "stored_at"
            ]
            out[table] = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {key}").fetchall()
    return out


def check_complete(dsn: str, want: dict) -> None:
    with psycopg.connect(dsn) as conn:
        got = dict(conn.execute("SELECT id, revision FROM incidents").fetchall())
        assert got == want["incidents"]  # every incident once, at its newest revision
        assert set(conn.execute("SELECT incident_id, revision FROM incident_revisions").fetchall()) == want["revisions"]
        assert conn.execute("SELECT count(*) FROM incident_revisions").fetchone()[0] == len(want["revisions"])
        assert {r[0] for r in conn.execute("SELECT id FROM events")} == want["events"]
        assert {r[0] for r in conn.execute("SELECT id FROM alerts")} == want["alerts"]
        # The incidents row carries the newest revision's record, not the last one sent.
        for _inc_id, rev, rec in conn.execute("SELECT id, revision, record FROM incidents"):
            assert rec["revision"] == rev and rec["source_count"] == rev + 1


def test_migrations_apply_once(pg_dsn):
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert db.migrate(conn) == [v for v, _ in db.migrations()]
        assert db.migrate(conn) == []
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == sorted(v for v, _ in db.migrations()) and versions[0].startswith("0001_")


# The page query's inner scan for each filter (strikewatch/services/store/queries.py), by the columns it reads.
COVERED_FILTERS = {
    "countries": "countries && '{iraq}'::text[]",
    "actors": "actors && '{houthis}'::text[]",
    "event_type": "event_type = ANY('{shelling}'::text[])",
    "severity": "severity >= 0.5",
    "source_count": "source_count >= 2",
    # a wide box (over BBOX_GIST_MAX_DEG2) tests every point of the incident, from the index's lons/lats
    "bbox": "EXISTS (SELECT 1 FROM unnest(lons, lats) AS p(x, y) WHERE x BETWEEN 30 AND 50 AND y BETWEEN 0 AND 40)",
    "since_until": "event_at >= '2024-01-10' AND event_at < '2024-02-01'",
    "cursor": "(event_at, id) < ('2024-02-01', 'i_000050')",
    "languages": "languages && '{uk}'::text[]",
}


@pytest.mark.parametrize("name", sorted(COVERED_FILTERS))
def test_page_index_covers_every_filter(pg_dsn, name):
    """0002: incidents_page carries every filter column, so walking it newest first needs no heap
    page per row tested (an Index Only Scan, 'Heap Fetches: 0' once vacuumed)."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, [R.incident(i, r) for i in range(200) for r in range(i % 3 + 1)], db.WriteResult())
        conn.execute("VACUUM ANALYZE incidents")
        for off in ("seqscan", "bitmapscan", "sort"):  # leave the planner only the ordered walk
            conn.execute(f"SET enable_{off} = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN (ANALYZE, COSTS OFF) SELECT event_at, id FROM incidents WHERE "
                + COVERED_FILTERS[name]
                + " ORDER BY event_at DESC, id DESC LIMIT 51"
            )
        )
    assert "Index Only Scan using incidents_page on incidents" in plan, plan
    assert "Heap Fetches: 0" in plan, plan


def test_replay_twice_gives_the_same_rows(kafka_bootstrap, pg_dsn, names, producer):
    want = produce(producer, names, 300)
    # Hostile records: not JSON, a wrong shape, and U+0000 in a name (PostgreSQL text cannot hold it).
    producer.send(names["events"], value=b"\xff not json")
    producer.send(names["incidents"], value=json.dumps({"id": "i_bad"}).encode())
    nul = R.event(999_999).model_copy(
        update={"id": "e_nul", "attacker": R.ATTACKERS[0].model_copy(update={"name": "bad\x00actor"})}
    )
    producer.send(names["events"], value=nul.to_bytes())
    producer.flush()
    metrics = make_metrics(CollectorRegistry())
    for group in ("first", "second"):  # two groups: the second replays the topics from the start
        store = Store(
            kafka_bootstrap,
            pg_dsn,
            f"store-{group}-{names['events']}",
            topic_models(names),
            names["dead"],
            metrics=metrics,
        )
        try:
            store.run(max_idle_s=3)
        finally:
            store.close()
        if group == "first":
            first = snapshot(pg_dsn)
            check_complete(pg_dsn, want)
    assert snapshot(pg_dsn) == first
    # Each replay dead-letters the three bad records with their reason, and writes the rest.
    from kafka import KafkaConsumer

    c = KafkaConsumer(
        names["dead"], bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    dead = [DeadLetter.from_bytes(m.value) for m in c]
    c.close()
    reasons = sorted((d.stage, d.reason) for d in dead)
    assert reasons == sorted([("store.decode", "schema_mismatch")] * 4 + [("store.write", "store_rejected")] * 2)
    assert all(d.error for d in dead)
    assert metrics.records.labels("Event", "dead_letter")._value.get() == 4
    assert metrics.records.labels("Incident", "written")._value.get() == 2 * len(want["revisions"])
    # First stored incidents are counted once, with a bounded ISO label (SS: South Sudan).
    assert metrics.incidents.labels("air_strike", "South Sudan", "SS")._value.get() > 0


STORE_CHILD = """
import sys
from strikewatch.core.models import Alert, EscalationScore, Event, Incident
from strikewatch.services.store.consumer import Store
bootstrap, dsn, group, ev, inc, esc, al, dead = sys.argv[1:]
s = Store(bootstrap, dsn, group, {ev: Event, inc: Incident, esc: EscalationScore, al: Alert}, dead)
s.run(max_idle_s=float(__import__("os").environ.get("IDLE_S", "1e9")))
s.close()
"""


def test_store_killed_mid_stream_loses_nothing_and_doubles_nothing(kafka_bootstrap, pg_dsn, names, producer):
    want = produce(producer, names, 2000)
    total = len(want["revisions"]) + len(want["events"]) + 2 * len(want["alerts"])
    group = f"store-kill-{names['events']}"
    args = [
        sys.executable,
        "-c",
        STORE_CHILD,
        kafka_bootstrap,
        pg_dsn,
        group,
        names["events"],
        names["incidents"],
        names["escalation"],
        names["alerts"],
        names["dead"],
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[4])}
    kills = 0
    for _ in range(2):  # SIGKILL it twice while it is writing
        child = subprocess.Popen(args, env=env)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with psycopg.connect(pg_dsn) as conn:
                    try:
                        n = conn.execute(
                            "SELECT (SELECT count(*) FROM incident_revisions) + (SELECT count(*) FROM events)"
                        ).fetchone()[0]
                    except psycopg.errors.UndefinedTable:
                        n = 0
                if n > (kills + 1) * total // 4:
                    break
                time.sleep(0.05)
            assert n < total, "the store finished before it could be killed mid-stream"
            child.send_signal(signal.SIGKILL)
            kills += 1
        finally:
            child.wait(30)
    child = subprocess.run(args, env={**env, "IDLE_S": "4"}, timeout=300)
    assert child.returncode == 0
    check_complete(pg_dsn, want)
    # And the group's committed offsets reached the end of every topic.
    from kafka import KafkaAdminClient, KafkaConsumer

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    committed = admin.list_group_offsets({group: None})[group]
    admin.close()
    c = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    ends = c.end_offsets(list(committed))
    c.close()
    assert {tp: om.offset for tp, om in committed.items()} == ends


# --- issue 20, attack round 2: one hostile article stopped the store for good -------------


def test_only_a_database_that_is_away_is_retried():
    """psycopg raises some record errors as OperationalError (54000: an index row over its
    size limit); retrying those stopped the store forever. The SQLSTATE decides."""
    from strikewatch.services.store.consumer import database_away

    errors = psycopg.errors
    assert database_away(psycopg.OperationalError("server closed the connection unexpectedly"))  # no SQLSTATE
    assert database_away(psycopg.InterfaceError("the connection is closed"))
    for away in ("08006", "08001", "57P01", "57P03", "53100", "53300", "40001"):
        assert database_away(errors.lookup(away)("")), away
    for refused in ("54000", "22P05", "23505", "22001", "42P01"):
        assert not database_away(errors.lookup(refused)("")), refused
    assert issubclass(errors.lookup("54000"), psycopg.OperationalError)  # why the type alone could not decide
    assert not database_away(psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))


def _random_letters(n: int, seed: int = 7) -> str:
    import random

    rng = random.Random(seed)  # random letters do not compress: PostgreSQL cannot shrink the index row
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


def test_hostile_names_and_lists_are_stored_capped_and_the_stream_goes_on(kafka_bootstrap, pg_dsn, names, producer):
    """The attack records: a target named by 3,000 letters ("US warplanes struck the
    <3,000 letters> compound"), 400 targets, 200 place countries. Each used to make the page
    index refuse the row (SQLSTATE 54000) and the store retry it every 2 s forever; now names
    and lists are capped where they enter a record, and every record after them is stored."""
    from strikewatch.core.models import MAX_ITEMS, MAX_NAME_CHARS, Actor, Incident, Place

    def made(i: int, **fields) -> Incident:  # validated, as a producer's record is
        return Incident.model_validate({**R.incident(i, 0).model_dump(), **fields})

    long_name = made(0, targets=[Actor(name=_random_letters(3000) + " compound")])
    many_targets = made(1, targets=[Actor(name=f"{_random_letters(12, i)} {i}") for i in range(400)])
    many_places = made(2, places=[Place(name=f"P{i}", country=_random_letters(14, i)) for i in range(200)])
    assert len(long_name.targets[0].name) == MAX_NAME_CHARS
    assert len(many_targets.targets) == len(many_places.places) == MAX_ITEMS
    after = [R.incident(i, 0) for i in range(3, 13)]
    for inc in (long_name, many_targets, many_places, *after):
        producer.send(names["incidents"], key=inc.id.encode(), value=inc.to_bytes())
    # The same attacks written to the topic as raw JSON, past the model's caps: read back capped.
    raw = json.loads(R.incident(13, 0).to_bytes())
    raw["targets"] = [{"name": _random_letters(3000, 1)} for _ in range(100)]
    producer.send(names["incidents"], value=json.dumps(raw).encode())
    producer.flush()
    store = Store(
        kafka_bootstrap,
        pg_dsn,
        f"store-hostile-{names['events']}",
        topic_models(names),
        names["dead"],
        metrics=make_metrics(CollectorRegistry()),
    )
    try:
        store.run(max_idle_s=3)
    finally:
        store.close()
    with psycopg.connect(pg_dsn) as conn:
        stored = {r[0] for r in conn.execute("SELECT id FROM incidents")}
        cut = conn.execute("SELECT record FROM incidents WHERE id = %s", (raw["id"],)).fetchone()[0]
    assert stored == {i.id for i in (long_name, many_targets, many_places, *after)} | {raw["id"]}
    assert len(cut["targets"]) == MAX_ITEMS and all(len(t["name"]) == MAX_NAME_CHARS for t in cut["targets"])


def test_a_record_postgresql_refuses_is_dead_lettered_by_sqlstate_not_retried(pg_dsn, kafka_bootstrap, names):
    """Past the model (a record built without validation): an id of 3,000 random letters makes
    the primary key's index row too large, SQLSTATE 54000, which psycopg raises as an
    OperationalError. The store dead-letters that record with its SQLSTATE, counts it, and
    writes the rest of the batch."""
    from strikewatch.core.models import Incident

    good = [R.incident(i, 0) for i in range(5)]
    hostile = Incident.model_construct(**{**dict(R.incident(5, 0)), "id": "i_" + _random_letters(3000)})
    metrics = make_metrics(CollectorRegistry())
    store = Store(
        kafka_bootstrap,
        pg_dsn,
        f"store-sqlstate-{names['events']}",
        topic_models(names),
        names["dead"],
        metrics=metrics,
    )
    try:
        t0 = time.monotonic()
        result, dead = store.write([(names["incidents"], r) for r in (good[0], good[1], hostile, *good[2:])])
        assert time.monotonic() - t0 < 60  # answered, not retried every 2 s (a bound, not a benchmark)
    finally:
        store.close()
    assert result.written == {"Incident": 5}
    assert [(d.stage, d.reason) for d in dead] == [("store.write", "store_rejected")]
    assert dead[0].error.startswith("SQLSTATE 54000") and "index row" in dead[0].error
    assert metrics.rejected.labels("54")._value.get() == 1
    with psycopg.connect(pg_dsn) as conn:
        assert {r[0] for r in conn.execute("SELECT id FROM incidents")} == {i.id for i in good}

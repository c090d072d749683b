"""A restarted pipeline reopens its open incidents, and remembers what each subscription was told,
from what it published before (pipeline/recovery.py): pure logic on records, then the two
stateful stages on a real broker, a first run and a "restarted" one, with and without recovery.
The whole system under kill -9 is tests/system/test_faults.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import apache_beam as beam
import pytest

from pipeline.incidents import OPEN_FOR_HOURS, Clusterer, ClusterIncidents, new_incident, token_jaccard
from pipeline.recovery import RecoveryConfig, Seeds, open_incidents, sent_fingerprints
from strikewatch.core.kafka import Published
from strikewatch.core.models import Actor, Casualties, Event, EventTime, EventType, Place, Span, Subscription

T0 = datetime(2026, 12, 7, 6, tzinfo=UTC)
NOW_S = T0.timestamp()
STRIKE = "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria"


def ev(n: int, text: str, killed: int | None = None, place=("Albu Kamal", "Syria", 34.45, 40.92)) -> Event:
    name, country, lat, lon = place
    return Event(
        id=f"e{n}",
        article_id=f"a{n}",
        source="s",
        event_type=EventType.AIR_STRIKE,
        attacker=Actor(name="United States", type="state_military", country="US"),
        places=[Place(name=name, country=country, lat=lat, lon=lon, precision="city")],
        time=EventTime(date=T0.date(), precision="day"),
        casualties=Casualties(killed=killed, statement="reported" if killed is not None else "unknown"),
        evidence=[Span(text=text, start=0, end=len(text))],
        article_published_at=T0 + timedelta(minutes=n),
        extracted_at=T0 + timedelta(minutes=n, seconds=5),
    )


def rec(record, at_s: float) -> Published:
    return Published(record.id.encode() if hasattr(record, "id") else None, record.to_bytes(), int(at_s * 1000))


def test_an_incident_carries_the_text_reports_are_compared_with():
    inc = new_incident(ev(1, STRIKE), T0)
    assert inc.cluster_text == STRIKE
    _, second = Clusterer(token_jaccard).add([(inc, STRIKE)], ev(2, STRIKE + " on Monday", killed=2), T0)
    assert second.cluster_text == STRIKE  # revisions keep the first report's text


def test_open_incidents_are_the_latest_revisions_within_the_window():
    c = Clusterer(token_jaccard)
    open_, r0 = c.add([], ev(1, STRIKE), T0)
    open_, r1 = c.add(open_, ev(2, STRIKE + " killing 4", killed=4), T0)
    far = new_incident(ev(3, "Israeli jets struck a depot near Damascus", place=("Damascus", "Syria", 33.5, 36.3)), T0)
    closed = new_incident(ev(4, "Houthi drones hit Marib", place=("Marib", "Yemen", 15.46, 45.32)), T0)
    old = r0.model_copy(update={"cluster_text": None, "id": "i_before_texts"})
    records = [
        rec(r1, NOW_S - 60),
        rec(r0, NOW_S - 120),  # out of order: the higher revision wins
        rec(far, NOW_S - 3600),
        rec(closed, NOW_S - OPEN_FOR_HOURS * 3600 - 1),
        rec(old, NOW_S - 60),
        Published(b"x", b"\xff junk", int(NOW_S * 1000)),
    ]
    found, counts = open_incidents(records, NOW_S)
    assert {t: [(o.incident.id, o.incident.revision) for o in v] for t, v in found.items()} == {
        "Syria": [(r0.id, 1), (far.id, 0)]
    }
    assert counts == {"records": 6, "undecodable": 1, "without_text": 1, "open": 2}
    seeds = Seeds(found, {})
    assert [i.id for i, _text in seeds.take_open("Syria", NOW_S)] == [r0.id, far.id]
    assert seeds.take_open("Syria", NOW_S) == []  # taken once
    # Seen from a report more than the open period after an incident's last revision, it is closed.
    later = Seeds(open_incidents(records, NOW_S)[0], {}).take_open("Syria", NOW_S - 1800 + OPEN_FOR_HOURS * 3600)
    assert [i.id for i, _text in later] == [r0.id]


def test_what_each_subscription_was_told_is_the_latest_revision_it_was_alerted_about():
    from pipeline.alerts import make_alert
    from pipeline.windows import fingerprint

    c = Clusterer(token_jaccard)
    open_, r0 = c.add([], ev(1, STRIKE), T0)
    _, r1 = c.add(open_, ev(2, STRIKE + " killing 4", killed=4), T0)
    s1, s2 = Subscription(id="s1", owner="o"), Subscription(id="s2", owner="o")
    alerts = [
        make_alert(s1, r1, None, "update"),
        make_alert(s1, r0, None, "new_incident"),
        make_alert(s2, r0, None, "new_incident"),
    ]
    sent, counts = sent_fingerprints([rec(a, NOW_S) for a in alerts] + [Published(None, b"{}", 0)])
    assert sent == {r0.id: {"s1": fingerprint(r1), "s2": fingerprint(r0)}}
    assert counts == {"records": 4, "undecodable": 1, "incidents": 1}


# --- the stateful stages, a first run and a restarted one, on the real broker -----------------------------


def _run(events, subs, recovery):
    """ClusterIncidents -> MatchSubscriptions as the graph wires them (escalation left out), on the
    direct runner; returns (incidents, alerts) as JSON lines."""
    import tempfile
    from pathlib import Path

    from pipeline.alerts import MatchSubscriptions

    out = Path(tempfile.mkdtemp())
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        incs = p | "events" >> beam.Create(events) | ClusterIncidents("jaccard", recovery)
        alerts = (incs | beam.Map(lambda i: (i, None))) | MatchSubscriptions(p | "subs" >> beam.Create(subs), recovery)
        (
            incs
            | "i" >> beam.Map(lambda i: i.model_dump_json())
            | "wi" >> beam.io.WriteToText(str(out / "inc"), shard_name_template="")
        )
        (
            alerts
            | "a" >> beam.Map(lambda a: a.model_dump_json())
            | "wa" >> beam.io.WriteToText(str(out / "al"), shard_name_template="")
        )
    read = lambda name: [json.loads(line) for line in (out / name).read_text().splitlines() if line]  # noqa: E731
    return read("inc"), read("al")


@pytest.mark.integration
@pytest.mark.parametrize("recover", [True, False], ids=["recovered", "without-recovery"])
def test_a_report_after_a_restart_revises_the_open_incident_and_alerts_no_one_twice(
    kafka_bootstrap, new_topic, producer, recover
):
    """First run: a report of a strike, an incident, a new_incident alert, published. Restart (a new
    pipeline, empty state): a second report of the same strike. With recovery it is revision 1 of
    the same incident and the subscription hears nothing new (only new incidents asked for);
    without, it was a second incident and a second new_incident alert (the attack)."""
    from strikewatch.core.kafka import KafkaConfig

    incidents_topic, alerts_topic = new_topic("rec-inc"), new_topic("rec-al")
    config = RecoveryConfig(KafkaConfig.coerce(kafka_bootstrap), incidents_topic, alerts_topic)
    sub = Subscription(id="s1", owner="o", notify_on=["new_incident"], countries=["Syria"])
    subs = [("s1", sub)]
    first_incs, first_alerts = _run([ev(1, STRIKE)], subs, None)
    assert [(i["revision"], a["kind"]) for i, a in zip(first_incs, first_alerts)] == [(0, "new_incident")]
    for i in first_incs:
        producer.send(incidents_topic, key=i["id"].encode(), value=json.dumps(i).encode())
    for a in first_alerts:
        producer.send(alerts_topic, key=b"s1", value=json.dumps(a).encode())
    producer.flush()

    incs, alerts = _run([ev(2, STRIKE + " on Monday", killed=3)], subs, config if recover else None)
    if recover:
        assert [(i["id"], i["revision"], i["source_count"]) for i in incs] == [(first_incs[0]["id"], 1, 2)]
        assert alerts == []
    else:
        assert incs[0]["id"] != first_incs[0]["id"] and incs[0]["revision"] == 0
        assert [a["kind"] for a in alerts] == ["new_incident"]


@pytest.mark.integration
def test_an_update_after_a_restart_is_an_update(kafka_bootstrap, new_topic, producer):
    """A subscription that asks for updates: after the restart, the second report (3 killed) is a
    follow-up of the incident it was told about, not a second ``new_incident``."""
    from strikewatch.core.kafka import KafkaConfig

    incidents_topic, alerts_topic = new_topic("rec-inc"), new_topic("rec-al")
    config = RecoveryConfig(KafkaConfig.coerce(kafka_bootstrap), incidents_topic, alerts_topic)
    subs = [("s1", Subscription(id="s1", owner="o"))]
    first_incs, first_alerts = _run([ev(1, STRIKE)], subs, None)
    for i in first_incs:
        producer.send(incidents_topic, key=i["id"].encode(), value=json.dumps(i).encode())
    for a in first_alerts:
        producer.send(alerts_topic, key=b"s1", value=json.dumps(a).encode())
    producer.flush()
    _incs, alerts = _run([ev(2, STRIKE + " on Monday", killed=3)], subs, config)
    # A follow-up of the incident it was told about ("corroborated": a second outlet's report), never new.
    assert [(a["kind"], a["incident_id"], a["incident_revision"]) for a in alerts] == [
        ("corroborated", first_incs[0]["id"], 1)
    ]


def test_a_report_a_reopened_incident_already_holds_re_sends_it_once():
    from pipeline.recovery import resend_reopened

    c = Clusterer(token_jaccard)
    open_, inc = c.add([], ev(1, STRIKE), T0)
    again = ev(1, STRIKE)  # the same article, re-read after the restart
    assert c.add(open_, again, T0) == (open_, None)  # clustering alone sends nothing
    assert resend_reopened(open_, {inc.id}, again, None) == (inc, set())  # re-sent once
    assert resend_reopened(open_, set(), again, None) == (None, set())
    assert resend_reopened(open_, {inc.id}, ev(7, "another"), None) == (None, {inc.id})  # not its report
    _, rev1 = c.add(open_, ev(2, STRIKE + " killing 4", killed=4), T0)
    assert resend_reopened(open_, {inc.id}, ev(2, STRIKE), rev1) == (rev1, set())  # a new revision re-drives


@pytest.mark.integration
@pytest.mark.parametrize("alert_written", [False, True], ids=["alert-lost", "alert-written"])
def test_a_re_read_report_after_a_restart_re_sends_its_reopened_incident(
    kafka_bootstrap, new_topic, producer, alert_written
):
    """The pipeline is killed after writing an incident and before (or after) writing its alert; the
    restarted one re-reads the report (its offset was not committed yet). The incident is re-sent as
    it was, and the alert goes out with the id it would have had, or not again."""
    from strikewatch.core.kafka import KafkaConfig

    incidents_topic, alerts_topic = new_topic("rec-inc"), new_topic("rec-al")
    config = RecoveryConfig(KafkaConfig.coerce(kafka_bootstrap), incidents_topic, alerts_topic)
    subs = [("s1", Subscription(id="s1", owner="o", notify_on=["new_incident"]))]
    first_incs, first_alerts = _run([ev(1, STRIKE)], subs, None)
    for i in first_incs:
        producer.send(incidents_topic, key=i["id"].encode(), value=json.dumps(i).encode())
    if alert_written:
        for a in first_alerts:
            producer.send(alerts_topic, key=b"s1", value=json.dumps(a).encode())
    producer.flush()
    incs, alerts = _run([ev(1, STRIKE)], subs, config)
    assert [(i["id"], i["revision"]) for i in incs] == [(first_incs[0]["id"], 0)]
    assert [a["id"] for a in alerts] == ([] if alert_written else [first_alerts[0]["id"]])

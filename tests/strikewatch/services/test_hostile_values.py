"""Hostile numbers written straight to the topics are refused where they enter: every
consumer decodes with the record models, which bound revisions, severities, escalation
and coordinates and refuse NaN and infinities; the record becomes a dead letter naming the
field, and the stream goes on.

The attack (issue 20, second round): revision -5 was accepted and 2**31-1 froze an
incident's row in the store; severity NaN passed a subscription's ``min_severity`` of 0.99;
places at lat/lon +/-1e308 were stored and drawn on the map."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from strikewatch.core.models import MAX_REVISION, Alert, EscalationScore, Event, Incident, Subscription
from strikewatch.services.store import synthetic as R

NAN, INF = float("nan"), float("inf")


def _wire(record, **changes) -> bytes:
    """The record as JSON with ``changes`` applied (dotted paths), NaN and Infinity written
    as the JSON literals Python's json and pydantic's parser both accept."""
    data = json.loads(record.to_bytes())
    for path, value in changes.items():
        node = data
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(leaf) if leaf.isdigit() else leaf] = value
    return json.dumps(data, allow_nan=True).encode()


HOSTILE_INCIDENTS = {
    "revision_negative": {"revision": -5},
    "revision_int32_max": {"revision": 2**31 - 1},
    "revision_past_max": {"revision": MAX_REVISION + 1},
    "severity_nan": {"severity": NAN},
    "severity_inf": {"severity": INF},
    "severity_above_one": {"severity": 1.5},
    "severity_negative": {"severity": -0.1},
    "lat_1e308": {"places.0.lat": 1e308},
    "lon_minus_1e308": {"places.0.lon": -1e308},
    "lat_91": {"places.0.lat": 91.0},
    "lon_181": {"places.0.lon": 181.0},
    "lat_nan": {"places.0.lat": NAN},
    "killed_negative": {"casualties.killed": -3},
    "latency_inf": {"first_seen_latency_s": INF},
}


@pytest.mark.parametrize("name", sorted(HOSTILE_INCIDENTS))
def test_hostile_incident_values_are_refused_naming_the_field(name):
    raw = _wire(R.incident(1), **HOSTILE_INCIDENTS[name])
    with pytest.raises(ValidationError) as err:
        Incident.from_bytes(raw)
    field = next(iter(HOSTILE_INCIDENTS[name])).split(".")
    assert err.value.errors()[0]["loc"] == tuple(int(p) if p.isdigit() else p for p in field)
    # The same incident inside an alert is refused too (the deliverer and the store decode alerts).
    alert = json.loads(R.alert(1).to_bytes())
    alert["incident"] = json.loads(raw)
    with pytest.raises(ValidationError):
        Alert.model_validate_json(json.dumps(alert, allow_nan=True))


@pytest.mark.parametrize(
    "changes",
    [
        {"severity": NAN},
        {"severity": 2.0},
        {"incident_revision": -1},
        {"incident_revision": 2**31 - 1},
        {"escalation": INF},
    ],
)
def test_hostile_alert_values_are_refused(changes):
    with pytest.raises(ValidationError):
        Alert.from_bytes(_wire(R.alert(1), **changes))


@pytest.mark.parametrize("changes", [{"places.0.lat": -1e308}, {"confidence": NAN}, {"strike_count": -1}])
def test_hostile_event_values_are_refused(changes):
    with pytest.raises(ValidationError):
        Event.from_bytes(_wire(R.event(1), **changes))


@pytest.mark.parametrize("changes", [{"value": NAN}, {"value": 7.0}])
def test_hostile_escalation_values_are_refused(changes):
    with pytest.raises(ValidationError):
        EscalationScore.from_bytes(_wire(R.escalation(1), **changes))


@pytest.mark.parametrize(
    "changes",
    [{"min_severity": NAN}, {"min_escalation": -1.0}, {"bbox": [0, 0, 1e308, 10]}, {"bbox": [0, NAN, 10, 10]}],
)
def test_hostile_subscription_values_are_refused(changes):
    sub = Subscription(id="s1", owner="o", bbox=(30.0, 10.0, 50.0, 40.0))
    with pytest.raises(ValidationError):
        Subscription.from_bytes(_wire(sub, **changes))


def test_the_bounds_keep_every_value_the_pipeline_makes():
    """Edges that are legitimate stay accepted: the poles, the antimeridian, severity 0
    and 1, the largest revision."""
    raw = _wire(
        R.incident(1), **{"places.0.lat": -90.0, "places.0.lon": 180.0, "severity": 1.0, "revision": MAX_REVISION}
    )
    inc = Incident.from_bytes(raw)
    assert (inc.places[0].lat, inc.places[0].lon, inc.severity, inc.revision) == (-90.0, 180.0, 1.0, MAX_REVISION)
    assert Incident.from_bytes(_wire(R.incident(1), severity=0.0)).severity == 0.0


@pytest.mark.integration
def test_the_store_dead_letters_hostile_values_and_stores_the_rest(kafka_bootstrap, pg_dsn, new_topic, producer):
    """The attack on the real store: every hostile incident is a dead letter (store.decode,
    schema_mismatch, with the field in its error), nothing hostile reaches PostgreSQL, and
    the valid incident sent after them is stored and can still be revised."""
    import psycopg
    from kafka import KafkaConsumer

    from strikewatch.core.models import DeadLetter
    from strikewatch.services.store.consumer import Store

    incidents, dead = new_topic("hostile-inc"), new_topic("hostile-dead")
    for _name, changes in sorted(HOSTILE_INCIDENTS.items()):
        producer.send(incidents, key=b"i_000001", value=_wire(R.incident(1), **changes))
    producer.send(incidents, key=b"i_000001", value=R.incident(1, 0).to_bytes())
    producer.send(incidents, key=b"i_000001", value=R.incident(1, 1).to_bytes())  # a real revision still moves the row
    producer.flush()
    store = Store(kafka_bootstrap, pg_dsn, "hostile-" + incidents, {incidents: Incident}, dead)
    try:
        store.run(max_idle_s=3)
    finally:
        store.close()
    c = KafkaConsumer(dead, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000)
    letters = [DeadLetter.from_bytes(m.value) for m in c]
    c.close()
    assert len(letters) == len(HOSTILE_INCIDENTS)
    assert {(d.stage, d.reason) for d in letters} == {("store.decode", "schema_mismatch")}
    for d in letters:
        assert "validation error for Incident" in d.error and d.payload, d.error
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT id, revision, severity FROM incidents").fetchall() == [
            ("i_000001", 1, R.incident(1, 1).severity)
        ]
        assert (
            conn.execute(
                "SELECT count(*) FROM incident_revisions WHERE revision < 0 OR revision > %s", (MAX_REVISION,)
            ).fetchone()[0]
            == 0
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM incidents WHERE severity = 'NaN' OR abs(lat) > 90 OR abs(lon) > 180"
            ).fetchone()[0]
            == 0
        )


@pytest.mark.integration
def test_the_deliverer_dead_letters_a_hostile_alert_and_delivers_the_next(
    kafka_bootstrap, new_topic, producer, http_server, route
):
    from kafka import KafkaConsumer

    from strikewatch.core.models import DeadLetter
    from strikewatch.services.delivery import Deliverer

    hook = http_server.routes["/hook"] = route(status=204)
    alerts, delivered, dead = new_topic("hostile-al"), new_topic("hostile-dlv", compact=True), new_topic("hostile-dl")
    good = R.alert(2).model_copy(update={"webhook_url": http_server.url("/hook")})
    producer.send(alerts, key=b"sub_x", value=_wire(good, severity=NAN, id="al_nan"))
    producer.send(alerts, key=b"sub_x", value=_wire(good, incident_revision=2**31 - 1, id="al_big"))
    producer.send(alerts, key=b"sub_x", value=good.to_bytes())
    producer.flush()
    d = Deliverer(
        kafka_bootstrap,
        b"s",
        group="hostile-" + alerts,
        alerts_topic=alerts,
        delivered_topic=delivered,
        dead_topic=dead,
    )
    try:
        d.run(max_idle_s=2)
    finally:
        d.close()
    assert [json.loads(body)["data"]["id"] for _, body in hook.posts] == [good.id]
    c = KafkaConsumer(dead, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000)
    letters = [DeadLetter.from_bytes(m.value) for m in c]
    c.close()
    assert sorted((d.stage, d.reason) for d in letters) == [("delivery.decode", "schema_mismatch")] * 2
    assert any("severity" in d.error for d in letters) and any("incident_revision" in d.error for d in letters)


def test_the_pipeline_dead_letters_a_hostile_subscription():
    """A subscription with min_severity NaN on the subscriptions topic matched every incident
    (NaN compares false): the pipeline's decoder refuses it."""
    import apache_beam as beam
    from apache_beam.testing.util import assert_that, equal_to

    from pipeline.decode import DecodeSubscriptions
    from pipeline.kafka_io import KafkaRecord

    ok = Subscription(id="s_ok", owner="o")
    bad = _wire(Subscription(id="s_nan", owner="o"), min_severity=NAN)
    recs = [KafkaRecord("subs", 0, 0, b"s_nan", bad, 0), KafkaRecord("subs", 0, 1, b"s_ok", ok.to_bytes(), 0)]
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        out = p | beam.Create(recs) | DecodeSubscriptions()
        assert_that(out.subscriptions | beam.Map(lambda kv: kv[0]), equal_to(["s_ok"]), label="kept")
        assert_that(
            out.dead_letters | beam.Map(lambda d: (d.reason, "min_severity" in d.error)),
            equal_to([("schema_mismatch", True)]),
            label="dead",
        )

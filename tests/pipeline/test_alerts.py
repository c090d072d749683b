"""Subscription matching: filters, suppression, live subscription updates, and the
stage joined on a real Beam runner."""

from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.alerts import Matcher, MatchSubscriptions, matches
from strikewatch.models import Actor, Casualties, EventType, Incident, Place, Subscription

NOW = datetime(2021, 6, 28, tzinfo=timezone.utc)


def inc(rev=0, killed=None, sev=0.6):
    return Incident(id="i1", revision=rev, event_type=EventType.AIR_STRIKE, attacker=Actor(name="United States", type="state_military"),
                    targets=[Actor(name="Kataib Hezbollah", type="militia_proxy")],
                    places=[Place(name="Albu Kamal", country="Syria", country_code="SY", lat=34.45, lon=40.92, precision="city")],
                    casualties=Casualties(killed=killed, statement="reported" if killed else "unknown"), severity=sev, source_count=1 + rev)


def sub(i="s1", **kw):
    return Subscription(id=i, owner="o1", **kw)


def test_filters():
    i = inc()
    assert matches(sub(), i, 0.1)
    assert matches(sub(event_types=["air_strike"], countries=["Syria"], actors=["kataib"]), i, 0.1)
    assert not matches(sub(event_types=["shelling"]), i, 0.1)
    assert not matches(sub(countries=["Yemen"]), i, 0.1)
    assert matches(sub(bbox=(35.0, 30.0, 45.0, 38.0)), i, 0.1)
    assert not matches(sub(bbox=(0.0, 0.0, 10.0, 10.0)), i, 0.1)
    assert not matches(sub(min_severity=0.8), i, 0.1)
    assert not matches(sub(min_escalation=0.5), i, 0.2)


def test_one_alert_per_incident_then_updates_only_on_change():
    m = Matcher()
    m.subscription("s1", sub(webhook_url="http://127.0.0.1/h"))
    [a] = m.incident(inc(), 0.3)
    assert (a.kind, a.webhook_url, a.incident_revision) == ("new_incident", "http://127.0.0.1/h", 0)
    assert m.incident(inc(rev=1), 0.3) == []  # a new source, nothing that matters changed
    [u] = m.incident(inc(rev=2, killed=3, sev=0.7), 0.3)
    assert u.kind == "update" and u.id != a.id
    assert m.subscription("s1", sub(webhook_url="http://127.0.0.1/h")) == []  # re-sent subscription: nothing new
    m.subscription("s1", None)  # deleted live
    assert m.incident(inc(rev=3, killed=9, sev=0.8), 0.3) == []


def test_stage_joins_subscriptions_and_incidents():
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        subs = p | "subs" >> beam.Create([("s1", sub()), ("s2", sub("s2", countries=["Yemen"]))])
        scored = p | "incs" >> beam.Create([(inc(), 0.4)])
        # Either arrival order gives the alert: recent incidents are replayed to a new subscription.
        alerts = scored | MatchSubscriptions(subs)
        assert_that(alerts | beam.Map(lambda a: (a.subscription_id, a.kind)), equal_to([("s1", "new_incident")]))

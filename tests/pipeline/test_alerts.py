"""Subscription matching: filters, suppression, live subscription updates, and the
stage joined on a real Beam runner."""

from datetime import UTC, datetime

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.alerts import Matcher, MatchSubscriptions, matches
from strikewatch.core.models import Actor, Casualties, EventType, Incident, Place, Subscription

NOW = datetime(2021, 6, 28, tzinfo=UTC)


def inc(rev=0, killed=None, sev=0.6):
    return Incident(
        id="i1",
        revision=rev,
        event_type=EventType.AIR_STRIKE,
        attacker=Actor(name="United States", type="state_military"),
        targets=[Actor(name="Kataib Hezbollah", type="militia_proxy")],
        places=[Place(name="Albu Kamal", country="Syria", country_code="SY", lat=34.45, lon=40.92, precision="city")],
        casualties=Casualties(killed=killed, statement="reported" if killed else "unknown"),
        severity=sev,
        source_count=1 + rev,
    )


def sub(i="s1", **kw):
    return Subscription(id=i, owner="o1", **kw)


def test_filters():
    i = inc()
    assert matches(sub(), i, 0.1)
    assert matches(sub(event_types=["air_strike"], countries=["Syria"], actors=["kataib hezbollah"]), i, 0.1)
    # An actor is a whole name, as in the read API (strikewatch/core/filters.py); a substring in either
    # direction used to match here, so "us" was any party whose name holds those letters.
    assert not matches(sub(actors=["kataib"]), i, 0.1) and not matches(sub(actors=["us"]), i, 0.1)
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


# --- bounded state, and no replay of old incidents to new subscriptions -----------------

from datetime import timedelta  # noqa: E402

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions  # noqa: E402
from apache_beam.testing.test_stream import TestStream as Stream  # noqa: E402 - "Test*" names are collected by pytest
from apache_beam.transforms.window import TimestampedValue  # noqa: E402

from pipeline.alerts import RECENT_WINDOW_S, SENT_TTL_S  # noqa: E402
from strikewatch.core.models import IncidentSource  # noqa: E402


def seen(i: Incident, at: datetime, **kw) -> Incident:
    """``i`` as the pipeline emits it: its newest report seen at ``at``."""
    src = IncidentSource(event_id=f"e{i.id}{i.revision}", article_id="a", source="f", seen_at=at)
    return i.model_copy(update={"sources": [src], "first_seen_at": at, **kw})


def test_a_new_subscription_never_replays_old_incidents():
    """500 incidents seen before a subscription without filters was created: it gets none
    of them (it used to get all 500 at once), and does get what happens after."""
    m = Matcher()
    for n in range(500):
        m.incident(seen(inc().model_copy(update={"id": f"old{n}"}), NOW + timedelta(seconds=n)), 0.3)
    created = NOW + timedelta(seconds=600)
    assert m.subscription("s1", sub(created_at=created)) == []
    [a] = m.incident(seen(inc().model_copy(update={"id": "new"}), created + timedelta(seconds=1)), 0.3)
    assert (a.incident_id, a.kind) == ("new", "new_incident")
    # An old incident revised after the subscription was created is news to it.
    [r] = m.incident(seen(inc(rev=1, killed=2).model_copy(update={"id": "old7"}), created + timedelta(seconds=2)), 0.3)
    assert (r.incident_id, r.kind, r.incident_revision) == ("old7", "new_incident", 1)


def test_a_subscription_created_before_an_incident_still_gets_it_when_it_arrives_later():
    """A restarted pipeline reads the subscriptions topic while incidents already flow: a
    subscription older than a recent incident gets it on arrival."""
    m = Matcher()
    m.incident(seen(inc(), NOW), 0.3)
    [a] = m.subscription("s1", sub(created_at=NOW - timedelta(days=3)))
    assert a.kind == "new_incident"
    # ... but not incidents older than the recent window.
    m2 = Matcher()
    m2.incident(seen(inc(), NOW), 0.3)
    m2.incident(seen(inc().model_copy(update={"id": "i2"}), NOW + timedelta(seconds=RECENT_WINDOW_S + 60)), 0.3)
    assert [a.incident_id for a in m2.subscription("s1", sub(created_at=NOW - timedelta(days=3)))] == ["i2"]


def test_suppression_state_is_pruned_by_time():
    m = Matcher()
    m.subscription("s1", sub())
    hour = 3600.0
    for n in range(2000):  # one incident an hour for 83 days
        m.incident(inc().model_copy(update={"id": f"i{n}"}), 0.3, at=NOW.timestamp() + n * hour)
    assert len(m.sent) <= SENT_TTL_S / hour + 1
    assert len(m.recent) <= 200 + 50


def test_stage_alerts_only_fresh_incidents_and_forgets_closed_ones():
    """The two stateful steps under TestStream: a subscription created after an incident
    does not get it, one created before does (arriving later); revisions update; after
    SENT_TTL_S of event time an incident's suppression state is gone (its timer fired)."""
    t0 = NOW.timestamp()
    at = lambda s: NOW + timedelta(seconds=s)  # noqa: E731
    a0 = seen(inc(), at(0))
    a1 = seen(inc(rev=1, killed=3, sev=0.7), at(800))
    b0 = seen(inc().model_copy(update={"id": "i2"}), at(900))
    a2 = seen(inc(rev=2, killed=3, sev=0.7), at(900 + SENT_TTL_S + 3600))
    late, early = sub("late", created_at=at(600)), sub("early", created_at=at(-3600))
    opts = PipelineOptions()
    opts.view_as(StandardOptions).streaming = True
    stream = (
        Stream()
        .advance_watermark_to(t0 - 60)
        .add_elements([TimestampedValue(("inc", (a0, 0.3)), t0)])
        .advance_watermark_to(t0 + 650)
        .add_elements(
            [TimestampedValue(("sub", ("late", late)), t0 + 700), TimestampedValue(("sub", ("early", early)), t0 + 700)]
        )
        .advance_watermark_to(t0 + 750)
        .add_elements([TimestampedValue(("inc", (a1, 0.3)), t0 + 800), TimestampedValue(("inc", (b0, 0.3)), t0 + 900)])
        .advance_watermark_to(t0 + 900 + SENT_TTL_S + 1800)
        .add_elements([TimestampedValue(("inc", (a2, 0.3)), t0 + 900 + SENT_TTL_S + 3600)])
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(runner="BundleBasedDirectRunner", options=opts) as p:
        both = p | stream
        subs = both | "subs" >> beam.Filter(lambda t: t[0] == "sub") | "s" >> beam.Map(lambda t: t[1])
        scored = both | "incs" >> beam.Filter(lambda t: t[0] == "inc") | "i" >> beam.Map(lambda t: t[1])
        alerts = scored | MatchSubscriptions(subs)
        got = alerts | beam.Map(lambda a: (a.subscription_id, a.incident_id, a.incident_revision, a.kind))
        assert_that(
            got,
            equal_to(
                [
                    ("early", "i1", 0, "new_incident"),  # older subscription arriving after the incident
                    ("early", "i1", 1, "update"),
                    ("late", "i1", 1, "new_incident"),  # revised after "late" was created
                    ("early", "i2", 0, "new_incident"),
                    ("late", "i2", 0, "new_incident"),
                    # Same fingerprint as revision 1, but the incident's state was dropped SENT_TTL_S after it.
                    ("early", "i1", 2, "new_incident"),
                    ("late", "i1", 2, "new_incident"),
                ]
            ),
        )

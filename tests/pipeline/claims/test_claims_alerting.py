"""Corroboration in subscriptions, alerts, payloads, exports and severity (pure logic)."""

import json
from datetime import UTC, datetime, timedelta

import stix2

from pipeline.alerts import Matcher, matches
from pipeline.claims import corroboration as co
from pipeline.escalation import severity
from strikewatch.core.models import Claim, EventType, Incident, IncidentSource, Place, Span, Subscription
from strikewatch.services.delivery import payload
from strikewatch.services.web import formats

T0 = datetime(2023, 1, 14, 16, tzinfo=UTC)


def incident(outlets, claims=(), rev=0):
    srcs = [
        IncidentSource(
            event_id=f"e{i}",
            article_id=f"a{i}",
            source=o,
            outlet=o,
            url=f"https://{o}/story",
            published_at=T0 + timedelta(minutes=i),
            seen_at=T0 + timedelta(minutes=i, seconds=5),
        )
        for i, o in enumerate(outlets)
    ]
    inc = Incident(
        id="i1",
        revision=rev,
        event_type=EventType.MISSILE_ATTACK,
        sources=srcs,
        source_count=len(srcs),
        places=[Place(name="Dnipro", country="Ukraine", country_code="UA", lat=48.47, lon=35.04, precision="city")],
        severity=0.5,
        first_seen_at=T0,
    )
    return co.corroborate(inc, list(claims))


def claim(n, **kw):
    base = dict(
        id=f"c{n}",
        kind="casualties",
        speaker="the regional governor",
        speaker_kind="local_official",
        article_id=f"a{n}",
        url=f"https://o{n}.net/story",
        outlet=f"o{n}.net",
        quote=Span(text="twelve people were killed", start=10, end=35),
        published_at=T0,
    )
    return Claim(**{**base, **kw})


def test_subscription_conditions():
    one, two = incident(["kyiv-daily.net"]), incident(["kyiv-daily.net", "eastern-herald.com"])
    sub = Subscription(id="s", owner="o", min_independent_sources=2)
    assert not matches(sub, one, None) and matches(sub, two, None)
    assert matches(Subscription(id="s", owner="o", grades=["single_source"]), one, None)
    assert not matches(Subscription(id="s", owner="o", contested=True), two, None)


def test_second_independent_outlet_alerts_once():
    m = Matcher()
    m.subscription("s", Subscription(id="s", owner="o", min_independent_sources=2, webhook_url="http://127.0.0.1/h"))
    copies = ["reuters.com", "morning-ledger.com"]
    first = incident(["reuters.com"])
    assert m.incident(first, None) == []
    # a copy of the wire story: still one independent source
    from strikewatch.core.models import Provenance

    wire = Provenance(credit="reuters")
    copy = first.model_copy(
        update={"sources": [s.model_copy(update={"provenance": wire}) for s in incident(copies).sources], "revision": 1}
    )
    assert co.corroborate(copy, []).independent_sources == 1 and m.incident(co.corroborate(copy, []), None) == []
    second = incident(copies + ["eastern-herald.com"], rev=2)
    second = co.corroborate(
        second.model_copy(
            update={
                "sources": [
                    s.model_copy(update={"provenance": wire}) if s.outlet in copies else s for s in second.sources
                ]
            }
        ),
        [],
    )
    alerts = m.incident(second, None)
    assert [a.kind for a in alerts] == ["new_incident"] and "corroborated by 2 independent sources" in alerts[0].summary
    assert m.incident(second, None) == []  # exactly once


def test_single_source_incident_becoming_contested_or_corroborated_alerts():
    m = Matcher()
    m.subscription("s", Subscription(id="s", owner="o", webhook_url="http://127.0.0.1/h"))
    assert [a.kind for a in m.incident(incident(["a.net"]), None)] == ["new_incident"]
    assert [a.kind for a in m.incident(incident(["a.net", "b.com"], rev=1), None)] == ["corroborated"]
    contested = incident(
        ["a.net", "b.com", "c.org"], [claim(0, killed=12), claim(1, killed=2, speaker="local officials")], rev=2
    )
    assert [a.kind for a in m.incident(contested, None)] == ["contested"]


def test_payloads_say_how_corroborated():
    m = Matcher()
    m.subscription("s", Subscription(id="s", owner="o", webhook_url="http://127.0.0.1/h"))
    [alert] = m.incident(incident(["a.net", "b.com"]), None)
    ce = payload(alert)
    assert ce["grade"] == "corroborated" and ce["independentsources"] == "2" and ce["contested"] == "false"
    slack = payload(alert.model_copy(update={"webhook_format": "slack"}))
    assert "corroborated by 2 independent sources" in slack["blocks"][0]["text"]["text"]
    [am] = payload(alert.model_copy(update={"webhook_format": "alertmanager"}))
    assert (
        am["labels"]["grade"] == "corroborated"
        and am["annotations"]["corroboration"] == "corroborated by 2 independent sources"
    )


def test_exports_carry_grade_families_and_claims():
    inc = incident(
        ["a.net", "b.com"],
        [
            claim(0, killed=12),
            claim(
                1,
                kind="responsibility",
                stance="denied",
                party="RU",
                speaker="Russia's defence ministry",
                speaker_kind="ministry",
            ),
        ],
    )
    rec = json.loads(inc.model_dump_json())
    row = formats.acled_row(rec)
    assert row["source"] == "a.net; b.com" and row["source_scale"] == "Other"
    props = formats.geojson([rec])["features"][0]["properties"]
    assert props["grade"] == "corroborated" and props["independent_sources"] == 2
    bundle = json.loads(formats.stix_bundle([rec]).serialize())
    notes = [o for o in bundle["objects"] if o["type"] == "note"]
    assert len(notes) == 2 and all(n["object_refs"] for n in notes)
    # Each note's article: note -> observed-data -> url (issue 20: an external reference with a url needs the
    # page's hash, which strikewatch never has, so links travel as url objects).
    by_id = {o["id"]: o for o in bundle["objects"]}

    def links(note):
        return [
            by_id[u]["value"]
            for r in note["object_refs"]
            if r.startswith("observed-data--")
            for u in by_id[r]["object_refs"]
        ]

    assert any("denies it for RU" in n["content"] and links(n) == ["https://o1.net/story"] for n in notes)
    stix2.parse(json.dumps(bundle), allow_custom=False)


def test_single_source_weighs_less_and_says_so():
    one, two = incident(["a.net"]), incident(["a.net", "b.com"])
    s1, comps = severity(one)
    s2, _ = severity(two)
    assert s1 < s2
    assert any(c.name == "corroboration" and "single-source" in c.note for c in comps)

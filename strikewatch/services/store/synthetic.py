"""Synthetic records for the store and API tests and bench/bench_store.py: incidents with
revisions, their events, escalation scores and alerts, spread over a few countries, types,
actors and dates. Deterministic: record i is the same every time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from strikewatch.core.models import (
    Actor,
    Alert,
    Attribution,
    Casualties,
    EscalationScore,
    Event,
    EventTime,
    EventType,
    Incident,
    IncidentSource,
    Place,
    Span,
    Weapon,
)

PLACES = [
    Place(name="Al Qaim", country="Iraq", country_code="IQ", lat=34.37, lon=41.09, precision="city"),
    Place(name="Abu Kamal", country="Syria", country_code="SY", lat=34.45, lon=40.92, precision="city"),
    Place(name="Sanaa", country="Yemen", country_code="YE", lat=15.35, lon=44.2, precision="city"),
    Place(name="Juba", country="South Sudan", country_code="SS", lat=4.85, lon=31.58, precision="city"),
    Place(name="Kharkiv", country="Ukraine", country_code="UA", lat=49.99, lon=36.23, precision="city"),
]
ATTACKERS = [
    Actor(name="United States", type="state_military", country="US"),
    Actor(name="Kataib Hezbollah", type="militia_proxy", sponsor="IR"),
    Actor(name="Houthis", type="rebel"),
    Actor(name="Russia", type="state_military", country="RU"),
]
TYPES = [EventType.AIR_STRIKE, EventType.DRONE_STRIKE, EventType.MISSILE_ATTACK, EventType.SHELLING]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


# Languages of the reports (issue 19): most in English, one in three of the rest native.
LANGUAGES = ("en", "en", "uk", "en", "ar", "en", "ru", "fr", "en", "es")


def event(i: int, source_n: int = 0) -> Event:
    place = PLACES[i % len(PLACES)]
    day = date(2024, 1, 1) + timedelta(days=i % 90)
    text = (
        f"Report {i}.{source_n}: {ATTACKERS[i % 4].name} struck near {place.name}; no immediate reports of casualties."
    )
    return Event(
        id=f"e_{i:06d}_{source_n}",
        article_id=f"a_{i:06d}_{source_n}",
        source="test",
        event_type=TYPES[i % 4],
        attacker=ATTACKERS[i % 4],
        targets=[ATTACKERS[(i + 1) % 4]],
        places=[place],
        time=EventTime(date=day, precision="day"),
        platforms=[Weapon(name="F-15E", kind="platform", category="fighter")],
        casualties=Casualties(
            statement="no_immediate_reports",
            evidence=Span(text="no immediate reports of casualties", start=len(text) - 35, end=len(text) - 1),
        ),
        attributions=[Attribution(source="Pentagon", quote=Span(text=text, start=0, end=len(text)))],
        evidence=[Span(text=text, start=0, end=len(text))],
        confidence=0.9,
        article_published_at=T0 + timedelta(days=i % 90, hours=source_n),
        article_url=f"https://news.example/{i}/{source_n}",
        article_title=f"Strike {i}",
        outlet="news.example",
        language=LANGUAGES[(i + source_n) % len(LANGUAGES)],
    )


def incident(i: int, revision: int = 0) -> Incident:
    evs = [event(i, n) for n in range(revision + 1)]
    e0 = evs[0]
    return Incident(
        id=f"i_{i:06d}",
        revision=revision,
        event_type=e0.event_type,
        attacker=e0.attacker,
        targets=e0.targets,
        places=e0.places,
        time=e0.time,
        platforms=["F-15E"],
        munitions=["500-pound bomb"] if i % 2 else [],
        casualties=e0.casualties,
        sources=[
            IncidentSource(
                event_id=e.id,
                article_id=e.article_id,
                source="test",
                published_at=e.article_published_at,
                url=e.article_url,
                title=e.article_title,
                outlet=e.outlet,
                language=e.language,
            )
            for e in evs
        ],
        source_count=len(evs),
        first_seen_at=T0 + timedelta(days=i % 90),
        changes=["new"] if revision == 0 else ["source_added"],
        severity=round(0.2 + (i % 8) / 10, 2),
        theatre=e0.places[0].country,
        # Corroboration (issue 21): every other incident's sources are copies of one story.
        independent_sources=len(evs) if i % 2 else 1,
        single_source=not (i % 2 and len(evs) > 1),
        contested=i % 5 == 0 and len(evs) > 1,
        grade=(
            "contested"
            if i % 5 == 0 and len(evs) > 1
            else "corroborated"
            if i % 2 and len(evs) > 1
            else "single_source"
        ),
    )


def escalation(i: int) -> EscalationScore:
    place = PLACES[i % len(PLACES)]
    return EscalationScore(
        scope="theatre",
        key=place.country,
        at=T0 + timedelta(days=i % 90),
        value=round((i % 10) / 10, 2),
        tit_for_tat_chain=[f"i_{max(0, i - 5):06d}", f"i_{i:06d}"] if i % 5 == 0 and i else [],
    )


def alert(i: int) -> Alert:
    inc = incident(i)
    return Alert(
        id=f"al_{i:06d}",
        subscription_id="sub_x",
        owner="alice",
        incident_id=inc.id,
        incident_revision=0,
        kind="new_incident",
        severity=inc.severity or 0,
        title=f"Strike {i}",
        summary="s",
        incident=inc,
        created_at=T0 + timedelta(days=i % 90),
    )

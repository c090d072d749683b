"""The reference article (US strikes on Iran-backed militias, 28 June 2021), read in
place from ../shared: every fact the product promises must come out."""

from datetime import UTC, date, datetime

import pytest

from pipeline.extraction import article_from_text, extract_events
from strikewatch.core.models import EventType, Modality


@pytest.fixture(scope="module")
def events(nlp, shared_data):
    text = (shared_data / "articles" / "us_strikes_iraq_syria_2021-06-28.txt").read_text(encoding="utf-8")
    article = article_from_text(text, url="file:///reference")
    [evs] = extract_events(nlp, [article])
    return article, evs


@pytest.fixture(scope="module")
def june(events):
    _, evs = events
    found = [e for e in evs if e.event_type == EventType.AIR_STRIKE and e.modality == Modality.ASSERTED]
    assert len(found) == 1, "the June strikes are one real-world strike (three targets), reported in many sentences"
    return found[0]


@pytest.fixture(scope="module")
def drones(events):
    _, evs = events
    found = [e for e in evs if e.event_type == EventType.DRONE_STRIKE and e.modality == Modality.ASSERTED]
    assert len(found) == 1
    return found[0]


def test_attacker_is_the_us_military(june):
    assert june.attacker.name == "United States"
    assert june.attacker.type == "state_military"
    assert june.attacker.country == "US"


def test_targets_are_the_named_iran_backed_militias(june):
    names = {t.name for t in june.targets}
    assert {"Kataib Hezbollah", "Kataib Sayyid al-Shuhada"} <= names
    for t in june.targets:
        if t.name in ("Kataib Hezbollah", "Kataib Sayyid al-Shuhada"):
            assert t.type == "militia_proxy" and t.sponsor == "IR"
    assert "facility" in june.target_kinds
    assert june.target_count == 3


def test_places_are_geocoded(june):
    countries = {p.country for p in june.places}
    assert {"Syria", "Iraq"} <= countries
    names = {p.name for p in june.places}
    assert "eastern Syria" in names
    assert any(p.precision == "border_region" for p in june.places)
    located = [p for p in june.places if p.precision not in ("country", "unknown")]
    assert located
    for p in located:
        assert p.lat is not None and p.lon is not None
        assert 29 < p.lat < 38 and 35 < p.lon < 49, p  # Iraq/Syria
    for p in june.places:
        if p.precision in ("country", "unknown"):
            assert (p.lat, p.lon) == (None, None), p  # a country is not a point on the map


def test_early_monday_resolves_against_the_article_date(june):
    assert june.time.date == date(2021, 6, 28)  # the local date
    assert june.time.precision in ("hour", "part_of_day")
    # "around 1 a.m. local time" in Iraq/Syria (UTC+3 in June 2021) is 22:00 UTC the day before.
    assert june.time.start == datetime(2021, 6, 27, 22, tzinfo=UTC)
    assert "1 a.m. local time" in june.time.expression.text


def test_platforms_and_munitions(june):
    assert {"F-15E", "F-16"} <= {p.name for p in june.platforms}
    payloads = {m.payload_lb: m for m in june.munitions}
    assert set(payloads) >= {500, 2000}
    assert payloads[2000].guidance == "satellite-guided"
    assert payloads[500].count is None  # "several 500-pound bombs": no number given


def test_three_events_no_more(events):
    """The June strikes, the drone attacks they answer, the February strikes; later
    mentions ("Iran designed the drone attacks ...") refer back to these."""
    _, evs = events
    assert sorted((e.event_type.value, e.modality.value) for e in evs) == [
        ("air_strike", "asserted"),
        ("air_strike", "historical"),
        ("drone_strike", "asserted"),
    ]


def test_casualty_statement_and_who_says_so(june, events):
    article, _ = events
    assert june.casualties.statement == "no_immediate_reports"
    ev = june.casualties.evidence
    assert article.text[ev.start : ev.end] == ev.text
    assert "no immediate reports of casualties" in ev.text.lower()
    sources = {a.source for a in june.attributions}
    assert "Pentagon" in sources or "Pentagon officials" in sources
    assert any("Kirby" in s for s in sources)
    for a in june.attributions:
        assert article.text[a.quote.start : a.quote.end] == a.quote.text


def test_the_drone_attacks_it_answers_are_events_linked_as_provocation(june, drones):
    assert drones.attacker.type == "militia_proxy" and drones.attacker.sponsor == "IR"
    assert any(t.name == "United States" for t in drones.targets)
    assert any(p.country == "Iraq" for p in drones.places)
    # "drone strikes against US personnel in Iraq": the target's country is not the place.
    assert all(p.country != "United States" for p in drones.places)
    assert drones.strike_count == 5  # "at least five times since April"
    assert drones.time.start.date() < date(2021, 6, 28)
    assert june.provoked_by == [drones.id]


def test_february_strikes_are_history_not_news(events):
    _, evs = events
    feb = [e for e in evs if e.modality == Modality.HISTORICAL]
    assert len(feb) == 1
    assert feb[0].event_type == EventType.AIR_STRIKE
    assert feb[0].time.start.date() == date(2021, 2, 21) and feb[0].time.precision == "month"
    assert any(m.payload_lb == 500 for m in feb[0].munitions)


def test_de_escalation_language_is_recorded(june):
    cues = {c.text.lower() for c in june.de_escalation_cues}
    assert "defensive" in cues
    assert "limit the risk of escalation" in cues


def test_offsets_point_into_the_article_text(june, events):
    article, _ = events
    spans = [
        june.time.expression,
        *(p.mention for p in june.places),
        *(w.mention for w in june.platforms + june.munitions),
        *june.evidence,
    ]
    for sp in spans:
        if sp is not None:
            assert article.text[sp.start : sp.end] == sp.text, sp


def test_ids_are_stable_across_runs(nlp, events):
    article, evs = events
    [again] = extract_events(nlp, [article])
    assert [e.id for e in again] == [e.id for e in evs]

"""The strike_claims component alone, and claims through extraction and clustering of the
synthetic multi-source streams (pipeline/claims/synthetic.py)."""

import random
from datetime import UTC, datetime

import pytest

from pipeline.claims import synthetic as sy
from pipeline.extraction import extract_events
from pipeline.incidents import Clusterer, token_jaccard
from strikewatch.core.models import Article

DAY = datetime(2024, 8, 5, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def nlp():
    from pipeline.extraction import load_nlp

    return load_nlp()


def speakers(nlp, text):
    doc = nlp(text)
    return [(sp.text, sp.kind, sp.side, sp.stance, sp.party) for s in doc.spans["sw_claims"] for sp in s._.sw_speakers]


def test_speakers_kinds_sides_and_stances(nlp):
    assert ("the regional governor", "local_official", None, "reported", None) in speakers(
        nlp, "A missile struck a building in Dnipro, killing 12 people, the regional governor said."
    )
    assert ("Russia's defence ministry", "ministry", "RU", "denied", None) in speakers(
        nlp, "Russia's defence ministry denied striking civilian buildings."
    )
    found = speakers(
        nlp, "Russia's defence ministry denied striking civilian buildings and blamed Ukrainian air defences."
    )
    assert ("Russia's defence ministry", "ministry", "RU", "blamed", "Ukrainian air defences") in found
    assert any(
        k == "emergency_service" and side == "UA"
        for _t, k, side, _s, _p in speakers(
            nlp, "At least 15 people were killed, Ukraine's State Emergency Service said."
        )
    )
    assert any(
        s == "claimed" and k == "armed_group"
        for _t, k, _side, s, _p in speakers(nlp, "The Houthis claimed responsibility for the drone attack on the ship.")
    )
    # a pronoun speaks for the previous speaker
    said = speakers(nlp, "The mayor said the school was hit. He said nine people were wounded.")
    assert said.count(("The mayor", "local_official", None, "reported", None)) == 2


def test_three_outlets_tolls_and_denial_make_one_contested_incident(nlp):
    s, tolls = sy.dnipro_scenario()
    arts = (
        sy.wire_copies(s, tolls, 1, random.Random(0))
        + sy.outlet_reports(s, tolls, 2)[1:]
        + [sy.denial_report(s, tolls)]
    )
    events = [e for evs in extract_events(nlp, arts) for e in evs]
    cl, open_ = Clusterer(token_jaccard), []
    for e in events:
        open_, _ = cl.add(open_, e, datetime.now(UTC))
    [(inc, _)] = [(i, t) for i, t in open_ if i.places and i.places[0].name == "Dnipro"]
    assert inc.source_count == 3 and inc.independent_sources == 3
    tolls_by_outlet = {c.outlet: c.killed for c in inc.claims if c.kind == "casualties"}
    assert tolls_by_outlet == {"reuters.com": 12, "eastern-herald.com": 15, "eastern-desk.org": 3}
    denial = [c for c in inc.claims if c.stance == "denied"]
    assert (
        denial
        and denial[0].speaker_side == "RU"
        and denial[0].quote.text.startswith("Russia's defence ministry denied")
    )
    assert inc.contested and inc.grade == "contested" and inc.killed_range == (3, 15)
    quote = denial[0]
    art = next(a for a in arts if a.id == quote.article_id)
    assert art.text[quote.quote.start : quote.quote.end] == quote.quote.text  # offsets into the article


def test_syndicated_copies_are_one_independent_source(nlp):
    s, tolls = sy.dnipro_scenario()
    arts = sy.wire_copies(s, tolls, 5, random.Random(0))
    events = [e for evs in extract_events(nlp, arts) for e in evs]
    cl, open_ = Clusterer(token_jaccard), []
    for e in events:
        open_, _ = cl.add(open_, e, datetime.now(UTC))
    dnipro = [i for i, _t in open_ if any(p.name == "Dnipro" for p in i.places)]
    assert len(dnipro) == 1
    assert dnipro[0].independent_sources == 1 and dnipro[0].single_source and dnipro[0].families[0].id == "wire:reuters"
    assert dnipro[0].source_count >= 3


@pytest.mark.parametrize(
    ("sentence", "killed", "counted"),
    [
        ("The strike killed 12 people, the governor said.", 12, "people"),
        ("The strike on the house killed 12, medics said.", 12, "people"),
        ("A child was killed in the strike, medics said.", 1, "children"),
        ("The strike killed seven members of the Abu Salem family, relatives said.", 7, "family members"),
        ("At least 26 civilians were killed in the strike, officials said.", 26, "people"),
        ("Three fighters were killed in the strike, the militia said.", 3, "combatants"),
    ],
)
def test_whom_a_figure_counts(nlp, sentence, killed, counted):
    text = "An Israeli air strike hit a house in Rafah on Monday. " + sentence
    [evs] = extract_events(
        nlp, [Article.new("https://example.org/" + str(abs(hash(text))), body=text, published_at=DAY)]
    )
    figures = [(c.killed, c.counted) for e in evs for c in e.claims if c.kind == "casualties"]
    assert (killed, counted) in figures


def test_the_side_that_struck_declares_it(nlp):
    text = (
        "At least 16 civilians were killed in an Israeli air strike on a school in Gaza City on Saturday, "
        "the civil defence said. "
        "Israeli forces confirmed the strike, claiming they were targeting a command centre."
    )
    [evs] = extract_events(nlp, [Article.new("https://example.org/declared", body=text, published_at=DAY)])
    claimed = [c for e in evs for c in e.claims if c.stance == "claimed"]
    assert [(c.speaker, c.party_side) for c in claimed] == [("Israeli forces", "IL")]
    # looking into it, or laying it on something else, declares nothing
    for said in (
        "The Israeli military said it was looking into reports of the strike.",
        "The Israeli military said the blast was caused by a misfired rocket, not an Israeli strike.",
    ):
        t = text.split(". Israeli forces")[0] + ". " + said
        [evs] = extract_events(nlp, [Article.new("https://example.org/" + str(abs(hash(t))), body=t, published_at=DAY)])
        assert not [c for e in evs for c in e.claims if c.stance == "claimed"], said


def test_laying_the_harm_on_another_side_is_a_blame(nlp):
    text = (
        "An air strike hit a hospital in Gaza City on Tuesday, killing 40 people, health officials said. "
        "The Israeli military said the blast was caused by a misfiring Palestinian rocket."
    )
    [evs] = extract_events(nlp, [Article.new("https://example.org/counter-claim", body=text, published_at=DAY)])
    blamed = [(c.speaker, c.speaker_side, c.party_side) for e in evs for c in e.claims if c.stance == "blamed"]
    assert ("The Israeli military", "IL", "PS") in blamed
    assert not [c for e in evs for c in e.claims if c.stance == "claimed"]  # laying it on another is no declaration

"""A title is a sentence of its own, and a headline's strike is the lead's: texts of our own."""

from datetime import UTC, datetime

import pytest

from pipeline.extraction import extract_events, gate, make_doc
from strikewatch.core.models import Article, Modality

DATE = datetime(2023, 3, 2, 18, tzinfo=UTC)
LEAD = (
    "A Russian missile strike hit an apartment block in the Ukrainian city of Odesa on Thursday, killing at least "
    "seven people, the regional governor said."
)


def article(title: str, body: str) -> Article:
    return Article.new(f"https://example.org/{abs(hash((title, body)))}", title=title, body=body, published_at=DATE)


def strikes(nlp, art: Article):
    [evs] = extract_events(nlp, [art])
    return [e for e in evs if e.event_type.value != "other_violence"]


def test_the_gate_splits_an_unpunctuated_title_from_the_lead():
    art = article("Russia denies striking hospital in Kharkiv", LEAD)
    bounds = gate.sentence_bounds(art.text)
    assert bounds[0] == (0, len(art.title)) and bounds[1][0] == art.body_start


def test_make_doc_starts_a_sentence_at_the_body(nlp):
    art = article("Russia denies striking hospital in Kharkiv", LEAD)
    doc = make_doc(nlp, art, gate.select(art.text))
    first = doc.char_span(art.body_start, art.body_start + 1, alignment_mode="expand")
    assert first[0].is_sent_start
    parsed = nlp(make_doc(nlp, art, gate.select(art.text)))
    assert [s.text.strip() for s in parsed.sents][0] == art.title


def test_a_denial_in_the_title_keeps_the_leads_strike(nlp):
    """Run into the lead, the title's "denies" made the lead's strike a denied one: no event."""
    art = article("Russia denies striking hospital in Odesa", LEAD + " Moscow denied targeting civilians.")
    asserted = [e for e in strikes(nlp, art) if e.modality == Modality.ASSERTED]
    assert len(asserted) == 1
    ev = asserted[0]
    assert abs(ev.places[0].lat - 46.48) < 0.2 and ev.casualties.killed == 7
    assert any(c.stance == "denied" and c.speaker_side == "RU" for c in ev.claims)
    assert all(not s.text.endswith("\n") for s in ev.evidence)  # a title's quote is its words


@pytest.mark.parametrize(
    "title",
    [
        "Odesa: seven killed in Russian missile strike",
        "Seven killed in Russian missile strike",
        "Missile strike on Odesa kills seven",
    ],
)
@pytest.mark.parametrize(
    "editor",
    [
        "",
        "This story was updated with details from the scene.\n\n",
        "(Adds death toll, paragraphs 3-4)\n\n",
        "Updated at 1400 GMT with the death toll.\n\n",
    ],
)
def test_a_headline_and_an_editors_line_add_no_second_event(nlp, title, editor):
    """One strike per copy: "in Russian missile strike" in a headline was read as a place in
    Russia, a second, country-level event beside the lead's Odesa."""
    art = article(title, editor + "ODESA, Ukraine, March 2 (Reuters) - " + LEAD)
    evs = strikes(nlp, art)
    assert len(evs) == 1, [(e.evidence[0].text, [p.name for p in e.places]) for e in evs]
    first = evs[0].places[0]
    # Odesa, whatever the geocoder calls it ("the Ukrainian city of Odesa" is named "Ukrainian" on main today)
    assert first.precision != "country" and abs(first.lat - 46.48) < 0.2 and abs(first.lon - 30.73) < 0.2
    assert evs[0].casualties.killed == 7


def test_a_headline_with_no_strike_in_the_body_stands_alone(nlp):
    art = article(
        "Israeli air strike kills three in Gaza City",
        "Funerals were held on Thursday. Mourners gathered at the mosque.",
    )
    evs = strikes(nlp, art)
    assert len(evs) == 1 and evs[0].evidence[0].start == 0


def test_a_headline_over_a_lead_with_no_strike_word_takes_the_leads_day_and_town(nlp):
    """Run into one sentence before, the headline's strike had the lead's day and town; alone
    it had neither, and one outlet's report made an incident of its own."""
    art = article(
        "Kherson mourns after drone attack",
        "The Russian military sent a drone over a market in Kherson on Wednesday, the Ukrainian army said. "
        "Health officials said 18 people were killed.",
    )
    evs = strikes(nlp, art)
    assert len(evs) == 1
    assert evs[0].places[0].name == "Kherson" and evs[0].time.date.isoformat() == "2023-03-01"

"""The parties of a strike, end to end on sentences written here: normalised attackers,
typed targets, and no junk role (a verb phrase, a weapon, a count) ever."""

import pytest

from pipeline.extraction import article_from_text, extract_events
from pipeline.extraction.components.base import Keys, SpanIndex
from pipeline.extraction.facts.parties.model import is_junk


def strikes(nlp, text):
    [events] = extract_events(nlp, [article_from_text("date 2024-03-04\n" + text)])
    return [e for e in events if e.event_type.value != "other_violence"]


@pytest.mark.parametrize(
    "text",
    [
        "Russian forces shelled a hospital in Kharkiv on Sunday, killing two patients.",
        "Russia's army struck a school in Kharkiv with missiles on Sunday.",
    ],
)
def test_a_state_and_its_forces_are_the_state(nlp, text):
    [ev] = strikes(nlp, text)
    assert ev.attacker is not None and (ev.attacker.name, ev.attacker.type, ev.attacker.country) == (
        "Russia",
        "state_military",
        "RU",
    )


def test_targets_are_typed(nlp):
    [ev] = strikes(nlp, "Russian forces shelled a hospital in Kharkiv on Sunday, killing two patients.")
    assert any(t.target_type == "health" for t in ev.targets)
    assert ev.attacker.target_type is None  # a party is no target


@pytest.mark.parametrize(
    "text, phrase",
    [
        ("The missile strike damages buildings across the district.", "damages buildings"),
        ("Troops fired two tank rounds at the village.", "two tank rounds"),
        ("Officials gave no details of the airstrike.", "details"),
        (
            "The army launched a powerful hypersonic ballistic missile at the city.",
            "powerful hypersonic ballistic missile",
        ),
    ],
)
def test_junk_phrases_are_no_role(nlp, text, phrase):
    doc = nlp(text)
    start = doc.text.index(phrase)
    span = doc.char_span(start, start + len(phrase), alignment_mode="expand")
    weapons, actors = SpanIndex(doc.spans[Keys.WEAPONS]), SpanIndex(doc.spans[Keys.ACTORS])
    assert is_junk(span, weapons, actors)
    roles = [s.text for s in doc.spans[Keys.ROLES]]
    assert all(phrase not in r and r not in phrase.split() for r in roles if r in phrase)


@pytest.mark.parametrize("phrase", ["Russian forces", "a hospital", "the residents"])
def test_parties_and_targets_are_not_junk(nlp, phrase):
    doc = nlp(f"Yesterday {phrase} were hit.")
    start = doc.text.index(phrase)
    span = doc.char_span(start, start + len(phrase), alignment_mode="expand")
    assert not is_junk(span, SpanIndex(doc.spans[Keys.WEAPONS]), SpanIndex(doc.spans[Keys.ACTORS]))


def test_no_event_role_is_a_weapon_or_a_verb_phrase(nlp):
    text = (
        "Russia launched a powerful hypersonic ballistic missile and two waves of drones at Dnipro on Sunday. "
        "The strike damages buildings in the centre, officials said, giving no details."
    )
    for ev in strikes(nlp, text):
        names = [a.name.lower() for a in [*ev.attackers, *ev.targets]]
        assert not any("missile" in n or "drone" in n or "damages" in n or n == "details" for n in names), names


@pytest.mark.parametrize(
    "text, name",
    [
        ("Russian S-300 rockets hit an apartment block in Kharkiv on Sunday.", "Russia"),
        ("Israeli suicide drone strikes hit a house in Gaza City on Monday.", "Israel"),
    ],
)
def test_a_demonym_before_its_weapon_names_the_attacker(nlp, text, name):
    [ev] = strikes(nlp, text)
    assert ev.attacker is not None and ev.attacker.name == name and ev.attacker.type == "state_military"


def test_people_of_a_nation_beside_a_strike_word_are_no_force(nlp):
    from pipeline.extraction.facts.parties.actors import table

    for text in ("Ukrainian civilians fled shelling in Kherson.", "Russian officials said attacks continued."):
        assert not list(table().force_re.finditer(text)), text


def test_government_forces_are_the_state_the_text_is_about(nlp):
    [ev] = strikes(nlp, "Government forces shelled a market in Idlib, Syria on Monday, killing four civilians.")
    assert ev.attacker is not None and (ev.attacker.type, ev.attacker.country) == ("state_military", "SY")

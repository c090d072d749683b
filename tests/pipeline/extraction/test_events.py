"""Event assembly end to end: detection, classification, modality and arguments on short sentences of our own."""

from datetime import UTC, datetime

import pytest

from pipeline.extraction import extract_events
from strikewatch.core.models import Article, EventType, Modality

DATE = datetime(2021, 6, 28, 12, tzinfo=UTC)


def run(nlp, text: str):
    [evs] = extract_events(
        nlp, [Article.new("https://example.com/" + str(abs(hash(text))), body=text, published_at=DATE)]
    )
    return evs


@pytest.mark.parametrize(
    ("text", "etype"),
    [
        ("Israeli warplanes struck a weapons depot near Damascus on Sunday.", EventType.AIR_STRIKE),
        ("A US MQ-9 Reaper drone strike killed two militants in Somalia on Sunday.", EventType.DRONE_STRIKE),
        ("Houthi forces fired ballistic missiles at Marib on Sunday.", EventType.MISSILE_ATTACK),
        ("Turkish forces shelled villages near Tal Tamer in al-Hasakeh on Sunday.", EventType.SHELLING),
    ],
)
def test_each_strike_type(nlp, text, etype):
    evs = [e for e in run(nlp, text) if e.modality == Modality.ASSERTED]
    assert [e.event_type for e in evs] == [etype]
    assert evs[0].time.date.isoformat() == "2021-06-27"


def test_other_violence_is_not_a_strike(nlp):
    evs = run(nlp, "Gunmen opened fire on a checkpoint, and clashes with soldiers followed, killing three.")
    assert [e.event_type for e in evs] == [EventType.OTHER_VIOLENCE]


def test_exchange_of_artillery_is_a_clash_not_shelling(nlp):
    evs = run(nlp, "Government forces and rebels exchanged artillery fire in both directions near the frontline.")
    assert all(e.event_type not in (EventType.SHELLING, EventType.MISSILE_ATTACK) for e in evs)


def test_negation_threat_and_hypothetical_are_marked(nlp):
    neg = run(nlp, "The army did not carry out airstrikes in the province on Sunday.")
    assert [e.modality for e in neg if e.event_type == EventType.AIR_STRIKE] == [Modality.NEGATED]
    threat = run(nlp, "The group threatened drone attacks on oil facilities.")
    assert all(e.modality != Modality.ASSERTED for e in threat if e.event_type == EventType.DRONE_STRIKE)
    hypo = run(nlp, "If talks fail, the air force would launch airstrikes against the rebels.")
    assert all(e.modality == Modality.HYPOTHETICAL for e in hypo if e.event_type == EventType.AIR_STRIKE)


def test_denial_is_marked(nlp):
    evs = run(nlp, "Russia denied that its warplanes bombed the market in Idlib on Sunday.")
    assert [e.modality for e in evs if e.event_type == EventType.AIR_STRIKE] == [Modality.DENIED]


def test_casualties(nlp):
    [ev] = run(nlp, "On Sunday, an airstrike killed 12 fighters and wounded 7 others in Marib.")
    assert (ev.casualties.killed, ev.casualties.injured, ev.casualties.statement) == (12, 7, "reported")
    [none] = run(nlp, "On Sunday, Saudi-led coalition airstrikes hit Sadah. No casualties were reported.")
    assert (none.casualties.killed, none.casualties.statement) == (0, "none")


def test_sentences_about_one_strike_merge(nlp):
    text = (
        "Israeli jets struck targets in Gaza early Monday. The strikes hit a Hamas weapons factory, "
        "the army said. The jets dropped 2,000-pound bombs."
    )
    evs = [e for e in run(nlp, text) if e.event_type == EventType.AIR_STRIKE]
    assert len(evs) == 1
    assert len(evs[0].evidence) >= 2
    assert any(m.payload_lb == 2000 for m in evs[0].munitions)


def test_attacker_is_the_striking_force_not_who_used_the_target(nlp):
    [ev] = run(
        nlp,
        "U.S. fighter jets carried out airstrikes on Sunday on a weapons depot used by Kataib "
        "Hezbollah near Al-Qaim in Iraq.",
    )
    assert ev.attacker.name == "United States"
    assert "Kataib Hezbollah" in [t.name for t in ev.targets]  # who used the target is struck, not striking
    # The struck thing itself is a target too, typed as an object (not a party of a dyad).
    assert [t.type for t in ev.targets if t.name != "Kataib Hezbollah"] == ["object"]
    assert any(p.country == "Iraq" for p in ev.places)


@pytest.mark.parametrize(
    ("text", "attacker"),
    [
        ("Israeli air strikes hit a weapons warehouse near the Syrian town of Albu Kamal early on Monday.", "Israel"),
        ("Russian airstrikes pounded the outskirts of Idlib on Monday, monitors said.", "Russia"),
        ("Turkish shelling of villages near Tal Tamer killed two civilians on Monday.", "Turkey"),
    ],
)
def test_nationality_adjective_on_the_strike_names_the_attacker(nlp, text, attacker):
    [ev] = [e for e in run(nlp, text) if e.modality == Modality.ASSERTED]
    assert ev.attacker is not None and ev.attacker.name == attacker


def test_nationality_adjective_on_the_target_is_not_a_place(nlp):
    [ev] = run(nlp, "Israeli warplanes struck an Iranian weapons depot near Albu Kamal in eastern Syria early Monday.")
    assert "Iran" not in [p.name for p in ev.places]
    assert {p.country for p in ev.places} == {"Syria"}


def test_places_named_in_the_story_win_over_the_dateline(nlp):
    evs = run(
        nlp,
        "KABUL, Afghanistan (Reuters) - Afghan and coalition forces killed 12 militants in an air strike in the "
        "Zurmat district of Paktiya province on Sunday, officials said.",
    )
    [ev] = [e for e in evs if e.modality == Modality.ASSERTED]
    assert "Kabul" not in [p.name for p in ev.places]
    assert ev.places and ev.places[0].country == "Afghanistan" and ev.places[0].precision != "country"
    # the coalition: both members attack
    assert {"Afghanistan"} <= {a.name for a in ev.attackers} and len(ev.attackers) == 2


def test_local_time_becomes_utc_with_the_places_offset(nlp):
    [ev] = run(nlp, "Israeli jets struck a depot near Damascus at around 1 a.m. local time on Monday.")
    assert ev.time.start.isoformat() == "2021-06-27T22:00:00+00:00" and ev.time.date.isoformat() == "2021-06-28"


def test_a_country_only_place_takes_the_town_the_article_reports_from():
    """events.refine_places: a strike placed only in a country gets the town the article
    names most often there; a town already found, or another country, is left alone."""
    from pipeline.extraction.assemble import refine_places
    from strikewatch.core.models import Place

    venezuela = Place(name="Venezuela", country="Venezuela", country_code="VE", precision="country")
    caracas = Place(name="Caracas", country="Venezuela", country_code="VE", precision="city")
    maracay = Place(name="Maracay", country="Venezuela", country_code="VE", precision="city")
    assert refine_places([venezuela], {"VE": caracas}) == [caracas, venezuela]
    assert refine_places([maracay, venezuela], {"VE": caracas}) == [maracay, venezuela]
    assert refine_places([venezuela], {"CO": caracas.model_copy(update={"country_code": "CO"})}) == [venezuela]
    assert refine_places([], {"VE": caracas}) == []


def test_the_town_named_in_the_lead_places_a_strike_reported_by_country(nlp):
    text = (
        "Explosions were heard in Caracas on Saturday during a military parade in Caracas. "
        "Venezuela's government said two drones loaded with explosives attacked the parade in Venezuela."
    )
    [evs] = extract_events(
        nlp,
        [
            Article.new(
                "https://example.org/caracas", title="", body=text, published_at=datetime(2018, 8, 5, tzinfo=UTC)
            )
        ],
    )
    strikes = [e for e in evs if e.event_type == EventType.DRONE_STRIKE]
    assert strikes and strikes[0].places[0].name == "Caracas"


def test_a_generic_attacker_takes_the_one_named_group(nlp):
    """ "The guerrillas" in an article that names one armed group (the FMLN) is that group;
    with two groups named it stays as written."""
    from pipeline.extraction import article_from_text, extract_events

    one = article_from_text(
        "The FMLN said its units were ready. The guerrillas attacked the police post with mortar fire on Monday."
    )
    [ev] = [e for e in extract_events(nlp, [one])[0] if e.event_type.value == "shelling"]
    assert ev.attacker.name == "FMLN" and any(m.text == "guerrillas" for m in ev.attacker.mentions)
    two = article_from_text(
        "The FMLN and the ELN met. The guerrillas attacked the police post with mortar fire on Monday."
    )
    [ev] = [e for e in extract_events(nlp, [two])[0] if e.event_type.value == "shelling"]
    assert ev.attacker.name == "guerrillas"


def test_the_harmed_of_the_next_sentence_are_the_strike_targets(nlp):
    evs = [
        e
        for e in run(
            nlp,
            "Government planes bombed the village of Perquin on Monday. "
            "As a result, an elderly man was killed and several houses were damaged.",
        )
        if e.event_type.value == "air_strike"
    ]
    assert evs and {"elderly man", "several houses"} <= {t.name for t in evs[0].targets}, [
        t.name for t in evs[0].targets
    ]


def test_a_pronoun_attacker_is_the_one_named_group_or_no_one(nlp):
    one = run(nlp, "The FMLN denied the report. On Monday they fired mortar rounds at the police post in the capital.")
    assert any(e.attacker and e.attacker.name == "FMLN" for e in one if e.event_type.value == "shelling"), [
        e.attacker for e in one
    ]
    none = run(nlp, "On Monday they fired mortar rounds at the police post in the capital.")
    assert all(e.attacker is None or e.attacker.name.lower() != "they" for e in none)


def test_an_unattributed_strike_takes_the_attacker_that_denies_it(nlp):
    evs = run(
        nlp,
        "The Salvadoran armed forces denied today that their planes had bombed a refugee camp near Chalatenango. "
        "However, the bishop told the media that five people were killed when the camp was attacked from the air.",
    )
    asserted = [e for e in evs if e.modality == Modality.ASSERTED and e.event_type == EventType.AIR_STRIKE]
    assert asserted and asserted[0].attacker is not None and asserted[0].attacker.name == "El Salvador", [
        (e.modality, e.attacker) for e in evs
    ]


def test_who_reacts_to_a_strike_is_not_its_attacker(nlp):
    """The actor before a strike word that only condemns or investigates it is no attacker
    (position alone would make it one); the strike's own modifier still names one."""
    evs = run(nlp, "The United Nations condemned the airstrike on a hospital in Idlib that killed 12 people on Sunday.")
    assert evs and all(e.attacker is None for e in evs), [e.attacker for e in evs]
    evs = run(nlp, "Russia condemned the drone attack on the Kremlin on Sunday.")
    assert evs and all(e.attacker is None or e.attacker.name != "Russia" for e in evs), [e.attacker for e in evs]
    evs = run(nlp, "The Taliban denounced the Russian drone strike in Kunar on Sunday that killed five.")
    assert evs and evs[0].attacker is not None and evs[0].attacker.name == "Russia", [e.attacker for e in evs]


def test_a_back_reference_names_the_attacker_of_a_strike_that_had_none(nlp):
    """ "the drone attack" later in the story adds who did it when the parse says so and
    the strike had no attacker; an actor merely standing before it adds nothing."""
    evs = run(
        nlp,
        "Drones packed with explosives detonated near the parade in Caracas on Saturday. "
        "Officials said the rebel group ELN was behind the drone attack.",
    )
    drones = [e for e in evs if e.event_type == EventType.DRONE_STRIKE and e.modality == Modality.ASSERTED]
    assert drones and drones[0].attacker is not None and drones[0].attacker.name == "ELN", [e.attacker for e in evs]
    evs = run(
        nlp,
        "Drones packed with explosives detonated near the parade in Caracas on Saturday. "
        "The ELN said the drone attack was a provocation.",
    )
    drones = [e for e in evs if e.event_type == EventType.DRONE_STRIKE and e.modality == Modality.ASSERTED]
    assert drones and drones[0].attacker is None, [e.attacker for e in evs]


def test_a_date_of_9999_is_no_date(nlp):
    """Issue 20, attack round 2: an article dated 9999 (its feed date, or its text) sorted first
    everywhere and wiped the escalation history; such a date is unknown to every record."""
    from datetime import datetime

    from strikewatch.core.models import Article

    far = datetime(9999, 12, 31, tzinfo=UTC)
    art = Article.new(
        "https://example.org/far",
        published_at=far,
        body="Israeli warplanes struck a depot near Damascus on 31 December 9999, the army said.",
    )
    [events] = extract_events(nlp, [art])
    assert art.published_at is None and events and events[0].event_type == "air_strike"
    assert all(e.time.date is None and e.time.start is None and e.article_published_at is None for e in events)

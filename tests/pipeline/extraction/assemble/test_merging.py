"""One attack, one event: mentions of one strike in an article merge; a different day,
place or attacker stays a separate event. Texts written here."""

from pipeline.extraction import article_from_text, extract_events


def strikes(nlp, text, date="2026-05-11"):
    [events] = extract_events(nlp, [article_from_text(f"date {date}\n" + text)])
    return [e for e in events if e.event_type.value != "other_violence" and e.modality.value == "asserted"]


def test_the_same_attack_told_twice_is_one_event(nlp):
    text = (
        "Israeli warplanes struck a house in Khan Younis on Monday, killing four people. "
        "Rescuers said the airstrike on the house in Khan Younis destroyed two floors."
    )
    assert len(strikes(nlp, text, "2024-02-06")) == 1


def test_a_different_day_stays_apart(nlp):
    text = (
        "Russian forces shelled Kherson on Monday, local officials said. "
        "Separately, Russian forces shelled Kherson again on Thursday, damaging a school."
    )
    assert len(strikes(nlp, text, "2024-02-09")) == 2


def test_a_different_place_stays_apart(nlp):
    text = (
        "Russian forces shelled Kherson on Monday, damaging a school. "
        "Russian forces also shelled Nikopol on Monday, hitting a power line."
    )
    assert len(strikes(nlp, text, "2024-02-06")) == 2


def test_a_different_attacker_stays_apart(nlp):
    text = (
        "Israeli warplanes struck a Hezbollah position in southern Lebanon on Monday. "
        "Hezbollah fired rockets at northern Israel on Monday, the army said."
    )
    evs = strikes(nlp, text, "2024-02-06")
    assert len(evs) == 2 and {e.attacker.name for e in evs if e.attacker} == {"Israel", "Hezbollah"}


def test_guerrillas_and_a_state_army_are_different_attackers():
    from pipeline.extraction.assemble.groups import different_attackers
    from pipeline.extraction.assemble.mentions import Mention
    from strikewatch.core.models import Actor, EventType, Modality, Span

    def said(name, typ):
        at = Span(text="x", start=0, end=1)
        return Mention(
            type=EventType.SHELLING,
            sent=at,
            trigger=at,
            modality=Modality.ASSERTED,
            attacker=Actor(name=name, type=typ),
        )

    army, guerrillas = said("El Salvador", "state_military"), said("guerrillas", "unknown")
    assert different_attackers(army, guerrillas) and different_attackers(guerrillas, army)
    assert not different_attackers(guerrillas, said("gunmen", "unknown"))  # an unnamed party names no side
    assert not different_attackers(army, said("they", "unknown"))


def test_a_mass_drone_and_missile_attack_is_one_event(nlp):
    # The May 2026 Kyiv case of issue 18, in words written for this test.
    text = (
        "Russia used the Oreshnik ballistic missile during a mass drone and missile attack on Kyiv on Sunday, "
        "Ukrainian officials said. The powerful hypersonic Oreshnik ballistic missile damages buildings, and "
        "debris fell on two districts of the capital. Air defence units shot down most of the drones overnight."
    )
    evs = strikes(nlp, text)
    assert len(evs) == 1, [(e.event_type, e.attacker) for e in evs]
    [ev] = evs
    assert ev.attacker is not None and ev.attacker.name == "Russia"
    assert any("Kyiv" in (p.name or "") for p in ev.places) or any("Kyiv" in t.name for t in ev.targets)
    assert any(w.name == "Oreshnik" or w.category == "missile" for w in ev.munitions)
    assert all("damages" not in t.name and "missile" not in t.name.lower() for t in ev.targets)
    assert ev.time.date is not None

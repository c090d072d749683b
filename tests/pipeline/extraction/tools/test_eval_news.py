"""pipeline.extraction.tools.eval_news: record shapes, filler matching and the news-document and
general-news arithmetic, on records written here (stub predictions)."""

import json

import pipeline.extraction as extraction
from pipeline.extraction.tools import eval_news, evaluate
from strikewatch.core.models import Actor, Event, EventType, Modality, Place, Span, Weapon


def doc(i, has_strike, events=(), uncertain=False, source="muc4"):
    return {
        "id": f"{source}:{i}",
        "source": "x",
        "split": "dev",
        "text": f"doc {i}",
        "article_date": "1989-03-15",
        "events": list(events),
        "has_strike": has_strike,
        "has_strike_uncertain": uncertain,
        "uncertain_reason": None,
    }


GOLD = {
    "type": "shelling",
    "attacker": ["URBAN GUERRILLAS", "FMLN"],
    "target": ["NATIONAL GUARD UNITS"],
    "place": ["San Salvador"],
    "instrument": ["MORTARS"],
    "fatalities": 2,
}
HIST = {
    "type": "air_strike",
    "modality": "historical",
    "attacker": ["X"],
    "target": [],
    "place": [],
    "instrument": [],
    "fatalities": None,
}


def ev(modality=Modality.ASSERTED, killed=None, etype=EventType.SHELLING):
    from strikewatch.core.models import Casualties

    return Event(
        id="e",
        article_id="a",
        event_type=etype,
        modality=modality,
        attacker=Actor(name="guerrillas", mentions=[Span(text="the urban guerrillas", start=0, end=20)]),
        targets=[Actor(name="the National Guard")],
        places=[Place(name="San Salvador", country="El Salvador")],
        munitions=[Weapon(name="mortar", kind="munition")],
        casualties=Casualties(killed=killed),
    )


def test_record_kinds():
    assert eval_news.record_kind(doc(1, True)) == "news_doc"
    assert eval_news.record_kind({"id": "bbc:1", "title": "t", "text": "x", "published_at": None}) == "general_news"
    assert eval_news.record_kind({"id": "a", "text": "x", "sub_event_type": None}) == "acled"


def test_filler_matching_folds_case_plural_and_generic_words():
    assert eval_news.filler_matches("NATIONAL GUARD UNITS", ["the National Guard"])
    assert eval_news.filler_matches("MORTARS", ["mortar"])
    assert eval_news.filler_matches("URBAN GUERRILLAS", ["the urban guerrillas"])
    assert not eval_news.filler_matches("ARMED FORCES", ["forces"])  # a generic word alone names nothing
    assert not eval_news.filler_matches("SHINING PATH", ["the army"])


def test_news_doc_scoring():
    records = [
        doc(1, True, [GOLD, HIST]),
        doc(2, True, [GOLD]),
        doc(3, False),
        doc(4, False, uncertain=True),
        doc(5, False),
        doc(6, False, source="wikievents"),
    ]
    preds = [[ev(killed=2)], [ev(Modality.HISTORICAL)], [ev()], [ev()], [], [ev(etype=EventType.OTHER_VIOLENCE)]]
    summary, by_source = eval_news.score_news_docs(records, preds)
    assert summary["detection"]["tp"] == 1 and summary["detection"]["fn"] == 1 and summary["detection"]["fp"] == 1
    assert summary["detection_uncertain_as_negative"]["fp"] == 2 and summary["n_uncertain"] == 1
    # two gold strike events (the historical one is not scored); doc 2 was missed
    assert summary["attacker_n"] == 2 and summary["attacker_recall"] == 0.5
    assert summary["target_recall"] == 0.5 and summary["place_recall"] == 0.5 and summary["weapon_recall"] == 0.5
    assert summary["fatalities_n"] == 1 and summary["fatalities_accuracy"] == 1.0
    assert set(by_source) == {"muc4", "wikievents"}


def test_general_news_counts_asserted_strike_events():
    records = [{"id": f"bbc:{i}", "title": "t", "text": "x", "published_at": None} for i in range(4)]
    preds = [[ev(), ev()], [ev(Modality.HISTORICAL)], [], [ev(etype=EventType.OTHER_VIOLENCE)]]
    summary, _ = eval_news.score_general(records, preds)
    assert summary["false_strike_events_per_1000"] == 500.0 and summary["articles_with_strike_per_1000"] == 250.0


def test_eval_main_picks_the_scorer_by_shape(tmp_path, monkeypatch, capsys):
    data = tmp_path / "docs.jsonl"
    records = [doc(1, True, [GOLD]), doc(2, False)]
    data.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    monkeypatch.setattr(extraction, "load_nlp", lambda name="x": object())
    monkeypatch.setattr(
        extraction,
        "extract_events",
        lambda nlp, arts, batch_size=32: [[ev()] if a.body == "doc 1" else [] for a in arts],
    )
    assert evaluate.main(["--data", str(data)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["kind"] == "news_doc" and result["detection"]["f1"] == 1.0 and result["attacker_recall"] == 1.0


# --------------------------------------------------------------------------- coded incident reports (news2_dev's shape)


def report(i, label, source="ii", attacker=(), target=(), weapon=(), country="Ukraine", date="2022-03-01"):
    return {
        "id": f"{source}:{i}",
        "source": source,
        "title": None,
        "text": f"report {i}",
        "label": label,
        "event_type": None,
        "attacker": list(attacker),
        "target": list(target),
        "place": [],
        "weapon": list(weapon),
        "country": country,
        "event_date": date,
        "article_date": date,
        "has_strike": label == "strike",
        "has_strike_uncertain": label == "uncertain",
    }


def strike_event(attacker=None, targets=(), weapons=(), country_code="UA", day=None):
    from datetime import date

    from strikewatch.core.models import EventTime

    return Event(
        id="e",
        article_id="a",
        event_type=EventType.SHELLING,
        attacker=attacker,
        attackers=[attacker] if attacker else [],
        targets=list(targets),
        munitions=list(weapons),
        time=EventTime(date=date.fromisoformat(day)) if day else EventTime(),
        places=[Place(name="x", country_code=country_code, precision="city")],
    )


RUSSIA = Actor(name="Russia", type="state_military", country="RU")


def test_coded_perpetrators_match_the_state_or_the_named_group():
    assert eval_news.record_kind(report(1, "strike")) == "coded_report"
    assert eval_news.party_matches("Armed Forces of the Russian Federation", [strike_event(RUSSIA)])
    assert eval_news.party_matches("Syrian or Russian Forces", [strike_event(RUSSIA)])
    assert not eval_news.party_matches("Armed Forces of Ukraine", [strike_event(RUSSIA)])
    lna = Actor(name="LNA", type="state_military", country="LY")
    libya = Actor(name="Libya", type="state_military", country="LY")
    assert eval_news.party_matches("Libyan National Army", [strike_event(lna)])
    assert not eval_news.party_matches(
        "Libyan National Army", [strike_event(libya)]
    )  # a state is not the faction fighting it
    assert eval_news.party_matches(
        "Israeli Defence Forces", [strike_event(Actor(name="Israel", type="state_military", country="IL"))]
    )


def test_coded_sectors_and_weapons_are_scored_by_type_and_family():
    school = Actor(name="a school", type="object", target_type="education")
    home = Actor(name="a house", type="object", target_type="residential")
    assert eval_news.target_matches(
        ["School: No Further Details", "Education Building"], [strike_event(targets=[school])]
    )
    assert not eval_news.target_matches(["Health Building"], [strike_event(targets=[home])])
    assert eval_news.target_matches(["Nuseirat Camp"], [strike_event(targets=[Actor(name="Nuseirat camp")])])
    assert eval_news.families("aerial bomb (plane)") == {"air", "bomb"} and eval_news.families("shelling") == {
        "artillery"
    }


def test_coded_report_scoring_per_source():
    records = [
        report(
            1,
            "strike",
            attacker=["Armed Forces of the Russian Federation"],
            target=["Health Building"],
            weapon=["artillery"],
        ),
        report(2, "strike", attacker=["Armed Forces of the Russian Federation"], weapon=["missile"]),
        report(3, "not_strike"),
        report(4, "uncertain"),
        report(5, "strike", source="airwars", attacker=["NoInformation"]),
    ]
    clinic = Actor(name="a clinic", type="object", target_type="health")
    preds = [
        [
            strike_event(
                RUSSIA, [clinic], [Weapon(name="artillery", kind="munition", category="artillery")], day="2022-03-01"
            )
        ],
        [strike_event(None), strike_event(None)],
        [],
        [strike_event(RUSSIA)],
        [strike_event(None)],
    ]
    summary, by_source = eval_news.score_coded_reports(records, preds)
    assert (
        summary["detection"]["tp"] == 3
        and summary["detection"]["fp"] == 0
        and summary["detection_uncertain_as_negative"]["fp"] == 1
    )
    assert summary["attacker_n"] == 2 and summary["attacker_recall"] == 0.5  # "NoInformation" is not scored
    assert summary["target_recall"] == 1.0 and summary["weapon_recall"] == 0.5
    assert summary["country_accuracy"] == 1.0 and summary["date_accuracy"] == round(1 / 3, 4)
    assert summary["events_per_strike_doc"] == round(4 / 3, 3)
    assert set(by_source) == {"ii", "airwars"} and by_source["airwars"]["detection"]["tp"] == 1

"""pipeline.extraction.tools.eval_news: record shapes, filler matching and the news-document and
general-news arithmetic, on records written here (stub predictions)."""

import json

import pipeline.extraction as extraction
from pipeline.extraction.tools import eval_news, evaluate
from strikewatch.models import Actor, Event, EventType, Modality, Place, Span, Weapon


def doc(i, has_strike, events=(), uncertain=False, source="muc4"):
    return {"id": f"{source}:{i}", "source": "x", "split": "dev", "text": f"doc {i}", "article_date": "1989-03-15",
            "events": list(events), "has_strike": has_strike, "has_strike_uncertain": uncertain, "uncertain_reason": None}


GOLD = {"type": "shelling", "attacker": ["URBAN GUERRILLAS", "FMLN"], "target": ["NATIONAL GUARD UNITS"], "place": ["San Salvador"],
        "instrument": ["MORTARS"], "fatalities": 2}
HIST = {"type": "air_strike", "modality": "historical", "attacker": ["X"], "target": [], "place": [], "instrument": [], "fatalities": None}


def ev(modality=Modality.ASSERTED, killed=None, etype=EventType.SHELLING):
    from strikewatch.models import Casualties

    return Event(id="e", article_id="a", event_type=etype, modality=modality,
                 attacker=Actor(name="guerrillas", mentions=[Span(text="the urban guerrillas", start=0, end=20)]),
                 targets=[Actor(name="the National Guard")], places=[Place(name="San Salvador", country="El Salvador")],
                 munitions=[Weapon(name="mortar", kind="munition")], casualties=Casualties(killed=killed))


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
    records = [doc(1, True, [GOLD, HIST]), doc(2, True, [GOLD]), doc(3, False), doc(4, False, uncertain=True), doc(5, False),
               doc(6, False, source="wikievents")]
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
    monkeypatch.setattr(extraction, "extract_events", lambda nlp, arts, batch_size=32: [[ev()] if a.body == "doc 1" else [] for a in arts])
    assert evaluate.main(["--data", str(data)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["kind"] == "news_doc" and result["detection"]["f1"] == 1.0 and result["attacker_recall"] == 1.0

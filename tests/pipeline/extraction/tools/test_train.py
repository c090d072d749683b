"""strikewatch train's arithmetic on corpora built here (no spaCy): the fit separates a
learnable signal, every row is scored by a model that never saw its record, thresholds
hold general news under its limit, and the written model reads back the same."""

import numpy as np

from pipeline.extraction import relevance
from pipeline.extraction.tools import train
from strikewatch.core.models import Event, EventType

DIM = 8  # a stand-in for the sentence embedding


def corpus(name, kind, n, positive, rng):
    """``n`` records of one candidate each; the embedding's first column carries the label."""
    recs, _cands = [], []
    c = train.Corpus(name, kind, recs)
    for i in range(n):
        pos = positive(i)
        if kind == "acled":
            recs.append(
                {"id": f"{name}:{i}", "sub_event_type": "Air/drone strike" if pos else "Armed clash", "text": "x"}
            )
        elif kind == "news_doc":
            recs.append(
                {
                    "id": f"{name}:{i}",
                    "has_strike": pos,
                    "has_strike_uncertain": False,
                    "events": [{"type": "air_strike", "trigger": "jets"}],
                }
            )
        else:
            recs.append({"id": f"{name}:{i}", "title": "t", "text": "x"})
        ev = Event(id=f"e{i}", article_id=f"a{i}", event_type=EventType.AIR_STRIKE)
        c.candidates.append([train.Candidate(ev, [len(c.texts)], precise=True)])
        c.texts.append(f"jets struck {name} {i}")
        c.row_record.append(i)
        c.rules.append([0.0] * len(relevance.RULE_FEATURES))
    emb = rng.normal(size=(n, DIM)).astype(np.float32)
    emb[:, 0] = [2.0 if positive(i) else -2.0 for i in range(n)]
    return c, np.hstack([emb, np.zeros((n, len(relevance.RULE_FEATURES)), dtype=np.float32)])


def test_cross_validated_training_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    parts = [
        corpus("acled", "acled", 60, lambda i: i % 3 == 0, rng),
        corpus("news", "news_doc", 30, lambda i: i % 5 == 0, rng),
        corpus("general", "general_news", 40, lambda i: False, rng),
    ]
    corpora = [c for c, _x in parts]
    x = {c.name: m for c, m in parts}
    model, card, oof = train.train(corpora, x, folds=5, seed=1, l2=1.0)
    assert set(oof) == {"acled", "news", "general"} and len(oof["acled"]) == 60
    assert card["cross_validated"]["acled"]["detection"]["f1"] > 0.9
    assert card["cross_validated"]["news"]["detection"]["f1"] > 0.9
    assert card["cross_validated"]["general"]["false_strike_events_per_1000"] <= train.MAX_GENERAL_PER_1000
    assert set(card["leave_one_dataset_out"]) == {"acled", "news", "general"}
    path = tmp_path / "relevance-test.npz"
    model.save(path)
    back = relevance.RelevanceModel.load(path)
    probe = x["acled"][:5]
    assert np.allclose(back.predict(probe), model.predict(probe), atol=1e-5)
    assert back.thresholds == model.thresholds and back.card["folds"] == 5


def test_folds_split_by_record_and_seed():
    folds = {train.fold_of(f"r{i}", 5, 13) for i in range(200)}
    assert folds == {0, 1, 2, 3, 4}
    assert train.fold_of("r1", 5, 13) == train.fold_of("r1", 5, 13)
    assert [train.fold_of(f"r{i}", 5, 13) for i in range(20)] != [train.fold_of(f"r{i}", 5, 14) for i in range(20)]


def test_strike_documents_label_only_sentences_that_name_the_strike():
    rec = {
        "has_strike": True,
        "events": [{"type": "shelling", "instrument": ["MORTARS"], "target": ["LAS CANAS BRIDGE"]}],
    }
    assert train.row_label("news_doc", rec, "Terrorists fired mortars at the bridge.") == 1.0
    assert train.row_label("news_doc", rec, "The president spoke of peace.") == -1.0
    assert train.row_label("news_doc", {"has_strike": False, "has_strike_uncertain": True}, "x") == -1.0
    assert train.row_label("general_news", {}, "Jets struck") == 0.0


def test_the_shipped_model_loads_with_its_card():
    model = relevance.load_model()
    assert model is not None, "pipeline/extraction/models/relevance-5.npz ships with the package (strikewatch train)"
    assert model.weights.shape == (384 + len(relevance.RULE_FEATURES),)
    th = model.thresholds
    assert 0 < th.precise <= th.broad < 1 and 0 < th.long_precise <= th.long_broad < 1
    assert "cross_validated" in model.card and "leave_one_dataset_out" in model.card

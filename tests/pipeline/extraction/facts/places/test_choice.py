"""The learned place choice alone: its features read the rules' cues, its order puts the
best candidate first, and a model file of other features is refused."""

import json

import numpy as np
import pytest

from pipeline.extraction.facts.places import choice
from strikewatch.core.models import Place, Span

TEXT = "KYIV (Reuters) - Russian forces shelled Vesele, Donetsk, on Monday, officials in Moscow said."


def _place(name, cc, precision="city", lat=48.0, lon=38.0):
    start = TEXT.index(name)
    return Place(
        name=name,
        country_code=cc,
        precision=precision,
        lat=lat,
        lon=lon,
        mention=Span(text=name, start=start, end=start + len(name)),
    )


def _evidence():
    trig = TEXT.index("shelled")
    return choice.Evidence(
        text=TEXT,
        triggers=[(trig, trig + 7)],
        sentences=[(0, len(TEXT))],
        attacker_country="RU",
        speaker_countries=frozenset({"RU"}),
        where=["UA", "RU"],
        theatre="UA",
        dateline=(0, 4),
        mention_counts={"vesele": 1, "moscow": 1, "kyiv": 1},
    )


def test_features_read_the_rules_cues_and_whose_country_it_is():
    vesele, moscow, kyiv = (
        _place("Vesele", "UA"),
        _place("Moscow", "RU", lat=55.7, lon=37.6),
        _place("KYIV", "UA", lat=50.4, lon=30.5),
    )
    cands = choice.candidates([vesele, moscow], [(kyiv, False)])
    x = choice.features(cands, _evidence())
    col = {f: i for i, f in enumerate(choice.FEATURES)}
    assert x.shape == (3, len(choice.FEATURES))
    assert x[0, col["strike_verb_cue"]] == 1 and x[0, col["qualified"]] == 1 and x[0, col["rule_first"]] == 1
    assert x[0, col["theatre_country"]] == 1 and x[0, col["attacker_country"]] == 0
    assert x[1, col["attacker_country"]] == 1 and x[1, col["speaker_country"]] == 1 and x[1, col["locative_cue"]] == 1
    assert x[2, col["dateline"]] == 1 and x[2, col["rule_rank"]] > 1  # from elsewhere in the text
    assert x[0, col["log_distance"]] < x[1, col["log_distance"]]


def test_order_puts_the_best_first_then_the_strikes_own_places():
    a, b, c = _place("Vesele", "UA"), _place("Moscow", "RU"), _place("KYIV", "UA")
    cands = choice.candidates([a, b], [(c, False)])
    assert [p.name for p in choice.order([a, b], cands, np.array([0.2, 0.1, 0.9]))] == ["KYIV", "Vesele", "Moscow"]
    assert [p.name for p in choice.order([a, b], cands, np.array([0.2, 0.7, 0.1]))] == ["Moscow", "Vesele"]


def test_a_model_round_trips_and_one_of_other_features_is_refused(tmp_path):
    n = len(choice.FEATURES)
    m = choice.PlaceChoiceModel(
        choice.MODEL_VERSION,
        np.arange(n, dtype=np.float32),
        0.5,
        np.zeros(n, np.float32),
        np.ones(n, np.float32),
        {"x": 1},
    )
    path = tmp_path / "m.npz"
    m.save(path)
    back = choice.PlaceChoiceModel.load(path)
    x = np.ones((2, n), dtype=np.float32)
    assert np.allclose(back.predict(x), m.predict(x)) and back.card["x"] == 1
    card = json.loads(path.with_suffix(".card.json").read_text())
    card["features"] = card["features"][:-1]
    path.with_suffix(".card.json").write_text(json.dumps(card))
    with pytest.raises(ValueError):
        choice.PlaceChoiceModel.load(path)

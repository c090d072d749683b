"""Training the place choice, alone: how candidates are labelled from the coders' fields
(our own records, not the dev sets) and that the fit learns a separating feature."""

import numpy as np

from pipeline.extraction.facts.places import choice, train
from strikewatch.core.models import Place


def _p(name, cc="UA", precision="city", lat=None, lon=None):
    return Place(name=name, country_code=cc, precision=precision, lat=lat, lon=lon)


def test_a_candidate_is_the_coded_place_by_name_or_within_25_km():
    rec = {"id": "x1", "location": "Zxqivka", "country": "Ukraine", "lat": 48.0, "lon": 38.0}
    assert train.candidate_label("acled", rec, _p("Zxqivka", precision="unknown")) == 1.0
    assert train.candidate_label("acled", rec, _p("Elsewhere", lat=48.1, lon=38.1)) == 1.0  # ~13 km
    assert train.candidate_label("acled", rec, _p("Elsewhere", lat=49.0, lon=38.0)) == 0.0  # ~111 km
    assert (
        train.candidate_label("acled", rec, _p("Elsewhere", precision="admin1", lat=48.0, lon=38.0)) == 0.0
    )  # a province is not the place
    assert train.candidate_label("acled", rec, _p("Ukraine", precision="country")) == 0.0


def test_a_report_coded_with_its_country_only_labels_by_country():
    rec = {"id": "x2", "source": "Insecurity Insight", "country": "Syria", "place": [], "gold_raw": {}}
    assert train.candidate_label("news2", rec, _p("Syria", cc="SY", precision="country")) == 1.0
    assert train.candidate_label("news2", rec, _p("Ukraine", cc="UA", precision="country")) == 0.0


def test_an_annotated_place_labels_by_its_words():
    rec = {"id": "x3", "has_strike": True, "events": [{"type": "air_strike", "place": ["the village of Zxq"]}]}
    assert train.candidate_label("news", rec, _p("Zxq", precision="unknown")) == 1.0
    assert train.candidate_label("news", rec, _p("Qxz", precision="unknown")) == 0.0


def test_the_fit_learns_what_separates_the_coded_place():
    rng = np.random.default_rng(1)
    n = len(choice.FEATURES)
    x = rng.normal(size=(400, n)).astype(np.float32)
    y = (x[:, 3] > 0).astype(np.float32)
    m = train.fit_choice(x, y, np.ones(400))
    p = m.predict(x)
    assert ((p > 0.5) == (y > 0)).mean() > 0.95 and int(np.argmax(np.abs(m.weights))) == 3

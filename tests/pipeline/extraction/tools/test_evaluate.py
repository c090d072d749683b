"""pipeline.extraction.tools.evaluate: the scorer's arithmetic (stub extractor on a tiny JSONL
written here) and one run of the real harness on the first rows of the shared dev file."""

import json
from datetime import date
from pathlib import Path

import pytest

import pipeline.extraction as extraction
from pipeline.extraction.tools import evaluate
from strikewatch.core.models import Actor, Casualties, Event, EventTime, EventType, Modality, Place

REPO = Path(__file__).resolve().parents[4]
DEV = REPO.parent / "shared" / "data" / "eval" / "acled_dev.jsonl"
KEYS = {
    "n",
    "detection",
    "subtype_accuracy",
    "country_accuracy",
    "location_accuracy",
    "date_accuracy",
    "fatalities_accuracy",
    "actor_accuracy",
    "docs_per_second",
    "where",
    "when",
    "where_learned",
}


def rec(i, sub, **kw):
    base = {
        "id": f"t:{i}",
        "source": f"github:own/src{i % 2}@abc:x.csv",
        "text": f"note {i}",
        "event_type": "x",
        "sub_event_type": sub,
        "actor1": "Military Forces of Ukraine (2019-)",
        "actor2": None,
        "country": "Ukraine",
        "location": "Zxqivka",
        "lat": 48.0,
        "lon": 38.0,
        "event_date": "2020-05-09",
        "fatalities": 0,
    }
    base.update(kw)
    return base


def strike(
    etype=EventType.SHELLING,
    *,
    place=None,
    day=date(2020, 5, 9),
    killed=None,
    attacker=None,
    modality=Modality.ASSERTED,
):
    return Event(
        id="e",
        article_id="a",
        event_type=etype,
        modality=modality,
        places=[place] if place else [],
        time=EventTime(date=day, precision="day"),
        casualties=Casualties(killed=killed),
        attacker=attacker,
    )


UA_PLACE = Place(name="Zxqivka", country="Ukraine", country_code="UA", lat=48.1, lon=38.1, precision="admin1")
UA_ARMY = Actor(name="Ukraine", type="state_military", country="UA")

# Six records: two detected positives (one fully right, one wrong on every field), one
# missed positive, one false positive, one true negative, one null-sub-type row that must
# be ignored even though something is "detected" in it.
RECORDS = [
    rec(1, "Shelling/artillery/missile attack"),
    rec(
        2,
        "Air/drone strike",
        country="Syria",
        location="Zxqabad",
        lat=35.0,
        lon=38.0,
        event_date="2020-05-08",
        fatalities=3,
        actor1="NAF: United Armed Forces of Novorossiya",
    ),
    rec(3, "Shelling/artillery/missile attack"),
    rec(4, "Armed clash"),
    rec(5, "Peaceful protest"),
    rec(6, None),
]
PREDICTIONS = {
    "note 1": [strike(place=UA_PLACE, attacker=UA_ARMY)],
    "note 2": [strike(EventType.SHELLING, place=UA_PLACE, killed=1, attacker=UA_ARMY)],
    "note 3": [strike(modality=Modality.THREATENED)],  # not asserted: not a detection
    "note 4": [strike(EventType.DRONE_STRIKE)],
    "note 5": [strike(EventType.OTHER_VIOLENCE)],
    "note 6": [strike()],
}


def test_score_arithmetic():
    preds = [PREDICTIONS[r["text"]] for r in RECORDS]
    summary, by_source, by_subtype = evaluate.score(RECORDS, preds)
    assert summary["n"] == 5
    assert summary["detection"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667}
    for k in evaluate.SCORES:
        assert summary[f"{k}_accuracy"] == 0.5, k
    assert (
        by_subtype["Shelling/artillery/missile attack"].tp == 1
        and by_subtype["Shelling/artillery/missile attack"].fn == 1
    )
    assert by_subtype["Armed clash"].fp == 1 and by_subtype["Peaceful protest"].tn == 1
    assert "None" not in by_subtype and None not in by_subtype
    assert sum(t.tp + t.fp + t.fn + t.tn for t in by_source.values()) == 5


def test_main_prints_tables_then_one_json_line(tmp_path, monkeypatch, capsys):
    data = tmp_path / "mini.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    seen = []

    def fake_extract(nlp, articles, batch_size=32):
        seen.extend(a.published_at for a in articles)
        return [PREDICTIONS[a.body] for a in articles]

    monkeypatch.setattr(extraction, "load_nlp", lambda name="x": object())
    monkeypatch.setattr(extraction, "extract_events", fake_extract)
    assert evaluate.main(["--data", str(data), "--breakdown"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    assert set(result) == KEYS and result["n"] == 5
    assert result["detection"]["f1"] == 0.6667 and result["date_accuracy"] == 0.5
    assert any("excluded" in line for line in out)  # says null sub-type rows are not scored
    assert any(line.startswith("github:own/src1") for line in out) and any(
        line.startswith("Armed clash") for line in out
    )
    assert seen == [None] * 5  # no publication date: dates must come from the note


def test_limit_reads_only_the_first_records(tmp_path):
    data = tmp_path / "mini.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
    assert [r["id"] for r in evaluate.read_records(data, 2)] == ["t:1", "t:2"]


@pytest.mark.parametrize(
    "actor1, attacker, ok",
    [
        ("Military Forces of Ukraine (2019-)", Actor(name="Ukraine", type="state_military", country="UA"), True),
        ("Military Forces of Ukraine (2019-)", Actor(name="Ukrainian forces", type="unknown"), True),
        ("Military Forces of Ukraine (2019-)", Actor(name="NAF", type="rebel", country="UA"), False),
        ("NAF: United Armed Forces of Novorossiya", Actor(name="NAF", type="rebel", country="UA"), True),
        ("JNIM: Group for Support of Islam and Muslims", Actor(name="JNIM", type="terrorist"), True),
        ("Islamic State (Greater Sahara)", Actor(name="Islamic State", type="terrorist"), True),
        (
            "Military Forces of Yemen (2016-) Supreme Political Council",
            Actor(name="Houthis", type="rebel", country="YE"),
            True,
        ),
        (
            "Military Forces of Yemen (2016-) Supreme Political Council",
            Actor(name="Yemen", type="state_military", country="YE"),
            False,
        ),
        (
            "Military Forces of Libya (2014-) Haftar Faction",
            Actor(name="LNA", type="state_military", country="LY"),
            True,
        ),
        ("Operation Restoring Hope", Actor(name="Saudi-led coalition", type="state_military", country="SA"), True),
        ("Unidentified Armed Group (Libya)", None, True),
        ("Taliban", Actor(name="Taliban", type="rebel"), True),
        ("Taliban", None, False),
    ],
)
def test_actor_matcher(actor1, attacker, ok):
    assert evaluate.actor_matches(strike(attacker=attacker), actor1) is ok


@pytest.mark.parametrize(
    "pred, gold, ok",
    [
        ("Qaser Bin Ghashir", "Qasr Bin Ghashir", True),  # transliteration
        ("Durayhimi", "Ad Durayhimi", True),  # article
        ("Street 50", "Al Hudaydah-Street 50", True),  # ACLED City-Site
        ("Sirwah", "Suq Sirwah", True),  # district seat named after the district
        ("Marib", "Sirwah", False),
    ],
)
def test_location_names(pred, gold, ok):
    place = Place(name=pred, country="Yemen", country_code="YE", precision="region")
    assert evaluate.location_matches(strike(place=place), {"location": gold, "lat": None, "lon": None}) is ok


def test_location_distance_but_never_a_country_centroid():
    near = Place(name="Elsewhere", country_code="UA", lat=48.3, lon=38.0, precision="city")
    country = Place(name="Ukraine", country_code="UA", lat=48.01, lon=38.0, precision="country")
    gold = {"location": "Zxqivka", "lat": 48.0, "lon": 38.0}
    assert evaluate.location_matches(strike(place=near), gold)  # ~33 km
    assert not evaluate.location_matches(strike(place=country), gold)


@pytest.mark.skipif(not DEV.exists(), reason="shared dev data not present")
def test_real_harness_on_the_first_rows_of_the_dev_file(capsys):
    assert evaluate.main(["--data", str(DEV), "--limit", "300"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    result = json.loads(last)
    assert set(result) == KEYS
    assert result["n"] > 0 and result["docs_per_second"] > 0
    values = [result[k] for k in KEYS - {"n", "docs_per_second", "detection", "where", "when", "where_learned"}] + list(
        result["detection"].values()
    )
    shares = ("within_25km", "pointless", "country_accuracy", "country_accuracy_placed")
    values += [result["where"][k] for k in shares if result["where"][k] is not None]
    values += [result["when"][k] for k in ("date_accuracy", "date_within_window") if result["when"][k] is not None]
    assert result["where"]["capital_misses"] == 0  # no strike is drawn on a capital it did not hit
    assert all(0.0 <= v <= 1.0 for v in values)

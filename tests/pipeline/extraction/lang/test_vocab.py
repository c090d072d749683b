"""The vocab term syntax: stems, gaps, Arabic clitics and letter folding, apostrophes."""

import json

import pytest

from pipeline.extraction.lang.vocab import FACTS, compile_rows, matches, normalize, vocab_rows


def found(term: str, lang: str, text: str) -> list[str]:
    rx = compile_rows([{"term": term}], lang)
    norm = normalize(lang, text)
    return [text[s:e] for s, e, _i in matches(rx, norm)]


def test_stems_and_gaps():
    assert found("ракетн* удар*", "uk", "завдали ракетного удару по місту") == ["ракетного удару"]
    assert found("завдал* ~ удар*", "uk", "завдали масованого ракетного удару") == [
        "завдали масованого ракетного удару"
    ]
    assert found("удар*", "uk", "ударник грав") == ["ударник"]  # a stem is a stem: broad words meet the model
    assert found("КАБ*", "ru", "сбросили КАБами") == ["КАБами"]


def test_arabic_clitics_and_folding():
    assert found("غاره", "ar", "وبالغارة الأولى") == ["وبالغارة"]
    assert found("غارات", "ar", "تعرضت للغارات") == ["للغارات"]
    assert found("قصف*", "ar", "وقصفت الطائرات") == ["وقصفت"]
    assert normalize("ar", "إسرائيل أمس") == "اسرائيل امس"  # same length: offsets hold


def test_apostrophes_and_word_bounds():
    assert found("tir* d'artillerie", "fr", "des tirs d’artillerie") == ["tirs d’artillerie"]
    assert found("frappe*", "fr", "contrefrappe") == []


def test_longest_term_wins_at_a_position():
    rows = [{"term": "ракет*"}, {"term": "ракетн* удар*"}]
    rx = compile_rows(rows, "uk")
    assert [(s, e, i) for s, e, i in matches(rx, "ракетного удару")] == [(0, 15, 1)]


@pytest.mark.parametrize("lang", ["ar", "ru", "uk", "fr", "es"])
def test_every_language_has_every_vocab_file_and_each_term_compiles(lang):
    for fact, name in [
        ("triggers", "triggers"),
        ("triggers", "not_strikes"),
        ("weapons", "weapons"),
        ("casualties", "casualties"),
        ("casualties", "numbers"),
        ("parties", "actors"),
        ("time", "dates"),
        ("places", "cues"),
        ("places", "aliases"),
    ]:
        rows = vocab_rows(fact, name, lang)
        assert rows, f"{fact}/vocab/{name}.{lang}.jsonl is empty or missing"
        assert compile_rows(rows, lang) is not None
    types = {r.get("type") for r in vocab_rows("triggers", "triggers", lang)}
    assert {"air_strike", "drone_strike", "missile_attack", "shelling"} <= types
    senses = {r["sense"] for r in vocab_rows("triggers", "not_strikes", lang)}
    assert {"labour_strike", "sport", "test", "arms", "threat"} <= senses
    for path in (FACTS / "triggers" / "vocab").glob(f"*.{lang}.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            json.loads(line)

"""Each native component alone on ``nlp.make_doc`` (what it writes to ``doc.spans``)."""

from datetime import UTC, date, datetime

import spacy

from pipeline.extraction.lang import components as C  # noqa: F401  (registers the factories)


def run(lang: str, text: str, *pipes: str, published=datetime(2024, 3, 14, 9, tzinfo=UTC)):
    nlp = spacy.blank(lang)
    for name in ("ml_sentences", *pipes):
        nlp.add_pipe(name)
    doc = nlp.make_doc(text)
    doc.user_data["sw_published"] = published
    for _name, proc in nlp.pipeline:
        doc = proc(doc)
    return doc


def test_sentences_split_at_punctuation_and_line_breaks():
    doc = run("ar", "غارات على غزة. قتل خمسة؟ وجرح آخرون\nعنوان آخر")
    assert len(list(doc.sents)) == 4


def test_triggers_types_and_negative_senses():
    doc = run("fr", "Des frappes de drones ont visé la ville. La grève des contrôleurs continue.", "ml_triggers")
    assert [(s.text, s.label_) for s in doc.spans["sw_triggers"]][0] == ("frappes de drones", "drone_strike")
    assert [s.label_ for s in doc.spans["sw_negatives"]] == ["labour_strike"]
    doc = run("uk", "КНДР провела ракетні випробування.", "ml_triggers")
    assert not [s for s in doc.spans["sw_triggers"] if s.label_ == "missile_attack" and s.text.startswith("ракетні")]
    doc = run("ar", "سجل هدفا بتسديدة صاروخية", "ml_triggers")
    assert not doc.spans["sw_triggers"]  # the football sense drops the missile word


def test_places_resolve_native_names_to_english():
    doc = run("uk", "Вибухи пролунали у Харкові та в Києві.", "ml_actors", "ml_places")
    assert [(s.text, s._.sw_place.name) for s in doc.spans["sw_places"]] == [("Харкові", "Kharkiv"), ("Києві", "Kyiv")]
    doc = run("ar", "وشنت غارات على خان يونس في قطاع غزة.", "ml_actors", "ml_places")
    names = {s._.sw_place.name for s in doc.spans["sw_places"]}
    assert "Gaza Strip" in names and any("Yūnis" in n or "Yunis" in n for n in names)
    doc = run("es", "Un ataque en Járkov.", "ml_actors", "ml_places")
    assert [s._.sw_place.name for s in doc.spans["sw_places"]] == ["Kharkiv"]
    doc = run("ru", "Удар по Киевской области.", "ml_actors", "ml_places")
    assert [(s._.sw_place.name, s._.sw_place.precision) for s in doc.spans["sw_places"]] == [("Kyiv", "admin1")]


def test_places_never_draw_a_namesake_from_a_common_word():
    doc = run("ar", "قال بيان الجيش إن الغارة وقعت بين المدينتين في البلاد.", "ml_actors", "ml_places")
    assert not doc.spans["sw_places"]


def test_times_resolve_against_publication():
    doc = run("uk", "Удар стався у вівторок, а вчора знову.", "ml_times")
    assert [s._.sw_time.date for s in doc.spans["sw_times"]] == [date(2024, 3, 12), date(2024, 3, 13)]
    doc = run("fr", "Frappe le 10 mars.", "ml_times")
    assert [s._.sw_time.date for s in doc.spans["sw_times"]] == [date(2024, 3, 10)]
    doc = run("ru", "Удар нанесли вчера.", "ml_times", published=None)
    assert not doc.spans["sw_times"]  # a relative date with nothing to count from is no date


def test_casualties_take_the_nearest_figure():
    doc = run("ru", "Погибли три человека, ещё 12 ранены.", "ml_casualties")
    got = [(s.label_, s._.sw_casualties.killed, s._.sw_casualties.injured) for s in doc.spans["sw_casualties"]]
    assert got == [("killed", 3, None), ("injured", None, 12)]
    doc = run("ar", "ما أسفر عن مقتل 5 أشخاص", "ml_casualties")
    assert [s._.sw_casualties.killed for s in doc.spans["sw_casualties"]] == [5]
    doc = run("ar", "ما أسفر عن مقتل سبعة أشخاص وإصابة آخرين", "ml_casualties")  # a figure counts once
    assert [(s.label_, s._.sw_casualties.killed) for s in doc.spans["sw_casualties"]] == [("killed", 7)]

"""Strike reports in Ukrainian, Russian, Arabic, French and Spanish -> events with English
fields and native quotes; the hard negatives of each language -> none.

Every text here was written for this test (none is cut from a dataset). The shipped model
(``models/relevance-ml-1.npz``) and multilingual-e5 run as in production.
"""

from datetime import UTC, datetime

import pytest

from pipeline.extraction.lang import extract_native
from strikewatch.core.models import Article, EventType, Modality

PUBLISHED = datetime(2024, 3, 14, 9, 30, tzinfo=UTC)  # a Thursday


def article(title: str, body: str, lang: str, url: str) -> Article:
    return Article.new(url, title=title, body=body, published_at=PUBLISHED, language=lang)


STRIKES = {
    "uk": (
        "Росія вдарила ракетами по Харкову",
        "У вівторок російські війська завдали ракетного удару по Харкову. Ракета влучила в житловий будинок, "
        "загинули троє людей, ще 11 поранені, повідомив голова обласної адміністрації.",
    ),
    "ru": (
        "Беспилотники атаковали Одессу",
        "Российские беспилотники вчера ночью атаковали Одессу. В результате удара по порту погибли два человека, "
        "сообщили местные власти.",
    ),
    "ar": (
        "غارات إسرائيلية على خان يونس",
        "شنت الطائرات الحربية الإسرائيلية أمس غارات على مدينة خان يونس جنوب قطاع غزة، ما أسفر عن مقتل سبعة أشخاص "
        "وإصابة آخرين، وفق مصادر طبية.",
    ),
    "fr": (
        "Mali : frappe de drone près de Tombouctou",
        "Une frappe de drone de l'armée malienne a tué au moins six personnes mardi près de Tombouctou, "
        "ont indiqué des sources locales.",
    ),
    "es": (
        "Ataque con drones en Járkov",
        "Un ataque con drones rusos contra Járkov dejó ayer cuatro muertos y doce heridos, según las "
        "autoridades ucranianas.",
    ),
}
# (expected type, a country the place must be in, expected date)
EXPECTED = {
    "uk": (EventType.MISSILE_ATTACK, "Ukraine", "2024-03-12"),
    "ru": (EventType.DRONE_STRIKE, "Ukraine", "2024-03-13"),
    "ar": (EventType.AIR_STRIKE, "Palestine", "2024-03-13"),
    "fr": (EventType.DRONE_STRIKE, "Mali", "2024-03-12"),
    "es": (EventType.DRONE_STRIKE, "Ukraine", "2024-03-13"),
}


@pytest.mark.parametrize("lang", sorted(STRIKES))
def test_a_strike_report_yields_an_event_with_type_place_and_date(lang):
    title, body = STRIKES[lang]
    [events] = extract_native([article(title, body, lang, f"https://news.example/{lang}/strike")], lang)
    assert len(events) == 1, f"{lang}: no event"
    ev = events[0]
    want_type, want_country, want_date = EXPECTED[lang]
    assert ev.event_type == want_type
    assert ev.modality == Modality.ASSERTED
    assert ev.language == lang
    assert ev.places and ev.places[0].country == want_country
    assert ev.places[0].mention is not None and ev.places[0].mention.text in (title + "\n\n" + body)
    assert ev.time.date is not None and ev.time.date.isoformat() == want_date
    assert all(
        s.text == (title + "\n\n" + body)[s.start : s.end] for s in ev.evidence
    )  # quotes in the article's own words


def test_names_are_english_and_quotes_native():
    title, body = STRIKES["uk"]
    [[ev]] = extract_native([article(title, body, "uk", "https://news.example/uk/names")], "uk")
    assert ev.places[0].name == "Kharkiv"
    assert ev.places[0].mention.text == "Харкову"
    assert ev.attacker is not None and ev.attacker.name == "Russia"
    assert ev.casualties.killed == 3 and ev.casualties.injured == 11
    assert any(m.name == "missile" for m in ev.munitions)


@pytest.mark.parametrize(
    "lang, title, body",
    [
        ("ar", "غارات إسرائيلية على رفح", "شنت طائرات إسرائيلية غارات على رفح أمس ما أسفر عن مقتل خمسة أشخاص."),
        (
            "fr",
            "Frappes israéliennes sur Rafah",
            "Des frappes israéliennes ont touché Rafah mardi, tuant cinq personnes.",
        ),
        ("es", "Ataque ruso contra Odesa", "Un ataque ruso con misiles contra Odesa dejó ayer tres muertos."),
    ],
)
def test_a_party_named_right_after_the_strike_word_made_it(lang, title, body):
    [[ev]] = extract_native([article(title, body, lang, f"https://news.example/{lang}/agent")], lang)
    assert ev.attacker is not None and ev.attacker.name in ("Israel", "Russia")
    assert all(t.name != ev.attacker.name for t in ev.targets)


HARD_NEGATIVES = {
    "uk": [
        (
            "Пілоти авіакомпанії оголосили страйк",
            "Профспілка пілотів оголосила страйк у п'ятницю: скасовано 200 рейсів.",
        ),
        (
            "Збірна перемогла",
            "Нападник пробив ракетою з тридцяти метрів, і м'яч влетів у ворота. Матч завершився з рахунком 2:1.",
        ),
        (
            "КНДР провела випробування",
            "Північна Корея провела випробування балістичної ракети, яка впала в Японське море.",
        ),
        ("Данія передасть зброю", "Данія передасть Україні нову партію зброї та ракет для протиповітряної оборони."),
    ],
    "ru": [
        ("Забастовка диспетчеров", "Авиадиспетчеры Франции начали забастовку, отменены сотни рейсов."),
        ("Годовщина трагедии", "В четверг жители города почтили память погибших в годовщину бомбардировки 1943 года."),
        ("Депутат пригрозил ударом", "Депутат Госдумы пригрозил нанести удар по столице в случае провокации."),
    ],
    "ar": [
        ("إضراب عام", "دعت النقابات إلى إضراب عام في المدينة احتجاجا على ارتفاع الأسعار."),
        ("فوز المنتخب", "سجل المهاجم هدفا بتسديدة صاروخية من خارج منطقة الجزاء في مباراة المنتخب أمس."),
        ("تجربة صاروخية", "أجرت كوريا الشمالية تجربة صاروخية جديدة سقط فيها الصاروخ في البحر."),
        ("صفقة أسلحة", "وقعت الحكومة صفقة لشراء منظومة صواريخ دفاع جوي بقيمة مليار دولار."),
    ],
    "fr": [
        (
            "Grève à la SNCF",
            "Les cheminots sont en grève depuis mardi : le trafic est fortement perturbé dans toute la France.",
        ),
        ("Commémoration", "La ville a commémoré jeudi le 80e anniversaire du bombardement de 1944."),
        ("Essai nucléaire", "Pyongyang a procédé à un tir d'essai de missile balistique qui s'est abîmé en mer."),
    ],
    "es": [
        ("Huelga general", "Los sindicatos convocan una huelga general de transportistas para el próximo lunes."),
        ("Golazo", "El delantero marcó un gol con un disparo potente en el partido de liga."),
        ("Corea del Norte lanza un misil", "Corea del Norte lanzó un misil balístico de prueba hacia el mar de Japón."),
    ],
}


@pytest.mark.parametrize("lang", sorted(HARD_NEGATIVES))
def test_hard_negatives_yield_no_event(lang):
    arts = [
        article(t, b, lang, f"https://news.example/{lang}/neg/{i}") for i, (t, b) in enumerate(HARD_NEGATIVES[lang])
    ]
    got = extract_native(arts, lang)
    wrong = [(a.title, [e.event_type.value for e in evs]) for a, evs in zip(arts, got) if evs]
    assert not wrong, f"{lang}: strike events in hard negatives: {wrong}"

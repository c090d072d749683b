"""Language ID: declared language first, else lingua restricted to the languages that matter."""

import pytest

from pipeline.extraction.lang.detect import declared, detect, is_read, language_of, with_language
from strikewatch.core.models import Article

TEXTS = {
    "uk": "Уряд оголосив нову програму підтримки малого бізнесу, яка почне діяти з наступного місяця.",
    "ru": "Правительство объявило новую программу поддержки малого бизнеса, которая начнёт действовать в "
    "следующем месяце.",
    "ar": "أعلنت الحكومة برنامجا جديدا لدعم الشركات الصغيرة يبدأ العمل به الشهر المقبل.",
    "fr": "Le gouvernement a annoncé un nouveau programme d'aide aux petites entreprises, qui entrera en "
    "vigueur le mois prochain.",
    "es": "El gobierno anunció un nuevo programa de apoyo a las pequeñas empresas que entrará en vigor el próximo mes.",
    "en": "The government announced a new support programme for small businesses that takes effect next month.",
    "de": "Die Regierung hat ein neues Förderprogramm für kleine Unternehmen angekündigt, das im nächsten "
    "Monat beginnt.",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_detects_each_language(lang):
    assert detect(TEXTS[lang]) == lang


def test_short_english_notes_full_of_foreign_names_are_english():
    # lingua alone read notes like these as Spanish or Dutch
    assert (
        detect("On 30 April 2020, militants attacked Namava (Pemba-Metuge, Cabo Delgado). No fatalities reported.")
        == "en"
    )
    assert detect("RSF kill 3 Dinka men.") == "en"


def test_declared_language_wins_and_is_normalised():
    assert declared("uk-UA") == "uk" and declared("ua") == "uk" and declared("fr_FR") == "fr" and declared(None) is None
    art = Article.new("https://news.example/1", title="", body=TEXTS["en"], language="en-GB")
    assert language_of(art) == "en"
    art = Article.new("https://news.example/2", title="", body=TEXTS["uk"])
    assert with_language(art).language == "uk"


def test_unread_languages_are_told_apart():
    assert not is_read(detect(TEXTS["de"]))
    assert all(is_read(detect(TEXTS[k])) for k in ("uk", "ru", "ar", "fr", "es", "en"))
    assert detect("12345 ... !!!") == "und"

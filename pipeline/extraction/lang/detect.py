"""Which language an article is written in: the one its feed or page declared, else lingua.

    language_of(article) -> "en" | "ar" | "ru" | "uk" | "fr" | "es" | another ISO 639-1 code | "und"
    with_language(article) -> the article with ``language`` set (the same object when it was)

The detector (``lingua-language-detector``, Apache-2.0, its n-gram models inside the wheel)
knows the languages strikewatch reads plus the ones most often met beside them in news
feeds, so that a German or Turkish article is told apart and skipped rather than read as
French or English. Low-accuracy mode (trigram models only): on multilingual_dev (211 texts)
and 300 general-news articles, 0 errors either way, 1.1-1.3 ms per article on the first
``DETECT_CHARS`` characters, and ~47 MB of models for all 16 languages (high-accuracy mode
loads ~460 MB for the same set).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from strikewatch.core.models import Article

# Languages extraction reads: English by the English pipeline, the others natively.
ENGLISH = "en"
NATIVE = ("ar", "ru", "uk", "fr", "es")
READ = (ENGLISH, *NATIVE)
# Languages the detector also knows, so their articles are told apart (and skipped).
OTHERS = ("de", "it", "pt", "tr", "fa", "zh", "ja", "pl", "nl", "he")
# Characters of title + lead the detector reads: a headline and a paragraph settle the
# language (0 errors on the sets above), and the cost stays flat for long articles.
DETECT_CHARS = 600
UNDETERMINED = "und"
# English function words, and the share of a text's words they must make for it to be
# English without asking the detector. Short English notes full of foreign names ("On 6
# May 2020, in Guadalajara, Jalisco, armed men clashed ...") are what lingua gets wrong
# (121 of 24,380 ACLED notes read as es/fr/de/nl/it, 1 of 535 CASE 2021 snippets, 7 of
# 4,939 news2 reports); in multilingual_dev's 211 texts these words are at most 3.6 % of
# the words, in the English notes 6 % or more for all but the ones with no such word.
_EN_WORDS = frozenset(
    "the of and to in was were is are with by for from at that said has have been this which after".split()
)
EN_WORD_SHARE = 0.06
# A text in plain ASCII (no accent, no other script) is English when the detector gives
# English at least this confidence: the short notes it still read as es/nl/de ("RSF kill 3
# Dinka men.": nl 0.43, en 0.38) have 0.12-0.43; French and Spanish texts of
# multilingual_dev all have accents (English confidence 0.0).
ASCII_EN_CONFIDENCE = 0.1
_WORDS = re.compile(r"[^\W\d_]+")
_LOCK = threading.Lock()


def declared(value: str | None) -> str | None:
    """A feed's or page's language tag as an ISO 639-1 code ("uk-UA" -> "uk", "ua" -> "uk")."""
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    code = {"ua": "uk", "ukr": "uk", "rus": "ru", "ara": "ar", "fra": "fr", "fre": "fr", "spa": "es", "eng": "en"}.get(
        code, code
    )
    return code if len(code) == 2 and code.isalpha() else None


@lru_cache(maxsize=1)
def detector():
    """The process's lingua detector (built once; models load lazily, per language met)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [getattr(IsoCode639_1, c.upper()) for c in (*READ, *OTHERS)]
    with _LOCK:
        return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_low_accuracy_mode().build()


def detect(text: str) -> str:
    """The language of ``text`` (its first ``DETECT_CHARS`` characters), or ``und``."""
    sample = text[:DETECT_CHARS]
    words = _WORDS.findall(sample)
    if not words:
        return UNDETERMINED
    if sum(w.lower() in _EN_WORDS for w in words) >= EN_WORD_SHARE * len(words):
        return ENGLISH
    values = detector().compute_language_confidence_values(sample)
    if not values:
        return UNDETERMINED
    if sample.isascii() and any(
        v.language.iso_code_639_1.name == "EN" and v.value >= ASCII_EN_CONFIDENCE for v in values
    ):
        return ENGLISH
    return values[0].language.iso_code_639_1.name.lower()


def language_of(article: Article) -> str:
    """The article's language: declared by its feed or page when that is one the detector
    knows, else detected from its title and lead."""
    said = declared(article.language)
    if said in READ or said in OTHERS:
        return said
    return detect(article.text)


def with_language(article: Article) -> Article:
    """The article with ``language`` set to ``language_of(article)``."""
    lang = language_of(article)
    return article if article.language == lang else article.model_copy(update={"language": lang})


def is_read(lang: str | None) -> bool:
    return lang in READ

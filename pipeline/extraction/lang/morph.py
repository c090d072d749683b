"""Russian and Ukrainian lemmas (``pymorphy3`` with its OpenCorpora / LanguageTool
dictionaries, inside the ``pymorphy3-dicts-ru`` / ``-uk`` wheels): inflected names find
their dictionary form.

    lemma("Харкові", "uk")          # 'харків'
    lemma_key("Жовтих Водах", "uk")  # 'жовтий вода'

The analysers load once per process (~15 MB each, on first use; English articles never
load them).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

_LOCK = threading.Lock()
_WORD = re.compile(r"[\w'’ʼ]+")


@lru_cache(maxsize=2)
def analyzer(lang: str):
    import pymorphy3

    with _LOCK:
        return pymorphy3.MorphAnalyzer(lang=lang)


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """The dictionary form of one word (lower case); the word itself when unknown."""
    w = word.lower().replace("’", "'").replace("ʼ", "'")
    if lang not in ("ru", "uk") or not w or w.isascii():
        return w
    parses = analyzer(lang).parse(w)
    # A proper name's own parse first (Geox: a place name), else the most likely one.
    best = next((p for p in parses if "Geox" in str(p.tag)), parses[0]) if parses else None
    return best.normal_form if best is not None else w


# Readings of a word tried when a mention is looked up: "Харкові" is first read as the
# surname "Харко" (dative), third as the city "Харків" (locative).
MAX_READINGS = 4
MAX_KEYS = 8


@lru_cache(maxsize=200_000)
def lemmas(word: str, lang: str) -> tuple[str, ...]:
    """Every dictionary form a word may have, most likely first."""
    w = word.lower().replace("’", "'").replace("ʼ", "'")
    if lang not in ("ru", "uk") or not w or w.isascii():
        return (w,)
    return tuple(dict.fromkeys(p.normal_form for p in analyzer(lang).parse(w)[:MAX_READINGS])) or (w,)


def lemma_keys(name: str, lang: str) -> list[str]:
    """The keys of every reading of a mention's words (at most ``MAX_KEYS``)."""
    keys = [""]
    for w in _WORD.findall(name):
        keys = [f"{k} {lem}".strip() for k in keys for lem in lemmas(w, lang)][:MAX_KEYS]
    return keys


def lemma_key(name: str, lang: str) -> str:
    """The lemmas of a name's words, space-joined: the matching key of an inflected name."""
    return " ".join(lemma(w, lang) for w in _WORD.findall(name))

"""Sentence case for texts written in capitals (wire and radio transcripts): the small
spaCy model tags every word of an ALL-CAPS text as a proper noun, so its parse and
entities are noise there.

    truecase("U.S. JETS STRUCK TARGETS NEAR SAN SALVADOR. THE ARMY SAID.")
    -> "U.S. jets struck targets near San Salvador. The army said."

The result has exactly the length and offsets of the input (case changes only, one
character for one character), so every span found on it points into the original text.
Words stay capitalised when the gazetteers know them (places, countries, demonyms,
armed groups), alone or as the first word of a known two- or three-word name; short
dotted or all-consonant abbreviations ("U.S.", "FMLN") stay in capitals.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A text is in capitals when fewer than this share of its letters are lower case.
# News prose has ~95 % lower-case letters, headlines ~70 %; the MUC-4 wire texts 0 %.
CAPS_MAX_LOWER_SHARE = 0.05
# Letters needed to decide (shorter texts: a headline or a code is left alone).
CAPS_MIN_LETTERS = 40
# One-word city names are capitalised only from this population (people): smaller towns
# are too often English words ("Police" in Poland, "Mission", "Reading").
CAPITALISE_CITY_MIN_POPULATION = 100_000
_WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*")
# Sentence punctuation, or a blank line: wire texts wrap lines mid-sentence, so a single
# line break starts nothing.
_BREAK = re.compile(r"[!?:;\"“(]|\n[ \t]*\n")
# Dotted initials or a run of consonants ("U.S.", "FMLN"); Y is a vowel here ("BY", "MY").
_ABBREV = re.compile(r"^(?:[A-Z]\.){1,4}$|^[B-DF-HJ-NP-TV-XZ]{2,6}$")


def is_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < CAPS_MIN_LETTERS:
        return False
    return sum(c.islower() for c in letters) / len(letters) < CAPS_MAX_LOWER_SHARE


@lru_cache(maxsize=1)
def _names() -> frozenset[str]:
    """Lower-cased known names and their first words of multi-word names."""
    from . import lexicon
    from .components import _geo

    names: set[str] = set(_geo.known_names(CAPITALISE_CITY_MIN_POPULATION))
    for aliases, canonical, *_ in lexicon.ACTORS:
        names.update(a.lower() for a in (*aliases, canonical) if len(a) > 3 or not a.isupper())
    return frozenset(names)


def _known_multiword(phrase: str) -> bool:
    """A known place of two or more words ("san salvador"; not "the presidency")."""
    from .components import _geo

    words = phrase.split()
    return len([w for w in words if w not in ("the", "a", "an")]) >= 2 and words[0] not in ("the", "a", "an") and _geo.is_place_name(phrase)


def _same_length_lower(word: str) -> str:
    out = word.lower()
    return out if len(out) == len(word) else "".join(c.lower() if len(c.lower()) == 1 else c for c in word)


def truecase(text: str) -> str:
    """Sentence case with known names capitalised, when ``text`` is in capitals; else ``text``."""
    if not is_caps(text):
        return text
    names = _names()
    words = list(_WORD.finditer(text))
    keep = [False] * len(words)
    for i in range(len(words)):
        for n in (3, 2, 1):
            if i + n <= len(words) and not any(keep[i:i + n]):
                phrase = " ".join(w.group(0) for w in words[i:i + n]).lower().strip(".")
                if phrase in names or (n > 1 and _known_multiword(phrase)):
                    for j in range(i, i + n):
                        keep[j] = True
                    break
    out = list(text)
    prev_end, prev_word = 0, ""
    for i, m in enumerate(words):
        w = m.group(0)
        # A sentence starts after a full stop that ends a word that is no abbreviation,
        # or after other sentence punctuation or a line break between the words.
        starts = i == 0 or bool(_BREAK.search(text, prev_end, m.start())) or (prev_word.endswith(".") and not _ABBREV.match(prev_word))
        prev_end, prev_word = m.end(), w
        if _ABBREV.match(w):
            continue  # "U.S.", "FMLN": abbreviations stay as written
        low = _same_length_lower(w)
        if keep[i] or starts:
            low = w[0] + low[1:]
        out[m.start(): m.end()] = low
    return "".join(out)


# A line this long (characters) that ends mid-sentence was wrapped by its writer: wire and
# e-mail texts wrap at 60-80 characters (the MUC-4 texts at ~70), while a headline or a
# list item is a line of its own. With 40 no headline of news_dev was joined to its body.
WRAPPED_LINE_MIN_CHARS = 40
# The next line must not start a list item ("- ", "* ", "• "): BBC lists break lines so.
_LINE_BREAK = re.compile(r"(?<=[^\s.!?:;\"”])([ \t]*)\n(?=[ \t]*[^\s\-*•–—])")


def unwrap(text: str) -> str:
    """Hard-wrapped lines joined: a single line break inside a sentence becomes a space.

    The parser reads a line break as a token of its own and attaches it anywhere: in the
    MUC-4 wire texts it split the subject from its verb in about one sentence in three.
    A break stays when the line is short (a headline), ends with sentence punctuation,
    or is followed by a blank line or a list item. One character for one: offsets do not move."""
    if "\n" not in text:
        return text
    out = list(text)
    for m in _LINE_BREAK.finditer(text):
        nl = m.end(1)
        line_start = text.rfind("\n", 0, m.start()) + 1
        if m.start() - line_start >= WRAPPED_LINE_MIN_CHARS:
            out[nl] = " "
    return "".join(out)

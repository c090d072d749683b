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

from spacy.lang.en.stop_words import STOP_WORDS

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
# line break starts nothing. Not a semicolon: "...GUERRERO; AND ON 7 DECEMBER, THEY FIRED"
# goes on one sentence (a capital "And" made the parser split it and take the name before
# it as the subject).
_BREAK = re.compile(r"[!?:\"“(]|\n[ \t]*\n")
# Titles written before a name: "Dr Francisco ...", not the abbreviation "DR" (after which
# the parser started a new sentence, with the name as its subject).
_TITLES = frozenset("dr mr mrs ms msgr gen col lt sgt capt cpl maj brig adm cmdr sr sra fr".split())
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


@lru_cache(maxsize=1)
def _actor_acronyms() -> frozenset[str]:
    """The actor gazetteer's acronyms with a vowel ("ELN", "AQAP"; "FMLN" is kept as a
    consonant run anyway), unless they are English words ("IS" stays "is")."""
    from . import lexicon

    return frozenset(
        a
        for aliases, *_ in lexicon.ACTORS
        for a in aliases
        if a.isupper() and len(a) <= 5 and a.isalpha() and a.lower() not in STOP_WORDS and len(a) > 2
    )


def _known_multiword(phrase: str) -> bool:
    """A known place of two or more words ("san salvador"; not "the presidency")."""
    from .components import _geo

    words = phrase.split()
    return (
        len([w for w in words if w not in ("the", "a", "an")]) >= 2
        and words[0] not in ("the", "a", "an")
        and _geo.is_place_name(phrase)
    )


def _same_length_lower(word: str) -> str:
    out = word.lower()
    return out if len(out) == len(word) else "".join(c.lower() if len(c.lower()) == 1 else c for c in word)


def truecase(text: str, english: frozenset[str] = frozenset()) -> str:
    """Sentence case with known names capitalised, when ``text`` is in capitals; else ``text``.
    ``english``: lower-cased English content words (``english_words(nlp)``), which a
    place cue does not capitalise."""
    if not is_caps(text):
        return text
    names = _names()
    acronyms = _actor_acronyms()
    words = list(_WORD.finditer(text))
    keep = [False] * len(words)
    for i in range(len(words)):
        for n in (3, 2, 1):
            if i + n <= len(words) and not any(keep[i : i + n]):
                phrase = " ".join(w.group(0) for w in words[i : i + n]).lower().strip(".")
                if phrase in names or (n > 1 and _known_multiword(phrase)):
                    for j in range(i, i + n):
                        keep[j] = True
                    break
    _keep_place_cues(words, keep, english)
    out = list(text)
    prev_end, prev_word = 0, ""
    for i, m in enumerate(words):
        w = m.group(0)
        # A sentence starts after a full stop that ends a word that is no abbreviation,
        # or after other sentence punctuation or a line break between the words.
        starts = (
            i == 0
            or bool(_BREAK.search(text, prev_end, m.start()))
            or (prev_word.endswith(".") and not _ABBREV.match(prev_word))
        )
        prev_end, prev_word = m.end(), w
        if w.rstrip(".").lower() in _TITLES:
            out[m.start() : m.end()] = w[0] + _same_length_lower(w)[1:]  # "DR", "COL": titles before a name
            continue
        if _ABBREV.match(w) or w in acronyms:
            continue  # "U.S.", "FMLN", "ELN": abbreviations stay as written
        low = _same_length_lower(w)
        if keep[i] or starts:
            low = w[0] + low[1:]
        out[m.start() : m.end()] = low
    return "".join(out)


# Place cues in a capitals text: a word the text itself marks as a place name keeps its
# capital whatever its size ("THE TOWN OF TONACATEPEQUE", "MORAZAN DEPARTMENT"); after
# "near/outside/around" only a name the gazetteer knows ("AREAS NEAR PERQUIN"). Without
# them the towns of the MUC-4 texts (all under CAPITALISE_CITY_MIN_POPULATION) were
# lower-cased and no place was found in 5 of the 23 detected strike documents.
_PLACE_NOUN_OF = frozenset(
    "town village city hamlet canton municipality department province district neighborhood "
    "neighbourhood suburb settlement region jurisdiction".split()
)
_PLACE_NOUN_AFTER = frozenset("department province district governorate municipality canton".split())
_NEAR = frozenset("near outside around".split())
# Letters a word needs before "not an English word" says it is a name ("IN USULUTAN").
UNKNOWN_NAME_MIN_LETTERS = 4
# Words that start a longer Spanish, Portuguese or Arabic place name ("SAN MIGUEL",
# "LAS VUELTAS", "CORRAL DE LAS PIEDRAS" is found from its first word by the gazetteer).
_NAME_LEADS = frozenset("san santa santo sao la las los el al puerto nueva nuevo ciudad villa".split())
_NAME_LINKS = frozenset("de del la las los el da do dos".split())
_NOT_NAMES = frozenset(
    "the a an this that these those its their our his her which each every some several all "
    "northern southern eastern western central north south east west same where what whom whose "
    "there them they about against between during without within among into onto upon".split()
)


def english_words(nlp) -> frozenset[str]:
    """English content words for ``truecase``: set on the pipeline by ``load_nlp``
    (``load_english_words``), or nothing for a pipeline made otherwise."""
    return getattr(nlp, "_sw_english", frozenset())


@lru_cache(maxsize=2)
def load_english_words(model_name: str) -> frozenset[str]:
    """The lemma index of the spaCy package's rule lemmatizer (WordNet's nouns, verbs,
    adjectives and adverbs: 91k words), read from its files, so a pipeline that leaves
    the lemmatizer out still has it; empty when the package has none."""
    import spacy.util
    from spacy.lookups import Lookups

    root = spacy.util.get_package_path(model_name)
    found = sorted(root.glob("**/lemmatizer/lookups/lookups.bin"))
    if not found:
        return frozenset()
    lookups = Lookups().from_disk(found[0].parent)
    if not lookups.has_table("lemma_index"):
        return frozenset()
    return frozenset(w for words in lookups.get_table("lemma_index").values() for w in words)


def _lemmas(word: str) -> list[str]:
    """The word and what regular inflection could have made it from ("areas", "clashes",
    "casualties", "complying", "amounted")."""
    out = [word]
    for suffix, repl in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ied", "y"),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("ily", "y"),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: len(word) - len(suffix)] + repl
            out.append(stem)
            if suffix in ("ed", "ing") and len(stem) > 3 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # "planned", "running"
    return out


def _keep_place_cues(words: list[re.Match], keep: list[bool], english: frozenset[str]) -> None:
    from .components import _geo

    def unknown(w: str) -> bool:  # no English word: a name ("PERQUIN", "SOYAPANGO")
        return (
            bool(english)
            and w.isalpha()
            and len(w) >= UNKNOWN_NAME_MIN_LETTERS
            and w not in _NOT_NAMES
            and w not in STOP_WORDS
            and not any(lemma in english for lemma in _lemmas(w))
        )

    low = [w.group(0).lower().strip(".") for w in words]

    def mark(i: int) -> None:
        keep[i] = True
        j = i
        while (
            low[j] in _NAME_LEADS and j + 1 < len(low) and low[j + 1] not in _NOT_NAMES
        ):  # "SAN MIGUEL", "LAS VUELTAS"
            j += 1
            keep[j] = True
            while low[j] in _NAME_LINKS and j + 1 < len(low) and low[j + 1] not in _NOT_NAMES:  # "DE LAS PIEDRAS"
                j += 1
                keep[j] = True

    for i in range(len(words)):
        if low[i] in _NOT_NAMES or (low[i] in _NAME_LINKS and not (i + 1 < len(low) and low[i] in _NAME_LEADS)):
            continue
        before2 = low[i - 2] if i >= 2 else ""
        before = low[i - 1] if i >= 1 else ""
        after = low[i + 1] if i + 1 < len(low) else ""
        if (before == "of" and before2 in _PLACE_NOUN_OF) or after in _PLACE_NOUN_AFTER:
            mark(i)
        elif before in _NEAR and (_geo.is_place_name(low[i]) or unknown(low[i])):
            mark(i)
        elif before == "in" and unknown(low[i]):
            mark(i)


# An editorial note of a wire transcript: "[TEXT]", "[WORD INDISTINCT]", "[NAME AS
# TRANSLITERATED]", "[FARABUNDO MARTI NATIONAL LIBERATION FRONT]" after "FMLN".
_NOTE = re.compile(r"\[[^\[\]]{1,80}\]")


def blank_notes(text: str) -> str:
    """A capitals text with its bracketed editorial notes blanked (same length): the parser
    read "[NAME AS TRANSLITERATED]" as a sentence of its own, which cut the subject from
    its verb ("500 HOMES IN THE ... [NAME AS TRANSLITERATED] QUARTER WERE DESTROYED")."""
    return _NOTE.sub(lambda m: " " * len(m.group(0)), text) if "[" in text else text


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

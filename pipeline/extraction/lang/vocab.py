"""Per-language vocabulary files -> compiled patterns (the term syntax of
``facts/triggers/vocab/README.md``).

    rows = vocab_rows("triggers", "triggers", "uk")        # facts/triggers/vocab/triggers.uk.jsonl
    rx = term_regex("ракетн* удар*", "uk")                  # matches "ракетного удару"
    text = normalize("ar", text)                            # same length: offsets hold

Matching runs on ``normalize(lang, text)``: Arabic letter variants folded one for one
(أ إ آ ٱ -> ا, ى -> ي, ة -> ه), so every offset is an offset of the article text.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

FACTS = Path(__file__).resolve().parents[1] / "facts"
# Letters a stem (``word*``) may continue with: word characters and the apostrophes of
# Ukrainian ("об'єкт", "п’ять").
_STEM_TAIL = r"[\w'’ʼ]*"
# Up to this many words between the words of a term joined by ``~`` ("завдали ... удару").
GAP_WORDS = 2
# Arabic clitics before a word: a conjunction (و, ف), then a preposition (ب, ك, ل) and/or
# the article (ال, or لل for ل + ال). "وبالصواريخ", "للغارات", "فالقصف".
AR_PREFIX = r"(?:[وف])?(?:[بك]?ال|لل|[بكل])?"
_AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def normalize(lang: str, text: str) -> str:
    """``text`` with the letter variants of ``lang`` folded, character for character."""
    return text.translate(_AR_FOLD) if lang == "ar" else text


def vocab_path(fact: str, name: str, lang: str) -> Path:
    return FACTS / fact / "vocab" / f"{name}.{lang}.jsonl"


@cache
def vocab_rows(fact: str, name: str, lang: str) -> tuple[dict, ...]:
    """The rows of one vocabulary file (empty when the language has none)."""
    path = vocab_path(fact, name, lang)
    if not path.exists():
        return ()
    return tuple(
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    )


def _word(word: str, lang: str) -> str:
    if word == "#":
        return r"\d{1,2}"
    if word == "####":
        return r"\d{4}"
    stem = word.endswith("*") and len(word) > 1
    body = re.escape(normalize(lang, word[:-1] if stem else word))
    body = re.sub(r"['’ʼ]", "['’ʼ]", body)
    if stem:
        body += _STEM_TAIL
    return (AR_PREFIX + body) if lang == "ar" else body


def term_regex(term: str, lang: str) -> str:
    """The regular expression of one term (no group, no boundaries)."""
    parts = []
    for word in term.split():
        if word == "~":
            parts.append(rf"(?:[\s\-]+[\w'’ʼ\-]+){{0,{GAP_WORDS}}}")
            continue
        if parts:
            parts.append(r"[\s\-]+")
        parts.append(_word(word, lang))
    return "".join(parts)


def compile_rows(rows, lang: str, group_key=None) -> re.Pattern | None:
    """One alternation of every row's term, each in a named group ``t<i>`` (the row index),
    word-bounded; case-insensitive unless a row says ``"case": true``."""
    if not rows:
        return None
    alts = []
    # Longest terms first: an alternation takes the first term that matches at a position,
    # and "ракетн* удар*" must win over "ракет*".
    for i, r in sorted(enumerate(rows), key=lambda ir: -len(ir[1]["term"])):
        rx = term_regex(r["term"], lang)
        alts.append(f"(?P<t{i}>{rx})" if r.get("case") else f"(?P<t{i}>(?i:{rx}))")
    return re.compile(r"(?<![\w'’ʼ])(?:" + "|".join(alts) + r")(?![\w'’ʼ])")


def row_of(m: re.Match) -> int:
    """The row index of a match of ``compile_rows``'s pattern."""
    return int(m.lastgroup[1:])


def matches(pattern: re.Pattern | None, text: str):
    """(start, end, row index) of every match."""
    if pattern is None:
        return []
    return [(m.start(), m.end(), row_of(m)) for m in pattern.finditer(text)]

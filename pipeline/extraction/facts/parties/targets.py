"""What a struck target is, as monitors code sectors: ``target_type(phrase)`` ->
residential | health | education | energy | water | military | vehicle | people | other.

The words are data (``target_types.tsv``); a phrase takes the first type, in the file's
priority order, of any of its words ("a school's kitchen" is education, "a UN clinic in
a camp" health). A phrase with none of the words is "other".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Token

VOCAB = Path(__file__).with_name("target_types.tsv")
PRIORITY = ("health", "education", "water", "energy", "military", "vehicle", "residential", "people", "other")
_WORD = re.compile(r"[\w-]+")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, str]:
    rows = [
        line.split("\t") for line in VOCAB.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")
    ]
    return {w.strip().lower(): t.strip() for w, t in rows}


def target_type(phrase: str, head: Token | None = None) -> str:
    """The type of a target phrase ("a university building" -> education)."""
    vocab = vocabulary()
    found = {vocab[w] for w in _WORD.findall(phrase.lower()) if w in vocab}
    return next((t for t in PRIORITY if t in found), "other")

"""What a noun says of a party, as data (``party_heads.tsv``): the kind of party a head
noun names (force, armed group, person, official) and the words that, beside a force noun
and nothing else, name the forces of the state a text is about ("government forces",
"the armed forces", "junta troops")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

HEADS_FILE = Path(__file__).with_name("party_heads.tsv")


@lru_cache(maxsize=1)
def _rows() -> list[tuple[str, str]]:
    rows = [
        line.split("\t")
        for line in HEADS_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [(w.strip().lower(), k.strip()) for w, k in rows]


@lru_cache(maxsize=1)
def head_kinds() -> dict[str, str]:
    """Head noun -> force | armed | person | official (the first row of a word wins)."""
    out: dict[str, str] = {}
    for w, k in _rows():
        if k != "state":
            out.setdefault(w, k)
    return out


@lru_cache(maxsize=1)
def state_words() -> frozenset[str]:
    return frozenset(w for w, k in _rows() if k == "state")

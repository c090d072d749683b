"""The relevance gate: which articles, and which passages of them, spaCy reads.

    sel = select(article.text)    # None: no strike word anywhere, the article skips spaCy
    doc_text = mask(article.text, sel.passages)   # same length; text outside passages -> spaces

A compiled alternation of the terms in ``patterns/gate.jsonl`` (strike words, weapons,
platforms) finds candidate positions in linear time. Passages are the sentences around
each hit (``BEFORE_SENTENCES`` before, ``AFTER_SENTENCES`` after: the continuation
sentences the assembly reads) plus the lead (the title and the first
``LEAD_SENTENCES`` sentences: dateline and date). Sentences come from a cheap splitter
on sentence punctuation and line breaks, not from spaCy. The masked text keeps every
offset, so evidence spans point into the article as it is.

Cost is linear in the article's length and capped: passages beyond ``MAX_PASSAGE_CHARS``
are dropped (the earliest kept), so a 200k-character article parses at most that much.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .casing import unwrap

PATTERNS = Path(__file__).with_name("patterns") / "gate.jsonl"
# Sentences around a hit that the assembly may read: the one before (an attacker named
# just before, "X said it carried out ..."), and up to the assembly's continuation window
# after it (assemble.CONTINUATION_SENTENCES = 3).
BEFORE_SENTENCES = 1
AFTER_SENTENCES = 3
# The lead: title plus the body's first sentences carry the dateline and the date.
LEAD_SENTENCES = 2
# Most characters of passages spaCy parses per article (~5,000 words, ~1.5 s of the
# small model on one core). Longer candidate material is cut, the earliest kept: news
# puts the strike first. A 200k-character article took 234 s before (issue 12).
MAX_PASSAGE_CHARS = 30_000
# A sentence ends at . ! ? (then quotes/brackets) before whitespace, or at a line break.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+|\n+")


@dataclass(frozen=True)
class Selection:
    hits: tuple[tuple[int, int], ...]  # (start, end) of every gate term found
    passages: tuple[tuple[int, int], ...]  # (start, end) of the text spaCy reads, in order
    truncated: bool = False  # passages were cut at MAX_PASSAGE_CHARS


@lru_cache(maxsize=1)
def gate_re() -> re.Pattern:
    rows = [
        json.loads(line)
        for line in PATTERNS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("//")
    ]
    parts = [f"(?:{r['term']})" if r.get("case") else f"(?i:{r['term']})" for r in rows]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence by punctuation and line breaks, whitespace trimmed."""
    out = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            out.append((start, m.start() + (1 if text[m.start()] in ".!?" else 0)))
        start = m.end()
    if start < len(text) and text[start:].strip():
        out.append((start, len(text)))
    return out


def hits(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in gate_re().finditer(text)]


def select(
    text: str, max_chars: int = MAX_PASSAGE_CHARS, found: list[tuple[int, int]] | None = None
) -> Selection | None:
    """The passages spaCy should read, or None when the text has no gate term. ``found``:
    the hits of another lexicon (a native-language gate, ``lang/gate.py``), in text order."""
    found = hits(text) if found is None else found
    if not found:
        return None
    # Hard-wrapped lines joined first (same length): in wire texts wrapped at ~70
    # characters a line break is no sentence end, and a passage that started at one cut
    # its sentence in two ("... MURDERED DR | FRANCISCO JOSE GUERRERO; AND ... THEY FIRED").
    sents = sentence_bounds(unwrap(text))
    keep = [False] * len(sents)
    for i in range(min(LEAD_SENTENCES + 1, len(sents))):  # +1: the title line
        keep[i] = True
    j = 0
    for s, _e in found:  # hits and sentences are both in text order: one merge pass
        while j < len(sents) - 1 and sents[j][1] <= s:
            j += 1
        for k in range(max(0, j - BEFORE_SENTENCES), min(len(sents), j + AFTER_SENTENCES + 1)):
            keep[k] = True
    passages: list[tuple[int, int]] = []
    total, truncated = 0, False
    for (s, e), k in zip(sents, keep):
        if not k:
            continue
        join = bool(passages) and text[passages[-1][1] : s].strip() == ""  # adjacent kept sentences: one passage
        size = e - (passages[-1][1] if join else s)
        if total + size > max_chars:
            truncated = True
            break
        total += size
        if join:
            passages[-1] = (passages[-1][0], e)
        else:
            passages.append((s, e))
    return Selection(hits=tuple(found), passages=tuple(passages), truncated=truncated)


def mask(text: str, passages: tuple[tuple[int, int], ...] | list[tuple[int, int]]) -> str:
    """``text`` with everything outside ``passages`` blanked to spaces (line breaks kept):
    the same length and offsets, and a run of blanks is one token to spaCy."""
    out = []
    pos = 0
    for s, e in passages:
        out.append(_blank(text[pos:s]))
        out.append(text[s:e])
        pos = e
    out.append(_blank(text[pos:]))
    return "".join(out)


_NOT_NEWLINE = re.compile(r"[^\n]")


def _blank(chunk: str) -> str:
    return _NOT_NEWLINE.sub(" ", chunk)

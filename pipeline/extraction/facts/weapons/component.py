"""``strike_weapons``: platforms and munitions -> ``doc.spans["sw_weapons"]``.

Per sentence: platforms from ``weapons.jsonl`` ("F-15E", "drones"), munitions
with a payload ("seven 500-pound bombs": count, weight, guidance) and named munitions
("Hellfire", "mortar"). A generic platform word is dropped when a specific one names
the same thing ("the jets ... F-16s"). Label ``platform`` or ``munition``;
``span._.sw_weapon`` is the ``Weapon``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.core.models import Weapon

from ... import lexicon
from ...components.base import Keys, char_span, has_gate_hit, sentences, set_group, text_span

GENERIC_PLATFORMS = frozenset({"warplane", "fighter jet", "drone", "helicopter", "fighter-bomber"})


def _alias_table(rows) -> tuple[dict[str, tuple[str, str]], re.Pattern]:
    """(alias lower-cased -> (canonical, category), one case-insensitive regex of all
    aliases, longest first) from rows of (aliases, canonical, category)."""
    info: dict[str, tuple[str, str]] = {}
    for aliases, canonical, category in rows:
        for a in aliases:
            info[a.lower()] = (canonical, category)
    alts = sorted({a for aliases, _c, _k in rows for a in aliases}, key=len, reverse=True)
    return info, re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, alts)) + r")(?![\w-])", re.I)


@lru_cache(maxsize=1)
def tables():
    return _alias_table(lexicon.PLATFORMS), _alias_table(lexicon.MUNITION_NAMES)


def munition_count(word: str | None) -> int | None:
    """ "seven 500-pound bombs" -> 7; "several"/"multiple" say no number."""
    word = (word or "").strip()
    return None if not word or word.lower() in ("several", "multiple") else lexicon.number(word)


def find_weapons(text: str, base: int = 0) -> tuple[list[Weapon], list[Weapon]]:
    """(platforms, munitions) named in one sentence, mentions shifted by ``base``."""
    (platform_info, platform_re), (munition_info, munition_re) = tables()
    platforms: dict[str, Weapon] = {}
    munitions: dict[str, Weapon] = {}
    for m in platform_re.finditer(text):
        canonical, category = platform_info[m.group(0).lower()]
        platforms.setdefault(
            canonical,
            Weapon(
                name=canonical, kind="platform", category=category, mention=text_span(text, m.start(), m.end(), base)
            ),
        )
    covered: list[tuple[int, int]] = []
    for m in lexicon.MUNITION_RE.finditer(text):
        lb = int(m.group("weight").replace(",", ""))
        desc = (m.group("desc") or "").strip().lower()
        guidance = (re.sub(r"[-\s]?guided", "", desc).strip() or None) if "guided" in desc else None
        noun = m.group("noun").lower().rstrip("s")
        name = f"{lb:,}-pound {desc + ' ' if desc else ''}{noun}".replace("  ", " ")
        munitions.setdefault(
            name,
            Weapon(
                name=name,
                kind="munition",
                category="bomb" if noun in ("bomb", "jdam") else noun,
                payload_lb=lb,
                guidance=(guidance + "-guided") if guidance else None,
                count=munition_count(m.group("count")),
                mention=text_span(text, m.start(), m.end(), base),
            ),
        )
        covered.append(m.span())
    for m in munition_re.finditer(text):
        if any(s <= m.start() < e for s, e in covered):
            continue
        canonical, category = munition_info[m.group(0).lower()]
        if canonical == "bomb" and any(w.payload_lb for w in munitions.values()):
            continue
        munitions.setdefault(
            canonical,
            Weapon(
                name=canonical, kind="munition", category=category, mention=text_span(text, m.start(), m.end(), base)
            ),
        )
    specific = [p for p in platforms.values() if p.name not in GENERIC_PLATFORMS]
    if specific:
        platforms = {
            k: v
            for k, v in platforms.items()
            if v in specific or (v.category == "uav" and not any(s.category == "uav" for s in specific))
        }
    return list(platforms.values()), list(munitions.values())


class WeaponFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name
        tables()

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for sent in sentences(doc):
            if not has_gate_hit(doc, sent.start_char, sent.end_char):
                continue  # every weapon alias is a gate term (test_gate): no hit, no weapon
            platforms, munitions = find_weapons(sent.text, sent.start_char)
            for w in [*platforms, *munitions]:
                span = char_span(doc, w.mention.start, w.mention.end, label=w.kind)
                if span is not None:
                    span._.sw_weapon = w
                    spans.append(span)
        set_group(doc, Keys.WEAPONS, spans)
        return doc


@Language.factory("strike_weapons", assigns=["doc.spans"])
def make_weapon_finder(nlp: Language, name: str) -> WeaponFinder:
    return WeaponFinder(nlp, name)

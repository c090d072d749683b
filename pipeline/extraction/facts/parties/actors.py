"""``strike_actors``: armed actors named in the text -> ``doc.spans["sw_actors"]``.

Three sources, longest hit wins where they overlap:

* the actor gazetteer (``facts/parties/actors.jsonl``): names and aliases, acronyms of five
  letters or fewer case-sensitive ("IS", "KH"), other names in any case;
* sponsored militias with no name ("Iran-backed militias");
* a demonym or country before a military noun ("Israeli warplanes", "Turkish shelling"):
  that state's military. A named actor wins over it ("Saudi-led coalition airstrikes").

Each span's label is the actor type; ``span._.sw_actor`` is the ``Actor``.

    nlp = spacy.blank("en"); nlp.add_pipe("strike_actors")
    doc = nlp("Iran-backed Kataib Hezbollah fighters")  # -> Kataib Hezbollah, militia_proxy, sponsor IR
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.core.models import Actor

from ... import lexicon
from ...components import _geo
from ...components.base import Keys, char_span, doc_text, set_group, text_ranges, text_span

SPONSOR_RE = re.compile(
    r"\b(?P<who>Iran(?:ian)?|Turk(?:ish|ey)|Russia(?:n)?|Saudi|US|U\.S\.|American|Emirati|UAE)[- ]"
    r"(?:backed|supported|sponsored|aligned|allied)\b",
    re.I,
)
GENERIC_MILITIA_RE = re.compile(
    r"\b(?:(?P<sponsor>Iran(?:ian)?|Turk(?:ish|ey)|Russia(?:n)?|Saudi)[- ](?:backed|supported|aligned)\s+)"
    r"(?:proxy\s+)?(?:militias?|militiamen|proxies|proxy forces|groups?)\b",
    re.I,
)
SPONSOR_ISO = {
    "iran": "IR",
    "iranian": "IR",
    "turkish": "TR",
    "turkey": "TR",
    "russia": "RU",
    "russian": "RU",
    "saudi": "SA",
    "us": "US",
    "u.s.": "US",
    "american": "US",
    "emirati": "AE",
    "uae": "AE",
}
# How far before a name a sponsor phrase still qualifies it ("Iranian-backed Kataib
# Hezbollah"): 25 characters covers "X-backed" plus one word.
SPONSOR_WINDOW_CHARS = 25
# Military adjectives allowed between a demonym and its force noun ("Russian air force").
_FORCE_ADJ = r"(?:(?:military|government|regime|armed|air|security|coalition|special|rebel|fighter|war)\s+)?"
# Words of a weapon allowed between a demonym and its force noun, at most two ("Russian
# S-300 rockets", "Israeli suicide drone strikes", "Russian guided aerial bombs", "Russian
# MLRS fire"): weapon words (``weapon_words.tsv``) or a designation with a digit.
MAX_WEAPON_WORDS = 2
WEAPON_WORDS = Path(__file__).with_name("weapon_words.tsv")


def _weapon_words() -> str:
    words = [
        w.strip() for w in WEAPON_WORDS.read_text(encoding="utf-8").splitlines() if w.strip() and not w.startswith("#")
    ]
    alt = "|".join(map(re.escape, sorted(words, key=len, reverse=True)))
    # A designation has a digit and is matched case-sensitively ("S-300", "BM-21", "Su-25"):
    # force_re is case-blind, and a bare capitalised word let "Ukrainian civilians fled
    # shelling" (and all-caps wire text) read as Ukrainian forces.
    return rf"(?:(?:(?i:{alt})|(?-i:[A-Z][A-Za-z]*-?\d[\w-]*))\s+){{0,{MAX_WEAPON_WORDS}}}"


class ActorTable:
    """Compiled regexes over the actor gazetteer (built once per process)."""

    def __init__(self) -> None:
        self.info: dict[str, tuple[str, str, str | None, str | None]] = {}
        alts = []
        for aliases, canonical, typ, country, sponsor in lexicon.ACTORS:
            for a in aliases:
                self.info[a.lower()] = (canonical, typ, country, sponsor)
                alts.append(a)
        alts.sort(key=len, reverse=True)
        acr = [a for a in alts if a.isupper() and len(a) <= 5]
        names = [a for a in alts if a not in acr]
        # A name may be wrapped over two lines ("THE SHINING\nPATH" in a wire text).
        self.actor_re = re.compile(
            r"(?<![\w-])(?:(?:"
            + "|".join(map(re.escape, acr))
            + r")|(?i:"
            + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in names)
            + r"))(?![\w-])"
        )
        demonyms = sorted(set(_geo.demonym_names()), key=len, reverse=True)
        self.demonym_iso = {_geo.norm(n): _geo.demonym_iso(n) for n in demonyms}
        nouns = sorted(lexicon.FORCE_NOUNS, key=len, reverse=True)
        # "Russia's army", "Israel’s air force": a country's possessive is its forces too.
        countries = sorted({n for n in _geo.country_names() if len(n) > 3}, key=len, reverse=True)
        self.demonym_iso.update({_geo.norm(n): (_geo.country_of(n) or ("", None))[1] for n in countries})
        self.force_re = re.compile(
            r"(?<![\w-])(?P<dem>"
            + "|".join(map(re.escape, demonyms))
            + r"|(?:"
            + "|".join(map(re.escape, countries))
            + r")(?=['’]s\b))(?:['’]s)?(?![\w])(?:[- ]led)?\s+"
            + _FORCE_ADJ
            + _weapon_words()
            + r"(?P<noun>"
            + "|".join(map(re.escape, nouns))
            + r")\b",
            re.I,
        )

    def entry(self, matched: str) -> tuple[str, str, str | None, str | None]:
        """(canonical, type, country, sponsor) of a match of ``actor_re`` (a name wrapped
        over lines is looked up with single spaces)."""
        return self.info[" ".join(matched.lower().split())]

    def is_actor_name(self, text: str) -> bool:
        return bool(self.actor_re.fullmatch(text)) or text.lower() in self.info


@lru_cache(maxsize=1)
def table() -> ActorTable:
    return ActorTable()


def gazetteer_actors(text: str) -> list[Actor]:
    """The gazetteer actors named anywhere in ``text``, by name only (one regex pass: no
    sponsors, no demonym forces), in text order."""
    from spacy.lang.en.stop_words import STOP_WORDS

    from ...casing import is_caps

    g = table()
    caps = is_caps(text)
    out = []
    for m in g.actor_re.finditer(text):
        if caps and m.group(0).lower() in STOP_WORDS:
            continue  # "IS" in a text written in capitals is the verb, not Islamic State
        canonical, typ, country, sponsor = g.entry(m.group(0))
        out.append(
            Actor(
                name=canonical,
                type=typ,
                country=country,
                sponsor=sponsor,
                mentions=[text_span(text, m.start(), m.end())],
            )
        )
    return out


def find_actors(text: str, base: int = 0) -> list[tuple[int, int, Actor]]:
    """(start, end, Actor) of every actor in ``text`` (offsets relative to it; mentions
    shifted by ``base``), overlaps resolved to the longest, in text order."""
    g = table()
    out: list[tuple[int, int, Actor]] = []
    for m in g.actor_re.finditer(text):
        canonical, typ, country, sponsor = g.entry(m.group(0))
        sp = SPONSOR_RE.search(text, max(0, m.start() - SPONSOR_WINDOW_CHARS), m.start())
        if sp:
            sponsor = SPONSOR_ISO.get(sp.group("who").lower(), sponsor)
        out.append(
            (
                m.start(),
                m.end(),
                Actor(
                    name=canonical,
                    type=typ,
                    country=country,
                    sponsor=sponsor,
                    mentions=[text_span(text, m.start(), m.end(), base)],
                ),
            )
        )
    for m in GENERIC_MILITIA_RE.finditer(text):
        iso = SPONSOR_ISO.get(m.group("sponsor").lower())
        out.append(
            (
                m.start(),
                m.end(),
                Actor(
                    name=f"{_geo.country_name(iso) or m.group('sponsor')}-backed militias",
                    type="militia_proxy",
                    sponsor=iso,
                    mentions=[text_span(text, m.start(), m.end(), base)],
                ),
            )
        )
    named = [(s, e) for s, e, _a in out]
    for m in g.force_re.finditer(text):
        iso = g.demonym_iso.get(_geo.norm(m.group("dem")))
        if not iso or any(s < m.end() and m.start() < e for s, e in named):
            continue  # a named actor wins: "Saudi-led coalition airstrikes" is the coalition
        name = _geo.country_name(iso) or m.group("dem")
        if "-led" in m.group(0).lower() and "coalition" in m.group(0).lower():
            name = f"{name}-led coalition"
        out.append(
            (
                m.start(),
                m.end(),
                Actor(
                    name=name, type="state_military", country=iso, mentions=[text_span(text, m.start(), m.end(), base)]
                ),
            )
        )
    out.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    kept: list[tuple[int, int, Actor]] = []
    last_end = -1
    for s, e, a in out:
        if s >= last_end:
            kept.append((s, e, a))
            last_end = e
    return kept


class ActorFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name
        table()  # compile now, not on the first document

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        found = []
        for start, end in text_ranges(doc):  # blanked text holds no actor: scan the gate's passages only
            found += [(s + start, e + start, a) for s, e, a in find_actors(doc_text(doc)[start:end], base=start)]
        for s, e, actor in found:
            span = char_span(doc, s, e, label=actor.type)
            if span is not None:
                span._.sw_actor = actor
                spans.append(span)
        set_group(doc, Keys.ACTORS, spans)
        return doc

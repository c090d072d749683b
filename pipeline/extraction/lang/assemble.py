"""Spans of a native-language doc -> candidates for the relevance model -> one Event.

Short pure functions over a processed doc (``lang.components`` wrote ``doc.spans``):

* ``candidates(doc)``: each sentence with a strike word, its type and its features;
* ``to_event(doc, article, kept)``: the sentences the model kept are one strike report:
  its type (the best sentence's), weapons, places (where it landed: towns of the kept
  sentences, then of the headline and lead, then the countries named; the attacker's own
  country last), date (the first date expression of the kept sentences, then of the lead;
  none when the text gives none), casualty figures (the highest), attacker (a party named in
  a kept sentence or the headline) with its quote, and the sentences as evidence.

Every name is the English one (a ``Place`` named "Kharkiv" for "Харкові"); the quotes
(``mention``, ``evidence``) keep the article's own text.
"""

from __future__ import annotations

from datetime import datetime, timezone

from spacy.tokens import Doc, Span

from strikewatch.models import Article, Casualties, Event, EventTime, EventType, Modality, Place, Span as TextSpan

from ..components.base import Keys, SpanIndex, sentences
from ..events import ACLED_SUBTYPE, CAMEO
from .components import BROAD, GENERIC, NEGATIVES
from .relevance import EVENT_TYPES, Candidate, log1p

# Types by how specific the word is: a drone named beside a "strike" makes a drone strike.
TYPE_PRIORITY = ("drone_strike", "air_strike", "missile_attack", "shelling")
# A generic strike word ("удар", "frappe", "هجوم") with no weapon in its sentence or article.
DEFAULT_TYPE = "missile_attack"
# Sentences that are the lead: the headline and the body's first two.
LEAD_SENTENCES = 3
# Sentences after a strike sentence that still report its toll ("Загинули двоє людей.").
CONTINUATION_SENTENCES = 2


def _index(doc: Doc, key: str) -> SpanIndex:
    return SpanIndex(doc.spans[key] if key in doc.spans else [])


def sentence_type(triggers: list[Span], weapons: list[Span], doc_weapons: list[Span]) -> str:
    """The strike type a sentence names: its typed strike words, else its weapons, else the article's."""
    for pool in ([t.label_ for t in triggers if t.label_ != GENERIC], [w.id_ for w in weapons if w.id_],
                 [w.id_ for w in doc_weapons if w.id_]):
        typed = [t for t in TYPE_PRIORITY if t in pool]
        if typed:
            return typed[0]
    return DEFAULT_TYPE


def candidates(doc: Doc) -> list[Candidate]:
    """One candidate per sentence holding a strike word."""
    trig = _index(doc, Keys.TRIGGERS)
    if not trig.spans:
        return []
    idx = {k: _index(doc, k) for k in (Keys.WEAPONS, Keys.PLACES, Keys.TIMES, Keys.CASUALTIES, Keys.ACTORS, NEGATIVES)}
    doc_weapons = idx[Keys.WEAPONS].spans
    n_neg = len(idx[NEGATIVES].spans)
    out = []
    for k, sent in enumerate(s for s in sentences(doc) if s.text.strip()):
        ts = trig.within(sent.start_char, sent.end_char)
        if not ts:
            continue
        within = {key: ix.within(sent.start_char, sent.end_char) for key, ix in idx.items()}
        typ = sentence_type(ts, within[Keys.WEAPONS], doc_weapons)
        places = within[Keys.PLACES]
        feats = [
            *(float(typ == t) for t in EVENT_TYPES),
            float(all(t.label_ == GENERIC for t in ts)),
            float(all(t.id_ == BROAD for t in ts)),
            float(bool(within[Keys.WEAPONS])),
            float(any(p._.sw_place.precision != "country" for p in places)),
            float(any(p._.sw_place.precision == "country" for p in places)),
            float(bool(within[Keys.TIMES])),
            float(bool(within[Keys.CASUALTIES])),
            float(bool(within[Keys.ACTORS])),
            float(bool(within[NEGATIVES])),
            log1p(n_neg),
            float(k < LEAD_SENTENCES),
            log1p(len(sent)),
            log1p(len(trig.spans)),
        ]
        lead_ws = len(sent.text) - len(sent.text.lstrip())
        text = sent.text.strip()
        out.append(Candidate(sent.start_char + lead_ws, sent.start_char + lead_ws + len(text), text, typ, feats))
    return out


def _spans_in(doc: Doc, key: str, ranges: list[tuple[int, int]]) -> list[Span]:
    ix = _index(doc, key)
    return [s for a, b in ranges for s in ix.within(a, b)]


def lead_ranges(doc: Doc) -> list[tuple[int, int]]:
    sents = [s for s in sentences(doc) if s.text.strip()][:LEAD_SENTENCES]
    return [(s.start_char, s.end_char) for s in sents]


def event_places(doc: Doc, kept: list[tuple[int, int]], attacker_country: str | None) -> list[Place]:
    """Where the strike landed: the towns of its sentences, else of the lead; then the
    countries they name, the attacker's own last (a Russian strike on Kharkiv is in Ukraine)."""
    towns, countries = [], []
    for ranges in (kept, lead_ranges(doc), [(0, len(doc.text))]):
        for s in _spans_in(doc, Keys.PLACES, ranges):
            p = s._.sw_place
            (countries if p.precision == "country" else towns).append(p)
        if towns:
            break
    seen, out = set(), []
    for p in sorted(towns, key=lambda p: p.country_code == attacker_country) + \
            sorted(countries, key=lambda p: p.country_code == attacker_country):
        if p.name not in seen:
            seen.add(p.name)
            out.append(p)
    town_countries = {p.country_code for p in out if p.precision != "country"}
    # A country is kept when no town already places the strike in it or elsewhere.
    return [p for p in out if p.precision != "country" or not town_countries] if town_countries else out


def event_time(doc: Doc, kept: list[tuple[int, int]]) -> EventTime:
    for ranges in (kept, lead_ranges(doc)):
        times = _spans_in(doc, Keys.TIMES, ranges)
        if times:
            return min(times, key=lambda s: s.start_char)._.sw_time
    return EventTime()


def continued(doc: Doc, kept: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The kept sentences and the ``CONTINUATION_SENTENCES`` after each."""
    sents = [s for s in sentences(doc) if s.text.strip()]
    out = set(kept)
    for a, _b in kept:
        k = next((j for j, s in enumerate(sents) if s.start_char <= a < s.end_char), None)
        if k is not None:
            out.update((s.start_char, s.end_char) for s in sents[k + 1:k + 1 + CONTINUATION_SENTENCES])
    return sorted(out)


def event_casualties(doc: Doc, kept: list[tuple[int, int]]) -> Casualties:
    found = [s._.sw_casualties for s in _spans_in(doc, Keys.CASUALTIES, continued(doc, kept)) if s._.sw_casualties]
    if not found:
        return Casualties()
    killed = max((c.killed for c in found if c.killed is not None), default=None)
    injured = max((c.injured for c in found if c.injured is not None), default=None)
    evidence = next((c.evidence for c in found if c.killed == killed and killed is not None), found[0].evidence)
    return Casualties(killed=killed, injured=injured, statement="reported", evidence=evidence)


def event_attacker(doc: Doc, kept: list[tuple[int, int]]):
    title = lead_ranges(doc)[:1]
    for ranges in (kept, title):
        actors = [s._.sw_actor for s in _spans_in(doc, Keys.ACTORS, ranges) if s._.sw_actor]
        if actors:
            return actors[0]
    return None


def event_weapons(doc: Doc, kept: list[tuple[int, int]], typ: str):
    ws = [s._.sw_weapon for s in _spans_in(doc, Keys.WEAPONS, kept) if s._.sw_weapon]
    seen: set[str] = set()
    plats, muns = [], []
    for w in ws:
        if w.name in seen:
            continue
        seen.add(w.name)
        (plats if w.kind == "platform" else muns).append(w)
    if typ == "drone_strike":
        muns = [m for m in muns if m.category not in ("bomb",)]
    return plats, muns


def to_event(doc: Doc, article: Article, kept: list[tuple[Candidate, float]], lang: str) -> Event:
    """One event of the kept candidate sentences, ``(candidate, probability)``, best first."""
    best = kept[0][0]
    ranges = sorted((c.start, c.end) for c, _p in kept)
    typ = EventType(best.type)
    attacker = event_attacker(doc, ranges)
    places = event_places(doc, ranges, attacker.country if attacker else None)
    plats, muns = event_weapons(doc, ranges, best.type)
    first_trig = min((t for t in doc.spans[Keys.TRIGGERS] if best.start <= t.start_char < best.end), key=lambda t: t.start_char)
    conf = max(p for _c, p in kept)
    return Event(
        id=Event.make_id(article.id, typ.value, first_trig.start_char, first_trig.end_char), article_id=article.id, source=article.source,
        event_type=typ, modality=Modality.ASSERTED, acled_sub_event_type=ACLED_SUBTYPE[typ], cameo_code=CAMEO[typ],
        attacker=attacker, attackers=[attacker] if attacker else [], places=places, time=event_time(doc, ranges),
        platforms=plats, munitions=muns, casualties=event_casualties(doc, ranges),
        evidence=[TextSpan(text=article.text[a:b], start=a, end=b) for a, b in ranges],
        confidence=round(float(min(1.0, max(0.0, conf))), 4), article_published_at=article.published_at,
        extracted_at=datetime.now(timezone.utc), language=lang,
    )

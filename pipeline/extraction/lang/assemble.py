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

import re
from datetime import UTC, datetime

from spacy.tokens import Doc, Span

from strikewatch.core.models import Article, Casualties, Event, EventTime, EventType, Modality, Place
from strikewatch.core.models import Span as TextSpan

from ..assemble.event import ACLED_SUBTYPE, CAMEO
from ..assemble.mentions import HISTORICAL_AFTER_DAYS
from ..components.base import Keys, SpanIndex, doc_text, sentences
from .components import BROAD, GENERIC, NEGATIVES
from .relevance import EVENT_TYPES, FEATURES, Candidate, log1p

FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}

# Types by how specific the word is: a drone named beside a "strike" makes a drone strike.
TYPE_PRIORITY = ("drone_strike", "air_strike", "missile_attack", "shelling")
# A generic strike word ("удар", "frappe", "هجوم") with no weapon in its sentence or article.
DEFAULT_TYPE = "missile_attack"
# Sentences that are the lead: the headline and the body's first two.
LEAD_SENTENCES = 3
# Weight of a place mention in the vote for the strike's country, by where it stands: the
# best kept sentence, the headline, the other kept sentences, the lead, the rest.
PLACE_WEIGHTS = (4.0, 3.0, 1.0, 1.0, 0.3)
ATTACKER_COUNTRY_WEIGHT = 0.3
# Candidate sentences per article the model scores, and the characters of each it embeds:
# e5 on one core here (load 5 on 2 cores) took 100/123/151/269 ms for the first 100/200/
# 300/400 characters of a text, and multilingual_dev's articles have 3.9 candidates on
# average (up to 40): extract_native took 403 ms per article with every candidate at 1,000
# characters. The lead and sentences with a precise strike word go first; a sentence not
# scored is not kept.
MAX_CANDIDATES = 3
CANDIDATE_CHARS = 300
# Sentences after a strike sentence that still report its toll ("Загинули двоє людей.").
CONTINUATION_SENTENCES = 2


def _index(doc: Doc, key: str) -> SpanIndex:
    return SpanIndex(doc.spans.get(key, []))


def sentence_type(triggers: list[Span], weapons: list[Span], doc_weapons: list[Span]) -> str:
    """The strike type a sentence names: its typed strike words, else its weapons, else the article's."""
    for pool in (
        [t.label_ for t in triggers if t.label_ != GENERIC],
        [w.id_ for w in weapons if w.id_],
        [w.id_ for w in doc_weapons if w.id_],
    ):
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
            float(any(is_historical(t._.sw_time, doc) for t in within[Keys.TIMES])),
            float(all(is_infinitive(t, doc.lang_) for t in ts)),
        ]
        lead_ws = len(sent.text) - len(sent.text.lstrip())
        text = sent.text.strip()
        out.append(
            Candidate(
                sent.start_char + lead_ws, sent.start_char + lead_ws + len(text), text[:CANDIDATE_CHARS], typ, feats
            )
        )
    lead, broad = FEATURE_INDEX["lead"], FEATURE_INDEX["broad"]
    ranked = sorted(range(len(out)), key=lambda i: (-out[i].features[lead], out[i].features[broad], i))[:MAX_CANDIDATES]
    return [out[i] for i in sorted(ranked)]


# Infinitives of strike verbs: a strike threatened, planned or called for ("грозит ударить",
# "призвал разрешить атаковать", "menace de frapper", "amenaza con atacar"), not reported.
_INFINITIVE = {
    "ru": re.compile(r"(?:ть|ти|ться|тись)$"),
    "uk": re.compile(r"(?:ти|тися|ть)$"),
    "fr": re.compile(r"(?:er|ir)$"),
    "es": re.compile(r"(?:ar|er|ir)$"),
}


def is_infinitive(trig: Span, lang: str) -> bool:
    rx = _INFINITIVE.get(lang)
    return bool(rx and rx.search(trig[0].lower_))


def is_historical(t: EventTime | None, doc: Doc) -> bool:
    """A date over ``HISTORICAL_AFTER_DAYS`` before the article: background, not news."""
    pub = doc.user_data.get("sw_published")
    return bool(t and t.date and pub is not None and (pub.date() - t.date).days > HISTORICAL_AFTER_DAYS)


def _spans_in(doc: Doc, key: str, ranges: list[tuple[int, int]]) -> list[Span]:
    ix = _index(doc, key)
    return [s for a, b in ranges for s in ix.within(a, b)]


def lead_ranges(doc: Doc) -> list[tuple[int, int]]:
    sents = [s for s in sentences(doc) if s.text.strip()][:LEAD_SENTENCES]
    return [(s.start_char, s.end_char) for s in sents]


def event_places(doc: Doc, kept: list[tuple[int, int]], attacker_country: str | None) -> list[Place]:
    """Where the strike landed, by a vote of the place names around it: each mention votes
    for its country with the weight of where it stands (``PLACE_WEIGHTS``: the best kept
    sentence, the other kept ones, the lead, the rest of the text); the attacker's own
    country counts ``ATTACKER_COUNTRY_WEIGHT`` as much (a Russian strike on Kharkiv is in
    Ukraine). The places are the towns and divisions of the winning country, most
    weighted first, else the country itself; none when the text names no place."""
    regions = [kept[:1], lead_ranges(doc)[:1], kept[1:], lead_ranges(doc), [(0, len(doc_text(doc)))]]
    weight_of: dict[int, float] = {}
    for w, ranges in zip(PLACE_WEIGHTS, regions):
        for s in _spans_in(doc, Keys.PLACES, ranges):
            weight_of.setdefault(s.start_char, w)
    spans = {s.start_char: s for s in doc.spans.get(Keys.PLACES, []) if s.start_char in weight_of}
    votes: dict[str, float] = {}
    for at, s in spans.items():
        cc = s._.sw_place.country_code
        if cc:
            votes[cc] = votes.get(cc, 0.0) + weight_of[at] * (
                ATTACKER_COUNTRY_WEIGHT if cc == attacker_country else 1.0
            )
    if not votes:
        return []
    country = max(votes, key=votes.get)
    mine = sorted(
        (s for s in spans.values() if s._.sw_place.country_code == country),
        key=lambda s: (-weight_of[s.start_char], s.start_char),
    )
    out, seen = [], set()
    for s in mine:
        p = s._.sw_place
        if p.precision != "country" and p.name not in seen:
            seen.add(p.name)
            out.append(p)
    if not out:
        out = [next(s._.sw_place for s in mine)]
    return out


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
            out.update((s.start_char, s.end_char) for s in sents[k + 1 : k + 1 + CONTINUATION_SENTENCES])
    return sorted(out)


def event_casualties(doc: Doc, kept: list[tuple[int, int]]) -> Casualties:
    found = [s._.sw_casualties for s in _spans_in(doc, Keys.CASUALTIES, continued(doc, kept)) if s._.sw_casualties]
    if not found:
        return Casualties()
    killed = max((c.killed for c in found if c.killed is not None), default=None)
    injured = max((c.injured for c in found if c.injured is not None), default=None)
    evidence = next((c.evidence for c in found if c.killed == killed and killed is not None), found[0].evidence)
    return Casualties(killed=killed, injured=injured, statement="reported", evidence=evidence)


# Words between a strike noun and the party that made it when that party follows it: none
# ("удар ВСУ", "غارات إسرائيلية", "frappes israéliennes", "ataque ruso": a genitive or an
# adjective), or a preposition of origin ("frappe de l'armée", "ataque del ejército").
_AGENT_LINKS = {"fr": ("de", "d'", "des", "du", "de la"), "es": ("de", "del", "de la")}


def _agent_after(doc: Doc, trig: Span, actor: Span) -> bool:
    """Is the party right after a strike word its maker (not its target)?"""
    between = doc_text(doc)[trig.end_char : actor.start_char].strip().lower()
    return between == "" or between in _AGENT_LINKS.get(doc.lang_, ())


def event_parties(doc: Doc, kept: list[tuple[int, int]]):
    """(attacker, targets): in a kept sentence (best first), a party named before the strike
    word is its attacker ("Росія завдала удару", "l'armée israélienne a frappé"), one named
    after it its target ("по ЗСУ", "contre les Houthis"); the headline's party before its
    strike word is the attacker when no sentence names one."""
    trig = _index(doc, Keys.TRIGGERS)
    actors = _index(doc, Keys.ACTORS)
    attacker, targets = None, []
    for a, b in [*kept, *lead_ranges(doc)[:1]]:
        ts = trig.within(a, b)
        if not ts:
            continue
        first = min(ts, key=lambda t: t.start_char)
        for s in actors.within(a, b):
            actor = s._.sw_actor
            if actor is None:
                continue
            if s.end_char <= first.start_char or _agent_after(doc, first, s):
                attacker = attacker or actor
            elif (a, b) in kept and all(t.name != actor.name for t in targets):
                targets.append(actor)
        if attacker is not None:
            break
    targets = [t for t in targets if attacker is None or t.name != attacker.name]
    return attacker, targets


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
    attacker, targets = event_parties(doc, [(c.start, c.end) for c, _p in kept])
    places = event_places(doc, [(c.start, c.end) for c, _p in kept], attacker.country if attacker else None)
    plats, muns = event_weapons(doc, ranges, best.type)
    first_trig = min(
        (t for t in doc.spans[Keys.TRIGGERS] if best.start <= t.start_char < best.end), key=lambda t: t.start_char
    )
    conf = max(p for _c, p in kept)
    time = event_time(doc, ranges)
    return Event(
        id=Event.make_id(article.id, typ.value, first_trig.start_char, first_trig.end_char),
        article_id=article.id,
        source=article.source,
        event_type=typ,
        modality=Modality.HISTORICAL if is_historical(time, doc) else Modality.ASSERTED,
        acled_sub_event_type=ACLED_SUBTYPE[typ],
        cameo_code=CAMEO[typ],
        attacker=attacker,
        attackers=[attacker] if attacker else [],
        targets=targets,
        places=places,
        time=time,
        platforms=plats,
        munitions=muns,
        casualties=event_casualties(doc, ranges),
        evidence=[TextSpan(text=article.text[a:b], start=a, end=b) for a, b in ranges],
        confidence=round(float(min(1.0, max(0.0, conf))), 4),
        article_published_at=article.published_at,
        extracted_at=datetime.now(UTC),
        language=lang,
    )

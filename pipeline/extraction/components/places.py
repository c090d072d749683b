"""``strike_places``: where things happened -> ``doc.spans["sw_places"]``, and the
countries the text is about -> ``doc._.sw_context``.

Country context, strongest first: admin areas named in the text, then GPE/LOC entities,
then where the named armed groups fight, then demonyms, then the home states of named
state forces. It picks among same-named villages.

Places, per sentence: spaCy GPE/LOC/FAC entities after a preposition, "in/near/outside
(the town of) X" phrases and ACLED's bracketed names, geocoded in context; "X, Country"
constrains X to that country. The wire dateline is no place of the story. Skipped:
whose-not-where ("US personnel in Iraq"), actor names, unknown acronyms, weekdays.
A nationality adjective ("Iranian") locates only when nothing else in the sentence
does (``span._.sw_demonym``). Label = precision; ``span._.sw_place`` is the ``Place``.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.models import Place, Span as TextSpan

from .. import lexicon
from . import _geo
from ..facts.parties.actors import table as actor_table
from .base import Keys, SpanIndex, char_span, doc_text, sentences, set_group

DIRECTIONS = r"(?:eastern|western|northern|southern|central|north|south|east|west|north-?eastern|north-?western|south-?eastern|south-?western)"
_ARTICLES = r"(?:al|el|ad|ar|as|an|at|ash|az)"
PLACE_PHRASE_RE = re.compile(
    r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|inside|into|over|and|shelled|bombed|struck|targeted|"
    r"pounded|hit|attacked|(?:north|south|east|west|north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+of)\s+(?:the\s+)?"
    r"(?:(?:\w+\s+)?(?:village|town|city|area|areas|district|outskirts|vicinity|countryside|region|province|governorate|neighbou?rhood|camp|"
    r"mountain|frontline|forest|valley|hill|road|limits)s?\s+of\s+)?"
    r"(?P<name>(?:" + DIRECTIONS + r"\s+)?(?:" + _ARTICLES + r"[- ])?[A-Z][\w'’]+(?:[- –](?:(?:" + _ARTICLES
    + r"|de|du|la|le|imeni|bin|ibn)[- ])?[A-Z][\w'’]+){0,3}(?:[- ]\d+(?:/\d+)?)?(?:\s+border(?:\s+(?:region|area))?)?)"
)
LOC_PREP_RE = re.compile(r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|inside|into|over|against|from|of the|"
                         r"border|and)\s+(?:the\s+)?(?:\w+\s+){0,2}$", re.I)
# A country name followed by one of these is whose forces/people/things they are,
# not where the event happened ("US personnel in Iraq", "Iranian-backed militias").
OWNER_NOUN_RE = re.compile(
    r"\s*(?:personnel|troops|forces|military|bases?|diplomats|officials|soldiers|Air Force|warplanes|jets|drones?|-backed|-led|"
    r"special (?:operations|forces)|units?|service ?members|servicemen|Navy|Army|Marines|embassy|citizens|commanders|aircraft|warships?|"
    r"-made|-trained|-supplied|pilots|advisers|advisors|instructors|mercenaries|crews?|contractors)\b")
DEMONYM_ADJ_RE = re.compile(r"[A-Z][a-z]+(?:an|i|ese|ish|ch)")
ARABIC_ARTICLE_RE = re.compile(r"^" + _ARTICLES + r"[- ]", re.I)
# ACLED's bracketed location ("[Aqabat Thirah]"): capitalised words only, so editorial
# brackets ("[word indistinct]", "[the militants]") are not places.
BRACKET_PLACE_RE = re.compile(r"\[(?P<name>[A-Z][\w'’.-]*(?:[ -](?:(?:al|el|ad|ar|as|an|at|ash|az|de|du|la|le|bin|ibn)[ -])?[A-Z][\w'’.-]*){0,5})\]")
CAPITALISED_RUN_RE = re.compile(r"[A-Z][\w'’-]+(?: (?:al-|el-)?[A-Z][\w'’-]+)*")
PARENTHESES_RE = re.compile(r"\(([^()]{3,60})\)")
NOT_PLACES = frozenset({
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "The", "A", "An", "On", "In", "It", "This", "That", "These", "Mr", "Ms",
    "OSCE", "SMM", "NAF", "GNA", "LNA", "Pentagon", "Congress", "Senate", "President", "Defense", "State", "Secretary", "General", "Air Force",
    "And", "But", "Or", "Of", "For", "With", "By", "At", "As", "To", "From", "Presidential", "Presidency", "Government",
})
# Most specific first; unresolved names (villages GeoNames lacks) rank with towns,
# before admin areas: ACLED's location is the village. Districts (admin2) rank with them,
# as they did while the gazetteer did not know districts and left them unresolved.
PRECISION_RANK = {"point": 0, "city": 1, "unknown": 1, "admin2": 1, "admin1": 3, "border_region": 4, "region": 5,
                  "country": 6}


def country_context(doc: Doc) -> list[str]:
    """ISO2 codes of the countries the text is about, strongest evidence first."""
    text = doc_text(doc)
    written = doc.user_data.get("sw_text", text)
    dl = _geo.dateline(written)
    # The dateline says where the reporter files from; its own words ("HAVANA (CUBA), ...")
    # are not what the story is about.
    story_from = (_geo.dateline_end(written) or 0) if dl else 0
    gpe: dict[str, int] = {}
    norp: list[str] = []
    for ent in doc.ents:
        if ent.label_ in ("GPE", "NORP", "LOC") and ent.start_char >= story_from:
            hit = _geo.country_of(ent.text)
            if not hit:
                continue
            if ent.label_ == "NORP":
                if hit[1] not in norp:
                    norp.append(hit[1])
            elif not OWNER_NOUN_RE.match(text, ent.end_char):  # "U.S. embassy", "U.S. pilots": whose, not where
                gpe[hit[1]] = gpe.get(hit[1], 0) + 1
    # The country named most often first (first named among equals): "refugees who had
    # been in Honduras" once does not outrank the story's El Salvador, named three times.
    gpe_ranked = sorted(gpe, key=lambda iso: -gpe[iso])
    actors = [s._.sw_actor for s in doc.spans.get(Keys.ACTORS, [])]
    theatres = [lexicon.THEATRE.get(a.name) or (a.country if a.type in ("rebel", "militia_proxy", "terrorist") else None) for a in actors]
    homes = [a.country for a in actors if a.country and a.type == "state_military"]
    # Not the countries of named towns: geocoded without context they are homonyms as often
    # as not ("Elenovka" is also Sevan's old name), ACLED dev country accuracy 0.983 -> 0.963.
    # The dateline's is sure ("SAN SALVADOR, 3 JAN 90 (RADIO ...) --"): after the countries named.
    dateline_iso = [dl[1].country_code] if dl and dl[1].country_code else []
    context = list(dict.fromkeys(c for c in gpe_ranked + dateline_iso + theatres + norp + homes if c))
    admin: list[str] = []

    def add_admin(name: str, kinds: tuple[str, ...]) -> None:
        a = _geo.alias(name)
        if a and a["kind"] in kinds and a["iso"] and a["iso"] not in admin:
            admin.append(a["iso"])

    for m in PLACE_PHRASE_RE.finditer(text):
        add_admin(m.group("name"), ("admin1", "admin2", "city", "region"))
    for m in CAPITALISED_RUN_RE.finditer(text):
        add_admin(m.group(0), ("admin1", "admin2", "region"))
    for m in PARENTHESES_RE.finditer(text):
        for part in m.group(1).split(","):
            add_admin(part, ("admin1", "admin2", "city", "region"))
    return admin + [c for c in context if c not in admin]


def find_places(text: str, base: int, ents: list[tuple[int, str]], context: list[str]) -> list[tuple[Place, bool]]:
    """(Place, is_demonym) of every place mention in one sentence, in text order.
    ``ents``: the sentence's GPE/LOC/FAC entities as (start relative to it, text)."""
    names: list[tuple[int, str]] = []
    for pos, ent_text in ents:
        # Only capitalised names ("rifle fire", "towns and villages" tagged GPE in sentence-cased
        # wire text are words, not Rifle, Colorado), and only after a preposition: "The United
        # States carried out", "Democrat of Virginia" are not where it happened.
        if not ent_text[:1].isupper():
            continue
        if LOC_PREP_RE.search(text[max(0, pos - 40):pos]) and not re.search(r"\b(?:Democrat|Republican|Senator|Governor) of\s+$", text[max(0, pos - 30):pos]):
            names.append((pos, ent_text))
    for r in (BRACKET_PLACE_RE, PLACE_PHRASE_RE):
        for m in r.finditer(text):
            names.append((m.start("name"), m.group("name")))
    g = actor_table()
    out: list[tuple[Place, bool]] = []
    seen_at: set[tuple[int, str]] = set()
    for pos, name in sorted(names):
        owner_noun = OWNER_NOUN_RE.match(text, pos + len(name))
        raw, name = name, re.sub(r"^(?:the)\s+", "", name.strip(), flags=re.I).rstrip(".,;")
        pos += max(0, raw.find(name))  # the mention's offsets are those of the name itself
        key = _geo.norm(name)
        demonym = bool(DEMONYM_ADJ_RE.fullmatch(ARABIC_ARTICLE_RE.sub("", name))) and _geo.demonym_iso(name) is not None
        if owner_noun and not demonym:
            continue  # "US personnel in Iraq", "US special operations units": whose, not where
        if not key or (pos, key) in seen_at or name in NOT_PLACES or name.split()[0] in NOT_PLACES:
            continue
        if g.is_actor_name(name) or _DESIGNATOR_RE.search(name) or weapon_names().fullmatch(name.split()[0]):
            continue  # an actor or an aircraft/weapon designator ("F-4 2020", "Su-25"), not a place
        if name.isupper() and len(name) <= 5 and _geo.geocode(name) is None:
            continue  # an unknown acronym ("STC-controlled") is a group, not a place
        seen_at.add((pos, key))
        mention = TextSpan(text=name, start=base + pos, end=base + pos + len(name))
        country = explicit_country(text, pos + len(name))
        if country is not None:
            # "in Dhahran, Southern Saudi Arabia": the country the text gives wins over context.
            p = _geo.geocode(name, country=country, mention=mention) or _geo.unresolved(name, country, mention)
            out.append((p, demonym))
            continue
        p = _geo.geocode(name, context=context, mention=mention)
        if p is None and re.match(DIRECTIONS + r"\s+", name, re.I):
            inner = _geo.geocode(re.sub("^" + DIRECTIONS + r"\s+", "", name, flags=re.I), context=context, mention=mention)
            if inner is not None:
                p = inner.model_copy(update={"name": name, "precision": "region" if inner.precision == "country" else inner.precision})
        if p is None and all(_geo.country_of(w) for w in re.split(r"[-–\s]+", re.sub(r"\s+border.*$", "", name)) if w):
            continue  # "Iraqi-Syrian" alone: demonyms, not a place
        if p is None:
            # An unknown capitalised name after "in/near": likely a village or district.
            p = _geo.unresolved(name, context[0] if context else None, mention)
        out.append((p, demonym))
    # A nationality adjective locates only when nothing else does: "attacks on Iraqi
    # bases" happened in Iraq, but "struck an Iranian weapons depot near Albu Kamal"
    # happened in Syria.
    if any(not d for _p, d in out):
        out = [(p, d) for p, d in out if not d]
    return out


# "F-16", "Su-25", "MQ-9", "T-72": letters, a hyphen and digits name a weapon, not a place.
_DESIGNATOR_RE = re.compile(r"\b[A-Z]{1,3}/?[A-Z]?-\d+\w*\b")
# ", Country" or ", Southern Country" right after a place name.
_COMMA_COUNTRY_RE = re.compile(r",\s+(?:(?i:" + DIRECTIONS + r")\s+)?(?P<country>[A-Z][\w'’]+(?:[ -][A-Z][\w'’]+){0,3})")


def weapon_names() -> re.Pattern:
    from ..facts.weapons.component import tables

    return tables()[0][1]


def explicit_country(text: str, end: int) -> str | None:
    """ISO2 of a country written right after a place name ("Dhahran, Southern Saudi Arabia")."""
    m = _COMMA_COUNTRY_RE.match(text, end)
    if not m:
        return None
    words = m.group("country").split()
    for n in range(len(words), 0, -1):  # the longest run of words that is a country's name, not a demonym
        phrase = " ".join(words[:n])
        hit = _geo.country_of(phrase)
        if hit and _geo.is_country(phrase):  # "Turkey" is both (attributive "Turkey-backed"): a country
            return hit[1]
    return None


def rank_places(places: list[Place], sentence_text: str) -> list[Place]:
    """Most specific first; ACLED's own bracketed name ("[Aqabat Thirah]") first of all."""
    bracketed = {_geo.norm(m.group("name")) for m in BRACKET_PLACE_RE.finditer(sentence_text)}
    return sorted(places, key=lambda p: (0 if _geo.norm(p.name) in bracketed else 1, PRECISION_RANK.get(p.precision, 9),
                                         p.mention.start if p.mention else 0))


class PlaceFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        context = country_context(doc)
        doc._.sw_context = context
        ents = SpanIndex([e for e in doc.ents if e.label_ in ("GPE", "LOC", "FAC")])
        # The wire dateline ("KABUL, Afghanistan (Reuters) -") says where the reporter is:
        # places the story names win over it, so its own mention is no place of an event.
        dl = _geo.dateline(doc.user_data.get("sw_text", doc_text(doc)))
        dl_span = (dl[0].start, dl[0].end) if dl else (-1, -1)
        spans = []
        for sent in sentences(doc):
            base = sent.start_char
            sent_ents = [(e.start_char - base, e.text) for e in ents.within(base, sent.end_char) if e.end_char <= sent.end_char]
            for place, demonym in find_places(sent.text, base, sent_ents, context):
                m = place.mention
                if m is not None and m.start < dl_span[1] and dl_span[0] < m.end:
                    continue
                span = char_span(doc, m.start, m.end, label=place.precision) if m else None
                if span is not None:
                    span._.sw_place = place
                    span._.sw_demonym = demonym
                    spans.append(span)
        set_group(doc, Keys.PLACES, spans)
        return doc


@Language.factory("strike_places", assigns=["doc.spans"], requires=["doc.spans"])
def make_place_finder(nlp: Language, name: str) -> PlaceFinder:
    return PlaceFinder(nlp, name)

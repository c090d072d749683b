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

from strikewatch.core.models import Place
from strikewatch.core.models import Span as TextSpan

from ... import lexicon
from ...components.base import Keys, SpanIndex, char_span, doc_text, sentences, set_group
from ..parties.actors import table as actor_table
from . import lookups as _geo

DIRECTIONS = (
    r"(?:eastern|western|northern|southern|central|north|south|east|west|north-?eastern|"
    r"north-?western|south-?eastern|south-?western)"
)
_ARTICLES = r"(?:al|el|ad|ar|as|an|at|ash|az)"
PLACE_PHRASE_RE = re.compile(
    r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|inside|into|over|and|"
    r"shelled|bombed|struck|targeted|"
    r"pounded|hit|attacked|(?:north|south|east|west|north-?east|north-?west|south-?east|"
    r"south-?west)(?:ern)?\s+of)\s+(?:the\s+)?"
    r"(?:(?:\w+\s+)?(?:village|town|city|area|areas|district|outskirts|vicinity|countryside|region|"
    r"province|governorate|neighbou?rhood|camp|"
    r"mountain|frontline|forest|valley|hill|road|limits)s?\s+of\s+)?"
    r"(?P<name>(?:"
    + DIRECTIONS
    + r"\s+)?(?:"
    + _ARTICLES
    + r"[- ])?[A-Z][\w'’]+(?:[- –](?:(?:"
    + _ARTICLES
    + r"|de|du|la|le|imeni|bin|ibn)[- ])?[A-Z][\w'’]+){0,3}(?:[- ]\d+(?:/\d+)?)?(?:\s+border(?:\s+(?:region|area))?)?)"
)
LOC_PREP_RE = re.compile(
    r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|"
    r"inside|into|over|against|from|of the|"
    r"border|and)\s+(?:the\s+)?(?:\w+\s+){0,2}$",
    re.I,
)
# A country name followed by one of these is whose forces/people/things they are,
# not where the event happened ("US personnel in Iraq", "Iranian-backed militias").
OWNER_NOUN_RE = re.compile(
    r"\s*(?:personnel|troops|forces|military|bases?|diplomats|officials|soldiers|Air Force|warplanes|jets|"
    r"drones?|-backed|-led|"
    r"special (?:operations|forces)|units?|service ?members|servicemen|Navy|Army|Marines|embassy|citizens|"
    r"commanders|aircraft|warships?|"
    r"(?:air ?|drone |missile |rocket )?strikes?|airstrikes?|shelling|bombing|bombardment|missiles?|rockets?|"
    r"artillery|shells|"
    r"-made|-trained|-supplied|pilots|advisers|advisors|instructors|mercenaries|crews?|contractors|"
    # "Russia's defence ministry", "Israel's army", "Ukraine's air force": whose, not where.
    r"['’]s\s+(?:(?:defen[cs]e|foreign|interior)\s+ministry|ministry|army|military|armed forces|forces|troops|"
    r"air force|navy|"
    r"government|president|officials?|spokes(?:man|woman|person)|envoy|ambassador|leaders?|war|invasion))\b"
)
DEMONYM_ADJ_RE = re.compile(r"[A-Z][a-z]+(?:an|i|ese|ish|ch)")
ARABIC_ARTICLE_RE = re.compile(r"^" + _ARTICLES + r"[- ]", re.I)
# ACLED's bracketed location ("[Aqabat Thirah]"): capitalised words only, so editorial
# brackets ("[word indistinct]", "[the militants]") are not places.
BRACKET_PLACE_RE = re.compile(
    r"\[(?P<name>[A-Z][\w'’.-]*(?:[ -](?:(?:al|el|ad|ar|as|an|at|ash|az|de|du|la|le|"
    r"bin|ibn)[ -])?[A-Z][\w'’.-]*){0,5})\]"
)
CAPITALISED_RUN_RE = re.compile(r"[A-Z][\w'’-]+(?: (?:al-|el-)?[A-Z][\w'’-]+)*")
PARENTHESES_RE = re.compile(r"\(([^()]{3,60})\)")
NOT_PLACES = frozenset(
    {
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
        "The",
        "A",
        "An",
        "On",
        "In",
        "It",
        "This",
        "That",
        "These",
        "Mr",
        "Ms",
        "OSCE",
        "SMM",
        "NAF",
        "GNA",
        "LNA",
        "Pentagon",
        "Congress",
        "Senate",
        "President",
        "Defense",
        "State",
        "Secretary",
        "General",
        "Air Force",
        "And",
        "But",
        "Or",
        "Of",
        "For",
        "With",
        "By",
        "At",
        "As",
        "To",
        "From",
        "Presidential",
        "Presidency",
        "Government",
    }
)
# Most specific first; unresolved names (villages GeoNames lacks) rank with towns,
# before admin areas: ACLED's location is the village. Districts (admin2) rank with them,
# as they did while the gazetteer did not know districts and left them unresolved.
PRECISION_RANK = {
    "point": 0,
    "city": 1,
    "unknown": 1,
    "admin2": 1,
    "admin1": 3,
    "border_region": 4,
    "region": 5,
    "country": 6,
}


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
    towns: list[str] = []
    for ent in doc.ents:
        if ent.label_ in ("GPE", "NORP", "LOC") and ent.start_char >= story_from:
            hit = _geo.country_of(ent.text)
            if not hit:
                town = _geo.big_city_country(ent.text) if ent.label_ == "GPE" else None
                if town and town not in towns and not FACILITY_AFTER_RE.match(text, ent.end_char):
                    towns.append(town)  # "Gaza City", "Khan Yunis": a big city names its country
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
    theatres = [
        lexicon.THEATRE.get(a.name) or (a.country if a.type in ("rebel", "militia_proxy", "terrorist") else None)
        for a in actors
    ]
    homes = [a.country for a in actors if a.country and a.type == "state_military"]
    # Not the countries of named towns: geocoded without context they are homonyms as often
    # as not ("Elenovka" is also Sevan's old name), ACLED dev country accuracy 0.983 -> 0.963.
    # The dateline's is sure ("SAN SALVADOR, 3 JAN 90 (RADIO ...) --"): after the countries named.
    dateline_iso = [dl[1].country_code] if dl and dl[1].country_code else []
    context = list(dict.fromkeys(c for c in gpe_ranked + dateline_iso + theatres + norp + homes if c))
    # Where it can have happened: countries named as places, the dateline's, the theatres of
    # the armed groups named; not nationalities ("Russian forces", "Israeli jets"), which say
    # who fired, not where munitions fell.
    where = list(dict.fromkeys(c for c in gpe_ranked + dateline_iso + towns + theatres if c))
    admin: list[str] = []
    areas: list[str] = []

    def add_admin(name: str, kinds: tuple[str, ...]) -> None:
        a = _geo.alias(name)
        if a and a["kind"] in kinds and a["iso"]:
            if a["iso"] not in admin:
                admin.append(a["iso"])
            if a["kind"] in ("admin1", "admin2") and a["canonical"] not in areas:
                areas.append(a["canonical"])

    for m in PLACE_PHRASE_RE.finditer(text):
        add_admin(m.group("name"), ("admin1", "admin2", "city", "region"))
    for m in CAPITALISED_RUN_RE.finditer(text):
        add_admin(m.group(0), ("admin1", "admin2", "region"))
    for m in PARENTHESES_RE.finditer(text):
        for part in m.group(1).split(","):
            add_admin(part, ("admin1", "admin2", "city", "region"))
    doc.user_data["sw_areas"] = areas  # provinces/districts named: they pick among same-named villages
    doc.user_data["sw_where"] = where = admin + [c for c in where if c not in admin]
    # Same-named places are picked by where the text says things are before whose forces
    # it names ("Rafah" in a report about Israeli strikes on Gaza is the Gaza one).
    return where + [c for c in admin + context if c not in where]


# What may follow a place name and say where it is: ", Donetsk", " (Marib)", " in Idleb",
# " district (Sanaa)", ", Kunar province". Only a qualifier that is itself a known
# province, district, region or country counts (``_geo.is_area``).
_KIND_WORD = r"(?:district|village|town|city|area|province|governorate|region|oblast|raion|rayon|county|municipality)"
QUALIFIER_RE = re.compile(
    r"(?P<kind>\s+" + _KIND_WORD + r")?"
    r"(?:\s*,\s*(?:(?i:the)\s+)?(?P<comma>[A-Z][\w'’-]+(?:[ -](?:(?:al|el|ad|ar|as|an|at|ash|"
    r"az)[ -])?[A-Z][\w'’-]+){0,2})"
    r"|\s*\((?P<paren>[A-Z][^()]{1,60})\)"
    r"|\s+(?:in|of)\s+(?:the\s+)?(?:" + _KIND_WORD + r"\s+of\s+)?"
    r"(?P<inside>[A-Z][\w'’-]+(?:[ -](?:(?:al|el|ad|ar|as|an|at|ash|az)[ -])?[A-Z][\w'’-]+){0,2}))"
)


def qualified_name(text: str, end: int, name: str) -> tuple[str, int] | None:
    """ "X, Donetsk" / "X district (Marib)" / "X in Idleb" as one string ``geocode`` reads
    ("X, Donetsk", "X district (Marib)") and where the qualifier ends, when the text
    qualifies the name at ``end``."""
    m = QUALIFIER_RE.match(text, end)
    if not m:
        return None
    kind = (m.group("kind") or "").strip()
    full = f"{name} {kind}".strip()
    if m.group("paren"):
        parts = [x.strip() for x in m.group("paren").split(",")]
        return (f"{full} ({m.group('paren')})", m.end()) if any(_geo.is_area(x) for x in parts) else None
    q = m.group("comma") or m.group("inside")
    if not _geo.is_area(q):
        return None
    return f"{full}, {q}", m.end()


def find_places(
    text: str,
    base: int,
    ents: list[tuple[int, str]],
    context: list[str],
    areas: list[str] | None = None,
    where: list[str] | None = None,
) -> list[tuple[Place, bool]]:
    """(Place, is_demonym) of every place mention in one sentence, in text order.
    ``ents``: the sentence's GPE/LOC/FAC entities as (start relative to it, text);
    ``areas``: provinces/districts the text names (they pick among same-named villages).
    A qualifier right after the name ("X, Donetsk", "X district (Marib)", "X in Idleb")
    locates it first; an unknown name keeps its text with precision "unknown" and no point."""
    areas = areas or []
    where = context if where is None else where
    names: list[tuple[int, str]] = []
    for pos, ent_text in ents:
        # Only capitalised names ("rifle fire", "towns and villages" tagged GPE in sentence-cased
        # wire text are words, not Rifle, Colorado), and only after a preposition: "The United
        # States carried out", "Democrat of Virginia" are not where it happened.
        if not ent_text[:1].isupper():
            continue
        if LOC_PREP_RE.search(text[max(0, pos - 40) : pos]) and not re.search(
            r"\b(?:Democrat|Republican|Senator|Governor) of\s+$", text[max(0, pos - 30) : pos]
        ):
            names.append((pos, ent_text))
    for r in (BRACKET_PLACE_RE, PLACE_PHRASE_RE):
        for m in r.finditer(text):
            names.append((m.start("name"), m.group("name")))
    g = actor_table()
    out: list[tuple[Place, bool]] = []
    seen_at: set[tuple[int, str]] = set()
    qualifier_until = -1  # the end of the last qualifier read ("X, Donetsk"): no place of its own
    for pos, name in sorted(names):
        if pos < qualifier_until:
            continue
        owner_noun = OWNER_NOUN_RE.match(text, pos + len(name))
        if FACILITY_AFTER_RE.match(text, pos + len(name)):
            continue  # "Al Quds hospital", "Kuwait roundabout": a building's name, not a place
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
        # "the Ukrainian city of Dnipro": a nationality takes no qualifier; the name after it is the place.
        qualified = None if demonym else qualified_name(text, pos + len(name), name)
        p = _geo.geocode(qualified[0], context=context, mention=mention, areas=areas) if qualified else None
        if p is not None and p.precision == "country":
            p = None  # the qualifier was only a country: read the name itself below
        if p is not None:
            qualifier_until = qualified[1]
        else:
            p = _geo.geocode(name, context=context, mention=mention, areas=areas)
        if p is None and where != context:
            # Only nationalities ruled a town out ("Israeli warplanes ... Khan Yunis"): read it
            # by the countries named as places alone (none: its primary name worldwide).
            p = _geo.geocode(name, context=where, mention=mention, areas=areas)
        if p is not None and p.name != name and p.geonameid is None and p.precision != "country" and qualified:
            p = p.model_copy(update={"name": name})
        if p is None and re.match(DIRECTIONS + r"\s+", name, re.I):
            inner = _geo.geocode(
                re.sub("^" + DIRECTIONS + r"\s+", "", name, flags=re.I), context=context, mention=mention
            )
            if inner is not None:
                p = inner.model_copy(
                    update={"name": name, "precision": "region" if inner.precision == "country" else inner.precision}
                )
        if p is None and all(_geo.country_of(w) for w in re.split(r"[-–\s]+", re.sub(r"\s+border.*$", "", name)) if w):
            continue  # "Iraqi-Syrian" alone: demonyms, not a place
        if p is None:
            # An unknown capitalised name after "in/near": likely a village or district.
            if not LOCATIVE_BEFORE_RE.search(text[max(0, pos - 40) : pos]):
                continue  # "on Facebook", "by Shehab": a source, not where it happened
            p = _geo.unresolved(name, where[0] if where else None, mention)
        out.append((p, demonym))
    # A nationality adjective locates only when nothing else does: "attacks on Iraqi
    # bases" happened in Iraq, but "struck an Iranian weapons depot near Albu Kamal"
    # happened in Syria.
    if any(not d for _p, d in out):
        out = [(p, d) for p, d in out if not d]
    return out


# A name right before one of these names a building, a street or a family, not a place of
# that name ("Al Quds hospital" is in Gaza, not Jerusalem; "Kuwait roundabout", "Salah
# al-Din mosque", "the Al-Sharif family home"). Camps and neighbourhoods are places.
FACILITY_AFTER_RE = re.compile(
    r"\s+(?:hospitals?|mosques?|schools?|street|road|roundabout|stadium|university|cemetery|church|market|"
    r"bridge|square|"
    r"junction|tower|building|clinic|cent(?:er|re)|hotel|station|bakery|hall|college|institute|club|company|factory|"
    r"family|families|residence|house|home|news|agency|network|channel|radio|tv|television)\b",
    re.I,
)
# An unknown name is a place only after a locative word ("in/near/at X", "shelled X"):
# "posted on Facebook", "reported by Shehab", "from Airwars" are sources, not places.
LOCATIVE_BEFORE_RE = re.compile(
    r"\b(?:in|near|at|outside|around|inside|into|towards?|across|between|over|of|and|shelled|bombed|struck|targeted|"
    r"pounded|hit|attacked)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,3}$",
    re.I,
)
# "F-16", "Su-25", "MQ-9", "T-72": letters, a hyphen and digits name a weapon, not a place.
_DESIGNATOR_RE = re.compile(r"\b[A-Z]{1,3}/?[A-Z]?-\d+\w*\b")
# ", Country" or ", Southern Country" right after a place name.
_COMMA_COUNTRY_RE = re.compile(
    r",\s+(?:(?i:" + DIRECTIONS + r")\s+)?(?P<country>[A-Z][\w'’]+(?:[ -][A-Z][\w'’]+){0,3})"
)


def weapon_names() -> re.Pattern:
    from ..weapons.component import tables

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
    return sorted(
        places,
        key=lambda p: (
            0 if _geo.norm(p.name) in bracketed else 1,
            PRECISION_RANK.get(p.precision, 9),
            p.mention.start if p.mention else 0,
        ),
    )


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
            sent_ents = [
                (e.start_char - base, e.text) for e in ents.within(base, sent.end_char) if e.end_char <= sent.end_char
            ]
            for place, demonym in find_places(
                sent.text, base, sent_ents, context, doc.user_data.get("sw_areas"), doc.user_data.get("sw_where")
            ):
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

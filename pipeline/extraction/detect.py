"""Strike and drone-attack events from one spaCy doc: pure functions, no IO.

How an article becomes events:

1. **Mentions.** Each sentence is scanned for strike triggers (``lexicon.TRIGGERS``:
   air strike, drone strike, missile/rocket attack, shelling). A sentence with two kinds
   ("airstrikes against militias that carried out drone strikes") yields one mention of each.
2. **Modality.** A mention is negated (``neg`` dependent on its verb), denied,
   threatened, hypothetical (conditional/modal/future clause) or historical (its time
   ends more than ``HISTORICAL_AFTER_DAYS`` before the article date, or background
   wording such as "previous strikes"); otherwise asserted.
3. **Attributes** from the sentence: attacker (actor before the trigger, or the
   demonym of the striking force), targets (actors after "on/against/targeting"),
   target kinds, places (spaCy GPE/LOC/FAC entities, "in/near X" phrases, geocoded),
   time (``timeparse``), platforms, munitions with payload, counts, casualties,
   attribution ("..., the Pentagon said"), de-escalation wording.
4. **Merge.** Mentions of one type and modality whose times and places are compatible
   are one real-world strike: their attributes are unioned, evidence spans kept.
5. **Provocation.** A state strike on an actor that the article also reports as
   attacking (drone/missile/rocket) the striking state gets ``provoked_by`` links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from strikewatch.models import (
    Actor, Article, Attribution, Casualties, Event, EventTime, EventType, Modality, Place, Span, Weapon,
)

from . import geocode, lexicon, timeparse

# A mention whose time ends this many days before the article date is background,
# not news. 30 days: "in recent weeks"/"since April" reports (ongoing campaigns the
# article is about) stay events; "in late February" in a June article is history.
HISTORICAL_AFTER_DAYS = 30
# Two mentions merge only if their dates are at most this many days apart (a strike
# reported as "early Monday" and "on Sunday night" US time is one strike).
MERGE_MAX_DAYS = 1
# Sentences after a strike sentence that can still add its weapons and casualties
# ("The fighter-bombers dropped ...", "There were no immediate reports of casualties"):
# 3 covers a lead paragraph split by the quote of who said so.
CONTINUATION_SENTENCES = 3

ACLED_SUBTYPE = {
    EventType.AIR_STRIKE: "Air/drone strike",
    EventType.DRONE_STRIKE: "Air/drone strike",
    EventType.MISSILE_ATTACK: "Shelling/artillery/missile attack",
    EventType.SHELLING: "Shelling/artillery/missile attack",
    EventType.OTHER_VIOLENCE: "Armed clash",
}
# CAMEO: 195 employ aerial weapons; 194 fight with artillery and tanks; 190 use
# conventional military force (other).
CAMEO = {EventType.AIR_STRIKE: "195", EventType.DRONE_STRIKE: "195", EventType.MISSILE_ATTACK: "194", EventType.SHELLING: "194", EventType.OTHER_VIOLENCE: "190"}
STRIKE_PRIORITY = [EventType.DRONE_STRIKE, EventType.AIR_STRIKE, EventType.MISSILE_ATTACK, EventType.SHELLING]

TARGET_KIND_RES = [
    ("facility", re.compile(r"\b(?:facilit(?:y|ies)|sites?|depots?|warehouses?|storage|structures?|buildings?|headquarters|compound|ammunition|weapons? (?:store|cache)s?|launch(?:ing)? (?:site|pad)s?|factory|plant)\b", re.I)),
    ("base", re.compile(r"\b(?:bases?|air ?base|airport|airfield|garrison|military post|checkpoint|outpost)\b", re.I)),
    ("convoy", re.compile(r"\bconvoys?\b", re.I)),
    ("vehicle", re.compile(r"\b(?:vehicles?|trucks?|tanks?|motorbikes?|pick-?ups?|tricycles?|boats?)\b", re.I)),
    ("personnel", re.compile(r"\b(?:personnel|troops|soldiers|fighters|militants|positions|members|gunmen|diplomats)\b", re.I)),
    ("civilian", re.compile(r"\b(?:civilians?|residential|village(?:s|rs)?|homes?|houses?|market|school|hospital)\b", re.I)),
    ("infrastructure", re.compile(r"\b(?:power (?:plant|station)|bridge|port|oil (?:field|facility)|pipeline|grid)\b", re.I)),
]
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1, "several": None, "multiple": None}
TARGET_COUNT_RE = re.compile(r"\b(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+)?(?:targets|sites|facilities|structures|locations|positions|buildings)\b", re.I)
STRIKE_COUNT_RE = re.compile(r"\b(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten|a series of)\s+(?:\w+\s+)?(?:air ?strikes|airstrikes|raids|strikes|drone strikes|sorties)\b", re.I)
TIMES_RE = re.compile(r"\b(?:at least\s+)?(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+times\b", re.I)
SPONSOR_RE = re.compile(r"\b(?P<who>Iran(?:ian)?|Turk(?:ish|ey)|Russia(?:n)?|Saudi|US|U\.S\.|American|Emirati|UAE)[- ](?:backed|supported|sponsored|aligned|allied)\b", re.I)
GENERIC_MILITIA_RE = re.compile(r"\b(?:(?P<sponsor>Iran(?:ian)?|Turk(?:ish|ey)|Russia(?:n)?|Saudi)[- ](?:backed|supported|aligned)\s+)(?:proxy\s+)?(?:militias?|militiamen|proxies|proxy forces|groups?)\b", re.I)
SPONSOR_ISO = {"iran": "IR", "iranian": "IR", "turkish": "TR", "turkey": "TR", "russia": "RU", "russian": "RU", "saudi": "SA", "us": "US", "u.s.": "US", "american": "US", "emirati": "AE", "uae": "AE"}
DIRECTIONS = r"(?:eastern|western|northern|southern|central|north|south|east|west|north-?eastern|north-?western|south-?eastern|south-?western)"
PLACE_PHRASE_RE = re.compile(
    r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|inside|into|over|and|shelled|bombed|struck|targeted|pounded|hit|attacked|(?:north|south|east|west|north-?east|north-?west|south-?east|south-?west)(?:ern)?\s+of)\s+(?:the\s+)?(?:(?:\w+\s+)?(?:village|town|city|area|areas|district|outskirts|vicinity|countryside|region|province|governorate|neighbou?rhood|camp|mountain|frontline|forest|valley|hill|road|limits)s?\s+of\s+)?"
    r"(?P<name>(?:" + DIRECTIONS + r"\s+)?(?:(?:al|el|ad|ar|as|an|at|ash|az)[- ])?[A-Z][\w'’]+(?:[- –](?:(?:al|el|ad|ar|as|an|at|ash|az|de|du|la|le|imeni|bin|ibn)[- ])?[A-Z][\w'’]+){0,3}(?:[- ]\d+(?:/\d+)?)?(?:\s+border(?:\s+(?:region|area))?)?)"
)
LOC_PREP_RE = re.compile(r"\b(?:in|near|at|on|outside|around|targeting|towards|toward|between|across|inside|into|over|against|from|of the|border|and)\s+(?:the\s+)?(?:\w+\s+){0,2}$", re.I)
# A country name followed by one of these is whose forces/people/things they are,
# not where the event happened ("US personnel in Iraq", "Iranian-backed militias").
OWNER_NOUN_RE = re.compile(
    r"\s*(?:personnel|troops|forces|military|bases?|diplomats|officials|soldiers|Air Force|warplanes|jets|drones?|-backed|-led|"
    r"special (?:operations|forces)|units?|service ?members|servicemen|Navy|Army|Marines|embassy|citizens|commanders|aircraft|warships?|"
    r"-made|-trained|-supplied)\b")
# A lone nationality adjective ("Iranian", "Iraqi", "Lebanese"): PLACE_PHRASE_RE's
# Arabic-article prefix also matches English "an"/"as"/"at" before one.
DEMONYM_ADJ_RE = re.compile(r"[A-Z][a-z]+(?:an|i|ese|ish|ch)")
ARABIC_ARTICLE_RE = re.compile(r"^(?:al|el|ad|ar|as|an|at|ash|az)[- ]", re.I)
BRACKET_PLACE_RE = re.compile(r"\[(?P<name>[A-Z][^\[\]]{2,40})\]")
NOT_PLACES = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December", "The", "A", "An", "On", "In", "It", "This", "That", "These", "Mr", "Ms",
    "OSCE", "SMM", "NAF", "GNA", "LNA", "Pentagon", "Congress", "Senate", "President", "Defense", "State", "Secretary", "General", "Air Force",
}


@dataclass
class Mention:
    type: EventType
    sent: Span
    trigger: Span
    modality: Modality
    attacker: Actor | None = None
    targets: list[Actor] = field(default_factory=list)
    target_kinds: list[str] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    time: EventTime | None = None
    platforms: list[Weapon] = field(default_factory=list)
    munitions: list[Weapon] = field(default_factory=list)
    strike_count: int | None = None
    target_count: int | None = None
    casualties: Casualties | None = None
    attributions: list[Attribution] = field(default_factory=list)
    cues: list[Span] = field(default_factory=list)
    extra_evidence: list[Span] = field(default_factory=list)
    weak: bool = False  # "the strikes": a reference to a strike already reported


# --------------------------------------------------------------------------- small helpers


def _num(word: str | None) -> int | None:
    if word is None:
        return None
    w = word.lower().strip()
    if w.isdigit():
        return int(w)
    return lexicon.NUM_WORDS.get(w, COUNT_WORDS.get(w))


def _span(text: str, start: int, end: int, base: int) -> Span:
    return Span(text=text[start:end], start=base + start, end=base + end)


class Gazetteer:
    """Compiled regexes over the lexicon tables (built once per process)."""

    def __init__(self) -> None:
        self.actor_info: dict[str, tuple[str, str, str | None, str | None]] = {}
        alts = []
        for aliases, canonical, typ, country, sponsor in lexicon.ACTORS:
            for a in aliases:
                self.actor_info[a.lower()] = (canonical, typ, country, sponsor)
                alts.append(a)
        alts.sort(key=len, reverse=True)
        # Short all-caps acronyms (IS, KH, SNA) must match case-sensitively; names
        # match in any case ("Al shabaab").
        acr = [a for a in alts if a.isupper() and len(a) <= 5]
        names = [a for a in alts if a not in acr]
        self.actor_re = re.compile(
            r"(?<![\w-])(?:(?:" + "|".join(re.escape(a) for a in acr) + r")|(?i:" + "|".join(re.escape(a) for a in names) + r"))(?![\w-])"
        )
        demonyms = sorted(set(geocode.index().demonym_names), key=len, reverse=True)
        self.demonym_iso = {geocode.norm(n): geocode.index().aliases[geocode.norm(n)]["iso"] for n in demonyms}
        nouns = sorted(lexicon.FORCE_NOUNS, key=len, reverse=True)
        self.force_re = re.compile(
            r"(?<![\w-])(?P<dem>" + "|".join(re.escape(d) for d in demonyms) + r")(?![\w])(?:[- ]led)?\s+(?:(?:military|government|regime|armed|air|security|coalition|special|rebel|fighter|war)\s+)?(?P<noun>" + "|".join(re.escape(n) for n in nouns) + r")\b",
            re.I,
        )
        self.platform_info, self.platform_re = _alias_table(lexicon.PLATFORMS)
        self.munition_info, self.munition_re = _alias_table(lexicon.MUNITION_NAMES)


def _alias_table(rows) -> tuple[dict[str, tuple[str, str]], re.Pattern]:
    """(alias lower-cased -> (canonical, category), one case-insensitive regex of all
    aliases, longest first) from lexicon rows of (aliases, canonical, category)."""
    info: dict[str, tuple[str, str]] = {}
    for aliases, canonical, category in rows:
        for a in aliases:
            info[a.lower()] = (canonical, category)
    alts = sorted({a for aliases, _c, _k in rows for a in aliases}, key=len, reverse=True)
    return info, re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in alts) + r")(?![\w-])", re.I)


_GAZ: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    global _GAZ
    if _GAZ is None:
        _GAZ = Gazetteer()
    return _GAZ


# --------------------------------------------------------------------------- attribute extraction


def find_actors(text: str, base: int) -> list[tuple[int, Actor]]:
    """Actors in a sentence with their position (relative to the sentence)."""
    g = gazetteer()
    out: list[tuple[int, int, Actor]] = []
    for m in g.actor_re.finditer(text):
        canonical, typ, country, sponsor = g.actor_info[m.group(0).lower()]
        sp = SPONSOR_RE.search(text, max(0, m.start() - 25), m.start())
        if sp:
            sponsor = SPONSOR_ISO.get(sp.group("who").lower(), sponsor)
        out.append((m.start(), m.end(), Actor(name=canonical, type=typ, country=country, sponsor=sponsor, mentions=[_span(text, m.start(), m.end(), base)])))
    for m in GENERIC_MILITIA_RE.finditer(text):
        iso = SPONSOR_ISO.get(m.group("sponsor").lower())
        out.append((m.start(), m.end(), Actor(name=f"{geocode.country_name(iso) or m.group('sponsor')}-backed militias", type="militia_proxy", sponsor=iso,
                                             mentions=[_span(text, m.start(), m.end(), base)])))
    named = [(s, e) for s, e, _a in out]
    for m in g.force_re.finditer(text):
        iso = g.demonym_iso.get(geocode.norm(m.group("dem")))
        if not iso or any(s < m.end() and m.start() < e for s, e in named):
            continue  # a named actor wins: "Saudi-led coalition airstrikes" is the coalition
        name = geocode.country_name(iso) or m.group("dem")
        if re.search(r"-led", m.group(0), re.I) and "coalition" in m.group(0).lower():
            name = f"{name}-led coalition"
        out.append((m.start(), m.end(), Actor(name=name, type="state_military", country=iso, mentions=[_span(text, m.start(), m.end(), base)])))
    # Overlapping hits: keep the longest.
    out.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    kept: list[tuple[int, Actor]] = []
    last_end = -1
    for s, e, a in out:
        if s >= last_end:
            kept.append((s, a))
            last_end = e
    return kept


def _munition_count(word: str | None) -> int | None:
    """"seven 500-pound bombs" -> 7; "several"/"multiple" say no number, so None
    (casualty counts map "several" to ACLED's convention; a munition count does not)."""
    word = (word or "").strip()
    return None if not word or word.lower() in ("several", "multiple") else _num(word)


def find_weapons(text: str, base: int) -> tuple[list[Weapon], list[Weapon]]:
    g = gazetteer()
    platforms: dict[str, Weapon] = {}
    munitions: dict[str, Weapon] = {}
    for m in g.platform_re.finditer(text):
        canonical, category = g.platform_info[m.group(0).lower()]
        platforms.setdefault(canonical, Weapon(name=canonical, kind="platform", category=category, mention=_span(text, m.start(), m.end(), base)))
    covered: list[tuple[int, int]] = []
    for m in lexicon.MUNITION_RE.finditer(text):
        lb = int(m.group("weight").replace(",", ""))
        desc = (m.group("desc") or "").strip().lower()
        guidance = re.sub(r"[-\s]?guided", "", desc).strip() or None if "guided" in desc else None
        noun = m.group("noun").lower().rstrip("s")
        name = f"{lb:,}-pound {desc + ' ' if desc else ''}{noun}".replace("  ", " ")
        munitions.setdefault(name, Weapon(name=name, kind="munition", category="bomb" if noun in ("bomb", "jdam") else noun, payload_lb=lb,
                                          guidance=(guidance + "-guided") if guidance else None, count=_munition_count(m.group("count")),
                                          mention=_span(text, m.start(), m.end(), base)))
        covered.append(m.span())
    for m in g.munition_re.finditer(text):
        if any(s <= m.start() < e for s, e in covered):
            continue
        canonical, category = g.munition_info[m.group(0).lower()]
        if canonical == "bomb" and any(w.payload_lb for w in munitions.values()):
            continue
        munitions.setdefault(canonical, Weapon(name=canonical, kind="munition", category=category, mention=_span(text, m.start(), m.end(), base)))
    # A generic platform word is dropped when a specific one names the same thing.
    specific = [p for p in platforms.values() if p.name not in ("warplane", "fighter jet", "drone", "helicopter", "fighter-bomber")]
    if specific:
        platforms = {k: v for k, v in platforms.items() if v in specific or v.category == "uav" and not any(s.category == "uav" for s in specific)}
    return list(platforms.values()), list(munitions.values())


def find_casualties(text: str, base: int) -> Casualties | None:
    m = lexicon.NO_IMMEDIATE_RE.search(text)
    if m:
        return Casualties(statement="no_immediate_reports", killed=None, injured=None, evidence=_span(text, m.start(), m.end(), base))
    killed = injured = None
    ev = None
    for r in lexicon.KILLED_RES:
        for m in r.finditer(text):
            n = _num(m.group("n"))
            if n is not None:
                killed = (killed or 0) + n if killed is not None and r is not lexicon.KILLED_RES[2] else (n if killed is None else max(killed, n))
                ev = ev or _span(text, m.start(), m.end(), base)
            break
        if killed is not None:
            break
    for r in lexicon.INJURED_RES:
        m = r.search(text)
        if m and _num(m.group("n")) is not None:
            injured = _num(m.group("n"))
            ev = ev or _span(text, m.start(), m.end(), base)
            break
    split = lexicon.SPLIT_RE.search(text)
    if killed is not None and split:
        killed = killed // max(1, int(split.group("k")))
    if killed is not None or injured is not None:
        return Casualties(killed=killed, injured=injured, statement="reported", evidence=ev)
    m = lexicon.NO_CASUALTIES_RE.search(text)
    if m:
        return Casualties(killed=0, injured=0, statement="none", evidence=_span(text, m.start(), m.end(), base))
    return None


REPORTING_RE = re.compile(r"\b(?:said|says|statement|told|according to|announced|confirmed)\b", re.I)


def find_attributions(text: str, base: int, sent: Span, doc_sent=None) -> list[Attribution]:
    out = []
    if doc_sent is not None and REPORTING_RE.search(text):
        for ent in doc_sent.ents:
            if ent.label_ == "PERSON" and len(ent.text.split()) >= 2 and not gazetteer().actor_re.fullmatch(ent.text):
                out.append(Attribution(source=ent.text.strip(), role="reported", quote=sent))
    for m in lexicon.ATTRIBUTION_RE.finditer(text):
        src = re.sub(r"^the\s+", "", m.group("src"), flags=re.I).strip()
        out.append(Attribution(source=src, role="reported", quote=sent))
    if lexicon.CLAIM_RE.search(text):
        out.append(Attribution(source="claimant", role="claimed", quote=sent))
    return out


def find_places(doc_sent, text: str, base: int, context: list[str], dedupe: bool = True) -> list[Place]:
    """Places named in one sentence, most specific first. ``dedupe=False`` keeps every
    mention of a name, so that with two attacks in one sentence each can take the
    mention nearest its own trigger ("airstrikes in Iraq and Syria against militias
    that carried out drone strikes against US personnel in Iraq")."""
    names: list[tuple[int, str]] = []
    for ent in doc_sent.ents:
        if ent.label_ in ("GPE", "LOC", "FAC"):
            pos = ent.start_char - doc_sent.start_char
            # Only after a preposition: "The United States carried out", "Democrat of
            # Virginia" are not where it happened.
            if LOC_PREP_RE.search(text[max(0, pos - 40):pos]) and not re.search(r"\b(?:Democrat|Republican|Senator|Governor) of\s+$", text[max(0, pos - 30):pos]):
                names.append((pos, ent.text))
    for r in (BRACKET_PLACE_RE, PLACE_PHRASE_RE):
        for m in r.finditer(text):
            names.append((m.start("name"), m.group("name")))
    seen: set[str] = set()
    places: list[Place] = []
    weak: list[Place] = []
    g = gazetteer()
    for pos, name in sorted(names):
        owner_noun = OWNER_NOUN_RE.match(text, pos + len(name))
        raw, name = name, re.sub(r"^(?:the)\s+", "", name.strip(), flags=re.I).rstrip(".,;")
        pos += max(0, raw.find(name))  # the mention's offsets are those of the name itself
        key = geocode.norm(name)
        demonym = bool(DEMONYM_ADJ_RE.fullmatch(ARABIC_ARTICLE_RE.sub("", name))) and key in g.demonym_iso
        if owner_noun and not demonym:
            continue  # "US personnel in Iraq", "US special operations units": whose, not where
        if not key or key in seen or name in NOT_PLACES or name.split()[0] in NOT_PLACES:
            continue
        if g.actor_re.fullmatch(name) or name.lower() in g.actor_info:
            continue
        if name.isupper() and len(name) <= 5 and geocode.geocode(name) is None:
            continue  # an unknown acronym ("STC-controlled") is a group, not a place
        if dedupe:
            seen.add(key)
        mention = Span(text=name, start=base + pos, end=base + pos + len(name))
        p = geocode.geocode(name, context=context, mention=mention)
        if p is None and re.match(DIRECTIONS + r"\s+", name, re.I):
            inner = geocode.geocode(re.sub("^" + DIRECTIONS + r"\s+", "", name, flags=re.I), context=context, mention=mention)
            if inner is not None:
                p = inner.model_copy(update={"name": name, "precision": "region" if inner.precision == "country" else inner.precision})
        if p is None and all(geocode.country_of(w) for w in re.split(r"[-–\s]+", re.sub(r"\s+border.*$", "", name)) if w):
            continue  # "Iraqi-Syrian" alone: demonyms, not a place
        if p is None:
            # An unknown capitalised name after "in/near": likely a village or district.
            iso = context[0] if context else None
            p = geocode.unresolved(name, iso, mention)
        (weak if demonym else places).append(p)
    # A nationality adjective locates only when nothing else does: "attacks on Iraqi
    # bases" happened in Iraq, but "struck an Iranian weapons depot near Albu Kamal"
    # happened in Syria.
    places = places or weak
    # Most specific first; unresolved names (villages GeoNames lacks) rank with
    # towns, before admin areas: ACLED's location is the village. ACLED's own
    # bracketed name ("[Aqabat Thirah]") wins.
    rank = {"point": 0, "city": 1, "unknown": 1, "admin1": 3, "border_region": 4, "region": 5, "country": 6}
    bracketed = {geocode.norm(m.group("name")) for m in BRACKET_PLACE_RE.finditer(text)}
    return sorted(places, key=lambda p: (0 if geocode.norm(p.name) in bracketed else 1, rank.get(p.precision, 9), p.mention.start if p.mention else 0))


def _unique_places(places) -> list[Place]:
    """First mention of each place name, order kept."""
    seen: set[str] = set()
    out = []
    for p in places:
        key = geocode.norm(p.name)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def target_kinds(text: str) -> list[str]:
    return [k for k, r in TARGET_KIND_RES if r.search(text)]


def modality_of(sent, text: str, trig_start: int, trig_end: int, t: EventTime | None, ref: date | None) -> Modality:
    before = text[:trig_start]
    clause = text[max(0, trig_start - 80): trig_end + 40]
    if lexicon.DENIAL_RE.search(clause):
        return Modality.DENIED
    # Dependency check: the trigger's verb carries a negation.
    tok = None
    for tk in sent:
        if tk.idx - sent.start_char >= trig_start:
            tok = tk
            break
    if tok is not None:
        head = tok
        for _ in range(3):
            if head.pos_ in ("VERB", "AUX") or head.head is head:
                break
            head = head.head
        if any(c.dep_ == "neg" for c in head.children):
            return Modality.NEGATED
        if any(c.dep_ == "aux" and c.lower_ in ("will", "would", "could", "might", "may", "should", "shall") for c in head.children):
            return Modality.HYPOTHETICAL
    if re.search(r"\b(?:if|unless|whether)\b[^.;]*$", before, re.I) or re.match(r"\s*If\b", text):
        return Modality.HYPOTHETICAL
    if lexicon.THREAT_RE.search(text[max(0, trig_start - 60):trig_start]):
        return Modality.THREATENED
    if re.search(r"\b(?:options?|plans? for|planning|planners|ordered the use of force|approved the strike)\b", before, re.I) and not re.search(r"\b(?:carried out|conducted|launched|struck|dropped)\b", text, re.I):
        return Modality.HYPOTHETICAL
    if t is not None and ref is not None:
        end = t.end.date() if t.end else (t.date if t.date else None)
        if end is not None and (ref - end).days > HISTORICAL_AFTER_DAYS:
            return Modality.HISTORICAL
    if re.search(r"\b(?:previous|earlier) (?:strikes?|airstrikes?|attacks?)\b|\bThese previous\b|\b(?:had taken place|had been carried out)\b", text, re.I):
        return Modality.HISTORICAL
    return Modality.ASSERTED


def _best_time(times: list[EventTime]) -> EventTime | None:
    if not times:
        return None
    order = {"hour": 0, "part_of_day": 1, "day": 2, "week": 3, "month": 4, "year": 5, "unknown": 6}
    dated = [t for t in times if t.date is not None]
    best = min(times, key=lambda t: order[t.precision])
    if best.precision == "hour" and dated:
        # A bare clock time takes its day from the dated expression next to it.
        day = min(dated, key=lambda t: order[t.precision])
        if day.date != best.date and best.start is not None:
            shift = datetime.combine(day.date, datetime.min.time(), tzinfo=timezone.utc) - datetime.combine(best.date, datetime.min.time(), tzinfo=timezone.utc)
            best = best.model_copy(update={"date": day.date, "start": best.start + shift, "end": best.end + shift if best.end else None})
    return best


# --------------------------------------------------------------------------- mentions -> events


def _sentence_mentions(doc, sent, article_text: str, ref: date | None, context: list[str], carry: dict, last_type: EventType | None,
                       reported: frozenset = frozenset()) -> list[Mention]:
    base = sent.start_char
    text = sent.text
    kinds: list[tuple[EventType, re.Match]] = []
    for et in STRIKE_PRIORITY:
        for r in lexicon.TRIGGER_RES[et.value]:
            m = r.search(text)
            if m:
                kinds.append((et, m))
                break
    weak = False
    if not kinds and last_type is not None:
        m = lexicon.WEAK_STRIKE_RE.search(text)
        if m:
            kinds.append((last_type, m))
            weak = True
    if not kinds:
        return []
    if all(k in (EventType.SHELLING, EventType.MISSILE_ATTACK) for k, _ in kinds) and (lexicon.CLASH_RE.search(article_text) or lexicon.TEAR_GAS_RE.search(text)):
        return []
    # Shelling words inside an IED/grenade report are not a strike.
    if lexicon.IED_RE.search(text) and all(k in (EventType.SHELLING, EventType.MISSILE_ATTACK) for k, _ in kinds) and not re.search(r"\b(?:shell(?:ed|ing)|mortars?|artillery|rockets?)\b", text, re.I):
        return []
    if lexicon.GRENADE_RE.search(text) and all(k == EventType.MISSILE_ATTACK for k, _ in kinds):
        return []
    # An aircraft strike sentence that also names drones as the attack vehicle:
    # "drone strike" wins only if the drone words are the trigger, not the context.
    types = {k for k, _ in kinds}
    if EventType.AIR_STRIKE in types and EventType.SHELLING in types and re.search(r"\bbombard", text, re.I):
        kinds = [k for k in kinds if k[0] != EventType.SHELLING]
    if EventType.MISSILE_ATTACK in types and EventType.SHELLING in types:
        # "fired artillery and rockets" / "missile and artillery": ACLED codes one event.
        kinds = [k for k in kinds if k[0] != EventType.MISSILE_ATTACK]
    found_times = [(Span(text=sp.text, start=sp.start + base, end=sp.end + base),
                    t.model_copy(update={"expression": Span(text=sp.text, start=sp.start + base, end=sp.end + base)}))
                   for sp, t in timeparse.find_times(text, ref)]
    trig_pos = [m.start() for _, m in kinds]

    def _nearest_owner(pos: int) -> int:
        return min(range(len(trig_pos)), key=lambda i: abs(trig_pos[i] - pos))
    platforms, munitions = find_weapons(text, base)
    cas = find_casualties(text, base)
    attrs = find_attributions(text, base, Span(text=text, start=base, end=base + len(text)), sent)
    cues = [_span(text, m.start(), m.end(), base) for m in lexicon.DE_ESCALATION_RE.finditer(text)]
    actors = find_actors(text, base)
    places = find_places(sent, text, base, context, dedupe=len(kinds) == 1)
    tc = max((_num(m.group("n")) or 0 for m in TARGET_COUNT_RE.finditer(text)), default=0) or None
    sc = None
    for m in STRIKE_COUNT_RE.finditer(text):
        sc = _num(m.group("n")) if m.group("n") != "a series of" else None
    tm = TIMES_RE.search(text)
    if sc is None and tm:
        sc = _num(tm.group("n"))
    out = []
    for k_i, (et, m) in enumerate(kinds):
        trig_s, trig_e = m.span()
        # With two kinds of attack in one sentence, each takes the times and places
        # nearest its own trigger.
        my_times = [t for sp, t in found_times if _nearest_owner(sp.start - base) == k_i]
        t_best = _best_time(my_times)
        my_places = _unique_places(p for p in places if p.mention is None or _nearest_owner(p.mention.start - base) == k_i) if len(kinds) > 1 else places
        kinds_t = target_kinds(re.sub(r"civilian casualties", "", text[trig_s:], flags=re.I))
        mod = modality_of(sent, text, trig_s, trig_e, t_best, ref)
        # "these airstrikes", "the latest strikes", "the drone attacks" with no time
        # of their own refer back to a strike of that kind already reported.
        is_weak = weak or ((last_type == et or et in reported) and not my_times and re.search(r"\b(?:these|those|the|this|latest|recent|set of)\s+(?:\w+\s+)?$", text[:trig_s], re.I) is not None)
        attacker = None
        targets: list[Actor] = []
        # Drone attacks in a sentence about an air strike are the other side's.
        # The attacker is the nearest armed actor before the trigger ("8 Taliban
        # militants were killed by Afghan military airstrikes": Afghanistan).
        before = [(pos, a) for pos, a in actors if pos < trig_s and a.type != "unknown"
                  and not re.search(r"\b(?:against|on|targeting|at)\s+(?:\w+\s+){0,4}$", text[:pos], re.I)]
        if before:
            attacker = before[-1][1]
        for pos, actor in actors:
            is_target = pos > trig_s and re.search(r"\b(?:on|against|targeting|at|targeted|hit(?:ting)?|struck|striking)\b", text[trig_s:pos], re.I) is not None
            if pos < trig_s and re.search(r"\b(?:against|on|targeting|at)\s+(?:\w+\s+){0,4}$", text[:pos], re.I):
                is_target = True
            if (pos > trig_s and pos - trig_e < 60 and re.search(r"\b(?:by|from)\s+(?:\w+\s+){0,4}$", text[:pos], re.I)
                    and not re.search(r"\b(?:used|owned|operated|controlled|run|held|backed|supported|claimed|reported|built|made)\s+(?:\w+\s+)?by\s+(?:\w+\s+){0,4}$", text[:pos], re.I)):
                is_target = False
                attacker = attacker or actor
                continue
            if is_target:
                targets.append(actor)
            elif attacker is None and pos < trig_s + 40 and actor.type != "unknown":
                attacker = actor
        if et == EventType.DRONE_STRIKE and any(k == EventType.AIR_STRIKE for k, _ in kinds):
            # "airstrikes against militias that carried out drone strikes against US personnel"
            mil = [a for a in targets if a.type in ("militia_proxy", "rebel", "terrorist")]
            if mil:
                attacker = mil[0]
                targets = [a for _, a in actors if a.type == "state_military" and a is not attacker and a.name != "United States"] or []
                us = re.search(r"\b(?:US|U\.S\.|American)\s+(?:personnel|troops|forces|bases?|diplomats)\b", text[trig_s:])
                if us:
                    targets = [Actor(name="United States", type="state_military", country="US", mentions=[_span(text, trig_s + us.start(), trig_s + us.end(), base)])]
        if et == EventType.AIR_STRIKE and attacker is None and re.search(r"\bUnited States\b|\bU\.?S\.?\b", text[:trig_s]):
            us = re.search(r"\bUnited States\b|\bU\.?S\.?\b", text[:trig_s])
            attacker = Actor(name="United States", type="state_military", country="US", mentions=[_span(text, us.start(), us.end(), base)])
        if attacker is not None and any(a.name == attacker.name for a in targets):
            targets = [a for a in targets if a.name != attacker.name]
        out.append(Mention(
            type=et, sent=Span(text=text, start=base, end=base + len(text)), trigger=_span(text, trig_s, trig_e, base), modality=mod,
            attacker=attacker, targets=targets, target_kinds=kinds_t, places=my_places, time=t_best or (carry.get(et) if mod == Modality.ASSERTED else None), weak=is_weak,
            platforms=[p for p in platforms if (p.category == "uav") == (et == EventType.DRONE_STRIKE) or et != EventType.DRONE_STRIKE and p.category != "uav"],
            munitions=munitions if et != EventType.DRONE_STRIKE else [], strike_count=sc, target_count=tc, casualties=cas, attributions=attrs, cues=cues,
        ))
    return out


def _continue_mention(m: Mention, sent, ref: date | None) -> None:
    """A sentence right after a strike sentence with no trigger of its own ("The
    fighter-bombers dropped 500-pound bombs ...") adds its weapons, counts,
    casualties and cues to that strike."""
    text, base = sent.text, sent.start_char
    platforms, munitions = find_weapons(text, base)
    added = False
    drone = m.type == EventType.DRONE_STRIKE
    for p in platforms:
        if (p.category == "uav") == drone and all(p.name != q.name for q in m.platforms):
            m.platforms.append(p)
            added = True
    if not drone:
        for w in munitions:
            if all(w.name != q.name for q in m.munitions):
                m.munitions.append(w)
                added = True
    tc = max((_num(x.group("n")) or 0 for x in TARGET_COUNT_RE.finditer(text)), default=0) or None
    if tc and (m.target_count or 0) < tc:
        m.target_count = tc
        added = True
    if m.modality == Modality.HISTORICAL and not m.extra_evidence == [] :
        return  # background: only the one sentence right after it belongs to it
    if m.type != EventType.DRONE_STRIKE:
        for _pos, actor in find_actors(text, base):
            if actor.type in ("militia_proxy", "rebel", "terrorist") and all(actor.name != t.name for t in m.targets) and (m.attacker is None or actor.name != m.attacker.name):
                m.targets.append(actor)
                added = True
    cas = find_casualties(text, base)
    if cas is not None and m.casualties is None and m.modality == Modality.ASSERTED:
        m.casualties = cas
        added = True
    cues = [_span(text, x.start(), x.end(), base) for x in lexicon.DE_ESCALATION_RE.finditer(text)]
    if cues:
        m.cues.extend(cues)
        added = True
    if added:
        m.attributions.extend(find_attributions(text, base, Span(text=text, start=base, end=base + len(text)), sent))
        m.extra_evidence.append(Span(text=text, start=base, end=base + len(text)))


def _compatible(a: Mention, b: Mention) -> bool:
    if a.type != b.type and not ({a.type, b.type} <= {EventType.AIR_STRIKE, EventType.DRONE_STRIKE} and False):
        return False
    if (a.modality == Modality.HISTORICAL) != (b.modality == Modality.HISTORICAL):
        return False
    fine = ("hour", "part_of_day", "day")
    if (a.time and b.time and a.time.date and b.time.date and a.time.precision in fine and b.time.precision in fine
            and abs((a.time.date - b.time.date).days) > MERGE_MAX_DAYS):
        return False
    if a.attacker and b.attacker and a.attacker.name != b.attacker.name and a.attacker.type == b.attacker.type == "state_military":
        return False
    ca = {p.country_code for p in a.places if p.country_code}
    cb = {p.country_code for p in b.places if p.country_code}
    if ca and cb and not ca & cb:
        return False
    return True


def _merge_actor_lists(lists: list[list[Actor]]) -> list[Actor]:
    out: dict[str, Actor] = {}
    for lst in lists:
        for a in lst:
            if a.name in out:
                prev = out[a.name]
                out[a.name] = prev.model_copy(update={"mentions": prev.mentions + a.mentions, "sponsor": prev.sponsor or a.sponsor})
            else:
                out[a.name] = a
    # A generic "X-backed militias" is dropped when named militias are there.
    named = [a for a in out.values() if not a.name.endswith("-backed militias")]
    if any(a.type == "militia_proxy" for a in named):
        out = {k: v for k, v in out.items() if not k.endswith("-backed militias")}
    return list(out.values())


def _to_event(article: Article, group: list[Mention], ref: date | None, context: list[str] = ()) -> Event:
    first = group[0]
    attackers = [m.attacker for m in group if m.attacker]
    # Most frequent attacker; named over generic.
    attacker = None
    if attackers:
        counts: dict[str, int] = {}
        for a in attackers:
            counts[a.name] = counts.get(a.name, 0) + (2 if a.type == "state_military" else 1)
        best = max(counts, key=counts.get)
        attacker = _merge_actor_lists([[a for a in attackers if a.name == best]])[0]
    targets = [a for a in _merge_actor_lists([m.targets for m in group]) if not attacker or a.name != attacker.name]
    places: list[Place] = []
    seen = set()
    for m in group:
        for p in m.places:
            k = (p.name, p.country_code)
            if k not in seen:
                seen.add(k)
                places.append(p)
    if attacker is not None and attacker.country:
        # "US bases in Iraq" aside, the striking state's own country is rarely where
        # its strike lands: drop it when other places are known.
        others = [p for p in places if p.country_code != attacker.country]
        if others:
            places = [p for p in places if not (p.country_code == attacker.country and p.precision == "country")]
    state_targets = {a.country for a in targets if a.type == "state_military" and a.country}
    if state_targets and any(p.country_code not in state_targets for p in places):
        # "drone strikes against US personnel in Iraq": the target state is not the place.
        places = [p for p in places if not (p.country_code in state_targets and p.precision == "country")]
    rank = {"point": 0, "city": 1, "unknown": 1, "admin1": 3, "border_region": 4, "region": 5, "country": 6}
    places.sort(key=lambda p: rank.get(p.precision, 9))
    about = [iso for iso in context if iso not in state_targets and not (attacker and iso == attacker.country)] or context
    if not any(p.country for p in places) and about:
        # No place named: the country the text is about, at country precision;
        # preferably not the striking or the targeted state's own ("drone attacks on
        # US personnel" in an article datelined Washington happened elsewhere), unless
        # the text is about no other country (a civil war: "LNA air force targeted GNA
        # positions").
        iso = about[0]
        places.append(Place(name=geocode.country_name(iso) or iso, country=geocode.country_name(iso), country_code=iso,
                            lat=geocode.index().countries.get(iso, {}).get("lat"), lon=geocode.index().countries.get(iso, {}).get("lon"),
                            precision="country"))
    time = _best_time([m.time for m in group if m.time])
    plats: dict[str, Weapon] = {}
    muns: dict[str, Weapon] = {}
    for m in group:
        for p in m.platforms:
            plats.setdefault(p.name, p)
        for w in m.munitions:
            muns.setdefault(w.name, w)
    if any(n not in ("warplane", "fighter jet", "fighter-bomber") for n in plats):
        plats = {k: v for k, v in plats.items() if k not in ("warplane", "fighter jet")}
    if any(w.payload_lb for w in muns.values()):
        muns = {k: v for k, v in muns.items() if v.payload_lb or k not in ("bomb", "missile")}
    cas = [m.casualties for m in group if m.casualties]
    order = {"reported": 0, "no_immediate_reports": 1, "none": 2, "unknown": 3}
    casualties = min(cas, key=lambda c: order[c.statement]) if cas else Casualties()
    attributions: dict[tuple[str, int], Attribution] = {}
    for m in group:
        for a in m.attributions:
            attributions.setdefault((a.source, a.quote.start), a)
    kinds = sorted({k for m in group for k in m.target_kinds}, key=[k for k, _ in TARGET_KIND_RES].index)
    if first.type == EventType.DRONE_STRIKE:
        kinds = [k for k in kinds if k != "facility"] or kinds
    evidence = sorted({s.start: s for m in group for s in [m.sent, *m.extra_evidence]}.values(), key=lambda s: s.start)
    cues = sorted({c.start: c for m in group for c in m.cues}.values(), key=lambda s: s.start)
    tc = max((m.target_count for m in group if m.target_count), default=None)
    sc = max((m.strike_count for m in group if m.strike_count), default=None)
    # Confidence: trigger strength + corroborating attributes, capped at 0.95.
    conf = 0.5 + 0.1 * bool(attacker) + 0.1 * bool(places) + 0.1 * bool(time and time.date) + 0.05 * bool(attributions) + 0.05 * min(len(group) - 1, 2)
    return Event(
        id=Event.make_id(article.id, first.type.value, first.trigger.start, first.trigger.end),
        article_id=article.id, source=article.source, event_type=first.type, modality=first.modality,
        acled_sub_event_type=ACLED_SUBTYPE[first.type], cameo_code=CAMEO[first.type], attacker=attacker, targets=targets,
        target_kinds=kinds, places=places, time=time or EventTime(), platforms=list(plats.values()), munitions=list(muns.values()),
        strike_count=sc, target_count=tc, casualties=casualties, attributions=list(attributions.values()), de_escalation_cues=cues,
        evidence=evidence, confidence=round(min(conf, 0.95), 2), article_published_at=article.published_at,
        extracted_at=datetime.now(timezone.utc),
    )


def _link_provocations(events: list[Event]) -> list[Event]:
    out = []
    for ev in events:
        if ev.modality == Modality.ASSERTED and ev.attacker and ev.attacker.type == "state_military":
            target_names = {t.name for t in ev.targets}
            target_sponsors = {t.sponsor for t in ev.targets if t.sponsor}
            links = [
                o.id for o in events
                if o is not ev and o.event_type in (EventType.DRONE_STRIKE, EventType.MISSILE_ATTACK) and o.attacker
                and (o.attacker.name in target_names or (o.attacker.type == "militia_proxy" and o.attacker.sponsor in target_sponsors))
                and any(t.country == ev.attacker.country or t.name == ev.attacker.name for t in o.targets)
            ]
            if links:
                ev = ev.model_copy(update={"provoked_by": links})
        out.append(ev)
    return out


def events_from_doc(doc, article: Article) -> list[Event]:
    """All events of one article (``doc`` is ``nlp(article.text)``)."""
    ref = article.published_at.date() if article.published_at else None
    text = doc.text
    # Country context: countries named anywhere, in order, for geocoding villages.
    # Country context for geocoding villages, strongest first: admin areas named in
    # the text, then places (GPE/LOC), then where the named armed groups fight, then
    # demonyms ("Turkish forces" strike in Syria as often as in Turkey).
    gpe: list[str] = []
    norp: list[str] = []
    for ent in doc.ents:
        if ent.label_ in ("GPE", "NORP", "LOC"):
            hit = geocode.country_of(ent.text)
            bucket = gpe if ent.label_ != "NORP" else norp
            if hit and hit[1] not in bucket:
                bucket.append(hit[1])
    theatres: list[str] = []
    for _pos, actor in find_actors(text, 0):
        iso = lexicon.THEATRE.get(actor.name) or (actor.country if actor.type in ("rebel", "militia_proxy", "terrorist") else None)
        if iso and iso not in theatres:
            theatres.append(iso)
    homes = [a.country for _p, a in find_actors(text, 0) if a.country and a.type == "state_military"]
    context = [c for c in gpe + theatres + norp + homes]
    context = list(dict.fromkeys(context))
    # Admin areas named in the text pin the country more reliably than demonyms.
    admin_ctx = []
    for m in PLACE_PHRASE_RE.finditer(text):
        a = geocode.index().aliases.get(geocode.norm(m.group("name")))
        if a and a["kind"] in ("admin1", "place", "region") and a["iso"] and a["iso"] not in admin_ctx:
            admin_ctx.append(a["iso"])
    for m in re.finditer(r"[A-Z][\w'’-]+(?: (?:al-|el-)?[A-Z][\w'’-]+)*", text):
        a = geocode.index().aliases.get(geocode.norm(m.group(0)))
        if a and a["kind"] in ("admin1", "region") and a["iso"] and a["iso"] not in admin_ctx:
            admin_ctx.append(a["iso"])
    for m in re.finditer(r"\(([^()]{3,60})\)", text):
        for part in m.group(1).split(","):
            a = geocode.index().aliases.get(geocode.norm(part))
            if a and a["kind"] in ("admin1", "place", "region") and a["iso"] and a["iso"] not in admin_ctx:
                admin_ctx.append(a["iso"])
    context = admin_ctx + [c for c in context if c not in admin_ctx]
    mentions: list[Mention] = []
    carry: dict[EventType, EventTime] = {}
    last_type: EventType | None = None
    reported: set[EventType] = set()  # kinds of attack already reported as news
    last_idx = -10
    for i, sent in enumerate(doc.sents):
        ms = _sentence_mentions(doc, sent, text, ref, context, carry, last_type, frozenset(reported))
        for m in ms:
            if m.modality == Modality.ASSERTED:
                reported.add(m.type)
                if m.time is not None:
                    carry[m.type] = m.time
            if m.modality == Modality.ASSERTED and m.type in (EventType.AIR_STRIKE, EventType.MISSILE_ATTACK, EventType.DRONE_STRIKE):
                last_type = m.type if m.type != EventType.DRONE_STRIKE or last_type is None else last_type
        if ms:
            mentions.extend(ms)
            last_idx = i
        elif mentions and i - last_idx <= CONTINUATION_SENTENCES:
            _continue_mention(mentions[-1], sent, ref)
    groups: list[list[Mention]] = []
    for m in mentions:
        if not m.weak and m.modality in (Modality.HYPOTHETICAL, Modality.THREATENED, Modality.NEGATED) and m.time is None:
            # A conditional/future remark about strikes the article already reported.
            m.weak = any(g[0].type == m.type and g[0].modality == Modality.ASSERTED for g in groups)
        if m.weak:
            home = next((g for g in reversed(groups) if g[0].type == m.type and g[0].modality == Modality.ASSERTED), None)
            if home is not None:
                # A back-reference adds what it says about the strike (weapons,
                # casualties, sources, cues), not new places or times.
                home.append(m.__class__(**{**m.__dict__, "modality": Modality.ASSERTED, "places": [], "time": None, "attacker": None, "targets": []}))
            continue
        for g in groups:
            if all(_compatible(m, other) for other in g):
                g.append(m)
                break
        else:
            groups.append([m])
    events = []
    for g in groups:
        # A group's modality is its strongest claim: one asserted mention makes it news.
        asserted = [m for m in g if m.modality == Modality.ASSERTED]
        if asserted:
            g = asserted + [m for m in g if m.modality != Modality.ASSERTED and m.modality == Modality.HISTORICAL and False]
        events.append(_to_event(article, g, ref, context))
    return _link_provocations(events)


def other_violence(doc) -> bool:
    """True if the doc reports violence that is not a strike (clashes, IEDs, ...)."""
    return bool(lexicon.OTHER_VIOLENCE.search(doc.text))

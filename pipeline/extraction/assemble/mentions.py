"""Spans -> mentions: each trigger of a sentence with what its sentence says (attacker and
targets, places, time, weapons, counts, casualties, sources), and the sentences after a
strike sentence that add to it (``continue_mention``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from spacy.tokens import Doc
from spacy.tokens import Span as DocSpan

from strikewatch.core.models import Actor, Attribution, Casualties, EventTime, EventType, Modality, Place, Span, Weapon

from .. import lexicon
from ..components.base import Keys, SpanIndex, doc_text, sentences, text_span
from ..facts.parties.roles import BYSTANDER, FALLBACK_ATTACKER, FALLBACK_TARGET, VICTIM
from ..facts.places.assemble import TOWN_PRECISIONS, unique_places
from ..facts.places.component import rank_places
from ..facts.time.assemble import HISTORICAL_AFTER_DAYS, TIME_ORDER, best_time, dated_modality  # noqa: F401
from ..facts.triggers.component import BROAD, REFERENCE, filter_kinds

# Sentences after a strike sentence that can still add its weapons and casualties
# ("The fighter-bombers dropped ...", "There were no immediate reports of casualties"):
# 3 covers a lead paragraph split by the quote of who said so.
CONTINUATION_SENTENCES = 3
TARGET_KIND_RES = [
    (
        "facility",
        re.compile(
            r"\b(?:facilit(?:y|ies)|sites?|depots?|warehouses?|storage|structures?|"
            r"buildings?|headquarters|compound|ammunition|"
            r"weapons? (?:store|cache)s?|launch(?:ing)? (?:site|pad)s?|factory|plant)\b",
            re.I,
        ),
    ),
    ("base", re.compile(r"\b(?:bases?|air ?base|airport|airfield|garrison|military post|checkpoint|outpost)\b", re.I)),
    ("convoy", re.compile(r"\bconvoys?\b", re.I)),
    ("vehicle", re.compile(r"\b(?:vehicles?|trucks?|tanks?|motorbikes?|pick-?ups?|tricycles?|boats?)\b", re.I)),
    (
        "personnel",
        re.compile(r"\b(?:personnel|troops|soldiers|fighters|militants|positions|members|gunmen|diplomats)\b", re.I),
    ),
    (
        "civilian",
        re.compile(r"\b(?:civilians?|residential|village(?:s|rs)?|homes?|houses?|market|school|hospital)\b", re.I),
    ),
    (
        "infrastructure",
        re.compile(r"\b(?:power (?:plant|station)|bridge|port|oil (?:field|facility)|pipeline|grid)\b", re.I),
    ),
]
TARGET_COUNT_RE = re.compile(
    r"\b(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+)?"
    r"(?:targets|sites|facilities|structures|locations|positions|buildings)\b",
    re.I,
)
STRIKE_COUNT_RE = re.compile(
    r"\b(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten|a series of)\s+(?:\w+\s+)?"
    r"(?:air ?strikes|airstrikes|raids|strikes|drone strikes|sorties)\b",
    re.I,
)
TIMES_RE = re.compile(r"\b(?:at least\s+)?(?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\s+times\b", re.I)
_TARGET_PREP_BEFORE = re.compile(r"\b(?:against|on|targeting|at)\s+(?:\w+\s+){0,4}$", re.I)
_TARGET_PREP_BETWEEN = re.compile(r"\b(?:on|against|targeting|at|targeted|hit(?:ting)?|struck|striking)\b", re.I)
_BY_BEFORE = re.compile(r"\b(?:by|from)\s+(?:\w+\s+){0,4}$", re.I)
_USED_BY_BEFORE = re.compile(
    r"\b(?:used|owned|operated|controlled|run|held|backed|supported|claimed|reported|built|made)\s+(?:\w+\s+)?by\s+"
    r"(?:\w+\s+){0,4}$",
    re.I,
)
_BACK_REFERENCE = re.compile(r"\b(?:these|those|the|this|latest|recent|set of)\s+(?:\w+\s+)?$", re.I)
_US_PERSONNEL = re.compile(r"\b(?:US|U\.S\.|American)\s+(?:personnel|troops|forces|bases?|diplomats)\b")
_US = re.compile(r"\bUnited States\b|\bU\.?S\.?\b")


@dataclass
class Mention:
    type: EventType
    sent: Span
    trigger: Span
    modality: Modality
    attacker: Actor | None = None
    co_attackers: list[Actor] = field(default_factory=list)  # other attackers of a coalition
    attacker_parsed: bool = False  # the attacker is the parse's agent of the trigger, not the nearest actor
    targets: list[Actor] = field(default_factory=list)
    # The ranker's answers (facts/parties/rank.py, decide="fill"): the event's attacker or
    # targets only when no mention of it has any (assemble/event.to_event); never used to
    # group mentions.
    attacker_guess: Actor | None = None
    targets_guess: list[Actor] = field(default_factory=list)
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
    p_event: float | None = None  # the relevance model's probability that this reports a strike
    broad: bool = False  # found only by a broad pattern


@dataclass
class SentenceView:
    """Everything the components found in one sentence."""

    sent: DocSpan
    triggers: list[DocSpan]
    actors: list[tuple[int, Actor]]  # (start relative to the sentence, actor)
    places: list[Place]
    times: list[EventTime]
    platforms: list[Weapon]
    munitions: list[Weapon]
    casualties: Casualties | None
    attributions: list[Attribution]
    cues: list[Span]
    roles: dict[
        int, dict[str, list[Actor]]
    ]  # trigger start char -> {"attacker": [...], "target": [...], "bystander": [...]}
    victims: list[Actor] = field(default_factory=list)  # harmed, in a sentence with no trigger
    learned: bool = False  # the roles are the learned model's choice (strike_parties), not the rules'

    @property
    def text(self) -> str:
        return self.sent.text

    @property
    def base(self) -> int:
        return self.sent.start_char

    @property
    def span(self) -> Span:
        # Without the blank line that ends a title: the quote is the sentence's words.
        return text_span(self.sent.text, 0, len(self.sent.text.rstrip()), self.sent.start_char)


class DocView:
    """Span lookups per sentence over a processed doc."""

    def __init__(self, doc: Doc):
        self.doc = doc
        self.clash = bool(lexicon.CLASH_RE.search(doc_text(doc)))
        self._idx = {
            k: SpanIndex(doc.spans[k]) if k in doc.spans else SpanIndex([])
            for k in (
                Keys.TRIGGERS,
                Keys.ACTORS,
                Keys.WEAPONS,
                Keys.PLACES,
                Keys.TIMES,
                Keys.CASUALTIES,
                Keys.ATTRIBUTIONS,
                Keys.CUES,
                Keys.ROLES,
            )
        }

    def sentence(self, sent: DocSpan) -> SentenceView:
        s, e, base = sent.start_char, sent.end_char, sent.start_char

        def within(key):
            return [x for x in self._idx[key].within(s, e) if x.end_char <= e]

        weapons = [x._.sw_weapon for x in within(Keys.WEAPONS)]
        cas = [x._.sw_casualties for x in within(Keys.CASUALTIES)]
        roles: dict[int, dict[str, list[Actor]]] = {}
        victims: list[Actor] = []
        for r in within(Keys.ROLES):
            if r.label_ == VICTIM:
                victims.append(r._.sw_actor)
            else:
                roles.setdefault(
                    int(r.id_),
                    {"attacker": [], "target": [], BYSTANDER: [], FALLBACK_ATTACKER: [], FALLBACK_TARGET: []},
                )[r.label_].append(r._.sw_actor)
        return SentenceView(
            sent=sent,
            triggers=within(Keys.TRIGGERS),
            actors=[(x._.sw_actor.mentions[0].start - base, x._.sw_actor) for x in within(Keys.ACTORS)],
            places=[x._.sw_place for x in within(Keys.PLACES)],
            times=[x._.sw_time for x in within(Keys.TIMES)],
            platforms=[w for w in weapons if w.kind == "platform"],
            munitions=[w for w in weapons if w.kind == "munition"],
            casualties=cas[0] if cas else None,
            attributions=[x._.sw_attribution for x in within(Keys.ATTRIBUTIONS)],
            cues=[text_span(doc_text(self.doc), x.start_char, x.end_char) for x in within(Keys.CUES)],
            roles=roles,
            victims=victims,
            learned=bool(self.doc.user_data.get("sw_roles_learned")),
        )


def target_kinds(text: str) -> list[str]:
    return [k for k, r in TARGET_KIND_RES if r.search(text)]


def _count(regex: re.Pattern, text: str) -> int | None:
    return max((lexicon.number(m.group("n")) or 0 for m in regex.finditer(text)), default=0) or None


def strike_count(text: str) -> int | None:
    sc = None
    for m in STRIKE_COUNT_RE.finditer(text):
        sc = lexicon.number(m.group("n")) if m.group("n") != "a series of" else None
    tm = TIMES_RE.search(text)
    if sc is None and tm:
        sc = lexicon.number(tm.group("n"))
    return sc


# Strike words that name their means: "shelled" is artillery fire, "an airstrike" a strike
# from an aircraft. A mention whose sentence names no weapon takes this one, quoted from
# the trigger (coders record "shelling" and "aerial bomb" from such words).
_IMPLIED = (
    (re.compile(r"\bshell(?:s|ed|ing)?\b", re.I), "artillery", "munition", "artillery"),
    (
        re.compile(r"\bair[- ]?(?:strikes?|raids?|attacks?|bombardments?)\b|\baerial\b|\bfrom the air\b", re.I),
        "aircraft",
        "platform",
        "aircraft",
    ),
)


def implied_weapons(text: str, trig_s: int, trig_e: int, base: int) -> tuple[list[Weapon], list[Weapon]]:
    """(platforms, munitions) a trigger's own words imply, when its sentence names none."""
    for regex, name, kind, category in _IMPLIED:
        m = regex.search(text, trig_s, trig_e)
        if m:
            w = Weapon(name=name, kind=kind, category=category, mention=text_span(text, m.start(), m.end(), base))
            return ([w], []) if kind == "platform" else ([], [w])
    return [], []


def _weapons_for(et: EventType, platforms: list[Weapon], munitions: list[Weapon]) -> tuple[list[Weapon], list[Weapon]]:
    """Drones belong to drone strikes, aircraft to air strikes; drone strikes drop no bombs."""
    drone = et == EventType.DRONE_STRIKE
    plats = [p for p in platforms if (p.category == "uav") == drone or (not drone and p.category != "uav")]
    return plats, (munitions if not drone else [])


def positional_roles(sv: SentenceView, trig_s: int, trig_e: int) -> tuple[Actor | None, list[Actor]]:
    """Attacker and targets by position and prepositions: the nearest armed actor before
    the trigger attacks ("8 Taliban militants were killed by Afghan military airstrikes":
    Afghanistan); actors after "on/against/targeting" are targets; "by X" after the
    trigger is the attacker unless X only used or owned the target."""
    text = sv.text
    attacker = None
    targets: list[Actor] = []
    before = [
        (pos, a)
        for pos, a in sv.actors
        if pos < trig_s and a.type != "unknown" and not _TARGET_PREP_BEFORE.search(text[:pos])
    ]
    if before:
        attacker = before[-1][1]
    for pos, actor in sv.actors:
        is_target = pos > trig_s and _TARGET_PREP_BETWEEN.search(text[trig_s:pos]) is not None
        if pos < trig_s and _TARGET_PREP_BEFORE.search(text[:pos]):
            is_target = True
        if (
            pos > trig_s
            and pos - trig_e < 60
            and _BY_BEFORE.search(text[:pos])
            and not _USED_BY_BEFORE.search(text[:pos])
        ):
            attacker = attacker or actor
            continue
        if is_target:
            targets.append(actor)
        elif attacker is None and pos < trig_s + 40 and actor.type != "unknown":
            attacker = actor
    return attacker, targets


def sentence_roles(
    sv: SentenceView, et: EventType, trig: DocSpan, kinds: list[tuple[EventType, DocSpan]]
) -> tuple[Actor | None, list[Actor], list[Actor]]:
    """(attacker, targets, co-attackers) of one trigger."""
    base = sv.base
    trig_s, trig_e = trig.start_char - base, trig.end_char - base
    co: list[Actor] = []
    syn = sv.roles.get(trig.start_char)
    if sv.learned:
        # The model chose among every candidate phrase, the rules' and the nearest actor's
        # included (features): its choice stands, best attacker first.
        chosen = syn or {"attacker": [], "target": []}
        attacker = chosen["attacker"][0] if chosen["attacker"] else None
        co, targets = list(chosen["attacker"][1:]), list(chosen["target"])
    else:
        attacker, targets = positional_roles(sv, trig_s, trig_e)
    if syn and not sv.learned:
        if attacker is not None and any(b.name == attacker.name for b in syn[BYSTANDER]):
            attacker = None  # "Russia condemned the drone attack": the nearest actor before it only reacts
        # The parse's agent of the strike verb wins when it names a known party, or
        # when position found none; its patients join the targets.
        named = [a for a in syn["attacker"] if a.type != "unknown"]
        if named or (syn["attacker"] and attacker is None):
            attacker = (named or syn["attacker"])[0]
            co = [a for a in syn["attacker"] if a.name != attacker.name]
        known = {t.name for t in targets}
        targets = targets + [
            t for t in syn["target"] if t.name not in known and (attacker is None or t.name != attacker.name)
        ]
    text = sv.text
    if et == EventType.DRONE_STRIKE and any(k == EventType.AIR_STRIKE for k, _ in kinds):
        # "airstrikes against militias that carried out drone strikes against US personnel"
        mil = [a for a in targets if a.type in ("militia_proxy", "rebel", "terrorist")]
        if mil:
            attacker = mil[0]
            targets = [
                a
                for _, a in sv.actors
                if a.type == "state_military" and a is not attacker and a.name != "United States"
            ]
            us = _US_PERSONNEL.search(text[trig_s:])
            if us:
                targets = [
                    Actor(
                        name="United States",
                        type="state_military",
                        country="US",
                        mentions=[text_span(text, trig_s + us.start(), trig_s + us.end(), base)],
                    )
                ]
    if et == EventType.AIR_STRIKE and attacker is None:
        us = _US.search(text[:trig_s])
        if us:
            attacker = Actor(
                name="United States",
                type="state_military",
                country="US",
                mentions=[text_span(text, us.start(), us.end(), base)],
            )
    if attacker is not None:
        targets = [a for a in targets if a.name != attacker.name]
    co = [a for a in co if attacker is None or a.name != attacker.name]
    return attacker, [t for t in targets if all(t.name != c.name for c in co)], co


def sentence_mentions(
    view: DocView, sv: SentenceView, ref: date | None, carry: dict, last_type: EventType | None, reported: frozenset
) -> list[Mention]:
    text, base = sv.text, sv.base
    kinds = [(EventType(t.label_), t) for t in sv.triggers if t.label_ != REFERENCE]
    weak = False
    if not kinds and last_type is not None:
        refs = [t for t in sv.triggers if t.label_ == REFERENCE]
        if refs:
            kinds = filter_kinds([(last_type, refs[0])], text, view.clash)
            weak = True
    if not kinds:
        return []
    trig_pos = [t.start_char - base for _, t in kinds]

    def owner(pos: int) -> int:
        return min(range(len(trig_pos)), key=lambda i: abs(trig_pos[i] - pos))

    places_all = sv.places if len(kinds) > 1 else unique_places(sv.places)
    tc, sc = _count(TARGET_COUNT_RE, text), strike_count(text)
    out = []
    for k_i, (et, trig) in enumerate(kinds):
        trig_s, trig_e = trig.start_char - base, trig.end_char - base
        # With two kinds of attack in one sentence, each takes the times and places nearest its own trigger.
        my_times = [t for t in sv.times if owner(t.expression.start - base) == k_i]
        t_best = best_time(my_times)
        my_places = rank_places(
            unique_places(p for p in places_all if p.mention is None or owner(p.mention.start - base) == k_i)
            if len(kinds) > 1
            else places_all,
            text,
        )
        kinds_t = target_kinds(re.sub(r"civilian casualties", "", text[trig_s:], flags=re.I))
        mod = dated_modality(trig._.sw_modality or Modality.ASSERTED, t_best, ref)
        # "these airstrikes", "the latest strikes" with no time of their own refer back to a strike already reported.
        is_weak = weak or (
            (last_type == et or et in reported) and not my_times and _BACK_REFERENCE.search(text[:trig_s]) is not None
        )
        attacker, targets, co = sentence_roles(sv, et, trig, kinds)
        fallback = sv.roles.get(trig.start_char, {})
        guess = None if attacker is not None else next(iter(fallback.get(FALLBACK_ATTACKER) or []), None)
        t_guess = (
            []
            if targets
            else [t for t in fallback.get(FALLBACK_TARGET) or [] if attacker is None or t.name != attacker.name]
        )
        parsed = attacker is not None and any(
            a.name == attacker.name for a in sv.roles.get(trig.start_char, {}).get("attacker", [])
        )
        plats, muns = _weapons_for(et, sv.platforms, sv.munitions)
        if not plats and not muns:
            plats, muns = implied_weapons(text, trig_s, trig_e, base)
        out.append(
            Mention(
                type=et,
                sent=sv.span,
                trigger=text_span(text, trig_s, trig_e, base),
                modality=mod,
                attacker=attacker,
                co_attackers=co,
                attacker_parsed=parsed,
                targets=targets,
                attacker_guess=guess,
                targets_guess=t_guess,
                target_kinds=kinds_t,
                places=my_places,
                time=t_best or (carry.get(et) if mod == Modality.ASSERTED else None),
                weak=is_weak,
                platforms=plats,
                munitions=muns,
                strike_count=sc,
                target_count=tc,
                casualties=sv.casualties,
                attributions=sv.attributions,
                cues=sv.cues,
                p_event=trig._.sw_p_event,
                broad=trig.id_ == BROAD,
            )
        )
    return out


def continue_mention(m: Mention, sv: SentenceView) -> None:
    """A sentence right after a strike sentence with no trigger of its own adds its
    weapons, counts, casualties and cues to that strike."""
    added = False
    drone = m.type == EventType.DRONE_STRIKE
    for p in sv.platforms:
        if (p.category == "uav") == drone and all(p.name != q.name for q in m.platforms):
            m.platforms.append(p)
            added = True
    if not drone:
        for w in sv.munitions:
            if all(w.name != q.name for q in m.munitions):
                m.munitions.append(w)
                added = True
    tc = _count(TARGET_COUNT_RE, sv.text)
    if tc and (m.target_count or 0) < tc:
        m.target_count = tc
        added = True
    if m.modality == Modality.HISTORICAL and m.extra_evidence:
        return  # background: only the one sentence right after it belongs to it
    if not drone:
        for _pos, actor in sv.actors:
            if (
                actor.type in ("militia_proxy", "rebel", "terrorist")
                and all(actor.name != t.name for t in m.targets)
                and (m.attacker is None or actor.name != m.attacker.name)
            ):
                m.targets.append(actor)
                added = True
    if m.attacker is not None:
        # "... by Salvadoran aircraft. The Salvadoran air force is using missiles.": the
        # attacker named again is one more mention of it.
        again = [x for _pos, a in sv.actors if a.name == m.attacker.name for x in a.mentions]
        if again:
            m.attacker = m.attacker.model_copy(update={"mentions": [*m.attacker.mentions, *again]})
            added = True
    for victim in sv.victims:  # "As a result, an elderly man was killed and several houses were damaged."
        if all(victim.name != t.name for t in m.targets) and (m.attacker is None or victim.name != m.attacker.name):
            m.targets.append(victim)
            added = True
    if sv.casualties is not None and m.casualties is None and m.modality == Modality.ASSERTED:
        m.casualties = sv.casualties
        added = True
    if sv.cues:
        m.cues.extend(sv.cues)
        added = True
    if added:
        m.attributions.extend(sv.attributions)
        m.extra_evidence.append(sv.span)


def lead_of_title(m: Mention, sv: SentenceView) -> None:
    """A lead with no strike word of its own after a title that has one ("Dnipro mourns after
    drone attack" over "The Russian military fired a drone at a market in Dnipro on
    Wednesday"): the headline's strike is the lead's, on the lead's day and in its town (run
    into one sentence before, they were one mention)."""
    added = False
    if m.time is None and sv.times:
        m.time = best_time(sv.times)
        added = True
    if sv.places and not any(p.precision in TOWN_PRECISIONS for p in m.places):
        m.places = rank_places(unique_places([*sv.places, *m.places]), sv.text)
        added = True
    if added and all(e.start != sv.base for e in m.extra_evidence):
        m.extra_evidence.append(sv.span)


def doc_mentions(doc: Doc, ref: date | None, body_start: int = 0) -> list[Mention]:
    """Every strike mention of the doc, in text order, with the sentences after each added
    (``continue_mention``); a title's mention takes the lead's time and town as well
    (``body_start``: where the body starts after the title)."""
    view = DocView(doc)
    mentions: list[Mention] = []
    carry: dict[EventType, EventTime] = {}
    last_type: EventType | None = None
    reported: set[EventType] = set()  # kinds of attack already reported as news
    last_idx = -10
    for i, sent in enumerate(sentences(doc)):
        sv = view.sentence(sent)
        ms = sentence_mentions(view, sv, ref, carry, last_type, frozenset(reported))
        for m in ms:
            if m.modality == Modality.ASSERTED:
                reported.add(m.type)
                if m.time is not None:
                    carry[m.type] = m.time
                if m.type in (EventType.AIR_STRIKE, EventType.MISSILE_ATTACK) or (
                    m.type == EventType.DRONE_STRIKE and last_type is None
                ):
                    last_type = m.type
        if ms:
            mentions.extend(ms)
            last_idx = i
        elif mentions and i - last_idx <= CONTINUATION_SENTENCES:
            continue_mention(mentions[-1], sv)
            if mentions[-1].sent.end <= body_start <= sv.base:
                lead_of_title(mentions[-1], sv)
    return mentions

"""A group of mentions -> one ``Event``: its attacker, targets, places, time, weapons,
casualties and sources; links between events (provocations)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from strikewatch.core.models import Actor, Article, Attribution, Casualties, Event, EventType, Modality, Place, Weapon

from ..facts.parties.roles import GROUP_PRONOUNS
from ..facts.places.assemble import PlaceContext, article_towns, group_places, refine_places  # noqa: F401
from ..facts.time.assemble import best_time, event_time, time_confidence_penalty, to_utc  # noqa: F401
from .mentions import TARGET_KIND_RES, Mention

ACLED_SUBTYPE = {
    EventType.AIR_STRIKE: "Air/drone strike",
    EventType.DRONE_STRIKE: "Air/drone strike",
    EventType.MISSILE_ATTACK: "Shelling/artillery/missile attack",
    EventType.SHELLING: "Shelling/artillery/missile attack",
    EventType.OTHER_VIOLENCE: "Armed clash",
}
# CAMEO: 195 employ aerial weapons; 194 fight with artillery and tanks; 190 other force.
CAMEO = {
    EventType.AIR_STRIKE: "195",
    EventType.DRONE_STRIKE: "195",
    EventType.MISSILE_ATTACK: "194",
    EventType.SHELLING: "194",
    EventType.OTHER_VIOLENCE: "190",
}
GENERIC_WARPLANES = ("warplane", "fighter jet", "fighter-bomber", "aircraft")


def merge_actor_lists(lists: list[list[Actor]]) -> list[Actor]:
    out: dict[str, Actor] = {}
    for lst in lists:
        for a in lst:
            if a.name in out:
                prev = out[a.name]
                out[a.name] = prev.model_copy(
                    update={"mentions": prev.mentions + a.mentions, "sponsor": prev.sponsor or a.sponsor}
                )
            else:
                out[a.name] = a
    # A generic "X-backed militias" is dropped when named militias are there.
    if any(a.type == "militia_proxy" for a in out.values() if not a.name.endswith("-backed militias")):
        out = {k: v for k, v in out.items() if not k.endswith("-backed militias")}
    return list(out.values())


def group_attacker(group: list[Mention]) -> Actor | None:
    """Most frequent attacker of the group, state forces counted double (named over generic)."""
    attackers = [m.attacker for m in group if m.attacker]
    if not attackers:
        return None
    counts: dict[str, int] = {}
    for a in attackers:
        counts[a.name] = counts.get(a.name, 0) + (2 if a.type == "state_military" else 1)
    best = max(counts, key=counts.get)
    return merge_actor_lists([[a for a in attackers if a.name == best]])[0]


def group_weapons(group: list[Mention]) -> tuple[list[Weapon], list[Weapon]]:
    plats: dict[str, Weapon] = {}
    muns: dict[str, Weapon] = {}
    for m in group:
        for p in m.platforms:
            plats.setdefault(p.name, p)
        for w in m.munitions:
            muns.setdefault(w.name, w)
    if any(n not in GENERIC_WARPLANES for n in plats):
        plats = {k: v for k, v in plats.items() if k not in ("warplane", "fighter jet", "aircraft")}
    if any(w.payload_lb for w in muns.values()):
        muns = {k: v for k, v in muns.items() if v.payload_lb or k not in ("bomb", "missile")}
    return list(plats.values()), list(muns.values())


# Generic names of non-state parties ("the guerrillas", "urban guerrillas", "the rebels"):
# the article's one named armed group stands behind them.
_GENERIC_GROUP_WORDS = frozenset(
    "guerrilla guerrillas guerilla guerillas rebel rebels insurgent insurgents militant militants "
    "terrorist terrorists subversives narcoterrorists commandos".split()
)
_GROUP_TYPES = frozenset({"rebel", "terrorist", "militia_proxy"})


def article_group(text: str) -> Actor | None:
    """The one armed group (rebel, terrorist, militia) the article names, when it names
    only one: MUC-4 names its attackers "the FMLN" where the text says "the guerrillas"
    (3 of its 15 strike documents), and users search by the group's name. The whole text
    is read (a regex pass), not only the passages the gate let through to spaCy."""
    from ..facts.parties.actors import gazetteer_actors

    names = {a.name: a for a in gazetteer_actors(text) if a.type in _GROUP_TYPES}
    return next(iter(names.values())) if len(names) == 1 else None


def named_group(actor: Actor | None, group: Actor | None) -> Actor | None:
    """``actor``, or the article's named group when ``actor`` is only its generic name or
    a pronoun ("they", "we"); a pronoun with no group to stand for names no one."""
    if actor is not None and actor.type == "unknown" and actor.name.lower() in GROUP_PRONOUNS:
        return (
            group.model_copy(update={"mentions": [*group.mentions[:1], *actor.mentions]}) if group is not None else None
        )
    if actor is None or group is None or actor.type != "unknown":
        return actor
    words = actor.name.lower().split()
    if not words or words[-1] not in _GENERIC_GROUP_WORDS:
        return actor
    return group.model_copy(update={"mentions": [*group.mentions[:1], *actor.mentions]})


def to_event(
    article: Article,
    group: list[Mention],
    context: PlaceContext | list[str],
    towns: dict[str, Place] | None = None,
    armed_group: Actor | None = None,
) -> Event:
    first = group[0]
    # A pronoun ("they") counts only when no mention names the attacker.
    said = group_attacker(
        [m for m in group if m.attacker and m.attacker.name.lower() not in GROUP_PRONOUNS]
    ) or group_attacker(group)
    if said is None:  # the ranker's guess, when no mention names an attacker (facts/parties/rank.py)
        said = group_attacker([replace(m, attacker=m.attacker_guess) for m in group if m.attacker_guess])
    attacker = named_group(said, armed_group)
    # Co-attackers of the mentions that name the same attacker ("Afghan and coalition forces").
    attackers = (
        merge_actor_lists([[attacker], *[m.co_attackers for m in group if m.attacker and m.attacker.name == said.name]])
        if attacker
        else []
    )
    names = {a.name for a in attackers}
    targets = [a for a in merge_actor_lists([m.targets for m in group]) if a.name not in names]
    if not targets:
        targets = [a for a in merge_actor_lists([m.targets_guess for m in group]) if a.name not in names]
    places = refine_places(group_places(group, attacker, targets, context), towns or {})
    time = event_time(best_time([m.time for m in group if m.time]), places, article.published_at)
    plats, muns = group_weapons(group)
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
    conf = confidence(group, attacker, places, time, attributions)
    return Event(
        id=Event.make_id(article.id, first.type.value, first.trigger.start, first.trigger.end),
        article_id=article.id,
        source=article.source,
        event_type=first.type,
        modality=first.modality,
        acled_sub_event_type=ACLED_SUBTYPE[first.type],
        cameo_code=CAMEO[first.type],
        attacker=attacker,
        attackers=attackers,
        targets=targets,
        target_kinds=kinds,
        places=places,
        time=time,
        platforms=plats,
        munitions=muns,
        strike_count=sc,
        target_count=tc,
        casualties=casualties,
        attributions=list(attributions.values()),
        de_escalation_cues=cues,
        evidence=evidence,
        confidence=conf,
        article_published_at=article.published_at,
        extracted_at=datetime.now(UTC),
    )


def confidence(group: list[Mention], attacker, places, time, attributions) -> float:
    """The relevance model's probability when it scored the group, else trigger
    strength plus corroborating attributes; capped at 0.95."""
    scored = [m.p_event for m in group if m.p_event is not None]
    if scored:
        # An undated report (publication date as its time, precision "reported") is less sure.
        return round(max(min(max(scored), 0.95) - time_confidence_penalty(time), 0.05), 2)
    conf = (
        0.5
        + 0.1 * bool(attacker)
        + 0.1 * bool(places)
        + 0.1 * bool(time and time.date and time.precision != "reported")
        + 0.05 * bool(attributions)
        + 0.05 * min(len(group) - 1, 2)
    )
    return round(min(conf, 0.95), 2)


def link_provocations(events: list[Event]) -> list[Event]:
    out = []
    for ev in events:
        if ev.modality == Modality.ASSERTED and ev.attacker and ev.attacker.type == "state_military":
            target_names = {t.name for t in ev.targets}
            target_sponsors = {t.sponsor for t in ev.targets if t.sponsor}
            links = [
                o.id
                for o in events
                if o is not ev
                and o.event_type in (EventType.DRONE_STRIKE, EventType.MISSILE_ATTACK)
                and o.attacker
                and (
                    o.attacker.name in target_names
                    or (o.attacker.type == "militia_proxy" and o.attacker.sponsor in target_sponsors)
                )
                and any(t.country == ev.attacker.country or t.name == ev.attacker.name for t in o.targets)
            ]
            if links:
                ev = ev.model_copy(update={"provoked_by": links})
        out.append(ev)
    return out

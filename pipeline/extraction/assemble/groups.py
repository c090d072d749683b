"""Mentions -> groups: the mentions that report one real-world strike, and whether a
group is kept (``relevant``)."""

from __future__ import annotations

from dataclasses import replace

from strikewatch.core.models import Modality

from .mentions import Mention

# Two mentions merge only if their dates are at most this many days apart (a strike
# reported as "early Monday" and "on Sunday night" US time is one strike).
MERGE_MAX_DAYS = 1


# Place precisions that name a town or site: two mentions with such places and no name in
# common report strikes in different places.
_TOWN = frozenset({"point", "city", "admin2"})


def joins(m: Mention, group: list[Mention]) -> bool:
    """Does a mention report the strike of a group? The group has an attack of its kind (or
    one sentence names both kinds: "a drone and missile attack"), and the mention agrees
    with each of its mentions on day, place and attacker."""
    return any(o.type == m.type or o.sent.start == m.sent.start for o in group) and all(compatible(m, o) for o in group)


def compatible(a: Mention, b: Mention) -> bool:
    """Could two mentions report one real-world strike, by day, place and attacker, as far
    as each says? (``joins`` checks the kind of attack.)"""
    same_sentence = a.sent.start == b.sent.start
    if (a.modality == Modality.HISTORICAL) != (b.modality == Modality.HISTORICAL):
        return False
    fine = ("hour", "part_of_day", "day")
    if (
        a.time
        and b.time
        and a.time.date
        and b.time.date
        and a.time.precision in fine
        and b.time.precision in fine
        and abs((a.time.date - b.time.date).days) > MERGE_MAX_DAYS
    ):
        return False
    if different_attackers(a, b):
        return False
    ca = {p.country_code for p in a.places if p.country_code}
    cb = {p.country_code for p in b.places if p.country_code}
    if ca and cb and not ca & cb:
        return False
    ta = {p.name for p in a.places if p.precision in _TOWN}
    tb = {p.name for p in b.places if p.precision in _TOWN}
    return same_sentence or not (ta and tb and not ta & tb)


def different_attackers(a: Mention, b: Mention) -> bool:
    """Both name an attacker, and not the same one (a pronoun or an unnamed "gunmen" names none).
    A generic armed group ("the guerrillas") and a state's forces are two sides: "the
    guerrillas used mortars to attack ... whereas the government army dispatched planes"."""
    if a.attacker is None or b.attacker is None or a.attacker.name == b.attacker.name:
        return False
    if a.attacker.type != "unknown" and b.attacker.type != "unknown":
        return True
    sides = {_side(a.attacker.type, a.attacker.name), _side(b.attacker.type, b.attacker.name)}
    return sides == {"state", "armed"}


_STATE_TYPES = frozenset({"state_military", "government"})


def _side(typ: str, name: str) -> str | None:
    from .event import _GENERIC_GROUP_WORDS, _GROUP_TYPES

    if typ in _STATE_TYPES:
        return "state"
    words = name.lower().split()
    return (
        "armed" if typ in _GROUP_TYPES or (typ == "unknown" and words and words[-1] in _GENERIC_GROUP_WORDS) else None
    )


def group_mentions(mentions: list[Mention]) -> list[list[Mention]]:
    groups: list[list[Mention]] = []
    for m in mentions:
        if (
            not m.weak
            and m.modality in (Modality.HYPOTHETICAL, Modality.THREATENED, Modality.NEGATED)
            and m.time is None
        ):
            # A conditional/future remark about strikes the article already reported.
            m.weak = any(g[0].type == m.type and g[0].modality == Modality.ASSERTED for g in groups)
        if m.weak:
            home = next(
                (g for g in reversed(groups) if g[0].type == m.type and g[0].modality == Modality.ASSERTED), None
            )
            if home is not None:
                # A back-reference adds what it says about the strike (weapons,
                # casualties, sources, cues), not new places or times; and who did it
                # when the strike had no attacker yet and the parse names one ("who was
                # behind the drone attack ... the perpetrators of the assault"), not the
                # actor that happens to stand before it ("Hamas said the strike ...").
                who = m.attacker if m.attacker_parsed and not any(x.attacker for x in home) else None
                home.append(
                    replace(
                        m,
                        modality=Modality.ASSERTED,
                        places=[],
                        time=None,
                        attacker=who,
                        co_attackers=[],
                        targets=[],
                        targets_guess=[],
                    )
                )
            continue
        for g in groups:
            if joins(m, g):
                g.append(m)
                break
        else:
            groups.append([m])
    # A group's modality is its strongest claim: one asserted mention makes it news.
    return [_asserted(g) or g for g in groups]


def join_headline(groups: list[list[Mention]], body_start: int) -> list[list[Mention]]:
    """Groups with the title's strike joined to the body's: a headline is the lead's story in
    brief ("Dnipro: 12 killed in Russian missile strike" over "A Russian missile struck ... in
    the Ukrainian city of Dnipro"), and its few words misplace it ("in Russian missile strike"
    read as a place in Russia: a second, country-level event of every such copy). A group of
    title mentions only joins the body's first group of its type and modality; it brings its
    weapons, casualties, sources and targets, not its places or time, and its attacker only to
    a group that names none. Without such a body group it stays an event of its own."""
    if body_start <= 0:
        return groups
    in_title = [all(m.sent.end <= body_start for m in g) for g in groups]
    out = [g for g, t in zip(groups, in_title) if not t]
    keep_alone = []
    for g, t in zip(groups, in_title):
        if not t:
            continue
        home = next(
            (
                b
                for b in out
                if b[0].type == g[0].type
                and b[0].modality == g[0].modality
                and any(m.sent.start >= body_start for m in b)
            ),
            None,
        )
        if home is None:
            keep_alone.append(g)
            continue
        named = any(m.attacker for m in home)
        home[:0] = [
            replace(
                m,
                places=[],
                time=None,
                attacker=None if named else m.attacker,
                attacker_guess=None if named else m.attacker_guess,
                co_attackers=[] if named else m.co_attackers,
            )
            for m in g
        ]
    return [g for g, t in zip(groups, in_title) if not t or any(g is k for k in keep_alone)]


def _asserted(group: list[Mention]) -> list[Mention]:
    """The asserted mentions of a group. When none names the attacker, the one its denial
    names does ("the armed forces denied that their planes had bombed a refugee camp ...
    the bishop said the camp was attacked from the air": the accused)."""
    out = [m for m in group if m.modality == Modality.ASSERTED]
    if out and all(m.attacker is None for m in out):
        accused = {
            m.attacker.name: m.attacker for m in group if m.modality == Modality.DENIED and m.attacker is not None
        }
        if len(accused) == 1:
            out[0] = replace(out[0], attacker=next(iter(accused.values())))
    return out


def relevant(group: list[Mention], thresholds, doc_chars: int) -> bool:
    """Keep a group when its best relevance probability reaches its threshold
    (``relevance.Thresholds``: by article length, precise or broad trigger). Without a
    model, precise triggers only. The
    model judges reports of strikes that happened (asserted or historical); a denied,
    negated, threatened or hypothetical strike stands on its precise trigger."""
    precise = any(not m.broad for m in group)
    scored = [m.p_event for m in group if m.p_event is not None]
    if thresholds is None or not scored or group[0].modality not in (Modality.ASSERTED, Modality.HISTORICAL):
        return precise
    return max(scored) >= thresholds.needed(doc_chars, precise)

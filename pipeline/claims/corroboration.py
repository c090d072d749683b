"""An incident's claims and how corroborated it is, recomputed on every revision.

``corroborate(incident, reports)`` returns the incident with:

* ``claims``: every claim of every report, kept across revisions (a claim is never replaced:
  a later report adds its own; one id is kept once), each with its family;
* ``families``, ``independent_sources`` (families, not articles: ``families.group_families``)
  and ``single_source`` (one family);
* ``figures``: the latest casualty figure of each speaker (by publication time) per whom it
  counts (a total, or a part: "children"), and ``killed_range`` over the totals;
* ``contested`` with its reasons: a party denies what another blames on it, two speakers blame
  different sides (countries or named armed groups), or two speakers' killed figures of one
  kind differ by more than ``CONTESTED_RATIO`` (a part, "a child was killed", never against a
  total; in one article only two counters', ``COUNTER_KINDS``, not its own summary or a
  witness's count);
* ``grade`` and ``grade_reason``, by this rule, first match wins:

  1. ``contested``: the incident is contested (above);
  2. ``confirmed``: officials of both sides speak of it (official speakers, ``OFFICIAL_KINDS``,
     of at least two sides, one of them the side blamed), or the side blamed claims it;
  3. ``corroborated``: at least ``CORROBORATED_FAMILIES`` independent families report it;
  4. ``single_source``: one family.
"""

from __future__ import annotations

from datetime import datetime

from strikewatch.core.models import Claim, Event, Figure, Incident, IncidentSource

from .families import Report, group_families

OUTLET = "outlet"  # the speaker kind of an article's own voice
TOTAL = "people"  # a figure that counts everyone (pipeline/extraction/facts/claims/vocab/counted.tsv)

# Figures differ "beyond a stated ratio" when the highest killed figure is more than this many
# times the lowest (12 vs 3: contested; 12 vs 15: not). Counts rise in the first days of a strike
# (rubble searched, wounded die), and 1.5-2x revisions by one counter are common; 2.5 leaves those alone.
CONTESTED_RATIO = 2.5
# ... and by at least this many dead: 1 vs 3 is within the noise of early counts.
CONTESTED_MIN_GAP = 3
CORROBORATED_FAMILIES = 2
# Speakers who speak for a side officially.
OFFICIAL_KINDS = frozenset(
    {"ministry", "military", "government", "local_official", "police", "emergency_service", "armed_group"}
)
# Speakers who count the dead of a strike (an official tally), as against one who saw some of them.
COUNTER_KINDS = OFFICIAL_KINDS | {"medical", "un_agency", "ngo"}
GRADE_ORDER = ("single_source", "corroborated", "confirmed", "contested")


def report_of(src: IncidentSource) -> Report:
    """What grouping needs of one source."""
    return Report(
        article_id=src.article_id, outlet=src.outlet, provenance=src.provenance, at=src.published_at or src.seen_at
    )


def _when(c: Claim) -> datetime | None:
    return c.published_at or c.seen_at


def figures(claims: list[Claim]) -> list[Figure]:
    """The latest casualty figure per speaker and per whom it counts (the speaker's words and
    side name it; a total, "people", apart from a part, "children"), oldest speaker first."""
    latest: dict[tuple, Claim] = {}
    for c in sorted((c for c in claims if c.kind == "casualties"), key=lambda c: (_when(c) is None, _when(c) or 0)):
        latest[(c.speaker.lower(), c.speaker_side, c.counted or TOTAL)] = c
    return [
        Figure(
            speaker=c.speaker,
            speaker_kind=c.speaker_kind,
            speaker_side=c.speaker_side,
            killed=c.killed,
            injured=c.injured,
            counted=c.counted or TOTAL,
            at=_when(c),
            claim_id=c.id,
            outlet=c.outlet,
            article_id=c.article_id,
        )
        for c in latest.values()
    ]


def _party(c: Claim) -> str:
    return (c.party_side or c.party or "").lower()


def _may_contest(a: Figure, b: Figure) -> bool:
    """Two figures can contest each other: two speakers; in one article, two counters (an
    article's own summary never contests a source it quotes, and a witness's or a post's count
    is what one person saw: 18 of the 24 tolls "contested" in Airwars' narratives were such
    partial or early counts of one story)."""
    if (a.speaker.lower(), a.speaker_side) == (b.speaker.lower(), b.speaker_side):
        return False
    if a.article_id and a.article_id == b.article_id:
        return a.speaker_kind in COUNTER_KINDS and b.speaker_kind in COUNTER_KINDS
    return True


def toll_contest(figs: list[Figure]) -> tuple[Figure, Figure] | None:
    """The (lower, higher) pair of killed figures that differ beyond ``CONTESTED_RATIO`` and
    ``CONTESTED_MIN_GAP``: totals of one kind ("people", or one part, "children") from two
    speakers. A count of a part ("a child was killed") never contests a total ("seven killed")."""
    best = None
    by_kind: dict[str, list[Figure]] = {}
    for f in figs:
        if f.killed is not None:
            by_kind.setdefault(f.counted or TOTAL, []).append(f)
    for group in by_kind.values():
        group.sort(key=lambda f: f.killed)
        for i, lo in enumerate(group):
            for hi in reversed(group[i + 1 :]):
                if hi.killed - lo.killed < CONTESTED_MIN_GAP or hi.killed <= CONTESTED_RATIO * max(lo.killed, 0.5):
                    break  # the rest are closer to lo
                if _may_contest(lo, hi):
                    if best is None or hi.killed / max(lo.killed, 0.5) > best[1].killed / max(best[0].killed, 0.5):
                        best = (lo, hi)
                    break
    return best


def contested_reasons(claims: list[Claim], figs: list[Figure]) -> list[str]:
    out = []
    blamed = {
        _party(c): c for c in claims if c.kind == "responsibility" and c.stance in ("blamed", "claimed") and _party(c)
    }
    for c in claims:
        if c.kind == "responsibility" and c.stance == "denied" and _party(c) in blamed:
            b = blamed[_party(c)]
            out.append(f"{c.speaker} denies it; {b.speaker} lays it on {b.party}")
            break
    # Blame differs between sides (a country, a named armed group): a person or thing a parse
    # took for the attacker ("a displaced woman", "the force of a missile") is no party to it.
    # Two speakers: one article's voice naming two attackers is an inconsistency of its parse.
    blames = [c for c in claims if c.kind == "responsibility" and c.stance == "blamed" and c.party_side]
    pair = next(
        (
            (a, b)
            for i, a in enumerate(blames)
            for b in blames[i + 1 :]
            if a.party_side.lower() != b.party_side.lower() and a.speaker.lower() != b.speaker.lower()
        ),
        None,
    )
    if pair:
        a, b = pair
        out.append(f"blame differs: {a.speaker} names {a.party}, {b.speaker} names {b.party}")
    pair = toll_contest(figs)
    if pair:
        lo, hi = pair
        what = "killed" if (lo.counted or TOTAL) == TOTAL else f"{lo.counted} killed"
        out.append(f"tolls differ: {lo.speaker} {lo.killed} {what}, {hi.speaker} {hi.killed}")
    return out


def grade(claims: list[Claim], independent: int, contested: list[str]) -> tuple[str, str]:
    """(grade, reason) by the module's rule."""
    if contested:
        return "contested", "contested: " + "; ".join(contested)
    blamed_sides = {
        c.party_side for c in claims if c.kind == "responsibility" and c.stance == "blamed" and c.party_side
    }
    claimed = [c for c in claims if c.kind == "responsibility" and c.stance == "claimed"]
    if claimed:
        return "confirmed", f"claimed by {claimed[0].speaker}" + (
            f", reported by {independent} independent sources" if independent > 1 else ""
        )
    official = {c.speaker_side: c for c in claims if c.speaker_kind in OFFICIAL_KINDS and c.speaker_side}
    if len(official) >= 2 and blamed_sides & set(official):
        names = ", ".join(c.speaker for c in list(official.values())[:3])
        return "confirmed", f"confirmed by officials of both sides ({names})"
    if independent >= CORROBORATED_FAMILIES:
        return "corroborated", f"corroborated by {independent} independent sources"
    return "single_source", "single source: one outlet family reports it" if independent == 1 else "no source"


def corroborate(inc: Incident, new_claims: list[Claim]) -> Incident:
    """The incident with ``new_claims`` added and every corroboration field recomputed."""
    fams, member_of = group_families([report_of(s) for s in inc.sources])
    sources = [s.model_copy(update={"family": member_of.get(s.article_id)}) for s in inc.sources]
    seen_at = {s.article_id: s.seen_at for s in inc.sources}
    claims = {c.id: c for c in inc.claims}
    for c in new_claims:
        claims.setdefault(c.id, c.model_copy(update={"seen_at": c.seen_at or seen_at.get(c.article_id)}))
    claims_l = [c.model_copy(update={"family": member_of.get(c.article_id or "", c.family)}) for c in claims.values()]
    figs = figures(claims_l)
    contested = contested_reasons(claims_l, figs)
    independent = len(fams)
    g, why = grade(claims_l, independent, contested)
    totals = [f.killed for f in figs if f.killed is not None and (f.counted or TOTAL) == TOTAL]
    killed = totals or [f.killed for f in figs if f.killed is not None]
    return inc.model_copy(
        update={
            "sources": sources,
            "claims": claims_l,
            "families": fams,
            "independent_sources": independent,
            "single_source": independent == 1,
            "contested": bool(contested),
            "contested_reasons": contested,
            "figures": figs,
            "killed_range": (min(killed), max(killed)) if killed else None,
            "grade": g,
            "grade_reason": why,
        }
    )


def claims_of(ev: Event) -> list[Claim]:
    """The event's claims, each with its event, article and outlet (events of older extractors: none)."""
    return [
        c.model_copy(
            update={
                "event_id": c.event_id or ev.id,
                "article_id": c.article_id or ev.article_id,
                "outlet": c.outlet or ev.outlet,
                "url": c.url or ev.article_url,
                "published_at": c.published_at or ev.article_published_at,
            }
        )
        for c in ev.claims
    ]


def corroboration_changes(before: Incident, after: Incident) -> list[str]:
    """What changed in how corroborated the incident is: ``corroborated`` (it was single-source,
    now is corroborated or confirmed), ``contested`` (newly contested), ``claims`` (new claims)."""
    out = []
    if before.grade in (None, "single_source") and after.grade in ("corroborated", "confirmed"):
        out.append("corroborated")
    if after.contested and not before.contested:
        out.append("contested")
    if len(after.claims) > len(before.claims):
        out.append("claims")
    return out

"""An event's places from its mentions' place spans (pure functions; the event assembly
``pipeline.extraction.events`` calls them).

    group_places(mentions, attacker, targets, context)  -> the event's places, best first
    refine_places(places, article_towns(doc))           -> a country-only event gets its town
    drawn_place(places)                                  -> the place a map draws (has a point)

The place is where munitions fell: never the attacker's own country or a target state's
country named only as a country, and, when the text names no place, the country the text
is about other than the attacker's (the dateline's, a theatre the actors imply): never
the attacker's or the speaker's nationality ("A hospital was shelled by Russian forces" is
not in Russia). Candidates are ordered by the learned ranker (``rank``) when it ships,
else by precision then position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence

from spacy.tokens import Doc

from strikewatch.models import Actor, Place

from . import lookups as _geo
from .component import PRECISION_RANK

# Precisions that name a town or district (not only a country or a province).
TOWN_PRECISIONS = frozenset({"point", "city", "admin2"})
# Precisions that carry a point a map may draw (a country's or an unknown name's has none).
POINT_PRECISIONS = frozenset({"point", "city", "admin2", "admin1", "region", "border_region"})


class HasPlaces(Protocol):
    places: list[Place]


@dataclass(frozen=True)
class PlaceContext:
    """What the text says about where its strikes can be: ``where`` the countries it names
    as places (and the dateline's, the armed groups' theatres), most likely first; ``theatre``
    the country the theatre prior infers when it names none (``theatre.infer``)."""

    where: list[str] = field(default_factory=list)
    theatre: str | None = None


def place_context(doc: Doc) -> PlaceContext:
    """The ``PlaceContext`` the ``strike_places`` component left on ``doc``."""
    from . import theatre

    where = doc.user_data.get("sw_where")
    if where is None:
        where = list(doc._.sw_context or [])
    return PlaceContext(list(where), None if where else theatre.infer(doc.user_data.get("sw_text") or doc.text))


def unique_places(places: Iterable[Place]) -> list[Place]:
    """First mention of each place name, order kept."""
    seen: set[str] = set()
    out = []
    for p in places:
        key = _geo.norm(p.name)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def drawn_place(places: Sequence[Place]) -> Place | None:
    """The place a map draws for an event: the first with a point (what the store's
    lat/lon columns and the exports take)."""
    return next((p for p in places if p.lat is not None and p.lon is not None), None)


def group_places(group: Sequence[HasPlaces], attacker: Actor | None, targets: Sequence[Actor],
                 context: PlaceContext | Sequence[str]) -> list[Place]:
    """The places of one strike (its mentions' places, unique), most specific first. A
    country named only as the attacker's or a targeted state's is dropped when another
    place is there; with no place at all, the country the text is about, never the
    attacker's or a targeted state's own."""
    places: list[Place] = []
    seen = set()
    for m in group:
        for p in m.places:
            if (p.name, p.country_code) not in seen:
                seen.add((p.name, p.country_code))
                places.append(p)
    if attacker is not None and attacker.country and [p for p in places if p.country_code != attacker.country]:
        # The striking state's own country is rarely where its strike lands.
        places = [p for p in places if not (p.country_code == attacker.country and p.precision == "country")]
    state_targets = {a.country for a in targets if a.type == "state_military" and a.country}
    if state_targets and any(p.country_code not in state_targets for p in places):
        # "drone strikes against US personnel in Iraq": the target state is not the place.
        places = [p for p in places if not (p.country_code in state_targets and p.precision == "country")]
    places.sort(key=lambda p: PRECISION_RANK.get(p.precision, 9))
    if attacker is not None and attacker.country and places and all(
            p.country_code == attacker.country and p.precision == "country" for p in places):
        places = []  # only the attacker's nationality ("shelled by Russian forces"): no place named
    if not isinstance(context, PlaceContext):
        context = PlaceContext(list(context))
    attackers = {attacker.country} if attacker is not None and attacker.country else set()
    about = [iso for iso in context.where if iso not in state_targets and iso not in attackers]
    if not any(p.country for p in places):
        if about:
            # No place named: the country the text is about, at country precision (no point);
            # never the striking or targeted state's own.
            places.append(_geo.country_place(about[0]))
        elif context.theatre:
            # Nor any country: the theatre the words imply, marked as inferred. It may be the
            # attacker's own country when the prior learned so ("the Burkinabe air force" strikes
            # in Burkina Faso, "Russian forces" in Ukraine): that is evidence, not a rule.
            places.append(_geo.country_place(context.theatre).model_copy(update={"inferred": True}))
    return places


def refine_places(places: list[Place], towns: dict[str, Place]) -> list[Place]:
    """A country-only place gets, before it, the town the article reports from in that
    country (``article_towns``)."""
    if not places or any(p.precision in TOWN_PRECISIONS for p in places):
        return places
    town = towns.get(places[0].country_code or "")
    return [town, *places] if town is not None else places


def article_towns(doc: Doc) -> dict[str, Place]:
    """The town each country of the article is reported from: per country, the town or
    district the text names most often, when no other town there is named as often.
    News names the town once, often in the lead, and the strike sentence only the
    country ("... in Caracas. ... Venezuela's government said the drones ..."). It took
    news_dev place recall from 0.55 to 0.65 and ACLED location accuracy from 0.832 to 0.835."""
    from ...components.base import Keys

    counts: dict[str, dict[str, list[Place]]] = {}
    for span in doc.spans.get(Keys.PLACES, []):
        p = span._.sw_place
        if p is not None and p.precision in TOWN_PRECISIONS and p.country_code:
            counts.setdefault(p.country_code, {}).setdefault(p.name, []).append(p)
    out = {}
    for iso, names in counts.items():
        ranked = sorted(names.values(), key=len, reverse=True)
        if len(ranked) == 1 or len(ranked[0]) > len(ranked[1]):
            out[iso] = ranked[0][0]
    return out

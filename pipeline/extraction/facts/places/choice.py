"""The learned choice of where a strike landed among its candidate places.

The candidates of one strike are the places its mentions' sentences name (the rules'
order: most specific first), the other places the article names (its towns, the wire
dateline, places of other sentences) and, when nothing else is there, the country the
text is about. Each candidate is a row of ``FEATURES``: today's rules (precision, the
rules' rank, a locative or strike-verb cue before it, a qualifier after it, ACLED's
brackets, the dateline, the article's town), where it stands (in the strike's sentence,
distance to the trigger, position in the text, how often it is named) and whose country
it is (the attacker's, a targeted state's, a speaker's, the text's top country, the
theatre prior's, a nationality only). A logistic regression scores every row; the best
candidate is where munitions fell and the event's place list starts with it.

    cands = candidates(rule_places, evidence)       # Candidate rows of one strike
    x = features(cands, evidence)                   # (n, len(FEATURES)) float32
    p = model.predict(x)                            # probability each is the place

``strikewatch train`` fits it (``facts.places.train``) on ACLED's coded ``location`` (24k
notes: name or point within 25 km), news_dev's place annotations and news2_dev's Airwars
points and coded countries, scored out of fold and leaving one dataset out, and writes
``models/place-choice-1.npz`` with a JSON card. numpy only at run time.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from strikewatch.core.models import Place

from .names import norm

MODEL_VERSION = "place-choice-1"  # the FEATURES below are its columns: change them, retrain
# The theatre prior's guess is a candidate from this posterior on (below it the prior is
# guessing among many countries), and is chosen only with this probability: a guess must
# beat the named places and be likely in itself.
GUESS_MIN_POSTERIOR = 0.5
GUESS_MIN_PROBABILITY = 0.5
MODEL_FILE = Path(__file__).with_name("models") / f"{MODEL_VERSION}.npz"
PRECISIONS = ("point", "city", "admin2", "admin1", "region", "border_region", "country", "unknown")
# Distances (characters) beyond this count as this far: a place 2,000 characters from the
# trigger is as unrelated as one 20,000 away.
MAX_DISTANCE_CHARS = 2000
# Characters before a mention read for a locative or strike-verb cue ("shelled the
# outskirts of X": 40 covers a verb and three words).
CUE_WINDOW = 40
_LOCATIVE = re.compile(
    r"\b(?:in|near|at|outside|around|inside|into|on|over|across|towards?|between|"
    r"of)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,3}$",
    re.I,
)
_STRIKE_VERB = re.compile(
    r"\b(?:shell(?:ed|ing)|bomb(?:ed|ing)|struck|strikes?\s+(?:on|in)|hit|"
    r"target(?:ed|ing)|attack(?:ed|ing)|pounded|raided|"
    r"shot|fired\s+(?:at|on)|landed\s+(?:in|on|near))\s+(?:the\s+)?(?:[\w'’-]+\s+){0,3}$",
    re.I,
)
# "by X", "launched by X": who did it (an agent), not where it fell.
_AGENT = re.compile(r"\bby\s+(?:the\s+)?(?:[\w'’-]+\s+){0,2}$", re.I)
# "fired from X", "launched from X", "based in X", "X-based": where it came from, not where it fell.
_ORIGIN = re.compile(
    r"\b(?:from|launched\s+(?:from|in)|based\s+in|took\s+off\s+from)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,2}$", re.I
)
# What follows a name and locates it: ", Donetsk", " (Marib)", " district", " province".
_QUALIFIED = re.compile(
    r"\s*(?:,\s*[A-Z]|\(\s*[A-Z]|\s+(?:district|province|governorate|oblast|region|raion|village|town|city)\b)"
)

FEATURES = (
    *(f"prec={p}" for p in PRECISIONS),
    "has_point",
    "geonames_place",
    "no_mention",
    "inferred",
    "demonym",
    "in_strike_sentences",
    "same_sentence_as_trigger",
    "before_trigger",
    "log_distance",
    "rel_position",
    "log_mentions",
    "locative_cue",
    "strike_verb_cue",
    "origin_cue",
    "agent_cue",
    "qualified",
    "bracketed",
    "rule_first",
    "rule_rank",
    "dateline",
    "article_town",
    "attacker_country",
    "target_state_country",
    "speaker_country",
    "text_top_country",
    "text_country",
    "nationality_only",
    "theatre_country",
    "theatre_posterior",
    "same_country_as_rule_first",
    "country_named",
    # A short report (an incident note) and a long article weigh the cues differently.
    "short_text",
    "short_x_rule_first",
    "short_x_log_distance",
    "short_x_in_strike_sentences",
    "short_x_has_point",
)
# A text this short (characters) is an incident report, not an article (dev sets: ACLED and
# Insecurity Insight notes are 90 % under 400, news documents and Airwars narratives longer).
SHORT_TEXT_CHARS = 600


@dataclass(frozen=True)
class Candidate:
    """One place a strike may have landed at."""

    place: Place
    rule_rank: int  # its index in the rules' order among the strike's own places; -1: from elsewhere in the text
    demonym: bool = False  # found as a nationality adjective ("Iraqi bases")


@dataclass
class Evidence:
    """What the features read about one strike and its text (plain data: it pickles)."""

    text: str
    triggers: list[tuple[int, int]]
    sentences: list[tuple[int, int]]  # the strike's sentences (its mentions' and their continuations)
    attacker_country: str | None = None
    target_states: frozenset = frozenset()
    speaker_countries: frozenset = frozenset()
    where: list[str] = field(default_factory=list)
    nationalities: list[str] = field(default_factory=list)
    theatre: str | None = None
    towns: dict[str, str] = field(default_factory=dict)  # ISO2 -> the article's town there (its name)
    dateline: tuple[int, int] | None = None
    mention_counts: dict[str, int] = field(default_factory=dict)  # norm(name) -> place mentions in the text
    guess: tuple | None = None  # the theatre prior's (ISO2, posterior), however unsure


def candidates(
    rule_places: Sequence[Place], doc_places: Sequence[tuple[Place, bool]], extra: Sequence[Place] = ()
) -> list[Candidate]:
    """The strike's own places (the rules' order) then the article's other places, one per
    name and country; ``extra``: places known otherwise (the dateline's, a fallback country)."""
    out: list[Candidate] = []
    seen: set[tuple[str, str | None]] = set()
    demonym_at = {(p.mention.start, p.mention.end): d for p, d in doc_places if p.mention is not None}
    for i, p in enumerate(rule_places):
        key = (norm(p.name), p.country_code)
        if key not in seen:
            seen.add(key)
            out.append(Candidate(p, i, bool(p.mention and demonym_at.get((p.mention.start, p.mention.end)))))
    for p, d in [*doc_places, *((q, False) for q in extra)]:
        key = (norm(p.name), p.country_code)
        if key not in seen:
            seen.add(key)
            out.append(Candidate(p, -1, d))
    return out


def _nearest(span: tuple[int, int], points: Sequence[tuple[int, int]]) -> tuple[int, bool]:
    """(character distance to the nearest of ``points``, whether the span is before it)."""
    best, before = MAX_DISTANCE_CHARS, False
    for s, e in points:
        d = s - span[1] if span[1] <= s else (span[0] - e if span[0] >= e else 0)
        if d < best:
            best, before = d, span[1] <= s
    return best, before


def features(cands: Sequence[Candidate], ev: Evidence) -> np.ndarray:
    """One row of ``FEATURES`` per candidate."""
    x = np.zeros((len(cands), len(FEATURES)), dtype=np.float32)
    col = {f: i for i, f in enumerate(FEATURES)}
    first_country = next((c.place.country_code for c in cands if c.rule_rank == 0), None)
    n = max(1, len(ev.text))
    for r, c in enumerate(cands):
        p, m = c.place, c.place.mention
        row = x[r]
        row[col[f"prec={p.precision}"]] = 1.0
        row[col["has_point"]] = p.lat is not None and p.lon is not None
        row[col["geonames_place"]] = p.geonameid is not None
        row[col["inferred"]] = p.inferred
        row[col["demonym"]] = c.demonym
        row[col["rule_first"]] = c.rule_rank == 0
        row[col["rule_rank"]] = min(c.rule_rank, 5) / 5.0 if c.rule_rank >= 0 else 1.5
        cc = p.country_code
        if m is None:
            row[col["no_mention"]] = 1.0
            row[col["log_distance"]] = math.log1p(MAX_DISTANCE_CHARS)
            row[col["rel_position"]] = 1.0
        else:
            span = (m.start, m.end)
            row[col["in_strike_sentences"]] = any(s <= m.start and m.end <= e for s, e in ev.sentences)
            d, before = _nearest(span, ev.triggers)
            row[col["log_distance"]] = math.log1p(d)
            row[col["before_trigger"]] = before
            row[col["same_sentence_as_trigger"]] = any(
                s <= m.start and m.end <= e and any(s <= t0 < e for t0, _ in ev.triggers) for s, e in ev.sentences
            )
            row[col["rel_position"]] = m.start / n
            head = ev.text[max(0, m.start - CUE_WINDOW) : m.start]
            row[col["locative_cue"]] = _LOCATIVE.search(head) is not None
            row[col["strike_verb_cue"]] = _STRIKE_VERB.search(head) is not None
            row[col["origin_cue"]] = _ORIGIN.search(head) is not None
            row[col["agent_cue"]] = _AGENT.search(head) is not None
            tail = ev.text[m.end : m.end + 30]
            row[col["qualified"]] = _QUALIFIED.match(tail) is not None
            row[col["bracketed"]] = ev.text[max(0, m.start - 1) : m.start] == "[" or tail.lstrip().startswith("(")
            row[col["dateline"]] = ev.dateline is not None and m.start < ev.dateline[1] and ev.dateline[0] < m.end
            row[col["country_named"]] = p.precision == "country" and not c.demonym
        row[col["log_mentions"]] = math.log1p(ev.mention_counts.get(norm(p.name), 0))
        row[col["article_town"]] = cc is not None and ev.towns.get(cc) == p.name
        if cc:
            row[col["attacker_country"]] = cc == ev.attacker_country
            row[col["target_state_country"]] = cc in ev.target_states
            row[col["speaker_country"]] = cc in ev.speaker_countries
            row[col["text_top_country"]] = bool(ev.where) and cc == ev.where[0]
            row[col["text_country"]] = cc in ev.where
            row[col["nationality_only"]] = cc in ev.nationalities and cc not in ev.where
            row[col["theatre_country"]] = cc == ev.theatre
            row[col["theatre_posterior"]] = ev.guess[1] if ev.guess and cc == ev.guess[0] else 0.0
            row[col["same_country_as_rule_first"]] = cc == first_country
    if len(ev.text) < SHORT_TEXT_CHARS:
        x[:, col["short_text"]] = 1.0
        for f in ("rule_first", "log_distance", "in_strike_sentences", "has_point"):
            x[:, col[f"short_x_{f}"]] = x[:, col[f]]
    return x


@dataclass(frozen=True)
class PlaceChoiceModel:
    """Logistic regression over ``FEATURES`` (standardised)."""

    version: str
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    card: dict

    def predict(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0, dtype=np.float32)
        z = (x - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights + self.bias)))

    def save(self, path: Path = MODEL_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.float32(self.bias),
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
        )
        path.with_suffix(".card.json").write_text(
            json.dumps({"version": self.version, "features": list(FEATURES), **self.card}, indent=1, sort_keys=True)
            + "\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> PlaceChoiceModel:
        z = np.load(path)
        card_file = path.with_suffix(".card.json")
        card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.exists() else {}
        if card.get("features", list(FEATURES)) != list(FEATURES):
            raise ValueError(f"{path}: trained on other features than this code's; run `strikewatch train`")
        return cls(
            card.pop("version", MODEL_VERSION),
            z["weights"].astype(np.float32),
            float(z["bias"]),
            z["mean"].astype(np.float32),
            z["scale"].astype(np.float32),
            card,
        )


@lru_cache(maxsize=1)
def load(path: Path = MODEL_FILE) -> PlaceChoiceModel | None:
    """The shipped model (read once per process), or None when none ships."""
    return PlaceChoiceModel.load(path) if path.exists() else None


_OVERRIDE: list[PlaceChoiceModel | None] = []


@contextlib.contextmanager
def override(model: PlaceChoiceModel | None):
    """Use ``model`` (None: the rules' order) instead of the shipped one inside the block."""
    _OVERRIDE.append(model)
    try:
        yield model
    finally:
        _OVERRIDE.pop()


def current() -> PlaceChoiceModel | None:
    return _OVERRIDE[-1] if _OVERRIDE else load()


# Collection for training: while a list is pushed here, every strike's candidates and
# evidence are appended to it (``facts.places.train`` reads them).
_COLLECT: list[list] = []


@contextlib.contextmanager
def collecting():
    rows: list = []
    _COLLECT.append(rows)
    try:
        yield rows
    finally:
        _COLLECT.pop()


def record(cands: list[Candidate], ev: Evidence, rule_places: list[Place], fallback: list[Place], towns: dict) -> None:
    """One strike's candidates, for training (a no-op unless ``collecting``)."""
    if _COLLECT:
        _COLLECT[-1].append((cands, ev, rule_places, fallback, towns))


def order(rule_places: list[Place], cands: Sequence[Candidate], p: np.ndarray) -> list[Place]:
    """The event's places: the best-scored candidate first, then the strike's own places
    in the order of their scores."""
    if not len(cands):
        return list(rule_places)
    sure = [
        i for i, c in enumerate(cands) if not (c.rule_rank < 0 and c.place.inferred and p[i] < GUESS_MIN_PROBABILITY)
    ]
    if not sure:
        return list(rule_places)
    best = max(sure, key=lambda i: p[i])
    chosen = cands[best].place
    own = sorted((i for i, c in enumerate(cands) if c.rule_rank >= 0 and i != best), key=lambda i: -p[i])
    if chosen.inferred:
        # The theatre's country beat every place the text names: those of other countries go.
        own = [i for i in own if cands[i].place.country_code in (None, chosen.country_code)]
    return [chosen, *(cands[i].place for i in own)]

"""The theatre prior: which country a strike report is about when it names no place.

Short incident reports often name no town and no country ("January 2024: warplanes bombed
a university building."); who fights, with what, against whom says where ("Houthi",
"RSF", "junta", "Israeli"). A multinomial naive Bayes over the report's words, trained on
coded reports (``strikewatch train``: ACLED notes and news2_dev incident reports with the
coders' country), scored out of fold. The assembly uses it only when the text names no
place and the posterior reaches ``MIN_POSTERIOR``; the place it gives is the country,
precision "country", ``inferred=True`` and no point.

    prior = load()                      # None when no model ships
    prior.predict("Russian S-300 rockets hit a school")   # ("UA", 0.97)

The model is vocabulary as data: ``models/theatre-2.json`` (token -> per-country counts).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_VERSION = "theatre-2"  # theatre-2: the years a report names are words
MODEL_FILE = Path(__file__).with_name("models") / f"{MODEL_VERSION}.json"
# Laplace smoothing of the per-country word counts (pseudo-count per word).
ALPHA = 0.5
# A word must occur in this many training reports to be kept (rarer ones are names of
# single villages and people: they fit the training records, not the theatre).
MIN_DOC_FREQ = 3
# Countries with fewer training reports than this are not predicted.
MIN_COUNTRY_DOCS = 20
# The posterior a country needs before it is placed (inferred). Chosen on out-of-fold
# posteriors (the card prints the share placed and right per threshold): at 0.8 Insecurity
# Insight strikes are placed 0.95 and right 0.92 of those, ACLED 0.93 and 0.94.
MIN_POSTERIOR = 0.8
# Only reports this short (characters) train it: it serves reports that name no place,
# which are short; long narratives (Airwars, median ~330 words) contain every word, and in
# a Bernoulli model they made every word likely for their country, so that short reports
# lacking those words were pushed away from it (Insecurity Insight, out of fold: 0.49 -> see card).
SHORT_REPORT_CHARS = 600
_WORD = re.compile(r"[^\W\d_]{2,}", re.U)
# Function words carry no theatre and only add noise to the counts.
_STOP = frozenset(
    "the a an of in on at to and or by for with from was were is are be been has had have that this "
    "its their his her it as after during which who into over than also".split()
)


# A year a report names ("August 2019: ... Russian warplanes") dates the war it is about:
# Russian jets bombed Syria before 2022 and Ukraine after. As a word "y2019".
_YEAR = re.compile(r"(?<!\d)(?:19[89]\d|20[0-4]\d)(?!\d)")


def tokens(text: str) -> list[str]:
    """Lower-case words of a report (letters only, any script), without function words,
    and the years it names (``_YEAR``)."""
    words = [w for w in (m.group(0).lower() for m in _WORD.finditer(text or "")) if w not in _STOP]
    return words + ["y" + m.group(0) for m in _YEAR.finditer(text or "")]


@dataclass
class TheatrePrior:
    """Bernoulli naive Bayes: a word's presence and its absence are both evidence (a report
    that never says "Iran" is unlikely to be about Iran). ``base`` holds, per country, the
    log prior plus the log-probability of every vocabulary word being absent; a present
    word adds ``log_lik`` = log P(present) - log P(absent)."""

    countries: list[str]
    base: list[float]
    log_lik: dict[str, list[float]]  # word -> per-country log-odds of presence

    def scores(self, text: str) -> list[float]:
        s = list(self.base)
        for w in set(tokens(text)):
            ll = self.log_lik.get(w)
            if ll is None:
                continue
            for i, v in enumerate(ll):
                s[i] += v
        return s

    def predict(self, text: str) -> tuple[str, float] | None:
        """(ISO2, posterior) of the most likely country, or None for a text with no known word.
        A long text is judged by its lede (``SHORT_REPORT_CHARS``), as the model was trained."""
        text = (text or "")[:SHORT_REPORT_CHARS]
        if not any(w in self.log_lik for w in tokens(text)):
            return None
        s = self.scores(text)
        top = max(s)
        z = sum(math.exp(v - top) for v in s)
        i = s.index(top)
        return self.countries[i], 1.0 / z


def fit(examples: Iterable[tuple[str, str] | tuple[str, str, float]]) -> dict:
    """Counts of a model from (text, ISO2[, weight]) examples: the JSON ``from_json`` reads."""
    docs: Counter = Counter()
    df: Counter = Counter()
    counts: dict[str, Counter] = defaultdict(Counter)
    rows = [(set(tokens(e[0])), e[1], e[2] if len(e) > 2 else 1.0) for e in examples if e[1]]
    for ws, c, wt in rows:
        docs[c] += wt
        df.update(ws)
    keep_c = {c for c, n in docs.items() if n >= MIN_COUNTRY_DOCS}
    for ws, c, wt in rows:
        if c in keep_c:
            for w in ws:
                if df[w] >= MIN_DOC_FREQ:
                    counts[w][c] += wt
    return {
        "version": MODEL_VERSION,
        "docs": {c: round(docs[c], 3) for c in sorted(keep_c)},
        "words": {w: {c: round(n, 3) for c, n in v.items()} for w, v in sorted(counts.items())},
    }


def from_json(d: dict) -> TheatrePrior:
    """The prior from fitted counts (Bernoulli-style document counts, Laplace-smoothed)."""
    countries = sorted(d["docs"])
    n = sum(d["docs"].values())
    base = [math.log(d["docs"][c] / n) for c in countries]
    log_lik = {}
    for w, per in d["words"].items():
        odds = []
        for i, c in enumerate(countries):
            p = (per.get(c, 0) + ALPHA) / (d["docs"][c] + 2 * ALPHA)
            base[i] += math.log(1 - p)
            odds.append(math.log(p) - math.log(1 - p))
        log_lik[w] = odds
    return TheatrePrior(countries, base, log_lik)


@lru_cache(maxsize=1)
def load(path: Path = MODEL_FILE) -> TheatrePrior | None:
    """The shipped prior (read once per process), or None when no model file ships."""
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None


_OVERRIDE: list[TheatrePrior | None] = []


@contextlib.contextmanager
def override(prior: TheatrePrior | None):
    """Use ``prior`` instead of the shipped model inside the block (out-of-fold scoring:
    each fold's records are extracted with the model fit without them)."""
    _OVERRIDE.append(prior)
    try:
        yield prior
    finally:
        _OVERRIDE.pop()


def infer(text: str, prior: TheatrePrior | None = None, min_posterior: float = MIN_POSTERIOR) -> str | None:
    """ISO2 of the theatre a report is about, when the prior is sure enough, else None."""
    if prior is None:
        prior = _OVERRIDE[-1] if _OVERRIDE else load()
    if prior is None:
        return None
    hit = prior.predict(text)
    return hit[0] if hit and hit[1] >= min_posterior else None


def guess(text: str, prior: TheatrePrior | None = None) -> tuple[str, float] | None:
    """(ISO2, posterior) of the theatre the prior finds most likely, however unsure."""
    if prior is None:
        prior = _OVERRIDE[-1] if _OVERRIDE else load()
    return prior.predict(text) if prior is not None else None


def save(d: dict, path: Path = MODEL_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(d, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")


# Weight of one ACLED note against one incident report. Tried 0.2 (ACLED's 24k notes are 5
# times the reports): out of fold, Insecurity Insight right-of-placed fell 0.897 -> 0.888
# and ACLED's 0.90 -> 0.80 at posterior 0.6, so notes count fully.
ACLED_WEIGHT = 1.0


def examples_from(records: Sequence[dict]) -> list[tuple[str, str, float]]:
    """(text, ISO2, weight) of coded dev records: ACLED notes and news2 incident reports."""
    from .resolve import normalize_country

    out = []
    for r in records:
        hit = normalize_country(r.get("country") or "")
        if hit and r.get("text") and len(r["text"]) <= SHORT_REPORT_CHARS:
            out.append((r["text"], hit[1], ACLED_WEIGHT if str(r.get("id", "")).startswith("acled:") else 1.0))
    return out

"""Does a native-language strike sentence report a strike that happened?

A logistic regression over the multilingual-e5 embedding of the candidate sentence
(``lang.embeddings``) and features of what the components found in it, the same in every
language (``FEATURES``): the strike type its words name, whether a generic or a broad word
found it, weapons, places, dates, casualty figures, armed parties, the negative senses of
strike words in the sentence and in the article (labour strikes, sport, tests, arms deals,
threats, anniversaries), its place in the article. Trained by ``strikewatch train-lang``
(``lang/train.py``) on the English dev sets' candidates (their rule features mapped onto
these) plus multilingual_dev, and shipped as ``models/relevance-ml-<version>.npz`` with a
JSON card of its out-of-fold scores per language. An article's event is kept when its best
sentence reaches ``threshold``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..relevance import RULE_FEATURES as EN_FEATURES

MODEL_DIR = Path(__file__).resolve().parents[1] / "models"
MODEL_VERSION = "relevance-ml-1"
EVENT_TYPES = ("drone_strike", "air_strike", "missile_attack", "shelling")
FEATURES = (
    *(f"type={t}" for t in EVENT_TYPES),
    "generic",
    "broad",
    "weapon",
    "place",
    "country",
    "time",
    "casualties",
    "actor",
    "negative",
    "log_negatives_in_doc",
    "lead",
    "log_tokens",
    "log_triggers_in_doc",
    "historical",
    "infinitive",
)


def english_features(row: list[float]) -> list[float]:
    """An English candidate's rule features (``relevance.RULE_FEATURES``) as ``FEATURES``:
    what the two pipelines both find. The English triggers have no generic word and drop
    their negative senses before they are candidates (0 here)."""
    f = dict(zip(EN_FEATURES, row))
    return [
        *(f[f"type={t}"] for t in EVENT_TYPES),
        0.0,
        f["broad"],
        max(f["platform"], f["munition"]),
        f["place"],
        0.0,
        f["time"],
        f["casualties"],
        f["actor"],
        0.0,
        0.0,
        f["lead"],
        f["log_tokens"],
        f["triggers_in_doc"],
        0.0,
        0.0,
    ]


@dataclass(frozen=True)
class Candidate:
    """One sentence with strike words: what the model scores."""

    start: int  # offsets of the sentence in the article text
    end: int
    text: str
    type: str  # the event type the sentence's words name (or its weapons)
    features: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class NativeRelevance:
    version: str
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float
    card: dict

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = x.astype(np.float64).copy()
        n = len(FEATURES)
        z[:, -n:] = (z[:, -n:] - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights + self.bias)))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=np.float32(self.bias),
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            threshold=np.float64(self.threshold),
        )
        path.with_suffix(".json").write_text(
            json.dumps({"version": self.version, **self.card}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )

    @classmethod
    def load(cls, path: Path) -> NativeRelevance:
        z = np.load(path)
        card = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
        return cls(
            card.pop("version", path.stem),
            z["weights"].astype(np.float64),
            float(z["bias"]),
            z["mean"].astype(np.float64),
            z["scale"].astype(np.float64),
            float(z["threshold"]),
            card,
        )


def model_path(version: str = MODEL_VERSION) -> Path:
    return MODEL_DIR / f"{version}.npz"


@lru_cache(maxsize=2)
def load_model(version: str = MODEL_VERSION) -> NativeRelevance | None:
    path = model_path(version)
    return NativeRelevance.load(path) if path.exists() else None


def featurise(cands: list[Candidate], embed) -> np.ndarray:
    """Rows of [embedding | features]; each distinct sentence embedded once."""
    if not cands:
        return np.zeros((0, 384 + len(FEATURES)), dtype=np.float32)
    texts = list(dict.fromkeys(c.text for c in cands))
    vecs = embed(texts)
    row = {t: vecs[i] for i, t in enumerate(texts)}
    return np.stack([np.concatenate([row[c.text], np.asarray(c.features, dtype=np.float32)]) for c in cands]).astype(
        np.float32
    )


def log1p(n: float) -> float:
    return math.log1p(n)

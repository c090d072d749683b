"""``strike_relevance``: does a trigger's sentence report a strike that happened?

A logistic regression over the MiniLM sentence embedding of the trigger's sentence
(``strikewatch.core.embeddings``, ONNX, no torch) and a few features of what the other
components found in that sentence (trigger type, whether it came from a broad
pattern, actors, weapons, places, times, casualties). It reads the context rule
triggers cannot: "bombarded by fans", "a shell company", "a missile test" score low;
"warplanes destroyed the depot" high. The component sets ``span._.sw_p_event`` on each
trigger and ``doc._.sw_relevance`` to the model's ``Thresholds``; the assembly keeps an
event when the highest probability among its mentions reaches its threshold (one for
precise triggers, one where only broad patterns fired; each for short texts and for full
articles).

The model is trained by ``strikewatch train`` (``pipeline.extraction.tools.train``) and ships
with the package as ``models/relevance-<version>.npz``; ``load_model()`` reads it once per
process. Without a model file the component passes (every event is kept).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span

from .components.base import Keys, SpanIndex, sentence_of, sentences
from .facts.triggers.component import BROAD, REFERENCE

MODEL_DIR = Path(__file__).with_name("models")
MODEL_VERSION = "relevance-5"
EVENT_TYPES = ("drone_strike", "air_strike", "missile_attack", "shelling")
# Rule features, in vector order after the embedding. Each is 0/1 but the last two.
RULE_FEATURES = (
    *(f"type={t}" for t in EVENT_TYPES),
    "broad",
    "actor",
    "state_actor",
    "armed_group",
    "platform",
    "munition",
    "place",
    "time",
    "casualties",
    "attribution",
    "caps",
    "lead",
    "log_tokens",
    "triggers_in_doc",
)
_LOCK = threading.Lock()


# An article this long (characters) is a full document: its many sentences give a stray
# strike word more chances, so its events need their own thresholds. ACLED notes and news
# snippets are shorter (dev sets: 90 % under 331 and 376 characters), full documents
# longer (news_dev median 1,929, general news 2,039).
LONG_DOC_CHARS = 1000


@dataclass(frozen=True)
class Thresholds:
    """Probability an event needs: by article length, and by whether a precise trigger found it."""

    precise: float
    broad: float
    long_precise: float
    long_broad: float

    def needed(self, doc_chars: int, precise: bool) -> float:
        if doc_chars >= LONG_DOC_CHARS:
            return self.long_precise if precise else self.long_broad
        return self.precise if precise else self.broad

    def as_list(self) -> list[float]:
        return [self.precise, self.broad, self.long_precise, self.long_broad]


@dataclass(frozen=True)
class RelevanceModel:
    """Weights over [embedding | standardised rule features], and the thresholds."""

    version: str
    weights: np.ndarray  # (dim,)
    bias: float
    mean: np.ndarray  # standardisation of the rule features
    scale: np.ndarray
    thresholds: Thresholds
    card: dict  # how it was trained and scored (written by strikewatch train)

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = x.copy()
        n = len(RULE_FEATURES)
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
            thresholds=np.asarray(self.thresholds.as_list(), dtype=np.float64),
        )
        path.with_suffix(".json").write_text(
            json.dumps({"version": self.version, **self.card}, indent=2, sort_keys=True) + "\n"
        )

    @classmethod
    def load(cls, path: Path) -> RelevanceModel:
        z = np.load(path)
        card = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
        return cls(
            version=card.pop("version", path.stem),
            weights=z["weights"].astype(np.float32),
            bias=float(z["bias"]),
            mean=z["mean"].astype(np.float32),
            scale=z["scale"].astype(np.float32),
            thresholds=_thresholds(z),
            card=card,
        )


def _thresholds(z) -> Thresholds:
    if "thresholds" in z:
        return Thresholds(*(float(t) for t in z["thresholds"]))
    t, b = float(z["threshold"]), float(z["threshold_broad"])  # files written before the long-article pair
    return Thresholds(t, b, t, b)


def model_path(version: str = MODEL_VERSION) -> Path:
    return MODEL_DIR / f"{version}.npz"


@lru_cache(maxsize=4)
def load_model(version: str = MODEL_VERSION) -> RelevanceModel | None:
    path = model_path(version)
    return RelevanceModel.load(path) if path.exists() else None


# --------------------------------------------------------------------------- features


def candidate_triggers(doc: Doc) -> list[Span]:
    return [t for t in doc.spans.get(Keys.TRIGGERS, []) if t.label_ != REFERENCE]


def rule_features(
    doc: Doc, trig: Span, sent: Span, index: dict[str, SpanIndex], n_triggers: int, lead: bool
) -> list[float]:
    def any_in(key, pred=lambda s: True):
        return float(
            any(pred(s) for s in index[key].within(sent.start_char, sent.end_char) if s.end_char <= sent.end_char)
        )

    actors = [
        s._.sw_actor for s in index[Keys.ACTORS].within(sent.start_char, sent.end_char) if s.end_char <= sent.end_char
    ]
    return [
        *(float(trig.label_ == t) for t in EVENT_TYPES),
        float(trig.id_ == BROAD),
        float(bool(actors)),
        float(any(a.type == "state_military" for a in actors)),
        float(any(a.type in ("militia_proxy", "rebel", "terrorist") for a in actors)),
        any_in(Keys.WEAPONS, lambda s: s.label_ == "platform"),
        any_in(Keys.WEAPONS, lambda s: s.label_ == "munition"),
        any_in(Keys.PLACES),
        any_in(Keys.TIMES),
        any_in(Keys.CASUALTIES, lambda s: s.label_ == "reported"),
        any_in(Keys.ATTRIBUTIONS),
        float(doc.user_data.get("sw_caps", False)),
        float(lead),
        math.log1p(len(sent)),
        math.log1p(n_triggers),
    ]


def doc_candidates(doc: Doc) -> list[tuple[Span, str, list[float]]]:
    """(trigger, sentence text to embed, rule features) for every candidate trigger."""
    trigs = candidate_triggers(doc)
    if not trigs:
        return []
    index = {
        k: SpanIndex(doc.spans[k]) if k in doc.spans else SpanIndex([])
        for k in (Keys.ACTORS, Keys.WEAPONS, Keys.PLACES, Keys.TIMES, Keys.CASUALTIES, Keys.ATTRIBUTIONS)
    }
    sents = [s for s in sentences(doc) if s.text.strip()]
    lead_end = sents[min(2, len(sents) - 1)].end_char if sents else 0
    out = []
    for t in trigs:
        sent = sentence_of(doc, t)
        out.append((t, sent.text.strip(), rule_features(doc, t, sent, index, len(trigs), t.start_char < lead_end)))
    return out


def featurise(candidates: Sequence[tuple[Span, str, list[float]]], embed) -> np.ndarray:
    """Rows of [embedding | rule features]; each distinct sentence is embedded once."""
    if not candidates:
        return np.zeros((0, 0), dtype=np.float32)
    texts = list(dict.fromkeys(text for _t, text, _f in candidates))
    vecs = embed(texts)
    row = {text: vecs[i] for i, text in enumerate(texts)}
    return np.stack(
        [np.concatenate([row[text], np.asarray(f, dtype=np.float32)]) for _t, text, f in candidates]
    ).astype(np.float32)


# --------------------------------------------------------------------------- component


class RelevanceScorer:
    def __init__(self, nlp: Language, name: str, version: str):
        self.name = name
        self.model = load_model(version)
        self._embedder = None

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._embedder is None:
            from strikewatch.core.embeddings import load_embedder

            with _LOCK:
                self._embedder = load_embedder()
        return self._embedder.encode(texts)

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 32) -> Iterable[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._score(batch)
                batch = []
        yield from self._score(batch)

    def _score(self, docs: list[Doc]) -> list[Doc]:
        if self.model is None:
            return docs
        cands = [(doc, c) for doc in docs for c in doc_candidates(doc)]
        if cands:
            p = self.model.predict(featurise([c for _d, c in cands], self._embed))
            for (_doc, (trig, _text, _f)), prob in zip(cands, p):
                trig._.sw_p_event = float(prob)
        for doc in docs:
            doc._.sw_relevance = self.model.thresholds
        return docs


@Language.factory(
    "strike_relevance", assigns=["span._.sw_p_event"], requires=["doc.spans"], default_config={"version": MODEL_VERSION}
)
def make_relevance_scorer(nlp: Language, name: str, version: str) -> RelevanceScorer:
    return RelevanceScorer(nlp, name, version)

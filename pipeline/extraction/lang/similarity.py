"""Similarity of two strike reports in any of the languages read, on the scale the
clustering's thresholds were set on (MiniLM cosine, ``pipeline/incidents.py``).

    sim = cross_lingual(minilm_similarity)
    sim("Russian missiles struck Kharkiv ...", "Российские ракеты ударили по Харькову ...")   # ~0.68

Two English texts keep MiniLM (the English clustering is unchanged). Any other pair is
compared with multilingual-e5, whose cosine is compressed (unrelated news 0.73-0.80), mapped
linearly onto MiniLM's scale: measured here on report pairs in en/ru, en/ar, en/fr, one
strike told in two languages 0.855-0.931 (0.855: an English lead with the toll against a
Russian headline and lead without it), two strikes of one theatre and theme 0.827-0.830
(those also differ in place or day, which the clustering checks first); ``E5_JOIN`` maps
to the clustering's MIN_SIMILARITY (0.55, place and date agree) and ``E5_STRONG`` to
STRONG_SIMILARITY (0.70, when either is unknown). A handful of pairs set these: the
mixed-language benchmark and a labelled set of cross-language pairs should re-set them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from .detect import ENGLISH, detect

E5_JOIN = 0.835
E5_STRONG = 0.885
MINILM_JOIN = 0.55
MINILM_STRONG = 0.70
# Distinct texts whose language and vector are kept (evidence of open incidents).
CACHE_TEXTS = 4096


def e5_on_minilm_scale(cosine: float) -> float:
    slope = (MINILM_STRONG - MINILM_JOIN) / (E5_STRONG - E5_JOIN)
    return max(0.0, min(1.0, MINILM_JOIN + (cosine - E5_JOIN) * slope))


def cross_lingual(english: Callable[[str, str], float]) -> Callable[[str, str], float]:
    """A similarity that is ``english`` for two English texts and e5 (rescaled) otherwise."""
    from .embeddings import load_e5

    @lru_cache(maxsize=CACHE_TEXTS)
    def language(text: str) -> str:
        return detect(text)

    @lru_cache(maxsize=CACHE_TEXTS)
    def vector(text: str):
        return load_e5().encode([text])[0]

    def sim(a: str, b: str) -> float:
        if language(a) == ENGLISH and language(b) == ENGLISH:
            return english(a, b)
        return e5_on_minilm_scale(float(vector(a) @ vector(b)))

    return sim

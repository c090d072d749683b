"""One copy per worker process of what is expensive to load: the spaCy pipeline and
the sentence-embedding model.

    nlp = per_process(("spacy", name), lambda: load_nlp(name))   # in DoFn.setup()

Beam's Python SDK harness builds a new bundle processor, and so new DoFn instances
whose ``setup()`` runs again, for every bundle of a stage that runs while the others
are busy, and again after it drops processors that sat idle for a minute. A model
loaded in ``setup()`` was therefore loaded many times over: profiled with py-spy on the
Prism worker at 20 articles/s (bench/bench_e2e.py), 13 % of its time in the steady
state went to ``_ClusterFn.setup`` reloading MiniLM. Kept here, each model loads once
per process and stays for the process's life (a worker process exists to run them).
"""

from __future__ import annotations

import threading
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")

_CACHE: dict[Hashable, object] = {}
_LOCK = threading.Lock()


def per_process(key: Hashable, load: Callable[[], T]) -> T:
    """The value cached under ``key`` in this process, loaded by ``load()`` on first use
    (callers of other keys wait meanwhile: loads compete for the same cores anyway)."""
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = load()
        return _CACHE[key]  # type: ignore[return-value]

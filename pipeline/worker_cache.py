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
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

_CACHE: dict[Hashable, object] = {}
_KEY_LOCKS: dict[Hashable, threading.Lock] = {}
_LOCK = threading.Lock()  # guards the two dicts only, never held during a load


def per_process(key: Hashable, load: Callable[[], T]) -> T:
    """The value cached under ``key`` in this process, loaded by ``load()`` on first use.
    Callers of the same key wait for its one load; a cached value of another key is
    returned at once. (A single lock held through every load made the batched lane's new
    bundle processors wait for the long-article lane's spaCy load: strike articles
    waited 5-12 s at the start of a bench_e2e run at 50 articles/s.)"""
    try:
        return _CACHE[key]  # type: ignore[return-value]
    except KeyError:
        pass
    with _LOCK:
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        if key not in _CACHE:
            _CACHE[key] = load()
        return _CACHE[key]  # type: ignore[return-value]

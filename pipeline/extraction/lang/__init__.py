"""Reading strike reports in Arabic, Russian, Ukrainian, French and Spanish natively.

No translation: each language has a blank spaCy pipeline (its tokenizer) with the
components of ``lang.components``, fed by that language's vocabulary files under
``pipeline/extraction/facts/<fact>/vocab/``, a native-script gazetteer
(``lang.gazetteer``), and a relevance model on multilingual embeddings
(``lang.relevance``, ``lang.embeddings``). English articles never touch any of it beyond
language ID (``lang.detect``); ``extract_events`` routes by ``language_of``.

    from pipeline.extraction.lang import extract_native, language_of
    events = extract_native([article], "uk")[0]   # Events with English names, the article's quotes

Per worker process: each language's pipeline, the gazetteer, the embedder and the model
load once, on the first article that needs them (``native_memory()`` reports what they hold).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

from strikewatch.core.models import Article, Event

from .detect import ENGLISH, NATIVE, READ, is_read, language_of, with_language

__all__ = [
    "ENGLISH",
    "NATIVE",
    "NATIVE_VERSION",
    "READ",
    "extract_native",
    "is_read",
    "language_of",
    "load_native",
    "native_docs",
    "with_language",
]

# The native extractor's version, on every event it makes (the English one's is
# EXTRACTOR_VERSION): bumped whenever its output can change for the same text.
NATIVE_VERSION = "native-1+relevance-ml-1"
_LOCK = threading.Lock()


@lru_cache(maxsize=len(NATIVE))
def load_native(lang: str):
    """The blank spaCy pipeline of ``lang`` with the native components (once per process)."""
    import spacy

    from . import components

    with _LOCK:
        nlp = spacy.blank(lang)
        for name in components.PIPES:
            nlp.add_pipe(name)
        return nlp


def gate_hits(text: str, lang: str) -> list[tuple[int, int]]:
    """Where the language's strike words and weapons are, in text order."""
    from .components import _pattern
    from .vocab import matches, normalize

    norm = normalize(lang, text)
    found = {
        (s, e)
        for fact, name in (("triggers", "triggers"), ("weapons", "weapons"))
        for s, e, _i in matches(_pattern(fact, name, lang), norm)
    }
    return sorted(found)


def native_docs(articles: Sequence[Article], lang: str):
    """(index, doc) of each article with a strike word (its gate passages parsed)."""
    from .. import gate

    nlp = load_native(lang)
    for i, article in enumerate(articles):
        text = article.text
        sel = gate.select(text, found=gate_hits(text, lang))
        if sel is None:
            continue
        doc = nlp.make_doc(gate.mask(text, sel.passages))
        doc.user_data["sw_passages"] = list(sel.passages)
        doc.user_data["sw_published"] = article.published_at
        for _name, proc in nlp.pipeline:
            doc = proc(doc)
        yield i, doc


def extract_native(articles: Sequence[Article], lang: str, model=None, embed=None) -> list[list[Event]]:
    """Events of articles in ``lang`` (one per article at most: the sentences the relevance
    model keeps). Without a model file, sentences with a precise strike word are kept."""
    from . import assemble
    from .relevance import featurise, load_model

    model = model if model is not None else load_model()
    out: list[list[Event]] = [[] for _ in articles]
    work = [(i, doc, assemble.candidates(doc)) for i, doc in native_docs(articles, lang)]
    work = [(i, doc, cands) for i, doc, cands in work if cands]
    if not work:
        return out
    if model is not None:
        if embed is None:
            from .embeddings import load_e5

            embed = load_e5().encode
        x = featurise([c for _i, _d, cands in work for c in cands], embed)
        probs = model.predict(x)
        threshold = model.threshold
    else:
        probs = [0.0 if c.features[5] else 1.0 for _i, _d, cands in work for c in cands]  # broad words need the model
        threshold = 0.5
    k = 0
    for i, doc, cands in work:
        scored = sorted(((c, float(p)) for c, p in zip(cands, probs[k : k + len(cands)])), key=lambda cp: -cp[1])
        k += len(cands)
        kept = [(c, p) for c, p in scored if p >= threshold]
        if kept:
            out[i] = [assemble.to_event(doc, articles[i], kept, lang)]
    return out

"""Offline tooling of the extractor: scoring on the dev sets (``strikewatch eval``:
``evaluate``, ``eval_news``) and training its learned models (``strikewatch train``).

Nothing in the runtime (the Beam stage, ``extract_events``) imports this package: it reads
the dev sets in ``../shared/data`` and writes models into ``pipeline/extraction/models``.
"""

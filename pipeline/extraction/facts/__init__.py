"""Extraction organised by the fact it extracts, one folder each: ``triggers`` (what
reports a strike), ``parties`` (who struck whom), ``weapons``, ``casualties``, ``claims``
(who says what), ``places`` (where it landed) and ``time`` (when). Each folder holds its
spaCy components (``component.py``, ``@Language.factory`` with ``default_config``), its
vocabulary as data files and, where the decision is learned, its model with a card."""

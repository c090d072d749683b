"""Who says what about a strike, and how independently (issue 21). Pure domain logic, no Beam:

* ``families``: outlet families (copies of one text by MinHash, a wire agency's credit, one
  publisher's domains and editions), so ``independent_sources`` counts families, not articles;
* ``corroboration``: an incident's claims kept across revisions, the figures per speaker,
  ``contested``, ``single_source`` and the grade with its reason.

``pipeline/incidents.py`` calls ``corroboration.corroborate`` on every revision; the claims
themselves come from extraction (``pipeline/extraction/facts/claims``).
"""

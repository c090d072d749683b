"""Event extraction: pure functions over spaCy docs (no Beam, no Kafka here).

Contract used by ``pipeline.extract`` (the Beam stage) and the CLI:

* ``load_nlp(model_name) -> spacy.Language`` — the model with strikewatch's entity
  rules and gazetteers added; called once per worker in ``DoFn.setup``.
* ``extract_events(nlp, articles) -> list[list[Event]]`` — batched: runs
  ``nlp.pipe`` over the articles' texts and returns the events of each article.
"""

"""Connectors: news sources into Kafka.

One module per concern: ``fetch`` (HTTP with SSRF guard, limits, conditional GET,
robots.txt), ``safexml`` (encoding sniffing, entity-bomb/XXE refusal), ``feeds``
(RSS/Atom/RDF/JSON Feed -> Articles), ``sitemap`` and ``gdelt`` (two more source
kinds), ``fulltext`` (article pages via trafilatura), ``dedup`` (exactly-once state
in a compacted topic), ``producer`` (the one module that talks to Kafka),
``scheduler`` (polling), ``replay`` (backfill), ``main`` (the commands).
"""

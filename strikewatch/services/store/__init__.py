"""The incident store: PostgreSQL tables of what the pipeline found (``db``: migrations and
upserts; ``consumer``: ``strikewatch store``; ``queries``: what the read API asks;
``server``: the local PostgreSQL of ``strikewatch up``)."""

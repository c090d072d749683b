"""Moved: time expressions are parsed by ``pipeline.extraction.facts.time.parse``.

A thin alias kept for older imports (bench/bench_geo_time.py)."""

from .facts.time import parse as _parse


def __getattr__(name: str):
    return getattr(_parse, name)

"""Moved: ``strike_times`` lives in ``pipeline.extraction.facts.time.component``.

A thin alias kept for ``components/__init__`` (it registers the factories by importing
this module) and older imports; new code imports the facts package."""

from ..facts.time import component as _component


def __getattr__(name: str):
    return getattr(_component, name)

"""Moved: ``strike_places`` lives in ``pipeline.extraction.facts.places.component``.

A thin alias kept for ``components/__init__`` (it registers the factories by importing
this module) and older imports; new code imports the facts package."""

from ..facts.places import component as _component


def __getattr__(name: str):
    return getattr(_component, name)

"""Moved: the geocoder calls of the components are ``pipeline.extraction.facts.places.lookups``.

A thin alias kept because the actor, trigger and role components import it."""

from ..facts.places import lookups as _lookups


def __getattr__(name: str):
    return getattr(_lookups, name)

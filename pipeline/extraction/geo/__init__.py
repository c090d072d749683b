"""Moved: the geocoder is ``pipeline.extraction.facts.places`` (one folder for "where").

A thin alias kept because the evaluator, the escalation stage, casing and the actor,
trigger and role components import ``pipeline.extraction.geo``;
``python -m pipeline.extraction.geo`` still builds the cache."""

from ..facts import places as _places
from ..facts.places import *  # noqa: F403
from ..facts.places import __all__  # noqa: F401


def __getattr__(name: str):
    return getattr(_places, name)

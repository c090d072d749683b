"""The fixed set of ISO 3166-1 alpha-2 codes metric labels may carry, with a point per country.

``strikewatch/core/data/countries.json`` is a Grafana gazetteer (``[{"key", "name", "latitude",
"longitude"}]``: the capital's coordinates, from GeoNames via the pipeline's geocoder) holding
every code a label may take: Grafana's own ``countries.json`` has no South Sudan, and keying its
geomap by ACLED country name loses DR Congo, Republic of Congo, Palestine, Ivory Coast and
Myanmar, so the situation dashboard keys by code against this file (docker-compose mounts it
into Grafana's ``public/gazetteer``). Anything outside the set is labelled ``other``, so a label
has at most ~250 values.

Regenerate: ``python -m pipeline.extraction.tools.countries`` (from the places gazetteer).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

GAZETTEER = Path(__file__).with_name("data") / "countries.json"
OTHER = "other"


@lru_cache(maxsize=1)
def codes() -> frozenset[str]:
    return frozenset(c["key"] for c in json.loads(GAZETTEER.read_text(encoding="utf-8")))


def iso_label(code: str | None) -> str:
    """A bounded label value: the upper-case ISO2 code if known, else ``other``."""
    c = (code or "").strip().upper()
    return c if c in codes() else OTHER

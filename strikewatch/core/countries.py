"""The fixed set of ISO 3166-1 alpha-2 codes metric labels may carry, with a point per country.

``strikewatch/core/data/countries.json`` is a Grafana gazetteer (``[{"key", "name", "latitude",
"longitude"}]``: the capital's coordinates, from GeoNames via the pipeline's geocoder) holding
every code a label may take: Grafana's own ``countries.json`` has no South Sudan, and keying its
geomap by ACLED country name loses DR Congo, Republic of Congo, Palestine, Ivory Coast and
Myanmar, so the situation dashboard keys by code against this file (docker-compose mounts it
into Grafana's ``public/gazetteer``). Anything outside the set is labelled ``other``, so a label
has at most ~250 values.

Regenerate: ``python -m strikewatch.core.countries`` (needs the pipeline's geocoder).
"""

from __future__ import annotations

import json
import sys
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


def build() -> list[dict]:
    """Every GeoNames country with a point: its capital, else its largest city (tools only)."""
    from pipeline.extraction.geocode import index

    idx = index()
    by_country: dict[str, dict] = {}
    for cities in idx.cities.values():
        for c in cities:
            best = by_country.get(c["countrycode"])
            if best is None or c["population"] > best["population"]:
                by_country[c["countrycode"]] = c
    out = []
    for iso, info in sorted(idx.countries.items()):
        lat, lon = info.get("lat"), info.get("lon")
        if lat is None and iso in by_country:
            lat, lon = by_country[iso]["latitude"], by_country[iso]["longitude"]
        if lat is None:
            continue  # no city over 15k people (tiny islands): not a theatre of this pipeline
        out.append(
            {"key": iso, "name": info["name"], "latitude": round(float(lat), 4), "longitude": round(float(lon), 4)}
        )
    return out


if __name__ == "__main__":
    GAZETTEER.write_text(json.dumps(build(), indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(GAZETTEER, file=sys.stderr)

"""Regenerate ``strikewatch/core/data/countries.json`` (the metric labels' country set,
``strikewatch/core/countries.py``) from the places gazetteer:

    python -m pipeline.extraction.tools.countries

Every GeoNames country with a point: its capital, else its largest place. A code the
gazetteer has no place for (it keeps places of 15,000 people or more in memory: 34 small
territories such as AI, FK, GL) keeps its point from the current file, so the label set
never shrinks. A tool, so the core reads the file and never imports the extraction package.
"""

from __future__ import annotations

import json
import sys

from strikewatch.core.countries import GAZETTEER

from ..facts.places.gazetteer import gazetteer


def build() -> list[dict]:
    g = gazetteer()
    gn = g.geonames
    largest: dict[str, int] = {}
    for i, iso in enumerate(gn.iso):
        if iso not in largest or gn.pop[i] > gn.pop[largest[iso]]:
            largest[iso] = i
    out = []
    for iso, info in sorted(gn.countries.items()):
        point = g.country_capital.get(iso) or ((gn.lat[largest[iso]], gn.lon[largest[iso]]) if iso in largest else None)
        if point is None:
            continue  # no place in the table (tiny islands): not a theatre of this pipeline
        out.append(
            {
                "key": iso,
                "name": info["name"],
                "latitude": round(float(point[0]), 4),
                "longitude": round(float(point[1]), 4),
            }
        )
    have = {c["key"] for c in out}
    current = json.loads(GAZETTEER.read_text(encoding="utf-8")) if GAZETTEER.exists() else []
    out += [c for c in current if c["key"] not in have]
    return sorted(out, key=lambda c: c["key"])


if __name__ == "__main__":
    GAZETTEER.write_text(json.dumps(build(), indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(GAZETTEER, file=sys.stderr)

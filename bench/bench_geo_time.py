"""Cost of the offline geocoder and the time-expression resolver (prints numbers, last line JSON).

    .venv/bin/python bench/bench_geo_time.py [N_DOCS]

Measures, in this process: the gazetteer load (seconds and RSS growth; a first run on a
machine also builds the GeoNames cache, reported as such), geocode lookups per second on
the words of real notes, UTC-offset lookups per second, and docs per second of
context_countries, bracketed_places and find_times. Uses the notes of the shared ACLED dev
file in place (../shared/data/eval/acled_dev.jsonl) as realistic text; nothing is copied.
Numbers taken while other jobs run on the machine are noisy: compare on a quiet machine.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.extraction import geo, timeparse  # noqa: E402

DEV = ROOT.parent / "shared" / "data" / "eval" / "acled_dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 3000
    texts = []
    with DEV.open(encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"] or "")
            if len(texts) >= n:
                break
    out: dict[str, float | bool] = {}
    import importlib

    tables = importlib.import_module("pipeline.extraction.facts.places.gazetteer")
    out["cache_was_built"] = not tables._cache_path(tables.CACHE_DIR).exists()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    geo.gazetteer()
    out["gazetteer_load_s"] = round(time.perf_counter() - t0, 3)
    out["gazetteer_rss_mb"] = round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024, 1)
    print(
        f"gazetteer load: {out['gazetteer_load_s']:.2f} s, +{out['gazetteer_rss_mb']:.0f} MB RSS"
        f"{' (includes building the cache)' if out['cache_was_built'] else ''}"
    )
    words = [w.strip(",.()") for t in texts for w in t.split()[:30]]
    t0 = time.perf_counter()
    places = [geo.geocode(w, context_countries=("SY", "AF")) for w in words]
    out["geocode_per_s"] = round(len(words) / (time.perf_counter() - t0))
    print(f"geocode: {out['geocode_per_s']:,.0f} lookups/s")
    located = [p for p in places if p is not None][:2000]
    t0 = time.perf_counter()
    for p in located:
        geo.utc_offset(p, date(2021, 6, 28))
    out["utc_offset_per_s"] = round(len(located) / max(time.perf_counter() - t0, 1e-9))
    print(f"utc_offset: {out['utc_offset_per_s']:,.0f} lookups/s (first call builds the zone grid)")
    for name, fn in (
        ("context_countries", geo.context_countries),
        ("bracketed_places", geo.bracketed_places),
        ("find_times", lambda t: timeparse.find_times(t, date(2020, 6, 1))),
    ):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        out[f"{name}_docs_per_s"] = round(len(texts) / (time.perf_counter() - t0))
        print(f"{name}: {out[f'{name}_docs_per_s']:,.0f} docs/s")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

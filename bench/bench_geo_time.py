"""Throughput of the offline geocoder and the time-expression resolver (prints numbers).

    .venv/bin/python bench/bench_geo_time.py [N_DOCS]

Uses the notes of the shared ACLED dev file in place (../shared/data/eval/acled_dev.jsonl)
as realistic text; nothing is copied.
"""

from __future__ import annotations

import json
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
    t0 = time.perf_counter()
    geo.gazetteer()
    print(f"gazetteer build: {time.perf_counter() - t0:.2f} s")
    words = [w.strip(",.()") for t in texts for w in t.split()[:30]]
    t0 = time.perf_counter()
    for w in words:
        geo.geocode(w)
    print(f"geocode: {len(words) / (time.perf_counter() - t0):,.0f} lookups/s")
    for name, fn in (("context_countries", geo.context_countries), ("bracketed_places", geo.bracketed_places),
                     ("find_times", lambda t: timeparse.find_times(t, date(2020, 6, 1)))):
        t0 = time.perf_counter()
        for t in texts:
            fn(t)
        print(f"{name}: {len(texts) / (time.perf_counter() - t0):,.0f} docs/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

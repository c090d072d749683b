"""What reading five more languages costs, in process: memory of the native models, and
throughput and latency of ``extract_events`` on a mixed stream.

    .venv/bin/python bench/bench_languages.py [--articles 600] [--native-share 0.2] [--batch 32]

1. Memory: peak RSS after loading the English pipeline, then after language ID alone, then
   after each native model (lingua's models as met, the five blank spaCy pipelines,
   pymorphy3, the native gazetteer, multilingual-e5, the relevance model): what a worker
   holds once it has seen every language (each loads once per process, on first need).
2. The English stream (general news with 4 % ACLED strike notes, as ``bench_e2e.py``) and the
   same stream with every 1/``--native-share``-th article a multilingual_dev text (ar, ru,
   uk, fr, es, read in place): articles/s over batches of ``--batch`` and per-batch latency
   p50/p99, per language.

Prints one JSON line per phase, then one object with every number. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_e2e import MULTILINGUAL, _jsonl, stream, with_native  # noqa: E402

from strikewatch.core.models import Article  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory(nlp) -> dict:
    from pipeline.extraction.lang import NATIVE, load_native
    from pipeline.extraction.lang.detect import detect
    from pipeline.extraction.lang.embeddings import load_e5
    from pipeline.extraction.lang.gazetteer import native_gazetteer
    from pipeline.extraction.lang.morph import analyzer
    from pipeline.extraction.lang.relevance import load_model

    out = {"english_pipeline_mb": round(rss_mb(), 1)}
    t = rss_mb()
    for r in _jsonl(MULTILINGUAL):  # every language the detector meets, so all its models load
        detect((r.get("title") or "") + "\n" + r["text"])
    detect("The government announced a new programme on Tuesday.")
    out["language_id_mb"] = round(rss_mb() - t, 1)
    for name, load in (
        ("spacy_blank_x5", lambda: [load_native(code) for code in NATIVE]),
        ("pymorphy3_ru_uk", lambda: (analyzer("ru"), analyzer("uk"))),
        ("native_gazetteer", lambda: native_gazetteer().lookup("Харків", "uk")),
        ("multilingual_e5", lambda: load_e5().encode(["удар"])),
        ("relevance_model", load_model),
    ):
        t = rss_mb()
        load()
        out[f"{name}_mb"] = round(rss_mb() - t, 1)
    out["total_rss_mb"] = round(rss_mb(), 1)
    return out


def run(nlp, items, batch: int) -> dict:
    from pipeline.extraction import extract_events
    from pipeline.extraction.lang import language_of

    arts = [
        Article.new(f"https://bench.example/{i}", title=it.title, body=it.body, published_at=it.published)
        for i, it in enumerate(items)
    ]
    per_lang: dict[str, list[float]] = defaultdict(list)
    lat: list[float] = []
    events = 0
    t0 = time.perf_counter()
    for i in range(0, len(arts), batch):
        chunk = arts[i : i + batch]
        s = time.perf_counter()
        got = extract_events(nlp, chunk, batch_size=batch)
        dt = time.perf_counter() - s
        lat.append(dt)
        events += sum(len(g) for g in got)
        for a in chunk:
            per_lang[language_of(a)].append(dt / len(chunk))
    total = time.perf_counter() - t0
    lat.sort()
    return {
        "articles": len(arts),
        "articles_per_s": round(len(arts) / total, 1),
        "events": events,
        "batch_p50_s": round(lat[len(lat) // 2], 3),
        "batch_p99_s": round(lat[min(len(lat) - 1, math.ceil(0.99 * len(lat)) - 1)], 3),
        "ms_per_article_by_language": {k: round(1000 * sum(v) / len(v), 1) for k, v in sorted(per_lang.items())},
        "articles_by_language": {k: len(v) for k, v in sorted(per_lang.items())},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=600)
    ap.add_argument("--native-share", type=float, default=0.2)
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args(argv)
    from pipeline.extraction import geo, load_nlp

    nlp = load_nlp()
    geo.gazetteer()
    base = stream(REPO.parent / "shared" / "data" / "news" / "general_news.jsonl", 0.04, args.articles)
    english = run(nlp, base, args.batch)  # before any native model loads: what English costs alone
    print(json.dumps({"english_stream": english}), flush=True)
    mem = memory(nlp)
    print(json.dumps({"memory": mem}), flush=True)
    mixed = run(nlp, with_native(base, args.native_share), args.batch)
    print(json.dumps({"mixed_stream": mixed}), flush=True)
    print(
        json.dumps({"native_share": args.native_share, "english_stream": english, "mixed_stream": mixed, "memory": mem})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

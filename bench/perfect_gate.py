"""Runs ``strikewatch pipeline`` as if its relevance gate were perfect, to measure what the
rest of the pipeline costs (Kafka, decode, Beam and Prism, clustering, writes).

    python bench/perfect_gate.py -m strikewatch.cli pipeline [flags]      (bench_e2e.py --perfect-gate)

Extraction runs only on the articles without a title, which in bench_e2e.py's stream are
exactly the ACLED strike notes; every other article is skipped as a gate that rejects
it would. A benchmark aid only: the real gate is pipeline.extraction's.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pipeline.extraction as extraction

_extract_events = extraction.extract_events


def gated(nlp, articles, batch_size: int = 32):
    keep = [i for i, a in enumerate(articles) if not a.title]
    out: list[list] = [[] for _ in articles]
    for i, events in zip(
        keep, _extract_events(nlp, [articles[i] for i in keep], batch_size=batch_size) if keep else []
    ):
        out[i] = events
    return out


if __name__ == "__main__":
    extraction.extract_events = gated  # the stage imports it at call time (LOOPBACK: same process)
    args = sys.argv[1:]
    args = args[args.index("-m") :]
    sys.argv = [args[1], *args[2:]]
    runpy.run_module(args[1], run_name="__main__")

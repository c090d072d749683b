"""Issue 21's numbers: "same incident" pairwise precision and recall on the multi-source
streams, and what grouping reports into outlet families costs at 100k reports of history.

    .venv/bin/python bench/bench_claims.py quality [--seeds 1 2 3] [--strikes 24] [--similarity embeddings|jaccard]
    .venv/bin/python bench/bench_claims.py grouping [--history 100000] [--probe 2000]
    .venv/bin/python bench/bench_claims.py clustering [--history 100000] [--probe 2000] [--towns 300] [--per-day 1000]

``quality``: streams of ``pipeline/claims/synthetic.py`` (per strike: a wire story and copies,
outlets' own reports with their tolls, every third a denial; the same towns struck again on
other days) through the real extraction and clustering, in publication order. Pairs are of
articles that gave an event; two are "predicted same" when an incident holds both, "gold same"
when they report one strike. Also: how often each strike's incident counts the right number of
independent sources (outlet families among its articles that gave events).

``grouping``: ``FamilyIndex.add`` (LSH) per report after 1k, 10k and ``--history`` reports, and
``corroborate`` on an incident of 50 sources (what every revision pays). Prints JSON.

``clustering``: ``Clusterer.add`` (the open incidents' day and place index, merge and
corroboration) per report at 1k, 10k and ``--history`` reports of one theatre's history.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def quality(args) -> dict:
    from pipeline.claims import synthetic as sy
    from pipeline.claims.families import Report, group_families, provenance_of
    from pipeline.extraction import extract_events, load_nlp
    from pipeline.incidents import CLUSTERED_MODALITIES, Clusterer, load_embedder, token_jaccard
    from strikewatch.core.models import STRIKE_TYPES, outlet_of

    nlp = load_nlp()
    sim = load_embedder() if args.similarity == "embeddings" else token_jaccard
    tp = fp = fn = 0
    articles = with_events = 0
    right_sources = strikes_seen = 0
    for seed in args.seeds:
        stream = sy.strike_stream(seed=seed, strikes=args.strikes)
        events = extract_events(nlp, [a for a, _ in stream])
        cl, open_ = Clusterer(sim), []
        emitted = {}  # incident id -> its latest revision (an incident closes 72 h after its last report)
        for (art, _gold), evs in zip(stream, events):
            for ev in evs:
                if ev.event_type in STRIKE_TYPES and ev.modality in CLUSTERED_MODALITIES:
                    open_, out = cl.add(
                        open_, ev.model_copy(update={"extracted_at": art.published_at}), art.published_at
                    )
                    if out is not None:
                        emitted[out.id] = out
        held: dict[str, set[str]] = {}
        for inc in emitted.values():
            for s in inc.sources:
                held.setdefault(s.article_id, set()).add(inc.id)
        gold = {a.id: g for a, g in stream}
        articles += len(stream)
        ids = [a.id for a, _ in stream if a.id in held]
        with_events += len(ids)
        for x, y in itertools.combinations(ids, 2):
            same_pred, same_gold = bool(held[x] & held[y]), gold[x] == gold[y]
            tp += same_pred and same_gold
            fp += same_pred and not same_gold
            fn += same_gold and not same_pred
        # independent sources: the incident holding most of a strike's articles vs the families among them
        for g in dict.fromkeys(gold.values()):
            arts = [a for a, gg in stream if gg == g and a.id in held]
            if not arts:
                continue
            strikes_seen += 1
            counts: dict[str, int] = {}
            for a in arts:
                for i in held[a.id]:
                    counts[i] = counts.get(i, 0) + 1
            best = max(counts, key=counts.get)
            inc = emitted[best]
            expected = len(
                group_families(
                    [Report(a.id, outlet_of(a.canonical_url), provenance_of(a), a.published_at) for a in arts]
                )[0]
            )
            right_sources += inc.independent_sources == expected
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {
        "mode": "quality",
        "similarity": args.similarity,
        "seeds": args.seeds,
        "strikes_per_seed": args.strikes,
        "articles": articles,
        "articles_with_events": with_events,
        "pairs": {"tp": tp, "fp": fp, "fn": fn},
        "pairwise_precision": round(p, 4),
        "pairwise_recall": round(r, 4),
        "pairwise_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "independent_sources_right": f"{right_sources}/{strikes_seen}",
    }


def grouping(args) -> dict:
    from pipeline.claims import corroboration as co
    from pipeline.claims.families import FamilyIndex, Report, publisher_of, signature
    from strikewatch.core.models import Claim, EventType, Incident, IncidentSource, Provenance, Span

    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(5000)]
    t0 = datetime(2024, 1, 1, tzinfo=UTC)

    def report(n: int) -> Report:
        words = rng.choices(vocab, k=120)
        credit = rng.choice([None, None, None, "reuters", "afp", "ap"])
        outlet = f"site{rng.randrange(3000)}.com"
        prov = Provenance(publisher=publisher_of(outlet), credit=credit, signature=signature(" ".join(words)))
        return Report(article_id=f"a{n}", outlet=outlet, provenance=prov, at=t0 + timedelta(seconds=n))

    index = FamilyIndex()
    marks = sorted({1000, 10_000, args.history})
    out = {"mode": "grouping", "history": {}}
    made = 0
    build_s = 0.0
    for mark in marks:
        batch = [report(made + i) for i in range(mark - made)]
        start = time.perf_counter()
        for r in batch:
            index.add(r)
        build_s += time.perf_counter() - start
        made = mark
        probe = [report(made + i) for i in range(args.probe)]
        times = []
        for r in probe:
            s = time.perf_counter()
            index.add(r)
            times.append(time.perf_counter() - s)
        made += args.probe
        times.sort()
        out["history"][str(mark)] = {
            "mean_ms": round(statistics.mean(times) * 1000, 4),
            "p99_ms": round(times[int(0.99 * len(times))] * 1000, 4),
        }
    srcs = [
        IncidentSource(
            event_id=f"e{i}",
            article_id=r.article_id,
            source="s",
            outlet=r.outlet,
            provenance=r.provenance,
            published_at=r.at,
        )
        for i, r in enumerate(report(10**7 + i) for i in range(50))
    ]
    inc = Incident(id="i", event_type=EventType.MISSILE_ATTACK, sources=srcs, source_count=50)
    claims = [
        Claim(
            id=f"c{i}",
            kind="casualties",
            speaker=f"speaker {i % 7}",
            killed=i,
            article_id=srcs[i].article_id,
            quote=Span(text="q", start=0, end=1),
        )
        for i in range(50)
    ]
    times = []
    for _ in range(50):
        s = time.perf_counter()
        co.corroborate(inc, claims)
        times.append(time.perf_counter() - s)
    out["corroborate_50_sources_ms"] = round(statistics.median(times) * 1000, 3)
    out["signature_ms"] = round(_time(lambda: signature(" ".join(rng.choices(vocab, k=400)))) * 1000, 3)
    return out


def clustering(args) -> dict:
    """Per report after 1k, 10k and ``--history`` reports of one theatre: ``group`` (which open
    incident it joins: ``Clusterer.best_match``, the index, the rules, the similarities) and
    ``add`` (all of ``Clusterer.add``: also the merge, claims, corroboration and severity of
    the revision). A stream of strikes on ``--towns`` towns over the days (``--per-day``
    reports a day, each strike reported 1-5 times, a fifth undated, a tenth located only to the
    country), with a similarity of precomputed unit vectors (the MiniLM cache's cost, ~2 us) so
    that the grouping itself is what is timed. Also: the candidates a report meets, the open
    incidents held, and a state write per report (Beam pickles the state once per bundle).
    Times are wall clock; ``*_cpu_*`` the process's CPU time, which other jobs on a shared
    machine do not inflate."""
    import pickle

    import numpy as np

    from pipeline.incidents import MAX_DAY_GAP, MAX_KM, SAME_PLACE_KM, Clusterer, footprint
    from pipeline.open_incidents import OpenIncidents
    from strikewatch.core.models import Casualties, Event, EventTime, EventType, Place, Span

    rng = random.Random(11)
    nrng = np.random.default_rng(11)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    towns = [(f"Town{i}", 44.0 + rng.random() * 8, 24.0 + rng.random() * 14) for i in range(args.towns)]
    vec: dict[str, np.ndarray] = {}

    def sim(a: str, b: str) -> float:
        return float(vec[a] @ vec[b])

    def reports():
        n = 0
        strike = 0
        while True:
            strike += 1
            town = rng.choice(towns)
            at = t0 + timedelta(seconds=n * 86400 / args.per_day)
            etype = rng.choice(
                [EventType.AIR_STRIKE, EventType.DRONE_STRIKE, EventType.MISSILE_ATTACK, EventType.SHELLING]
            )
            base = nrng.normal(size=64)
            for k in range(rng.randint(1, 5)):
                n += 1
                text = f"strike {strike} report {k}"
                v = base + nrng.normal(scale=0.4, size=64)
                vec[text] = v / np.linalg.norm(v)
                vague = rng.random()
                place = (
                    Place(name="Ukraine", country="Ukraine", country_code="UA", precision="country")
                    if vague < 0.1
                    else Place(
                        name=town[0], country="Ukraine", country_code="UA", lat=town[1], lon=town[2], precision="city"
                    )
                )
                when = EventTime() if vague > 0.8 else EventTime(date=at.date(), precision="day")
                yield Event(
                    id=f"e{n}",
                    article_id=f"a{n}",
                    source=f"outlet{k}",
                    event_type=etype,
                    places=[place],
                    time=when,
                    casualties=Casualties(killed=rng.randint(0, 9), statement="reported"),
                    evidence=[Span(text=text, start=0, end=len(text))],
                    article_published_at=at,
                    extracted_at=at,
                )

    cl = Clusterer(sim)
    index = OpenIncidents()
    stream = reports()
    marks = sorted({1000, 10_000, args.history})
    out = {"mode": "clustering", "towns": args.towns, "reports_per_day": args.per_day, "history": {}}
    made = 0
    for mark in marks:
        for _ in range(mark - made):
            ev = next(stream)
            index, _inc = cl.add(index, ev, ev.extracted_at)
        made = mark
        pickle.dumps(index)  # every incident's JSON cached, as after the state's first write
        times, finds, writes, cands, times_cpu, finds_cpu = [], [], [], [], [], []
        for _ in range(args.probe):
            ev = next(stream)
            cands.append(len(index.candidates(footprint(ev), day_gap=MAX_DAY_GAP, km=MAX_KM, same_km=SAME_PLACE_KM)))
            s, c = time.perf_counter(), time.process_time()
            cl.best_match(index, ev)  # grouping: which open incident it joins (index, rules, similarities)
            finds.append(time.perf_counter() - s)
            finds_cpu.append(time.process_time() - c)
            s, c = time.perf_counter(), time.process_time()
            index, _inc = cl.add(index, ev, ev.extracted_at)
            times.append(time.perf_counter() - s)
            times_cpu.append(time.process_time() - c)
            s = time.perf_counter()
            blob = pickle.dumps(index)  # a state write per report: a bundle of one
            writes.append(time.perf_counter() - s)
        made += args.probe
        out["history"][str(mark)] = {
            "add_mean_ms": _ms(statistics.mean(times)),
            "add_p99_ms": _ms(_p99(times)),
            "group_mean_ms": _ms(statistics.mean(finds)),
            "group_p99_ms": _ms(_p99(finds)),
            "group_cpu_mean_ms": _ms(statistics.mean(finds_cpu)),
            "add_cpu_mean_ms": _ms(statistics.mean(times_cpu)),
            "candidates_mean": round(statistics.mean(cands), 1),
            "open_incidents": len(index),
            "state_write_mean_ms": _ms(statistics.mean(writes)),
            "state_mb": round(len(blob) / 1e6, 2),
        }
    return out


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 4)


def _p99(xs: list[float]) -> float:
    return sorted(xs)[int(0.99 * len(xs))]


def _time(fn, n: int = 200) -> float:
    s = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - s) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    q.add_argument("--strikes", type=int, default=24)
    q.add_argument("--similarity", choices=["embeddings", "jaccard"], default="embeddings")
    g = sub.add_parser("grouping")
    g.add_argument("--history", type=int, default=100_000)
    g.add_argument("--probe", type=int, default=2000)
    c = sub.add_parser("clustering")
    c.add_argument("--history", type=int, default=100_000)
    c.add_argument("--probe", type=int, default=2000)
    c.add_argument("--towns", type=int, default=300)
    c.add_argument("--per-day", type=int, default=1000)
    args = ap.parse_args()
    print(json.dumps({"quality": quality, "grouping": grouping, "clustering": clustering}[args.mode](args), indent=1))


if __name__ == "__main__":
    main()

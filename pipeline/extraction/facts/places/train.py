"""Fit the learned parts of "where" and score them out of fold.

    python -m pipeline.extraction.facts.places.train [--data-dir ../shared/data] [--folds 5]
    strikewatch train                     # the same, after the relevance and role models

Two models, each with a JSON card beside it:

* The theatre prior (``theatre``): fit on news2_dev's coded incident reports (Insecurity
  Insight and Airwars, every label: the country is coded for all) and ACLED's notes;
  scored out of fold (folds by a hash of the record id) per source and posterior threshold:
  the share of reports placed and the share placed right.
* The place choice (``choice``): every candidate strike of acled_dev, news_dev and
  news2_dev is assembled once by the rules (the theatre prior out of fold), its candidate
  places kept with what the features read; a candidate is labelled by the coders: ACLED's
  ``location`` (same name, or a point within 25 km of the coded one), news_dev's place
  annotations, news2's coded places, Airwars' point and Insecurity Insight's country.
  Scored on the events the shipped relevance model keeps, with the choice made out of fold
  and leaving one dataset out, per source: km and share within 25 km, right country,
  news_dev place recall, and the share of strikes whose first place is a coded one.
  The candidates are cached in ``CACHE_DIR`` (keyed by the extraction code).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from . import choice, theatre
from .distance import distance_km
from .resolve import normalize_country
from .scorer import SEED, fold_of

DEFAULT_DATA = Path(__file__).resolve().parents[5] / "shared" / "data"
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def source_of(rec: dict) -> str:
    if str(rec.get("id", "")).startswith("acled:"):
        return "ACLED"
    return (rec.get("source") or "?").split(" (")[0].split(" via ")[0]


def oof_theatre(records: list[dict], folds: int, extra: list[dict] = ()) -> dict[str, tuple[str, float] | None]:
    """Record id -> the out-of-fold prediction of the theatre prior (``extra``: training
    records of other datasets, used in every fold)."""
    out: dict[str, tuple[str, float] | None] = {}
    for k in range(folds):
        train = [r for r in records if fold_of(r["id"], folds) != k] + list(extra)
        model = theatre.from_json(theatre.fit(theatre.examples_from(train)))
        for r in records:
            if fold_of(r["id"], folds) == k:
                out[r["id"]] = model.predict(r.get("text") or "")
    return out


def _is_strike(rec: dict) -> bool:
    if "label" in rec:
        return rec["label"] == "strike"
    return rec.get("sub_event_type") in ("Air/drone strike", "Shelling/artillery/missile attack")


def theatre_card(records: list[dict], oof: dict, strike=_is_strike) -> dict:
    by: dict[str, list] = defaultdict(list)
    for r in records:
        if not strike(r):
            continue
        gold = normalize_country(r.get("country") or "")
        if gold:
            by[source_of(r)].append((oof.get(r["id"]), gold[1]))
    card = {}
    for src, rows in sorted(by.items()):
        card[src] = {}
        for th in THRESHOLDS:
            placed = [(h, g) for h, g in rows if h and h[1] >= th]
            card[src][str(th)] = {
                "n": len(rows),
                "placed": round(len(placed) / len(rows), 4),
                "right_of_placed": round(sum(h[0] == g for h, g in placed) / max(1, len(placed)), 4),
                "right_of_all": round(sum(h[0] == g for h, g in placed) / len(rows), 4),
            }
    return card


# --------------------------------------------------------------------------- the place choice

CHOICE_DATASETS = {"acled": "eval/acled_dev.jsonl", "news": "eval/news_dev.jsonl", "news2": "eval/news2_dev.jsonl"}
CACHE_DIR = Path.home() / ".cache" / "strikewatch" / "places"
# Weight of one strike's choice per dataset (each strike's rows share it): news_dev's 29
# strike documents are the human annotations, few and of the kind feeds carry.
CHOICE_WEIGHT = {"acled": 4.0, "news": 3.0, "news2": 1.0}
# Insecurity Insight's label is only its country: half a strike's weight.
COUNTRY_ONLY_WEIGHT = 0.5
CHOICE_L2 = 1.0
NEWTON_STEPS = 30
# A candidate with a point this close to the coded one is the coded place (km), as the scorer's bar.
LABEL_KM = 25.0
LABEL_PRECISIONS = frozenset({"point", "city", "admin2"})


@dataclass
class Strike:
    """One candidate strike event as the rules assembled it, with its place candidates."""

    dataset: str
    record: int  # index into the dataset's records
    event: object  # strikewatch.core.models.Event (the rules' places)
    kept: bool  # the shipped relevance model keeps it
    cands: list
    evidence: object  # choice.Evidence
    rule_places: list
    fallback: list
    towns: dict


def _digest() -> str:
    """A hash of the extraction code and vocabulary (not the models, not the tools, not this
    trainer, not the features): cached candidates are reused only by the same rules."""
    h = hashlib.sha1()
    root = Path(__file__).resolve().parents[2]
    skip = {Path(__file__).resolve(), (Path(__file__).parent / "choice.py").resolve()}
    for f in sorted([*root.rglob("*.py"), *root.rglob("*.jsonl"), *root.rglob("*.tsv")]):
        if "models" not in f.parts and "tools" not in f.parts and f.resolve() not in skip:
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _article(dataset: str, rec: dict):
    from ...tools import eval_news, evaluate

    return evaluate.article_for(rec) if dataset == "acled" else eval_news.news_article(rec)


def collect_strikes(
    dataset: str, records: list[dict], nlp, folds: int, theatre_extra: list[dict] = (), batch_size: int = 64
) -> list[Strike]:
    """Assemble every record with the rules' place order (no choice model) and keep each
    candidate strike's place candidates. Records the theatre prior trains on (acled, news2)
    are read with a prior fit without their fold."""
    from strikewatch.core.models import STRIKE_TYPES

    from ... import gate, make_doc
    from ...assemble import assemble
    from ...assemble.groups import relevant
    from . import choice

    out: list[Strike] = []
    prior_trained = dataset in ("acled", "news2")
    for k in range(folds if prior_trained else 1):
        idx = [i for i, r in enumerate(records) if not prior_trained or fold_of(r["id"], folds) == k]
        prior = None
        if prior_trained:
            train_recs = [r for r in records if fold_of(r["id"], folds) != k] + list(theatre_extra)
            prior = theatre.from_json(theatre.fit(theatre.examples_from(train_recs)))
        with theatre.override(prior) if prior_trained else contextlib.nullcontext(), choice.override(None):
            for b in range(0, len(idx), batch_size):
                chunk = idx[b : b + batch_size]
                arts = [_article(dataset, records[i]) for i in chunk]
                sels = [gate.select(a.text) for a in arts]
                todo = [j for j, sel in enumerate(sels) if sel is not None]
                docs = nlp.pipe((make_doc(nlp, arts[j], sels[j]) for j in todo), batch_size=batch_size)
                for j, doc in zip(todo, docs):
                    with choice.collecting() as rows:
                        pairs = assemble(doc, arts[j])
                    if len(rows) != len(pairs):
                        raise RuntimeError("place candidates and events out of step")
                    for (ev, group), (cands, evid, rule_places, fb, towns) in zip(pairs, rows):
                        kept = ev.event_type in STRIKE_TYPES and relevant(group, doc._.sw_relevance, len(arts[j].text))
                        out.append(Strike(dataset, chunk[j], ev, kept, cands, evid, rule_places, fb, towns))
        print(f"places: {dataset} fold {k}: {len(out)} candidate strikes", file=sys.stderr)
    return out


def cached_strikes(
    dataset: str, path: Path, records: list[dict], folds: int, nlp_factory, theatre_extra=()
) -> list[Strike]:
    import pickle

    key = hashlib.sha1(
        f"{_digest()}:{path.stat().st_size}:{path.stat().st_mtime_ns}:{folds}:{len(records)}".encode()
    ).hexdigest()[:16]
    f = CACHE_DIR / f"{dataset}-{key}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    out = collect_strikes(dataset, records, nlp_factory(), folds, theatre_extra)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(out))
    tmp.replace(f)
    return out


def _keys(names) -> set[str]:
    from ...tools import evaluate

    out = set()
    for n in names:
        if n:
            out |= evaluate._gold_location_keys(n)
    return out


def candidate_label(dataset: str, rec: dict, place) -> float:
    """1 when the coders say the strike landed at this candidate, else 0."""
    from ...tools import eval_news, evaluate
    from .scorer import gold_point

    if dataset == "news":
        golds = [g for ev in eval_news.gold_strike_events(rec) for g in (ev.get("place") or [])] or [
            g for ev in rec.get("events") or [] for g in (ev.get("place") or [])
        ]
        said = [place.name, *([place.mention.text] if place.mention else [])]
        return float(any(eval_news.filler_matches(g, said) for g in golds))
    names = [rec.get("location")] if dataset == "acled" else list(rec.get("place") or [])
    if dataset == "news2":
        names += [x.strip() for x in str((rec.get("gold_raw") or {}).get("location") or "").split(",")]
    keys = _keys(names)
    if place.precision != "country" and evaluate.location_key(place.name) in keys:
        return 1.0
    if place.precision != "country" and any(evaluate._is_name_part(place.name, n) for n in names if n):
        return 1.0
    lat, lon = gold_point(rec)
    if (
        lat is not None
        and place.lat is not None
        and place.precision in LABEL_PRECISIONS
        and distance_km(place.lat, place.lon, lat, lon) <= LABEL_KM
    ):
        return 1.0
    if dataset == "news2" and lat is None:  # Insecurity Insight: its country is what is coded
        gold = normalize_country(rec.get("country") or "")
        return float(gold is not None and place.country_code == gold[1])
    return 0.0


def choice_rows(strikes: list[Strike], records: dict[str, list[dict]]):
    """Feature rows of every strike: (x, y, weight, strike index of each row, row ranges)."""
    import numpy as np

    from . import choice

    xs, ys, ws, owner, ranges = [], [], [], [], []
    at = 0
    for si, st in enumerate(strikes):
        n = len(st.cands)
        ranges.append((at, at + n))
        if not n:
            continue
        rec = records[st.dataset][st.record]
        y = np.array([candidate_label(st.dataset, rec, c.place) for c in st.cands], dtype=np.float32)
        xs.append(choice.features(st.cands, st.evidence))
        ys.append(y)
        country_only = st.dataset == "news2" and "Insecurity" in str(rec.get("source"))
        w = CHOICE_WEIGHT[st.dataset] * (COUNTRY_ONLY_WEIGHT if country_only else 1.0)
        # A strike teaches the choice only when there is one to make and a coded answer among them.
        useful = n >= 2 and y.max() > 0 and y.min() == 0
        # A theatre guess alone teaches when a guess is worth placing (its probability is a bar).
        useful = useful or (n == 1 and st.cands[0].rule_rank < 0 and st.cands[0].place.inferred)
        ws.append(np.full(n, w / n if useful else 0.0))
        owner += [si] * n
        at += n
    return (np.vstack(xs), np.concatenate(ys), np.concatenate(ws), np.array(owner), ranges)


def fit_choice(x, y, w, l2: float = CHOICE_L2):
    """Weighted L2 logistic regression (Newton) on standardised columns -> PlaceChoiceModel."""
    import numpy as np

    from . import choice

    m = w > 0
    x, y, w = x[m].astype(np.float64), y[m].astype(np.float64), w[m].astype(np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w * (p - y)) + reg * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return choice.PlaceChoiceModel(
        choice.MODEL_VERSION,
        beta[:-1].astype(np.float32),
        float(beta[-1]),
        mean.astype(np.float32),
        scale.astype(np.float32),
        {},
    )


def _events_with(strikes: list[Strike], probs, ranges, n_records: dict[str, int]):
    """Each dataset's predictions (kept events per record) with the places chosen by ``probs``
    (None: the rules' order)."""

    preds = {d: [[] for _ in range(n)] for d, n in n_records.items()}
    for si, st in enumerate(strikes):
        if not st.kept:
            continue
        a, b = ranges[si]
        places = _final_places(st, probs[a:b] if probs is not None else None)
        preds[st.dataset][st.record].append(st.event.model_copy(update={"places": places}))
    return preds


def _final_places(st: Strike, p) -> list:
    """The event's places as the assembly makes them, with the choice made by ``p`` (None:
    the rules' order): chosen first, the fallback country when none has one, the town."""
    from . import choice
    from .assemble import refine_places, with_fallback

    places = st.rule_places
    if p is not None and len(st.cands) >= 1:
        places = choice.order(st.rule_places, st.cands, p)
    return refine_places(with_fallback(list(places), st.fallback), st.towns)


def _first_place_right(strikes, probs, ranges, records) -> dict[str, dict]:
    """Per dataset and source: the share of kept strikes of coded strike records whose first
    place is a coded one (label 1), over those where some candidate is."""
    from collections import Counter

    from .scorer import is_gold_strike

    hit, n = Counter(), Counter()
    seen = set()
    for si, st in enumerate(strikes):
        rec = records[st.dataset][st.record]
        if not st.kept or (st.dataset, st.record) in seen or not _strike_record(st.dataset, rec):
            continue
        a, b = ranges[si]
        labels = [candidate_label(st.dataset, rec, c.place) for c in st.cands]
        if not any(labels):
            continue
        seen.add((st.dataset, st.record))
        first = next(iter(_final_places(st, probs[a:b] if probs is not None else None)), None)
        ok = first is not None and candidate_label(st.dataset, rec, first) > 0
        for k in (st.dataset, f"{st.dataset}/{_source(st.dataset, rec)}"):
            n[k] += 1
            hit[k] += ok
    _ = is_gold_strike
    return {k: {"n": n[k], "first_place_coded": round(hit[k] / n[k], 4)} for k in sorted(n)}


def _source(dataset: str, rec: dict) -> str:
    from ...tools import eval_news

    return eval_news.source_of(rec) if dataset == "news" else source_of(rec)


def _strike_record(dataset: str, rec: dict) -> bool:
    if dataset == "news":
        return bool(rec.get("has_strike"))
    return _is_strike(rec)


def score_choice(strikes, probs, ranges, records) -> dict:
    """The "where" scores of each dataset with the places chosen by ``probs``."""
    from ...tools import eval_news
    from .scorer import score_where_when

    preds = _events_with(strikes, probs, ranges, {d: len(r) for d, r in records.items()})
    out = {}
    for d, recs in records.items():
        if d == "news":
            summary, by = eval_news.score_news_docs(recs, preds[d])
            out[d] = {
                "place_recall": summary["place_recall"],
                "place_recall_detected": summary["place_recall_detected"],
                "place_n": summary["place_n"],
                "detection_f1": summary["detection"]["f1"],
                "by_source": {
                    k: {"place_recall": v["place_recall"], "place_recall_detected": v["place_recall_detected"]}
                    for k, v in by.items()
                },
            }
        else:
            ww = score_where_when(recs, preds[d], source_of=source_of)
            out[d] = {"place": ww["place"], "by_source": {k: v["place"] for k, v in ww["by_source"].items()}}
    out["first_place"] = _first_place_right(strikes, probs, ranges, records)
    return out


def train_choice(data_dir: Path, folds: int = 5, limit: int = 0, nlp_factory=None) -> tuple[object, dict]:
    """The place-choice model fit on every labelled strike, and its card (rules, out of fold,
    leave one dataset out)."""
    import numpy as np

    if nlp_factory is None:

        def nlp_factory():
            from ... import load_nlp

            return load_nlp()

    records: dict[str, list[dict]] = {}
    strikes: list[Strike] = []
    all_recs = {d: read(data_dir / rel) for d, rel in CHOICE_DATASETS.items()}
    nlp = None

    def shared_nlp():
        nonlocal nlp
        if nlp is None:
            nlp = nlp_factory()
        return nlp

    for d, rel in CHOICE_DATASETS.items():
        recs = all_recs[d][:limit] if limit else all_recs[d]
        records[d] = recs
        extra = all_recs["news2"] if d == "acled" else all_recs["acled"] if d == "news2" else []
        strikes += cached_strikes(d, data_dir / rel, recs, folds, shared_nlp, extra)
    x, y, w, owner, ranges = choice_rows(strikes, records)
    datasets = np.array([strikes[i].dataset for i in owner])
    fold = np.array([fold_of(str(records[strikes[i].dataset][strikes[i].record]["id"]), folds) for i in owner])
    oof = np.zeros(len(y), dtype=np.float32)
    for k in range(folds):
        m = fit_choice(x, y, np.where(fold != k, w, 0.0))
        oof[fold == k] = m.predict(x[fold == k])
    lodo = np.zeros(len(y), dtype=np.float32)
    for d in CHOICE_DATASETS:
        m = fit_choice(x, y, np.where(datasets != d, w, 0.0))
        lodo[datasets == d] = m.predict(x[datasets == d])
    model = fit_choice(x, y, w)
    card = {
        "trained_on": {
            d: {
                "strikes": int(sum(1 for s in strikes if s.dataset == d)),
                "strikes_with_a_choice": len({o for o in owner[(datasets == d) & (w > 0)]}),
                "rows": int(((datasets == d) & (w > 0)).sum()),
                "positive_rows": int(((datasets == d) & (w > 0) & (y > 0)).sum()),
            }
            for d in CHOICE_DATASETS
        },
        "labels": {
            "acled": "ACLED location: same name (transliteration key) or a point within 25 km of the coded one",
            "news": "news_dev place annotations of the strike events (filler match)",
            "news2": "coded places and Airwars' point; Insecurity Insight: the coded country (half weight)",
        },
        "folds": folds,
        "seed": SEED,
        "l2": CHOICE_L2,
        "weight": CHOICE_WEIGHT,
        "relevance": "events kept by the shipped relevance model (detection is scored in the relevance card)",
        "weights": dict(zip(choice.FEATURES, (round(float(v), 3) for v in model.weights))),
        "rules_order": score_choice(strikes, None, ranges, records),
        "cross_validated": score_choice(strikes, oof, ranges, records),
        "leave_one_dataset_out": score_choice(strikes, lodo, ranges, records),
    }
    model = type(model)(model.version, model.weights, model.bias, model.mean, model.scale, card)
    return model, card


def fit_theatre(data_dir: Path, folds: int, out: Path = theatre.MODEL_FILE) -> dict:
    """Fit the theatre prior on news2_dev and acled_dev, write it and its card; the card."""
    records = read(data_dir / "eval" / "news2_dev.jsonl")
    acled = read(data_dir / "eval" / "acled_dev.jsonl")
    # Out of fold over both datasets at once: each record predicted by a model fit without its fold.
    both = records + acled
    oof = oof_theatre(both, folds)
    lodo = {**oof_theatre(records, folds), **oof_theatre(acled, folds)}  # each without the other
    card = {
        "model": theatre.MODEL_VERSION,
        "trained_on": "news2_dev (all labels) + acled_dev notes",
        "folds": folds,
        "seed": SEED,
        "min_posterior": theatre.MIN_POSTERIOR,
        "out_of_fold_strikes": theatre_card(both, oof, strike=_is_strike),
        "each_dataset_alone_strikes": theatre_card(both, lodo, strike=_is_strike),
    }
    theatre.save(theatre.fit(theatre.examples_from(both)), out)
    out.with_suffix(".card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return card


def fit_all(
    data_dir: Path, folds: int = 5, limit: int = 0, nlp_factory=None, choice_out: Path = choice.MODEL_FILE
) -> dict:
    """Both models of "where" (what ``strikewatch train`` calls): the theatre prior, then the
    place choice, each written with its card. Returns {"theatre": card, "place_choice": card}."""
    th = fit_theatre(data_dir, folds)
    theatre.load.cache_clear()
    model, card = train_choice(data_dir, folds, limit, nlp_factory)
    model.save(choice_out)
    choice.load.cache_clear()
    return {"theatre": th, "place_choice": card}


def brief(cards: dict) -> dict:
    """The headline numbers of ``fit_all``'s cards (one JSON line)."""
    pc = cards["place_choice"]
    out = {}
    for setting in ("rules_order", "cross_validated", "leave_one_dataset_out"):
        s = pc[setting]
        out[setting] = {
            "news_place_recall": s["news"]["place_recall"],
            "news_place_recall_detected": s["news"]["place_recall_detected"],
            "acled_within_25km": s["acled"]["place"]["within_25km"],
            "acled_km_median": s["acled"]["place"]["km_median"],
            "news2_country": {k: v["country_accuracy"] for k, v in s["news2"]["by_source"].items()},
            "first_place_coded": {k: v["first_place_coded"] for k, v in s["first_place"].items() if "/" not in k},
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m pipeline.extraction.facts.places.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument(
        "--limit", type=int, default=0, help="first N records of each dataset for the place choice (0 = all)"
    )
    ap.add_argument(
        "--out", type=Path, default=choice.MODEL_FILE, help="where to write the place-choice model (.npz + .card.json)"
    )
    args = ap.parse_args(argv)
    try:
        cards = fit_all(args.data_dir, args.folds, args.limit, choice_out=args.out)
    except OSError as e:
        print(f"cannot read the dev data: {e}", file=sys.stderr)
        return 2
    print(json.dumps(brief(cards)))
    return 0


if __name__ == "__main__":
    # Through the package module, not __main__: the cached candidates must name importable classes.
    import importlib

    raise SystemExit(importlib.import_module("pipeline.extraction.facts.places.train").main())

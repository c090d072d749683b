"""``strikewatch train``: fit the relevance model (``pipeline.extraction.relevance``) on the
dev sets, score it where it was not trained, and write it into the package.

    strikewatch train                      # ../shared/data -> pipeline/extraction/models/relevance-4.npz (+ .json card),
                                           # facts/places/models/theatre-2.json and place-choice-1.npz (+ cards)
    strikewatch train --folds 5 --seed 13 --data-dir DIR --out PATH --limit N

Data, read in place and nothing downloaded: ACLED dev (rows with a gold sub-event type),
CASE 2021 dev (news sentences), news_dev (full documents; uncertain negatives are left
out of training), news2_dev (coded incident reports, Airwars and Insecurity Insight;
uncertain ones left out) and general_news (all negatives). Every candidate trigger the rules find
(precise and broad patterns) is a row: the MiniLM embedding of its sentence plus the
rule features; its label is its record's (a strike note, snippet or document -> 1).

Scoring is honest: rows are split into ``--folds`` folds by record (a hash of the record
id and the seed), each fold is predicted by a model trained on the other folds of every
dataset, and the documents are scored from those out-of-fold probabilities with the
same scorers as ``strikewatch eval``. The thresholds (precise and broad triggers, short
texts and full articles) are chosen on the out-of-fold probabilities. A leave-one-dataset-out pass (trained without
the dataset it predicts) is reported too. The shipped model is then fit on all rows.
The last line printed is one JSON object with the cross-validated figures per dataset.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from strikewatch.models import STRIKE_TYPES, Article, Event, Modality

from .. import relevance
from . import eval_news, evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
DATASETS = {"acled": "eval/acled_dev.jsonl", "case2021": "eval/case2021_dev.jsonl", "news": "eval/news_dev.jsonl",
            "news2": "eval/news2_dev.jsonl", "general": "news/general_news.jsonl"}
# Row weight per dataset: ACLED notes are plentiful (~6 of 10 rows) and the easy kind;
# news sentences, documents and general news are what feeds carry and what the
# thresholds must hold on.
# news2's coded reports (4,939, one or two sentences or an assessment) are plentiful like ACLED's notes.
DATASET_WEIGHT = {"acled": 1.0, "case2021": 3.0, "news": 3.0, "news2": 1.0, "general": 3.0}
# L2 penalty on the weights (not the bias). Cross-validated mean detection F1 over ACLED,
# CASE 2021 and news_dev (general news within its limit in all): 1 -> 0.867, 3 -> 0.862,
# 10 -> 0.862.
L2 = 1.0
NEWTON_STEPS = 25
# Thresholds searched (probability), for events with a precise trigger and for events
# only broad patterns found.
THRESHOLDS = tuple(round(float(x), 2) for x in np.arange(0.05, 0.96, 0.05))
# At most this many false strike events per 1,000 general-news articles (the target).
MAX_GENERAL_PER_1000 = 2.0


@dataclass
class Candidate:
    event: Event
    rows: list[int]  # rows of the feature matrix (its mentions' triggers)
    precise: bool


@dataclass
class Corpus:
    name: str
    kind: str  # acled | news_doc | general_news
    records: list[dict]
    candidates: list[list[Candidate]] = field(default_factory=list)  # per record
    row_record: list[int] = field(default_factory=list)  # record index of each row
    texts: list[str] = field(default_factory=list)  # sentence of each row
    rules: list[list[float]] = field(default_factory=list)

    def lengths(self) -> list[int]:
        """Characters of each record's article text (what the thresholds go by)."""
        if not hasattr(self, "_lengths"):
            self._lengths = [len(article_of(self.kind, r).text) for r in self.records]
        return self._lengths

    def labels(self) -> np.ndarray:
        return np.array([row_label(self.kind, self.records[i], t) for i, t in zip(self.row_record, self.texts)], dtype=np.float32)


def record_label(kind: str, rec: dict) -> float:
    """1 strike, 0 not, -1 unknown (uncertain news documents: not trained on)."""
    if kind == "acled":
        return float(rec["sub_event_type"] in evaluate.POSITIVE_SUBTYPES)
    if kind == "news_doc":
        return 1.0 if rec.get("has_strike") else (-1.0 if rec.get("has_strike_uncertain") else 0.0)
    if kind == "coded_report":
        return {"strike": 1.0, "not_strike": 0.0}.get(rec.get("label"), -1.0)
    return 0.0


# Shortest gold filler that marks a sentence of a strike document as the strike's own.
MIN_FILLER_CHARS = 4


def row_label(kind: str, rec: dict, sentence: str) -> float:
    """A candidate's label. In a strike document only sentences that name something of a
    gold strike event (its trigger, weapon, target or attacker) are positives; its other
    candidates (background, other attacks) are left out (-1) rather than called strikes."""
    label = record_label(kind, rec)
    if kind != "news_doc" or label != 1.0:
        return label
    low = " ".join(sentence.lower().split())
    for ev in eval_news.gold_strike_events(rec):
        for role in ("trigger", "instrument", "target", "attacker"):
            values = ev.get(role) or []
            for v in [values] if isinstance(values, str) else values:
                v = " ".join(str(v).lower().replace(" ' s", "'s").split())
                if len(v) >= MIN_FILLER_CHARS and v in low:
                    return 1.0
    return -1.0


def article_of(kind: str, rec: dict) -> Article:
    return {"acled": evaluate.article_for, "news_doc": eval_news.news_article, "coded_report": eval_news.news_article,
            "general_news": eval_news.general_article}[kind](rec)


def read_corpus(name: str, path: Path, limit: int = 0) -> Corpus:
    records = evaluate.read_records(path)
    kind = eval_news.record_kind(records[0])
    if kind == "acled":
        records = [r for r in records if r.get("sub_event_type") is not None]
    return Corpus(name, kind, records[:limit] if limit else records)


def collect(corpus: Corpus, nlp, batch_size: int = 64) -> None:
    """Run the rules over the corpus; keep every candidate event and its triggers' rows."""
    from .. import assemble as events, gate, make_doc

    for i in range(0, len(corpus.records), batch_size):
        recs = corpus.records[i:i + batch_size]
        arts = [article_of(corpus.kind, r) for r in recs]
        sels = [gate.select(a.text) for a in arts]
        todo = [j for j, s in enumerate(sels) if s is not None]
        per = {j: [] for j in range(len(recs))}
        for j, doc in zip(todo, nlp.pipe((make_doc(nlp, arts[j], sels[j]) for j in todo), batch_size=batch_size)):
            rows_at: dict[int, int] = {}
            for trig, text, feats in relevance.doc_candidates(doc):
                rows_at[trig.start_char] = len(corpus.texts)
                corpus.texts.append(text)
                corpus.rules.append(feats)
                corpus.row_record.append(i + j)
            for ev, group in events.assemble(doc, arts[j]):
                if ev.event_type not in STRIKE_TYPES:
                    continue
                rows = sorted({rows_at[m.trigger.start] for m in group if m.trigger.start in rows_at})
                per[j].append(Candidate(ev, rows, any(not m.broad for m in group)))
        corpus.candidates.extend(per[j] for j in range(len(recs)))


# --------------------------------------------------------------------------- the model


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Weighted L2 logistic regression by Newton's method. Rule features (the last
    columns) are standardised first; returns (weights, bias, mean, scale)."""
    n_rule = len(relevance.RULE_FEATURES)
    mean = x[:, -n_rule:].mean(axis=0)
    scale = x[:, -n_rule:].std(axis=0) + 1e-6
    z = x.copy()
    z[:, -n_rule:] = (z[:, -n_rule:] - mean) / scale
    z = np.hstack([z, np.ones((len(z), 1), dtype=np.float32)]).astype(np.float64)
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0  # no penalty on the bias
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(z @ beta)))
        grad = z.T @ (w * (p - y)) + reg * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(reg)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return beta[:-1].astype(np.float32), float(beta[-1]), mean.astype(np.float32), scale.astype(np.float32)


def model_of(params, thresholds: relevance.Thresholds, card: dict) -> relevance.RelevanceModel:
    weights, bias, mean, scale = params
    return relevance.RelevanceModel(relevance.MODEL_VERSION, weights, bias, mean, scale, thresholds, card)


HALF = relevance.Thresholds(0.5, 0.5, 0.5, 0.5)


def fold_of(record_id: str, folds: int, seed: int) -> int:
    return int(hashlib.sha1(f"{seed}:{record_id}".encode()).hexdigest(), 16) % folds


# --------------------------------------------------------------------------- scoring


def predictions(corpus: Corpus, p: np.ndarray | None, th: relevance.Thresholds = HALF) -> list[list[Event]]:
    """Each record's kept events given row probabilities ``p`` (this corpus's rows);
    ``p=None``: the rules alone (precise triggers kept, broad ones dropped)."""
    out = []
    for cands, chars in zip(corpus.candidates, corpus.lengths()):
        kept = []
        for c in cands:
            judged = c.event.modality in (Modality.ASSERTED, Modality.HISTORICAL)  # as assemble.relevant
            best = None if p is None or not judged else max((float(p[r]) for r in c.rows), default=None)
            if (c.precise if best is None else best >= th.needed(chars, c.precise)):
                kept.append(c.event)
        out.append(kept)
    return out


def score(corpus: Corpus, preds: list[list[Event]]) -> dict:
    if corpus.kind == "acled":
        summary, by_source, _ = evaluate.score(corpus.records, preds)
        return {**summary, "by_source": {k: dict(zip(("precision", "recall", "f1"), (round(v, 4) for v in t.prf())))
                                         for k, t in by_source.items()}}
    if corpus.kind == "news_doc":
        summary, by_source = eval_news.score_news_docs(corpus.records, preds)
    elif corpus.kind == "coded_report":
        summary, by_source = eval_news.score_coded_reports(corpus.records, preds)
    else:
        summary, by_source = eval_news.score_general(corpus.records, preds)
    return {**summary, "by_source": by_source}


def detection(corpus: Corpus, preds: list[list[Event]]) -> tuple[float, float]:
    """(detection F1, false strike events per 1,000) fast: what the threshold search needs."""
    tp = fp = fn = events = 0
    for rec, evs in zip(corpus.records, preds):
        n = len(eval_news.asserted_strikes(evs))
        events += n
        if corpus.kind == "general_news":
            continue
        label = record_label(corpus.kind, rec)
        if label < 0:
            continue  # uncertain: not scored
        gold = label == 1.0
        tp, fp, fn = tp + (gold and n > 0), fp + (not gold and n > 0), fn + (gold and n == 0)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), 1000.0 * events / max(1, len(corpus.records))


def choose_thresholds(corpora: Sequence[Corpus], oof: dict[str, np.ndarray]) -> tuple[relevance.Thresholds, dict]:
    """The thresholds with the best mean detection F1 over the labelled corpora while
    general news stays within ``MAX_GENERAL_PER_1000``: one (precise, broad) pair for all
    texts first, then the pair of full articles and the pair of short texts in turn
    (coordinate ascent, two rounds); then the full scores at those thresholds."""
    def key(th: relevance.Thresholds):
        det = {c.name: detection(c, predictions(c, oof[c.name], th)) for c in corpora}
        over = max((det[c.name][1] - MAX_GENERAL_PER_1000 for c in corpora if c.kind == "general_news"), default=0.0)
        f1s = [det[c.name][0] for c in corpora if c.kind != "general_news"]
        return (over <= 0, -max(over, 0.0), float(np.mean(f1s)) if f1s else 0.0, -th.broad - th.long_broad)

    pairs = [(a, b) for a in THRESHOLDS for b in THRESHOLDS if b >= a]
    best = max((relevance.Thresholds(a, b, a, b) for a, b in pairs), key=key)
    for _round in range(2):
        best = max((relevance.Thresholds(best.precise, best.broad, a, b) for a, b in pairs), key=key)
        best = max((relevance.Thresholds(a, b, best.long_precise, best.long_broad) for a, b in pairs), key=key)
    return best, {c.name: score(c, predictions(c, oof[c.name], best)) for c in corpora}


# --------------------------------------------------------------------------- main


def embed_all(corpora: Sequence[Corpus], embed: Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
    texts = list(dict.fromkeys(t for c in corpora for t in c.texts))
    vecs = embed(texts) if texts else np.zeros((0, 384), dtype=np.float32)
    row = {t: i for i, t in enumerate(texts)}
    out = {}
    for c in corpora:
        emb = vecs[[row[t] for t in c.texts]] if c.texts else np.zeros((0, vecs.shape[1]), dtype=np.float32)
        out[c.name] = np.hstack([emb, np.asarray(c.rules, dtype=np.float32).reshape(len(c.texts), -1)]).astype(np.float32)
    return out


def train(corpora: Sequence[Corpus], x: dict[str, np.ndarray], folds: int, seed: int, l2: float = L2,
          weights: dict[str, float] | None = None) -> tuple[relevance.RelevanceModel, dict, dict[str, np.ndarray]]:
    """The model fit on every row, its card (cross-validated and leave-one-dataset-out
    scores) and the out-of-fold probability of every row."""
    names = [c.name for c in corpora]
    y = {c.name: c.labels() for c in corpora}
    fold = {c.name: np.array([fold_of(str(c.records[r].get("id")), folds, seed) for r in c.row_record], dtype=int) for c in corpora}

    def stack(select: Callable[[str], np.ndarray]):
        xs, ys, ws = [], [], []
        for c in corpora:
            m = select(c.name) & (y[c.name] >= 0)
            xs.append(x[c.name][m])
            ys.append(y[c.name][m])
            ws.append(np.full(int(m.sum()), (weights or DATASET_WEIGHT).get(c.name, 1.0), dtype=np.float64))
        xa, ya, wa = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
        pos = wa[ya == 1].sum()
        if pos > 0:
            wa = np.where(ya == 1, wa * wa[ya == 0].sum() / pos, wa)  # balance the classes
        return xa, ya, wa

    oof = {n: np.zeros(len(y[n]), dtype=np.float32) for n in names}
    for k in range(folds):
        params = fit(*stack(lambda n: fold[n] != k), l2=l2)
        probe = model_of(params, HALF, {})
        for n in names:
            m = fold[n] == k
            if m.any():
                oof[n][m] = probe.predict(x[n][m])
    th, cv = choose_thresholds(corpora, oof)
    loso = {}
    for held in names:
        params = fit(*stack(lambda n, held=held: np.full(len(y[n]), n != held)), l2=l2)
        probe = model_of(params, th, {})
        c = next(c for c in corpora if c.name == held)
        loso[held] = score(c, predictions(c, probe.predict(x[held]) if len(x[held]) else np.zeros(0), th))
    rules_only = {c.name: score(c, predictions(c, None)) for c in corpora}
    card = {
        "trained_on": {c.name: {"records": len(c.records), "rows": int((y[c.name] >= 0).sum()), "positive_rows": int((y[c.name] == 1).sum())}
                       for c in corpora},
        "features": {"embedding": "all-MiniLM-L6-v2 (strikewatch.embeddings)", "rules": list(relevance.RULE_FEATURES)},
        "l2": l2, "folds": folds, "seed": seed, "dataset_weight": weights or DATASET_WEIGHT,
        "thresholds": {"precise": th.precise, "broad": th.broad, "long_precise": th.long_precise, "long_broad": th.long_broad,
                       "long_doc_chars": relevance.LONG_DOC_CHARS},
        "cross_validated": cv, "leave_one_dataset_out": loso, "rules_only": rules_only,
    }
    model = model_of(fit(*stack(lambda n: np.ones(len(y[n]), dtype=bool)), l2=l2), th, card)
    return model, card, oof


CACHE_DIR = Path.home() / ".cache" / "strikewatch" / "train"


def code_digest() -> str:
    """A hash of the extraction code and its data: cached candidates are reused only by the same rules."""
    h = hashlib.sha1()
    root = Path(__file__).parents[1]
    scoring = {"commands.py"}  # it reads candidates, it makes none (so do the tools)
    for f in sorted([*root.rglob("*.py"), *root.rglob("*.jsonl"), *root.rglob("*.tsv")]):
        if "models" not in f.parts and "tools" not in f.parts and f.name not in scoring:
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cached_corpus(name: str, path: Path, limit: int, nlp_factory: Callable) -> Corpus:
    """The corpus with its candidates, from ``CACHE_DIR`` when the data and the code are unchanged."""
    import pickle

    key = hashlib.sha1(f"{code_digest()}:{path.stat().st_size}:{path.stat().st_mtime_ns}:{limit}".encode()).hexdigest()[:16]
    f = CACHE_DIR / f"{name}-{key}.pkl"
    if f.exists():
        return pickle.loads(f.read_bytes())
    c = read_corpus(name, path, limit)
    collect(c, nlp_factory())
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    f.write_bytes(pickle.dumps(c))
    return c


def load_corpora(data_dir: Path, limit: int = 0, use_cache: bool = True) -> list[Corpus]:
    """Every dev set with its candidates (from the cache when this code made them)."""
    from .. import load_nlp

    nlp = None

    def rules_nlp():
        nonlocal nlp
        if nlp is None:
            nlp = load_nlp()
            nlp.remove_pipe("strike_relevance")  # candidates are scored by the model being made, not the shipped one
        return nlp

    corpora = []
    t0 = time.perf_counter()
    for name, rel in DATASETS.items():
        path = data_dir / rel
        if not path.exists():
            raise FileNotFoundError(path)
        if use_cache:
            c = cached_corpus(name, path, limit, rules_nlp)
        else:
            c = read_corpus(name, path, limit)
            collect(c, rules_nlp())
        corpora.append(c)
        print(f"{name}: {len(c.records)} records, {len(c.texts)} candidate triggers ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return corpora


def cross_validated(data_file: Path, folds: int = 5, seed: int = 13) -> tuple[dict, str]:
    """The cross-validated scores of the dev set ``data_file`` (trained on the other folds
    of it and on every other dev set beside it), and that dataset's name."""
    from strikewatch.embeddings import load_embedder

    data_file = data_file.resolve()
    data_dir = next((p for p in data_file.parents if any((p / rel).resolve() == data_file for rel in DATASETS.values())), None)
    if data_dir is None:
        raise ValueError(f"{data_file} is not one of the dev sets ({', '.join(DATASETS.values())}): nothing to hold it out of")
    name = next(n for n, rel in DATASETS.items() if (data_dir / rel).resolve() == data_file)
    corpora = load_corpora(data_dir)
    _model, card, _oof = train(corpora, embed_all(corpora, load_embedder().encode), folds, seed)
    return card["cross_validated"][name], name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strikewatch train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder (read in place)")
    ap.add_argument("--out", type=Path, default=relevance.model_path(), help="where to write the model (.npz, with a .json card)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="first N records of each dataset (0 = all): a quick run")
    ap.add_argument("--l2", type=float, default=L2, help="L2 penalty")
    ap.add_argument("--weight", action="append", default=[], metavar="DATASET=W", help="row weight of a dataset (repeatable)")
    ap.add_argument("--dump", type=Path, help="write every candidate event with its out-of-fold probability (JSONL), to read errors")
    ap.add_argument("--no-where", action="store_true", help="skip the theatre prior and the place choice (facts/places/train.py)")
    ap.add_argument("--no-cache", action="store_true", help=f"run the rules even if {CACHE_DIR} holds this code's candidates")
    args = ap.parse_args(argv)
    from strikewatch.embeddings import load_embedder

    np.random.seed(args.seed)
    t0 = time.perf_counter()
    try:
        corpora = load_corpora(args.data_dir, args.limit, use_cache=not args.no_cache)
    except FileNotFoundError as e:
        print(f"strikewatch train: missing {e}", file=sys.stderr)
        return 2
    x = embed_all(corpora, load_embedder().encode)
    weights = {**DATASET_WEIGHT, **{k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}}
    model, card, oof = train(corpora, x, args.folds, args.seed, l2=args.l2, weights=weights)
    model.save(args.out)
    where_cards = None
    if not args.no_where:
        # Where: the theatre prior and the place choice, each with its card (facts/places/train.py).
        from ..facts.places import train as where_train

        where_cards = where_train.fit_all(args.data_dir, args.folds, args.limit)
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as f:
            for c in corpora:
                for i, cands in enumerate(c.candidates):
                    for cand in cands:
                        f.write(json.dumps({"dataset": c.name, "id": c.records[i].get("id"), "label": record_label(c.kind, c.records[i]),
                                            "type": cand.event.event_type.value, "modality": cand.event.modality.value, "precise": cand.precise,
                                            "p": max((float(oof[c.name][r]) for r in cand.rows), default=None),
                                            "text": cand.event.evidence[0].text[:300] if cand.event.evidence else ""}) + "\n")
    for name in DATASETS:
        print(json.dumps({"dataset": name, "cross_validated": _brief(card["cross_validated"][name]),
                          "leave_one_dataset_out": _brief(card["leave_one_dataset_out"][name]), "rules_only": _brief(card["rules_only"][name])}))
    if where_cards is not None:
        from ..facts.places import train as where_train

        print(json.dumps({"where": where_train.brief(where_cards)}))
    print(json.dumps({"model": str(args.out), "thresholds": card["thresholds"],
                      "seconds": round(time.perf_counter() - t0, 1),
                      "cross_validated": {n: _brief(card["cross_validated"][n]) for n in DATASETS}}))
    return 0


def _brief(s: dict) -> dict:
    keys = ("detection", "false_strike_events_per_1000", "attacker_recall", "target_recall", "place_recall", "weapon_recall",
            "country_accuracy", "events_per_strike_doc")
    return {k: (s[k] if k != "detection" else {m: s[k][m] for m in ("precision", "recall", "f1")}) for k in keys if k in s}


if __name__ == "__main__":
    raise SystemExit(main())

"""``strikewatch train``: fit the relevance model (``pipeline.extraction.relevance``) on the
dev sets, score it where it was not trained, and write it into the package.

    strikewatch train                      # ../shared/data -> pipeline/extraction/models/relevance-5.npz
                                           # (+ .json card),
                                           # facts/parties/models/roles-1.npz, facts/places/models/theatre-2.json and
                                           # place-choice-1.npz (+ cards)
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from strikewatch.core.models import STRIKE_TYPES, Article, Event, Modality

from .. import relevance
from . import eval_news, evaluate, roles

DEFAULT_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
DATASETS = {
    "acled": "eval/acled_dev.jsonl",
    "case2021": "eval/case2021_dev.jsonl",
    "news": "eval/news_dev.jsonl",
    "news2": "eval/news2_dev.jsonl",
    "general": "news/general_news.jsonl",
}
# Row weight per dataset: ACLED notes are plentiful (~6 of 10 rows) and the easy kind;
# news sentences, documents and general news are what feeds carry and what the
# thresholds must hold on.
# news2's coded reports (4,939, one or two sentences or an assessment) are plentiful like
# ACLED's notes; at weight 1.0 its 2,600 strike rows pulled the thresholds to 0.10/0.25 and
# news_dev detection F1 from 0.89 to 0.81 (cross-validated).
DATASET_WEIGHT = {"acled": 1.0, "case2021": 3.0, "news": 3.0, "news2": 0.5, "general": 3.0}
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
    docs: dict[int, object] = field(
        default_factory=dict
    )  # record index -> its parsed Doc (records the gate let through)
    rows_at: dict[int, dict[int, int]] = field(default_factory=dict)  # record -> trigger start -> relevance row
    role_rows: roles.RoleRows = field(default_factory=roles.RoleRows)
    role_blocks: dict[int, list] = field(default_factory=dict)  # record -> [(trigger, candidates, x, junk)]
    rule_candidates: list[list[Candidate]] = field(default_factory=list)  # the events with the rules' roles

    def lengths(self) -> list[int]:
        """Characters of each record's article text (what the thresholds go by)."""
        if not hasattr(self, "_lengths"):
            self._lengths = [len(article_of(self.kind, r).text) for r in self.records]
        return self._lengths

    def labels(self) -> np.ndarray:
        return np.array(
            [row_label(self.kind, self.records[i], t) for i, t in zip(self.row_record, self.texts)], dtype=np.float32
        )


def record_label(kind: str, rec: dict) -> float:
    """1 strike, 0 not, -1 unknown (uncertain news documents: not trained on)."""
    if kind == "acled":
        if rec.get("sub_event_type") is None:
            return -1.0  # pre-2019 "Remote violence": strikes and IEDs alike (role rows only)
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
    return {
        "acled": evaluate.article_for,
        "news_doc": eval_news.news_article,
        "coded_report": eval_news.news_article,
        "general_news": eval_news.general_article,
    }[kind](rec)


def read_corpus(name: str, path: Path, limit: int = 0) -> Corpus:
    records = evaluate.read_records(path)
    kind = eval_news.record_kind(records[0])
    # ACLED rows with no sub-event type (pre-2019) are not scored for detection (label -1)
    # but their actor1/actor2 still label the role model's rows (24,380 notes in all).
    return Corpus(name, kind, records[:limit] if limit else records)


def collect(corpus: Corpus, nlp, batch_size: int = 64) -> None:
    """Run the rules over the corpus; keep every candidate event and its triggers' rows."""
    from .. import gate, make_doc

    for i in range(0, len(corpus.records), batch_size):
        recs = corpus.records[i : i + batch_size]
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
            corpus.rows_at[i + j] = rows_at
            blocks = roles.collect_rows(corpus.kind, recs[j], i + j, doc, corpus.role_rows)
            if blocks:
                corpus.docs[i + j] = doc
                corpus.role_blocks[i + j] = blocks
            per[j] = doc_candidates(doc, arts[j], rows_at)
        corpus.candidates.extend(per[j] for j in range(len(recs)))
    corpus.rule_candidates = list(corpus.candidates)


def doc_candidates(doc, article: Article, rows_at: dict[int, int]) -> list[Candidate]:
    """The candidate strike events of one parsed doc (its spans as they are now)."""
    from .. import assemble as events

    out = []
    for ev, group in events.assemble(doc, article):
        if ev.event_type not in STRIKE_TYPES:
            continue
        rows = sorted({rows_at[m.trigger.start] for m in group if m.trigger.start in rows_at})
        out.append(Candidate(ev, rows, any(not m.broad for m in group)))
    return out


def reassemble(corpus: Corpus, probs: np.ndarray, thresholds: tuple[float, float]) -> list[list[Candidate]]:
    """Every record's candidate events with the roles chosen from ``probs`` (one row per
    role row of the corpus, in ``role_rows`` order); records without a strike trigger
    keep the events they had."""
    from ..components.base import Keys
    from ..facts.parties.component import _typed
    from ..facts.parties.model import decide
    from ..facts.parties.roles import BYSTANDER, VICTIM

    out = list(corpus.rule_candidates)
    at = 0
    for rec_i, blocks in corpus.role_blocks.items():
        doc = corpus.docs[rec_i]
        spans = [s for s in doc.spans.get(Keys.ROLE_RULES, []) if s.label_ in (BYSTANDER, VICTIM)]
        for trig, cands, _x, junk in blocks:
            p = probs[at : at + len(cands)]
            at += len(cands)
            att, tgt = decide(cands, p, thresholds, junk)
            for role, picked in (("attacker", att), ("target", tgt)):
                for k in picked:
                    c = cands[k]
                    span = doc.char_span(
                        c.start, c.end, label=role, alignment_mode="expand", span_id=str(trig.start_char)
                    )
                    if span is not None:
                        span._.sw_actor = c.actor
                        spans.append(span)
        doc.spans[Keys.ROLES] = [_typed(s) for s in spans]
        doc.user_data["sw_roles_learned"] = True
        out[rec_i] = doc_candidates(doc, article_of(corpus.kind, corpus.records[rec_i]), corpus.rows_at.get(rec_i, {}))
    return out


# --------------------------------------------------------------------------- the model


def fit(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2, n_rule: int | None = None
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Weighted L2 logistic regression by Newton's method. Rule features (the last
    ``n_rule`` columns, by default the English model's) are standardised first; returns
    (weights, bias, mean, scale)."""
    n_rule = len(relevance.RULE_FEATURES) if n_rule is None else n_rule
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
            if c.precise if best is None else best >= th.needed(chars, c.precise):
                kept.append(c.event)
        out.append(kept)
    return out


def score(corpus: Corpus, preds: list[list[Event]]) -> dict:
    if corpus.kind == "acled":
        summary, by_source, _ = evaluate.score(corpus.records, preds)
        return {
            **summary,
            "by_source": {
                k: dict(zip(("precision", "recall", "f1"), (round(v, 4) for v in t.prf())))
                for k, t in by_source.items()
            },
        }
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
        out[c.name] = np.hstack([emb, np.asarray(c.rules, dtype=np.float32).reshape(len(c.texts), -1)]).astype(
            np.float32
        )
    return out


@dataclass
class RoleFit:
    model: object  # facts.parties.model.RoleModel, fit on every labelled row
    cv: dict[str, np.ndarray]  # out-of-fold probabilities of each corpus's role rows
    lodo: dict[str, np.ndarray]  # probabilities from a model trained without that corpus
    card: dict


def train_roles(corpora: Sequence[Corpus], folds: int, seed: int) -> RoleFit:
    """The role model: out of fold (folds by record, every dataset's other folds) and
    leave one dataset out, thresholds chosen on the out-of-fold probabilities."""
    data = {c.name: c.role_rows.stacked() for c in corpora}
    fold = {
        n: np.array([fold_of(str(c.records[r].get("id")), folds, seed) for r in data[n][2]], dtype=int)
        for c in corpora
        for n in [c.name]
    }
    labelled = [c.name for c in corpora if (data[c.name][1] >= 0).any()]
    w = {n: roles.DATASET_WEIGHT.get(n, 1.0) for n in labelled}
    if not labelled:  # no role annotations (a test's corpora): the rules' roles stand
        return RoleFit(None, {}, {}, {})

    def fit_on(select) -> object:
        xs, ys, ws = [], [], []
        for n in labelled:
            m = select(n)
            xs.append(data[n][0][m])
            ys.append(data[n][1][m])
            ws.append(w[n])
        return roles.fit_model(xs, ys, ws)

    cv = {c.name: np.zeros((len(data[c.name][0]), 2), np.float32) for c in corpora}
    for k in range(folds):
        m = fit_on(lambda n: fold[n] != k)  # noqa: B023  (called in this iteration)
        for c in corpora:
            sel = fold[c.name] == k
            if sel.any():
                cv[c.name][sel] = m.predict(data[c.name][0][sel])
    by = {c.name: c for c in corpora}
    th, row_scores = roles.choose_thresholds(
        [(data[n][1], cv[n], by[n].role_rows.junk_flags(), by[n].role_rows.block_sizes()) for n in labelled]
    )
    row_scores = {
        role: {**v, **{k: {labelled[i]: f for i, f in v[k].items()} for k in v if isinstance(v[k], dict)}}
        for role, v in row_scores.items()
    }
    lodo = {}
    for c in corpora:
        m = fit_on(lambda n, held=c.name: np.full(len(data[n][0]), n != held))
        lodo[c.name] = m.predict(data[c.name][0]) if len(data[c.name][0]) else np.zeros((0, 2), np.float32)
    card = {
        "trained_on": {
            n: {
                "rows": len(data[n][0]),
                "attacker_rows": int((data[n][1][:, 0] == 1).sum()),
                "target_rows": int((data[n][1][:, 1] == 1).sum()),
                "weight": w[n],
            }
            for n in labelled
        },
        "labels": {
            "news": "news_dev human role annotations (WikiEvents, MUC-4), any attack type",
            "acled": "ACLED actor1 (attacker) and actor2 (target), all 24,380 notes",
            "news2": "news2_dev coded perpetrator and target sectors (strike reports)",
        },
        "features": {
            "rules_and_syntax": list(roles.role_model.ROLE_FEATURES),
            "vectors": "en_core_web_sm tok2vec of the candidate's head and its product with the trigger's (2 x 96)",
        },
        "l2": roles.L2,
        "folds": folds,
        "seed": seed,
        "thresholds": {"attacker": th[0], "target": th[1]},
        "out_of_fold_rows": row_scores,
    }
    final = fit_on(lambda n: np.ones(len(data[n][0]), dtype=bool))
    final = roles.role_model.RoleModel(final.version, final.weights, final.bias, final.mean, final.scale, th, card)
    return RoleFit(final, cv, lodo, card)


def train(
    corpora: Sequence[Corpus],
    x: dict[str, np.ndarray],
    folds: int,
    seed: int,
    l2: float = L2,
    weights: dict[str, float] | None = None,
) -> tuple[relevance.RelevanceModel, dict, dict[str, np.ndarray]]:
    """The model fit on every row, its card (cross-validated and leave-one-dataset-out
    scores) and the out-of-fold probability of every row. The role model is fit first
    (``train_roles``): every candidate event is assembled with roles chosen out of fold;
    the card holds it as ``card["roles"]`` and the fitted role model as ``card["_role_model"]``."""
    names = [c.name for c in corpora]
    role_fit = train_roles(corpora, folds, seed)
    learned = role_fit.model is not None
    th_roles = role_fit.model.thresholds if learned else (0.5, 0.5)
    role_cv = {
        c.name: reassemble(c, role_fit.cv[c.name], th_roles)
        if learned and c.role_blocks
        else c.rule_candidates or c.candidates
        for c in corpora
    }
    role_lodo = {
        c.name: reassemble(c, role_fit.lodo[c.name], th_roles) if learned and c.role_blocks else role_cv[c.name]
        for c in corpora
    }
    for c in corpora:
        c.candidates = role_cv[c.name]
    y = {c.name: c.labels() for c in corpora}
    fold = {
        c.name: np.array([fold_of(str(c.records[r].get("id")), folds, seed) for r in c.row_record], dtype=int)
        for c in corpora
    }

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
        params = fit(*stack(lambda n: fold[n] != k), l2=l2)  # noqa: B023  (called in this iteration)
        probe = model_of(params, HALF, {})
        for n in names:
            m = fold[n] == k
            if m.any():
                oof[n][m] = probe.predict(x[n][m])
    th, cv = choose_thresholds(corpora, oof)
    loso, roles_lodo = {}, {}
    for held in names:
        params = fit(*stack(lambda n, held=held: np.full(len(y[n]), n != held)), l2=l2)
        probe = model_of(params, th, {})
        c = next(c for c in corpora if c.name == held)
        c.candidates = role_lodo[held]
        roles_lodo[held] = score(c, predictions(c, oof[held], th))  # the role model alone trained without it
        loso[held] = score(c, predictions(c, probe.predict(x[held]) if len(x[held]) else np.zeros(0), th))
        c.candidates = role_cv[held]
    rules_only = {}
    for c in corpora:
        c.candidates = c.rule_candidates or c.candidates
        rules_only[c.name] = score(c, predictions(c, None))
        c.candidates = role_cv[c.name]
    card = {
        "trained_on": {
            c.name: {
                "records": len(c.records),
                "rows": int((y[c.name] >= 0).sum()),
                "positive_rows": int((y[c.name] == 1).sum()),
            }
            for c in corpora
        },
        "features": {
            "embedding": "all-MiniLM-L6-v2 (strikewatch.core.embeddings)",
            "rules": list(relevance.RULE_FEATURES),
        },
        "l2": l2,
        "folds": folds,
        "seed": seed,
        "dataset_weight": weights or DATASET_WEIGHT,
        "thresholds": {
            "precise": th.precise,
            "broad": th.broad,
            "long_precise": th.long_precise,
            "long_broad": th.long_broad,
            "long_doc_chars": relevance.LONG_DOC_CHARS,
        },
        "cross_validated": cv,
        "leave_one_dataset_out": loso,
        "roles_leave_one_dataset_out": roles_lodo,
        "rules_only": rules_only,
        "roles": role_fit.card,
    }
    model = model_of(fit(*stack(lambda n: np.ones(len(y[n]), dtype=bool)), l2=l2), th, card)
    card["_role_model"] = role_fit.model
    return model, card, oof


def load_corpora(data_dir: Path, limit: int = 0) -> list[Corpus]:
    """Every dev set parsed, with its candidates and role rows. Nothing is cached: the role
    model re-decides the parsed docs per fold, and spaCy docs holding spans do not pickle."""
    from .. import load_nlp

    nlp = None

    def rules_nlp():
        nonlocal nlp
        if nlp is None:
            nlp = load_nlp()
            nlp.remove_pipe("strike_relevance")  # candidates are scored by the model being made, not the shipped one
            nlp.replace_pipe(
                "strike_parties", "strike_parties", config={"version": "", "decide": "rules"}
            )  # the rules' roles: rows are re-decided per fold
        return nlp

    corpora = []
    t0 = time.perf_counter()
    for name, rel in DATASETS.items():
        path = data_dir / rel
        if not path.exists():
            raise FileNotFoundError(path)
        c = read_corpus(name, path, limit)
        collect(c, rules_nlp())
        corpora.append(c)
        print(
            f"{name}: {len(c.records)} records, {len(c.texts)} candidate triggers ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    return corpora


def cross_validated(data_file: Path, folds: int = 5, seed: int = 13) -> tuple[dict, str]:
    """The cross-validated scores of the dev set ``data_file`` (trained on the other folds
    of it and on every other dev set beside it), and that dataset's name."""
    from strikewatch.core.embeddings import load_embedder

    data_file = data_file.resolve()
    data_dir = next(
        (p for p in data_file.parents if any((p / rel).resolve() == data_file for rel in DATASETS.values())), None
    )
    if data_dir is None:
        raise ValueError(
            f"{data_file} is not one of the dev sets ({', '.join(DATASETS.values())}): nothing to hold it out of"
        )
    name = next(n for n, rel in DATASETS.items() if (data_dir / rel).resolve() == data_file)
    corpora = load_corpora(data_dir)
    _model, card, _oof = train(corpora, embed_all(corpora, load_embedder().encode), folds, seed)
    card.pop("_role_model", None)
    return card["cross_validated"][name], name


def eval_main(argv: list[str] | None = None) -> int:
    """``strikewatch eval``: ``evaluate.main`` with ``--cv`` scoring through this trainer."""
    return evaluate.main(argv, cross_validate=cross_validated)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="strikewatch train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="the shared data folder (read in place)")
    ap.add_argument(
        "--out", type=Path, default=relevance.model_path(), help="where to write the model (.npz, with a .json card)"
    )
    ap.add_argument(
        "--roles-out", type=Path, help="where to write the role model (default: facts/parties/models/<version>.npz)"
    )
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="first N records of each dataset (0 = all): a quick run")
    ap.add_argument("--l2", type=float, default=L2, help="L2 penalty")
    ap.add_argument(
        "--weight", action="append", default=[], metavar="DATASET=W", help="row weight of a dataset (repeatable)"
    )
    ap.add_argument(
        "--dump", type=Path, help="write every candidate event with its out-of-fold probability (JSONL), to read errors"
    )
    ap.add_argument(
        "--no-where", action="store_true", help="skip the theatre prior and the place choice (facts/places/train.py)"
    )
    args = ap.parse_args(argv)
    from strikewatch.core.embeddings import load_embedder

    np.random.seed(args.seed)
    t0 = time.perf_counter()
    try:
        corpora = load_corpora(args.data_dir, args.limit)
    except FileNotFoundError as e:
        print(f"strikewatch train: missing {e}", file=sys.stderr)
        return 2
    x = embed_all(corpora, load_embedder().encode)
    weights = {**DATASET_WEIGHT, **{k: float(v) for k, v in (w.split("=", 1) for w in args.weight)}}
    model, card, oof = train(corpora, x, args.folds, args.seed, l2=args.l2, weights=weights)
    role_model = card.pop("_role_model")
    model.save(args.out)
    if role_model is not None:
        role_model.save(args.roles_out or role_model_path())
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
                        f.write(
                            json.dumps(
                                {
                                    "dataset": c.name,
                                    "id": c.records[i].get("id"),
                                    "label": record_label(c.kind, c.records[i]),
                                    "type": cand.event.event_type.value,
                                    "modality": cand.event.modality.value,
                                    "precise": cand.precise,
                                    "p": max((float(oof[c.name][r]) for r in cand.rows), default=None),
                                    "text": cand.event.evidence[0].text[:300] if cand.event.evidence else "",
                                }
                            )
                            + "\n"
                        )
    for name in DATASETS:
        print(
            json.dumps(
                {
                    "dataset": name,
                    "cross_validated": _brief(card["cross_validated"][name]),
                    "leave_one_dataset_out": _brief(card["leave_one_dataset_out"][name]),
                    "roles_leave_one_dataset_out": _brief(card["roles_leave_one_dataset_out"][name]),
                    "rules_only": _brief(card["rules_only"][name]),
                }
            )
        )
    if where_cards is not None:
        from ..facts.places import train as where_train

        print(json.dumps({"where": where_train.brief(where_cards)}))
    print(
        json.dumps(
            {
                "model": str(args.out),
                "thresholds": card["thresholds"],
                "seconds": round(time.perf_counter() - t0, 1),
                "cross_validated": {n: _brief(card["cross_validated"][n]) for n in DATASETS},
            }
        )
    )
    return 0


def role_model_path() -> Path:
    from ..facts.parties.model import model_path

    return model_path()


def _brief(s: dict) -> dict:
    keys = (
        "detection",
        "false_strike_events_per_1000",
        "attacker_recall",
        "target_recall",
        "place_recall",
        "weapon_recall",
        "country_accuracy",
        "events_per_strike_doc",
    )
    return {
        k: (s[k] if k != "detection" else {m: s[k][m] for m in ("precision", "recall", "f1")}) for k in keys if k in s
    }


if __name__ == "__main__":
    raise SystemExit(main())

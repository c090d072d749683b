"""Training data and fitting of the role model (``facts/parties/model.py``), for
``strikewatch train``.

Every candidate phrase of every strike trigger of a parsed dev record is a row
(``facts.parties.component.role_rows``). Its labels (attacker, target) come from:

* news_dev: the human role annotations of the document's events (WikiEvents, MUC-4), any
  attack type, matched by words (``eval_news.filler_matches``); documents without any
  annotated attacker or target give no rows;
* acled: the coders' actor1 (attacker) and actor2 (target), matched as ``strikewatch
  eval`` matches actors (``evaluate.actor_matches``); an "Unidentified ..." actor only by
  phrases that say so ("unidentified gunmen");
* news2 (strike reports): the coded perpetrator (``eval_news.party_matches``) and the coded
  target sectors (a phrase of that ``target_type``) or named facility.

Rows of a record are decided by a model that never saw that record (folds by record, as
the relevance model's), so the events scored downstream are out of fold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from strikewatch.core.models import Event, EventType

from ..facts.parties import model as role_model
from ..facts.parties.targets import target_type
from . import eval_news, evaluate

# Row weight per dataset: human annotations count more than projected labels.
DATASET_WEIGHT = {"news": 3.0, "acled": 1.0, "news2": 1.0}
L2 = 3.0
# Newton steps: the role regressions converge in 6-10 (step < 1e-4); 40k rows x 277 columns.
NEWTON_STEPS = 15
THRESHOLDS = tuple(round(float(x), 2) for x in np.arange(0.1, 0.91, 0.05))
_UNIDENTIFIED_WORDS = re.compile(r"\b(?:unidentified|unknown|gunmen|armed men|assailants)\b", re.I)
_CIVILIANS = re.compile(r"^civilians\b", re.I)


@dataclass
class RoleRows:
    """The role rows of one corpus: per record, per trigger, its candidates' rows."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)  # (n, 2): attacker, target; -1 = unlabelled
    record: list[int] = field(default_factory=list)  # per block: record index
    trigger: list[int] = field(default_factory=list)  # per block: trigger start char
    junk: list[np.ndarray] = field(default_factory=list)  # per block: candidates that can be no role

    def block_sizes(self) -> list[int]:
        return [len(b) for b in self.x]

    def junk_flags(self) -> np.ndarray:
        return np.concatenate(self.junk) if self.junk else np.zeros(0, bool)

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.x:
            return np.zeros((0, _dim()), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, int)
        rec = np.concatenate([np.full(len(b), r) for b, r in zip(self.x, self.record)])
        return np.vstack(self.x), np.vstack(self.y), rec


def _dim() -> int:
    return len(role_model.ROLE_FEATURES) + 2 * role_model.VECTOR_DIM


def _event(actor) -> Event:
    return Event(id="x", article_id="x", event_type=EventType.AIR_STRIKE, attacker=actor, attackers=[actor])


def labeller(kind: str, rec: dict) -> Callable | None:
    """A function (candidate, phrase text) -> (attacker 0/1, target 0/1) for one record, or
    None when the record says nothing of roles."""
    if kind == "news_doc":
        events = rec.get("events") or []
        att = [a for e in events for a in e.get("attacker") or []]
        tgt = [t for e in events for t in e.get("target") or []]
        if not att and not tgt:
            return None
        return lambda c, text: (
            float(any(eval_news.filler_matches(g, [text, c.actor.name]) for g in att)),
            float(any(eval_news.filler_matches(g, [text, c.actor.name]) for g in tgt)),
        )
    if kind == "acled":
        a1, a2 = rec.get("actor1"), rec.get("actor2")
        if not a1:
            return None

        def acled(c, text):
            def is_(gold):
                if not gold:
                    return 0.0
                if gold.startswith("Unidentified"):
                    return float(bool(_UNIDENTIFIED_WORDS.search(text)))
                if _CIVILIANS.match(gold):
                    return float(c.actor.type == "civilians" or target_type(text) == "people")
                return float(evaluate.actor_matches(_event(c.actor), gold))

            return is_(a1), is_(a2)

        return acled
    if kind == "coded_report":
        if rec.get("label") != "strike":
            return None
        att = [a for a in rec.get("attacker") or [] if a.strip().lower() not in eval_news.NO_PARTY]
        coded = rec.get("target") or []
        types = {t for c in coded for t in eval_news.sector_types(c)}
        named = [c for c in coded if not eval_news.sector_types(c) or "camp" in c.lower()]
        parties = ("state_military", "militia_proxy", "rebel", "terrorist", "government")
        return lambda c, text: (
            float(any(eval_news.party_matches(a, [_event(c.actor)]) for a in att)),
            float(
                c.actor.type not in parties
                and (target_type(text) in types or eval_news.filler_matches_any(named, text))
            ),
        )
    return None


def collect_rows(kind: str, rec: dict, record_index: int, doc, rows: RoleRows) -> list:
    """Add the role rows of one parsed record; returns its (trigger, candidates, x, junk)."""
    from ..components.base import doc_text
    from ..facts.parties.component import role_rows

    blocks = role_rows(doc)
    label = labeller(kind, rec)
    text = doc_text(doc)
    for trig, cands, x, junk in blocks:
        y = (
            np.array([label(c, text[c.start : c.end]) for c in cands], dtype=np.float32).reshape(-1, 2)
            if label
            else np.full((len(cands), 2), -1.0, np.float32)
        )
        rows.x.append(x)
        rows.y.append(y)
        rows.record.append(record_index)
        rows.trigger.append(trig.start_char)
        rows.junk.append(np.asarray(junk, dtype=bool))
    return blocks


# --------------------------------------------------------------------------- fit


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression on standardised columns (Newton)."""
    z = np.hstack([x, np.ones((len(x), 1))]).astype(np.float32)
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        grad = z.T @ (w * (p - y)) + reg * beta
        hess = (z * (w * p * (1 - p))[:, None].astype(np.float32)).T @ z + np.diag(reg)
        step = np.linalg.solve(hess.astype(np.float64), grad)
        beta -= step
        if np.abs(step).max() < 1e-4:
            break
    return beta[:-1], float(beta[-1])


def fit_model(
    xs: Sequence[np.ndarray],
    ys: Sequence[np.ndarray],
    ws: Sequence[float],
    thresholds=(0.5, 0.5),
    card: dict | None = None,
    l2: float = L2,
) -> role_model.RoleModel:
    """Both regressions over the rows of several datasets (row weight ``ws`` per dataset;
    unlabelled rows left out of each)."""
    x = np.vstack(xs)
    w_rows = np.concatenate([np.full(len(a), w) for a, w in zip(xs, ws)])
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    z = (x - mean) / scale
    y = np.vstack(ys)
    weights, bias = [], []
    for k in range(2):
        m = y[:, k] >= 0
        yk, wk = y[m, k], w_rows[m]
        pos = wk[yk == 1].sum()
        if pos > 0:
            wk = np.where(yk == 1, wk * wk[yk == 0].sum() / pos, wk)  # balance the classes
        b, c = fit(z[m], yk, wk, l2)
        weights.append(b)
        bias.append(c)
    return role_model.RoleModel(
        role_model.MODEL_VERSION,
        np.asarray(weights, np.float32),
        np.asarray(bias, np.float32),
        mean.astype(np.float32),
        scale.astype(np.float32),
        tuple(thresholds),
        card or {},
    )


def _f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def attacker_f1(y: np.ndarray, p: np.ndarray, junk: np.ndarray, sizes: Sequence[int], th: float) -> float:
    """Per trigger, as ``model.decide`` chooses: the best non-junk candidate over ``th`` is
    the attacker. F1 of those choices against the labelled attackers (labelled triggers only)."""
    tp = fp = fn = 0
    at = 0
    for n in sizes:
        yb, pb, jb = y[at : at + n, 0], p[at : at + n, 0], junk[at : at + n]
        at += n
        if n == 0 or yb[0] < 0:
            continue
        ok = np.where(~jb)[0]
        best = ok[np.argmax(pb[ok])] if len(ok) else None
        chosen = best is not None and pb[best] >= th
        gold = bool((yb == 1).any())
        if chosen and yb[best] == 1:
            tp += 1
        elif chosen:
            fp += 1
            fn += gold
        elif gold:
            fn += 1
    return _f1(tp, fp, fn)


def target_f1(y: np.ndarray, p: np.ndarray, junk: np.ndarray, th: float) -> float:
    m = (y[:, 1] >= 0) & ~junk
    pred, gold = (p[m, 1] >= th) & (p[m, 1] >= p[m, 0]), y[m, 1] == 1
    return _f1(float((pred & gold).sum()), float((pred & ~gold).sum()), float((~pred & gold).sum()))


# Decision thresholds (probability) of the class-balanced regressions: even odds. Out of
# fold, the per-trigger attacker F1 at 0.5 is within 0.04 of each dataset's own best
# (news 0.400 vs 0.402 at 0.45, ACLED 0.690 vs 0.731 at 0.9, news2 0.948 vs 0.966 at 0.85),
# and a threshold picked for the mean F1 (0.85) halved end-to-end attacker recall on news_dev.
DECISION = (0.5, 0.5)


def choose_thresholds(
    data: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, Sequence[int]]],
) -> tuple[tuple[float, float], dict]:
    """The decision thresholds (``DECISION``) and the out-of-fold scores at them: the
    per-trigger attacker F1 and the target row F1 of each dataset (``data``: per dataset
    (y, p, junk, block sizes))."""
    a, t = DECISION
    scores = {
        "attacker": {
            "threshold": a,
            "per_trigger_f1": {k: round(attacker_f1(y, p, j, s, a), 4) for k, (y, p, j, s) in enumerate(data)},
        },
        "target": {
            "threshold": t,
            "row_f1": {k: round(target_f1(y, p, j, t), 4) for k, (y, p, j, _s) in enumerate(data)},
        },
    }
    return (a, t), scores


def fit_choice(
    z: np.ndarray,
    y: np.ndarray,
    sizes: Sequence[int],
    block_w: np.ndarray,
    l2: float = L2,
    epochs: int = 300,
    lr: float = 0.05,
) -> tuple[np.ndarray, float]:
    """A choice model for one role: per trigger, a softmax over its candidates and "none"
    (score ``-bias``), trained by Adam on the labelled triggers (``y``: 1 for the gold
    candidates, 0 others; a trigger with none has "none" as its answer). Returns (w, bias)
    such that sigmoid(z @ w + bias) > 0.5 iff a candidate beats "none"."""
    starts = np.cumsum([0, *sizes[:-1]]) if len(sizes) else np.zeros(0, int)
    ids = np.repeat(np.arange(len(sizes)), sizes)
    gold_any = np.zeros(len(sizes), bool)
    np.logical_or.at(gold_any, ids, y == 1)
    w = np.zeros(z.shape[1])
    b = 0.0  # score of "none" is -b
    m1, v1 = np.zeros_like(w), np.zeros_like(w)
    mb = vb = 0.0
    total = block_w.sum()
    for t in range(1, epochs + 1):
        s = z @ w
        mx = np.maximum(np.maximum.reduceat(s, starts) if len(starts) else np.zeros(0), -b)
        e = np.exp(s - mx[ids])
        en = np.exp(-b - mx)
        denom = np.add.reduceat(e, starts) + en
        p = e / denom[ids]
        pn = en / denom
        # gold distribution: uniform over gold candidates, or "none"
        ng = np.maximum(np.add.reduceat((y == 1).astype(float), starts), 1.0)
        q = (y == 1) / ng[ids]
        qn = (~gold_any).astype(float)
        bw = block_w[ids]
        gw = ((p - q) * bw) @ z / total + l2 * w / total
        gb = float(((pn - qn) * -1.0 * block_w).sum() / total)
        m1 = 0.9 * m1 + 0.1 * gw
        v1 = 0.999 * v1 + 0.001 * gw * gw
        w -= lr * (m1 / (1 - 0.9**t)) / (np.sqrt(v1 / (1 - 0.999**t)) + 1e-8)
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb * gb
        b -= lr * (mb / (1 - 0.9**t)) / (np.sqrt(vb / (1 - 0.999**t)) + 1e-8)
    return w, b


# --------------------------------------------------------------------------- the entity ranker (roles-2)


def entity_labeller(kind: str, rec: dict) -> Callable | None:
    """A function entity -> (attacker 0/1, target 0/1) for one record, or None when the
    record says nothing of roles. An entity is matched by its name and every mention's
    words, as the scorers match an event's attacker (``eval_news.filler_matches`` /
    ``party_matches``, ``evaluate.actor_matches``)."""
    if kind == "news_doc":
        # The strike events' roles only (any modality: a background strike's trigger is in
        # the text too): a bombing's or a shooting's attacker in the same document is no
        # answer for its strike triggers.
        events = [e for e in rec.get("events") or [] if e.get("type") in eval_news.GOLD_STRIKE_TYPES]
        if not events:
            return None
        att = [a for e in events for a in e.get("attacker") or []]
        tgt = [t for e in events for t in e.get("target") or []]

        def news(e):
            said = [e.actor.name, *(m.text for m in e.actor.mentions)]
            return (
                float(any(eval_news.filler_matches(g, said) for g in att)),
                float(any(eval_news.filler_matches(g, said) for g in tgt)),
            )

        return news
    if kind == "acled":
        a1, a2 = rec.get("actor1"), rec.get("actor2")
        if not a1:
            return None

        def acled(e):
            texts = [m.text for m in e.actor.mentions] or [e.actor.name]

            def is_(gold):
                if not gold:
                    return 0.0
                if gold.startswith("Unidentified"):
                    return float(any(_UNIDENTIFIED_WORDS.search(t) for t in texts))
                if _CIVILIANS.match(gold):
                    return float(e.actor.type == "civilians" or any(target_type(t) == "people" for t in texts))
                return float(evaluate.actor_matches(_event(e.actor), gold))

            return is_(a1), is_(a2)

        return acled
    if kind == "coded_report":
        if rec.get("label") != "strike":
            return None
        att = [a for a in rec.get("attacker") or [] if a.strip().lower() not in eval_news.NO_PARTY]
        coded = rec.get("target") or []
        types = {t for c in coded for t in eval_news.sector_types(c)}
        named = [c for c in coded if not eval_news.sector_types(c) or "camp" in c.lower()]
        parties = ("state_military", "militia_proxy", "rebel", "terrorist", "government")

        def report(e):
            texts = [m.text for m in e.actor.mentions] or [e.actor.name]
            return (
                float(any(eval_news.party_matches(a, [_event(e.actor)]) for a in att)),
                float(
                    e.actor.type not in parties
                    and any(target_type(t) in types or eval_news.filler_matches_any(named, t) for t in texts)
                ),
            )

        return report
    return None


@dataclass
class RankRows:
    """The ranker's rows of one corpus: per record, per trigger, its candidate entities' rows."""

    x: list[np.ndarray] = field(default_factory=list)
    y: list[np.ndarray] = field(default_factory=list)  # (n, 2): attacker, target; -1 = unlabelled
    record: list[int] = field(default_factory=list)  # per block: record index
    junk: list[np.ndarray] = field(default_factory=list)  # per block: candidates that can be no role
    window: list[np.ndarray] = field(default_factory=list)  # per block: candidates named in the target window

    def block_sizes(self) -> list[int]:
        return [len(b) for b in self.x]

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from ..facts.parties import rank

        if not self.x:
            return np.zeros((0, len(rank.ROLE_FEATURES)), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, int)
        rec = np.concatenate([np.full(len(b), r) for b, r in zip(self.x, self.record)])
        return np.vstack(self.x), np.vstack(self.y), rec

    def flags(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.x:
            return np.zeros(0, bool), np.zeros(0, bool)
        return np.concatenate(self.junk), np.concatenate(self.window)


def collect_rank_rows(kind: str, rec: dict, record_index: int, doc, rows: RankRows) -> list:
    """Add the ranker's rows of one parsed record; returns its blocks
    (trigger, candidates, x, junk, window)."""
    from ..facts.parties.rank import rank_rows

    blocks = rank_rows(doc)
    label = entity_labeller(kind, rec)
    for _trig, cands, x, junk, window in blocks:
        y = (
            np.array([label(e) for e in cands], dtype=np.float32).reshape(-1, 2)
            if label
            else np.full((len(cands), 2), -1.0, np.float32)
        )
        rows.x.append(x)
        rows.y.append(y)
        rows.record.append(record_index)
        rows.junk.append(np.asarray(junk, dtype=bool))
        rows.window.append(np.asarray(window, dtype=bool))
    return blocks

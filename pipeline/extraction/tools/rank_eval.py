"""Fit and score the document-level role ranker (``facts/parties/rank.py``, ``roles-2``)
against the rules on the same records, out of fold and leave-one-dataset-out, per source.

    nice -n 10 .venv/bin/python -m pipeline.extraction.tools.rank_eval --acled 4000 --out /tmp/rank.json \
        [--save facts/parties/models/roles-2.npz]

The records: news_dev's strike documents (human role annotations), news2_dev's strike
reports (coded perpetrators and sectors) and the first ``--acled`` ACLED notes with an
actor1 (coded actor1/actor2). Each is parsed once with the rules deciding
(``strike_parties`` ``decide="rules"``); its events then are (a) the rules' and (b) the
ranker's, re-assembled from the same parse with the roles a ranker chose that never saw
the record (5 folds by record over all three sets) or its dataset (LODO). Detection is not
touched by roles (the same triggers, the rules' relevance: precise triggers kept), so the
scores differ by roles alone. Scoring is ``strikewatch eval``'s (``eval_news`` for the news
sets; ACLED: actor1 matched as ``evaluate.actor_matches``, actor2 among the targets).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..facts.parties import rank
from ..facts.parties.model import MODEL_DIR, RoleModel
from . import eval_news, evaluate
from . import roles as role_tools
from .train import DATASETS, article_of, doc_candidates, fold_of, read_corpus

# Block (trigger) weight per dataset in the fit: human annotations count more.
DATASET_WEIGHT = {"news": 3.0, "acled": 1.0, "news2": 1.0}
FOLDS = 5
SEED = 13
L2 = 3.0
# Per-dataset record selection: what says something of roles.
SETS = ("news", "news2", "acled")
FILL_ATTACKER_THRESHOLDS = (0.3, 0.7, 0.85)


@dataclass
class Parsed:
    name: str
    kind: str
    records: list[dict]
    docs: dict[int, object] = field(default_factory=dict)
    blocks: dict[int, list] = field(default_factory=dict)
    rows: role_tools.RankRows = field(default_factory=role_tools.RankRows)
    rule_events: list[list] = field(default_factory=list)


def _selected(name: str, records: list[dict], acled_limit: int, limit: int = 0) -> list[dict]:
    if name == "news":
        out = [r for r in records if r.get("has_strike")]
    elif name == "news2":
        out = [r for r in records if r.get("label") == "strike"]
    else:
        # strike notes (the first N; the file opens with pre-2019 "Remote violence" notes, unscored)
        out = [r for r in records if r.get("actor1") and r.get("sub_event_type") in evaluate.POSITIVE_SUBTYPES][
            :acled_limit
        ]
    return out[:limit] if limit else out


def parse(data_dir: Path, acled_limit: int, limit: int = 0, sets: tuple[str, ...] = SETS) -> list[Parsed]:
    from .. import gate, load_nlp, make_doc

    nlp = load_nlp()
    nlp.remove_pipe("strike_relevance")
    nlp.replace_pipe("strike_parties", "strike_parties", config={"version": "", "decide": "rules"})
    out = []
    t0 = time.perf_counter()
    for name in sets:
        c = read_corpus(name, data_dir / DATASETS[name])
        p = Parsed(name, c.kind, _selected(name, c.records, acled_limit, limit))
        for i, rec in enumerate(p.records):
            art = article_of(p.kind, rec)
            sel = gate.select(art.text)
            if sel is None:
                p.rule_events.append([])
                continue
            doc = nlp(make_doc(nlp, art, sel))
            p.rule_events.append([c.event for c in doc_candidates(doc, art, {}) if c.precise])
            blocks = role_tools.collect_rank_rows(p.kind, rec, i, doc, p.rows)
            if blocks:
                p.docs[i], p.blocks[i] = doc, blocks
        print(
            f"{name}: {len(p.records)} records, {len(p.rows.x)} triggers ({time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
        out.append(p)
    return out


# --------------------------------------------------------------------------- fit


def fit(
    parts: list[tuple[role_tools.RankRows, float, np.ndarray]],
    l2: float = L2,
    thresholds=(0.5, 0.5),
    card: dict | None = None,
) -> RoleModel:
    """Fit both roles on the blocks selected (per dataset: rows, block weight, block mask)."""
    xs, ya, sizes, bw, xt, yt, wt = [], [], [], [], [], [], []
    for rows, w, keep in parts:
        for k in np.where(keep)[0]:
            x, y, junk, win = rows.x[k], rows.y[k], rows.junk[k], rows.window[k]
            if len(x) == 0 or y[0, 0] < 0:
                continue
            ok = ~junk
            if ok.any():
                xs.append(x[ok])
                ya.append(y[ok, 0])
                sizes.append(int(ok.sum()))
                bw.append(w)
            m = ok & win
            if m.any():
                xt.append(x[m])
                yt.append(y[m, 1])
                wt.append(np.full(int(m.sum()), w))
    x_all = np.vstack(xs + xt)
    mean = x_all.mean(axis=0)
    scale = x_all.std(axis=0) + 1e-3
    za = (np.vstack(xs) - mean) / scale
    w_att, b_att = role_tools.fit_choice(za, np.concatenate(ya), sizes, np.asarray(bw, float), l2=l2)
    zt = (np.vstack(xt) - mean) / scale
    y1, w1 = np.concatenate(yt), np.concatenate(wt)
    pos = w1[y1 == 1].sum()
    if pos > 0:
        w1 = np.where(y1 == 1, w1 * w1[y1 == 0].sum() / pos, w1)
    w_tgt, b_tgt = role_tools.fit(zt, y1, w1, l2)
    return RoleModel(
        rank.MODEL_VERSION,
        np.stack([w_att, w_tgt]).astype(np.float32),
        np.array([b_att, b_tgt], np.float32),
        mean.astype(np.float32),
        scale.astype(np.float32),
        tuple(thresholds),
        card or {},
    )


def block_folds(p: Parsed) -> np.ndarray:
    return np.array([fold_of(str(p.records[r].get("id")), FOLDS, SEED) for r in p.rows.record], dtype=int)


def oof_probs(parsed: list[Parsed]) -> tuple[dict[str, list[np.ndarray]], dict[str, list[np.ndarray]]]:
    """Per dataset, per block: out-of-fold and leave-one-dataset-out probabilities."""
    folds = {p.name: block_folds(p) for p in parsed}
    cv = {p.name: [None] * len(p.rows.x) for p in parsed}
    lodo = {p.name: [None] * len(p.rows.x) for p in parsed}
    for k in range(FOLDS):
        m = fit([(p.rows, DATASET_WEIGHT[p.name], folds[p.name] != k) for p in parsed])
        for p in parsed:
            for b in np.where(folds[p.name] == k)[0]:
                cv[p.name][b] = m.predict(p.rows.x[b])
    for held in parsed:
        m = fit([(p.rows, DATASET_WEIGHT[p.name], np.ones(len(p.rows.x), bool)) for p in parsed if p is not held])
        lodo[held.name] = [m.predict(x) for x in held.rows.x]
    return cv, lodo


# --------------------------------------------------------------------------- re-assembly and scoring


def reassemble(p: Parsed, probs: list[np.ndarray], thresholds: tuple[float, float], mode: str = "rank") -> list[list]:
    """Each record's events with the ranker's roles: ``mode="rank"`` the ranker decides
    every role; ``"fill"`` the rules decide and the ranker fills a role the rules left
    empty for a trigger (no rule attacker and no actor named before it; no rule target)."""
    from ..components.base import Keys
    from ..facts.parties import rank
    from ..facts.parties.component import _typed

    out = list(p.rule_events)
    at = 0
    for rec_i, blocks in p.blocks.items():
        doc = p.docs[rec_i]
        saved = list(doc.spans[Keys.ROLES]) if Keys.ROLES in doc.spans else []
        spans = rank.ranked_roles(doc, blocks, probs[at : at + len(blocks)], thresholds, mode, saved)
        at += len(blocks)
        doc.spans[Keys.ROLES] = [_typed(s) for s in spans]
        doc.user_data["sw_roles_learned"] = mode != "fill"
        out[rec_i] = [c.event for c in doc_candidates(doc, article_of(p.kind, p.records[rec_i]), {}) if c.precise]
        doc.spans[Keys.ROLES] = saved
        doc.user_data["sw_roles_learned"] = False
    return out


def _acled_scores(records: list[dict], preds: list[list]) -> dict:
    groups: dict[str, list] = defaultdict(list)
    for rec, evs in zip(records, preds):
        if rec.get("sub_event_type") not in evaluate.POSITIVE_SUBTYPES:
            continue
        groups["all"].append((rec, evs))
        groups[evaluate.source_name(rec)].append((rec, evs))

    def one(pairs):
        a_hit = a_n = t_hit = t_n = 0
        for rec, evs in pairs:
            strikes = evaluate.strike_events(evs)
            a_n += 1
            a_hit += any(evaluate.actor_matches(e, rec["actor1"]) for e in strikes)
            if rec.get("actor2"):
                label = role_tools.entity_labeller("acled", {"actor1": rec["actor1"], "actor2": rec["actor2"]})
                t_n += 1
                t_hit += any(label(_Ent(t))[1] == 1.0 for e in strikes for t in e.targets)
        return {
            "n": len(pairs),
            "attacker_recall": round(a_hit / a_n, 4) if a_n else None,
            "attacker_n": a_n,
            "target_recall": round(t_hit / t_n, 4) if t_n else None,
            "target_n": t_n,
        }

    out = {k: one(v) for k, v in groups.items()}
    return {**out.pop("all", {}), "by_source": out}


@dataclass
class _Ent:
    actor: object


def attacker_precision(p: Parsed, preds: list[list]) -> dict:
    """Of the records with a gold attacker whose strike events name one, the share where one
    of those named is right: what a guessed attacker costs (recall does not see it)."""
    named = right = 0
    for rec, evs in zip(p.records, preds):
        strikes = [e for e in eval_news.asserted_strikes(evs) if e.attacker is not None]
        if p.kind == "news_doc":
            gold = [a for ge in eval_news.gold_strike_events(rec) for a in ge.get("attacker") or []]
            said = [m for e in strikes for m in eval_news.predicted_fillers([e])["attacker"]]
            ok = any(eval_news.filler_matches(g, said) for g in gold)
        elif p.kind == "coded_report":
            gold = [a for a in rec.get("attacker") or [] if a.strip().lower() not in eval_news.NO_PARTY]
            ok = any(eval_news.party_matches(a, strikes) for a in gold)
        else:
            gold = [rec["actor1"]] if rec.get("sub_event_type") in evaluate.POSITIVE_SUBTYPES else []
            ok = any(evaluate.actor_matches(e, rec["actor1"]) for e in strikes)
        if gold and strikes:
            named += 1
            right += ok
    return {"attacker_precision": round(right / named, 4) if named else None, "attacker_named": named}


def scores(p: Parsed, preds: list[list]) -> dict:
    keys = (
        "attacker_recall",
        "attacker_n",
        "target_recall",
        "target_n",
        "weapon_recall",
        "country_accuracy",
        "events_per_strike_doc",
    )
    if p.kind == "acled":
        s = _acled_scores(p.records, preds)
        return (
            {k: s.get(k) for k in keys}
            | attacker_precision(p, preds)
            | {"by_source": {src: {k: v.get(k) for k in keys} for src, v in s["by_source"].items()}}
        )
    if p.kind == "news_doc":
        summary, by = eval_news.score_news_docs(p.records, preds)
    else:
        groups: dict[str, list] = defaultdict(list)
        for rec, evs in zip(p.records, preds):
            groups["all"].append((rec, evs))
            groups[eval_news.source_of(rec)].append((rec, evs))
        by = {k: eval_news._score_reports(v) for k, v in groups.items()}
        summary = by.pop("all")
    return (
        {k: summary.get(k) for k in keys}
        | attacker_precision(p, preds)
        | {"by_source": {src: {k: v.get(k) for k in keys} for src, v in by.items()}}
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--acled", type=int, default=4000, help="ACLED notes with an actor1 (the first N)")
    ap.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    ap.add_argument("--limit", type=int, default=0, help="at most N records of each set (a quick run)")
    ap.add_argument("--out", type=Path)
    ap.add_argument(
        "--save",
        type=Path,
        nargs="?",
        const=MODEL_DIR / f"{rank.MODEL_VERSION}.npz",
        help="fit on every record and write the model (default facts/parties/models/roles-2.npz) with its card",
    )
    ap.add_argument("--thresholds", type=float, nargs=2, default=(0.5, 0.5))
    args = ap.parse_args(argv)
    parsed = parse(args.data_dir, args.acled, args.limit, tuple(args.sets))
    cv, lodo = oof_probs(parsed)
    th = tuple(args.thresholds)
    card = {}
    for p in parsed:
        card[p.name] = {
            "rules": scores(p, p.rule_events),
            **{
                f"{mode}_{how}": scores(p, reassemble(p, probs[p.name], th, mode))
                for mode in ("rank", "fill")
                for how, probs in (("cv", cv), ("lodo", lodo))
            },
            # other attacker thresholds for the fallback: what each costs in precision
            **{
                f"fill_attacker{a}_{how}": scores(p, reassemble(p, probs[p.name], (a, th[1]), "fill"))
                for a in FILL_ATTACKER_THRESHOLDS
                for how, probs in (("cv", cv), ("lodo", lodo))
            },
        }
        print(
            p.name,
            json.dumps(
                {
                    k: (v["attacker_recall"], v["target_recall"], v["attacker_precision"])
                    for k, v in card[p.name].items()
                }
            ),
            file=sys.stderr,
        )
    text = json.dumps(card, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)
    if args.save:
        meta = {
            "features": list(rank.ROLE_FEATURES),
            "dataset_weight": DATASET_WEIGHT,
            "l2": L2,
            "folds": FOLDS,
            "seed": SEED,
            "records": {p.name: len(p.records) for p in parsed},
            "triggers": {p.name: len(p.rows.x) for p in parsed},
            "command": "python -m pipeline.extraction.tools.rank_eval "
            + " ".join(argv if argv is not None else sys.argv[1:]),
            "scores": "per dev set: rules, the ranker deciding (rank) and filling the rules' gaps (fill), "
            "out of fold (cv) and trained without the set (lodo)",
            **card,
        }
        fit(
            [(p.rows, DATASET_WEIGHT[p.name], np.ones(len(p.rows.x), bool)) for p in parsed], thresholds=th, card=meta
        ).save(args.save)
        print(f"wrote {args.save}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

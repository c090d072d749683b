"""Claims against the Airwars coders (news2_dev's Airwars assessments, read in place).

    .venv/bin/python bench/eval_claims_airwars.py [--data ../shared/data/eval/news2_dev.jsonl] [--limit N]

Per assessment coded as a strike, the text runs through the real extraction (claims included)
and through ``corroborate`` as a one-source incident. Reported (JSON):

* **belligerent**: of the assessments whose claims blame, claim or deny a side, how often a
  responsibility claim names the coded belligerent's side ("Israeli Military" -> IL,
  "Palestinian Militants" -> PS); and over all assessments with a coded belligerent;
* **casualty figure**: of the assessments with a coded civilian toll, how often a casualty
  claim's killed figure is the coded one or within the coded range (the coders count civilians
  only, so a total that includes fighters misses);
* **status**: the coded strike status against the grade, where the text can support it:
  "Contested strike" against ``contested``, "Declared strike" (the belligerent said it struck)
  against a "claimed" responsibility claim (the belligerent's own word on the strike); and,
  as Airwars also grades a strike contested when no source names the belligerent,
  "Contested strike" against "unattributed" (no responsibility claim names a side).
  "Single source claim" and "Likely strike" are judgements over many sources one narrative
  does not carry; they are counted, not scored.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SIDES = {"Israeli Military": "IL", "Palestinian Militants": "PS"}


def _agree(table: Counter) -> dict:
    """Agreement of a yes/no of ours with a yes/no of the coders: {(coded, ours): n}."""
    tp, coded, ours = (
        table[(True, True)],
        table[(True, True)] + table[(True, False)],
        table[(True, True)] + table[(False, True)],
    )
    return {
        "coded": coded,
        "ours": ours,
        "both": tp,
        "recall": round(tp / coded, 3) if coded else None,
        "precision": round(tp / ours, 3) if ours else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared/data/eval/news2_dev.jsonl")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument(
        "--details", type=Path, help="write one JSON line per assessment: coded status, grade, reasons, claims"
    )
    args = ap.parse_args()

    from datetime import datetime

    from pipeline.claims.corroboration import claims_of, corroborate
    from pipeline.extraction import extract_events, load_nlp
    from pipeline.incidents import new_incident
    from strikewatch.core.models import STRIKE_TYPES, Article

    rows = [json.loads(line) for line in args.data.open(encoding="utf-8")]
    rows = [r for r in rows if r["source"].lower().startswith("airwars") and r["label"] == "strike"]
    if args.limit:
        rows = rows[: args.limit]
    nlp = load_nlp()
    arts = [
        Article.new(
            f"https://airwars.org/civilian-casualties/{r['id'].split(':')[-1].lower()}",
            title="",
            body=r["text"],
            published_at=datetime.fromisoformat(r["article_date"]).replace(tzinfo=UTC)
            if r.get("article_date")
            else None,
        )
        for r in rows
    ]
    c = Counter()
    status = Counter()
    status_unattributed = Counter()
    details = args.details.open("w", encoding="utf-8") if args.details else None
    for r, evs in zip(rows, extract_events(nlp, arts)):
        labels = dict(r["gold_raw"].get("summary_labels") or [])
        coded_sides = {SIDES[a] for a in r["attacker"] if a in SIDES}
        strikes = [e for e in evs if e.event_type in STRIKE_TYPES]
        claims = [cl for e in strikes for cl in claims_of(e)]
        inc = None
        if strikes:
            inc = new_incident(strikes[0], datetime.now(UTC))
            inc = corroborate(inc, [cl for e in strikes[1:] for cl in claims_of(e)])
        c["assessments"] += 1
        c["with_strike_event"] += bool(strikes)
        resp = [
            cl for cl in claims if cl.kind == "responsibility" and cl.stance in ("blamed", "claimed") and cl.party_side
        ]
        if coded_sides:
            c["belligerent_coded"] += 1
            if resp:
                c["belligerent_claimed"] += 1
                c["belligerent_right"] += any(cl.party_side in coded_sides for cl in resp)
        lo, hi = (r.get("fatalities_range") or [None, None]) if r.get("fatalities") is not None else (None, None)
        if r.get("fatalities") is not None:
            lo = lo if lo is not None else r["fatalities"]
            hi = hi if hi is not None else r["fatalities"]
            c["toll_coded"] += 1
            figures = [cl.killed for cl in claims if cl.kind == "casualties" and cl.killed is not None]
            if figures:
                c["toll_claimed"] += 1
                c["toll_right"] += any(lo <= k <= hi for k in figures)
        coded = labels.get("Strike status", "")
        ours_contested = bool(inc and inc.contested)
        # Declared: the incident holds the belligerent's own word on the strike (a "claimed"
        # responsibility claim: "claimed responsibility", or a speaker of the side that struck
        # speaking of it). Whose side it is comes from the text, never from the coders.
        ours_declared = bool(inc and any(cl.kind == "responsibility" and cl.stance == "claimed" for cl in inc.claims))
        status[(coded, "contested" if ours_contested else ("declared" if ours_declared else "neither"))] += 1
        # Airwars also grades a strike contested when no source names a belligerent: ours
        # "unattributed", no responsibility claim naming a side.
        unattributed = not any(cl.kind == "responsibility" and cl.party_side for cl in (inc.claims if inc else []))
        status_unattributed[(coded == "Contested strike", unattributed)] += 1
        if details:
            details.write(
                json.dumps(
                    {
                        "id": r["id"],
                        "coded": coded,
                        "coded_sides": sorted(coded_sides),
                        "grade": inc and inc.grade,
                        "reason": inc and inc.grade_reason,
                        "claims": [
                            {
                                k: v
                                for k, v in cl.model_dump(mode="json").items()
                                if k
                                in (
                                    "kind",
                                    "speaker",
                                    "speaker_kind",
                                    "speaker_side",
                                    "stance",
                                    "party",
                                    "party_side",
                                    "killed",
                                    "injured",
                                    "counted",
                                )
                            }
                            | {"quote": cl.quote.text[:300]}
                            for cl in claims
                        ],
                    }
                )
                + "\n"
            )

    def ratio(a, b):
        return round(c[a] / c[b], 3) if c[b] else None

    def agreement(name: str, ours: str) -> dict:
        tp = status[(name, ours)]
        coded = sum(v for (k, _o), v in status.items() if k == name)
        said = sum(v for (_k, o), v in status.items() if o == ours)
        return {
            "coded": coded,
            "ours": said,
            "both": tp,
            "recall": round(tp / coded, 3) if coded else None,
            "precision": round(tp / said, 3) if said else None,
        }

    out = {
        "data": str(args.data),
        **dict(c),
        "belligerent_right_of_claimed": ratio("belligerent_right", "belligerent_claimed"),
        "belligerent_right_of_coded": ratio("belligerent_right", "belligerent_coded"),
        "toll_right_of_claimed": ratio("toll_right", "toll_claimed"),
        "toll_right_of_coded": ratio("toll_right", "toll_coded"),
        "status_contested": agreement("Contested strike", "contested"),
        "status_declared": agreement("Declared strike", "declared"),
        "status_contested_vs_unattributed": _agree(status_unattributed),
        "status_table": {f"{k} -> {o}": v for (k, o), v in sorted(status.items())},
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

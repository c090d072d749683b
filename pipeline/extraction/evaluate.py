"""``strikewatch eval --data FILE.jsonl``: score extraction on ACLED-shaped records.

    strikewatch eval --data ../shared/data/eval/acled_dev.jsonl [--limit N] [--breakdown]

Each record (id, source, text = ACLED notes, sub_event_type, actor1, country, location,
lat, lon, event_date, fatalities) becomes an Article with no publication date — the
date must come from the note itself, which ACLED starts with ("On 9 May 2020, ...").

* Detection: a record is predicted positive when an asserted event of a strike type
  (air, drone, missile, shelling) is extracted; gold positives are the sub-event types
  "Air/drone strike" and "Shelling/artillery/missile attack". Rows with no gold
  sub-event type (pre-2019 ACLED) are not scored: their gold label is unknown (the old
  "Remote violence" type mixes strikes with IEDs). ``n`` counts the scored rows.
* Accuracies are over gold positives the system detected, on its first strike event:
  subtype (ACLED sub-event type), country, location (same name after normalisation,
  or within ``LOCATION_KM`` of the gold coordinates), date, fatalities (killed, none as
  0) and actor (attacker matches actor1, see ``actor_matches``).

The last line printed is one JSON object with every score.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from strikewatch.models import STRIKE_TYPES, Article, Event, Modality

from . import geocode

POSITIVE_SUBTYPES = {"Air/drone strike", "Shelling/artillery/missile attack"}
# A predicted place within 50 km of ACLED's coordinates is the same location: ACLED
# codes villages to the nearest named place and geonames has towns of >15k people,
# so a correct district-level answer lands within ~30-50 km.
LOCATION_KM = 50.0
BATCH = 64

# ACLED actor1 patterns -> canonical attacker names the extractor uses.
ACTOR_ALIASES = [
    (r"^Military Forces of (?P<c>[A-Za-z' -]+?) \(", None),
    (r"^Police Forces of (?P<c>[A-Za-z' -]+?) \(", None),
    (r"^NAF\b|Novorossiya", "NAF"),
    (r"^Operation Restoring Hope|Saudi", "Saudi-led coalition"),
    (r"^Operation Peace Spring", "Turkey"),
    (r"Supreme Political Council|Houthi|Ansar Allah", "Houthis"),
    (r"^Haftar|Libya \(2014-\) Haftar", "LNA"),
    (r"Government of National Accord", "GNA"),
    (r"^National Resistance Forces|pro-Hadi|Southern Transitional", "Pro-Hadi forces"),
    (r"^Taliban", "Taliban"),
    (r"^Islamic State|^ISIS|^IS\b", "Islamic State"),
    (r"^JNIM|Katiba Macina|Ansaroul Islam", "JNIM"),
    (r"^Al Shabaab", "Al Shabaab"),
    (r"^HTS\b|Hayat Tahrir", "HTS"),
    (r"^NATO", "NATO"),
    (r"^Hamas", "Hamas"),
    (r"^Hezbollah", "Hezbollah"),
    (r"^Boko Haram", "Boko Haram"),
]


def acled_actor_name(actor1: str | None) -> str | None:
    if not actor1:
        return None
    for pat, name in ACTOR_ALIASES:
        m = re.search(pat, actor1)
        if m:
            if name is None:
                c = m.group("c").strip()
                hit = geocode.country_of(c)
                return hit[0] if hit else c
            if "Libya (2014-) Haftar" in actor1:
                return "LNA"
            if "Libya (2016-) Government of National Accord" in actor1:
                return "GNA"
            if "Yemen (2016-) Supreme Political Council" in actor1:
                return "Houthis"
            return name
    return actor1


def actor_matches(event: Event, actor1: str | None) -> bool:
    gold = acled_actor_name(actor1)
    if not gold or event.attacker is None:
        return False
    if "Military Forces of Libya (2014-) Haftar" in (actor1 or ""):
        gold = "LNA"
    elif "Military Forces of Libya (2016-) Government of National Accord" in (actor1 or ""):
        gold = "GNA"
    elif "Military Forces of Yemen (2016-) Supreme Political Council" in (actor1 or ""):
        gold = "Houthis"
    elif "Military Forces of Yemen (2012-)" in (actor1 or ""):
        return event.attacker.name in ("Pro-Hadi forces", "Yemen")
    return geocode.norm(event.attacker.name) == geocode.norm(gold)


def _norm_loc(name: str | None) -> str:
    n = geocode.norm(name or "")
    return re.sub(r"\s*\(.*\)$", "", n)


def location_matches(event: Event, rec: dict) -> bool:
    if not event.places:
        return False
    p = event.places[0]
    if _norm_loc(p.name) == _norm_loc(rec.get("location")):
        return True
    if p.lat is not None and rec.get("lat") is not None and p.precision in ("point", "city", "admin1", "unknown", "region"):
        return geocode.distance_km(p.lat, p.lon, float(rec["lat"]), float(rec["lon"])) <= LOCATION_KM
    return False


def country_of_event(event: Event) -> str | None:
    for p in event.places:
        if p.country:
            return p.country
    return None


def score(records: list[dict], predictions: list[list[Event]]) -> dict:
    tp = fp = fn = 0
    acc = defaultdict(lambda: [0, 0])
    by_source = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0})
    for rec, events in zip(records, predictions):
        if rec.get("sub_event_type") is None:
            continue
        gold = rec["sub_event_type"] in POSITIVE_SUBTYPES
        strikes = [e for e in events if e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED]
        pred = bool(strikes)
        src = (rec.get("source") or "").split("@")[0]
        if gold and pred:
            tp += 1
            by_source[src]["tp"] += 1
            ev = strikes[0]
            checks = {
                "subtype": ev.acled_sub_event_type == rec["sub_event_type"],
                "country": geocode.norm(country_of_event(ev) or "") == geocode.norm((geocode.country_of(rec["country"]) or (rec["country"],))[0]),
                "location": location_matches(ev, rec),
                "date": ev.time.date is not None and ev.time.date.isoformat() == rec.get("event_date"),
                "fatalities": (ev.casualties.killed or 0) == int(rec.get("fatalities") or 0),
                "actor": actor_matches(ev, rec.get("actor1")),
            }
            for k, ok in checks.items():
                acc[k][0] += int(ok)
                acc[k][1] += 1
        elif pred:
            fp += 1
            by_source[src]["fp"] += 1
        elif gold:
            fn += 1
            by_source[src]["fn"] += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    out = {
        "n": sum(1 for rec in records if rec.get("sub_event_type") is not None),
        "detection": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4)},
    }
    for k in ("subtype", "country", "location", "date", "fatalities", "actor"):
        ok, total = acc[k]
        out[f"{k}_accuracy"] = round(ok / total, 4) if total else 0.0
    out["_by_source"] = dict(by_source)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strikewatch eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--breakdown", action="store_true", help="per-source table before the JSON line")
    ap.add_argument("--errors", type=int, default=0, help="print this many misclassified records (ids and reasons)")
    args = ap.parse_args(argv)
    from . import extract_events, load_nlp

    records = []
    with args.data.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
            if args.limit and len(records) >= args.limit:
                break
    scored = [r for r in records if r.get("sub_event_type") is not None]
    print(f"{len(records)} records, {len(scored)} with a gold sub-event type are scored ({len(records) - len(scored)} pre-2019 rows have none)", file=sys.stderr)
    nlp = load_nlp()
    articles = [Article.new(f"https://acled.invalid/{quote(str(r['id']))}", title="", body=r["text"], source="acled") for r in scored]
    t0 = time.perf_counter()
    preds: list[list[Event]] = []
    for i in range(0, len(articles), BATCH):
        preds.extend(extract_events(nlp, articles[i:i + BATCH], batch_size=BATCH))
    elapsed = time.perf_counter() - t0
    result = score(scored, preds)
    by_source = result.pop("_by_source")
    result["docs_per_second"] = round(len(scored) / elapsed, 1) if elapsed else 0.0
    if args.breakdown:
        for src, c in sorted(by_source.items()):
            p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
            r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
            print(f"{src:45s} tp={c['tp']:4d} fp={c['fp']:4d} fn={c['fn']:4d} precision={p:.3f} recall={r:.3f}")
    if args.errors:
        shown = 0
        for rec, evs in zip(scored, preds):
            gold = rec["sub_event_type"] in POSITIVE_SUBTYPES
            strikes = [e for e in evs if e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED]
            if gold != bool(strikes) and shown < args.errors:
                shown += 1
                print(f"{'FN' if gold else 'FP'} {rec['id']} {rec['sub_event_type']}: {[(e.event_type.value, e.modality.value) for e in evs]}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

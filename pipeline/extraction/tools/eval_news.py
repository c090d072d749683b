"""Scoring on news text: full documents with event annotations, and general news.

Used by ``strikewatch eval`` (``pipeline.extraction.tools.evaluate``), which picks the scorer by
the records' shape (``record_kind``):

* **news documents** (``news_dev.jsonl``: ``text``, ``events``, ``has_strike``,
  ``has_strike_uncertain``). Detection is per document: predicted positive = at least one
  asserted strike event. It is scored twice: without the uncertain documents
  (``detection``), and with them counted as negatives (``detection_uncertain_as_negative``).
  Argument recall is over the gold strike events (types air_strike, drone_strike, missile,
  shelling; WikiEvents' ``historical`` ones excluded) of the gold-positive documents, a
  missed document counting as a miss: a role is recalled when some asserted strike event
  of the document names one of the gold fillers (``filler_matches``); ``*_recall_detected``
  is the same over the documents the system detected. Fatalities accuracy
  is over gold strike events with a number, in documents the system detected: some event
  of the document reports that many killed (none = 0).
* **coded incident reports** (``news2_dev.jsonl``: ``text``, ``label`` strike | not_strike |
  uncertain, coded ``attacker[]``, ``target[]`` (facility or sector), ``weapon[]``, ``country``,
  ``event_date``). Scored per source (``airwars``, ``ii``: their lengths differ). Detection:
  ``strike`` vs ``not_strike``, uncertain left out (and again counted negative). Over the
  strike reports: attacker recall (an asserted strike event's attacker denotes the coded
  perpetrator: the same gazetteer actor, the same state's forces, or the same words), target
  recall (a target of the coded sector's type, ``TARGET_SECTORS``, or the coded facility's
  name), weapon recall (a weapon of the coded weapon's family, ``WEAPON_FAMILIES``), country
  and date accuracy, and ``events_per_strike_doc`` (asserted strike events per detected
  strike report: one report is one attack, so 1.0 is right).
* **general news** (``general_news.jsonl``: ``title``, ``text``, no labels, all
  negatives): ``false_strike_events_per_1000`` = asserted strike events per 1,000
  articles, and ``articles_with_strike_per_1000``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from strikewatch.core.models import Article, Event

from .. import geo
from ..facts.places.scorer import asserted_strikes, score_where_when

GOLD_STRIKE_TYPES = ("air_strike", "drone_strike", "missile", "shelling")
ROLES = ("attacker", "target", "place", "weapon")
# Words that carry no identity in a filler: determiners, generic military nouns. A
# filler whose every word is one of these ("the forces") is matched whole.
_GENERIC = frozenset(
    "the a an of and or in on at to his her its their our this that these those some "
    "force troop unit member people group men man".split()
)
_NORM = re.compile(r"[^\w]+")


def record_kind(rec: dict) -> str:
    """``news_doc``, ``coded_report``, ``general_news``, ``acled`` or ``multilingual`` from a record's fields."""
    if "lang" in rec and "label" in rec:
        return "multilingual"
    if "events" in rec and "has_strike" in rec:
        return "news_doc"
    if "label" in rec and "weapon" in rec and "attacker" in rec and "lang" not in rec:
        return "coded_report"
    if "sub_event_type" in rec:
        return "acled"
    if "text" in rec and "title" in rec:
        return "general_news"
    raise ValueError(f"unknown record shape: fields {sorted(rec)[:8]}")


def _tokens(text: str) -> list[str]:
    return [t for t in _NORM.sub(" ", text.lower().replace("’", "'").replace("'s", "")).split() if t]


def filler_matches(gold: str, predicted: Iterable[str]) -> bool:
    """A gold filler is named by a predicted string when, once case, punctuation, plurals
    and possessives are folded, every content word of the shorter is among the longer's
    ("NATIONAL GUARD UNITS" ~ "the National Guard", "MORTAR" ~ "mortars"). Generic words
    ("forces", "units") count only when a filler has nothing else."""
    g = [_singular(t) for t in _tokens(gold)]
    gc = [t for t in g if t not in _GENERIC] or g
    if not gc:
        return False
    for p in predicted:
        q = [_singular(t) for t in _tokens(p)]
        qc = [t for t in q if t not in _GENERIC] or q
        if not qc:
            continue
        short, long_ = (gc, qc) if len(gc) <= len(qc) else (qc, gc)
        if set(short) <= set(long_):
            return True
    return False


def _singular(t: str) -> str:
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 3 and t.endswith("s") and not t.endswith("ss"):
        return t[:-1]
    return t


def predicted_fillers(events: Sequence[Event]) -> dict[str, list[str]]:
    """Every string the events give for each role: canonical names and mention texts."""
    out: dict[str, list[str]] = {r: [] for r in ROLES}
    for ev in events:
        for a in [ev.attacker, *ev.attackers] if ev.attacker else ev.attackers:
            out["attacker"] += [a.name, *(m.text for m in a.mentions)]
        for t in ev.targets:
            out["target"] += [t.name, *(m.text for m in t.mentions)]
        for p in ev.places:
            out["place"] += [x for x in (p.name, p.country, p.admin1, p.mention.text if p.mention else None) if x]
        for w in [*ev.platforms, *ev.munitions]:
            out["weapon"] += [x for x in (w.name, w.category, w.mention.text if w.mention else None) if x]
    return out


def gold_strike_events(rec: dict) -> list[dict]:
    return [
        e for e in rec.get("events") or [] if e.get("type") in GOLD_STRIKE_TYPES and e.get("modality") != "historical"
    ]


def news_article(rec: dict) -> Article:
    published = None
    if rec.get("article_date"):
        published = datetime.fromisoformat(rec["article_date"]).replace(tzinfo=UTC)
    return Article.new(
        f"https://news.invalid/{rec['id']}",
        title=rec.get("title") or "",
        body=rec.get("text") or "",
        published_at=published,
        source=source_of(rec),
    )


def general_article(rec: dict) -> Article:
    published = datetime.fromisoformat(rec["published_at"]) if rec.get("published_at") else None
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)  # a publisher date without offset: read as UTC
    return Article.new(
        f"https://general.invalid/{rec['id']}",
        title=rec.get("title") or "",
        body=rec.get("text") or "",
        published_at=published,
        source=source_of(rec),
    )


def source_of(rec: dict) -> str:
    """A short per-source name: the dataset part of the id ("muc4", "wikievents", "bbc", "fundus")."""
    return str(rec.get("id", "?")).split(":", 1)[0]


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def score_news_docs(records: Sequence[dict], predictions: Sequence[Sequence[Event]]) -> tuple[dict, dict[str, dict]]:
    """Summary over all documents, and the same per source."""
    groups: dict[str, list[tuple[dict, Sequence[Event]]]] = defaultdict(list)
    for rec, evs in zip(records, predictions, strict=True):
        groups["all"].append((rec, evs))
        groups[source_of(rec)].append((rec, evs))
    out = {k: _score_docs(v) for k, v in groups.items()}
    return out.pop("all"), out


def _score_docs(pairs: Sequence[tuple[dict, Sequence[Event]]]) -> dict:
    c = defaultdict(int)
    role_hit, role_n = defaultdict(int), defaultdict(int)
    det_hit, det_n = defaultdict(int), defaultdict(int)  # the same over the documents the system detected
    fat_ok = fat_n = 0
    n_events = n_detected = 0
    for rec, evs in pairs:
        strikes = asserted_strikes(evs)
        pred = bool(strikes)
        gold = bool(rec.get("has_strike"))
        if gold and pred:
            n_detected += 1
            n_events += len(strikes)
        uncertain = bool(rec.get("has_strike_uncertain")) and not gold
        outcome = ("tp" if pred else "fn") if gold else ("fp" if pred else "tn")
        c[("u_" if uncertain else "") + outcome] += 1
        if not gold:
            continue
        fillers = predicted_fillers(strikes)
        for ge in gold_strike_events(rec):
            for role in ROLES:
                golds = ge.get("instrument" if role == "weapon" else role) or []
                if golds:
                    hit = int(any(filler_matches(g, fillers[role]) for g in golds))
                    role_n[role] += 1
                    role_hit[role] += hit
                    if pred:
                        det_n[role] += 1
                        det_hit[role] += hit
            if pred and ge.get("fatalities") is not None:
                fat_n += 1
                fat_ok += int(any((e.casualties.killed or 0) == int(ge["fatalities"]) for e in strikes))
    summary = {
        "n": len(pairs),
        "n_uncertain": c["u_fp"] + c["u_tn"],
        "detection": _prf(c["tp"], c["fp"], c["fn"]),
        "detection_uncertain_as_negative": _prf(c["tp"], c["fp"] + c["u_fp"], c["fn"]),
    }
    for role in ROLES:
        summary[f"{role}_recall"] = round(role_hit[role] / role_n[role], 4) if role_n[role] else None
        summary[f"{role}_n"] = role_n[role]
        summary[f"{role}_recall_detected"] = round(det_hit[role] / det_n[role], 4) if det_n[role] else None
    summary["fatalities_accuracy"] = round(fat_ok / fat_n, 4) if fat_n else None
    summary["fatalities_n"] = fat_n
    summary["events_per_strike_doc"] = round(n_events / n_detected, 3) if n_detected else None
    return summary


def score_general(records: Sequence[dict], predictions: Sequence[Sequence[Event]]) -> tuple[dict, dict[str, dict]]:
    groups: dict[str, list[Sequence[Event]]] = defaultdict(list)
    for rec, evs in zip(records, predictions, strict=True):
        groups["all"].append(evs)
        groups[source_of(rec)].append(evs)

    def one(preds: list[Sequence[Event]]) -> dict:
        n = len(preds)
        events = sum(len(asserted_strikes(e)) for e in preds)
        articles = sum(1 for e in preds if asserted_strikes(e))
        return {
            "n": n,
            "false_strike_events_per_1000": round(1000 * events / n, 2) if n else 0.0,
            "articles_with_strike_per_1000": round(1000 * articles / n, 2) if n else 0.0,
            "false_strike_events": events,
            "articles_with_strike": articles,
        }

    out = {k: one(v) for k, v in groups.items()}
    return out.pop("all"), out


def false_positives(records: Sequence[dict], predictions: Sequence[Sequence[Event]]) -> list[tuple[str, list[str]]]:
    """(record id, evidence texts) of every record with an asserted strike event that is not
    a gold positive: for reading errors (``--errors``)."""
    out = []
    for rec, evs in zip(records, predictions):
        strikes = asserted_strikes(evs)
        if strikes and not rec.get("has_strike"):
            out.append((rec["id"], [s.text[:200] for e in strikes for s in e.evidence[:1]]))
    return out


# --------------------------------------------------------------------------- coded incident reports (news2_dev)

# Coded perpetrators that name no one: not scored.
NO_PARTY = frozenset({"noinformation", "no further information available", "unknown", "not applicable", "other"})
# The coders' words around a state's name ("Armed Forces of the Russian Federation",
# "Israeli Defence Forces", "Government of Syria"): what is left names the state.
_STATE_WORDS = frozenset("armed forces force defence defense military army of the government police navy air".split())
# Coded names the gazetteer spells otherwise (general vocabulary, not tied to a record).
PARTY_ALIASES = {
    "shia al-houthi rebels": "Houthis",
    "people's defence force": "PDF",
    "palestinian militants": "Palestinian militants",
}
# The coders' target sectors and facilities -> the target types of ``Actor.target_type``.
TARGET_SECTORS = (
    ("health", re.compile(r"health|hospital|medical|clinic|ambulance|pharmac", re.I)),
    ("education", re.compile(r"educat|school|universit|college|kindergarten", re.I)),
    ("residential", re.compile(r"residential|home|house|apartment|camp|shelter", re.I)),
    ("water", re.compile(r"\bwater", re.I)),
    ("energy", re.compile(r"energy|power|electric|fuel|gas station", re.I)),
    ("military", re.compile(r"forces|military|base\b|checkpoint", re.I)),
    ("vehicle", re.compile(r"road|vehicle|convoy|evacuation route", re.I)),
)
# The coders' weapons -> weapon families (``weapon_family`` of a predicted weapon).
WEAPON_FAMILIES = (
    ("drone", re.compile(r"drone|uav", re.I)),
    ("air", re.compile(r"aerial|air-launched|plane|aircraft|helicopter", re.I)),
    ("missile", re.compile(r"missile", re.I)),
    ("rocket", re.compile(r"rocket", re.I)),
    ("artillery", re.compile(r"shell|artillery|mortar|howitzer|tank", re.I)),
    ("cluster", re.compile(r"cluster", re.I)),
    ("bomb", re.compile(r"bomb", re.I)),
)
# Families that name the same means: a coded "aerial bomb" is recalled by an aircraft or a bomb.
_FAMILY_EQUIV = {
    "air": {"air", "bomb"},
    "bomb": {"air", "bomb"},
    "cluster": {"cluster", "bomb", "rocket", "artillery"},
    "missile": {"missile", "rocket"},
    "rocket": {"rocket", "missile"},
}
# Coders' abbreviations of countries.
COUNTRY_ALIASES = {"opt": "PS", "car": "CF", "drc": "CD", "usa": "US", "uk": "GB"}


def families(text: str) -> set[str]:
    return {f for f, r in WEAPON_FAMILIES if r.search(text)}


def weapon_families(events: Sequence[Event]) -> set[str]:
    out: set[str] = set()
    for ev in events:
        for w in [*ev.platforms, *ev.munitions]:
            out |= families(" ".join(x for x in (w.name, w.category or "", w.mention.text if w.mention else "") if x))
    return out


def sector_types(text: str) -> set[str]:
    return {t for t, r in TARGET_SECTORS if r.search(text)}


def _party_key(name: str):
    """(gazetteer canonical or None, state ISO2 or None) a coded perpetrator denotes."""
    from ..components import _geo
    from ..facts.parties.actors import find_actors

    alias = PARTY_ALIASES.get(re.sub(r"\s*\(.*\)$", "", name).strip().lower())
    if alias:
        return alias, None
    found = find_actors(name)
    if found:
        a = found[0][2]
        return (
            (None, a.country)
            if a.type == "state_military" and a.name == _geo.country_name(a.country or "")
            else (a.name, None)
        )
    rest = " ".join(w for w in re.sub(r"[()]", " ", name).split() if w.lower() not in _STATE_WORDS)
    hit = _geo.country_of(rest) if rest else None
    return (None, hit[1]) if hit else (None, None)


def party_matches(coded: str, events: Sequence[Event]) -> bool:
    """Does some attacker of the events denote the coded perpetrator (one of its "X or Y")?"""
    attackers = [a for ev in events for a in ([ev.attacker, *ev.attackers] if ev.attacker else ev.attackers)]
    for alt in re.split(r"\s+or\s+|\s*/\s*", coded):
        canonical, iso = _party_key(alt)
        for a in attackers:
            if canonical and (a.name == canonical or filler_matches(canonical, [a.name])):
                return True
            if iso and a.country == iso and a.type in ("state_military", "government") and not _named_group(a):
                return True
            if not canonical and not iso and filler_matches(alt, [a.name, *(m.text for m in a.mentions)]):
                return True
    return False


def _named_group(actor) -> bool:
    """A gazetteer actor of a state's country that is not the state itself (LNA in Libya)."""
    from ..components import _geo

    return actor.name != _geo.country_name(actor.country or "")


def target_matches(coded: Sequence[str], events: Sequence[Event]) -> bool:
    types = {t for c in coded for t in sector_types(c)}
    targets = [t for ev in events for t in ev.targets]
    if any(getattr(t, "target_type", None) in types for t in targets):
        return True
    names = [x for t in targets for x in (t.name, *(m.text for m in t.mentions))]
    return any(filler_matches(c, names) for c in coded if not sector_types(c) or "camp" in c.lower())


def report_country(rec: dict) -> str | None:
    from .. import geo

    c = (rec.get("country") or "").strip()
    if c.lower() in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[c.lower()]
    hit = geo.normalize_country(c)
    return hit[1] if hit else None


def score_coded_reports(
    records: Sequence[dict], predictions: Sequence[Sequence[Event]]
) -> tuple[dict, dict[str, dict]]:
    """Summary over all reports, and the same per source."""
    groups: dict[str, list[tuple[dict, Sequence[Event]]]] = defaultdict(list)
    for rec, evs in zip(records, predictions, strict=True):
        groups["all"].append((rec, evs))
        groups[source_of(rec)].append((rec, evs))
    out = {k: _score_reports(v) for k, v in groups.items()}
    for k, v in groups.items():
        ww = score_where_when([r for r, _e in v], [e for _r, e in v])
        out[k]["where"], out[k]["when"] = ww["place"], ww["time"]
    return out.pop("all"), out


def _score_reports(pairs: Sequence[tuple[dict, Sequence[Event]]]) -> dict:
    c = defaultdict(int)
    hit, n, det_hit, det_n = defaultdict(int), defaultdict(int), defaultdict(int), defaultdict(int)
    n_events = n_detected = 0
    for rec, evs in pairs:
        strikes = asserted_strikes(evs)
        pred, label = bool(strikes), rec.get("label")
        if label == "uncertain":
            c["u_fp" if pred else "u_tn"] += 1
            continue
        gold = label == "strike"
        c[("tp" if pred else "fn") if gold else ("fp" if pred else "tn")] += 1
        if not gold:
            continue
        if pred:
            n_detected += 1
            n_events += len(strikes)
        checks: dict[str, bool] = {}
        attackers = [a for a in rec.get("attacker") or [] if a.strip().lower() not in NO_PARTY]
        if attackers:
            checks["attacker"] = any(party_matches(a, strikes) for a in attackers)
        if rec.get("target"):
            checks["target"] = target_matches(rec["target"], strikes)
        coded_families = {f for w in rec.get("weapon") or [] for f in families(w)}
        if coded_families:
            have = weapon_families(strikes)
            checks["weapon"] = any(have & _FAMILY_EQUIV.get(f, {f}) for f in coded_families)
        iso = report_country(rec)
        if iso:
            checks["country"] = any(event_country(e) == iso for e in strikes[:1])
        if rec.get("event_date"):
            checks["date"] = any(
                e.time.date is not None and e.time.date.isoformat() == rec["event_date"] for e in strikes[:1]
            )
        for k, v in checks.items():
            n[k] += 1
            hit[k] += int(v)
            if pred:
                det_n[k] += 1
                det_hit[k] += int(v)
    summary = {
        "n": len(pairs),
        "n_uncertain": c["u_fp"] + c["u_tn"],
        "detection": _prf(c["tp"], c["fp"], c["fn"]),
        "detection_uncertain_as_negative": _prf(c["tp"], c["fp"] + c["u_fp"], c["fn"]),
    }
    for k in ("attacker", "target", "weapon"):
        summary[f"{k}_recall"] = round(hit[k] / n[k], 4) if n[k] else None
        summary[f"{k}_n"] = n[k]
        summary[f"{k}_recall_detected"] = round(det_hit[k] / det_n[k], 4) if det_n[k] else None
    for k in ("country", "date"):
        summary[f"{k}_accuracy"] = round(det_hit[k] / det_n[k], 4) if det_n[k] else None
    summary["events_per_strike_doc"] = round(n_events / n_detected, 3) if n_detected else None
    return summary


def filler_matches_any(golds: Sequence[str], text: str) -> bool:
    """Does ``text`` name any of the gold fillers?"""
    return any(filler_matches(g, [text]) for g in golds)


def event_country(event: Event) -> str | None:
    for p in event.places:
        if p.country_code:
            return p.country_code
        if p.country:
            hit = geo.normalize_country(p.country)
            if hit:
                return hit[1]
    return None


def published_of(value: str | None) -> datetime | None:
    """A record's publication time as its source wrote it (RFC 822, ISO date or time)."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            got = parse(value)
        except (TypeError, ValueError):
            continue
        return got if got.tzinfo else got.replace(tzinfo=UTC)
    return None


def article_of(rec: dict) -> Article:
    return Article.new(
        rec.get("url") or f"file://multilingual/{rec['id']}",
        title=rec.get("title") or "",
        body=rec["text"],
        published_at=published_of(rec.get("published")),
        language=rec["lang"],
        source=rec.get("outlet") or "",
    )


def record_label(rec: dict) -> float:
    return {"strike": 1.0, "not_strike": 0.0}.get(rec["label"], -1.0)

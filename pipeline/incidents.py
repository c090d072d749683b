"""Stage: cross-article incident clustering.

Many articles report one strike. An event joins an open incident of its theatre when
all of these hold:

* same attack family (air/drone strikes together, missiles/shelling together);
* compatible time: dates at most ``MAX_DAY_GAP`` apart (or unknown);
* compatible place: within ``MAX_KM`` when both are located finer than a country,
  else the same country;
* actors do not contradict (different named state attackers split);
* text similarity of the evidence (all-MiniLM-L6-v2 sentence embeddings from
  ``strikewatch.core.embeddings``, cosine) at least ``MIN_SIMILARITY`` — or
  ``STRONG_SIMILARITY`` when time or place is unknown, or ``OTHER_DAY_SIMILARITY`` when
  both are dated to the day and the days differ (never when one wire or publisher
  reports both: it dates one strike once).

Reports of **one place, one day and one weapon family** join whatever their wording, tolls
and blame (issue 21: five reports of one Dnipro strike made three incidents): both located
within ``SAME_PLACE_KM`` at town precision or finer and dated the same day. Blame that differs
is then a contested claim, not a second strike.

Joining adds the source and its claims; an incident is re-emitted with ``revision + 1`` and
a list of ``changes`` when a report adds a source, claims, changes the casualties or the
attribution, or makes the incident ``corroborated`` or ``contested`` (``pipeline/claims``
recomputes families, figures and the grade on every revision). A denial ("Russia denied
striking the hospital", an event of modality ``denied``) joins the strike it denies with its
claims; alone it makes no incident.

Beam: events are keyed by theatre (country) into a stateful DoFn holding that
theatre's open incidents, indexed by day and place cell (``pipeline/open_incidents.py``: a
report is compared with the incidents of its days and cells, not the theatre's history). An
incident closes ``OPEN_FOR_HOURS`` after its last report by the elements' timestamps (allowed
lateness for stragglers), and an event-time timer clears a theatre quiet that long, so state
stays bounded. Late and
out-of-order reports join as long as their incident is open.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer

from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.core.models import STRIKE_TYPES, Event, EventType, Incident, IncidentSource, Modality

from .claims.corroboration import claims_of, corroborate, corroboration_changes, report_of
from .claims.families import Report, link_keys
from .escalation import severity, theatre_of, theatres
from .open_incidents import Footprint, OpenIncidents
from .recovery import resend_reopened
from .windows import OPEN_FOR_HOURS

MAX_DAY_GAP = 1  # reports of one strike date it within a day (time zones, "overnight")
MAX_KM = 75.0  # one strike's reports place it within a district; 75 km spans "near X" vs "in Y province"
# Cosine of MiniLM sentence embeddings. Measured here: paraphrased reports of one
# strike 0.65-0.85, a different attack in the region ~0.5 (tests/pipeline/test_incidents.py).
MIN_SIMILARITY = 0.55
STRONG_SIMILARITY = 0.7
# One place: two town-or-finer locations this close are one place (a town's districts, a
# geocoder's two points for one town); distinct towns of one district are further apart.
SAME_PLACE_KM = 15.0
# Reports of one town dated to different days need this similarity: the same town is struck on
# consecutive days, and wire stories read alike each time ("A Russian missile struck ... in the
# Ukrainian city of Odesa on Thursday"): at 0.85, 1 in 12 such pairs of the test streams merged
# (bench/bench_claims.py quality); only a near-verbatim report dated a day off is the same strike.
OTHER_DAY_SIMILARITY = 0.95
# Two towns located this far apart are two places, whatever the similarity (MAX_KM is for a town
# against a vaguer place, "near X" against "in Y province").
OTHER_TOWN_KM = 40.0
FINE_PRECISIONS = frozenset({"point", "city", "admin2"})
COARSE_PRECISIONS = frozenset({"country", "admin1", "region", "border_region"})
FAMILIES = {
    EventType.AIR_STRIKE: "air",
    EventType.DRONE_STRIKE: "air",
    EventType.MISSILE_ATTACK: "fire",
    EventType.SHELLING: "fire",
}

Similarity = Callable[[str, str], float]
CLUSTERED_MODALITIES = frozenset({Modality.ASSERTED, Modality.DENIED})


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        incidents=Counter("strikewatch_incidents_total", "New incidents", ["event_type", "theatre"], registry=registry),
        revisions=Counter("strikewatch_incident_revisions_total", "Incident revisions", ["reason"], registry=registry),
    )


METRICS = make_metrics()


def _text(ev: Event) -> str:
    return " ".join(s.text for s in ev.evidence)[:1000]


def _km(a: tuple, b: tuple) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def footprint(x: Event | Incident) -> Footprint:
    """What the rules below compare of a report or an incident, read once (an open incident
    keeps its own: 25 us a comparison from the models, 3 us from footprints)."""
    located = next((p for p in x.places if p.lat is not None and p.precision not in ("country", "unknown")), None)
    t = x.time
    return Footprint(
        family=FAMILIES.get(x.event_type),
        day=t.date,
        day_precise=t.date is not None and t.precision in ("hour", "part_of_day", "day"),
        located=(located.lat, located.lon, located.precision in FINE_PRECISIONS) if located else None,
        fine=tuple((p.lat, p.lon) for p in x.places if p.lat is not None and p.precision in FINE_PRECISIONS)[:3],
        towns=frozenset(p.name.lower() for p in x.places if p.precision not in COARSE_PRECISIONS),
        countries=frozenset(p.country for p in x.places if p.country),
        attacker=(x.attacker.name, x.attacker.type) if x.attacker else None,
        has_places=bool(x.places),
        outlets=frozenset(k for r in _reports(x) for k in link_keys(r)),
    )


def _reports(x: Event | Incident) -> list[Report]:
    if isinstance(x, Incident):
        return [report_of(s) for s in x.sources]
    return [Report(article_id=x.article_id, outlet=x.outlet, provenance=x.provenance)]


def _same_strike(e: Footprint, i: Footprint) -> bool:
    if e.family != i.family or not (e.day and i.day and e.day == i.day):
        return False
    if any(_km(a, b) <= SAME_PLACE_KM for a in e.fine for b in i.fine):
        return True
    # The same town named by both, wherever the geocoder put it: one report's context ("fired by
    # Russian forces at Dnipro") can pull a town's point into another country.
    return bool(e.towns & i.towns)


def same_strike(ev: Event, inc: Incident) -> bool:
    """One place, one day, one weapon family: the report is of this incident's strike
    whatever its wording, toll or blame."""
    return _same_strike(footprint(ev), footprint(inc))


def _need(e: Footprint, i: Footprint) -> float | None:
    if e.family != i.family:
        return None
    dated = e.day and i.day
    if dated and abs((e.day - i.day).days) > MAX_DAY_GAP:
        return None  # first: the cheapest test, and most of a town's three open days fail it
    if _same_strike(e, i):
        return 0.0
    located = e.located is not None and i.located is not None
    if located:
        km = _km(e.located, i.located)
        if km > MAX_KM:
            return None
        if e.located[2] and i.located[2] and km > OTHER_TOWN_KM:
            return None  # two towns: Dnipro and Zaporizhzhia (70 km) struck the same day merged before
    if dated and e.day != i.day and e.day_precise and i.day_precise:
        if e.outlets & i.outlets:
            # One wire or publisher dates one strike once: its story dated another day is
            # another strike (wire stories of one town on two days read alike, 0.95+).
            return None
        return OTHER_DAY_SIMILARITY
    if not located and e.countries and i.countries and not e.countries & i.countries:
        return None
    if (
        e.attacker
        and i.attacker
        and e.attacker[0] != i.attacker[0]
        and e.attacker[1] == i.attacker[1] == "state_military"
    ):
        return None
    return MIN_SIMILARITY if dated and (located or e.has_places) else STRONG_SIMILARITY


def required_similarity(ev: Event, inc: Incident) -> float | None:
    """The text similarity a report needs to join an incident, or None when type,
    time, place or attacker already rule it out (then no embedding is computed)."""
    return _need(footprint(ev), footprint(inc))


def _incident_id(ev: Event) -> str:
    return "i_" + hashlib.blake2b(ev.id.encode(), digest_size=12).hexdigest()


def source_of(ev: Event, seen_at: datetime) -> IncidentSource:
    """The incident's record of one report, with the link to its article and its language."""
    return IncidentSource(
        event_id=ev.id,
        article_id=ev.article_id,
        source=ev.source,
        published_at=ev.article_published_at,
        seen_at=seen_at,
        url=ev.article_url,
        title=ev.article_title,
        outlet=ev.outlet,
        provenance=ev.provenance,
        language=ev.language,
    )


def _dated(t) -> bool:
    return t.date is not None and t.precision != "reported"


def new_incident(ev: Event, seen_at: datetime) -> Incident:
    pub = ev.article_published_at
    inc = Incident(
        id=_incident_id(ev),
        revision=0,
        event_type=ev.event_type,
        attacker=ev.attacker,
        targets=ev.targets,
        places=ev.places,
        time=ev.time,
        platforms=[p.name for p in ev.platforms],
        munitions=[m.name for m in ev.munitions],
        casualties=ev.casualties,
        sources=[source_of(ev, seen_at)],
        source_count=1,
        first_seen_at=seen_at,
        first_seen_latency_s=(seen_at - pub).total_seconds() if pub else None,
        changes=["new"],
        theatre=theatre_of(ev),
        cluster_text=_text(ev) or None,
    )
    inc = corroborate(inc, claims_of(ev))
    return inc.model_copy(update={"severity": severity(inc)[0]})


def merge(inc: Incident, ev: Event, seen_at: datetime) -> Incident:
    """The incident with one more report; revision and changes set."""
    changes = []
    sources = list(inc.sources)
    if all(s.article_id != ev.article_id for s in sources):
        sources.append(source_of(ev, seen_at))
        changes.append("source_added")
    if ev.modality != Modality.ASSERTED:
        # A denial adds its claims (and its source), not its facts: what it denies is no toll or attacker.
        updated = corroborate(inc.model_copy(update={"sources": sources}), claims_of(ev))
        changes += corroboration_changes(inc, updated)
        if not changes:
            return inc
        updated = updated.model_copy(
            update={"revision": inc.revision + 1, "source_count": len(sources), "changes": changes}
        )
        return updated.model_copy(update={"severity": severity(updated)[0]})
    cas = inc.casualties
    if ev.casualties.statement == "reported" and (ev.casualties.killed or 0, ev.casualties.injured or 0) != (
        cas.killed or 0,
        cas.injured or 0,
    ):
        # The highest reported toll wins: later reports usually update upwards.
        if (ev.casualties.killed or 0) >= (cas.killed or 0):
            cas = ev.casualties
            changes.append("casualties")
    elif cas.statement == "unknown" and ev.casualties.statement != "unknown":
        cas = ev.casualties
        changes.append("casualties")
    attacker = inc.attacker
    if attacker is None and ev.attacker is not None:
        attacker = ev.attacker
        changes.append("attribution")
    targets = list(inc.targets) + [t for t in ev.targets if all(t.name != u.name for u in inc.targets)]
    places = list(inc.places) + [p for p in ev.places if all(p.name != q.name for q in inc.places)]
    plats = list(dict.fromkeys(inc.platforms + [p.name for p in ev.platforms]))
    muns = list(dict.fromkeys(inc.munitions + [m.name for m in ev.munitions]))
    # A time the text gives beats a "reported" one (the publication date of a report that dated nothing).
    time = inc.time if (_dated(inc.time) or not _dated(ev.time)) and (inc.time.date or not ev.time.date) else ev.time
    first_pub = min((s.published_at for s in sources if s.published_at), default=None)
    first_seen = min(inc.first_seen_at or seen_at, seen_at)
    updated = inc.model_copy(
        update={
            "sources": sources,
            "source_count": len(sources),
            "casualties": cas,
            "attacker": attacker,
            "targets": targets,
            "places": places,
            "platforms": plats,
            "munitions": muns,
            "time": time,
            "first_seen_at": first_seen,
            "first_seen_latency_s": (first_seen - first_pub).total_seconds() if first_pub else None,
        }
    )
    updated = corroborate(updated, claims_of(ev))
    changes += corroboration_changes(inc, updated)
    if not changes:
        return inc
    updated = updated.model_copy(update={"revision": inc.revision + 1, "changes": changes})
    return updated.model_copy(update={"severity": severity(updated)[0]})


class Clusterer:
    """Pure clustering over one theatre's open incidents (the DoFn's state)."""

    def __init__(self, similarity: Similarity):
        self.similarity = similarity

    def add(
        self,
        open_: OpenIncidents | list[tuple[Incident, str]],
        ev: Event,
        seen_at: datetime,
        at: datetime | None = None,
    ) -> tuple[OpenIncidents, Incident | None]:
        """(the open incidents, updated in place; the incident to emit or None if nothing
        changed). ``at``: the report's time on the clock that closes incidents
        ``OPEN_FOR_HOURS`` after their last report (the element's timestamp in the
        pipeline), ``seen_at`` when not given. Only the candidates of the day and place
        index (``pipeline/open_incidents.py``) are compared: the cost of a report does not
        grow with the theatre's history."""
        index = open_ if isinstance(open_, OpenIncidents) else _index_of(open_)
        at = at or seen_at
        index.expire(at - timedelta(hours=OPEN_FOR_HOURS))
        text = _text(ev)
        best = self.best_match(index, ev, text)
        if best is None:
            if ev.modality != Modality.ASSERTED:
                return index, None  # a denial of a strike no report asserts: nothing to deny yet
            inc = new_incident(ev, seen_at)
            index.put(inc, text, footprint(inc), at)
            return index, inc
        inc_id, inc_text = best
        inc = index.incident(inc_id)
        updated = merge(inc, ev, seen_at)
        index.put(updated, inc_text, footprint(updated), at)
        return index, (None if updated is inc else updated)

    def best_match(self, index: OpenIncidents, ev: Event, text: str | None = None) -> tuple[str, str] | None:
        """(id, text) of the open incident the report joins, or None: of the index's
        candidates, the one of the same place, day and weapon family first, then the most
        similar one above the similarity the rules require."""
        text = _text(ev) if text is None else text
        foot = footprint(ev)
        best, best_rank = None, (False, -1.0)
        for inc_id, inc_text, inc_foot in index.candidates(foot, day_gap=MAX_DAY_GAP, km=MAX_KM, same_km=SAME_PLACE_KM):
            need = _need(foot, inc_foot)
            if need is None:
                continue  # ruled out without embedding the texts (~10 ms each on CPU)
            sim = self.similarity(text, inc_text)
            rank = (need == 0.0, sim)
            if sim >= need and rank > best_rank:
                best, best_rank = (inc_id, inc_text), rank
        return best


def _index_of(pairs) -> OpenIncidents:
    """An index of a plain list of (incident, text), each last reported when its sources were last seen."""
    index = OpenIncidents()
    for inc, text in pairs:
        index.put(inc, text, footprint(inc), max((s.seen_at for s in inc.sources if s.seen_at), default=None))
    return index


def load_embedder() -> Similarity:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings (``strikewatch.core.embeddings``:
    the int8 ONNX export on onnxruntime, no torch, no hub access) between English reports;
    reports in other languages (or an English and a Ukrainian one) are compared with
    multilingual-e5 on the same scale (``pipeline.extraction.lang.similarity``)."""
    from functools import lru_cache

    from strikewatch.core.embeddings import load_embedder as load_model

    # The model runs on one intra-op thread: a single sentence gains nothing from more,
    # and on a worker the other cores run spaCy (one thread per core oversubscribes).
    model = load_model()

    @lru_cache(maxsize=4096)
    def embed(text: str):
        return model.encode([text])[0]

    def sim(a: str, b: str) -> float:
        return float(embed(a) @ embed(b))

    from .extraction.lang.similarity import cross_lingual

    return cross_lingual(sim)


def token_jaccard(a: str, b: str) -> float:
    """A cheap similarity for tests of pure logic (not used in production)."""
    ta, tb = set(a.lower().split()), set(b.lower().split())
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


def _clock(timestamp, fallback: datetime) -> datetime:
    """The element's timestamp as a datetime (the clock that closes incidents), else ``fallback``."""
    try:
        return datetime.fromtimestamp(timestamp.micros / 1e6, tz=UTC)
    except (OverflowError, OSError, ValueError):  # MIN/MAX_TIMESTAMP: an element with no time of its own
        return fallback


class _ClusterFn(beam.DoFn):
    OPEN = ReadModifyWriteStateSpec("open", PickleCoder())
    # Ids of the reopened incidents (pipeline/recovery.py) whose current revision was not re-sent yet.
    REOPENED = ReadModifyWriteStateSpec("reopened", PickleCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, similarity: str, recovery=None):
        self._similarity_kind = similarity
        self._recovery = recovery  # recovery.RecoveryConfig: reopen what was published before a restart

    def setup(self):
        from .worker_cache import per_process

        # One model per worker process (pipeline/worker_cache.py says why).
        self._sim = (
            per_process(("embedder",), load_embedder) if self._similarity_kind == "embeddings" else token_jaccard
        )
        self._clusterer = Clusterer(self._sim)
        self._seeds = None
        if self._recovery is not None:
            from .kafka_io import load_seeds

            self._seeds = per_process(self._recovery.key, lambda: load_seeds(self._recovery))

    def process(
        self,
        kv,
        timestamp=beam.DoFn.TimestampParam,
        open_state=beam.DoFn.StateParam(OPEN),
        reopened_state=beam.DoFn.StateParam(REOPENED),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ):
        theatre, ev = kv
        open_ = open_state.read()
        seen_at = ev.extracted_at or datetime.now(UTC)
        at = _clock(timestamp, seen_at)
        if open_ is None and self._seeds is not None:  # first report of this theatre since the start
            seeded = self._seeds.take_open(theatre, at.timestamp())
            if seeded:
                reopened_state.write({inc.id for inc, _text in seeded})
                open_ = _index_of(seeded)
        if open_ is None:
            open_ = OpenIncidents()
        open_, out = self._clusterer.add(open_, ev, seen_at, at)
        reopened = reopened_state.read() if self._seeds is not None else None
        if reopened:
            out, left = resend_reopened(open_, reopened, ev, out)
            if not left:
                reopened_state.clear()
            elif left != reopened:
                reopened_state.write(left)
        open_state.write(open_)
        expire.set(timestamp + OPEN_FOR_HOURS * 3600)
        if out is not None:
            if out.revision == 0:
                METRICS.incidents.labels(str(out.event_type), theatres()(theatre)).inc()
            else:
                for c in out.changes:
                    METRICS.revisions.labels(c).inc()
            yield out

    @on_timer(EXPIRE)
    def expire_incidents(self, open_state=beam.DoFn.StateParam(OPEN), reopened_state=beam.DoFn.StateParam(REOPENED)):
        # The last report of this theatre is OPEN_FOR_HOURS old in event time: close all.
        open_state.clear()
        reopened_state.clear()


class ClusterIncidents(beam.PTransform):
    """Events -> Incidents (new ones and revisions). Asserted strike events make and join
    incidents; denied ones join the strike they deny, with their claims."""

    def __init__(self, similarity: str = "embeddings", recovery=None):
        super().__init__()
        self._similarity = similarity
        self._recovery = recovery

    def expand(self, events):
        return (
            events
            | "AssertedStrikes"
            >> beam.Filter(lambda e: e.event_type in STRIKE_TYPES and e.modality in CLUSTERED_MODALITIES)
            | "KeyByTheatre" >> beam.Map(lambda e: (theatre_of(e), e))
            | "Cluster" >> beam.ParDo(_ClusterFn(self._similarity, self._recovery))
        )

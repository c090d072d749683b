"""Stage: cross-article incident clustering.

Many articles report one strike. An event joins an open incident of its theatre when
all of these hold:

* same attack family (air/drone strikes together, missiles/shelling together);
* compatible time: dates at most ``MAX_DAY_GAP`` apart (or unknown);
* compatible place: within ``MAX_KM`` when both are located finer than a country,
  else the same country;
* actors do not contradict (different named state attackers split);
* text similarity of the evidence (all-MiniLM-L6-v2 sentence embeddings from
  ``strikewatch.embeddings``, cosine) at least ``MIN_SIMILARITY`` — or
  ``STRONG_SIMILARITY`` when time or place is unknown.

Joining adds the source; an incident is re-emitted with ``revision + 1`` and a list of
``changes`` when a report adds a source, changes the casualties or the attribution.

Beam: events are keyed by theatre (country) into a stateful DoFn holding that
theatre's open incidents; an event-time timer closes incidents ``OPEN_FOR_HOURS`` after
their last report (allowed lateness for stragglers), so state stays bounded. Late and
out-of-order reports join as long as their incident is open.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timezone
from typing import Callable

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer

from strikewatch.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.models import STRIKE_TYPES, Event, EventType, Incident, IncidentSource, Modality

from .escalation import severity, theatre_of, theatres

MAX_DAY_GAP = 1  # reports of one strike date it within a day (time zones, "overnight")
MAX_KM = 75.0  # one strike's reports place it within a district; 75 km spans "near X" vs "in Y province"
# Cosine of MiniLM sentence embeddings. Measured here: paraphrased reports of one
# strike 0.65-0.85, a different attack in the region ~0.5 (tests/pipeline/test_incidents.py).
MIN_SIMILARITY = 0.55
STRONG_SIMILARITY = 0.7
OPEN_FOR_HOURS = 72  # an incident takes new reports for 3 days after its last one (allowed lateness)
FAMILIES = {EventType.AIR_STRIKE: "air", EventType.DRONE_STRIKE: "air", EventType.MISSILE_ATTACK: "fire", EventType.SHELLING: "fire"}

Similarity = Callable[[str, str], float]


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        incidents=Counter("strikewatch_incidents_total", "New incidents", ["event_type", "theatre"], registry=registry),
        revisions=Counter("strikewatch_incident_revisions_total", "Incident revisions", ["reason"], registry=registry),
    )


METRICS = make_metrics()


def _text(ev: Event) -> str:
    return " ".join(s.text for s in ev.evidence)[:1000]


def _km(a, b) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def required_similarity(ev: Event, inc: Incident) -> float | None:
    """The text similarity a report needs to join an incident, or None when type,
    time, place or attacker already rule it out (then no embedding is computed)."""
    if FAMILIES.get(ev.event_type) != FAMILIES.get(inc.event_type):
        return None
    dated = ev.time.date and inc.time.date
    if dated and abs((ev.time.date - inc.time.date).days) > MAX_DAY_GAP:
        return None
    pe = next((p for p in ev.places if p.lat is not None and p.precision not in ("country", "unknown")), None)
    pi = next((p for p in inc.places if p.lat is not None and p.precision not in ("country", "unknown")), None)
    located = pe is not None and pi is not None
    if located and _km(pe, pi) > MAX_KM:
        return None
    if not located:
        ce = {p.country for p in ev.places if p.country}
        ci = {p.country for p in inc.places if p.country}
        if ce and ci and not ce & ci:
            return None
    if ev.attacker and inc.attacker and ev.attacker.name != inc.attacker.name and ev.attacker.type == inc.attacker.type == "state_military":
        return None
    return MIN_SIMILARITY if dated and (located or ev.places) else STRONG_SIMILARITY


def _incident_id(ev: Event) -> str:
    return "i_" + hashlib.blake2b(ev.id.encode(), digest_size=12).hexdigest()


def source_of(ev: Event, seen_at: datetime) -> IncidentSource:
    """The incident's record of one report, with the link to its article."""
    return IncidentSource(event_id=ev.id, article_id=ev.article_id, source=ev.source, published_at=ev.article_published_at, seen_at=seen_at,
                          url=ev.article_url, title=ev.article_title, outlet=ev.outlet)


def new_incident(ev: Event, seen_at: datetime) -> Incident:
    sev, _ = severity(ev)
    pub = ev.article_published_at
    return Incident(
        id=_incident_id(ev), revision=0, event_type=ev.event_type, attacker=ev.attacker, targets=ev.targets, places=ev.places,
        time=ev.time, platforms=[p.name for p in ev.platforms], munitions=[m.name for m in ev.munitions], casualties=ev.casualties,
        sources=[source_of(ev, seen_at)],
        source_count=1, first_seen_at=seen_at, first_seen_latency_s=(seen_at - pub).total_seconds() if pub else None,
        changes=["new"], severity=sev, theatre=theatre_of(ev), cluster_text=_text(ev) or None,
    )


def merge(inc: Incident, ev: Event, seen_at: datetime) -> Incident:
    """The incident with one more report; revision and changes set."""
    changes = []
    sources = list(inc.sources)
    if all(s.article_id != ev.article_id for s in sources):
        sources.append(source_of(ev, seen_at))
        changes.append("source_added")
    cas = inc.casualties
    if ev.casualties.statement == "reported" and (ev.casualties.killed or 0, ev.casualties.injured or 0) != (cas.killed or 0, cas.injured or 0):
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
    time = inc.time if (inc.time.date or not ev.time.date) else ev.time
    first_pub = min((s.published_at for s in sources if s.published_at), default=None)
    first_seen = min(inc.first_seen_at or seen_at, seen_at)
    if not changes:
        return inc
    updated = inc.model_copy(update={
        "revision": inc.revision + 1, "sources": sources, "source_count": len(sources), "casualties": cas, "attacker": attacker,
        "targets": targets, "places": places, "platforms": plats, "munitions": muns, "time": time, "changes": changes,
        "first_seen_at": first_seen, "first_seen_latency_s": (first_seen - first_pub).total_seconds() if first_pub else None,
    })
    return updated.model_copy(update={"severity": severity(updated)[0]})


class Clusterer:
    """Pure clustering over one theatre's open incidents (the DoFn's state)."""

    def __init__(self, similarity: Similarity):
        self.similarity = similarity

    def add(self, open_: list[tuple[Incident, str]], ev: Event, seen_at: datetime) -> tuple[list[tuple[Incident, str]], Incident | None]:
        """(new open list, incident to emit or None if nothing changed)."""
        text = _text(ev)
        best, best_sim = None, -1.0
        for i, (inc, inc_text) in enumerate(open_):
            need = required_similarity(ev, inc)
            if need is None:
                continue  # ruled out without embedding the texts (~10 ms each on CPU)
            sim = self.similarity(text, inc_text)
            if sim >= need and sim > best_sim:
                best, best_sim = i, sim
        if best is None:
            inc = new_incident(ev, seen_at)
            return open_ + [(inc, text)], inc
        inc, inc_text = open_[best]
        updated = merge(inc, ev, seen_at)
        if updated is inc:
            return open_, None
        out = list(open_)
        out[best] = (updated, inc_text)
        return out, updated


def load_embedder() -> Similarity:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings (``strikewatch.embeddings``:
    the int8 ONNX export on onnxruntime, no torch, no hub access)."""
    from functools import lru_cache

    from strikewatch.embeddings import load_embedder as load_model

    # The model runs on one intra-op thread: a single sentence gains nothing from more,
    # and on a worker the other cores run spaCy (one thread per core oversubscribes).
    model = load_model()

    @lru_cache(maxsize=4096)
    def embed(text: str):
        return model.encode([text])[0]

    def sim(a: str, b: str) -> float:
        return float(embed(a) @ embed(b))

    return sim


def token_jaccard(a: str, b: str) -> float:
    """A cheap similarity for tests of pure logic (not used in production)."""
    ta, tb = set(a.lower().split()), set(b.lower().split())
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


class _ClusterFn(beam.DoFn):
    OPEN = ReadModifyWriteStateSpec("open", PickleCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, similarity: str, recovery=None):
        self._similarity_kind = similarity
        self._recovery = recovery  # recovery.RecoveryConfig: reopen what was published before a restart

    def setup(self):
        from .worker_cache import per_process

        # One model per worker process (pipeline/worker_cache.py says why).
        self._sim = per_process(("embedder",), load_embedder) if self._similarity_kind == "embeddings" else token_jaccard
        self._clusterer = Clusterer(self._sim)
        self._seeds = None
        if self._recovery is not None:
            from .kafka_io import load_seeds

            self._seeds = per_process(self._recovery.key, lambda: load_seeds(self._recovery))

    def process(self, kv, timestamp=beam.DoFn.TimestampParam, open_state=beam.DoFn.StateParam(OPEN), expire=beam.DoFn.TimerParam(EXPIRE)):
        theatre, ev = kv
        open_ = open_state.read()
        if open_ is None and self._seeds is not None:  # first report of this theatre since the start
            open_ = self._seeds.take_open(theatre, float(timestamp.micros) / 1e6)
        open_ = open_ or []
        seen_at = ev.extracted_at or datetime.now(timezone.utc)
        open_, out = self._clusterer.add(open_, ev, seen_at)
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
    def expire_incidents(self, open_state=beam.DoFn.StateParam(OPEN)):
        # The last report of this theatre is OPEN_FOR_HOURS old in event time: close all.
        open_state.clear()


class ClusterIncidents(beam.PTransform):
    """Events -> Incidents (new ones and revisions). Only asserted strike events count."""

    def __init__(self, similarity: str = "embeddings", recovery=None):
        super().__init__()
        self._similarity = similarity
        self._recovery = recovery

    def expand(self, events):
        return (
            events
            | "AssertedStrikes" >> beam.Filter(lambda e: e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED)
            | "KeyByTheatre" >> beam.Map(lambda e: (theatre_of(e), e))
            | "Cluster" >> beam.ParDo(_ClusterFn(self._similarity, self._recovery))
        )

"""Stage: match incidents against users' subscriptions, with suppression.

Subscriptions come from the compacted ``strikewatch.subscriptions`` topic (read whole
at start, then live), incidents (with their theatre's escalation index) from
``ScoreEscalation``. Two stateful steps, each with state bounded by time:

1. ``Match`` (one key): the subscriptions, and the incidents of the last
   ``RECENT_WINDOW_S`` (a bag, pruned every ``RECENT_PRUNE_EVERY`` additions). An incident
   is matched against every subscription and goes on, keyed by its id, with the
   subscriptions it matches. A subscription that arrives (a new one, or a restarted
   pipeline reading the topic while articles already flow) is matched against the
   recent incidents.
2. ``Suppress`` (keyed by incident): what each subscription was already told about that
   incident, cleared by an event-time timer ``SENT_TTL_S`` after its last revision.

Only incidents first seen or revised after a subscription was created are alerted to
it (``fresh_for``): a new subscription never replays old incidents to its URL (a new
subscription without filters used to fire 500 alerts at once).

Suppression: one alert per incident per subscription (kind ``new_incident``), then an
``update`` only when the incident's severity or casualties change.

Before, the whole matcher (subscriptions, every (subscription, incident) ever alerted,
the 500 most recent incidents) was one pickled state value, read and written for every
element: 0.44 s per element at 199 subscriptions, growing without bound. The cost per
element now depends on the subscriptions, not on the history (``bench/bench_matching.py``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer

from strikewatch.core.filters import IncidentFilter, Keys, incident_keys
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.core.models import Alert, Incident, Subscription

from .windows import SENT_TTL_S, fingerprint

JOIN_KEY = "all"
# Incidents kept for subscriptions that arrive after them: a restarted pipeline reads
# the subscriptions topic within seconds, and a subscription created a moment before an
# incident may reach the matcher after it. An hour (at most RECENT_INCIDENTS) covers
# both; older incidents predate any subscription that arrives now.
RECENT_WINDOW_S = 3600.0
RECENT_INCIDENTS = 200
# The recent bag is pruned (read, filtered, rewritten) once per this many additions:
# adding is O(1), so the pruning cost is spread over 50 incidents.
RECENT_PRUNE_EVERY = 50
# Tolerance between the API's clock (created_at) and the pipeline's (seen_at).
CLOCK_SKEW_S = 5.0


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        alerts=Counter("strikewatch_alerts_total", "Alerts emitted", ["kind"], registry=registry),
        suppressed=Counter(
            "strikewatch_alerts_suppressed_total", "Alerts suppressed (nothing that matters changed)", registry=registry
        ),
    )


METRICS = make_metrics()


def matches(
    sub: Subscription,
    inc: Incident,
    escalation: float | None,
    keys: Keys | None = None,
    wants: IncidentFilter | None = None,
) -> bool:
    """Whether ``inc`` (its ``keys``, computed once per incident) is one ``sub`` asks for: the one
    filter of the read API and the stream (strikewatch/core/filters.py), and the subscription's minimum
    escalation index of the incident's theatre."""
    if sub.min_escalation and (escalation or 0.0) < sub.min_escalation:
        return False
    return (wants or IncidentFilter.of_subscription(sub)).matches(keys or incident_keys(inc))


def _kind_of_change(told: tuple, inc: Incident) -> str:
    """What a revision tells a subscription it already alerted: "contested" (newly contested),
    "corroborated" (was single-source, now corroborated or confirmed), else "update"."""
    grade_then, contested_then = (told[4], told[5]) if len(told) > 5 else (None, False)
    if inc.contested and not contested_then:
        return "contested"
    if grade_then in (None, "single_source") and inc.grade in ("corroborated", "confirmed"):
        return "corroborated"
    return "update"


def _wanted(kind: str, sub: Subscription) -> bool:
    return kind in sub.notify_on or (kind in ("corroborated", "contested") and "update" in sub.notify_on)


def corroboration_line(inc: Incident) -> str:
    """How corroborated the incident is, in words: "contested: ...", "corroborated by 3 independent sources"."""
    if inc.grade is None:
        return f"{inc.independent_sources or inc.source_count} independent source(s)"
    return inc.grade_reason or inc.grade.replace("_", " ")


def make_alert(sub: Subscription, inc: Incident, escalation: float | None, kind: str) -> Alert:
    where = ", ".join(dict.fromkeys(p.name for p in inc.places[:2])) or "unknown place"
    who = inc.attacker.name if inc.attacker else "Unknown attacker"
    title = f"{str(inc.event_type).replace('_', ' ')}: {who} in {where}"
    cas = inc.casualties
    summary = (
        f"{inc.source_count} source(s), {corroboration_line(inc)}; casualties: {cas.statement}"
        + (f", {cas.killed} killed" if cas.killed else "")
        + (f"; escalation index {escalation:.2f}" if escalation is not None else "")
    )
    aid = "al_" + hashlib.blake2b(f"{sub.id}|{inc.id}|{inc.revision}".encode(), digest_size=12).hexdigest()
    return Alert(
        id=aid,
        subscription_id=sub.id,
        owner=sub.owner,
        incident_id=inc.id,
        incident_revision=inc.revision,
        kind=kind,
        severity=inc.severity or 0.0,
        escalation=escalation,
        title=title,
        summary=summary,
        incident=inc,
        created_at=datetime.now(UTC),
        webhook_url=sub.webhook_url,
        webhook_format=sub.webhook_format,
        webhook_secret_version=sub.secret_version,
    )


def changed_at(inc: Incident) -> datetime | None:
    """When this revision of the incident came about: its newest report's seen time."""
    seen = [src.seen_at for src in inc.sources if src.seen_at is not None]
    return max(seen) if seen else inc.first_seen_at


def fresh_for(sub: Subscription, inc: Incident) -> bool:
    """True if this revision of ``inc`` is news for ``sub``: first seen or revised after the
    subscription was created. Records without the times (version-1 subscriptions, test
    incidents without sources) are treated as fresh."""
    at = changed_at(inc)
    if sub.created_at is None or at is None:
        return True
    return at >= sub.created_at - timedelta(seconds=CLOCK_SKEW_S)


class SubscriptionIndex:
    """The subscriptions, indexed by the countries they filter on: an incident is checked
    against the subscriptions of its places' countries and those without a country
    filter, not against all of them (measured at 1,000 subscriptions: matching all was
    9 ms per incident, most of it on subscriptions of other countries)."""

    def __init__(self, subs: dict[str, Subscription]):
        self.subs = subs
        self._anywhere: list[Subscription] = []
        self._by_country: dict[str, list[Subscription]] = {}
        self._wants = {sub.id: IncidentFilter.of_subscription(sub) for sub in subs.values()}
        for sub in subs.values():
            if not sub.countries:
                self._anywhere.append(sub)
            for c in {c.lower() for c in sub.countries}:
                self._by_country.setdefault(c, []).append(sub)

    def candidates(self, inc: Incident) -> list[Subscription]:
        keys = {(p.country or "").lower() for p in inc.places} | {(p.country_code or "").lower() for p in inc.places}
        found = {id(s): s for k in keys for s in self._by_country.get(k, ())}
        return self._anywhere + list(found.values())

    def matching(self, inc: Incident, escalation: float | None) -> list[Subscription]:
        keys = incident_keys(inc)
        return [
            s
            for s in self.candidates(inc)
            if matches(s, inc, escalation, keys, self._wants[s.id]) and fresh_for(s, inc)
        ]


def matching(subs: dict[str, Subscription], inc: Incident, escalation: float | None) -> list[Subscription]:
    return SubscriptionIndex(subs).matching(inc, escalation)


def suppress(sent: dict[str, tuple], subs: list[Subscription], inc: Incident, escalation: float | None) -> list[Alert]:
    """Alerts about ``inc`` for the subscriptions it matched, given ``sent`` (subscription
    id -> fingerprint of what it was told about this incident), which it updates."""
    out = []
    fp = fingerprint(inc)
    for sub in subs:
        if sub.id not in sent:
            kind = "new_incident"
        elif sent[sub.id] != fp:
            kind = _kind_of_change(sent[sub.id], inc)
        else:
            METRICS.suppressed.inc()
            continue
        sent[sub.id] = fp
        if not _wanted(kind, sub):
            continue
        METRICS.alerts.labels(kind).inc()
        out.append(make_alert(sub, inc, escalation, kind))
    return out


@dataclass(frozen=True)
class Recent:
    """An incident revision kept for subscriptions that arrive after it."""

    at: float  # seconds (event time in the pipeline)
    incident: Incident
    escalation: float | None


def prune_recent(entries: list[Recent]) -> list[Recent]:
    """The latest revision of each incident of the last RECENT_WINDOW_S, at most RECENT_INCIDENTS."""
    if not entries:
        return []
    newest = max(e.at for e in entries)
    latest: dict[str, Recent] = {}
    for e in sorted(entries, key=lambda e: (e.at, e.incident.revision)):
        if e.at >= newest - RECENT_WINDOW_S:
            latest.pop(e.incident.id, None)
            latest[e.incident.id] = e
    return list(latest.values())[-RECENT_INCIDENTS:]


@dataclass
class Matcher:
    """The whole matching state machine in memory (tests, benchmarks): the same pure
    functions the two Beam steps use, with suppression state pruned by time."""

    subs: dict[str, Subscription] = field(default_factory=dict)
    # incident id -> (time of its last revision, subscription id -> fingerprint), oldest first
    sent: OrderedDict = field(default_factory=OrderedDict)
    recent: list[Recent] = field(default_factory=list)
    _index: SubscriptionIndex | None = field(default=None, repr=False)

    def subscription(self, sub_id: str, sub: Subscription | None) -> list[Alert]:
        """Add/replace/delete a subscription; returns alerts for recent incidents it matches
        that are news to it (first seen or revised after it was created)."""
        self.subs = dict(self.subs)
        self._index = None
        if sub is None:
            self.subs.pop(sub_id, None)
            return []
        self.subs[sub_id] = sub
        self.recent = prune_recent(self.recent)
        out = []
        for r in self.recent:
            if matches(sub, r.incident, r.escalation) and fresh_for(sub, r.incident):
                out += self._suppress([sub], r.incident, r.escalation, r.at)
        return out

    def incident(self, inc: Incident, escalation: float | None, at: float | None = None) -> list[Alert]:
        at = at if at is not None else (changed_at(inc) or datetime.now(UTC)).timestamp()
        self.recent.append(Recent(at, inc, escalation))
        if len(self.recent) >= RECENT_INCIDENTS + RECENT_PRUNE_EVERY:
            self.recent = prune_recent(self.recent)
        if self._index is None or self._index.subs is not self.subs:
            self._index = SubscriptionIndex(self.subs)
        return self._suppress(self._index.matching(inc, escalation), inc, escalation, at)

    def _suppress(self, subs: list[Subscription], inc: Incident, escalation: float | None, at: float) -> list[Alert]:
        _, sent = self.sent.pop(inc.id, (at, {}))
        alerts = suppress(sent, subs, inc, escalation)
        self.sent[inc.id] = (at, sent)
        while self.sent and next(iter(self.sent.values()))[0] < at - SENT_TTL_S:
            self.sent.popitem(last=False)
        return alerts


class _MatchFn(beam.DoFn):
    """Step 1, one key: subscriptions and recent incidents -> (incident id, (incident,
    escalation, matching subscriptions))."""

    SUBS = ReadModifyWriteStateSpec("subs", PickleCoder())
    # A token written with every change of SUBS: an instance that holds the index of that
    # version reads 40 bytes per incident, not every subscription (unpickling 1,000
    # subscriptions was 60 % of the cost per incident).
    VERSION = ReadModifyWriteStateSpec("subs_version", PickleCoder())
    RECENT = BagStateSpec("recent", PickleCoder())
    ADDED = ReadModifyWriteStateSpec("recent_added", PickleCoder())

    def setup(self) -> None:
        self._cached: tuple[str | None, SubscriptionIndex] | None = None

    def _index(self, subs_state, version_state) -> SubscriptionIndex:
        version = version_state.read()
        if getattr(self, "_cached", None) is None or self._cached[0] != version:
            self._cached = (version, SubscriptionIndex(subs_state.read() or {}))
        return self._cached[1]

    def process(
        self,
        kv,
        timestamp=beam.DoFn.TimestampParam,
        subs_state=beam.DoFn.StateParam(SUBS),
        version_state=beam.DoFn.StateParam(VERSION),
        recent_state=beam.DoFn.StateParam(RECENT),
        added_state=beam.DoFn.StateParam(ADDED),
    ):
        _key, (tag, payload) = kv
        index = self._index(subs_state, version_state)
        if tag == "sub":
            sub_id, sub = payload
            subs = dict(index.subs)
            if sub is None:
                subs.pop(sub_id, None)
            else:
                subs[sub_id] = sub
            version = uuid.uuid4().hex
            subs_state.write(subs)
            version_state.write(version)
            self._cached = (version, SubscriptionIndex(subs))
            if sub is None:
                return
            recent = self._prune(recent_state, added_state)
            for r in recent:
                if matches(sub, r.incident, r.escalation) and fresh_for(sub, r.incident):
                    yield (r.incident.id, (r.incident, r.escalation, [sub]))
            return
        inc, escalation = payload
        recent_state.add(Recent(float(timestamp.micros) / 1e6, inc, escalation))
        added = (added_state.read() or 0) + 1
        if added >= RECENT_PRUNE_EVERY:
            self._prune(recent_state, added_state)
        else:
            added_state.write(added)
        matched = index.matching(inc, escalation)
        if matched:
            yield (inc.id, (inc, escalation, matched))

    @staticmethod
    def _prune(recent_state, added_state) -> list[Recent]:
        recent = prune_recent(list(recent_state.read()))
        recent_state.clear()
        for r in recent:
            recent_state.add(r)
        added_state.write(0)
        return recent


class _SuppressFn(beam.DoFn):
    """Step 2, keyed by incident: what each subscription was told about it -> Alerts."""

    SENT = ReadModifyWriteStateSpec("sent", PickleCoder())
    EXPIRE = TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, recovery=None):
        self._recovery = recovery  # recovery.RecoveryConfig: what was alerted before a restart

    def setup(self):
        self._seeds = None
        if self._recovery is not None:
            from .kafka_io import load_seeds
            from .worker_cache import per_process

            self._seeds = per_process(self._recovery.key, lambda: load_seeds(self._recovery))

    def process(
        self,
        kv,
        timestamp=beam.DoFn.TimestampParam,
        sent_state=beam.DoFn.StateParam(SENT),
        expire=beam.DoFn.TimerParam(EXPIRE),
    ):
        inc_id, (inc, escalation, subs) = kv
        sent = sent_state.read()
        if sent is None and self._seeds is not None:  # first revision of this incident since the start
            sent = self._seeds.take_sent(inc_id)
        sent = sent or {}
        alerts = suppress(sent, subs, inc, escalation)
        sent_state.write(sent)
        expire.set(timestamp + SENT_TTL_S)
        yield from alerts

    @on_timer(EXPIRE)
    def forget(self, sent_state=beam.DoFn.StateParam(SENT)):
        # No revision of this incident for SENT_TTL_S of event time: it is closed.
        sent_state.clear()


class MatchSubscriptions(beam.PTransform):
    """(scored incidents: (Incident, escalation), subscriptions: (id, Subscription|None)) -> Alert."""

    def __init__(self, subscriptions, recovery=None):
        super().__init__()
        self._subs = subscriptions
        self._recovery = recovery

    def expand(self, scored):
        subs = self._subs | "TagSubscriptions" >> beam.Map(lambda kv: (JOIN_KEY, ("sub", kv)))
        incs = scored | "TagIncidents" >> beam.Map(lambda t: (JOIN_KEY, ("inc", t)))
        return (
            (subs, incs)
            | "Join" >> beam.Flatten()
            | "Match" >> beam.ParDo(_MatchFn())
            | "Suppress" >> beam.ParDo(_SuppressFn(self._recovery))
        )

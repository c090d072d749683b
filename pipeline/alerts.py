"""Stage: match incidents against users' subscriptions, with suppression.

Subscriptions come from the compacted ``strikewatch.subscriptions`` topic (read whole
at start, then live), incidents (with their theatre's escalation index) from
``ScoreEscalation``. Both are joined in one stateful DoFn: the subscriptions are its
state and update live as records arrive, which works the same on Prism, Flink and
TestStream (a side input from an unbounded source would need a refresh trigger and
is harder to get right across runners). Incidents are few (tens per hour), so one key
carries the join; shard by subscription owner when that changes.

Suppression: one alert per incident per subscription (kind ``new_incident``), then an
``update`` only when the incident's severity or casualties change.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from strikewatch.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.models import Alert, Incident, Subscription

JOIN_KEY = "all"
# Latest revision of the most recent incidents, kept so that a subscription that
# arrives after them (a new subscriber, or a restart reading the topic while articles
# are already flowing) still gets alerts about what is going on. 500 incidents is
# days of activity at news rates; each is a few kB.
RECENT_INCIDENTS = 500


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        alerts=Counter("strikewatch_alerts_total", "Alerts emitted", ["kind"], registry=registry),
        suppressed=Counter("strikewatch_alerts_suppressed_total", "Alerts suppressed (nothing that matters changed)", registry=registry),
    )


METRICS = make_metrics()


def matches(sub: Subscription, inc: Incident, escalation: float | None) -> bool:
    if sub.event_types and inc.event_type not in sub.event_types:
        return False
    if sub.actors:
        names = {a.name.lower() for a in ([inc.attacker] if inc.attacker else []) + list(inc.targets)}
        if not any(x.lower() in n or n in x.lower() for x in sub.actors for n in names):
            return False
    if sub.countries:
        wanted = {c.lower() for c in sub.countries}
        if not any((p.country or "").lower() in wanted or (p.country_code or "").lower() in wanted for p in inc.places):
            return False
    if sub.bbox:
        x0, y0, x1, y1 = sub.bbox
        if not any(p.lat is not None and x0 <= p.lon <= x1 and y0 <= p.lat <= y1 for p in inc.places):
            return False
    if (inc.severity or 0.0) < sub.min_severity:
        return False
    if sub.min_escalation and (escalation or 0.0) < sub.min_escalation:
        return False
    return True


def _fingerprint(inc: Incident) -> tuple:
    return (round(inc.severity or 0.0, 2), inc.casualties.killed, inc.casualties.injured, inc.casualties.statement)


def make_alert(sub: Subscription, inc: Incident, escalation: float | None, kind: str) -> Alert:
    where = ", ".join(dict.fromkeys(p.name for p in inc.places[:2])) or "unknown place"
    who = inc.attacker.name if inc.attacker else "Unknown attacker"
    title = f"{str(inc.event_type).replace('_', ' ')}: {who} in {where}"
    cas = inc.casualties
    summary = (f"{inc.source_count} source(s); casualties: {cas.statement}" + (f", {cas.killed} killed" if cas.killed else "")
               + (f"; escalation index {escalation:.2f}" if escalation is not None else ""))
    aid = "al_" + hashlib.blake2b(f"{sub.id}|{inc.id}|{inc.revision}".encode(), digest_size=12).hexdigest()
    return Alert(id=aid, subscription_id=sub.id, owner=sub.owner, incident_id=inc.id, incident_revision=inc.revision, kind=kind,
                 severity=inc.severity or 0.0, escalation=escalation, title=title, summary=summary, incident=inc,
                 created_at=datetime.now(timezone.utc), webhook_url=sub.webhook_url, webhook_format=sub.webhook_format,
                 webhook_secret_version=sub.secret_version)


class Matcher:
    """Pure state machine: subscriptions + what was already alerted."""

    def __init__(self):
        self.subs: dict[str, Subscription] = {}
        self.sent: dict[tuple[str, str], tuple] = {}
        self.recent: dict[str, tuple[Incident, float | None]] = {}

    def subscription(self, sub_id: str, sub: Subscription | None) -> list[Alert]:
        """Add/replace/delete a subscription; returns alerts for recent incidents it matches."""
        if sub is None:
            self.subs.pop(sub_id, None)
            return []
        self.subs[sub_id] = sub
        out = []
        for inc, esc in list(self.recent.values()):
            out += self._match([sub], inc, esc)
        return out

    def incident(self, inc: Incident, escalation: float | None) -> list[Alert]:
        self.recent.pop(inc.id, None)
        self.recent[inc.id] = (inc, escalation)
        while len(self.recent) > RECENT_INCIDENTS:
            self.recent.pop(next(iter(self.recent)))
        return self._match(list(self.subs.values()), inc, escalation)

    def _match(self, subs: list[Subscription], inc: Incident, escalation: float | None) -> list[Alert]:
        out = []
        for sub in subs:
            if not matches(sub, inc, escalation):
                continue
            key = (sub.id, inc.id)
            fp = _fingerprint(inc)
            if key not in self.sent:
                kind = "new_incident"
            elif self.sent[key] != fp:
                kind = "update"
            else:
                METRICS.suppressed.inc()
                continue
            self.sent[key] = fp
            if kind not in sub.notify_on:
                continue
            METRICS.alerts.labels(kind).inc()
            out.append(make_alert(sub, inc, escalation, kind))
        return out


class _MatchFn(beam.DoFn):
    STATE = ReadModifyWriteStateSpec("matcher", PickleCoder())

    def process(self, kv, state=beam.DoFn.StateParam(STATE)):
        _key, (tag, payload) = kv
        matcher = state.read() or Matcher()
        alerts = []
        if tag == "sub":
            sub_id, sub = payload
            alerts = matcher.subscription(sub_id, sub)
        else:
            inc, escalation = payload
            alerts = matcher.incident(inc, escalation)
        state.write(matcher)
        yield from alerts


class MatchSubscriptions(beam.PTransform):
    """(scored incidents: (Incident, escalation), subscriptions: (id, Subscription|None)) -> Alert."""

    def __init__(self, subscriptions):
        super().__init__()
        self._subs = subscriptions

    def expand(self, scored):
        subs = self._subs | "TagSubscriptions" >> beam.Map(lambda kv: (JOIN_KEY, ("sub", kv)))
        incs = scored | "TagIncidents" >> beam.Map(lambda t: (JOIN_KEY, ("inc", t)))
        return (subs, incs) | "Join" >> beam.Flatten() | "Match" >> beam.ParDo(_MatchFn())

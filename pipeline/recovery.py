"""What a restarted pipeline rebuilds from what it already published.

Prism keeps state only in memory: a restarted pipeline forgot its open incidents, so a new
report about a strike from before the restart started a second incident, and alerted its
subscribers a second time (8 strikes, kill -9 after the 30 s commit lag, a second report of
each: 16 incidents and 16 ``new_incident`` alerts). On start-up each worker process reads

* the incidents topic for the clustering window (``OPEN_FOR_HOURS``): the latest revision of
  every incident that took a report within it is open again, with the text the clustering
  compares reports with (``Incident.cluster_text``);
* the alerts topic for the suppression window (``SENT_TTL_S``): what each subscription was
  told about each incident, so a revision after the restart is an ``update`` (or nothing),
  never a second ``new_incident``.

A stateful step takes a key's share (``Seeds.take_open``/``take_sent``) the first time it
sees the key with no state of its own, so a runner that restores its state (Flink from a
checkpoint) keeps its own. Pure: the reading is ``kafka_io.load_seeds``.

The restarted pipeline also re-reads the articles of its last ``COMMIT_LAG_S`` (offsets are
committed that late), and a reopened incident may already hold them: their reports change
nothing, so nothing would be sent again, and an alert the killed pipeline had not written yet
was lost (round 4 of tests/system/test_faults.py, a kill right after the articles came). So the
first report a reopened incident already holds sends its current revision once more
(``resend_reopened``): the alerts already written are suppressed by what each subscription was
told, and the missing ones go out, with the ids they would have had.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from strikewatch.core.kafka import KafkaConfig, Published
from strikewatch.core.models import Alert, Incident

from .escalation import theatre_of
from .windows import OPEN_FOR_HOURS, SENT_TTL_S, fingerprint

log = logging.getLogger(__name__)

OPEN_WINDOW_S = OPEN_FOR_HOURS * 3600
# Seconds the start-up read of both topics may take before the pipeline goes on without it (a warning
# says so): the local stack reads a day of incidents in well under a second; a broker that does not
# answer within this is away, and the pipeline's own reader waits for it anyway.
LOAD_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class RecoveryConfig:
    """Where a restarted pipeline finds what it published (picklable: a DoFn carries it)."""

    kafka: KafkaConfig
    incidents_topic: str
    alerts_topic: str

    @property
    def key(self) -> tuple:
        return ("recovery", self.kafka.bootstrap_servers, self.incidents_topic, self.alerts_topic)


@dataclass
class OpenIncident:
    incident: Incident
    text: str
    last_s: float  # broker time of its latest revision


def open_incidents(records: Iterable[Published], now_s: float) -> tuple[dict[str, list[OpenIncident]], dict[str, int]]:
    """The incidents open at ``now_s``, by clustering key (theatre), each at its latest revision, in
    the order they were first seen; and counts of what was read, kept and skipped."""
    latest: dict[str, OpenIncident] = {}
    counts = {"records": 0, "undecodable": 0, "without_text": 0}
    for r in records:
        counts["records"] += 1
        try:
            inc = Incident.from_bytes(r.value)
        except (ValueError, TypeError):  # junk or a hostile record on the topic: not an incident to reopen
            counts["undecodable"] += 1
            continue
        seen = latest.get(inc.id)
        if seen is None or (inc.revision, r.timestamp_ms / 1000) >= (seen.incident.revision, seen.last_s):
            latest[inc.id] = OpenIncident(inc, inc.cluster_text or "", r.timestamp_ms / 1000)
    out: dict[str, list[OpenIncident]] = {}
    for o in sorted(
        latest.values(), key=lambda o: (o.incident.first_seen_at is None, o.incident.first_seen_at, o.incident.id)
    ):
        if not o.text:  # published before incidents carried their text: cannot be compared with
            counts["without_text"] += 1
            continue
        if o.last_s >= now_s - OPEN_WINDOW_S:
            out.setdefault(theatre_of(o.incident), []).append(o)
    counts["open"] = sum(len(v) for v in out.values())
    return out, counts


def sent_fingerprints(records: Iterable[Published]) -> tuple[dict[str, dict[str, tuple]], dict[str, int]]:
    """incident id -> subscription id -> the fingerprint of the latest revision it was alerted about
    (what ``alerts.suppress`` keeps), from the alerts topic."""
    best: dict[tuple[str, str], tuple[int, tuple]] = {}
    counts = {"records": 0, "undecodable": 0}
    for r in records:
        counts["records"] += 1
        try:
            a = Alert.from_bytes(r.value)
        except (ValueError, TypeError):
            counts["undecodable"] += 1
            continue
        k = (a.incident_id, a.subscription_id)
        if k not in best or a.incident_revision >= best[k][0]:
            best[k] = (a.incident_revision, fingerprint(a.incident))
    out: dict[str, dict[str, tuple]] = {}
    for (inc_id, sub_id), (_rev, fp) in best.items():
        out.setdefault(inc_id, {})[sub_id] = fp
    counts["incidents"] = len(out)
    return out, counts


def resend_reopened(
    open_: list[tuple[Incident, str]], reopened: set[str], ev, out: Incident | None
) -> tuple[Incident | None, set[str]]:
    """(what to emit, reopened ids still not re-sent) after ``ev`` was clustered into ``open_``
    (``out``: what the clustering emits). A reopened incident that changed is re-sent by its new
    revision anyway; one that already held ``ev``'s article is re-sent as it is, once."""
    if out is not None:
        return out, reopened - {out.id}
    for inc, _text in open_:
        if inc.id in reopened and any(src.article_id == ev.article_id for src in inc.sources):
            return inc, reopened - {inc.id}
    return None, reopened


@dataclass
class Seeds:
    """One worker process's share of what was published: each key's part is taken once."""

    open: dict[str, list[OpenIncident]] = field(default_factory=dict)
    sent: dict[str, dict[str, tuple]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_open(self, theatre: str, at_s: float) -> list[tuple[Incident, str]]:
        """The open incidents of ``theatre`` as the clustering keeps them ((incident, text)), those
        still open at event time ``at_s``; none after the first call for the theatre."""
        with self._lock:
            found = self.open.pop(theatre, [])
        return [(o.incident, o.text) for o in found if o.last_s >= at_s - OPEN_WINDOW_S]

    def take_sent(self, incident_id: str) -> dict[str, tuple] | None:
        with self._lock:
            return self.sent.pop(incident_id, None)


WINDOWS_S = {"incidents": OPEN_WINDOW_S, "alerts": float(SENT_TTL_S)}

"""Matching cost per incident at 199 and 1,000 subscriptions, with the state a runner
keeps: the real stateful DoFns of ``pipeline/alerts.py`` driven with state cells that
encode and decode every read and write with Beam's PickleCoder (what Prism and Flink do
per element), after a history of incidents has built up.

    .venv/bin/python bench/bench_matching.py [--subs 199 1000] [--incidents 3000] [--before 7a4b1d8]

``--before REV`` also runs the matcher of that git revision (one state cell holding all
subscriptions, every alert ever sent and the 500 latest incidents; 0.44 s per element at
199 subscriptions was measured on it). Workloads (``subscriptions()``): ``spread``
(alerts per incident grow with the subscriptions) and ``fixed`` (20 alerts per incident
whatever the number of subscriptions); incidents over 20 countries, each revised 3
times, one a minute. Per-element time is over the last ``--window`` incidents (steady
state). Prints JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from apache_beam.coders import PickleCoder  # noqa: E402
from apache_beam.utils.timestamp import Timestamp  # noqa: E402

from strikewatch.core.models import Actor, Casualties, EventType, Incident, IncidentSource, Place, Subscription  # noqa: E402

CODER = PickleCoder()
COUNTRIES = [
    "Syria",
    "Iraq",
    "Yemen",
    "Lebanon",
    "Israel",
    "Iran",
    "Ukraine",
    "Russia",
    "Sudan",
    "Somalia",
    "Libya",
    "Mali",
    "Niger",
    "Nigeria",
    "Pakistan",
    "Afghanistan",
    "Myanmar",
    "Ethiopia",
    "Mozambique",
    "Burkina Faso",
]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Cell:
    """A ReadModifyWriteState cell as a runner keeps it: bytes, coded on every access."""

    def __init__(self):
        self.data: bytes | None = None

    def read(self):
        return None if self.data is None else CODER.decode(self.data)

    def write(self, value) -> None:
        self.data = CODER.encode(value)

    def clear(self) -> None:
        self.data = None

    def size(self) -> int:
        return len(self.data or b"")


class Bag:
    def __init__(self):
        self.items: list[bytes] = []

    def read(self):
        return (CODER.decode(b) for b in self.items)

    def add(self, value) -> None:
        self.items.append(CODER.encode(value))

    def clear(self) -> None:
        self.items = []

    def size(self) -> int:
        return sum(map(len, self.items))


class Timer:
    def set(self, _ts) -> None:
        pass


def subscriptions(n: int, workload: str) -> list[Subscription]:
    """``spread``: a tenth without filters, the rest on one of the 20 countries (alerts per
    incident grow with the subscriptions); ``fixed``: 20 match every incident, the rest
    filter on places that never occur (alerts per incident stay 20: the cost of the
    state and the matching alone)."""

    def countries(i: int) -> list[str]:
        if workload == "fixed":
            return [] if i < 20 else [f"Nowhere{i}"]
        return [] if i % 10 == 0 else [COUNTRIES[i % 20]]

    return [
        Subscription(
            id=f"sub{i}",
            owner=f"o{i % 37}",
            name=f"s{i}",
            countries=countries(i),
            webhook_url=f"https://hooks.example/{i}",
            created_at=T0 - timedelta(days=1),
        )
        for i in range(n)
    ]


def incidents(n: int, rng: random.Random) -> list[Incident]:
    out = []
    for k in range(n):
        ident, rev = k // 3, k % 3
        country = COUNTRIES[(ident * 7) % 20]
        at = T0 + timedelta(minutes=k)
        sources = [
            IncidentSource(event_id=f"e{ident}.{r}", article_id=f"a{ident}.{r}", source="feed", seen_at=at)
            for r in range(rev + 1)
        ]
        out.append(
            Incident(
                id=f"inc{ident}",
                revision=rev,
                event_type=EventType.AIR_STRIKE,
                attacker=Actor(name="Air Force", type="state_military"),
                places=[Place(name=f"town{ident}", country=country, lat=30.0, lon=40.0, precision="city")],
                casualties=Casualties(killed=rev * 2 or None, statement="reported" if rev else "unknown"),
                severity=0.5 + 0.1 * rev,
                sources=sources,
                source_count=rev + 1,
                first_seen_at=at - timedelta(minutes=rev),
            )
        )
    return out


def run_after(subs: list[Subscription], incs: list[Incident], window: int) -> dict:
    from pipeline.alerts import _MatchFn, _SuppressFn

    match, suppress = _MatchFn(), _SuppressFn()
    cells = {"subs": Cell(), "version": Cell(), "recent": Bag(), "added": Cell()}
    match.setup()
    sent: dict[str, Cell] = {}

    def step(kv, ts):
        return list(
            match.process(
                kv,
                timestamp=ts,
                subs_state=cells["subs"],
                version_state=cells["version"],
                recent_state=cells["recent"],
                added_state=cells["added"],
            )
        )

    for s in subs:
        step(("all", ("sub", (s.id, s))), Timestamp.of(T0.timestamp()))
    times, alerts = [], 0
    for inc in incs:
        ts = Timestamp.of(inc.sources[-1].seen_at.timestamp())
        t = time.perf_counter()
        for inc_id, payload in step(("all", ("inc", (inc, 0.3))), ts):
            payload = CODER.decode(CODER.encode(payload))  # the shuffle between the two steps
            cell = sent.setdefault(inc_id, Cell())
            alerts += len(list(suppress.process((inc_id, payload), timestamp=ts, sent_state=cell, expire=Timer())))
        times.append(time.perf_counter() - t)
    # Incidents whose timer fired by now (last revision SENT_TTL_S before the last element) hold no state.
    shared = sum(c.size() for c in cells.values())
    return _summary(times, window, alerts, len(incs), shared, max(c.size() for c in sent.values()))


def run_before(rev: str, subs: list[Subscription], incs: list[Incident], window: int) -> dict:
    git = ["git", "-C", str(REPO), "show", f"{rev}:pipeline/alerts.py"]
    src = subprocess.run(git, capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("alerts_before", loader=None)
    old = importlib.util.module_from_spec(spec)
    old.__dict__["__package__"] = "pipeline"
    sys.modules["alerts_before"] = old  # its Matcher is pickled into the state cell
    import strikewatch.core.metrics as metrics

    registry, metrics.REGISTRY = metrics.REGISTRY, metrics.CollectorRegistry()  # its counters apart from ours
    try:  # our own file at an older commit
        exec(compile(src, f"{rev}:pipeline/alerts.py", "exec"), old.__dict__)  # noqa: S102
    finally:
        metrics.REGISTRY = registry
    fn, cell = old._MatchFn(), Cell()
    for s in subs:
        list(fn.process(("all", ("sub", (s.id, s))), state=cell))
    times, alerts = [], 0
    for inc in incs:
        t = time.perf_counter()
        alerts += len(list(fn.process(("all", ("inc", (inc, 0.3))), state=cell)))
        times.append(time.perf_counter() - t)
    return _summary(times, window, alerts, len(incs), cell.size(), None)


def _summary(
    all_times: list[float],
    window: int,
    alerts: int,
    n: int,
    shared_state_bytes: int,
    per_incident_state_bytes: int | None,
) -> dict:
    first, times = all_times[window : 2 * window], sorted(all_times[-window:])
    out = {
        "per_incident_ms_mean": round(1000 * statistics.fmean(times), 3),
        "per_incident_ms_p95": round(1000 * times[int(0.95 * len(times))], 3),
        # The same measure early in the run: equal to the above when the cost does not grow with history.
        "per_incident_ms_mean_early": round(1000 * statistics.fmean(first), 3),
        "alerts_per_incident": round(alerts / n, 1),
        "shared_state_bytes": shared_state_bytes,
    }
    if per_incident_state_bytes is not None:
        out["largest_per_incident_state_bytes"] = per_incident_state_bytes
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subs", type=int, nargs="+", default=[199, 1000])
    ap.add_argument("--incidents", type=int, default=3000)
    ap.add_argument("--window", type=int, default=500, help="last N incidents timed")
    ap.add_argument("--workloads", nargs="+", default=["spread", "fixed"], choices=["spread", "fixed"])
    ap.add_argument("--before", default=None, help="git revision of the old matcher to compare (e.g. 7a4b1d8)")
    args = ap.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    rng = random.Random(13)
    incs = incidents(args.incidents, rng)
    result = {"incidents": args.incidents, "timed_last": args.window, "runs": {}}
    for workload in args.workloads:
        for n in args.subs:
            subs = subscriptions(n, workload)
            run = result["runs"][f"{workload}/{n}_subscriptions"] = {"after": run_after(subs, incs, args.window)}
            if args.before:
                run["before"] = run_before(args.before, subs, incs, args.window)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

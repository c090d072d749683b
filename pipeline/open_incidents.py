"""The open incidents of one theatre, indexed by day and place cell (pure logic, no Beam).

The clusterer (``pipeline/incidents.py``) asks which open incidents a new report could join.
Scanning them all cost a theatre's whole history per report; here the candidates are only the
incidents its rules (``incidents.required_similarity``) can admit, by each one's
``Footprint`` (family, day, places, attacker: read once, kept with the incident):

* **place**: a report located finer than a country meets the incidents whose first located
  place lies in a ``CELL_DEG`` grid cell within the clustering radius of its own, whose
  town-or-finer places lie in a cell within the same-place radius of its town-or-finer places,
  that name one of its towns, or that are located nowhere finer than a country;
* **day**: a report located nowhere finer than a country but dated to day D meets the
  incidents dated D-1..D+1 and the undated ones;
* a report with neither (no day, no town) meets all; never more than the ``MAX_CANDIDATES``
  incidents with the latest reports.

Each incident closes ``OPEN_FOR_HOURS`` (the caller's) after its last report (``expire``): the
index holds the last three days' incidents, not the history (before, a theatre with a report
every three days kept every incident it ever had, in one pickled list written per report).
As Beam state it pickles to each incident's JSON, cached until the incident changes, and loads
an incident only when a report meets it: a state write costs the incidents that changed.
``bench/bench_claims.py clustering`` measures a report's cost at 100k reports of history.

    index = OpenIncidents()
    for inc_id, text, foot in index.candidates(report_foot, day_gap=1, km=75, same_km=15): ...
    index.incident(inc_id)
    index.put(incident, text, foot, at)   # new or updated incident, its latest report at ``at``
    index.expire(before)                  # close incidents last reported before ``before``
"""

from __future__ import annotations

import heapq
import math
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from strikewatch.core.models import Incident

# Grid cell of the place index, in degrees (~110 km of latitude): a report's 75 km search
# touches at most 3 x 3 cells at the latitudes of today's theatres (up to ~60 degrees).
CELL_DEG = 1.0
KM_PER_DEG = 111.2
# A report is compared with at most this many open incidents, those with the latest reports
# (each costs one similarity: ~2 us from the embedding cache, ~10 ms when an incident's text
# is not in it). Only a report with no day and no town in a busy theatre has more: 1,000
# reports a day on 300 towns give a located one 40-65 (bench/bench_claims.py clustering).
MAX_CANDIDATES = 200


class Footprint(NamedTuple):
    """What the clustering rules compare of a report or an incident, read once (a tuple: it
    is pickled with every open incident)."""

    family: str | None  # weapon family: air (air and drone strikes), fire (missiles, shelling)
    day: date | None
    day_precise: bool  # dated to the day or finer
    located: tuple[float, float, bool] | None  # first place finer than a country: lat, lon, town or finer
    fine: tuple[tuple[float, float], ...]  # up to three town-or-finer points
    towns: frozenset[str]  # names of places finer than a province, lower case
    countries: frozenset[str]
    attacker: tuple[str, str | None] | None  # (name, type)
    has_places: bool
    outlets: frozenset[str] = frozenset()  # wire and publisher keys of its reports (claims/families.link_keys)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEG), math.floor(lon / CELL_DEG)


def cells_near(lat: float, lon: float, km: float) -> set[tuple[int, int]]:
    """The grid cells within ``km`` of a point (those of a box around it: a superset)."""
    dlat = km / KM_PER_DEG
    dlon = km / (KM_PER_DEG * max(math.cos(math.radians(lat)), 0.05))
    (la0, lo0), (la1, lo1) = _cell(lat - dlat, lon - dlon), _cell(lat + dlat, lon + dlon)
    return {(a, b) for a in range(la0, la1 + 1) for b in range(lo0, lo1 + 1)}


def index_keys(f: Footprint) -> tuple:
    """The index entries of an incident's footprint."""
    keys: list[tuple] = [("fam", f.family), ("day", f.family, f.day) if f.day else ("undated", f.family)]
    keys.append(("at", f.family, _cell(f.located[0], f.located[1])) if f.located else ("nowhere", f.family))
    keys += [("fine", f.family, _cell(lat, lon)) for lat, lon in f.fine]
    keys += [("town", f.family, t) for t in f.towns]
    return tuple(dict.fromkeys(keys))


@dataclass(slots=True)
class _Entry:
    seq: int
    text: str
    foot: Footprint
    keys: tuple
    last: datetime | None
    incident: Incident | None  # None until a report meets it after a load from state
    blob: bytes | None  # its JSON, None once it changed
    state: bytes | None = None  # the pickled entry, None once it changed


class OpenIncidents:
    """Open incidents in order of creation, with the indexes of ``candidates``. Iterating
    yields ``(incident, text)`` pairs."""

    def __init__(self):
        self._entries: dict[str, _Entry] = {}
        self._index: dict[tuple, set[str]] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._n = 0

    # ----------------------------------------------------------------- container

    def __iter__(self) -> Iterator[tuple[Incident, str]]:
        return iter([(self.incident(i), e.text) for i, e in list(self._entries.items())])

    def __len__(self) -> int:
        return len(self._entries)

    def incident(self, i: str) -> Incident:
        """The open incident of that id (read from its JSON the first time after a load)."""
        e = self._entries[i]
        if e.incident is None:
            e.incident = Incident.from_bytes(e.blob)
        return e.incident

    # ----------------------------------------------------------------- Beam state

    def __getstate__(self):
        # Each entry pickled once until its incident changes: a write pickles the changed ones
        # and copies the bytes of the rest (1,000 open incidents: ~1 ms, ~100 ms pickling all).
        out = []
        for i, e in self._entries.items():
            if e.state is None:
                if e.blob is None:
                    e.blob = e.incident.to_bytes()
                e.state = pickle.dumps((i, e.text, tuple(e.foot), e.last, e.blob), protocol=pickle.HIGHEST_PROTOCOL)
            out.append(e.state)
        return {"v": 1, "entries": out}

    def __setstate__(self, state):
        self.__init__()
        for raw in state["entries"]:
            i, text, foot, last, blob = pickle.loads(raw)
            foot = Footprint(*foot)
            keys = index_keys(foot)
            self._entries[i] = _Entry(self._n, text, foot, keys, last, None, blob, raw)
            self._n += 1
            for k in keys:
                self._index.setdefault(k, set()).add(i)
            if last is not None:
                self._heap.append((last, i))
        heapq.heapify(self._heap)

    # ----------------------------------------------------------------- updates

    def put(self, inc: Incident, text: str, foot: Footprint, at: datetime | None) -> None:
        """Add or replace an incident; ``at``: the time of its latest report (None: it never expires)."""
        i = inc.id
        e = self._entries.get(i)
        keys = index_keys(foot)
        if e is None:
            e = self._entries[i] = _Entry(self._n, text, foot, (), None, inc, None)
            self._n += 1
        elif e.incident is not inc:
            e.incident, e.blob = inc, None
        if (
            e.incident is inc
            and e.text == text
            and e.foot == foot
            and (at is None or (e.last is not None and at <= e.last))
        ):
            return
        e.text, e.foot, e.state = text, foot, None
        if keys != e.keys:
            self._unindex(i, set(e.keys) - set(keys))
            for k in set(keys) - set(e.keys):
                self._index.setdefault(k, set()).add(i)
            e.keys = keys
        if at is not None and (e.last is None or at > e.last):
            e.last = at
            heapq.heappush(self._heap, (at, i))

    def _unindex(self, i: str, keys) -> None:
        for k in keys:
            bucket = self._index.get(k)
            if bucket is not None:
                bucket.discard(i)
                if not bucket:
                    del self._index[k]

    def remove(self, incident_id: str) -> None:
        e = self._entries.pop(incident_id, None)
        if e is not None:
            self._unindex(incident_id, e.keys)

    def expire(self, before: datetime) -> list[str]:
        """Close the incidents whose latest report is older than ``before``; their ids."""
        gone = []
        while self._heap and self._heap[0][0] < before:
            at, i = heapq.heappop(self._heap)
            e = self._entries.get(i)
            if e is not None and e.last == at:  # else a later report moved it: a stale heap entry
                self.remove(i)
                gone.append(i)
        return gone

    # ----------------------------------------------------------------- search

    def _ids(self, keys) -> set[str]:
        out: set[str] = set()
        for k in keys:
            bucket = self._index.get(k)
            if bucket:
                out |= bucket
        return out

    def candidates(self, f: Footprint, *, day_gap: int, km: float, same_km: float) -> list[tuple[str, str, Footprint]]:
        """(id, text, footprint) of the open incidents a report of footprint ``f`` could join,
        in order of creation:
        those of its days (``day_gap`` either side) and of the cells within ``km`` of its first
        located place or ``same_km`` of its towns (a superset of what the rules admit), the
        ``MAX_CANDIDATES`` latest when more."""
        fam = f.family
        if f.located:
            # The cells first: a few buckets; the day is then the rules' cheap first test.
            keys = [("nowhere", fam)] + [("at", fam, c) for c in cells_near(f.located[0], f.located[1], km)]
            for lat, lon in f.fine:
                keys += [("fine", fam, c) for c in cells_near(lat, lon, same_km)]
            keys += [("town", fam, t) for t in f.towns]
            ids = self._ids(keys)
        elif f.day:
            # Located nowhere finer than a country: any place is compatible (the rules compare
            # countries only), so the days bound it.
            ids = self._ids(
                [("undated", fam)] + [("day", fam, f.day + timedelta(days=k)) for k in range(-day_gap, day_gap + 1)]
            )
        else:
            ids = self._ids([("fam", fam)])
        if len(ids) > MAX_CANDIDATES:
            ids = heapq.nlargest(MAX_CANDIDATES, ids, key=self._recency)
        entries = sorted((self._entries[i].seq, i) for i in ids)
        return [(i, self._entries[i].text, self._entries[i].foot) for _s, i in entries]

    def _recency(self, i: str) -> tuple:
        e = self._entries[i]
        return (e.last is not None, e.last.timestamp() if e.last else 0.0, e.seq)

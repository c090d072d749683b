"""Scoring "where": how far the drawn point is from the coded one, and the country.

    tally = PlaceTally()
    tally.add(events_of_one_gold_strike, gold_lat=48.6, gold_lon=38.7, gold_country="Ukraine")
    tally.summary()  # {"n", "km_median", "within_25km", "pointless", "capital_misses",
                     #  "country_accuracy", "country_accuracy_placed", ...}

Per detected gold strike, on its first asserted strike event (what a subscriber sees first):

* the drawn point is ``assemble.drawn_place`` (the first place with a point: what the store,
  the map and the exports take). ``km`` is its great-circle distance to the coded point; a
  strike with no point counts as a miss for ``within_25km`` (share of strikes with a coded
  point drawn within ``WITHIN_KM``) and is left out of ``km_median``, which is over drawn
  strikes; ``pointless`` is the share with no point at all (honest, not wrong);
* ``capital_misses``: strikes drawn within ``CAPITAL_RADIUS_KM`` of a national capital whose
  coded point is more than ``CAPITAL_MISS_KM`` from it (the old fallback drew unknown
  villages on the capital). Without a coded point, a capital point counts as a miss when
  the capital is named nowhere in the text;
* ``country_accuracy``: the event's country (its first place with one) is the coded
  country, over all detected strikes; ``country_accuracy_placed`` the same over strikes
  that got a country at all.
"""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from strikewatch.core.models import STRIKE_TYPES, Event, Modality

from . import lookups as _geo
from .assemble import drawn_place
from .distance import distance_km
from .resolve import normalize_country

# The folds' seed of every out-of-fold score of the place choice (train.py).
SEED = 13

# The distance at which a drawn strike is "where it landed" (km): a village's own point vs
# GeoNames' is within a few km; 25 km is the issue's bar (a district).
WITHIN_KM = 25.0
# A point this close to a national capital is "drawn on the capital" (km).
CAPITAL_RADIUS_KM = 10.0
# ... and the strike did not hit it when its coded point is further than this (km).
CAPITAL_MISS_KM = 50.0


def event_country(ev: Event) -> str | None:
    """ISO2 of the event's first place with a country."""
    for p in ev.places:
        if p.country_code:
            return p.country_code
        if p.country:
            hit = normalize_country(p.country)
            if hit:
                return hit[1]
    return None


def capital_at(lat: float, lon: float) -> str | None:
    """ISO2 of the national capital within ``CAPITAL_RADIUS_KM`` of a point, else None."""
    for iso, (clat, clon) in _geo.gazetteer_capitals().items():
        if abs(clat - lat) < 0.5 and distance_km(lat, lon, clat, clon) <= CAPITAL_RADIUS_KM:
            return iso
    return None


@dataclass
class PlaceTally:
    n: int = 0  # detected gold strikes
    with_gold_point: int = 0
    within: int = 0
    pointless: int = 0
    capital_misses: int = 0
    country_scored: int = 0
    country_ok: int = 0
    country_placed: int = 0
    country_placed_ok: int = 0
    inferred: int = 0
    km: list[float] = field(default_factory=list)

    def add(
        self,
        strikes: Sequence[Event],
        *,
        gold_lat: float | None = None,
        gold_lon: float | None = None,
        gold_country: str | None = None,
        text: str = "",
    ) -> None:
        """One detected gold strike: ``strikes`` are its asserted strike events (first scored)."""
        if not strikes:
            return
        ev = strikes[0]
        self.n += 1
        p = drawn_place(ev.places)
        gold_point = gold_lat is not None and gold_lon is not None
        if p is None:
            self.pointless += 1
        if gold_point:
            self.with_gold_point += 1
            if p is not None:
                d = distance_km(p.lat, p.lon, float(gold_lat), float(gold_lon))
                self.km.append(d)
                self.within += d <= WITHIN_KM
        if p is not None:
            cap = capital_at(p.lat, p.lon)
            if cap is not None:
                if gold_point:
                    clat, clon = _geo.gazetteer_capitals()[cap]
                    self.capital_misses += distance_km(clat, clon, float(gold_lat), float(gold_lon)) > CAPITAL_MISS_KM
                elif not _geo.names_capital(text, cap):
                    self.capital_misses += 1
        gold = normalize_country(gold_country or "")
        if gold is not None:
            self.country_scored += 1
            got = event_country(ev)
            self.country_ok += got == gold[1]
            if got is not None:
                self.country_placed += 1
                self.country_placed_ok += got == gold[1]
                self.inferred += any(q.inferred for q in ev.places[:1])

    def summary(self) -> dict:
        def r(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "n": self.n,
            "km_median": round(statistics.median(self.km), 1) if self.km else None,
            "within_25km": r(self.within, self.with_gold_point),
            "with_gold_point": self.with_gold_point,
            "pointless": r(self.pointless, self.n),
            "capital_misses": self.capital_misses,
            "country_accuracy": r(self.country_ok, self.country_scored),
            "country_accuracy_placed": r(self.country_placed_ok, self.country_placed),
            "country_inferred": r(self.inferred, self.country_placed),
        }


def gold_point(rec: dict) -> tuple[float | None, float | None]:
    """The coded point of a dev record: ACLED's lat/lon, or Airwars' ``gold_raw.latlng`` ("lat, lon")."""
    if rec.get("lat") is not None and rec.get("lon") is not None:
        return float(rec["lat"]), float(rec["lon"])
    latlng = (rec.get("gold_raw") or {}).get("latlng")
    if isinstance(latlng, str) and "," in latlng:
        try:
            a, b = (float(x) for x in latlng.split(",")[:2])
            return a, b
        except ValueError:
            pass
    return None, None


def is_gold_strike(rec: dict) -> bool:
    """A dev record that reports a strike: an ACLED strike sub-type, or a news2 ``strike`` label."""
    if "label" in rec:
        return rec.get("label") == "strike"
    return rec.get("sub_event_type") in ("Air/drone strike", "Shelling/artillery/missile attack")


def score_where_when(records: Sequence[dict], predictions: Sequence[Sequence[Event]], source_of=None) -> dict:
    """Place and date scores over the detected gold strikes of ACLED-shaped or news2-shaped
    records, overall and per source: {"place": {...}, "time": {...}, "by_source": {src: {...}}}."""
    from ..time.scorer import TimeTally

    source_of = source_of or (lambda r: (r.get("source") or "?").split("@", 1)[0])
    tallies: dict[str, tuple[PlaceTally, TimeTally]] = {}
    total = (PlaceTally(), TimeTally())
    for rec, events in zip(records, predictions, strict=True):
        if not is_gold_strike(rec):
            continue
        strikes = asserted_strikes(events)
        if not strikes:
            continue
        lat, lon = gold_point(rec)
        for pt, tt in (total, tallies.setdefault(source_of(rec), (PlaceTally(), TimeTally()))):
            pt.add(strikes, gold_lat=lat, gold_lon=lon, gold_country=rec.get("country"), text=rec.get("text") or "")
            tt.add(strikes, gold_date=rec.get("event_date"))
    return {
        "place": total[0].summary(),
        "time": total[1].summary(),
        "by_source": {k: {"place": p.summary(), "time": t.summary()} for k, (p, t) in sorted(tallies.items())},
    }


def cross_validated_where(records: Sequence[dict], extract, folds: int = 5, extra: Sequence[dict] = ()) -> dict:
    """``score_where_when`` with the learned parts out of fold: each fold's records are
    extracted with the theatre prior fit on the other folds (``fold_of``) and on
    ``extra`` (the other dev sets it ships trained on). ``extract(records) -> predictions``."""
    from . import theatre

    preds: dict[int, list] = {}
    for k in range(folds):
        idx = [i for i, r in enumerate(records) if fold_of(r["id"], folds) == k]
        train = [r for r in records if fold_of(r["id"], folds) != k] + list(extra)
        model = theatre.from_json(theatre.fit(theatre.examples_from(train)))
        with theatre.override(model):
            for i, p in zip(idx, extract([records[i] for i in idx])):
                preds[i] = p
    return score_where_when(records, [preds[i] for i in range(len(records))])


def fold_of(record_id: str, folds: int, seed: int = SEED) -> int:
    return int(hashlib.sha1(f"{seed}:{record_id}".encode()).hexdigest(), 16) % folds


def asserted_strikes(events: Iterable[Event]) -> list[Event]:
    return [e for e in events if e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED]

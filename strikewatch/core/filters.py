"""Which incidents a reader wants: the one meaning of "an incident matches a filter".

    f = IncidentFilter(countries=("Syria",), bbox=(35, 32, 43, 38), since=datetime(2024, 1, 1, tzinfo=UTC))
    f.matches(incident_keys(incident))            # subscriptions (pipeline/alerts.py), /v1/stream
    where, params = f.to_sql("incidents")         # /v1/incidents and /v1/events pages (store/queries.py)

Both sides read the same ``Keys``: the filter columns the store writes are ``incident_keys`` /
``event_keys`` of the record (``store/db.py``), so SQL and Python cannot disagree about a value
(a property test checks them on random incidents and filters: tests/strikewatch/core/test_filters.py).
The meaning, field by field:

* ``since`` (inclusive) / ``until`` (exclusive): the event time (``event_time``); a record with
  none matches neither.
* ``countries``: any place's country name or ISO code, case-insensitive.
* ``actors``: the attacker's or a target's name, whole and case-insensitive ("hezbollah" is not
  "Kataib Hezbollah": a substring rule made "us" match "Houthis").
* ``bbox`` (min_lon, min_lat, max_lon, max_lat): any located place inside, edges included; a
  place with no point (unresolved, or known only to its country) is in no box.
* ``event_types``, ``languages``, ``grades``, ``modalities``: any of them.
* ``min_severity``, ``min_sources``, ``min_independent_sources``: at least; a record with no
  severity has none.
* ``contested``: exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Any, Literal, NamedTuple

from psycopg import sql
from pydantic import AwareDatetime, BaseModel, ConfigDict

from strikewatch.core.models import Actor, Event, EventTime, Incident, Place, Subscription

# The sort key of a record nothing dates (no event time, no publication): it sorts after every
# dated one and no ``since`` or ``until`` reaches it. Never the time it was stored or seen: that put
# undated reports first on the map as the newest strikes.
UNDATED = datetime(1, 1, 1, tzinfo=UTC)

# The page index (store migrations 0002, 0006) INCLUDEs the key arrays, and PostgreSQL refuses an
# index row over 2,712 bytes (SQLSTATE 54000): one 3,000-letter target name did that, and 400
# targets or 200 place countries would too. Each array keeps whole values, in order, up to its
# budget (with the id, the sort key and the other columns, ~2,000 bytes at most); the record keeps
# them all, and ``matches`` reads the same bounded keys as the SQL.
COUNTRIES_BYTES = 400
ACTORS_BYTES = 1000
LANGUAGES_MOST = 16  # the pipeline reads six
POINTS_MOST = 20  # 20 x 2 doubles: 320 bytes
# Boxes up to this many square degrees (10x10) are asked of the GiST index on the points' bounding
# box; larger ones are answered on the newest-first page walk. PostgreSQL estimates any box overlap
# at 0.5 % of rows, so it would sort every match of a large box: 20x20 over the Middle East, 3.8k of
# 100k incidents: GiST 18 ms, page walk 5.8 ms; 2x2 at the Iraqi-Syrian border: GiST 0.15 ms, page
# walk 140 ms (it reads nearly every row).
BBOX_GIST_MAX_DEG2 = 100.0


class Keys(NamedTuple):
    """What a filter reads of one incident or event: the store's filter columns."""

    event_at: datetime
    event_type: str
    countries: tuple[str, ...]
    actors: tuple[str, ...]
    languages: tuple[str, ...]
    points: tuple[tuple[float, float], ...]  # (lon, lat) of every located place
    severity: float | None = None
    source_count: int | None = None
    independent_sources: int | None = None
    contested: bool | None = None
    grade: str | None = None
    modality: str | None = None


def bounded(values: Iterable[str], budget: int) -> tuple[str, ...]:
    """Distinct ``values`` in order, skipping any that would take the list past ``budget`` bytes as
    PostgreSQL stores a text[] element (4 bytes of header + UTF-8)."""
    out: list[str] = []
    used = 0
    for v in dict.fromkeys(values):
        size = 4 + len(v.encode("utf-8"))
        if used + size <= budget:
            out.append(v)
            used += size
    return tuple(out)


def event_time(t: EventTime, published: datetime | None) -> datetime:
    """Event time: ``time.start``, else ``time.date`` 00:00 UTC, else when it was published, else UNDATED."""
    if t.start is not None:
        return t.start
    if t.date is not None:
        return datetime.combine(t.date, time(0), tzinfo=UTC)
    return published or UNDATED


def country_keys(places: list[Place]) -> tuple[str, ...]:
    return bounded((v.lower() for p in places for v in (p.country, p.country_code) if v), COUNTRIES_BYTES)


def actor_keys(attacker: Actor | None, targets: Iterable[Actor]) -> tuple[str, ...]:
    return bounded((a.name.lower() for a in ([attacker] if attacker else []) + list(targets)), ACTORS_BYTES)


def language_keys(codes: Iterable[str | None]) -> tuple[str, ...]:
    """Distinct ISO 639-1 codes, in order (an incident reported in English and Russian: en, ru)."""
    return tuple(dict.fromkeys(c.lower() for c in codes if c))[:LANGUAGES_MOST]


def point_keys(places: list[Place]) -> tuple[tuple[float, float], ...]:
    return tuple(dict.fromkeys((p.lon, p.lat) for p in places if p.lat is not None and p.lon is not None))[:POINTS_MOST]


def incident_keys(inc: Incident) -> Keys:
    published = min((s.published_at for s in inc.sources if s.published_at), default=None)
    return Keys(
        event_at=event_time(inc.time, published),
        event_type=str(inc.event_type),
        countries=country_keys(inc.places),
        actors=actor_keys(inc.attacker, inc.targets),
        languages=language_keys(s.language for s in inc.sources),
        points=point_keys(inc.places),
        severity=inc.severity,
        source_count=inc.source_count or len(inc.sources),
        independent_sources=inc.independent_sources or 1,
        contested=inc.contested,
        grade=inc.grade,
    )


def event_keys(ev: Event) -> Keys:
    return Keys(
        event_at=event_time(ev.time, ev.article_published_at),
        event_type=str(ev.event_type),
        countries=country_keys(ev.places),
        actors=actor_keys(ev.attacker, ev.targets),
        languages=language_keys([ev.language]),
        points=point_keys(ev.places),
        modality=str(ev.modality),
    )


def _lower(values: Iterable[str]) -> tuple[str, ...]:
    # A value holding a NUL matches nothing stored (PostgreSQL text cannot hold one, nor take it as a parameter).
    return tuple(v.lower() for v in values if "\x00" not in v)


class IncidentFilter(BaseModel):
    """A reader's filter (module docstring: what each field means). Fields that are not set filter
    nothing. ``table`` "events" reads ``modalities`` and not the incident-only fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    countries: tuple[str, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    event_types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    min_severity: float | None = None  # incidents only
    min_sources: int | None = None  # incidents only
    min_independent_sources: int | None = None  # incidents only: outlet families (issue 21)
    contested: bool | None = None  # incidents only
    grades: tuple[str, ...] = ()  # incidents only
    modalities: tuple[str, ...] = ()  # events only

    @classmethod
    def of_subscription(cls, sub: Subscription) -> IncidentFilter:
        """What a subscription asks of an incident (its ``min_escalation`` is not the incident's: the
        matcher checks it beside this). A minimum of 0 filters nothing."""
        return cls(
            event_types=tuple(str(e) for e in sub.event_types),
            actors=tuple(sub.actors),
            countries=tuple(sub.countries),
            bbox=sub.bbox,
            min_severity=sub.min_severity or None,
            min_independent_sources=sub.min_independent_sources or None,
            contested=sub.contested,
            grades=tuple(sub.grades),
        )

    def matches(self, k: Keys, table: Literal["incidents", "events"] = "incidents") -> bool:
        if (self.since or self.until) and k.event_at == UNDATED:
            return False
        if (self.since and k.event_at < self.since) or (self.until and k.event_at >= self.until):
            return False
        if self.countries and not set(_lower(self.countries)) & set(k.countries):
            return False
        if self.actors and not set(_lower(self.actors)) & set(k.actors):
            return False
        if self.event_types and k.event_type not in self.event_types:
            return False
        if self.languages and not set(_lower(self.languages)) & set(k.languages):
            return False
        if self.bbox:
            x0, y0, x1, y1 = self.bbox
            if not any(x0 <= lon <= x1 and y0 <= lat <= y1 for lon, lat in k.points):
                return False
        if table == "events":
            return not self.modalities or k.modality in self.modalities
        return (
            (self.min_severity is None or (k.severity is not None and k.severity >= self.min_severity))
            and (self.min_sources is None or (k.source_count or 0) >= self.min_sources)
            and (self.min_independent_sources is None or (k.independent_sources or 0) >= self.min_independent_sources)
            and (self.contested is None or k.contested is self.contested)
            and (not self.grades or k.grade in self.grades)
        )

    def to_sql(self, table: Literal["incidents", "events"] = "incidents") -> tuple[list[sql.Composable], list[Any]]:
        """The filter as SQL conditions over the store's filter columns (to be AND-ed) and their parameters."""
        conds: list[sql.Composable] = []
        params: list[Any] = []

        def add(cond: str, *ps: Any) -> None:
            conds.append(sql.SQL(cond))
            params.extend(ps)

        if self.since or self.until:
            add("event_at > %s", UNDATED)
        if self.since:
            add("event_at >= %s", self.since)
        if self.until:
            add("event_at < %s", self.until)
        if self.countries:
            add("countries && %s::text[]", list(_lower(self.countries)))
        if self.actors:
            add("actors && %s::text[]", list(_lower(self.actors)))
        if self.event_types:
            add("event_type = ANY(%s::text[])", list(self.event_types))
        if self.languages:
            add("languages && %s::text[]", list(_lower(self.languages)))
        if self.bbox:
            x0, y0, x1, y1 = self.bbox
            if (x1 - x0) * (y1 - y0) <= BBOX_GIST_MAX_DEG2:  # the points' bounding box finds candidates
                add("bounds && box(point(%s, %s), point(%s, %s))", x0, y0, x1, y1)
            add(
                "EXISTS (SELECT 1 FROM unnest(lons, lats) AS p(x, y) "
                "WHERE x BETWEEN %s AND %s AND y BETWEEN %s AND %s)",
                x0,
                x1,
                y0,
                y1,
            )
        if table == "events":
            if self.modalities:
                add("modality = ANY(%s::text[])", list(self.modalities))
            return conds, params
        if self.min_severity is not None:
            add("severity >= %s", self.min_severity)
        if self.min_sources is not None:
            add("source_count >= %s", self.min_sources)
        if self.min_independent_sources is not None:
            add("independent_sources >= %s", self.min_independent_sources)
        if self.contested is not None:
            add("contested = %s", self.contested)
        if self.grades:
            add("grade = ANY(%s::text[])", list(self.grades))
        return conds, params

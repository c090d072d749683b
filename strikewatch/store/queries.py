"""What the read API asks the store: filtered, keyset-paginated pages, one incident with its
revisions, events and tit-for-tat chain, and escalation series. Async (psycopg 3).

Pages are newest first by event time, ``ORDER BY event_at DESC, id DESC``, continued with
``(event_at, id) < (cursor)``: the ``*_page`` indexes answer any page in the same time, however
deep (an OFFSET would scan every row before it). The cursor is opaque to clients: base64 of the
last row's event time and id.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import AsyncConnection, sql

from ..errors import StrikewatchError

# Boxes up to this many square degrees (10x10) use the GiST index; larger ones the column
# statistics. PostgreSQL estimates any `point <@ box` at 0.5 % of rows, so for a large box it
# sorts every match: 20x20 over the Middle East, 3.8k of 100k incidents: GiST 18 ms, BETWEEN
# 5.8 ms; 2x2 at the Iraqi-Syrian border: GiST 0.15 ms, BETWEEN 140 ms (a sequential scan).
BBOX_GIST_MAX_DEG2 = 100.0


class BadCursor(StrikewatchError, ValueError):
    """A cursor this API did not hand out (or from an older shape)."""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # event time, inclusive
    until: datetime | None = None  # event time, exclusive
    countries: tuple[str, ...] = ()  # ACLED country names or ISO2 codes, any of
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    event_types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()  # attacker or target, exact name, case-insensitive, any of
    min_severity: float | None = None  # incidents only
    min_sources: int | None = None  # incidents only
    min_independent_sources: int | None = None  # incidents only: outlet families (issue 21)
    contested: bool | None = None  # incidents only
    grades: tuple[str, ...] = ()  # incidents only: any of confirmed, corroborated, single_source, contested
    modalities: tuple[str, ...] = ()  # events only


def encode_cursor(event_at: datetime, id_: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([event_at.isoformat(), id_]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, id_ = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(at), str(id_)
    except (ValueError, TypeError) as e:
        raise BadCursor(f"not a cursor from this API: {cursor[:40]!r}") from e


@dataclass
class Page:
    rows: list[tuple[datetime, str, str]] = field(default_factory=list)  # (event_at, id, record as JSON text)
    next_cursor: str | None = None

    @property
    def records(self) -> list[dict]:
        return [json.loads(r[2]) for r in self.rows]


def _where(f: Filters, table: str, cursor: str | None) -> tuple[sql.Composable, list]:
    conds: list[sql.Composable] = []
    params: list = []

    def add(cond: str, *ps) -> None:
        conds.append(sql.SQL(cond))
        params.extend(ps)

    if f.since:
        add("event_at >= %s", f.since)
    if f.until:
        add("event_at < %s", f.until)
    if f.countries:
        add("countries && %s::text[]", [c.lower() for c in f.countries])
    if f.actors:
        add("actors && %s::text[]", [a.lower() for a in f.actors])
    if f.event_types:
        add("event_type = ANY(%s::text[])", list(f.event_types))
    if f.bbox:
        x0, y0, x1, y1 = f.bbox
        if (x1 - x0) * (y1 - y0) <= BBOX_GIST_MAX_DEG2:
            add("lat IS NOT NULL AND point(lon, lat) <@ box(point(%s, %s), point(%s, %s))", x0, y0, x1, y1)
        else:
            add("lon BETWEEN %s AND %s AND lat BETWEEN %s AND %s", x0, x1, y0, y1)
    if table == "incidents":
        if f.min_severity is not None:
            add("severity >= %s", f.min_severity)
        if f.min_sources is not None:
            add("source_count >= %s", f.min_sources)
        if f.min_independent_sources is not None:
            add("independent_sources >= %s", f.min_independent_sources)
        if f.contested is not None:
            add("contested = %s", f.contested)
        if f.grades:
            add("grade = ANY(%s::text[])", list(f.grades))
    if table == "events" and f.modalities:
        add("modality = ANY(%s::text[])", list(f.modalities))
    if cursor:
        at, id_ = decode_cursor(cursor)
        add("(event_at, id) < (%s, %s)", at, id_)
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL("")
    return where, params


async def page(conn: AsyncConnection, table: str, f: Filters, limit: int, cursor: str | None = None) -> Page:
    """One page of ``incidents`` or ``events`` (the latest record of each), newest first."""
    assert table in ("incidents", "events")
    where, params = _where(f, table, cursor)
    # The page's keys first, the records after: selecting the record in the filtering scan
    # serialises it for every matching row before the sort keeps 50 (a bbox matching 4.5k of
    # 100k incidents: 140 ms that way, 3 ms this way; bench/bench_api.py).
    q = sql.SQL(
        "SELECT p.event_at, p.id, t.record::text"
        " FROM (SELECT event_at, id FROM {t}{w} ORDER BY event_at DESC, id DESC LIMIT %s) AS p "
        "JOIN {t} AS t ON t.id = p.id ORDER BY p.event_at DESC, p.id DESC"
    ).format(t=sql.Identifier(table), w=where)
    # Binary results: psycopg parses 51 text timestamptz values for ~0.1 ms of the API's CPU per page
    # (0.40 -> 0.29 ms client time for an actor page); the records are the same text either way.
    cur = await conn.execute(q, [*params, limit + 1], binary=True)
    rows = await cur.fetchall()
    out = Page(rows=rows[:limit])
    if len(rows) > limit:
        out.next_cursor = encode_cursor(rows[limit - 1][0], rows[limit - 1][1])
    return out


async def incident(conn: AsyncConnection, incident_id: str) -> dict | None:
    """The incident's latest record, every revision, the events behind it, its sources and the
    tit-for-tat chain it is part of (the latest escalation score listing it)."""
    cur = await conn.execute("SELECT record, stored_at FROM incidents WHERE id = %s", (incident_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    record, stored_at = row
    cur = await conn.execute(
        "SELECT record FROM incident_revisions WHERE incident_id = %s ORDER BY revision", (incident_id,)
    )
    revisions = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute(
        "SELECT e.record FROM incident_events ie JOIN events e ON e.id = ie.event_id"
        " WHERE ie.incident_id = %s ORDER BY e.event_at, e.id",
        (incident_id,),
    )
    events = [r[0] for r in await cur.fetchall()]
    cur = await conn.execute(
        "SELECT record FROM escalation WHERE chain @> ARRAY[%s]::text[] ORDER BY at DESC, scope LIMIT 1", (incident_id,)
    )
    score = await cur.fetchone()
    chain: list[dict] = []
    if score is not None:
        ids = score[0]["tit_for_tat_chain"]
        cur = await conn.execute("SELECT id, record FROM incidents WHERE id = ANY(%s::text[])", (ids,))
        found = {r[0]: r[1] for r in await cur.fetchall()}
        chain = [summary(found[i]) if i in found else {"id": i} for i in ids]
    cur = await conn.execute(
        "SELECT record FROM escalation WHERE scope = 'theatre' AND key = %s ORDER BY at DESC LIMIT 1",
        (record.get("theatre") or "",),
    )
    theatre = await cur.fetchone()
    return {
        "incident": record,
        "stored_at": stored_at.isoformat(),
        "revisions": revisions,
        "events": events,
        "sources": record["sources"],
        "tit_for_tat": {"score": score[0] if score else None, "chain": chain},
        "theatre_escalation": theatre[0] if theatre else None,
    }


def summary(rec: dict) -> dict:
    """A few fields of an incident record, for chains and lists."""
    return {
        "id": rec["id"],
        "revision": rec["revision"],
        "event_type": rec["event_type"],
        "date": (rec.get("time") or {}).get("date"),
        "attacker": (rec.get("attacker") or {}).get("name"),
        "targets": [t["name"] for t in rec.get("targets", [])],
        "places": [p["name"] for p in rec.get("places", [])],
        "theatre": rec.get("theatre"),
    }


async def escalation(
    conn: AsyncConnection, scope: str, key: str | None, since: datetime | None, until: datetime | None, limit: int
) -> list[dict]:
    """A key's scores over time (oldest first), or without a key the latest score of every key."""
    if key is None:
        q = (
            "SELECT record FROM (SELECT DISTINCT ON (key) key, value, record FROM escalation"
            " WHERE scope = %s ORDER BY key, at DESC) AS latest "
            "ORDER BY value DESC, key LIMIT %s"
        )
        cur = await conn.execute(q, (scope, limit))
    else:
        q = (
            "SELECT record FROM (SELECT at, record FROM escalation WHERE scope = %s AND key = %s"
            " AND at >= coalesce(%s::timestamptz, '-infinity') "
            "AND at < coalesce(%s::timestamptz, 'infinity') ORDER BY at DESC LIMIT %s) AS s ORDER BY at"
        )
        cur = await conn.execute(q, (scope, key, since, until, limit))
    return [r[0] for r in await cur.fetchall()]


async def latest(conn: AsyncConnection, incident_id: str) -> str | None:
    """The incident's latest record as JSON text (for the stream)."""
    cur = await conn.execute("SELECT record::text FROM incidents WHERE id = %s", (incident_id,))
    row = await cur.fetchone()
    return row[0] if row else None

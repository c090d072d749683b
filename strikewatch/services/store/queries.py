"""What the read API asks the store: filtered, keyset-paginated pages, one incident with its
revisions, events and tit-for-tat chain, and escalation series. Async (psycopg 3).

Pages are newest first by event time, ``ORDER BY event_at DESC, id DESC``, continued with
``(event_at, id) < (cursor)``: the ``*_page`` indexes answer any page in the same time, however
deep (an OFFSET would scan every row before it). The cursor names the last row's position
(``encode_cursor``: its event time and id). The stream (``/v1/stream``) reads incidents by
``stream_seq`` (migration 0004): each batch of notified ones, or what moved after a client's
Last-Event-ID.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from psycopg import AsyncConnection, sql

from strikewatch.core.errors import StrikewatchError
from strikewatch.core.filters import IncidentFilter


class BadCursor(StrikewatchError, ValueError):
    """A cursor this API did not hand out (or from an older shape)."""


# A cursor is a position in the newest-first order: the last row's event time (microseconds since 1970,
# UTC) and its id (hex of its UTF-8), "1624838400000000.695f303030303035". Every string of this form is a
# position, so a cursor the API did not hand out still pages from where it points; anything else is a 400.
CURSOR_PATTERN = r"^-?[0-9]{1,18}\.(?:[0-9a-f]{2}){0,512}$"
_CURSOR_RE = re.compile(CURSOR_PATTERN)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The positions a cursor may name: datetime's own range (less a day each side).
_CURSOR_MIN = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
_CURSOR_MAX = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def encode_cursor(event_at: datetime, id_: str) -> str:
    return f"{(event_at - EPOCH) // timedelta(microseconds=1)}.{id_.encode().hex()}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    # The old cursors were base64 JSON: json.loads of a forged '[' x 3000 recursed out and answered 500.
    # This one is checked by a regular expression before anything reads it.
    if not _CURSOR_RE.fullmatch(cursor):
        raise BadCursor(f"not a cursor from this API: {cursor[:40]!r}")
    micros, _, hexid = cursor.partition(".")
    try:
        at = EPOCH + timedelta(microseconds=int(micros))
    except OverflowError:
        at = _CURSOR_MIN if micros.startswith("-") else _CURSOR_MAX
    at = min(max(at, _CURSOR_MIN), _CURSOR_MAX)
    # Not UTF-8, or a NUL (which PostgreSQL text cannot hold): still a position, just no stored id's.
    return at, bytes.fromhex(hexid).decode("utf-8", "replace").replace("\x00", "\ufffd")


@dataclass
class Page:
    rows: list[tuple[datetime, str, str]] = field(default_factory=list)  # (event_at, id, record as JSON text)
    next_cursor: str | None = None

    @property
    def records(self) -> list[dict]:
        return [json.loads(r[2]) for r in self.rows]


def _where(f: IncidentFilter, table: str, cursor: str | None) -> tuple[sql.Composable, list]:
    conds, params = f.to_sql(table)
    if cursor is not None:
        at, id_ = decode_cursor(cursor)
        conds.append(sql.SQL("(event_at, id) < (%s, %s)"))
        params.extend([at, id_])
    where = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds) if conds else sql.SQL("")
    return where, params


async def page(conn: AsyncConnection, table: str, f: IncidentFilter, limit: int, cursor: str | None = None) -> Page:
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


async def stream_rows(conn: AsyncConnection, ids: list[str]) -> list[tuple[int, str, str]]:
    """(stream_seq, id, record as JSON text) of these incidents' current rows, in stream order (for /v1/stream:
    one query per batch of notifications, whatever the number of clients)."""
    cur = await conn.execute(
        "SELECT stream_seq, id, record::text FROM incidents WHERE id = ANY(%s::text[]) ORDER BY stream_seq", (ids,)
    )
    return await cur.fetchall()


async def stream_head(conn: AsyncConnection) -> int:
    """The latest stream_seq taken (0 when there is none)."""
    cur = await conn.execute("SELECT coalesce(max(stream_seq), 0) FROM incidents")
    return (await cur.fetchone())[0]


async def changed_since(
    conn: AsyncConnection, f: IncidentFilter, after: int, limit: int
) -> tuple[list[tuple[int, str, str]], bool]:
    """The incidents matching ``f`` that moved after stream_seq ``after``: (rows in stream order, at most
    ``limit`` of the latest; True if there were more)."""
    where, params = _where(f, "incidents", None)
    joiner = sql.SQL(" WHERE ") if where == sql.SQL("") else sql.SQL(" AND ")
    q = sql.SQL(
        "SELECT stream_seq, id, record::text FROM incidents{w}{j}stream_seq > %s ORDER BY stream_seq DESC LIMIT %s"
    ).format(w=where, j=joiner)
    rows = await (await conn.execute(q, [*params, after, limit + 1])).fetchall()
    return rows[:limit][::-1], len(rows) > limit


async def latest(conn: AsyncConnection, incident_id: str) -> str | None:
    """The incident's latest record as JSON text (for the stream)."""
    cur = await conn.execute("SELECT record::text FROM incidents WHERE id = %s", (incident_id,))
    row = await cur.fetchone()
    return row[0] if row else None

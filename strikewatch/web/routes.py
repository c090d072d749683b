"""The read API under ``/v1`` (an ``APIRouter`` the subscription app includes): incidents,
events and escalation from the store, exports, and a live stream.

    GET /v1/incidents?since=&until=&country=&bbox=&event_type=&actor=&min_severity=&min_sources=
                    &min_independent_sources=&contested=&grade=&limit=&cursor=&format=
    GET /v1/incidents/{id}          latest record, every revision, its events (evidence quotes, offsets), sources, chain
    GET /v1/events?...              the same filters (less severity/sources, plus modality)
    GET /v1/escalation?scope=theatre|dyad&key=...
    GET /v1/stream                  new and revised incidents as Server-Sent Events

Every route needs ``X-API-Key`` (the app's key dependency). ``format`` is ``json`` (default),
``geojson``, ``csv`` (ACLED's columns) or ``stix`` (STIX 2.1); the next page's cursor is in
the body (json, geojson) and always in a ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import typing
from datetime import date, datetime, time, timezone
from typing import Annotated, Callable, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from ..metrics import REGISTRY, CollectorRegistry, Counter, Histogram, SimpleNamespace
from ..models import EventType, Grade, Modality
from ..store import queries
from ..store.db import NOTIFY_CHANNEL, incident_row
from . import formats

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # one STIX page of 500 incidents builds in ~2 s; more belongs in several pages
# Connections to PostgreSQL per API process: about two per core of the database. A page query holds
# one ~0.5 ms of backend CPU, and more backends running at once than cores only trade places on them:
# bench/bench_api.py (50 clients, 2 cores shared with the API and wrk, interleaved runs) gave p99
# 101/143/127 ms at 4 connections vs 162/219 ms at 20 (and 156 ms at 2); requests beyond 4 wait in
# the pool's queue, which costs the event loop nothing.
POOL_MAX = 4
POOL_TIMEOUT_S = 5.0  # a request waiting longer for a connection answers 503
STREAM_HEARTBEAT_S = 15.0  # under the 30-60 s idle timeouts of common proxies
STREAM_QUEUE = 1000  # notifications buffered per stream client; a client that falls further behind is dropped
LISTEN_RETRY_S = 2.0
API_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        requests=Counter(
            "strikewatch_read_api_requests_total", "Read API requests", ["route", "format", "status"], registry=registry
        ),
        latency=Histogram(
            "strikewatch_read_api_seconds", "Read API request time", ["route"], buckets=API_BUCKETS_S, registry=registry
        ),
        streams=Counter(
            "strikewatch_read_api_stream_events_total", "Incidents sent to stream clients", registry=registry
        ),
    )


METRICS = make_metrics()

Format = Literal["json", "geojson", "csv", "stix"]
MEDIA = {
    "json": "application/json",
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "stix": "application/stix+json;version=2.1",
}

INCIDENT_EXAMPLE = {
    "id": "i_5c3e...",
    "revision": 1,
    "event_type": "air_strike",
    "attacker": {"name": "United States", "type": "state_military"},
    "targets": [{"name": "Kataib Hezbollah", "type": "militia_proxy"}],
    "places": [
        {
            "name": "Iraqi-Syrian border region",
            "country": "Iraq",
            "country_code": "IQ",
            "lat": 34.4,
            "lon": 40.9,
            "precision": "border_region",
        }
    ],
    "platforms": ["F-15E", "F-16"],
    "casualties": {"statement": "no_immediate_reports"},
    "source_count": 2,
    "sources": [{"url": "https://example.org/story", "title": "US strikes militias", "outlet": "example.org"}],
}


def _when(v: str | None, name: str) -> datetime | None:
    if not v:
        return None
    try:
        if len(v) == 10:
            return datetime.combine(date.fromisoformat(v), time(0), tzinfo=timezone.utc)
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    except ValueError:
        raise HTTPException(422, f"{name}: not an ISO 8601 date or date-time: {v[:40]!r}") from None


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for vs in values or [] for v in vs.split(",") if v.strip())


def _bbox(v: str | None) -> tuple[float, float, float, float] | None:
    if not v:
        return None
    try:
        x0, y0, x1, y1 = (float(x) for x in v.split(","))
    except ValueError:
        raise HTTPException(422, "bbox: four numbers min_lon,min_lat,max_lon,max_lat") from None
    if not (-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise HTTPException(422, "bbox: min_lon <= max_lon within [-180, 180] and min_lat <= max_lat within [-90, 90]")
    return x0, y0, x1, y1


async def filters(  # async: no thread-pool hop per request for pure parsing (see api.owner_of)
    since: Annotated[
        str | None,
        Query(description="event time from (inclusive), ISO 8601 date or date-time", examples=["2021-06-01"]),
    ] = None,
    until: Annotated[
        str | None, Query(description="event time until (exclusive)", examples=["2021-07-01T00:00:00Z"])
    ] = None,
    country: Annotated[
        list[str] | None,
        Query(
            description="ACLED country name or ISO 3166-1 alpha-2 code; repeat or comma-separate", examples=["Iraq,SY"]
        ),
    ] = None,
    bbox: Annotated[
        str | None, Query(description="min_lon,min_lat,max_lon,max_lat (WGS84)", examples=["38,29,49,38"])
    ] = None,
    event_type: Annotated[list[EventType] | None, Query(description="repeatable")] = None,
    actor: Annotated[
        list[str] | None,
        Query(description="attacker or target name, case-insensitive; repeatable", examples=["Kataib Hezbollah"]),
    ] = None,
) -> queries.Filters:
    s, u = _when(since, "since"), _when(until, "until")
    if s and u and s >= u:
        raise HTTPException(422, "since must be before until")
    return queries.Filters(
        since=s,
        until=u,
        countries=_split(country),
        bbox=_bbox(bbox),
        event_types=tuple(str(e) for e in event_type or ()),
        actors=_split(actor),
    )


async def corroboration_filters(
    min_independent_sources: Annotated[
        int | None, Query(ge=1, le=1000, description="independent outlet families that report it (copies of one wire story count once)")
    ] = None,
    contested: Annotated[
        bool | None, Query(description="true: parties dispute who struck or the toll; false: not disputed")
    ] = None,
    grade: Annotated[
        list[str] | None,
        Query(description="confirmed, corroborated, single_source or contested; repeat or comma-separate",
              examples=["corroborated,confirmed"]),
    ] = None,
) -> queries.Filters:
    """The corroboration filters of issue 21 (incidents only)."""
    grades = _split(grade)
    bad = [g for g in grades if g not in GRADES]
    if bad:
        raise HTTPException(422, f"grade: one of {', '.join(GRADES)}, not {bad[0][:40]!r}")
    return queries.Filters(min_independent_sources=min_independent_sources, contested=contested, grades=grades)


GRADES = typing.get_args(Grade)


def _corroboration(f: queries.Filters) -> dict:
    return {"min_independent_sources": f.min_independent_sources, "contested": f.contested, "grades": f.grades}


# Planner settings of the API's connections (strikewatch/store/migrations/0002_covering_page_index.sql).
# Page queries are planned for their own parameters: psycopg prepares a query after its 5th use and
# PostgreSQL then switches to a generic plan, blind to how selective a bbox, a time range or an actor
# is. Over 100k incidents the 20x15 bbox page took 18.8 ms of backend CPU generic vs 1.5 ms custom,
# actor+since 6.8 vs 1.6; bench/bench_api.py's 12 shapes averaged 2.89 ms generic, 0.75 ms custom and
# prepared (planning ~0.15 ms, parsing saved), 0.85 ms unprepared (one connection, first and cursor pages).
PLAN_CACHE_MODE = "force_custom_plan"
# The store's working set is in memory (the 100k-incident bench database's tables and indexes ~200 MB,
# read from shared buffers or the page cache), so a heap page read at random costs about what one read
# in order does: 1.1, the usual value for cached or SSD data, not 4 (spinning disks). With 4 the planner
# walked the covering page index past 12k rows for country=Iraq (0.4 % of rows, 2.3 ms) instead of
# the countries GIN index and a sort (0.5 ms); the 12 shapes averaged 0.78 ms at 4, 0.48 at 1.1.
RANDOM_PAGE_COST = 1.1


async def _configure(conn) -> None:
    await conn.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE}")
    await conn.execute(f"SET random_page_cost = {RANDOM_PAGE_COST}")


class Store:
    """The router's PostgreSQL pool and the one LISTEN connection fanning out to streams."""

    def __init__(self, dsn: str):
        from psycopg_pool import AsyncConnectionPool

        self.dsn = dsn
        self.pool = AsyncConnectionPool(
            dsn,
            min_size=2,
            max_size=POOL_MAX,
            timeout=POOL_TIMEOUT_S,
            open=False,
            kwargs={"autocommit": True},
            configure=_configure,
        )
        self.clients: set[asyncio.Queue] = set()
        self._listener: asyncio.Task | None = None

    async def open(self) -> None:
        await self.pool.open(wait=False)  # the API serves subscriptions even while the store's database is away

    async def close(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
        await self.pool.close()

    @contextlib.asynccontextmanager
    async def conn(self):
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            async with self.pool.connection() as c:
                yield c
        except (PoolTimeout, psycopg.OperationalError) as e:
            log.warning("store unavailable: %s", e)
            raise HTTPException(503, "incident store unavailable, retry shortly") from None

    def subscribe(self) -> asyncio.Queue:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        q: asyncio.Queue = asyncio.Queue(STREAM_QUEUE)
        self.clients.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self.clients.discard(q)

    async def _listen(self) -> None:
        import psycopg

        while self.clients:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    for q in list(self.clients):
                        q.put_nowait(("ready", None))
                    async for n in conn.notifies():
                        inc_id, _, rev = n.payload.rpartition(":")
                        for q in list(self.clients):
                            try:
                                q.put_nowait((inc_id, int(rev)))
                            except asyncio.QueueFull:  # too slow: end its stream (EventSource clients reconnect)
                                self.clients.discard(q)
                                while not q.empty():
                                    q.get_nowait()
                                q.put_nowait(("drop", None))
                        if not self.clients:
                            return
            except psycopg.OperationalError as e:
                log.warning("LISTEN %s failed, retrying in %.0f s: %s", NOTIFY_CHANNEL, LISTEN_RETRY_S, e)
                await asyncio.sleep(LISTEN_RETRY_S)


def _link(request: Request, cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    return {"Link": f'<{request.url.include_query_params(cursor=cursor)}>; rel="next"'}


def _render(request: Request, page: queries.Page, fmt: str, route: str) -> Response:
    headers = _link(request, page.next_cursor)
    if fmt == "json":
        body = (
            '{"items":[' + ",".join(r[2] for r in page.rows) + '],"next_cursor":' + json.dumps(page.next_cursor) + "}"
        )
    elif fmt == "geojson":
        body = json.dumps(formats.geojson(page.records, page.next_cursor))
    elif fmt == "csv":
        body = formats.acled_csv(page.records)
        headers["Content-Disposition"] = f'attachment; filename="strikewatch-{route}.csv"'
    else:
        body = formats.stix_bundle(page.records).serialize()
    return Response(body, media_type=MEDIA[fmt], headers=headers)


def make_router(dsn: str, owner_of: Callable[..., str], metrics: SimpleNamespace | None = None) -> APIRouter:
    """The ``/v1`` router on the store at ``dsn``; ``owner_of`` is the app's API-key dependency."""
    m = metrics or METRICS
    store = Store(dsn)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await store.open()
        yield
        await store.close()

    # owner_of checks X-API-Key; _document_security (web/__init__.py) documents it as an apiKey scheme. No
    # APIKeyHeader dependency beside it: FastAPI solved it on every request for the spec's sake alone
    # (~30 us of ~300 through the app per page); the OpenAPI document is the same without it.
    router = APIRouter(
        prefix="/v1",
        tags=["read"],
        lifespan=lifespan,
        dependencies=[Depends(owner_of)],
        responses={
            401: {"description": "missing or unknown X-API-Key"},
            503: {"description": "the store is unavailable"},
        },
    )
    router.store = store  # type: ignore[attr-defined]  # tests and the app reach the pool through it

    limit_q = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")
    cursor_q = Query(None, description="next_cursor of the previous page (opaque)")
    format_q = Query(
        "json", description="json, geojson (FeatureCollection), csv (ACLED columns) or stix (STIX 2.1 bundle)"
    )

    async def _page(
        request: Request, table: str, f: queries.Filters, limit: int, cursor: str | None, fmt: str
    ) -> Response:
        with m.latency.labels(table).time():
            try:
                async with store.conn() as conn:
                    page = await queries.page(conn, table, f, limit, cursor)
            except queries.BadCursor as e:
                m.requests.labels(table, fmt, "400").inc()
                raise HTTPException(400, str(e)) from None
            resp = _render(request, page, fmt, table)
        m.requests.labels(table, fmt, "200").inc()
        return resp

    @router.get(
        "/incidents",
        summary="Incidents, filtered, newest first",
        responses={
            200: {
                "content": {
                    "application/json": {"example": {"items": [INCIDENT_EXAMPLE], "next_cursor": "WyIyMDIx..."}},
                    "application/geo+json": {},
                    "text/csv": {},
                    "application/stix+json;version=2.1": {},
                }
            }
        },
    )
    async def list_incidents(
        request: Request,
        f: Annotated[queries.Filters, Depends(filters)],
        corroboration: Annotated[queries.Filters, Depends(corroboration_filters)],
        min_severity: Annotated[float | None, Query(ge=0, le=1, description="severity 0..1")] = None,
        min_sources: Annotated[int | None, Query(ge=1, description="reports merged into the incident")] = None,
        limit: int = limit_q,
        cursor: str | None = cursor_q,
        format: Format = format_q,
    ):  # noqa: A002
        """Incidents (their latest revision) whose event time, place, type, actors, severity,
        source count and corroboration match, newest first by event time; follow ``next_cursor``
        for the next page."""
        f = queries.Filters(**{**f.__dict__, "min_severity": min_severity, "min_sources": min_sources,
                               **_corroboration(corroboration)})
        return await _page(request, "incidents", f, limit, cursor, format)

    @router.get(
        "/incidents/{incident_id}", summary="One incident: revisions, events with evidence, sources, tit-for-tat chain"
    )
    async def get_incident(incident_id: Annotated[str, Path(max_length=100, examples=["i_5c3e0a9d1b2f4e6a8c0d2e4f"])]):
        """The latest record, every revision, the events behind it (each fact's evidence quote
        with its character offsets in the article), its sources with links, and the
        tit-for-tat chain of the latest escalation score that lists it."""
        with m.latency.labels("incident").time():
            async with store.conn() as conn:
                out = await queries.incident(conn, incident_id)
        if out is None:
            m.requests.labels("incident", "json", "404").inc()
            raise HTTPException(404, "no such incident")
        m.requests.labels("incident", "json", "200").inc()
        return out

    @router.get("/events", summary="Events (one report each), filtered, newest first")
    async def list_events(
        request: Request,
        f: Annotated[queries.Filters, Depends(filters)],
        modality: Annotated[list[Modality] | None, Query(description="asserted, negated, denied, ...")] = None,
        limit: int = limit_q,
        cursor: str | None = cursor_q,
        format: Format = format_q,
    ):  # noqa: A002
        """Events as extracted from single articles, with their evidence spans."""
        f = queries.Filters(**{**f.__dict__, "modalities": tuple(str(x) for x in modality or ())})
        return await _page(request, "events", f, limit, cursor, format)

    @router.get("/escalation", summary="Escalation index of a theatre or dyad over time")
    async def escalation(
        scope: Annotated[Literal["theatre", "dyad"], Query(description="theatre (a country) or dyad (two parties)")],
        key: Annotated[
            str | None,
            Query(
                description="e.g. Iraq, or 'Kataib Hezbollah vs United States'; "
                "omitted: the latest score of every key",
                examples=["Iraq"],
            ),
        ] = None,
        since: str | None = None,
        until: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        format: Literal["json", "csv"] = "json",
    ):  # noqa: A002
        """Scores oldest first, each with its components and tit-for-tat chain."""
        async with store.conn() as conn:
            rows = await queries.escalation(conn, scope, key, _when(since, "since"), _when(until, "until"), limit)
        m.requests.labels("escalation", format, "200").inc()
        if format == "csv":
            lines = ["scope,key,at,value,chain"] + [
                ",".join(
                    json.dumps(str(x)) if "," in str(x) else str(x)
                    for x in (r["scope"], r["key"], r["at"], r["value"], " ".join(r["tit_for_tat_chain"]))
                )
                for r in rows
            ]
            return Response("\n".join(lines) + "\n", media_type=MEDIA["csv"])
        return {"scope": scope, "key": key, "scores": rows}

    @router.get(
        "/stream",
        summary="New and revised incidents, live (Server-Sent Events)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def stream(
        request: Request,
        f: Annotated[queries.Filters, Depends(filters)],
        corroboration: Annotated[queries.Filters, Depends(corroboration_filters)],
        min_severity: Annotated[float | None, Query(ge=0, le=1)] = None,
        min_sources: Annotated[int | None, Query(ge=1)] = None,
    ):
        """``event: incident`` with the incident's latest record as ``data`` each time the store
        writes a new incident or revision (after it is committed); the same filters as the
        list. A comment line every 15 s keeps the connection open."""
        f = queries.Filters(**{**f.__dict__, "min_severity": min_severity, "min_sources": min_sources,
                               **_corroboration(corroboration)})
        q = store.subscribe()

        async def events():
            try:
                yield "retry: 3000\n: connected\n\n"
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), STREAM_HEARTBEAT_S)
                    except asyncio.TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if item[0] == "ready":
                        yield ": listening\n\n"
                        continue
                    if item[0] == "drop":
                        return
                    inc_id, rev = item
                    async with store.conn() as conn:
                        text = await queries.latest(conn, inc_id)
                    if text is None or not matches(f, json.loads(text)):
                        continue
                    m.streams.inc()
                    yield f"id: {inc_id}:{rev}\nevent: incident\ndata: {text}\n\n"
            finally:
                store.unsubscribe(q)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    return router


def matches(f: queries.Filters, rec: dict) -> bool:
    """The list's filters applied to one incident record (for the stream)."""
    from ..models import Incident

    row = incident_row(Incident.model_validate(rec))
    if f.since and row["event_at"] < f.since or f.until and row["event_at"] >= f.until:
        return False
    if f.countries and not {c.lower() for c in f.countries} & set(row["countries"]):
        return False
    if f.actors and not {a.lower() for a in f.actors} & set(row["actors"]):
        return False
    if f.event_types and row["event_type"] not in f.event_types:
        return False
    if f.min_severity is not None and (row["severity"] or 0) < f.min_severity:
        return False
    if f.min_sources is not None and row["source_count"] < f.min_sources:
        return False
    if f.min_independent_sources is not None and row["independent_sources"] < f.min_independent_sources:
        return False
    if f.contested is not None and row["contested"] != f.contested:
        return False
    if f.grades and row["grade"] not in f.grades:
        return False
    if f.bbox:
        x0, y0, x1, y1 = f.bbox
        if row["lat"] is None or not (x0 <= row["lon"] <= x1 and y0 <= row["lat"] <= y1):
            return False
    return True

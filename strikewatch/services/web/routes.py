"""The read API under ``/v1`` (an ``APIRouter`` the subscription app includes): incidents,
events and escalation from the store, exports, and a live stream.

    GET /v1/incidents?since=&until=&country=&bbox=&event_type=&actor=&min_severity=&min_sources=
                    &min_independent_sources=&contested=&grade=&limit=&cursor=&format=
    GET /v1/incidents/{id}          latest record, every revision, its events (evidence quotes, offsets), sources, chain
    GET /v1/events?...              the same filters (less severity/sources, plus modality)
    GET /v1/escalation?scope=theatre|dyad&key=...
    GET /v1/stream                  new and revised incidents as Server-Sent Events, resumable (Last-Event-ID)

Every route needs ``X-API-Key`` (the app's key dependency). ``format`` is ``json`` (default),
``geojson``, ``csv`` (ACLED's columns; ``inter_num=0`` for ACLED's text labels) or ``stix`` (STIX
2.1); the next page's cursor is in the body (json, geojson) and always in a ``Link: <...>;
rel="next"`` header, relative to the request (or under ``public_url`` when it is set), never built
from the request's Host header. Every status, media type and header a route answers is in the
OpenAPI document (``schemas.py``; ``tests/strikewatch/services/web/test_openapi.py`` runs schemathesis on it).

The stream: each incident row the store moves takes the next number of one sequence
(``stream_seq``, migration 0004), sent as the event's ``id:``. A client that reconnects with
``Last-Event-ID`` (header, or ``last_event_id`` for clients that cannot set one) is first sent what
it missed from the store (at most ``STREAM_REPLAY_MAX`` incidents, the latest, after an ``event:
truncated`` if there were more), then the live stream. One LISTEN connection serves every stream:
each batch of notifications is read from the store once, parsed once, and handed to every client,
which only applies its filters (``matches``). A key holds at most ``max_streams_per_key`` streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import typing
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from strikewatch.core.filters import IncidentFilter, Keys, incident_keys
from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, Histogram, SimpleNamespace
from strikewatch.core.models import EventType, Grade, Incident, Modality
from strikewatch.services.store import queries
from strikewatch.services.store.db import NOTIFY_CHANNEL
from strikewatch.services.web import formats, schemas

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 500  # one STIX page of 500 incidents builds in ~2 s; more belongs in several pages
MAX_SOURCES = 1_000_000  # min_sources beyond any incident (an int64 bound would still pass 2^31 to PostgreSQL)
MAX_KEY_CHARS = 300  # an escalation key: a country, or two parties' names
# Connections to PostgreSQL per API process: about two per core of the database. A page query holds
# one ~0.5 ms of backend CPU, and more backends running at once than cores only trade places on them:
# bench/bench_api.py (50 clients, 2 cores shared with the API and wrk, interleaved runs) gave p99
# 101/143/127 ms at 4 connections vs 162/219 ms at 20 (and 156 ms at 2); requests beyond 4 wait in
# the pool's queue, which costs the event loop nothing.
POOL_MAX = 4
POOL_TIMEOUT_S = 5.0  # a request waiting longer for a connection answers 503
STREAM_HEARTBEAT_S = 15.0  # under the 30-60 s idle timeouts of common proxies
STREAM_QUEUE = 1000  # notifications buffered per stream client; a client that falls further behind is dropped
# Incidents replayed to a client that resumes: a page's worth of the web app's list (it asks 100 at a time).
# A client that missed more is told so first (event: truncated) and gets the latest STREAM_REPLAY_MAX.
STREAM_REPLAY_MAX = 500
STREAM_READY_WAIT_S = 10.0  # a resuming stream waits this long for LISTEN, else ends (the client retries)
STREAM_RETRY_MS = 3000  # what clients wait before reconnecting (the SSE retry field)
STREAM_BUSY_RETRY_S = 30  # Retry-After when a key already holds its streams
SENT_IDS_KEPT = 10_000  # incidents whose last distributed stream_seq the listener remembers (dedup)
LISTEN_RETRY_S = 2.0
LISTENER_NAME = "strikewatch-api-stream"  # the LISTEN connection's application_name (pg_stat_activity)
API_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)

# The query parameters' grammar, as the OpenAPI document states it and as the handlers check it.
LON = r"-?(?:180(?:\.0+)?|(?:1[0-7][0-9]|[0-9]{1,2})(?:\.[0-9]+)?)"
LAT = r"-?(?:90(?:\.0+)?|[0-8]?[0-9](?:\.[0-9]+)?)"
BBOX_PATTERN = rf"^{LON},{LAT},{LON},{LAT}$"
DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# RFC 3339 date-time (JSON Schema's format "date-time"): T or t, seconds required, Z/z or a +hh:mm offset.
DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
WHEN_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}
# Earliest and latest instants a filter is clamped to: datetime's own range, less a day each side, so that
# an offset such as 0001-01-01T00:00:00+05:00 stays representable in UTC.
WHEN_MIN = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
WHEN_MAX = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


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
        replayed=Counter(
            "strikewatch_read_api_stream_replayed_total",
            "Incidents replayed to stream clients that resumed with Last-Event-ID",
            registry=registry,
        ),
        fanout_reads=Counter(
            "strikewatch_read_api_stream_reads_total",
            "Store reads of notified incidents (one per batch of notifications, for all stream clients)",
            registry=registry,
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


def invalid(where: str, name: str, msg: str) -> HTTPException:
    """A 422 in the one shape every 422 has (schemas.ValidationErrors)."""
    return HTTPException(422, [{"loc": [where, name], "msg": msg, "type": "value_error"}])


def _when(v: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time or an ISO date (00:00 UTC), as an aware datetime within WHEN_MIN..WHEN_MAX;
    None when the parameter is absent (an empty one is no date)."""
    if v is None:
        return None
    try:
        if m := DATE_RE.fullmatch(v):
            d = datetime.combine(date(*map(int, m.groups())), datetime.min.time(), tzinfo=UTC)
        elif m := DATETIME_RE.fullmatch(v):
            y, mo, dd, hh, mi, ss, frac, off = m.groups()
            us = int((frac or ".0")[1:7].ljust(6, "0"))
            tz = (
                UTC
                if off in "Zz"
                else timezone((-1 if off[0] == "-" else 1) * timedelta(hours=int(off[1:3]), minutes=int(off[4:6])))
            )
            # A leap second (:60) is the last instant of its minute here.
            d = datetime(int(y), int(mo), int(dd), int(hh), int(mi), min(int(ss), 59), us, tzinfo=tz)
        else:
            raise ValueError
    except ValueError:
        raise invalid("query", name, f"not an ISO 8601 date or RFC 3339 date-time: {v[:40]!r}") from None
    try:
        return min(max(d.astimezone(UTC), WHEN_MIN), WHEN_MAX)
    except OverflowError:  # beyond datetime's range once in UTC
        return WHEN_MIN if d.year < 2 else WHEN_MAX


# The query parameters that take several values (repeated, or comma-separated); any other given twice is
# refused: FastAPI would silently keep the last one ("min_severity=0.9&min_severity=0").
LIST_PARAMS = frozenset({"country", "actor", "event_type", "modality", "grade", "language"})


async def single_values(request: Request) -> None:
    """A dependency of every route: each single-valued query parameter at most once (422 otherwise)."""
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in seen and name not in LIST_PARAMS:
            raise invalid("query", name, "given more than once")
        seen.add(name)


# language: two-letter codes, comma-separated (spaces and empty entries allowed), or the parameter repeated.
LANGUAGE_LIST_PATTERN = r"^ *(?:[A-Za-z]{2} *)?(?:, *(?:[A-Za-z]{2} *)?)*$"


def _split(values: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for vs in values or [] for v in vs.split(",") if v.strip())


def _bbox(v: str | None) -> tuple[float, float, float, float] | None:
    if v is None:
        return None
    if not re.fullmatch(BBOX_PATTERN, v):
        raise invalid("query", "bbox", "four numbers min_lon,min_lat,max_lon,max_lat (lon within ±180, lat ±90)")
    x0, y0, x1, y1 = (float(x) for x in v.split(","))
    if not (x0 <= x1 and y0 <= y1):
        raise invalid("query", "bbox", "min_lon <= max_lon and min_lat <= max_lat")
    return x0, y0, x1, y1


async def filters(  # async: no thread-pool hop per request for pure parsing (see api.owner_of)
    since: Annotated[
        str | None,
        Query(
            description="event time from (inclusive): an ISO 8601 date (00:00 UTC) or an RFC 3339 date-time; "
            "before `until`",
            examples=["2021-06-01"],
            json_schema_extra=WHEN_SCHEMA,
        ),
    ] = None,
    until: Annotated[
        str | None,
        Query(
            description="event time until (exclusive), as `since`",
            examples=["2021-07-01T00:00:00Z"],
            json_schema_extra=WHEN_SCHEMA,
        ),
    ] = None,
    country: Annotated[
        list[str] | None,
        Query(
            description="ACLED country name or ISO 3166-1 alpha-2 code; repeat or comma-separate", examples=["Iraq,SY"]
        ),
    ] = None,
    bbox: Annotated[
        str | None,
        Query(
            description="min_lon,min_lat,max_lon,max_lat (WGS84), min <= max",
            examples=["38,29,49,38"],
            json_schema_extra={"pattern": BBOX_PATTERN},
        ),
    ] = None,
    event_type: Annotated[list[EventType] | None, Query(description="repeatable")] = None,
    actor: Annotated[
        list[str] | None,
        Query(description="attacker or target name, case-insensitive; repeatable", examples=["Kataib Hezbollah"]),
    ] = None,
    language: Annotated[
        list[str] | None,
        Query(
            description="language of a report, ISO 639-1 (en, ar, ru, uk, fr, es); repeat or comma-separate",
            examples=["uk,ru"],
            json_schema_extra={"items": {"type": "string", "pattern": LANGUAGE_LIST_PATTERN}},
        ),
    ] = None,
) -> IncidentFilter:
    s, u = _when(since, "since"), _when(until, "until")
    if s and u and s >= u:
        raise invalid("query", "until", "since must be before until")
    return IncidentFilter(
        since=s,
        until=u,
        countries=_split(country),
        bbox=_bbox(bbox),
        event_types=tuple(str(e) for e in event_type or ()),
        actors=_split(actor),
        languages=_languages(language),
    )


GRADES = typing.get_args(Grade)
# grade: grades, comma-separated (spaces and empty entries allowed), or the parameter repeated.
_ONE_GRADE = rf"(?:{'|'.join(GRADES)})"
GRADE_LIST_PATTERN = rf"^ *(?:{_ONE_GRADE} *)?(?:, *(?:{_ONE_GRADE} *)?)*$"


def _languages(values: list[str] | None) -> tuple[str, ...]:
    for v in values or ():
        if not re.fullmatch(LANGUAGE_LIST_PATTERN, v):
            raise invalid(
                "query", "language", f"ISO 639-1 codes (en, ar, ru, uk, fr, es), comma-separated, not {v[:40]!r}"
            )
    return tuple(c.strip(" ").lower() for v in values or () for c in v.split(",") if c.strip(" "))


async def corroboration_filters(
    min_independent_sources: Annotated[
        int | None,
        Query(
            ge=1,
            le=1000,
            description="independent outlet families that report it (copies of one wire story count once)",
        ),
    ] = None,
    contested: Annotated[
        bool | None, Query(description="true: parties dispute who struck or the toll; false: not disputed")
    ] = None,
    grade: Annotated[
        list[str] | None,
        Query(
            description="confirmed, corroborated, single_source or contested; repeat or comma-separate",
            examples=["corroborated,confirmed"],
            json_schema_extra={"items": {"type": "string", "pattern": GRADE_LIST_PATTERN}},
        ),
    ] = None,
) -> IncidentFilter:
    """The corroboration filters of issue 21 (incidents only)."""
    for v in grade or ():
        if not re.fullmatch(GRADE_LIST_PATTERN, v):
            raise invalid("query", "grade", f"grades ({', '.join(GRADES)}), comma-separated, not {v[:40]!r}")
    grades = tuple(g.strip(" ") for v in grade or () for g in v.split(",") if g.strip(" "))
    return IncidentFilter(min_independent_sources=min_independent_sources, contested=contested, grades=grades)


def _corroboration(f: IncidentFilter) -> dict:
    return {"min_independent_sources": f.min_independent_sources, "contested": f.contested, "grades": f.grades}


# Planner settings of the API's connections (strikewatch/services/store/migrations/0002_covering_page_index.sql).
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


class Notified:
    """One moved incident, as every stream client gets it: read and parsed once for all of them."""

    __slots__ = ("id", "keys", "seq", "text")

    def __init__(self, seq: int, id_: str, text: str):
        self.seq, self.id, self.text = seq, id_, text
        self.keys: Keys = incident_keys(Incident.model_validate_json(text))


class Store:
    """The router's PostgreSQL pool and the one LISTEN connection fanning out to streams."""

    def __init__(self, dsn: str, metrics: SimpleNamespace | None = None):
        from psycopg_pool import AsyncConnectionPool

        self.dsn = dsn
        self.metrics = metrics or METRICS
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
        self.streams: dict[str, int] = {}  # key id -> streams open
        self.listening = False
        self.high = 0  # the highest stream_seq handed to the clients
        self._sent: OrderedDict[str, int] = OrderedDict()  # incident id -> stream_seq last handed out
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

    def open_stream(self, key_id: str, most: int) -> asyncio.Queue | None:
        """A new stream's queue, or None when ``key_id`` already holds ``most`` streams."""
        if self.streams.get(key_id, 0) >= most:
            return None
        self.streams[key_id] = self.streams.get(key_id, 0) + 1
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())
        q: asyncio.Queue = asyncio.Queue(STREAM_QUEUE)
        if self.listening:
            q.put_nowait(("ready", None))
        self.clients.add(q)
        return q

    def close_stream(self, key_id: str, q: asyncio.Queue) -> None:
        self.clients.discard(q)
        n = self.streams.get(key_id, 0) - 1
        if n > 0:
            self.streams[key_id] = n
        else:
            self.streams.pop(key_id, None)

    def _offer(self, item) -> None:
        for q in list(self.clients):
            try:
                q.put_nowait(item)
            except asyncio.QueueFull:  # too slow: end its stream; it resumes from its Last-Event-ID
                self.clients.discard(q)
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(("drop", None))

    def _hand_out(self, rows: list[tuple[int, str, str]]) -> None:
        """Rows read once (stream_seq, id, record): each to every client, in stream order, each move once."""
        for seq, inc_id, text in sorted(rows):
            if seq <= self._sent.get(inc_id, 0):
                continue  # its notification came again (two revisions in a batch): already handed out
            self._sent[inc_id] = seq
            self._sent.move_to_end(inc_id)
            if len(self._sent) > SENT_IDS_KEPT:
                self._sent.popitem(last=False)
            self.high = max(self.high, seq)
            try:
                item = Notified(seq, inc_id, text)
            except ValueError:  # a record the model no longer reads: the list still shows it, the stream skips it
                log.warning("stream: incident %s does not validate; skipped", inc_id)
                continue
            self._offer(item)

    async def _fan_out(self, ids: asyncio.Queue) -> None:
        """Each batch of notified ids (all that arrived while the last batch was read) read in one query."""
        while True:
            batch = {await ids.get()}
            while not ids.empty():
                batch.add(ids.get_nowait())
            try:
                async with self.conn() as conn:
                    rows = await queries.stream_rows(conn, sorted(batch))
            except HTTPException:  # the store is away: the listener reconnects and catches up
                continue
            self.metrics.fanout_reads.inc()
            self._hand_out(rows)

    async def _listen(self) -> None:
        import psycopg

        ids: asyncio.Queue = asyncio.Queue()
        fan_out = asyncio.create_task(self._fan_out(ids))
        first = True
        try:
            while self.clients:
                try:
                    async with await psycopg.AsyncConnection.connect(
                        self.dsn, autocommit=True, application_name=LISTENER_NAME
                    ) as conn:
                        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                        if first:  # streams start from now (a resuming one reads its past itself)
                            self.high = await queries.stream_head(conn)
                            first = False
                        else:  # a reconnect: what moved while LISTEN was down, read once for every stream
                            rows, _ = await queries.changed_since(conn, IncidentFilter(), self.high, STREAM_QUEUE)
                            self._hand_out(rows)
                        self.listening = True
                        self._offer(("ready", None))
                        async for n in conn.notifies():
                            ids.put_nowait(n.payload.rpartition(":")[0])
                            if not self.clients:
                                return
                except psycopg.OperationalError as e:
                    log.warning("LISTEN %s failed, retrying in %.0f s: %s", NOTIFY_CHANNEL, LISTEN_RETRY_S, e)
                    self.listening = False
                    await asyncio.sleep(LISTEN_RETRY_S)
        finally:
            self.listening = False
            fan_out.cancel()


class EventStream(StreamingResponse):
    """A stream that gives its place back (``release``) however it ends: finished, client gone, or cancelled."""

    def __init__(self, content, release: Callable[[], None], **kw):
        super().__init__(content, **kw)
        self._release = release

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _frame(seq: int, text: str) -> str:
    return f"id: {seq}\nevent: incident\ndata: {text}\n\n"


def _link(request: Request, cursor: str | None, base_url: str) -> dict[str, str]:
    """The next page (RFC 8288), relative to the request unless a public base URL is configured: the Host
    header is the client's to choose, so it never goes into a link."""
    if not cursor:
        return {}
    target = request.url.include_query_params(cursor=cursor)
    ref = target.path + ("?" + target.query if target.query else "")
    return {"Link": f'<{base_url.rstrip("/")}{ref}>; rel="next"'}


def _render(request: Request, page: queries.Page, fmt: str, route: str, base_url: str, inter_num: bool) -> Response:
    headers = _link(request, page.next_cursor, base_url)
    if fmt == "json":
        body = (
            '{"items":[' + ",".join(r[2] for r in page.rows) + '],"next_cursor":' + json.dumps(page.next_cursor) + "}"
        )
    elif fmt == "geojson":
        body = json.dumps(formats.geojson(page.records, page.next_cursor))
    elif fmt == "csv":
        body = formats.acled_csv(page.records, inter_num)
        headers["Content-Disposition"] = f'attachment; filename="strikewatch-{route}.csv"'
    else:
        body = formats.stix_bundle(page.records).serialize()
    return Response(body, media_type=MEDIA[fmt], headers=headers)


# The OpenAPI description of what each route answers, beyond the statuses every operation shares
# (web/__init__.py adds 400, 401, 413, 429 and the 422 shape to every operation that has them).
ERROR = {"model": schemas.Error}
LINK_HEADER = {
    "Link": {
        "description": 'the next page, `<...>; rel="next"` (RFC 8288), relative to the request; absent on the '
        "last page",
        "schema": {"type": "string"},
    }
}
ATTACHMENT_HEADER = {
    "Content-Disposition": {
        "description": "with format=csv: `attachment; filename=...`",
        "schema": {"type": "string"},
    }
}
STORE_DOWN = {503: {**ERROR, "description": "the incident store is unavailable; retry shortly"}}
FORMATS_CONTENT = {
    "application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}},
    "text/csv": {"schema": schemas.CSV_SCHEMA},
    "application/stix+json;version=2.1": {"schema": schemas.STIX_BUNDLE_SCHEMA},
}
# One Server-Sent Event as OpenAPI 3.1 describes a stream's items (the schema of each event).
SSE_EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"enum": ["incident", "truncated"]},
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "the position to resume after (Last-Event-ID)"},
        "data": {
            "type": "string",
            "description": 'incident: the incident\'s latest record (JSON); truncated: {"replayed": n}',
            "contentMediaType": "application/json",
        },
        "retry": {"type": "integer"},
    },
}
BAD_CURSOR = {400: {**ERROR, "description": "a cursor this API did not hand out"}}


def list_responses(example: dict | None = None) -> dict:
    content = dict(FORMATS_CONTENT)
    if example:
        content["application/json"] = {"example": example}
    return {
        200: {
            "description": "a page, in the asked format",
            "content": content,
            "headers": {**LINK_HEADER, **ATTACHMENT_HEADER},
        },
        **BAD_CURSOR,
        **STORE_DOWN,
    }


def make_router(
    dsn: str,
    owner_of: Callable[..., str],
    metrics: SimpleNamespace | None = None,
    *,
    public_url: str = "",
    max_streams_per_key: int = 10,
    stream_max_s: float = 3600.0,
) -> APIRouter:
    """The ``/v1`` router on the store at ``dsn``; ``owner_of`` is the app's API-key dependency.
    ``public_url``: base of the Link header (empty: relative links); ``max_streams_per_key``: streams one
    key may hold open; ``stream_max_s``: a stream's longest life (the client resumes where it ended)."""
    m = metrics or METRICS
    store = Store(dsn, m)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        await store.open()
        yield
        await store.close()

    # owner_of checks X-API-Key; web/__init__.py documents it as an apiKey scheme. No APIKeyHeader
    # dependency beside it: FastAPI solved it on every request for the spec's sake alone (~30 us of ~300
    # through the app per page); the OpenAPI document is the same without it.
    router = APIRouter(prefix="/v1", tags=["read"], lifespan=lifespan, dependencies=[Depends(owner_of)])
    router.store = store  # type: ignore[attr-defined]  # tests and the app reach the pool through it

    limit_q = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size")
    cursor_q = Query(
        None,
        description="next_cursor of the previous page (a position: event time and id)",
        json_schema_extra={"pattern": queries.CURSOR_PATTERN},
    )
    format_q = Query(
        "json", description="json, geojson (FeatureCollection), csv (ACLED columns) or stix (STIX 2.1 bundle)"
    )
    inter_num_q = Query(
        1,
        ge=0,
        le=1,
        description="format=csv: 1 writes inter1, inter2 and interaction as ACLED's numeric codes (8, 0, 80); "
        "0 as its text labels, as ACLED's API does by default",
    )

    async def _page(
        request: Request, table: str, f: IncidentFilter, limit: int, cursor: str | None, fmt: str, inter_num: int
    ) -> Response:
        with m.latency.labels(table).time():
            try:
                async with store.conn() as conn:
                    page = await queries.page(conn, table, f, limit, cursor)
            except queries.BadCursor as e:
                m.requests.labels(table, fmt, "400").inc()
                raise HTTPException(400, str(e)) from None
            if fmt == "json":  # the stored JSON joined: nothing to build
                resp = _render(request, page, fmt, table, public_url, bool(inter_num))
            else:  # an export builds objects (a STIX page of 500: seconds): off the event loop, so other
                # requests are served meanwhile (inline, they waited, and pooled ones timed out as 503)
                resp = await asyncio.to_thread(_render, request, page, fmt, table, public_url, bool(inter_num))
        m.requests.labels(table, fmt, "200").inc()
        return resp

    @router.get(
        "/incidents",
        summary="Incidents, filtered, newest first",
        response_model=schemas.IncidentPage,
        responses=list_responses({"items": [INCIDENT_EXAMPLE], "next_cursor": "1624838400000000.695f303030303035"}),
    )
    async def list_incidents(
        request: Request,
        f: Annotated[IncidentFilter, Depends(filters)],
        corroboration: Annotated[IncidentFilter, Depends(corroboration_filters)],
        min_severity: Annotated[float | None, Query(ge=0, le=1, description="severity 0..1")] = None,
        min_sources: Annotated[
            int | None, Query(ge=1, le=MAX_SOURCES, description="reports merged into the incident")
        ] = None,
        limit: int = limit_q,
        cursor: str | None = cursor_q,
        format: Format = format_q,  # noqa: A002
        inter_num: int = inter_num_q,
    ):
        """Incidents (their latest revision) whose event time, place, type, actors, severity,
        source count and corroboration match, newest first by event time; follow ``next_cursor``
        for the next page."""
        f = f.model_copy(
            update={"min_severity": min_severity, "min_sources": min_sources, **_corroboration(corroboration)}
        )
        return await _page(request, "incidents", f, limit, cursor, format, inter_num)

    @router.get(
        "/incidents/{incident_id}",
        summary="One incident: revisions, events with evidence, sources, tit-for-tat chain",
        response_model=schemas.IncidentDetail,
        responses={404: {**ERROR, "description": "no such incident"}, **STORE_DOWN},
    )
    async def get_incident(incident_id: Annotated[str, Path(max_length=100, examples=["i_5c3e0a9d1b2f4e6a8c0d2e4f"])]):
        """The latest record, every revision, the events behind it (each fact's evidence quote
        with its character offsets in the article), its sources with links, and the
        tit-for-tat chain of the latest escalation score that lists it."""
        with m.latency.labels("incident").time():
            out = None
            if "\x00" not in incident_id:  # no stored id holds a NUL (PostgreSQL text cannot)
                async with store.conn() as conn:
                    out = await queries.incident(conn, incident_id)
        if out is None:
            m.requests.labels("incident", "json", "404").inc()
            raise HTTPException(404, "no such incident")
        m.requests.labels("incident", "json", "200").inc()
        return JSONResponse(out)

    @router.get(
        "/events",
        summary="Events (one report each), filtered, newest first",
        response_model=schemas.EventPage,
        responses=list_responses(),
    )
    async def list_events(
        request: Request,
        f: Annotated[IncidentFilter, Depends(filters)],
        modality: Annotated[list[Modality] | None, Query(description="asserted, negated, denied, ...")] = None,
        limit: int = limit_q,
        cursor: str | None = cursor_q,
        format: Format = format_q,  # noqa: A002
        inter_num: int = inter_num_q,
    ):
        """Events as extracted from single articles, with their evidence spans."""
        f = f.model_copy(update={"modalities": tuple(str(x) for x in modality or ())})
        return await _page(request, "events", f, limit, cursor, format, inter_num)

    @router.get(
        "/escalation",
        summary="Escalation index of a theatre or dyad over time",
        response_model=schemas.EscalationSeries,
        responses={
            200: {"content": {"text/csv": {"schema": schemas.CSV_SCHEMA}}, "headers": ATTACHMENT_HEADER},
            **STORE_DOWN,
        },
    )
    async def escalation(
        scope: Annotated[Literal["theatre", "dyad"], Query(description="theatre (a country) or dyad (two parties)")],
        key: Annotated[
            str | None,
            Query(
                max_length=MAX_KEY_CHARS,
                description="e.g. Iraq, or 'Kataib Hezbollah vs United States'; omitted: the latest score of every key",
                examples=["Iraq"],
            ),
        ] = None,
        since: Annotated[
            str | None,
            Query(description="scores from (inclusive), as /v1/incidents' since", json_schema_extra=WHEN_SCHEMA),
        ] = None,
        until: Annotated[
            str | None, Query(description="scores until (exclusive)", json_schema_extra=WHEN_SCHEMA)
        ] = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        format: Literal["json", "csv"] = "json",  # noqa: A002
    ):
        """Scores oldest first, each with its components and tit-for-tat chain."""
        s, u = _when(since, "since"), _when(until, "until")
        rows = []
        if not (key and "\x00" in key):  # no stored key holds a NUL
            async with store.conn() as conn:
                rows = await queries.escalation(conn, scope, key, s, u, limit)
        m.requests.labels("escalation", format, "200").inc()
        if format == "csv":
            return Response(
                formats.escalation_csv(rows),
                media_type=MEDIA["csv"],
                headers={"Content-Disposition": 'attachment; filename="strikewatch-escalation.csv"'},
            )
        return JSONResponse({"scope": scope, "key": key, "scores": rows})

    @router.get(
        "/stream",
        summary="New and revised incidents, live (Server-Sent Events), resumable",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "text/event-stream: `id: <n>`, `event: incident`, `data: <the incident's latest "
                "record>`; `event: truncated` before a replay that had more to send than it did",
                "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
                "headers": {"Cache-Control": {"description": "no-cache", "schema": {"type": "string"}}},
            },
            **STORE_DOWN,
        },
    )
    async def stream(
        request: Request,
        f: Annotated[IncidentFilter, Depends(filters)],
        corroboration: Annotated[IncidentFilter, Depends(corroboration_filters)],
        min_severity: Annotated[float | None, Query(ge=0, le=1)] = None,
        min_sources: Annotated[int | None, Query(ge=1, le=MAX_SOURCES)] = None,
        last_event_id: Annotated[
            str | None,
            Query(pattern=r"^[0-9]{1,18}$", description="resume after this event id (as the Last-Event-ID header)"),
        ] = None,
        last_event_id_header: Annotated[
            str | None,
            Header(
                alias="Last-Event-ID",
                pattern=r"^[0-9]{1,18}$",
                description="resume after this event id: what the client missed is sent first",
            ),
        ] = None,
    ):
        """``event: incident`` with the incident's latest record as ``data`` each time the store
        writes a new incident or revision (after it is committed); the same filters as the
        list. A comment line every 15 s keeps the connection open. With ``Last-Event-ID`` the
        incidents that moved since that id (and match) come first, at most 500."""
        f = f.model_copy(
            update={"min_severity": min_severity, "min_sources": min_sources, **_corroboration(corroboration)}
        )
        resume = last_event_id_header or last_event_id
        key_id = getattr(request.state, "key_id", "")
        q = store.open_stream(key_id, max_streams_per_key)
        if q is None:
            m.requests.labels("stream", "sse", "429").inc()
            raise HTTPException(
                429,
                f"this key already holds {max_streams_per_key} streams",
                headers={"Retry-After": str(STREAM_BUSY_RETRY_S)},
            )
        m.requests.labels("stream", "sse", "200").inc()
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + stream_max_s

        async def events():
            yield f"retry: {STREAM_RETRY_MS}\n: connected\n\n"
            high = int(resume) if resume is not None else None
            if high is not None:
                # Wait for LISTEN first: anything committed after the replay's query is then notified too.
                deadline = loop.time() + STREAM_READY_WAIT_S
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), max(0.0, deadline - loop.time()))
                    except TimeoutError:
                        return  # the store is away: end, the client resumes from the same id
                    if isinstance(item, tuple) and item[0] == "ready":
                        break
                yield ": listening\n\n"
                try:
                    async with store.conn() as conn:
                        rows, truncated = await queries.changed_since(conn, f, high, STREAM_REPLAY_MAX)
                except HTTPException:
                    return  # the store went away: end, the client resumes from the same id
                if truncated:
                    yield f"event: truncated\ndata: {json.dumps({'replayed': len(rows)})}\n\n"
                for seq, _id, text in rows:
                    high = max(high, seq)
                    m.replayed.inc()
                    yield _frame(seq, text)
            while True:
                left = ends_at - loop.time()
                if left <= 0:
                    return  # a long-lived stream ends; the client resumes with its Last-Event-ID
                try:
                    item = await asyncio.wait_for(q.get(), min(STREAM_HEARTBEAT_S, left))
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if isinstance(item, tuple):
                    if item[0] == "drop":
                        return
                    yield ": listening\n\n"  # ready
                    continue
                if high is not None and item.seq <= high:
                    continue  # replayed already
                if not f.matches(item.keys):
                    continue
                m.streams.inc()
                yield _frame(item.seq, item.text)

        return EventStream(
            events(),
            release=lambda: store.close_stream(key_id, q),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router

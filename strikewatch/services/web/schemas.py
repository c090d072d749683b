"""Response bodies of the API, as pydantic models: the OpenAPI document's schemas (``/openapi.json``).

The read API writes most bodies itself, from the records as stored (a page is the stored JSON joined,
never parsed and re-serialised): these models document what it writes, and the suite checks the running
API against them (schemathesis, ``tests/strikewatch/services/web/test_openapi.py``). Records (``Incident``,
``Event``, ``EscalationScore``, ``Subscription``) are the wire models of ``strikewatch/core/models.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from strikewatch.core.models import EscalationScore, Event, Incident, IncidentSource, Subscription


class Error(BaseModel):
    """Every 4xx and 5xx but 422: what went wrong, in words."""

    detail: str = Field(examples=["missing or unknown X-API-Key"])


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: 'query', 'body', 'path' or 'header', then the field's name")
    msg: str = Field(description="what is wrong with it")
    type: str = Field(description="a machine-readable kind: missing, int_parsing, value_error, ...")


class ValidationErrors(BaseModel):
    """Every 422: one entry per field that is wrong."""

    detail: list[FieldError]


# --------------------------------------------------------------------------- /v1


class IncidentPage(BaseModel):
    items: list[Incident] = Field(description="the latest revision of each incident, newest event time first")
    next_cursor: str | None = Field(description="the next page's cursor; null on the last page")


class EventPage(BaseModel):
    items: list[Event]
    next_cursor: str | None


class ChainLink(BaseModel):
    """An incident of a tit-for-tat chain; only ``id`` when the incident is no longer stored."""

    id: str
    revision: int | None = None
    event_type: str | None = None
    date: str | None = None
    attacker: str | None = None
    targets: list[str] = []
    places: list[str] = []
    theatre: str | None = None


class TitForTat(BaseModel):
    score: EscalationScore | None = Field(description="the latest escalation score whose chain lists the incident")
    chain: list[ChainLink]


class IncidentDetail(BaseModel):
    incident: Incident = Field(description="the latest revision")
    stored_at: datetime
    revisions: list[Incident] = Field(description="every revision, oldest first")
    events: list[Event] = Field(description="the reports merged into it, with evidence quotes and offsets")
    sources: list[IncidentSource]
    tit_for_tat: TitForTat
    theatre_escalation: EscalationScore | None


class EscalationSeries(BaseModel):
    scope: Literal["theatre", "dyad"]
    key: str | None = Field(description="the key asked for; null: the latest score of every key")
    scores: list[EscalationScore] = Field(description="oldest first (with a key), else highest first")


class FeatureSource(BaseModel):
    event_id: str | None = None
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    published_at: str | None = None
    seen_at: str | None = None
    source: str | None = None


class FeatureProperties(BaseModel):
    kind: Literal["incident", "event"]
    revision: int | None
    event_type: str
    date: str | None
    country: str | None
    country_code: str | None
    severity: float | None
    source_count: int
    platforms: list[str]
    munitions: list[str]
    killed: int | None
    injured: int | None
    casualty_statement: str | None
    theatre: str | None
    attacker: str | None
    targets: list[str]
    place: str | None
    geo_precision: str | None
    summary: str
    sources: list[FeatureSource]
    grade: str | None = None
    grade_reason: str = ""
    independent_sources: int | None = None
    contested: bool = False
    killed_range: list[int] | None = None


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2, description="[lon, lat], WGS84")


class Feature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry | None = Field(description="null when no place of it has coordinates")
    properties: FeatureProperties


class FeatureCollection(BaseModel):
    """RFC 7946 GeoJSON, one feature per record, plus the next page's cursor."""

    type: Literal["FeatureCollection"]
    features: list[Feature]
    next_cursor: str | None


STIX_BUNDLE_SCHEMA = {
    "type": "object",
    "description": "A STIX 2.1 bundle (incident, identity, location, relationship, sighting, observed-data, url and "
    "extension-definition objects); see strikewatch/services/web/formats.py.",
    "required": ["type", "id", "objects"],
    "properties": {
        "type": {"const": "bundle"},
        "id": {"type": "string", "pattern": "^bundle--"},
        "objects": {"type": "array", "items": {"type": "object", "required": ["type", "id"]}},
    },
}
CSV_SCHEMA = {"type": "string", "description": "CSV (RFC 4180), a header row then one row per record"}


# --------------------------------------------------------------------------- /subscriptions


class SubscriptionCreated(Subscription):
    """The new subscription; ``webhook_secret`` (when it has a webhook) is shown here once, and again only by
    ``rotate-secret``."""

    webhook_secret: str | None = Field(None, description="whsec_...: verifies the webhook's signatures")

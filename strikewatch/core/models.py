"""Record models for everything that crosses a Kafka topic.

Every record is a frozen pydantic v2 model, JSON on the wire (UTF-8), carrying a
``schema_version`` so consumers can reject or migrate old shapes. Ids are stable:

* an Article id is derived from its canonical URL (``article_id_for``), so the same
  story polled twice, or replayed, gets the same id and the same Kafka key;
* an Event id is derived from its content (article id + type + the character span of
  its anchor sentence), so re-running extraction on a replay produces the same ids.

Export the JSON Schemas with ``python -m strikewatch.core.models deploy/schemas``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import (  # noqa: F401
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    model_validator,
)

# 2: Event gains ``extractor_version`` and the article's ``article_url``/``article_title``/
# ``outlet``; IncidentSource gains ``url``/``title``/``outlet`` (links to the reporting
# articles). Every added field is optional, so version-1 records still read. Later in 2, also optional:
# Subscription ``secret_version`` and Alert ``webhook_secret_version`` (per-subscription webhook secrets).
SCHEMA_VERSION = 2

# Bounds where text and lists enter a record. One 3,000-letter "name" taken from an article,
# 400 targets or 200 places reached PostgreSQL's index row limit and stopped the store (issue
# 20). Names are cut at MAX_NAME_CHARS (the longest ACLED actor in acled_dev is 157
# characters, the longest GeoNames city name 57); lists keep their first MAX_ITEMS (a strike
# report names a handful of parties and places); ids over MAX_ID_CHARS are refused (the
# project's own are under 40 characters: "e_" + 32 hex digits).
MAX_NAME_CHARS = 200
MAX_ITEMS = 50
MAX_ID_CHARS = 200


def _cut_name(value: Any) -> Any:
    return value[: MAX_NAME_CHARS - 1] + "…" if isinstance(value, str) and len(value) > MAX_NAME_CHARS else value


def _first_items(value: Any) -> Any:
    return value[:MAX_ITEMS] if isinstance(value, (list, tuple)) and len(value) > MAX_ITEMS else value


# The sane window of a date a record carries: from 1900 (the oldest texts here are 1989
# wire reports) to MAX_FUTURE past the wall clock (a publisher's clock running ahead). An
# article dated 9999 wiped the escalation history (the scorer keeps 180 days before the
# newest incident) and sorted first in every list; a date outside the window is unknown.
MIN_DATE = dt.date(1900, 1, 1)
MAX_FUTURE = dt.timedelta(days=2)


def sane_date(value: dt.date | None) -> dt.date | None:
    """``value`` if inside the sane window, else None (unknown)."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    latest = (datetime.now(dt.UTC) + MAX_FUTURE).date()
    return value if MIN_DATE <= day <= latest else None


T = TypeVar("T")
SaneTime = Annotated[AwareDatetime | None, AfterValidator(sane_date)]
SaneDate = Annotated[dt.date | None, AfterValidator(sane_date)]
Name = Annotated[str, BeforeValidator(_cut_name), Field(max_length=MAX_NAME_CHARS)]
Id = Annotated[str, Field(max_length=MAX_ID_CHARS)]
Capped = Annotated[list[T], BeforeValidator(_first_items), Field(max_length=MAX_ITEMS)]  # Capped[Actor]


# Query parameters that only track the reader; dropping them makes two links to
# one story canonicalise to one id. The list is the union of the common analytics
# tags seen in the feed captures (utm_*, CMP, ns_*, ito, at_*) and their siblings.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "ocid", "cmp", "ito", "icid", "mc_cid", "mc_eid", "smid", "ref", "rss", "taid"}
)
TRACKING_PREFIXES = ("utm_", "ns_", "at_", "dicbo")


# Numbers from a topic are checked where they enter (every consumer decodes with these models, and a record that
# fails is a dead letter, ``schema_mismatch``, naming the field and its bound). JSON as pydantic reads it takes NaN
# and Infinity, and a bound is false for NaN, so every bounded float below refuses them too. Found by attacking the
# topics: severity NaN passed a subscription's ``min_severity >= 0.99`` (and sorts above 1 in PostgreSQL), places
# at lat/lon +/-1e308 were stored and drawn, and revision 2**31-1 froze an incident's row in the store (its row only
# moves to a higher revision).
#
# Largest incident revision: an incident is revised once per report that changes it, and takes reports until 72 h
# after its last one; a changing report every second for a whole day is 86,400 revisions.
MAX_REVISION = 100_000
Revision = Annotated[int, Field(ge=0, le=MAX_REVISION)]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]  # severity, escalation: 0..1
Latitude = Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


def canonical_url(url: str) -> str:
    """Normalise a URL: lower-case scheme/host, no default port, no fragment,
    no tracking parameters, sorted query, no trailing slash on the path."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:  # "host:notaport": keep the netloc as written
        port = None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _digest(*parts: str, size: int = 16) -> str:
    h = hashlib.blake2b(digest_size=size)
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def article_id_for(url: str) -> str:
    """Stable article id: a hash of the canonical URL."""
    return "a_" + _digest(canonical_url(url))


def outlet_of(url: str | None) -> str | None:
    """The outlet an article came from, as its host without ``www.`` ("reuters.com")."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https"):
        return None  # file://, replayed texts: no outlet
    host = (parts.hostname or "").lower()
    return (host[4:] if host.startswith("www.") else host) or None


def content_hash(title: str, body: str) -> str:
    """Hash of the normalised text, to catch one story republished under two URLs."""
    norm = " ".join((title + " " + body).lower().split())
    return _digest(norm)


class Record(BaseModel):
    """Base of every wire record: frozen, strict about unknown fields, JSON on the wire."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_timedelta="iso8601")
    schema_version: int = SCHEMA_VERSION

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Self:
        return cls.model_validate_json(data)


# --------------------------------------------------------------------------- Article


class Article(Record):
    """One news article as the connectors publish it (topic ``articles``, key ``id``)."""

    id: Id
    url: str
    canonical_url: str
    title: str = ""
    body: str = ""
    summary: str = ""
    authors: list[str] = Field(default_factory=list)
    published_at: SaneTime = None
    fetched_at: AwareDatetime
    language: str | None = None
    source: str = ""  # feed name from the feed list, low cardinality
    feed_url: str | None = None
    content_hash: str = ""

    @classmethod
    def new(
        cls, url: str, *, title: str = "", body: str = "", fetched_at: datetime | None = None, **kw: Any
    ) -> Article:
        curl = canonical_url(url)
        return cls(
            id=article_id_for(url),
            url=url,
            canonical_url=curl,
            title=title,
            body=body,
            fetched_at=fetched_at or datetime.now(dt.UTC),
            content_hash=content_hash(title, body),
            **kw,
        )

    @property
    def text(self) -> str:
        """Title and body as one text for extraction; offsets in events refer to this."""
        return f"{self.title}\n\n{self.body}" if self.title else self.body

    @property
    def body_start(self) -> int:
        """Offset of the body in ``text`` (past the title and its blank line)."""
        return len(self.title) + 2 if self.title else 0


# --------------------------------------------------------------------------- Event


class EventType(StrEnum):
    AIR_STRIKE = "air_strike"  # manned aircraft
    DRONE_STRIKE = "drone_strike"  # UAV, loitering munition, one-way attack drone
    MISSILE_ATTACK = "missile_attack"  # missiles, rockets
    SHELLING = "shelling"  # artillery, mortars
    OTHER_VIOLENCE = "other_violence"  # clashes, bombings, shootings: not strikes


STRIKE_TYPES = frozenset({EventType.AIR_STRIKE, EventType.DRONE_STRIKE, EventType.MISSILE_ATTACK, EventType.SHELLING})


class Modality(StrEnum):
    ASSERTED = "asserted"  # reported as having happened (a new event)
    NEGATED = "negated"
    DENIED = "denied"
    THREATENED = "threatened"
    HYPOTHETICAL = "hypothetical"  # future / conditional
    HISTORICAL = "historical"  # background mention of an older event


class Span(BaseModel):
    """A piece of the article text with its character offsets in ``Article.text``."""

    model_config = ConfigDict(frozen=True)
    text: str
    start: int
    end: int


# Kinds of struck targets, as the monitors' sectors are: homes, health, schools, energy and
# water infrastructure, military positions, vehicles and convoys, people, anything else.
TargetType = Literal["residential", "health", "education", "energy", "water", "military", "vehicle", "people", "other"]


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: Name  # canonical name, e.g. "Kataib Hezbollah"
    # "object": a struck thing, not a party ("the Las Canas bridge", "a weapons depot"; schema 2).
    type: Literal[
        "state_military", "militia_proxy", "rebel", "terrorist", "civilians", "government", "object", "unknown"
    ] = "unknown"
    country: str | None = None  # ISO 3166-1 alpha-2 of the state or base country
    sponsor: str | None = None  # e.g. "Iran" for "Iranian-backed"
    mentions: list[Span] = Field(default_factory=list)
    # What a target is, as monitors code sectors (``facts/parties/target_types.tsv``); None on
    # attackers and on targets of unknown kind (schema 2, additive).
    target_type: TargetType | None = None


class Place(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: Name
    country: Name | None = None  # country name as ACLED writes it
    country_code: str | None = None
    admin1: Name | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    precision: Literal["point", "city", "admin2", "admin1", "region", "country", "border_region", "unknown"] = "unknown"
    geonameid: int | None = None
    mention: Span | None = None
    # The country was inferred from the text's theatre (who fights whom), not named in it
    # (schema 2). Such a place has precision "country" and no point.
    inferred: bool = False


class EventTime(BaseModel):
    """When an event happened. A date outside the sane window (``sane_date``) is unknown."""

    model_config = ConfigDict(frozen=True)
    date: SaneDate = None
    start: SaneTime = None  # resolved window, when known
    end: SaneTime = None
    # "reported": the text dates nothing; ``date`` is the publication's (local) date and
    # ``start`` its instant (schema 2 adds it; the event happened no later than that).
    precision: Literal["hour", "part_of_day", "day", "week", "month", "year", "reported", "unknown"] = "unknown"
    expression: Span | None = None  # "early Monday", "around 1 a.m. local time"

    @model_validator(mode="after")
    def _known(self) -> EventTime:
        if self.date is None and self.start is None and self.end is None and self.precision != "unknown":
            object.__setattr__(self, "precision", "unknown")  # every value fell outside the window
        return self


class Weapon(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: Name  # canonical: "F-15E", "500-pound bomb", "2,000-pound satellite-guided munition"
    kind: Literal["platform", "munition"]
    category: str | None = None  # fighter, bomber, uav, helicopter, bomb, missile, rocket, artillery, drone
    payload_lb: int | None = None
    guidance: str | None = None
    count: int | None = None
    mention: Span | None = None


class Casualties(BaseModel):
    model_config = ConfigDict(frozen=True)
    killed: Count | None = None
    injured: Count | None = None
    statement: Literal["reported", "no_immediate_reports", "none", "unknown"] = "unknown"
    evidence: Span | None = None


class Attribution(BaseModel):
    model_config = ConfigDict(frozen=True)
    source: Name  # "Pentagon", "John F. Kirby", "US officials"
    role: Literal["claimed", "attributed", "reported"] = "reported"
    quote: Span


SpeakerKind = Literal[
    "ministry",
    "military",
    "armed_group",
    "government",
    "local_official",
    "police",
    "emergency_service",
    "medical",
    "un_agency",
    "ngo",
    "witness",
    "media",
    "outlet",
    "unknown",
]


class Claim(BaseModel):
    """What one speaker says about a strike in one article (schema 2): a casualty figure, who
    is responsible (claimed by, blamed on, denied by) or what was hit, with its quote.

    ``speaker`` is as the text names it ("Russia's defence ministry"); when the text names no
    one the outlet itself speaks (``speaker_kind`` "outlet"). ``speaker_side`` is the party the
    speaker belongs to: an ISO 3166-1 alpha-2 code or an armed group's name. The article,
    outlet, family and times are filled as the claim travels (extraction, then clustering)."""

    model_config = ConfigDict(frozen=True)
    id: str  # stable: article id + kind + quote offsets + what is claimed
    kind: Literal["casualties", "responsibility", "target"]
    speaker: str
    speaker_kind: SpeakerKind = "unknown"
    speaker_side: str | None = None
    killed: int | None = None  # casualties
    injured: int | None = None
    counted: str | None = None  # casualties: whom the figure counts, "people" (a total), "children", "combatants", ...
    stance: Literal["claimed", "blamed", "denied"] | None = None  # responsibility
    party: str | None = None  # responsibility: who is claimed, blamed or denied
    party_side: str | None = None  # the party's side, as for speaker_side
    target: str | None = None  # what was hit
    quote: Span
    article_id: str | None = None
    event_id: str | None = None
    url: str | None = None
    outlet: str | None = None
    family: str | None = None  # the outlet family (pipeline/claims/families.py) of its article
    published_at: AwareDatetime | None = None
    seen_at: AwareDatetime | None = None

    @staticmethod
    def make_id(article_id: str, kind: str, start: int, end: int, detail: str = "") -> str:
        return "c_" + _digest(article_id, kind, str(start), str(end), detail, size=10)


class Provenance(BaseModel):
    """Where an article's text comes from, for telling independent reports from copies
    (schema 2): its publisher (one name for a publisher's domains and editions), the wire
    agency it credits, and a MinHash signature of its text (near-duplicate copies)."""

    model_config = ConfigDict(frozen=True)
    publisher: str | None = None  # "bbc" for bbc.co.uk and bbc.com
    credit: str | None = None  # "reuters", "afp", "ap" when the text credits the agency
    signature: str | None = None  # base64 of the MinHash values (pipeline/claims/families.py)


class Event(Record):
    """One real-world strike or attack reported in one article (topic ``events``, key ``id``)."""

    id: Id
    article_id: Id
    source: str = ""
    event_type: EventType
    modality: Modality = Modality.ASSERTED
    acled_sub_event_type: str | None = None
    cameo_code: str | None = None
    attacker: Actor | None = None
    # Every attacker named, ``attacker`` first: "Afghan and coalition forces" are two (schema 2).
    attackers: Capped[Actor] = Field(default_factory=list)
    targets: Capped[Actor] = Field(default_factory=list)
    target_kinds: Capped[
        Literal["facility", "base", "convoy", "personnel", "vehicle", "civilian", "infrastructure", "unknown"]
    ] = Field(default_factory=list)
    places: Capped[Place] = Field(default_factory=list)
    time: EventTime = Field(default_factory=EventTime)
    platforms: Capped[Weapon] = Field(default_factory=list)
    munitions: Capped[Weapon] = Field(default_factory=list)
    strike_count: Count | None = None
    target_count: Count | None = None
    casualties: Casualties = Field(default_factory=Casualties)
    attributions: Capped[Attribution] = Field(default_factory=list)
    provoked_by: Capped[str] = Field(default_factory=list)  # ids of events this one answers
    de_escalation_cues: Capped[Span] = Field(default_factory=list)
    evidence: Capped[Span] = Field(default_factory=list)  # sentences that describe this event
    confidence: float = Field(ge=0.0, le=1.0, default=0.5)
    article_published_at: SaneTime = None
    extracted_at: AwareDatetime | None = None
    # The reporting article, so an incident and its alerts can link to it (schema 2).
    article_url: str | None = None
    article_title: str | None = None
    outlet: str | None = None
    # Which extractor made this event ("<package version>+<model version>"): a
    # re-extraction of the same article can be told from the first (schema 2).
    extractor_version: str | None = None
    # Who says what about this strike in this article, and where the article's text comes
    # from (schema 2; pipeline/extraction/facts/claims, pipeline/claims/families.py).
    claims: list[Claim] = Field(default_factory=list)
    provenance: Provenance | None = None
    # The language the article is written in (ISO 639-1: "en", "uk", "ar", ...); quotes are
    # in it, every name and field is English (schema 2, optional: older events have none).
    language: str | None = None

    @staticmethod
    def make_id(article_id: str, event_type: str, anchor_start: int, anchor_end: int) -> str:
        return "e_" + _digest(article_id, str(event_type), str(anchor_start), str(anchor_end))


# --------------------------------------------------------------------------- Incident and scores


class IncidentSource(BaseModel):
    model_config = ConfigDict(frozen=True)
    event_id: str
    article_id: str
    source: str
    published_at: SaneTime = None
    seen_at: AwareDatetime | None = None
    # The article behind the report (schema 2; None in version-1 records).
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    family: str | None = None  # id of its outlet family (Incident.families; schema 2)
    provenance: Provenance | None = None  # its article's publisher, credit and text signature (schema 2)
    language: str | None = None  # of the reporting article (ISO 639-1; schema 2, optional)


class SourceFamily(BaseModel):
    """Reports that are not independent of each other (schema 2): copies of one text, one
    wire agency's story, one publisher's domains and editions."""

    model_config = ConfigDict(frozen=True)
    id: str  # the family's name: "wire:reuters", "publisher:bbc", "text:<article id>", "outlet:example.org"
    label: str  # for people: "Reuters (wire)", "bbc", "example.org"
    first_report_at: AwareDatetime | None = None  # its first report's publication (else seen) time
    articles: list[str] = Field(default_factory=list)  # article ids
    outlets: list[str] = Field(default_factory=list)


class Figure(BaseModel):
    """A speaker's latest casualty figure for an incident (schema 2)."""

    model_config = ConfigDict(frozen=True)
    speaker: str
    speaker_kind: SpeakerKind = "unknown"
    speaker_side: str | None = None
    killed: int | None = None
    injured: int | None = None
    counted: str | None = None  # whom it counts: "people" (a total), "children", ... (None: older records)
    at: AwareDatetime | None = None
    claim_id: str
    outlet: str | None = None
    article_id: str | None = None


Grade = Literal["confirmed", "corroborated", "single_source", "contested"]
# What an alert says happened: a new incident, an update, or (schema 2) an incident newly
# corroborated or contested.
AlertKind = Literal["new_incident", "update", "corroborated", "contested"]
DEFAULT_NOTIFY_ON: tuple[AlertKind, ...] = ("new_incident", "update")


class Incident(Record):
    """One real-world strike merged across articles (topic ``incidents``, key ``id``).

    ``revision`` grows by one each time a later report changes what is known."""

    id: Id
    revision: Revision = 0
    event_type: EventType
    attacker: Actor | None = None
    targets: Capped[Actor] = Field(default_factory=list)
    places: Capped[Place] = Field(default_factory=list)
    time: EventTime = Field(default_factory=EventTime)
    platforms: Capped[Name] = Field(default_factory=list)
    munitions: Capped[Name] = Field(default_factory=list)
    casualties: Casualties = Field(default_factory=Casualties)
    sources: list[IncidentSource] = Field(default_factory=list)
    source_count: Count = 0
    first_seen_at: SaneTime = None
    first_seen_latency_s: Finite | None = None  # first report seen minus first published
    changes: list[str] = Field(default_factory=list)  # what this revision changed
    severity: Unit | None = None
    theatre: str | None = None
    # Who says what, and how independently (schema 2; pipeline/claims/corroboration.py). Claims
    # accumulate across revisions, never replaced; the rest is recomputed from them each revision.
    claims: list[Claim] = Field(default_factory=list)
    families: list[SourceFamily] = Field(default_factory=list)
    independent_sources: int = 0  # outlet families, not articles
    single_source: bool = False
    contested: bool = False
    contested_reasons: list[str] = Field(default_factory=list)
    figures: list[Figure] = Field(default_factory=list)  # latest casualty figure per speaker
    killed_range: tuple[int, int] | None = None  # lowest and highest killed figure claimed
    grade: Grade | None = None
    grade_reason: str = ""
    # What the clustering compares later reports with: the first report's sentences about the strike, at
    # most 1,000 characters (schema 2, optional). A restarted pipeline reopens its open incidents from the
    # incidents topic with it (pipeline/recovery.py).
    cluster_text: str | None = Field(None, max_length=1000)


class ScoreComponent(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    value: Finite
    weight: Finite
    note: str = ""


class EscalationScore(Record):
    """Escalation index of a dyad or theatre at a time (topic ``escalation``, key ``scope:key``)."""

    scope: Literal["event", "dyad", "theatre"]
    key: str
    at: AwareDatetime
    value: Unit
    components: list[ScoreComponent] = Field(default_factory=list)
    tit_for_tat_chain: list[str] = Field(default_factory=list)  # event/incident ids in order
    de_escalation_cues: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- Subscriptions and alerts


class Subscription(Record):
    """A subscriber's alert filter (compacted topic ``subscriptions``, key ``id``; a
    tombstone deletes it)."""

    id: Id
    owner: str  # subscriber id; the API key maps to it
    name: str = ""
    event_types: list[EventType] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    bbox: tuple[Longitude, Latitude, Longitude, Latitude] | None = None  # min_lon, min_lat, max_lon, max_lat
    min_severity: Unit = 0.0
    min_escalation: Unit = 0.0
    # Corroboration (issue 21): "only when two independent outlets confirm" is min_independent_sources=2;
    # contested None: either; grades: any of them (empty: any grade).
    min_independent_sources: int = Field(0, ge=0)
    contested: bool | None = None
    grades: list[Grade] = Field(default_factory=list)
    # "corroborated" / "contested": an alert when an incident already alerted becomes corroborated (or
    # confirmed) or contested; "update" includes them.
    notify_on: list[AlertKind] = Field(default_factory=lambda: list(DEFAULT_NOTIFY_ON))
    # Not in reprs: a webhook URL's path can be its credential (Slack's /services/T../B../<token>).
    webhook_url: str | None = Field(None, repr=False)
    webhook_format: Literal["cloudevents", "slack", "alertmanager"] = "cloudevents"
    created_at: AwareDatetime | None = None
    # Which derived webhook secret signs this subscription's deliveries (strikewatch/services/webhooks.py); rotating
    # the secret is writing the subscription with the next version. The secret itself is never on a topic.
    secret_version: int = Field(1, ge=1)


class Alert(Record):
    """An alert for one subscription about one incident (topic ``alerts``, key ``subscription_id``)."""

    id: Id  # stable: subscription id + incident id + incident revision
    subscription_id: Id
    owner: str
    incident_id: Id
    incident_revision: Revision
    kind: AlertKind
    severity: Unit
    escalation: Unit | None = None
    title: str
    summary: str
    incident: Incident
    created_at: AwareDatetime
    # Where to deliver: copied from the subscription when the alert is made, so the
    # deliverer needs no lookup and an alert is delivered as it was subscribed.
    webhook_url: str | None = Field(None, repr=False)
    webhook_format: Literal["cloudevents", "slack", "alertmanager"] = "cloudevents"
    webhook_secret_version: int = Field(1, ge=1)  # the subscription's secret_version when the alert was made


# --------------------------------------------------------------------------- Dead letters


class Reason(StrEnum):
    """Why a record was dead-lettered: the one vocabulary of ``DeadLetter.reason`` and of
    the ``reason`` label of every dead-letter and failure metric (so it stays bounded).
    A new failure mode gets a member here; a string that is not one is recorded as
    ``other`` (with the string kept in the dead letter's ``error``)."""

    # Any stage
    OTHER = "other"  # not a member: also the metric label of any unbounded value
    ERROR = "error"  # an unexpected exception (a bug): the record is kept for replay
    INTERNAL_ERROR = "internal_error"
    TOO_LARGE = "too_large"  # over a size limit: article length, Kafka message size, HTTP body
    TIMEOUT = "timeout"
    KAFKA_REFUSED = "kafka_refused"  # the broker refused the record for good (not its size)
    # Decoding records (pipeline.decode, pipeline.subscriptions, delivery.decode, connector.replay)
    EMPTY = "empty"
    NOT_UTF8 = "not_utf8"
    INVALID_JSON = "invalid_json"
    TOO_DEEP = "too_deep"  # nested past the parser's recursion limit ([[[[...]]]])
    SCHEMA_MISMATCH = "schema_mismatch"
    BAD_RECORD = "bad_record"
    # Extraction
    EXTRACT_ERROR = "extract_error"
    TOO_SLOW = "too_slow"  # a long article past its extraction budget (pipeline/extract.py)
    # Fetching and parsing feeds (connectors)
    BAD_URL = "bad_url"
    UNREACHABLE = "unreachable"
    SSRF_BLOCKED = "ssrf_blocked"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    ROBOTS_DISALLOWED = "robots_disallowed"
    HTTP_1XX = "http_1xx"
    HTTP_3XX = "http_3xx"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    NOT_A_FEED = "not_a_feed"
    MALFORMED = "malformed"
    MALFORMED_RECOVERED = "malformed_recovered"
    XML_BOMB = "xml_bomb"
    XXE = "xxe"
    BAD_ENCODING = "bad_encoding"  # stacked, unknown or corrupt Content-Encoding
    # Delivery
    WEBHOOK_FAILED = "webhook_failed"  # retried to the end (5xx, 408, 429, unreachable)
    WEBHOOK_REJECTED = "webhook_rejected"  # a permanent answer (4xx other than 408/429): not retried
    # The incident store
    STORE_REJECTED = "store_rejected"

    @classmethod
    def of(cls, value: str | Reason) -> Reason:
        """``value`` as a member, or OTHER: for a label or reason read from anywhere."""
        try:
            return cls(value)
        except ValueError:
            return cls.OTHER

    @classmethod
    def for_error(cls, error: BaseException, default: Reason | None = None) -> Reason:
        """The reason an exception stands for: its own ``reason`` (the packages' root
        exceptions carry one), else by type, else ``default`` (ERROR)."""
        import json as _json

        from pydantic import ValidationError

        own = getattr(error, "reason", None)
        if isinstance(own, str):
            return cls.of(own)
        if isinstance(error, RecursionError):
            return cls.TOO_DEEP
        if isinstance(error, UnicodeDecodeError):
            return cls.NOT_UTF8
        if isinstance(error, _json.JSONDecodeError):
            return cls.INVALID_JSON
        if isinstance(error, ValidationError):
            return cls.SCHEMA_MISMATCH
        if isinstance(error, (MemoryError, OverflowError)):
            return cls.TOO_LARGE
        if isinstance(error, TimeoutError):
            return cls.TIMEOUT
        return default or cls.ERROR


# Characters of an error message kept in a dead letter (a pydantic error on a large
# record can run to megabytes).
DEAD_LETTER_ERROR_CHARS = 2000


class DeadLetter(Record):
    """A record a stage could not handle (topic ``dead-letters``, key ``stage``).

    Keeps the raw payload (UTF-8 text, or base64 when it was not text) so it can be
    inspected and replayed."""

    stage: str  # connector.fetch, connector.parse, pipeline.decode, pipeline.extract, ...
    reason: Reason
    error: str  # human-readable message
    payload: str = ""
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    source: str | None = None  # feed name, topic name
    at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _known_reason(cls, data: Any) -> Any:
        reason = data.get("reason") if isinstance(data, dict) else None
        if isinstance(reason, str) and reason != Reason.OTHER and Reason.of(reason) is Reason.OTHER:
            data = {**data, "reason": Reason.OTHER, "error": f"[{reason[:100]}] {data.get('error', '')}"}
        return data

    @classmethod
    def from_error(
        cls,
        stage: str,
        error: BaseException,
        payload: bytes | str | None,
        source: str | None = None,
        reason: Reason | str | None = None,
    ) -> DeadLetter:
        """The dead letter of ``payload`` that failed with ``error`` at ``stage``; the
        reason is ``reason`` if given, else the one the error stands for (``Reason.for_error``)."""
        why = Reason.of(reason) if reason is not None else Reason.for_error(error)
        return cls.of(stage, why, error, payload, source)

    @classmethod
    def of(
        cls,
        stage: str,
        reason: Reason | str,
        error: str | BaseException,
        payload: bytes | str | None,
        source: str | None = None,
    ) -> DeadLetter:
        import base64

        if isinstance(error, BaseException):
            try:
                error = f"{type(error).__name__}: {error}"
            except Exception:  # noqa: BLE001 - an exception whose str() fails still gets its letter
                error = type(error).__name__
        enc: Literal["utf-8", "base64"] = "utf-8"
        if payload is None:
            text = ""
        elif isinstance(payload, str):
            text = payload
        else:
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                text, enc = base64.b64encode(payload).decode("ascii"), "base64"
        return cls(
            stage=stage,
            reason=reason,
            error=str(error)[:DEAD_LETTER_ERROR_CHARS],
            payload=text,
            payload_encoding=enc,
            source=source,
            at=datetime.now(dt.UTC),
        )


WIRE_MODELS: dict[str, type[Record]] = {
    "Article": Article,
    "Event": Event,
    "Incident": Incident,
    "EscalationScore": EscalationScore,
    "Alert": Alert,
    "Subscription": Subscription,
    "DeadLetter": DeadLetter,
}


def export_schemas(out_dir: str | Path) -> list[Path]:
    """Write one JSON Schema file per wire model into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in WIRE_MODELS.items():
        path = out / f"{name.lower()}.v{SCHEMA_VERSION}.schema.json"
        path.write_text(json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m strikewatch.core.models deploy/schemas
    for p in export_schemas(sys.argv[1] if len(sys.argv) > 1 else "deploy/schemas"):
        print(p)

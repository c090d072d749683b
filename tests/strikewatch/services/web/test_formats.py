"""strikewatch.services.web.formats on our own records (pure functions): district-level places."""

from strikewatch.services.web import formats


def _event(place: dict) -> dict:
    return {
        "id": "e_1",
        "article_id": "a_1",
        "event_type": "air_strike",
        "time": {"date": "2020-05-09", "precision": "day"},
        "places": [place],
        "casualties": {"killed": 2},
    }


def test_a_district_fills_acleds_admin2_column_at_geo_precision_2():
    place = {
        "name": "Al Husha",
        "country": "Yemen",
        "country_code": "YE",
        "admin1": "Ad Dali",
        "lat": 13.77,
        "lon": 44.44,
        "precision": "admin2",
    }
    row = formats.acled_row(_event(place))
    assert (row["admin1"], row["admin2"], row["location"], row["geo_precision"]) == (
        "Ad Dali",
        "Al Husha",
        "Al Husha",
        2,
    )
    city = dict(place, name="Dawran", precision="city")
    assert formats.acled_row(_event(city))["admin2"] == ""
    assert formats.STIX_PRECISION_M["city"] < formats.STIX_PRECISION_M["admin2"] < formats.STIX_PRECISION_M["admin1"]


# --- ACLED CSV coded as ACLED codes it (issue 20, item 3) -----------------------------------------------------------
import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from strikewatch.core.models import (  # noqa: E402
    Actor,
    Casualties,
    Claim,
    EventTime,
    EventType,
    Incident,
    IncidentSource,
    Place,
    Span,
)
from strikewatch.services.store import synthetic as R  # noqa: E402

# ACLED's codebook (2024, "Interaction codes"): every interaction code there is; inter codes 0-8.
CODEBOOK_INTERACTIONS = {
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    20,
    22,
    23,
    24,
    25,
    26,
    27,
    28,
    30,
    33,
    34,
    35,
    36,
    37,
    38,
    40,
    44,
    45,
    46,
    47,
    48,
    50,
    55,
    56,
    57,
    58,
    60,
    66,
    67,
    68,
    70,
    77,
    78,
    80,
    88,
}
CODEBOOK_INTER_LABELS = {
    "State forces",
    "Rebel group",
    "Political militia",
    "Identity militia",
    "Rioters",
    "Protesters",
    "Civilians",
    "External/Other forces",
}
IRAQ = Place(name="Al Qaim", country="Iraq", country_code="IQ", lat=34.37, lon=41.09, precision="city")
T0 = datetime(2024, 3, 1, 6, tzinfo=UTC)


def inc(i=1, **kw) -> dict:
    """An incident record (as the store keeps it) with the given fields."""
    base = dict(
        id=f"i_{i}",
        event_type=EventType.AIR_STRIKE,
        places=[IRAQ],
        time=EventTime(date=T0.date(), precision="day"),
        sources=[
            IncidentSource(
                event_id=f"e_{i}",
                article_id=f"a_{i}",
                source="s",
                url=f"https://news.example/{i}",
                published_at=T0,
                outlet="news.example",
            )
        ],
        source_count=1,
        first_seen_at=T0 + timedelta(minutes=5),
    )
    return json.loads(Incident(**{**base, **kw}).model_dump_json())


US = Actor(name="United States", type="state_military", country="US")
IRAQI_ARMY = Actor(name="Military Forces of Iraq", type="state_military", country="IQ")
KH = Actor(name="Kataib Hezbollah", type="militia_proxy")
IS = Actor(name="Islamic State", type="terrorist")
CIVILIANS = Actor(name="Civilians (Iraq)", type="civilians")
BRIDGE = Actor(name="a bridge", type="object")


@pytest.mark.parametrize(
    "attacker, targets, inter1, inter2, interaction, labels",
    [
        (US, [], 8, 0, 80, ("External/Other forces", "", "External/Other forces only")),  # a state abroad, one actor
        (IRAQI_ARMY, [], 1, 0, 10, ("State forces", "", "State forces only")),  # a state at home
        (IRAQI_ARMY, [IS], 1, 2, 12, ("State forces", "Rebel group", "State forces-Rebel group")),
        (US, [KH], 8, 3, 38, ("External/Other forces", "Political militia", "Political militia-External/Other forces")),
        (US, [CIVILIANS], 8, 7, 78, ("External/Other forces", "Civilians", "External/Other forces-Civilians")),
        (KH, [US], 3, 8, 38, ("Political militia", "External/Other forces", "Political militia-External/Other forces")),
        (
            None,
            [CIVILIANS],
            3,
            7,
            37,
            ("Political militia", "Civilians", "Political militia-Civilians"),
        ),  # unidentified
        (IS, [BRIDGE], 2, 0, 20, ("Rebel group", "", "Rebel group only")),  # an object is no second actor
    ],
)
def test_inter_codes_as_acled_codes_them(attacker, targets, inter1, inter2, interaction, labels):
    rec = inc(attacker=attacker, targets=targets)
    row = formats.acled_row(rec)
    assert (row["inter1"], row["inter2"], row["interaction"]) == (inter1, inter2, interaction)
    assert interaction in CODEBOOK_INTERACTIONS
    text = formats.acled_row(rec, inter_num=False)
    assert (text["inter1"], text["inter2"], text["interaction"]) == labels
    assert text["inter1"] in CODEBOOK_INTER_LABELS and text["inter2"] in CODEBOOK_INTER_LABELS | {""}
    if attacker is None:
        assert row["actor1"] == "Unidentified Armed Group (Iraq)" and row["actor2"] == "Civilians (Iraq)"
        assert row["civilian_targeting"] == "Civilian targeting"


def test_the_interaction_table_is_acleds_codebook():
    inter, interaction = formats.acled_labels()
    assert set(interaction) == CODEBOOK_INTERACTIONS and set(inter.values()) - {""} == CODEBOOK_INTER_LABELS
    for code in CODEBOOK_INTERACTIONS:  # the code is the two inter codes, lower first (10 x code for one actor)
        hi, lo = divmod(code, 10)
        assert formats.interaction_code(hi, lo) == code


def _hostile_and_sparse() -> list[dict]:
    """Rows that used to come out blank or as floats, and cells from hostile article text."""
    return [
        inc(1, attacker=US, targets=[KH, CIVILIANS]),
        inc(2, attacker=None, targets=[], places=[], time=EventTime()),  # no place, no date, no attacker
        inc(
            3,
            attacker=Actor(name='=HYPERLINK("http://evil.example","x")', type="rebel"),
            targets=[
                Actor(name="+cmd|' /C calc'!A0", type="militia_proxy"),
                Actor(name="-2+3", type="rebel"),
                Actor(name="@SUM(1+1)", type="unknown"),
            ],
            places=[Place(name="\t=1+1", country="Chile", country_code="CL", lat=-33.45, lon=-70.66, precision="city")],
        ),
        inc(
            4,
            attacker=KH,
            time=EventTime(start=T0, precision="hour"),
            event_type=EventType.DRONE_STRIKE,
            casualties=Casualties(killed=3, statement="reported"),
        ),
        inc(
            5,
            attacker=IS,
            targets=[BRIDGE],
            places=[Place(name="\r=2", precision="unknown")],
            event_type=EventType.SHELLING,
        ),
        json.loads(R.event(7).model_dump_json()),  # an event record exports too
    ]


def test_the_csv_reads_into_pandas_with_acleds_types():
    text = formats.acled_csv(_hostile_and_sparse())
    df = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    assert tuple(df.columns) == formats.ACLED_COLUMNS and len(df) == 6
    for col in (
        "year",
        "time_precision",
        "inter1",
        "inter2",
        "interaction",
        "iso",
        "geo_precision",
        "fatalities",
        "timestamp",
    ):
        assert df[col].dtype == "int64", (col, df[col].dtype)
    assert df["latitude"].dtype == "float64" and df["latitude"].iloc[2] == -33.45  # numbers are not escaped
    assert pd.to_datetime(df["event_date"], format="%Y-%m-%d").notna().all()
    assert (df["year"] == pd.to_datetime(df["event_date"]).dt.year).all()
    assert set(df["interaction"]) <= CODEBOOK_INTERACTIONS and set(df["inter1"]) <= set(range(1, 9))
    assert set(df["inter2"]) <= set(range(0, 9)) and set(df["time_precision"]) <= {1, 2, 3}
    assert set(df["geo_precision"]) <= {1, 2, 3}
    # The undated incident takes the day it was first reported, at ACLED's least precise time code.
    undated = df[df["event_id_cnty"] == "i_2"].iloc[0]
    assert (undated["event_date"], undated["time_precision"], undated["iso"]) == ("2024-03-01", 3, 0)
    assert undated["actor1"] == "Unidentified Armed Group" and undated["geo_precision"] == 3
    # A window's start gives the day (hour precision is ACLED's 1).
    assert df[df["event_id_cnty"] == "i_4"].iloc[0][["event_date", "time_precision", "fatalities"]].tolist() == [
        "2024-03-01",
        1,
        3,
    ]
    labels = pd.read_csv(io.StringIO(formats.acled_csv(_hostile_and_sparse(), inter_num=False)), keep_default_na=False)
    assert set(labels["inter1"]) <= CODEBOOK_INTER_LABELS and labels["interaction"].iloc[1] == "Political militia only"


def test_no_csv_cell_from_article_text_starts_a_formula():
    rows = list(csv.DictReader(io.StringIO(formats.acled_csv(_hostile_and_sparse()))))
    for row in rows:
        for col in formats.ACLED_TEXT_COLUMNS:
            assert not row[col].startswith(("=", "+", "-", "@", "\t", "\r")), (col, row[col])
    r3 = rows[2]
    assert r3["actor1"] == '\'=HYPERLINK("http://evil.example","x")' and r3["actor2"] == "'+cmd|' /C calc'!A0"
    assert r3["assoc_actor_2"] == "'-2+3; @SUM(1+1)" and r3["location"] == "'\t=1+1" and rows[4]["location"] == "'\r=2"
    assert r3["latitude"] == "-33.45" and r3["longitude"] == "-70.66"  # numeric cells stay numbers


def test_notes_read_as_english():
    notes = [r["notes"] for r in csv.DictReader(io.StringIO(formats.acled_csv(_hostile_and_sparse())))]
    assert notes[0] == (
        "On 1 March 2024, United States carried out an air strike on Kataib Hezbollah and Civilians (Iraq) in Al Qaim."
    )
    assert notes[1] == "On an unknown date, Unidentified attackers carried out an air strike."
    assert notes[3].startswith("On 1 March 2024, Kataib Hezbollah carried out a drone strike in Al Qaim")
    assert " carried out shelling on a bridge" in notes[4]
    assert not any(" a air" in n or " a attack" in n for n in notes)


def test_the_escalation_csv_is_csv_and_escaped():
    scores = [
        {
            "scope": "dyad",
            "key": 'Houthis vs "United States", Navy',
            "at": "2024-03-01T00:00:00Z",
            "value": 0.5,
            "tit_for_tat_chain": ["i_1", "i_2"],
        },
        {
            "scope": "theatre",
            "key": "=cmd|'/C calc'!A0",
            "at": "2024-03-02T00:00:00Z",
            "value": 0.25,
            "tit_for_tat_chain": [],
        },
    ]
    got = list(csv.reader(io.StringIO(formats.escalation_csv(scores))))
    assert got == [
        ["scope", "key", "at", "value", "chain"],
        ["dyad", 'Houthis vs "United States", Navy', "2024-03-01T00:00:00Z", "0.5", "i_1 i_2"],
        ["theatre", "'=cmd|'/C calc'!A0", "2024-03-02T00:00:00Z", "0.25", ""],
    ]


# --- STIX 2.1, strict (issue 20, item 2) ----------------------------------------------------------------------------
from stix2validator import ValidationOptions, validate_string  # noqa: E402

IDENTITY_CLASSES = {"individual", "group", "system", "organization", "class", "unknown"}


def strict_messages(bundle_json: str, disabled=()) -> list[str]:
    """Every error and warning of stix2-validator --strict (all best practices but ``disabled``)."""
    options = ValidationOptions(version="2.1", strict=True, disabled=list(disabled))
    result = validate_string(bundle_json, options)  # the bundle is one object: its results hold every object's
    return [str(e) for e in (result.errors or []) + (result.warnings or [])] + ([] if result.is_valid else ["invalid"])


def test_stix_passes_the_strict_validator():
    claim = Claim(
        id="c_1",
        kind="responsibility",
        speaker="Russia's defence ministry",
        speaker_kind="ministry",
        stance="denied",
        party="RU",
        quote=Span(text="denied any involvement", start=0, end=22),
        event_id="e_10",
        url="https://news.example/10",
        outlet="news.example",
        published_at=T0,
    )
    records = _hostile_and_sparse() + [
        inc(9, attacker=Actor(name="Someone", type="unknown"), targets=[CIVILIANS]),
        inc(10, attacker=US, claims=[claim]),
    ]
    bundle = formats.stix_bundle(records)
    assert strict_messages(bundle.serialize()) == []  # every check, best practice 103 (UUIDv4 ids) included
    assert formats.stix_bundle(records).serialize() == bundle.serialize()  # deterministic: the same ids again
    objs = json.loads(bundle.serialize())["objects"]
    assert {o["identity_class"] for o in objs if o["type"] == "identity"} <= IDENTITY_CLASSES
    assert {o["relationship_type"] for o in objs if o["type"] == "relationship"} == {"related-to"}
    for o in objs:  # a link with no hash would be a warning; article links are url objects instead
        for ref in o.get("external_references", []):
            assert "url" not in ref or ref.get("hashes")
    urls = {o["value"] for o in objs if o["type"] == "url"}
    assert "https://news.example/1" in urls and "https://news.example/7/0" in urls
    us = next(o for o in objs if o["type"] == "incident" and o["external_references"][0]["external_id"] == "i_1")
    ext = us["extensions"][formats.EXTENSION_ID]
    assert ext["event_type"] == "air_strike" and ext["attacker_ref"].startswith("identity--")
    assert len(ext["target_refs"]) == 2 and ext["location_ref"].startswith("location--")
    assert any(o["id"] == formats.EXTENSION_ID and o["type"] == "extension-definition" for o in objs)
    [note] = [o for o in objs if o["type"] == "note"]  # the claim, on the incident and its article
    article = next(o for o in objs if o["type"] == "observed-data" and o["id"] in note["object_refs"])
    assert {o["value"] for o in objs if o["id"] in article["object_refs"]} == {"https://news.example/10"}


def test_a_revision_moves_modified_and_keeps_the_id():
    first = inc(1, attacker=US, revision=0)
    second_source = IncidentSource(
        event_id="e_1b",
        article_id="a_1b",
        source="s",
        url="https://news.example/1b",
        published_at=T0 + timedelta(hours=2),
        seen_at=T0 + timedelta(hours=2, minutes=1),
    )
    second = dict(
        first, revision=1, sources=first["sources"] + [json.loads(second_source.model_dump_json())], source_count=2
    )
    third = dict(second, revision=2)  # a revision that adds no report still moves modified

    def incident(rec):
        return next(o for o in json.loads(formats.stix_bundle([rec]).serialize())["objects"] if o["type"] == "incident")

    a, b, c = incident(first), incident(second), incident(third)
    assert a["id"] == b["id"] == c["id"] and a["created"] == b["created"] == c["created"]
    assert a["modified"] < b["modified"] < c["modified"]
    assert b["modified"].startswith("2024-03-01T08:01:00.001")

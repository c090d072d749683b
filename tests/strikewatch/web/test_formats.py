"""strikewatch.web.formats on our own records (pure functions): district-level places."""

from strikewatch.web import formats


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

"""pipeline.extraction.geo: offline geocoding on our own short strings."""

import pytest

from pipeline.extraction import geo
from strikewatch.models import Span


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Burkinabe", ("Burkina Faso", "BF")),
        ("Iraqi", ("Iraq", "IQ")),
        ("Afghans", ("Afghanistan", "AF")),
        ("Democratic Republic of the Congo", ("Democratic Republic of Congo", "CD")),
        ("Cote d'Ivoire", ("Ivory Coast", "CI")),
        ("Côte d’Ivoire", ("Ivory Coast", "CI")),
        ("Burma", ("Myanmar", "MM")),
        ("Syrian Arab Republic", ("Syria", "SY")),
        ("Russian Federation", ("Russia", "RU")),
        ("SS", ("South Sudan", "SS")),
        ("Palestinian", ("Palestine", "PS")),
    ],
)
def test_normalize_country_maps_names_demonyms_and_codes_to_acled_names(name, expected):
    assert geo.normalize_country(name) == expected


def test_normalize_country_rejects_non_countries():
    assert geo.normalize_country("Luhansk") is None
    assert geo.normalize_country("") is None


def test_countries_in_orders_by_first_mention_and_ignores_the_pronoun_us():
    text = "Let us say Syrian and Iraqi militias, backed by Iran, fought near South Sudan; the U.S. said."
    assert geo.countries_in(text) == ["Syria", "Iraq", "Iran", "South Sudan", "United States"]


def test_context_countries_prefers_named_divisions_over_attacker_demonyms():
    text = "Turkish forces shelled a village in al-Hasakeh countryside."
    assert geo.context_countries(text)[0] == "Syria"
    assert geo.context_countries("Saudi-led coalition airstrikes hit Marib.")[0] == "Yemen"


def test_context_countries_demotes_the_attacker_country_between_equal_demonyms():
    text = "French and Burkinabe aircraft struck a village."
    assert geo.context_countries(text, attacker_countries=["FR"])[0] == "Burkina Faso"


def test_city_is_disambiguated_by_context_then_population():
    hama = geo.geocode("Hama", context_countries=["Syria"])
    assert hama.precision == "city" and hama.country == "Syria" and hama.geonameid
    tripoli_ly = geo.geocode("Tripoli", context_countries=["Libya"])
    tripoli_lb = geo.geocode("Tripoli", context_countries=["Lebanon"])
    assert tripoli_ly.country_code == "LY" and tripoli_lb.country_code == "LB"
    # No context: the most populous same-named city.
    assert geo.geocode("Tripoli").country_code == "LY"


def test_small_foreign_homonym_is_not_taken_when_context_says_otherwise():
    # A village named like a small town abroad stays unresolved rather than jumping countries.
    assert geo.geocode("Gao", context_countries=["Syria"]) is None
    assert geo.geocode("Gao", context_countries=["Mali"]).country_code == "ML"


@pytest.mark.parametrize(
    "name, precision, country, admin1",
    [
        ("Luhansk Oblast", "admin1", "Ukraine", "Luhansk"),
        ("Helmand", "admin1", "Afghanistan", "Hilmand"),
        ("Sanmatenga", "region", "Burkina Faso", "Centre-Nord"),
        ("Gaza Strip", "region", "Palestine", None),
        ("West Bank", "region", "Palestine", None),
        ("Donbas", "region", "Ukraine", None),
        ("eastern Syria", "region", "Syria", None),
    ],
)
def test_curated_divisions_and_regions(name, precision, country, admin1):
    p = geo.geocode(name)
    assert (p.precision, p.country, p.admin1) == (precision, country, admin1)
    assert p.lat is not None and p.lon is not None


def test_border_regions_resolve_to_a_midpoint_either_way_round():
    a = geo.geocode("Iraqi-Syrian border region")
    b = geo.geocode("Syrian-Iraqi border")
    assert a.precision == b.precision == "border_region"
    assert (a.lat, a.lon) == (b.lat, b.lon)
    assert 33.5 < a.lat < 35.5 and 40 < a.lon < 42  # between Al Qaim and Abu Kamal
    # Not curated: built from the two countries' centroids.
    c = geo.geocode("Chad-Sudan border")
    assert c.precision == "border_region" and c.country_code == "TD"


def test_acled_village_falls_back_to_its_admin_unit_and_keeps_the_name():
    p = geo.geocode("Zxqvillage (Barsalogho, Sanmatenga)")
    assert p.name == "Zxqvillage" and p.country == "Burkina Faso" and p.precision == "region" and p.geonameid is None
    q = geo.geocode("Zxqhamlet, Luhansk")
    assert q.name == "Zxqhamlet" and q.country_code == "UA" and q.admin1 == "Luhansk" and q.precision == "admin1"


def test_resolve_in_context_uses_tail_then_nearest_division_then_country():
    mention = Span(text="Zxqvil", start=20, end=26)
    text = "Mortars were fired  Zxqvil, Donetsk, by the rebels."
    p = geo.resolve_in_context("Zxqvil", text, mention=mention)
    assert (p.name, p.country_code, p.admin1) == ("Zxqvil", "UA", "Donetsk")
    p = geo.resolve_in_context("Zxqabad", "Turkish forces shelled Zxqabad in Raqqa countryside.")
    assert (p.name, p.country, p.admin1, p.precision) == ("Zxqabad", "Syria", "Ar-Raqqa", "admin1")
    p = geo.resolve_in_context("Zxqkot", "Afghan forces struck Zxqkot.")
    assert (p.name, p.country, p.precision) == ("Zxqkot", "Afghanistan", "country")
    assert geo.resolve_in_context("Zxqkot", "Nothing known here.") is None


def test_places_in_skips_known_names_inside_compounds():
    found = [(s.text, p.country) for s, p in geo.places_in("shelled Jabal al-Zawiya and Dara i Sufi, then Kunar and Idlib")]
    assert found == [("Kunar", "Afghanistan"), ("Idlib", "Syria")]


def test_bracketed_places_locates_villages_by_their_admin_tail():
    text = "Jets hit Zxqgou (Djibo, Soum) and the JNIM (Katiba Macina). Also Zxqdo (Ouo, Comoe)."
    got = [(p.name, p.country, text[p.mention.start:p.mention.end]) for p in geo.bracketed_places(text)]
    assert got == [("Zxqgou", "Burkina Faso", "Zxqgou"), ("Zxqdo", "Burkina Faso", "Zxqdo")]


def test_norm_and_distance():
    assert geo.norm("Al-Hasakeh") == geo.norm("Hasakeh") == "hasakeh"
    assert geo.norm_place("Nad Ali district") == "nad ali"
    assert geo.distance_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.1)
    assert geo.geocode("   ") is None


def test_places_in_ignores_a_city_name_used_as_a_surname():
    found = [s.text for s, _ in geo.places_in("Defense Secretary Lloyd Austin said; jets flew from Austin to Tehran.")]
    assert found == ["Austin", "Tehran"]


def test_comma_tailed_places_are_located_by_their_province():
    got = [(p.name, p.country_code, p.admin1) for p in geo.bracketed_places("Rockets hit Zxqabad district, Helmand. Then Gardez city, Paktia.")]
    assert got == [("Zxqabad", "AF", "Hilmand"), ("Gardez", "AF", "Paktya")]


def _span(text, name):
    i = text.index(name)
    return Span(text=name, start=i, end=i + len(name))


def test_locate_event_resolves_candidates_and_falls_back():
    text = "Turkish forces shelled Zxqabad in Raqqa countryside, said Turkish officials."
    places = geo.locate_event(text, [_span(text, "Turkish"), _span(text, "Zxqabad")], attacker_countries=["TR"])
    assert [(p.name, p.country_code) for p in places] == [("Syria", "SY"), ("Zxqabad", "SY")]
    # No candidate: the first "Name (District, Province)" place.
    text = "Aircraft struck positions in Zxqgou (Djibo, Soum)."
    assert [(p.name, p.country_code) for p in geo.locate_event(text, [])] == [("Zxqgou", "BF")]
    # Nothing in the text: the caller's fallback country.
    text = "Observers counted nine explosions near Zxqivka."
    assert [(p.name, p.country_code, p.precision) for p in geo.locate_event(text, [_span(text, "Zxqivka")], fallback_countries=["UA"])] == [
        ("Zxqivka", "UA", "country")]
    assert [(p.name, p.country, p.precision) for p in geo.locate_event(text, [_span(text, "Zxqivka")])] == [("Zxqivka", None, "unknown")]


def test_prior_countries_outweigh_an_attacker_demonym_but_not_a_named_division():
    text = "French forces struck a camp near Zxqbougou."
    assert geo.context_countries(text)[0] == "France"
    assert geo.context_countries(text, prior_countries=["ML"])[0] == "Mali"
    assert geo.context_countries("Jets struck Zxqville in Helmand.", prior_countries=["PK"])[0] == "Afghanistan"

"""pipeline.extraction.facts.places: the one offline geocoder, on our own short strings (real tables, no fakes)."""

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest

from pipeline.extraction.facts import places as geo
from strikewatch.core.models import Span


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
        ("Sanmatenga", "admin2", "Burkina Faso", "Centre-Nord"),
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
    assert p.name == "Zxqvillage" and p.country == "Burkina Faso" and p.precision == "admin2" and p.geonameid is None
    q = geo.geocode("Zxqhamlet, Luhansk")
    assert q.name == "Zxqhamlet" and q.country_code == "UA" and q.admin1 == "Luhansk" and q.precision == "admin1"


def test_resolve_in_context_uses_tail_then_nearest_division_then_keeps_the_name_unresolved():
    mention = Span(text="Zxqvil", start=20, end=26)
    text = "Mortars were fired  Zxqvil, Donetsk, by the rebels."
    p = geo.resolve_in_context("Zxqvil", text, mention=mention)
    assert (p.name, p.country_code, p.admin1) == ("Zxqvil", "UA", "Donetsk")
    p = geo.resolve_in_context("Zxqabad", "Turkish forces shelled Zxqabad in Raqqa countryside.")
    assert (p.name, p.country, p.admin1, p.precision) == ("Zxqabad", "Syria", "Ar-Raqqa", "admin1")
    p = geo.resolve_in_context("Zxqkot", "Afghan forces struck Zxqkot.")
    # Nothing known of it but the text's country: its name, precision "unknown", no point.
    assert (p.name, p.country, p.precision, p.lat, p.lon) == ("Zxqkot", "Afghanistan", "unknown", None, None)
    assert geo.resolve_in_context("Zxqkot", "Nothing known here.") is None


def test_places_in_skips_known_names_inside_compounds():
    found = [
        (s.text, p.country) for s, p in geo.places_in("shelled Jabal al-Zawiya and Dara i Sufi, then Kunar and Idlib")
    ]
    assert found == [("Kunar", "Afghanistan"), ("Idlib", "Syria")]


def test_bracketed_places_locates_villages_by_their_admin_tail():
    text = "Jets hit Zxqgou (Djibo, Soum) and the JNIM (Katiba Macina). Also Zxqdo (Ouo, Comoe)."
    got = [(p.name, p.country, text[p.mention.start : p.mention.end]) for p in geo.bracketed_places(text)]
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
    got = [
        (p.name, p.country_code, p.admin1)
        for p in geo.bracketed_places("Rockets hit Zxqabad district, Helmand. Then Gardez city, Paktia.")
    ]
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
    assert [
        (p.name, p.country_code, p.precision)
        for p in geo.locate_event(text, [_span(text, "Zxqivka")], fallback_countries=["UA"])
    ] == [("Zxqivka", "UA", "unknown")]
    assert [(p.name, p.country, p.precision) for p in geo.locate_event(text, [_span(text, "Zxqivka")])] == [
        ("Zxqivka", None, "unknown")
    ]


def test_prior_countries_outweigh_an_attacker_demonym_but_not_a_named_division():
    text = "French forces struck a camp near Zxqbougou."
    assert geo.context_countries(text)[0] == "France"
    assert geo.context_countries(text, prior_countries=["ML"])[0] == "Mali"
    assert geo.context_countries("Jets struck Zxqville in Helmand.", prior_countries=["PK"])[0] == "Afghanistan"


# ---------------------------------------------------------------- from the former geocode module's tests


def test_countries_and_demonyms_use_acled_names():
    assert geo.country_of("Burkinabe") == ("Burkina Faso", "BF")
    assert geo.country_of("Iraqi") == ("Iraq", "IQ")
    assert geo.country_of("Democratic Republic of the Congo") == ("Democratic Republic of Congo", "CD")
    assert geo.country_of("Atlantis") is None


def test_cities_regions_and_border_areas():
    haifa = geo.geocode("Haifa")
    assert (haifa.country, haifa.precision) == ("Israel", "city") and abs(haifa.lat - 32.8) < 0.2
    dez = geo.geocode("Deir-ez-Zor")
    assert dez.country == "Syria" and dez.precision in ("admin1", "city")
    border = geo.geocode("Syrian-Iraqi border")
    assert border.precision == "border_region" and border.country == "Syria"
    assert geo.geocode("eastern Syria").precision == "region"


def test_context_keyword_and_iso_codes_disambiguate_same_named_places():
    assert geo.geocode("Tripoli", context=("LY",)).country == "Libya"
    assert geo.geocode("Tripoli", context_countries=("Lebanon",)).country == "Lebanon"


def test_unknown_names_are_none_and_unresolved_keeps_name_and_country_but_no_point():
    assert geo.geocode("Qqqxxyz") is None
    p = geo.unresolved("Zxqville", "SY")
    assert (p.name, p.country, p.country_code, p.precision) == (
        "Zxqville",
        "Syria",
        "SY",
        "unknown",
    ) and (p.lat, p.lon) == (None, None)  # never the capital's point: nothing says it is there
    assert geo.unresolved("Zxqville", None).country is None


def test_norm_folds_accents_articles_and_hyphens():
    assert geo.norm("Al-Mayādīn") == geo.norm("Mayadin")


# ---------------------------------------------------------------- transliteration


@pytest.mark.parametrize(
    "variants",
    [
        ("Paktya", "Paktiya", "Paktia"),
        ("Kandahar", "Qandahar"),
        ("Helmand", "Hilmand"),
        ("Khost", "Khowst"),
        ("Nangarhar", "Ningarhar"),
        ("Kunar", "Konar"),
        ("Uruzgan", "Oruzgan", "Urozgan"),
        ("Sar-e Pol", "Sar-i Pul", "Sari Pul"),
        ("Deir ez-Zor", "Dayr az Zawr"),
        ("Nad-e Ali", "Nad Ali district"),
    ],
)
def test_transliteration_variants_share_a_key_and_resolve_to_one_place(variants):
    keys = {geo.translit_key(v) for v in variants}
    assert len(keys) == 1 and all(geo.same_place_name(variants[0], v) for v in variants)
    places = [geo.geocode(v, context_countries=["AF", "SY"]) for v in variants]
    assert all(p is not None for p in places), places
    assert len({p.country_code for p in places}) == 1
    first = places[0]
    assert all(geo.distance_km(first.lat, first.lon, p.lat, p.lon) < 30 for p in places), places


def test_transliteration_fallback_needs_one_answer_and_respects_context():
    # An unlisted spelling is found by its key ...
    p = geo.geocode("Paktiya")
    assert (p.country_code, p.precision) == ("AF", "admin1")
    # ... but a key shared by different places in the allowed countries is no answer.
    assert geo.geocode("Zxqq") is None


# ---------------------------------------------------------------- explicit country


def test_an_explicit_country_constrains_every_answer():
    assert geo.geocode("Tripoli", country="Lebanon", context_countries=["Libya"]).country_code == "LB"
    assert geo.geocode("Dhahran", country="Saudi Arabia", context_countries=["Egypt"]).country_code == "SA"
    assert geo.geocode("Haifa", country="Syria") is None  # not in that country: no answer, never another country
    assert geo.geocode("Syria", country="Iraq") is None
    assert geo.geocode("Tripoli", country="Atlantis").country_code == "LY"  # an unknown country is no constraint
    assert geo.geocode("Dhahran", country="Southern Saudi Arabia", context_countries=["EG"]).country_code == "SA"


def test_a_country_tail_is_a_constraint_even_with_a_direction_word():
    p = geo.geocode("Dhahran, Southern Saudi Arabia", context_countries=["Egypt"])
    assert (p.name, p.country_code, p.precision) == ("Dhahran", "SA", "city")
    q = geo.geocode("Zxqtown, Saudi Arabia", context_countries=["Egypt"])
    assert (q.name, q.country_code, q.precision) == ("Zxqtown", "SA", "country")


# ---------------------------------------------------------------- admin levels


@pytest.mark.parametrize(
    "name, ctx, level, country, admin1",
    [
        ("Maywand district", ["AF"], "admin2", "AF", "Kandahar"),
        ("Nahri Saraj district", ["AF"], "admin2", "AF", "Hilmand"),
        ("Al Husha district", ["YE"], "admin2", "YE", "Ad Dali"),
        ("Paktika province", [], "admin1", "AF", "Paktika"),
        ("Morazan", ["El Salvador"], "admin1", "SV", "Morazan"),  # GeoNames division, not curated
        ("Cacaopera", ["El Salvador"], "city", "SV", "Morazan"),  # a GeoNames place of ~2,500 people
    ],
)
def test_districts_provinces_and_villages_resolve_to_their_level(name, ctx, level, country, admin1):
    p = geo.geocode(name, context_countries=ctx)
    assert (geo.admin_level(p), p.country_code, p.admin1) == (level, country, admin1), p
    assert p.lat is not None and p.lon is not None


def test_a_district_is_found_as_the_geonames_second_level_unit():
    p = geo.geocode("Zurmat district", context_countries=["AF"])
    assert (p.name, p.country_code, p.admin1, p.precision) == ("Zurmat", "AF", "Paktya", "admin2")
    assert p.lat is not None and 33 < p.lat < 34 and 68.5 < p.lon < 69.5  # the district, not Kabul


def test_small_places_need_the_texts_country():
    assert geo.geocode("Cacaopera") is None
    assert geo.geocode("Cacaopera", context_countries=["Syria"]) is None


def test_a_village_in_a_named_district_is_located_in_it():
    p = geo.geocode("Zxqkhel (Maywand, Kandahar)")
    assert (p.name, p.country_code, p.precision) == ("Zxqkhel", "AF", "admin2")
    assert geo.distance_km(p.lat, p.lon, 31.73, 65.13) < 50  # Maywand district, not the province centroid


def test_kind_of_tells_countries_demonyms_and_places():
    assert geo.kind_of("Syria") == "country" and geo.is_country("Syrian Arab Republic")
    assert geo.kind_of("Iraqi") == "demonym" and geo.demonym_country("Afghans") == "AF" and geo.is_demonym("U.S.")
    assert geo.kind_of("Kandahar") == "place" and geo.is_place("Helmand")
    assert geo.kind_of("Yesterday") is None and not geo.is_place("JWS")
    assert "U.S." in geo.demonym_forms()


# ---------------------------------------------------------------- local time


def test_iraq_and_syria_were_utc_plus_3_in_june_2021():
    day = date(2021, 6, 28)
    for name in ("Iraq", "Syria", "Deir ez-Zor", "Baghdad"):
        assert geo.utc_offset(geo.geocode(name), day) == timedelta(hours=3), name
    # Syria kept daylight saving then: winter 2021 was UTC+2.
    assert geo.utc_offset(geo.geocode("Syria"), date(2021, 1, 15)) == timedelta(hours=2)
    # "around 1 a.m. local time" on 28 June is 22:00 UTC the day before.
    assert geo.to_utc(datetime(2021, 6, 28, 1, 0), geo.geocode("Syria")) == datetime(2021, 6, 27, 22, 0, tzinfo=UTC)


def test_multi_zone_countries_need_a_place_inside_them():
    for name in ("United States", "Russia"):
        assert geo.zone_name(geo.geocode(name)) is None and geo.utc_offset(geo.geocode(name), date(2021, 6, 28)) is None
    assert geo.zone_name(geo.geocode("Chicago")) == "America/Chicago"
    assert geo.utc_offset(geo.geocode("Chicago"), date(2021, 6, 28)) == timedelta(hours=-5)
    assert geo.utc_offset(geo.geocode("Vladivostok"), date(2021, 6, 28)) == timedelta(hours=10)
    assert geo.utc_offset(geo.geocode("Moscow"), date(2021, 6, 28)) == timedelta(hours=3)
    # A country that is almost all on one offset still has a local time (Crimea aside).
    assert geo.zone_name(geo.geocode("Ukraine"), date(2021, 6, 28)) == "Europe/Kyiv"
    assert geo.to_utc(datetime(2021, 6, 28, 1, 0), geo.geocode("Russia")) is None


# ---------------------------------------------------------------- tables


def test_gazetteer_is_cached_and_one_table_feeds_everything():
    gz = importlib.import_module(
        "pipeline.extraction.facts.places.gazetteer"
    )  # the module (the package exports the function)

    g = geo.gazetteer()
    assert geo.gazetteer() is g  # once per process
    path = gz._cache_path(gz.CACHE_DIR)
    assert path.exists() and (gz.CACHE_DIR / g.geonames.minor_db).exists()
    again = gz.load_geonames()  # from the cache
    assert len(again.name) == len(g.geonames.name) > 30_000
    assert again.minor("cacaopera", ["SV"])[0].admin1 == "Morazan"
    # The curated table has one row per (name, kind) and only known kinds; spellings that
    # fold to one key are kept only for demonyms (raw forms feed regexes over raw text).
    rows = gz.read_curated()
    kinds = {r.kind for r in rows}
    assert kinds <= {"country", "demonym", "admin1", "admin2", "region", "border_region", "city"}
    keyed = [(geo.norm(r.name), r.kind) for r in rows if r.kind != "demonym"]
    assert len(set(keyed)) == len(keyed)
    assert len({(r.name, r.kind) for r in rows}) == len(rows)


# ---------------------------------------------------------------- words that are not places


@pytest.mark.parametrize("word", ["F-4", "F-16", "MQ-9", "Su-25", "JWS", "SMM", "NATO", "Shell"])
def test_designators_and_acronyms_are_not_places_even_in_context(word):
    assert geo.geocode(word) is None
    assert geo.geocode(word, context_countries=["SY", "US", "DE"]) is None


def test_a_towns_alternate_name_alone_needs_the_towns_country():
    assert geo.geocode("Hamas") is None  # listed by GeoNames as an alternate of Hamm
    assert geo.geocode("Kiev").name == "Kyiv"  # a very big city's alternate is enough


def test_an_all_caps_name_with_vowels_is_still_a_name():
    assert geo.geocode("KABUL").country_code == "AF"
    assert geo.geocode("BAGHDAD").country_code == "IQ"


# ---------------------------------------------------------------- datelines


@pytest.mark.parametrize(
    "text, where, country",
    [
        ("Title\nKABUL, Afghanistan (Reuters) - Afghan and coalition forces struck", "KABUL", "AF"),
        ("Blast hits convoy BAGHDAD (Reuters) - A convoy was hit", "BAGHDAD", "IQ"),
        ("   SAN SALVADOR, 3 JAN 90 -- [REPORT] THE BATTALION", "SAN SALVADOR", "SV"),
        ("TRIPOLI, Lebanon (AP) \u2014 Shells hit the port", "TRIPOLI", "LB"),
        ("   HAVANA (CUBA), 18 NOV 89 (MOSCOW PRAVDA) -- [TEXT] THE MAIN COMMAND", "HAVANA", "CU"),
    ],
)
def test_dateline_is_found_and_its_country_tail_constrains_it(text, where, country):
    span, place = geo.dateline(text)
    assert text[span.start : span.end] == where and place.country_code == country and place.mention == span


@pytest.mark.parametrize(
    "text, story",
    [
        ("KABUL, Afghanistan (Reuters) - Afghan forces struck", "Afghan forces struck"),
        ("   HAVANA (CUBA), 18 NOV 89 (MOSCOW PRAVDA) -- [TEXT] THE MAIN", "[TEXT] THE MAIN"),
        ("   SAN SALVADOR, 15 MAR 89 (AFP) -- URBAN GUERRILLAS", "URBAN GUERRILLAS"),
    ],
)
def test_the_story_starts_after_the_dateline(text, story):
    assert text[geo.dateline_end(text) :] == story


def test_no_dateline_in_running_text():
    assert geo.dateline("He said NATO - the alliance - would respond.") is None
    assert geo.dateline("The US said on Monday - nothing here") is None


@pytest.mark.parametrize("name", ["Chawkay", "Ain al Arab", "Lozove", "Hays district"])
def test_no_country_to_go_by_is_no_licence_to_guess_abroad(name):
    # Consonant skeletons and district suffixes matched worldwide gave Chukha (Bhutan),
    # Nairobi County, Lozovo (North Macedonia), Hays (Kansas).
    p = geo.geocode(name)
    assert p is None or p.country_code in ("AF", "SY", "UA", "YE"), p


def test_a_district_in_its_country_is_found_by_its_own_name():
    p = geo.geocode("Hays district", context_countries=["YE"])
    assert (p.country_code, geo.admin_level(p)) == ("YE", "admin2")


def test_a_province_after_the_name_rules_out_a_bigger_town_elsewhere():
    # Pivdenne, Odesa (a town of 15k+) is not "Pivdenne, Donetsk": the village there is.
    p = geo.geocode("Pivdenne, Donetsk", context_countries=["UA"])
    assert (p.admin1, p.precision) == ("Donetsk", "city") and 48 < p.lat < 49 and 37 < p.lon < 39


def test_postal_villages_fill_what_cities500_lacks():
    # Vodiane (Donetsk) is listed in GeoNames' postal table only, under its Ukrainian name.
    p = geo.geocode("Vodiane, Donetsk", context_countries=["UA"])
    assert p.precision == "city" and p.geonameid is None and p.admin1 == "Donetsk"
    assert 47 < p.lat < 47.6 and 37.4 < p.lon < 38


def test_another_spelling_of_a_village_finds_it():
    a = geo.geocode("Shirokino, Donetsk", context_countries=["UA"])
    b = geo.geocode("Shyrokyne, Donetsk", context_countries=["UA"])
    assert a.precision == b.precision == "city" and geo.distance_km(a.lat, a.lon, b.lat, b.lon) < 10


def test_romanisation_of_cyrillic_names():
    from pipeline.extraction.facts.places.names import romanise

    assert romanise("Голубівське", "uk") == "Holubivske" and romanise("Кам'янка", "uk") == "Kamianka"
    assert romanise("Сосновское", "ru") == "Sosnovskoye" and romanise("Єнакієве", "uk") == "Yenakiieve"

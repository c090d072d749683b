"""Offline geocoding with GeoNames and the curated alias table (pure lookups)."""

from pipeline.extraction.geocode import country_of, geocode, norm


def test_countries_and_demonyms_use_acled_names():
    assert country_of("Burkinabe") == ("Burkina Faso", "BF")
    assert country_of("Iraqi") == ("Iraq", "IQ")
    assert country_of("Democratic Republic of the Congo") == ("Democratic Republic of Congo", "CD")
    assert country_of("Atlantis") is None


def test_cities_regions_and_border_areas():
    haifa = geocode("Haifa")
    assert (haifa.country, haifa.precision) == ("Israel", "city") and abs(haifa.lat - 32.8) < 0.2
    dez = geocode("Deir-ez-Zor")
    assert dez.country == "Syria" and dez.precision in ("admin1", "city")
    border = geocode("Syrian-Iraqi border")
    assert border.precision == "border_region" and border.country == "Syria"
    assert geocode("eastern Syria").precision == "region"


def test_context_disambiguates_same_named_places():
    # "Tripoli" is a city in Libya and in Lebanon.
    assert geocode("Tripoli", context=("LY",)).country == "Libya"
    assert geocode("Tripoli", context=("Lebanon",)).country == "Lebanon"


def test_unknown_names_are_none():
    assert geocode("Qqqxxyz") is None


def test_norm_folds_accents_articles_and_hyphens():
    assert norm("Al-Mayādīn") == norm("Mayadin")

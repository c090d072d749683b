"""facts/parties/targets.py: a struck target's type, as monitors code sectors."""

import pytest

from pipeline.extraction.facts.parties.targets import target_type


@pytest.mark.parametrize(
    "phrase, kind",
    [
        ("a university building", "education"),
        ("the maternity hospital", "health"),
        ("two paramedics", "health"),
        ("a residential block", "residential"),
        ("tents in a displacement camp", "residential"),
        ("a power substation", "energy"),
        ("the water pumping station", "water"),
        ("an army checkpoint", "military"),
        ("a convoy of trucks", "vehicle"),
        ("three civilians", "people"),
        ("the old bridge", "other"),
        ("a clinic in a camp", "health"),
    ],
)
def test_target_types(phrase, kind):
    assert target_type(phrase) == kind

"""Claims per incident, figures per speaker, contested and the grade (pure logic)."""

from datetime import UTC, datetime, timedelta

from pipeline.claims import corroboration as co
from strikewatch.core.models import Claim, EventType, Incident, IncidentSource, Span

T0 = datetime(2023, 1, 14, 16, tzinfo=UTC)


def claim(
    n, kind="casualties", speaker="the regional governor", speaker_kind="local_official", side="UA", minutes=0, **kw
):
    return Claim(
        id=f"c{n}",
        kind=kind,
        speaker=speaker,
        speaker_kind=speaker_kind,
        speaker_side=side,
        article_id=f"a{n}",
        quote=Span(text="q", start=0, end=1),
        published_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


def incident(*outlets):
    srcs = [
        IncidentSource(event_id=f"e{i}", article_id=f"a{i}", source=o, outlet=o, published_at=T0 + timedelta(minutes=i))
        for i, o in enumerate(outlets)
    ]
    return Incident(id="i1", event_type=EventType.MISSILE_ATTACK, sources=srcs, source_count=len(srcs))


def test_single_source_then_corroborated():
    one = co.corroborate(incident("kyiv-daily.net"), [claim(0, killed=12)])
    assert (one.grade, one.independent_sources, one.single_source) == ("single_source", 1, True)
    two = co.corroborate(
        incident("kyiv-daily.net", "eastern-herald.com"),
        [claim(1, killed=14, speaker="emergency service", speaker_kind="emergency_service")],
    )
    assert (two.grade, two.independent_sources, two.single_source, two.contested) == ("corroborated", 2, False, False)
    assert co.corroboration_changes(one, two) == ["corroborated"]
    # one publisher's two domains are one source
    assert co.corroborate(incident("bbc.co.uk", "bbc.com"), []).independent_sources == 1


def test_claims_accumulate_and_latest_figure_per_speaker():
    inc = co.corroborate(incident("a.net", "b.com"), [claim(0, killed=5)])
    inc = co.corroborate(
        inc,
        [
            claim(1, killed=9, minutes=30),
            claim(2, killed=7, speaker="Health officials", speaker_kind="medical", minutes=10),
        ],
    )
    assert [c.killed for c in inc.claims] == [5, 9, 7]  # nothing overwritten
    figs = {f.speaker: f.killed for f in inc.figures}
    assert figs == {"the regional governor": 9, "Health officials": 7}
    assert inc.killed_range == (7, 9) and not inc.contested


def test_contested_by_denial_blame_or_tolls():
    blamed = claim(0, kind="responsibility", stance="blamed", party="Russia", party_side="RU")
    denied = claim(
        1,
        kind="responsibility",
        stance="denied",
        party="RU",
        party_side="RU",
        speaker="Russia's defence ministry",
        speaker_kind="ministry",
        side="RU",
    )
    inc = co.corroborate(incident("a.net", "b.com"), [blamed, denied])
    assert inc.contested and inc.grade == "contested" and "denies" in inc.grade_reason
    tolls = co.corroborate(
        incident("a.net", "b.com"), [claim(2, killed=12), claim(3, killed=3, speaker="local officials")]
    )
    assert tolls.contested and "tolls differ" in tolls.contested_reasons[0]
    close = co.corroborate(
        incident("a.net", "b.com"), [claim(2, killed=12), claim(3, killed=15, speaker="local officials")]
    )
    assert not close.contested  # within CONTESTED_RATIO


def test_confirmed_by_officials_of_both_sides_or_a_claim():
    blamed = claim(
        0,
        kind="responsibility",
        stance="blamed",
        party="Israel",
        party_side="IL",
        speaker="Gaza health ministry",
        speaker_kind="ministry",
        side="PS",
    )
    army = claim(
        1, kind="target", target="a command centre", speaker="the Israeli military", speaker_kind="military", side="IL"
    )
    inc = co.corroborate(incident("a.net"), [blamed, army])
    assert inc.grade == "confirmed" and "both sides" in inc.grade_reason
    claimed = co.corroborate(
        incident("a.net"),
        [
            claim(
                2,
                kind="responsibility",
                stance="claimed",
                party="the Houthis",
                speaker="the Houthis",
                speaker_kind="armed_group",
                side="YE",
            )
        ],
    )
    assert claimed.grade == "confirmed" and "claimed by the Houthis" in claimed.grade_reason


def test_a_count_of_a_part_never_contests_a_total():
    """Narratives list partial counts ("a child was killed ... seven killed"): no contest."""
    part = claim(0, killed=1, counted="children", speaker="medics", speaker_kind="medical")
    total = claim(1, killed=7, speaker="health officials", speaker_kind="medical")
    inc = co.corroborate(incident("a.net", "b.com"), [part, total])
    assert not inc.contested and inc.killed_range == (7, 7)
    assert {(f.speaker, f.counted) for f in inc.figures} == {("medics", "children"), ("health officials", "people")}
    # two speakers' totals of one part do contest
    kids = claim(2, killed=9, counted="children", speaker="UNICEF", speaker_kind="un_agency")
    assert co.corroborate(incident("a.net", "b.com"), [part, kids]).contested


def test_an_articles_own_summary_never_contests_its_sources():
    own = claim(0, killed=26, speaker="airwars.org", speaker_kind="outlet", side=None)
    quoted = claim(1, killed=3, speaker="a Facebook user", speaker_kind="witness", side=None).model_copy(
        update={"article_id": "a0"}
    )
    inc = co.corroborate(incident("a.net"), [own, quoted])
    assert not inc.contested
    # ... but another outlet's own figure is another speaker's
    other = claim(2, killed=3, speaker="b.com", speaker_kind="outlet", side=None)
    assert co.corroborate(incident("a.net", "b.com"), [own, other]).contested


def test_blame_differs_only_between_sides():
    on_israel = claim(
        0,
        kind="responsibility",
        stance="blamed",
        party="Israel",
        party_side="IL",
        speaker="medics",
        speaker_kind="medical",
    )
    on_person = claim(
        1,
        kind="responsibility",
        stance="blamed",
        party="a displaced woman",
        speaker="a witness",
        speaker_kind="witness",
    )
    assert not co.corroborate(incident("a.net"), [on_israel, on_person]).contested
    on_hamas = claim(
        2,
        kind="responsibility",
        stance="blamed",
        party="Hamas",
        party_side="PS",
        speaker="the IDF",
        speaker_kind="military",
        side="IL",
    )
    inc = co.corroborate(incident("a.net"), [on_israel, on_hamas])
    assert inc.contested and "blame differs" in inc.grade_reason

"""Outlet families: copies, wire credits, one publisher's domains (pure logic, no services)."""

from datetime import UTC, datetime, timedelta

from pipeline.claims import families as fam
from pipeline.claims import synthetic as sy
from strikewatch.core.models import Provenance

T0 = datetime(2023, 1, 14, 16, tzinfo=UTC)
STORY = (
    "A missile struck a nine-storey apartment block in the city on Saturday, killing at least twelve "
    "people and wounding "
    "dozens more, the regional governor said. Rescuers searched the rubble through the night and the governor said the "
    "toll was likely to rise as more bodies were found under the collapsed floors of the building."
)
OTHER = (
    "Twelve people died when a rocket slammed into a residential tower on Saturday evening, emergency "
    "workers reported, "
    "adding that survivors were still being pulled from the wreckage hours later while neighbours looked on in shock."
)


def test_credit_in_dateline_and_tail():
    assert fam.credit_of("KYIV, Jan 14 (Reuters) - A missile struck ...") == "reuters"
    assert fam.credit_of("GAZA (AP) — Israeli strikes ...") == "ap"
    assert fam.credit_of("Text of the story.\n\n(Reporting by Olena Harmash; Editing by Alex Richardson)") == "reuters"
    assert fam.credit_of("Text of the story.\n\n© 2023 AFP") == "afp"
    assert (
        fam.credit_of("The governor told AP the toll would rise. More text follows here.") is None
    )  # a quote is no credit


def test_publisher_joins_domains_and_editions_not_aggregators():
    assert fam.publisher_of("bbc.co.uk") == fam.publisher_of("bbc.com") == "bbc"
    assert fam.publisher_of("edition.cnn.com") == fam.publisher_of("cnn.com") == "cnn"
    assert fam.publisher_of("theguardian.com") == fam.publisher_of("guardian.co.uk") == "guardian"
    assert fam.publisher_of("news.yahoo.com") is None
    assert fam.publisher_of("kyiv-daily.net") != fam.publisher_of("eastern-herald.com")


def test_signature_tells_copies_from_other_wording():
    a, b = fam.signature(STORY), fam.signature("Updated with the toll.\n\n" + STORY)
    trimmed = fam.signature(STORY[: len(STORY) * 2 // 3])
    assert fam.jaccard(a, b) >= fam.DUP_JACCARD
    assert fam.jaccard(a, trimmed) >= fam.DUP_JACCARD
    assert fam.jaccard(a, fam.signature(OTHER)) < 0.15
    assert fam.signature("too short") is None


def _report(aid, outlet, text=None, credit=None, minutes=0):
    prov = Provenance(
        publisher=fam.publisher_of(outlet), credit=credit, signature=fam.signature(text) if text else None
    )
    return fam.Report(article_id=aid, outlet=outlet, provenance=prov, at=T0 + timedelta(minutes=minutes))


def test_group_families_counts_independent_sources():
    reports = [
        _report("a1", "reuters.com", STORY, "reuters"),
        _report("a2", "morning-ledger.com", STORY, "reuters", 5),  # credited copy
        _report("a3", "valley-gazette.com", "Editor's note: updated.\n\n" + STORY, None, 9),  # uncredited copy
        _report("a4", "bbc.co.uk", OTHER, None, 20),
        _report("a5", "bbc.com", OTHER.replace("Twelve", "At least twelve") + " More later.", None, 30),
        _report("a6", "eastern-herald.com", OTHER[::-1], None, 40),
    ]
    families, member_of = fam.group_families(reports)
    assert [f.id for f in families] == ["wire:reuters", "publisher:bbc", "publisher:eastern-herald"]
    assert member_of["a3"] == "wire:reuters" and member_of["a5"] == "publisher:bbc"
    assert families[0].first_report_at == T0 and families[0].articles == ["a1", "a2", "a3"]
    assert families[0].label == "Reuters (wire)"


def test_family_index_agrees_with_pairwise_grouping():
    stream = sy.strike_stream(seed=3, strikes=6, copies=4, outlets=2, denial_every=0)
    reports = [
        fam.Report(
            article_id=a.id, outlet=fam.outlet_of(a.canonical_url), provenance=fam.provenance_of(a), at=a.published_at
        )
        for a, _ in stream
    ]
    index = fam.FamilyIndex()
    for r in reports:
        index.add(r)
    _fams, member_of = fam.group_families(reports)
    # The same partition (names aside): two reports share a family in one iff in the other.
    for r1 in reports:
        for r2 in reports:
            assert (member_of[r1.article_id] == member_of[r2.article_id]) == (
                index.family(r1.article_id) == index.family(r2.article_id)
            )

"""Cross-article clustering: pure logic with a cheap similarity, the real MiniLM
embeddings on paraphrases, and the stateful stage under TestStream with late and
out-of-order reports."""

from datetime import UTC, date, datetime, timedelta

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from pipeline.incidents import MIN_SIMILARITY, Clusterer, ClusterIncidents, load_embedder, token_jaccard
from strikewatch.core.models import Actor, Casualties, Event, EventTime, EventType, Place, Span

T0 = datetime(2021, 6, 28, 6, tzinfo=UTC)


def ev(
    n,
    text,
    *,
    day=date(2021, 6, 28),
    killed=None,
    place=("Albu Kamal", "Syria", 34.45, 40.92),
    etype=EventType.AIR_STRIKE,
    attacker="United States",
):
    name, country, lat, lon = place
    return Event(
        id=f"e{n}",
        article_id=f"a{n}",
        source=f"outlet{n}",
        event_type=etype,
        attacker=Actor(name=attacker, type="state_military", country="US"),
        places=[Place(name=name, country=country, lat=lat, lon=lon, precision="city")],
        time=EventTime(date=day, precision="day"),
        casualties=Casualties(killed=killed, statement="reported" if killed is not None else "unknown"),
        evidence=[Span(text=text, start=0, end=len(text))],
        article_published_at=T0 + timedelta(minutes=n),
        extracted_at=T0 + timedelta(minutes=n, seconds=5),
    )


STRIKE = "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria"


def test_reports_of_one_strike_merge_with_revisions():
    c = Clusterer(token_jaccard)
    e1, e2 = ev(1, STRIKE), ev(2, STRIKE + " on Monday", killed=4)
    open_, first = c.add([], e1, e1.extracted_at)
    assert first.revision == 0 and first.source_count == 1 and first.changes == ["new"]
    open_, second = c.add(open_, e2, e2.extracted_at)
    assert second.id == first.id and second.revision == 1 and second.source_count == 2
    assert set(second.changes) == {"source_added", "casualties", "corroborated"} and second.casualties.killed == 4
    open_, none = c.add(open_, e2, e2.extracted_at)  # the same article again
    assert none is None
    assert second.first_seen_latency_s == 5.0  # first seen 5 s after the first publication


def test_different_strikes_stay_apart():
    c = Clusterer(token_jaccard)
    open_, a = c.add([], ev(1, STRIKE), T0)
    _, b = c.add(open_, ev(2, STRIKE, place=("Aleppo", "Syria", 36.2, 37.16)), T0)  # 300 km away
    _, d = c.add(open_, ev(3, STRIKE, day=date(2021, 6, 20)), T0)  # a week earlier
    _, s = c.add(open_, ev(4, STRIKE, etype=EventType.SHELLING), T0)
    assert len({a.id, b.id, d.id, s.id}) == 4


@pytest.fixture(scope="module")
def embed():
    return load_embedder()


def test_minilm_similarity_separates_paraphrases_from_other_strikes(embed):
    same = embed(STRIKE, "American jets bombed Iran-backed militia facilities close to Albu Kamal, Syria")
    other = embed(STRIKE, "Houthi forces fired ballistic missiles at Marib city in Yemen")
    assert same > 0.6 > MIN_SIMILARITY > other


def test_stage_with_late_and_out_of_order_reports():
    opts = PipelineOptions()
    opts.view_as(StandardOptions).streaming = True
    e1, e2, e3 = ev(1, STRIKE), ev(2, STRIKE + " killing 3", killed=3), ev(3, STRIKE + " killing 5", killed=5)
    other = ev(
        4, "Israeli jets struck a depot near Damascus", place=("Damascus", "Syria", 33.5, 36.3), attacker="Israel"
    )
    ts = lambda e: e.article_published_at.timestamp()  # noqa: E731
    stream = (
        TestStream()
        .advance_watermark_to(ts(e1) - 60)
        # Out of order: the third report arrives before the second.
        .add_elements([TimestampedValue(e1, ts(e1)), TimestampedValue(e3, ts(e3))])
        .advance_watermark_to(ts(e3) + 3600)
        # Late (behind the watermark) but within the incident's open period: joins.
        .add_elements([TimestampedValue(e2, ts(e2)), TimestampedValue(other, ts(other))])
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(runner="BundleBasedDirectRunner", options=opts) as p:
        out = p | stream | ClusterIncidents(similarity="jaccard")
        assert_that(
            out | beam.Map(lambda i: (i.attacker.name, i.revision, i.source_count, i.casualties.killed)),
            equal_to(
                [
                    ("United States", 0, 1, None),
                    ("United States", 1, 2, 5),
                    ("United States", 2, 3, 5),
                    ("Israel", 0, 1, None),
                ]
            ),
        )

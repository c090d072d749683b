"""The Beam extraction stage on a real Beam runner: events out, oversized articles
dead-lettered with the article kept, the rest unaffected."""

from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from pipeline.extract import ExtractEvents
from strikewatch.models import Article, DeadLetter

DATE = datetime(2021, 6, 28, tzinfo=timezone.utc)


def test_stage_extracts_and_dead_letters_oversized():
    strike = Article.new("https://example.com/1", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE)
    quiet = Article.new("https://example.com/2", body="The parliament met on Sunday to discuss the budget.", published_at=DATE)
    huge = Article.new("https://example.com/3", body="airstrike " * 2000, published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([strike, quiet, huge]) | ExtractEvents(batch_size=2, max_chars=5_000)
        assert_that(res.events | "types" >> beam.Map(lambda e: (e.article_id, e.event_type.value, e.modality.value)),
                    equal_to([(strike.id, "air_strike", "asserted")]), label="events")
        assert_that(res.dead_letters | "dl" >> beam.Map(lambda d: (d.stage, d.reason, Article.from_bytes(d.payload).id)),
                    equal_to([("pipeline.extract", "too_large", huge.id)]), label="dead")

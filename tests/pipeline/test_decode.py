"""Decode stage: valid articles pass, every kind of junk becomes a reasoned dead letter."""

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.decode import DecodeArticles, decode_article
from strikewatch.models import Article


def _article(body="US jets struck a base.") -> Article:
    return Article.new("https://example.com/a", title="Strike", body=body, source="test")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00junk", "not_utf8"),
        (b"{not json", "invalid_json"),
        (b'{"title": "no id"}', "schema_mismatch"),
    ],
)
def test_junk_is_rejected_with_a_reason(payload, reason):
    with pytest.raises(ValueError) as e:
        decode_article(payload, 1000)
    assert str(e.value).startswith(reason + ":")


def test_oversized_article_is_rejected():
    with pytest.raises(ValueError, match="^too_large:"):
        decode_article(_article("x" * 2000).to_bytes(), 1000)


def test_valid_article_round_trips():
    a = _article()
    assert decode_article(a.to_bytes(), 1000) == a


def test_stage_routes_junk_to_dead_letters_and_keeps_going():
    good = [_article(f"body {i}") for i in range(3)]
    payloads = [good[0].to_bytes(), b"\xff\x01garbage", good[1].to_bytes(), b"{}", good[2].to_bytes()]
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        out = p | beam.Create(payloads) | DecodeArticles(max_chars=10_000)
        assert_that(out.articles | "ids" >> beam.Map(lambda a: a.id), equal_to([a.id for a in good]), label="articles")
        assert_that(
            out.dead_letters | "reasons" >> beam.Map(lambda d: (d.stage, d.reason, d.payload_encoding)),
            equal_to([("pipeline.decode", "not_utf8", "base64"), ("pipeline.decode", "schema_mismatch", "utf-8")]),
            label="dead",
        )

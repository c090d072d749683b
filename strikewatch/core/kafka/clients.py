"""The kafka-python clients, built from a ``KafkaConfig``: the only place in the code
base that constructs a producer, a consumer or an admin client.

    from strikewatch.core.kafka import clients
    p = clients.producer(settings.kafka, linger_ms=10)
    c = clients.consumer(settings.kafka, "strikewatch.alerts", group_id="g")
    a = clients.admin(settings.kafka)

Keyword arguments override the defaults below and pass through to kafka-python.
"""

from __future__ import annotations

from typing import Any

from strikewatch.core.kafka.config import KafkaConfig

# Largest record any strikewatch producer sends (bytes, before compression): the
# brokers' message.max.bytes (stack.py, docker-compose.yml) and the articles topic's
# max.message.bytes are the same 4 MiB. A full-text article is a few hundred kB.
MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# Producers wait for every in-sync replica and are idempotent, so a retried batch is
# never written twice; gzip halves article payloads.
PRODUCER_DEFAULTS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    "compression_type": "gzip",
    "max_request_size": MAX_MESSAGE_BYTES,
}
CONSUMER_DEFAULTS: dict[str, Any] = {"enable_auto_commit": False, "max_partition_fetch_bytes": MAX_MESSAGE_BYTES}


def producer(config: KafkaConfig | str, **overrides: Any):
    from kafka import KafkaProducer

    return KafkaProducer(**KafkaConfig.coerce(config).client_kwargs(), **{**PRODUCER_DEFAULTS, **overrides})


def consumer(config: KafkaConfig | str, *topics: str, **overrides: Any):
    from kafka import KafkaConsumer

    return KafkaConsumer(*topics, **KafkaConfig.coerce(config).client_kwargs(), **{**CONSUMER_DEFAULTS, **overrides})


def admin(config: KafkaConfig | str, **overrides: Any):
    from kafka import KafkaAdminClient

    return KafkaAdminClient(**KafkaConfig.coerce(config).client_kwargs(), **overrides)

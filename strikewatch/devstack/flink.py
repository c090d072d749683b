"""A local Flink for the pipeline: Beam's Flink job server with an embedded Flink
cluster (``--flink-master=[local]``), and a Python SDK worker pool whose SDK workers are
separate processes, so a job with ``--parallelism=2`` really runs on both cores.

    strikewatch pipeline --runner FlinkRunner   # starts both, submits, stops both on exit

The pipeline process owns them, as it owns its Prism job server: Beam's job server
cannot cancel a job on its embedded cluster (the invocation reads CANCELLED while the
Flink job goes on reading Kafka; measured), so stopping the job server is what stops the
job. ``strikewatch down`` stops what a killed pipeline left.

Layout under the stack directory:

    .stack/flink-jars/    the job server's classpath (scripts/setup.sh: mvn copy-dependencies
                          of deploy/jars/flink-job-server.pom.xml)
    .stack/flink/         flink-conf.yaml, artifacts, checkpoints, logs, pid files

Why a classpath and not Beam's ``beam-runners-flink-1.19-job-server`` jar: Maven
Central as reachable here serves no job-server jar at any version, but serves
``beam-runners-flink-1.19`` 2.62.0 with its whole dependency tree, which contains the
same ``FlinkJobServerDriver``. The job server speaks the portable job API, so the
Python SDK 2.77 submits to it; measured here: the pipeline's graph (splittable Kafka
reader, state, timers, bundle finalization) runs on it with two SDK worker processes.
Deployments use the official job-server image of the SDK's own version
(docker-compose.yml).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from strikewatch.core.errors import StackError
from strikewatch.core.procs import port_open
from strikewatch.core.settings import StackSettings
from strikewatch.devstack.stack import _java

log = logging.getLogger(__name__)

# The Beam release whose Flink runner is served with its whole dependency tree (see
# the module docstring); deploy/jars/flink-job-server.pom.xml pins the same.
JOB_SERVER_BEAM_VERSION = "2.62.0"
# Seconds to wait for the job server's gRPC port after launch: the JVM and the
# embedded cluster's services start in ~5 s here; 120 s leaves room on a loaded CI box.
START_TIMEOUT_S = 120.0
# Seconds a SIGTERMed job server or worker pool gets before SIGKILL; both exit in
# well under a second here.
STOP_TIMEOUT_S = 15.0
# User-state cache of each SDK worker, in bytes: Beam's default for its SDK containers
# (--max_cache_memory_usage_mb=100).
STATE_CACHE_BYTES = 100 << 20
# Flink 1.19 reflects into these JDK packages; Java 17 refuses it without the opens
# (the same list as Flink's own env.java.opts.all default).
JAVA_OPENS = [
    f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
    for pkg in (
        "java.util",
        "java.lang",
        "java.lang.reflect",
        "java.net",
        "java.io",
        "java.nio",
        "sun.nio.ch",
        "java.time",
        "java.util.concurrent",
        "java.util.concurrent.atomic",
        "java.text",
        "java.math",
    )
]


@dataclass(frozen=True)
class FlinkPaths:
    root: Path

    @property
    def jars(self) -> Path:
        return self.root / "flink-jars"

    @property
    def home(self) -> Path:
        return self.root / "flink"

    @property
    def conf(self) -> Path:
        return self.home / "conf"

    @property
    def metrics(self) -> Path:
        """PROMETHEUS_MULTIPROC_DIR of the SDK workers (read by the pipeline's /metrics)."""
        return self.home / "metrics"

    def pidfile(self, name: str) -> Path:
        return self.home / f"{name}.pid"

    def logfile(self, name: str) -> Path:
        return self.home / f"{name}.log"


# Pipeline flags only a job server knows (it describes its options to the Python
# runner at submission, which then accepts them); offline, Beam calls them unparseable.
# tests/strikewatch/devstack/test_flink.py submits with them and sees their effect.
JOB_SERVER_FLAGS = ("--checkpointing_interval", "--finish_bundle_before_checkpointing")
# Finish the open bundle before a checkpoint barrier, not while the snapshot is taken.
# Beam's operator finishes it in the snapshot anyway, but can no longer emit there: the
# bundle's outputs wait in a buffer that only the task's next element or watermark
# flushes. A stage whose input is finite (the partition listing after Impulse: six
# elements and the final watermark) gets neither again, so the reads never started.
# Measured with tests/strikewatch/devstack/test_flink.py: without the flag, 0 of 12 articles
# in 1 of 3 runs at a 10 s interval (the first checkpoint fell while the SDK workers
# were still loading spaCy) and in 2 of 2 runs at 2 s; with it, 4 of 4 runs at 2 s
# passed. The test runs at 2 s for that reason. Deployments pass the flag too.
FINISH_BUNDLE_BEFORE_CHECKPOINTING = "--finish_bundle_before_checkpointing"


def job_endpoint(s: StackSettings) -> str:
    return f"127.0.0.1:{s.flink_job_port}"


def worker_pool_endpoint(s: StackSettings) -> str:
    return f"127.0.0.1:{s.flink_worker_pool_port}"


def submit_args(s: StackSettings) -> list[str]:
    """Pipeline flags that submit to this local Flink (parallelism: one per SDK worker)."""
    return [
        f"--job_endpoint={job_endpoint(s)}",
        "--flink_master=[local]",
        "--environment_type=EXTERNAL",
        f"--environment_config={worker_pool_endpoint(s)}",
        f"--parallelism={s.flink_workers}",
        f"--sdk_worker_parallelism={s.flink_workers}",
        # Not --load_balance_bundles: it lets bundles go to whichever SDK worker is
        # free, but a task waiting for a free worker blocks its mailbox while its
        # own open bundle holds the other one; measured: the job hung in 1 of 3
        # runs (a Flink thread parked in DefaultJobBundleFactory's semaphore, both
        # SDK workers idle). Without it each stage instance stays on one worker,
        # given round-robin in the order the operators open.
        # Flink finalizes bundles, and so the Kafka reader commits offsets, only when
        # a checkpoint completes. The job server's flink-conf.yaml interval is not
        # applied to a job Beam configures itself (measured: no checkpoint in 180 s).
        f"--checkpointing_interval={s.flink_checkpoint_interval_ms}",
        FINISH_BUNDLE_BEFORE_CHECKPOINTING,
    ]


def _conf(paths: FlinkPaths, s: StackSettings) -> str:
    return "\n".join(
        [
            f"execution.checkpointing.interval: {s.flink_checkpoint_interval_ms}ms",
            "execution.checkpointing.mode: EXACTLY_ONCE",
            f"state.checkpoints.dir: file://{paths.home / 'checkpoints'}",
            # The web UI of the embedded cluster stays off: nothing here reads it.
            "",
        ]
    )


def _running(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _spawn(cmd: list[str], paths: FlinkPaths, name: str, env: dict | None = None) -> subprocess.Popen:
    logf = open(paths.logfile(name), "ab")
    proc = subprocess.Popen(
        cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
    )  # survives the CLI; `strikewatch down` stops it
    paths.pidfile(name).write_text(str(proc.pid))
    return proc


def start(s: StackSettings) -> dict:
    """Start the job server and the worker pool unless they run. Returns what started."""
    paths = FlinkPaths(s.stack_dir)
    if not any(paths.jars.glob("beam-runners-flink-*.jar")):
        raise StackError(f"Flink job server jars missing in {paths.jars}: run scripts/setup.sh")
    paths.conf.mkdir(parents=True, exist_ok=True)
    paths.metrics.mkdir(parents=True, exist_ok=True)
    (paths.conf / "flink-conf.yaml").write_text(_conf(paths, s))
    started = {"job_server": False, "worker_pool": False}
    procs = []
    if not port_open("127.0.0.1", s.flink_job_port):
        cmd = [
            _java(),
            f"-Xmx{s.flink_heap}",
            *JAVA_OPENS,
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-cp",
            str(paths.jars / "*"),
            "org.apache.beam.runners.flink.FlinkJobServerDriver",
            "--flink-master=[local]",
            f"--flink-conf-dir={paths.conf}",
            "--job-host=127.0.0.1",
            f"--job-port={s.flink_job_port}",
            "--artifact-port=0",  # any free port: the job server tells clients where
            "--expansion-port=-1",  # no expansion service: no Java transforms here
            f"--artifacts-dir={paths.home / 'artifacts'}",
        ]
        procs.append(("job_server", _spawn(cmd, paths, "job-server"), s.flink_job_port))
        started["job_server"] = True
    if not port_open("127.0.0.1", s.flink_worker_pool_port):
        # The pool starts each SDK worker as `python -c ...` from PATH: put this
        # interpreter's directory first so workers import this environment.
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "PROMETHEUS_MULTIPROC_DIR": str(paths.metrics),
        }
        for stale in paths.metrics.glob("*.db"):  # counters of a previous pool's workers
            stale.unlink()
        cmd = [sys.executable, "-m", "strikewatch.devstack.flink", str(s.flink_worker_pool_port)]
        procs.append(("worker_pool", _spawn(cmd, paths, "worker-pool", env), s.flink_worker_pool_port))
        started["worker_pool"] = True
    deadline = time.monotonic() + START_TIMEOUT_S
    for name, proc, port in procs:
        while not port_open("127.0.0.1", port):
            if proc.poll() is not None:
                raise StackError(
                    f"Flink {name} exited with {proc.returncode}; see {paths.logfile(name.replace('_', '-'))}"
                )
            if time.monotonic() > deadline:
                raise StackError(f"Flink {name} not listening on {port} after {START_TIMEOUT_S:.0f} s")
            time.sleep(0.3)
    return started


def stop(s: StackSettings) -> bool:
    """Stop the worker pool (and its SDK workers) and the job server; True if any ran."""
    paths = FlinkPaths(s.stack_dir)
    stopped = False
    for name in ("worker-pool", "job-server"):
        pid = _running(paths.pidfile(name))
        paths.pidfile(name).unlink(missing_ok=True)
        if pid is None:
            continue
        stopped = True
        try:
            # The whole process group: the pool's SDK workers are its children.
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _alive_group(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive_group(pid):
            os.killpg(pid, signal.SIGKILL)
    return stopped


def _alive_group(pgid: int) -> bool:
    try:
        # Reap members that are this process's children (a test or bench that
        # started the stack itself), or they would stay as zombies and look alive.
        while os.waitpid(-pgid, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def status(s: StackSettings) -> dict:
    return {
        "job_server": port_open("127.0.0.1", s.flink_job_port),
        "worker_pool": port_open("127.0.0.1", s.flink_worker_pool_port),
    }


def worker_pool_main(argv: list[str] | None = None) -> int:
    """``python -m strikewatch.devstack.flink PORT``: Beam's SDK worker pool, one process per SDK
    worker, listening on 127.0.0.1 only. Beam's own ``worker_pool_main`` listens on
    every interface, and whoever reaches a worker pool can make it run code."""
    import argparse
    import threading
    from concurrent import futures

    import grpc
    from apache_beam.portability.api import beam_fn_api_pb2_grpc
    from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer

    parser = argparse.ArgumentParser(prog="python -m strikewatch.devstack.flink", description=worker_pool_main.__doc__)
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Beam's pool server options: workers' control streams may idle for long.
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[("grpc.http2.max_pings_without_data", 0), ("grpc.http2.max_ping_strikes", 0)],
    )
    if not server.add_insecure_port(f"127.0.0.1:{args.port}"):
        raise StackError(f"worker pool cannot listen on 127.0.0.1:{args.port}")
    # The workers cache user state between bundles (Flink hands out cache tokens), as
    # Beam's own SDK containers do; the pool's default, 0, reads every state value
    # from Flink over gRPC (the clustering state is a theatre's open incidents).
    servicer = BeamFnExternalWorkerPoolServicer(use_process=True, state_cache_size=STATE_CACHE_BYTES)
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(servicer, server)
    server.start()
    log.info("SDK worker pool listening on 127.0.0.1:%d", args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop(2)
    return 0


if __name__ == "__main__":
    raise SystemExit(worker_pool_main())

"""``strikewatch pipeline``: run the streaming Beam job against Kafka.

    strikewatch pipeline                      # Prism (local stack), reads strikewatch.articles
    strikewatch pipeline --runner FlinkRunner  # a local Flink it starts and stops (devstack/flink.py)
    strikewatch pipeline --runner FlinkRunner --flink_master host:8081 --job_endpoint host:8099
        --environment_type EXTERNAL ...   (one command)
    strikewatch pipeline --runner DataflowRunner --project P --region R ...   (see docs/runners/dataflow.md)

Unknown flags are passed to Beam's PipelineOptions. The default runner is Prism with
LOOPBACK workers (the SDK harness runs in this process, so the metrics endpoint of
this process sees the workers' counters). SIGTERM/SIGINT cancel the job, which lets
in-flight bundles finish their Kafka flush; offsets of finalized bundles are
committed, so a restart resumes without loss (at-least-once; ids are stable).

The job knows no local stack: ``strikewatch pipeline`` runs it through
``strikewatch/devstack/runner.py``, whose ``LocalRunner`` adds the stack's Prism binary or
starts and stops a local Flink; ``python -m pipeline.main`` runs it without one.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from strikewatch.core import topics
from strikewatch.core.metrics import LabelSet, serve
from strikewatch.core.procs import child_pids
from strikewatch.core.settings import PipelineSettings

from .graph import GraphConfig, WriteOutputs, build_graph
from .kafka_io import ReadFromKafka
from .recovery import RecoveryConfig

log = logging.getLogger(__name__)

# Seconds to wait for the runner to confirm cancellation after SIGTERM.
CANCEL_WAIT_S = 30.0
# Seconds the Prism job server gets to exit after SIGTERM before SIGKILL (it takes
# well under one here).
CHILD_STOP_S = 5.0


def build_pipeline(p: beam.Pipeline, settings: PipelineSettings) -> None:
    kafka = settings.kafka
    group = settings.consumer_group
    raw = p | "ReadArticles" >> ReadFromKafka(kafka, [topics.ARTICLES.name], group, settings.start_from)
    # The compacted subscriptions topic is read whole on every start (no group offsets).
    subs = p | "ReadSubscriptions" >> ReadFromKafka(
        kafka, [topics.SUBSCRIPTIONS.name], group + "-subs", "earliest", commit_offsets=False
    )
    recovery = (
        RecoveryConfig(kafka, topics.INCIDENTS.name, topics.ALERTS.name) if settings.recover_open_incidents else None
    )
    config = GraphConfig(
        spacy_model=settings.spacy_model,
        max_article_chars=settings.max_article_chars,
        sources=LabelSet.feeds(settings.feeds_file),
        recovery=recovery,
    )
    outputs = build_graph(raw, config, subs)
    outputs | "WriteOutputs" >> WriteOutputs(kafka)


# Prism (v2.77.0) splits a bundle that makes no progress for a tick, and hands the
# residual's keys back as free while the primary still holds elements of the same keys
# (engine/elementmanager.go, splitBundle): a second bundle of a key then runs beside the
# first and reads its state before the first commits. Every step here that keeps state
# (Cluster, Match, Suppress, the escalation index) relies on one bundle per key: the
# race alerted one incident twice as new (tests/pipeline/test_alerts_e2e.py failed 2 of
# 7 local runs and 2 of 4 clean-clone CI runs), and a slow stateful DoFn on one key saw
# each count twice (tests/pipeline/test_main.py). The Kafka read still checkpoints
# itself (defer_remainder); only the runner's own splits are off.
PRISM_EXPERIMENTS = ("prism_disable_sdf_split",)


class LocalRunner(Protocol):
    """What a local stack adds around the job (``strikewatch.devstack.runner.LocalRunner``)."""

    def args(self, runner: str, extra: list[str], settings: PipelineSettings) -> list[str]:
        """Beam options pointing the job at the local runner (the command line's own win)."""

    def start(self, runner: str, extra: list[str], settings: PipelineSettings) -> str | None:
        """Start what the runner needs; the folder its SDK workers write metrics to, if any."""

    def stop(self) -> None:
        """Stop what ``start`` started (idempotent)."""


def beam_options(
    runner: str, extra: list[str], settings: PipelineSettings, local_args: Sequence[str] = ()
) -> PipelineOptions:
    args = [f"--runner={runner}", "--streaming", *extra]
    given = {a.split("=", 1)[0] for a in extra}
    args += [a for a in local_args if a.split("=", 1)[0] not in given]
    if runner == "PrismRunner":
        if not any(a.startswith("--environment_type") for a in extra):
            args.append("--environment_type=LOOPBACK")
        args += [f"--experiments={x}" for x in PRISM_EXPERIMENTS]
    elif (
        runner == "FlinkRunner"
        and settings.flink_master
        and not any(a.startswith(("--flink_master", "--job_endpoint")) for a in extra)
    ):
        args.append(f"--flink_master={settings.flink_master}")
    return PipelineOptions(args)


def _stop_children(name: str) -> None:
    """SIGTERM this process's child processes called ``name`` and wait for them (bounded)."""
    pids = child_pids(name=name)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
            give_up = time.monotonic() + CHILD_STOP_S
            while os.waitpid(pid, os.WNOHANG) == (0, 0):  # Prism exits at once on SIGTERM
                if time.monotonic() > give_up:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.05)
        except (ProcessLookupError, ChildProcessError):
            pass


def _stream_closed(exc: BaseException | None) -> bool:
    """A gRPC call to the runner that failed because the job ended: the stream closed
    (UNAVAILABLE, CANCELLED), or the job is gone (``_job_gone``)."""
    import grpc

    code = getattr(exc, "code", None)
    if not (isinstance(exc, grpc.RpcError) and callable(code)):
        return False
    return code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED) or _job_gone(exc)


def _job_gone(exc: BaseException | None) -> bool:
    """Prism no longer knows this worker: its job was cancelled or Prism is stopping
    (UNKNOWN "... not registered in worker pool", when the worker asked for the descriptor
    of a bundle sent just before; 2 stops in 4 clean-clone CI runs, once before this
    process had handled the Ctrl-C that stopped Prism too)."""
    import grpc

    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    return (
        isinstance(exc, grpc.RpcError)
        and callable(code)
        and callable(details)
        and code() == grpc.StatusCode.UNKNOWN
        and "not registered in worker pool" in (details() or "")
    )


def _torn_down(exc: BaseException) -> bool:
    """The harness's bundle-processor cache lost the instruction to the cancel's teardown
    (KeyError from BundleProcessorCache.release, which follows the failure above)."""
    if not isinstance(exc, KeyError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return (
        tb is not None
        and tb.tb_frame.f_code.co_name == "release"
        and tb.tb_frame.f_code.co_filename.endswith("sdk_worker.py")
    )


# Set when this process asks the job to stop (a signal, --duration, the job ending).
_STOPPING = threading.Event()
# Seconds a "the job is gone" error waits for the stop request before it counts as
# unexpected: a terminal's Ctrl-C reaches Prism and this process together, and Prism can
# drop the job before this process's handler has run (it runs within milliseconds).
STOP_GRACE_S = 1.0


def _stopping() -> bool:
    return _STOPPING.wait(STOP_GRACE_S)


class _StreamClosedFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        cancelled_bundle = "Bundle Failed" in str(record.msg) and "pipeline canceled" in str(record.msg)
        if (cancelled_bundle or (record.exc_info and _stream_closed(record.exc_info[1]))) and _stopping():
            log.debug("after the stop request: %s", record.getMessage())
            return False
        return True


def _install_stop_noise_guards() -> None:
    """Before the job starts. Once this process has asked the job to stop, the in-process
    (LOOPBACK) SDK worker's gRPC streams to the runner end with the job, and the harness
    reports that as tracebacks: its reader threads (data plane "Failed to read inputs", an
    uncaught RpcError per thread; measured: 3 tracebacks on 1 of 5 stops), Prism's "Bundle
    Failed (pipeline canceled)" for the bundles the cancel cut short (4-5 ERROR lines per
    stop), and instructions that reach a job Prism has dropped (``_job_gone``, then the
    cache's ``_torn_down``; 2 stops in 4 clean-clone CI runs). Those, and only those, go
    to the debug log when the stop was asked for (``_stopping``); anything else prints."""
    # PrismJobServer: the logger Beam relays the Prism job server's own log lines to.
    for name in ("apache_beam.runners.worker.data_plane", "apache_beam.runners.worker.sdk_worker", "PrismJobServer"):
        logging.getLogger(name).addFilter(_StreamClosedFilter())
    previous = threading.excepthook

    def hook(args):
        if _stream_closed(args.exc_value) and _stopping():
            log.debug("after the stop request, thread %s: %s", getattr(args.thread, "name", "?"), args.exc_value)
            return
        previous(args)

    threading.excepthook = hook
    _quiet_cancelled_instructions()


def _quiet_cancelled_instructions() -> None:
    """The SDK harness prints a failed instruction's traceback to stderr itself, not only
    through its logger (SdkHarness._execute), so a filter cannot hold it back: an
    instruction that fails because the job is gone answers the runner with its error as
    before and logs one line (debug after a stop request, else a warning); one whose
    stream closed does so only after the stop request. Anything else prints as before."""
    from apache_beam.portability.api import beam_fn_api_pb2
    from apache_beam.runners.worker import sdk_worker

    execute = sdk_worker.SdkHarness._execute
    if getattr(execute, "_strikewatch_quiet", False):
        return

    def quiet_execute(self, task, request):
        def guarded():
            try:
                return task()
            except Exception as exc:
                gone = _job_gone(exc) or _torn_down(exc)
                if not (gone or _stream_closed(exc)):
                    raise
                stopping = _stopping()
                if not (gone or stopping):
                    raise
                (log.debug if stopping else log.warning)(
                    "instruction %s: the job is gone (%s)", request.instruction_id, type(exc).__name__
                )
                return beam_fn_api_pb2.InstructionResponse(
                    instruction_id=request.instruction_id, error=f"job cancelled: {exc!r}"
                )

        return execute(self, guarded, request)

    quiet_execute._strikewatch_quiet = True
    sdk_worker.SdkHarness._execute = quiet_execute


def main(argv: list[str] | None = None, local: LocalRunner | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="strikewatch pipeline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runner", default=None, help="PrismRunner (default), FlinkRunner, DataflowRunner")
    parser.add_argument("--metrics-port", type=int, default=None, help="serve /metrics on this port (0: off)")
    parser.add_argument("--duration", type=float, default=0, help="stop after this many seconds (0: run until SIGTERM)")
    args, extra = parser.parse_known_args(argv)
    settings = PipelineSettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Beam's import logged a warning through the root logger before this, which configured it (at WARNING)
    # and made basicConfig a no-op: this package's own INFO (start, stop, what was recovered) still shows.
    logging.getLogger("pipeline").setLevel(logging.INFO)
    port = settings.metrics_port if args.metrics_port is None else args.metrics_port
    runner = args.runner or settings.runner
    multiproc_dir = local.start(runner, extra, settings) if local else None
    server = serve(port, addr=settings.metrics_host, multiproc_dir=multiproc_dir) if port else None
    _install_stop_noise_guards()
    p = beam.Pipeline(
        options=beam_options(runner, extra, settings, local.args(runner, extra, settings) if local else ())
    )
    build_pipeline(p, settings)
    # The Prism job server is started by p.run() as a child of this process, in its
    # process group, so a terminal's Ctrl-C reached it too and it died before this
    # process could cancel the job (the in-process worker's streams then broke with
    # tracebacks, and so did the next state query). Started with SIGINT ignored, it
    # keeps ignoring it (Go keeps an inherited SIG_IGN for SIGINT); this process stops
    # it (_stop_children). A Ctrl-C during the few seconds of p.run() is ignored too.
    stop = threading.Event()

    def _stop(signum, _frame):
        _STOPPING.set()
        log.info("signal %d: cancelling the pipeline", signum)
        stop.set()

    # SIGTERM is handled from before p.run(): one that came while the job was starting
    # killed this process at once and left its Prism child running (seen after a
    # benchmark was stopped early); now the job is cancelled as soon as it is up.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN if runner == "PrismRunner" else _stop)
    try:
        result = p.run()
    except BaseException:
        if local:
            local.stop()
        raise
    signal.signal(signal.SIGINT, _stop)
    log.info("pipeline running on %s, reading %s", runner, topics.ARTICLES.name)
    deadline = time.monotonic() + args.duration if args.duration else None
    terminal = {"DONE", "FAILED", "CANCELLED", "UPDATED", "DRAINED"}
    try:
        while not stop.wait(0.5):
            if str(result.state) in terminal:
                break
            if deadline and time.monotonic() > deadline:
                break
    finally:
        if str(result.state) not in terminal:
            _STOPPING.set()
            result.cancel()
            # Cancelling lets in-flight bundles finish (their Kafka writes flush in
            # finish_bundle); wait for it, bounded.
            give_up = time.monotonic() + CANCEL_WAIT_S
            while str(result.state) not in terminal and time.monotonic() < give_up:
                time.sleep(0.2)
        if server is not None:
            server.shutdown()
        try:
            state = str(result.state)
        finally:
            if local:
                local.stop()
    log.info("pipeline stopped: %s", state)
    stopped_on_request = stop.is_set() or bool(deadline)
    code = 0 if state in ("DONE", "DRAINED") or (stopped_on_request and state in ("CANCELLED", "CANCELLING")) else 1
    # The job is stopped and every bundle's Kafka writes were flushed in
    # finish_bundle. Exit without interpreter teardown: the LOOPBACK worker's gRPC
    # threads and the model runtimes' native threads can crash (SIGSEGV) while modules
    # unload (seen with torch), which would turn a clean stop into a failure exit code. Beam's own exit handler
    # would stop the Prism job server, but running the exit handlers crashes the same
    # way (SIGSEGV seen in CI); so stop our Prism child here, or os._exit leaves it
    # running as an orphan (one more after every restart).
    _stop_children("prism")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    raise SystemExit(main())

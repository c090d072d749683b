"""Unit tests of the stop path's noise handling in ``pipeline.main``: after the stop
request, an SDK-harness instruction that fails because the cancelled job is gone answers
the runner with its error and prints nothing; any other failure still prints its
traceback. Run: pytest tests/pipeline/test_main_stop.py"""

from __future__ import annotations

import queue

import grpc
import pytest
from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.worker import sdk_worker

from pipeline import main


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


class _Harness:
    """What SdkHarness._execute touches on its instance: the response queue."""

    def __init__(self):
        self._responses = queue.Queue()


@pytest.fixture
def guarded(monkeypatch):
    """The guard installed, as before the job starts; no stop asked for yet."""
    monkeypatch.setattr(sdk_worker.SdkHarness, "_execute", sdk_worker.SdkHarness._execute)
    monkeypatch.setattr(main, "_STOPPING", __import__("threading").Event())
    monkeypatch.setattr(main, "STOP_GRACE_S", 0.05)
    main._quiet_cancelled_instructions()
    yield


@pytest.fixture
def quiet(guarded):
    """The guard installed and the stop asked for."""
    main._STOPPING.set()
    yield


def _run(task, instruction_id="inst034"):
    harness = _Harness()
    request = beam_fn_api_pb2.InstructionRequest(instruction_id=instruction_id)
    sdk_worker.SdkHarness._execute(harness, task, request)
    return harness._responses.get_nowait()


def _raise(exc):
    def task():
        raise exc

    return task


def test_worker_dropped_by_the_cancel_is_quiet(quiet, capfd):
    exc = _RpcError(
        grpc.StatusCode.UNKNOWN,
        "worker_id: 'job-001[job]_ref_Environment_default_environment_1' "
        "read from context metadata but not registered in worker pool",
    )
    response = _run(_raise(exc))
    assert response.instruction_id == "inst034"
    assert "job cancelled" in response.error
    assert "Traceback" not in capfd.readouterr().err


def test_closed_stream_is_quiet(quiet, capfd):
    response = _run(_raise(_RpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed")))
    assert response.error and "Traceback" not in capfd.readouterr().err


def test_instruction_lost_in_teardown_is_quiet(quiet, capfd):
    # The real cache, asked to release an instruction the cancel already discarded.
    cache = sdk_worker.BundleProcessorCache(frozenset(), None, None, {})
    response = _run(lambda: cache.release("inst026"), "inst026")
    assert "KeyError" in response.error
    assert "Traceback" not in capfd.readouterr().err


def test_other_failures_still_print(quiet, capfd):
    response = _run(_raise(ValueError("a real bug")))
    assert "ValueError: a real bug" in response.error
    assert "Traceback" in capfd.readouterr().err
    other_rpc = _run(_raise(_RpcError(grpc.StatusCode.UNKNOWN, "something else")))
    assert other_rpc.error
    assert "Traceback" in capfd.readouterr().err


def test_a_key_error_elsewhere_still_prints(quiet, capfd):
    _run(_raise(KeyError("x")))
    assert "Traceback" in capfd.readouterr().err


def test_a_job_gone_before_the_stop_is_handled_is_one_warning_line(guarded, capfd, caplog):
    """A terminal's Ctrl-C reaches Prism too, which can drop the job before this process
    has handled the signal: no traceback then either, one warning line."""
    exc = _RpcError(
        grpc.StatusCode.UNKNOWN, "worker_id: 'w' read from context metadata but not registered in worker pool"
    )
    with caplog.at_level("WARNING", logger="pipeline.main"):
        response = _run(_raise(exc))
    assert response.error and "Traceback" not in capfd.readouterr().err
    assert any("the job is gone" in r.getMessage() for r in caplog.records)


def test_a_closed_stream_without_a_stop_request_still_prints(guarded, capfd):
    _run(_raise(_RpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed")))
    assert "Traceback" in capfd.readouterr().err


def test_patch_is_installed_once(quiet):
    first = sdk_worker.SdkHarness._execute
    main._quiet_cancelled_instructions()
    assert sdk_worker.SdkHarness._execute is first

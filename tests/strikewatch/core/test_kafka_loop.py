"""The one consume loop (strikewatch/core/kafka/loop.py) on a scripted consumer: every batch
is handed over, a broker error is waited out, a handler's InterruptedError ends the loop,
and max_idle_s counts only when nothing came, nothing is in progress and partitions are
assigned. The store's and the deliverer's integration tests run it on a real broker."""

import threading
import time

from kafka.errors import KafkaConnectionError

from strikewatch.core.kafka import consume


class Scripted:
    """Polls return the scripted batches (or raise them), then nothing."""

    def __init__(self, script, assigned=True):
        self.script, self.assigned, self.polls = list(script), assigned, 0

    def poll(self, timeout_ms):
        self.polls += 1
        step = self.script.pop(0) if self.script else {}
        if isinstance(step, Exception):
            raise step
        if not step:
            time.sleep(timeout_ms / 1000)  # a poll with nothing to read waits its timeout
        return step

    def assignment(self):
        return {"tp"} if self.assigned else set()


def test_every_batch_is_handed_over_and_a_broker_error_is_waited_out():
    seen = []
    c = Scripted([{"tp": [1, 2]}, KafkaConnectionError("away"), {"tp": [3]}])
    consume(c, lambda b: seen.append(b) or False, threading.Event(), poll_s=0.01, retry_s=0.01, max_idle_s=0.05)
    assert [b for b in seen if b] == [{"tp": [1, 2]}, {"tp": [3]}]


def test_an_interrupted_handler_ends_the_loop_at_that_batch():
    def handle(batch):
        if batch:
            raise InterruptedError
        return False

    c = Scripted([{}, {"tp": [1]}, {"tp": [2]}])
    consume(c, handle, threading.Event(), poll_s=0.01, retry_s=0.01)
    assert c.polls == 2 and c.script == [{"tp": [2]}]


def test_work_in_progress_or_no_assignment_is_not_idle():
    busy = iter([True] * 5 + [False] * 10_000)
    c = Scripted([], assigned=True)
    consume(c, lambda b: next(busy), threading.Event(), poll_s=0.01, retry_s=0.01, max_idle_s=0.03)
    assert c.polls > 5
    stop = threading.Event()
    joining = Scripted([], assigned=False)
    threading.Timer(0.2, stop.set).start()
    consume(joining, lambda b: False, stop, poll_s=0.01, retry_s=0.01, max_idle_s=0.03)
    assert stop.is_set()  # it waited for the group, not for max_idle_s


def test_a_stop_ends_the_loop():
    stop = threading.Event()
    stop.set()
    c = Scripted([{"tp": [1]}])
    consume(c, lambda b: False, stop, poll_s=0.01, retry_s=0.01)
    assert c.polls == 0

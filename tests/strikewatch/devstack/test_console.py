"""What ``strikewatch run`` shows of its services' output (strikewatch/devstack/console.py), line by line,
on the lines the services really write (copied from a run's .stack/logs/)."""

from strikewatch.devstack.console import REPEAT_QUIET_S, LogLines, parse

HIDDEN = [
    # kafka-python INFO, ~11 a minute per client
    "2026-12-07 22:45:25,606 INFO kafka.net.manager: Attempting bootstrap to bootstrap-0 at 127.0.0.1:19692 "
    "(rack None)",
    # kafka-python's transient warnings
    "2026-12-07 22:45:38,320 WARNING kafka.coordinator: Marking the coordinator dead (node coordinator-1) for group "
    "strikewatch-delivery: [Error 16] NotCoordinatorError.",
    "2026-12-07 22:45:31,919 WARNING kafka.net.selector: Task <kafka.net.selector.Task object at "
    "0x7eff8cf39fd0> ran for "
    "0.108s (>0.100s threshold). It is blocking the event loop -- likely a tight sync loop inside a coroutine.",
    # Beam's import-time probe and its coder warnings
    "WARNING:root:apitools not found, and bigquery client libraries are not available despite the import not "
    "raising an ImportError.",
    "WARNING:apache_beam.transforms.core:Key coder FastPrimitivesCoder for transform <ParDo(PTransform) "
    "label=[Cluster]> "
    "with stateful DoFn may not be deterministic. This may cause incorrect behavior for complex key types.",
    "WARNING:apache_beam.utils.subprocess_server:Really starting service at localhost:50631 with cmd: ('prism',)",
    "INFO:PrismRunner:pipeline is running (job='job-001[job]')",
    # uvicorn's INFO
    "INFO:     Uvicorn running on http://127.0.0.1:8088 (Press CTRL+C to quit)",
    # a failing feed: its dead letter's console line says it
    "2026-12-07 22:45:38,266 WARNING connectors.scheduler: feed bbc-world failed (unreachable): cannot resolve "
    "feeds.bbci.co.uk: [Errno -2] Name or service not known; next try in 240 s",
    # a delivery retry
    "2026-12-07 22:56:21,001 WARNING strikewatch.services.delivery: alert al1 of s1 failed (attempt 1, timeout), next "
    "try in 0.9 s: x",
]
SHOWN = [
    "2026-12-07 23:01:00,000 WARNING strikewatch.services.store.consumer: PostgreSQL write failed, retrying in 2 s: "
    "connection refused",
    "2026-12-07 23:01:00,000 ERROR strikewatch.services.delivery: alert al1: unexpected error; retrying",
    "WARNING:pipeline.kafka_io:Kafka poll on strikewatch.articles failed, retrying in 2 s: NoBrokersAvailable",
    "ERROR:    Exception in ASGI application",
    "/usr/lib/python3/dist-packages/foo.py:12: RuntimeWarning: coroutine was never awaited",
]


def test_library_info_and_known_harmless_warnings_stay_in_the_log_file():
    for line in HIDDEN:
        assert not LogLines().feed(line), line


def test_warnings_that_need_someone_are_shown():
    for line in SHOWN:
        assert LogLines().feed(line), line


def test_a_traceback_is_shown_whole_and_an_info_record_with_it_is_not():
    lines = LogLines()
    assert not lines.feed("2026-12-07 23:01:00,000 INFO strikewatch.services.api: two-line\nmessage".split("\n")[0])
    assert not lines.feed("message")  # continues the INFO record
    tb = [
        "Traceback (most recent call last):",
        '  File "x.py", line 1, in <module>',
        "    boom()",
        "ZeroDivisionError: division by zero",
    ]
    assert all(lines.feed(line) for line in tb)
    assert not lines.feed("2026-12-07 23:01:01,000 INFO strikewatch.services.api: after it")
    # A record logged with its exception: the frames follow the record's own decision.
    assert lines.feed("2026-12-07 23:01:02,000 ERROR strikewatch.services.store.consumer: batch failed")
    assert lines.feed('  File "y.py", line 2, in f')


def test_a_repeated_warning_is_shown_once_a_minute():
    now = [0.0]
    lines = LogLines(clock=lambda: now[0])
    warn = (
        "2026-12-07 23:01:{:02d},000 WARNING pipeline.kafka_io: Kafka poll on strikewatch.articles "
        "failed, retrying in 2 s: partition {}"
    )
    assert lines.feed(warn.format(0, 1))
    for n in range(1, 20):
        now[0] = 2.0 * n
        assert not lines.feed(warn.format(n, n % 6)), n  # numbers aside, the same warning
    now[0] = REPEAT_QUIET_S + 1
    assert lines.feed(warn.format(59, 3))
    assert lines.feed("2026-12-07 23:02:00,000 WARNING pipeline.kafka_io: something else")


def test_verbose_shows_everything():
    lines = LogLines(verbose=True)
    assert all(lines.feed(line) for line in HIDDEN + SHOWN)


def test_the_formats_are_parsed():
    assert parse("2026-12-07 22:45:25,606 INFO kafka.net.manager: hi").name == "kafka.net.manager"
    assert parse("WARNING:root:apitools not found").name == "root"
    assert parse("INFO:     Started server process [1]").name == "uvicorn"
    assert parse("    at the end") is None


def test_a_logged_exception_shares_its_record_s_fate():
    """kafka-python logs an error with its traceback (chained) when a client closes; it stays in the
    file with its record. The same traceback after an error of ours is shown whole."""
    quiet_one = [
        "ERROR:kafka.net.selector:Unhandled exception in task <kafka.net.selector.Task object at 0x7f>:",
        "Traceback (most recent call last):",
        '  File "selector.py", line 521, in register_event',
        "KeyError: '<socket.socket [closed] fd=-1> is not registered'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "selector.py", line 620, in _poll_once',
        "KeyError: 'x'",
    ]
    lines = LogLines()
    assert not any(lines.feed(line) for line in quiet_one)
    ours = [
        "2026-12-07 23:01:00,000 ERROR strikewatch.services.store.consumer: batch failed",
        "Traceback (most recent call last):",
        '  File "y.py", line 2, in f',
        "ValueError: x",
    ]
    assert all(lines.feed(line) for line in ours)
    # A traceback after an INFO line is nobody's record: an exception no one logged, shown.
    lines = LogLines()
    assert not lines.feed("2026-12-07 23:01:00,000 INFO kafka.conn: connected")
    assert lines.feed("Traceback (most recent call last):") and lines.feed("RuntimeError: boom")
    assert lines.feed("Exception in thread deliver_0:")

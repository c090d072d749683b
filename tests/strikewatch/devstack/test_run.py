"""``strikewatch run``'s own parts that need no stack: a service that exits is reported on the
console with its last lines and restarted; its output goes to its log file; the console lines
of records."""

import io
import time

from strikewatch.core import topics
from strikewatch.devstack import run


def test_a_service_that_exits_is_reported_with_its_last_lines_and_restarted(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    term = run.Console(out, err)
    child = run.Child("bogus", ["no-such-command"], term, tmp_path)  # `strikewatch no-such-command` exits 2
    child.start()
    child.proc.wait(60)
    child.check(time.monotonic())
    said = err.getvalue()
    assert "bogus started (pid" in said
    assert "WARNING bogus exited with 2; restarting in 2 s" in said
    assert "does not load spaCy or Beam" in said  # its last words (the usage's end), on the console
    assert "unknown command" in (tmp_path / "bogus.log").read_text()  # and in its log file
    assert child.proc is None and child.backoff == 2 * run.RESTART_BACKOFF_S
    child.check(time.monotonic() + run.RESTART_BACKOFF_S + 1)
    assert "bogus restarted (pid" in err.getvalue()
    child.proc.wait(60)
    assert out.getvalue() == ""  # stdout is for records only


def test_console_lines_of_records():
    dl = run.console_line(
        topics.DEAD_LETTERS.name,
        {"stage": "connector.fetch", "reason": "unreachable", "source": "bbc", "error": "x" * 500, "payload": "big"},
    )
    assert dl == {
        "dead_letter": "connector.fetch",
        "reason": "unreachable",
        "source": "bbc",
        "error": "x" * run.DEAD_LETTER_ERROR_CHARS,
    }
    ev = run.console_line(
        topics.EVENTS.name,
        {
            "event_type": "air_strike",
            "modality": "asserted",
            "attacker": {"name": "X"},
            "places": [{"name": "Y"}],
            "time": {"date": "2026-01-01"},
        },
    )
    assert ev == {"event": "air_strike", "modality": "asserted", "attacker": "X", "places": ["Y"], "date": "2026-01-01"}

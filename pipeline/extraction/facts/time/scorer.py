"""Scoring "when": the event's date against the coded date.

    tally = TimeTally(); tally.add(events_of_one_gold_strike, gold_date="2023-10-22"); tally.summary()

On the first asserted strike event of each detected gold strike: ``date_accuracy`` is the
share whose date is the coded date; ``date_within_window`` also accepts a coarse time
(week, month, year) whose window holds the coded date; ``reported`` is the share dated only
by publication (precision ``reported``) and ``undated`` the share with no date at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from strikewatch.core.models import Event


@dataclass
class TimeTally:
    n: int = 0
    exact: int = 0
    window: int = 0
    reported: int = 0
    undated: int = 0

    def add(self, strikes: Sequence[Event], *, gold_date: str | None) -> None:
        if not strikes or not gold_date:
            return
        t = strikes[0].time
        gold = date.fromisoformat(gold_date[:10])
        self.n += 1
        self.exact += t.date == gold
        if t.date is None:
            self.undated += 1
        if t.precision == "reported":
            self.reported += 1
        start = t.start.date() if t.start and t.precision not in ("hour", "part_of_day", "reported") else t.date
        end = (
            (t.end - timedelta(microseconds=1)).date()
            if t.end and t.precision not in ("hour", "part_of_day")
            else t.date
        )
        self.window += t.date == gold or (start is not None and end is not None and start <= gold <= end)

    def summary(self) -> dict:
        def r(a: int) -> float | None:
            return round(a / self.n, 4) if self.n else None

        return {
            "n": self.n,
            "date_accuracy": r(self.exact),
            "date_within_window": r(self.window),
            "reported": r(self.reported),
            "undated": r(self.undated),
        }

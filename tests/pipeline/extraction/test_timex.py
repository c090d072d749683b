"""Time expressions resolved against the article date (pure logic)."""

from datetime import date

import pytest

from pipeline.extraction.timex import find_times

MONDAY = date(2021, 6, 28)


@pytest.mark.parametrize(
    ("text", "ref", "want_date", "precision"),
    [
        ("strikes early Monday morning in Iraq", MONDAY, date(2021, 6, 28), "part_of_day"),
        ("officials said on Sunday", MONDAY, date(2021, 6, 27), "day"),
        ("On 9 May 2020, forces shelled", None, date(2020, 5, 9), "day"),
        ("On 28 Apr 2020, forces shelled", None, date(2020, 4, 28), "day"),
        ("On May 29, 2019, an airstrike", None, date(2019, 5, 29), "day"),
        ("On 9-10 May 2020, clashes", None, date(2020, 5, 9), "day"),
        ("attacked yesterday", MONDAY, date(2021, 6, 27), "day"),
        ("carried out around 1 a.m. local time", MONDAY, date(2021, 6, 28), "hour"),
        ("the strike on December 30", MONDAY, date(2020, 12, 30), "day"),  # year-less, would be in the future
    ],
)
def test_resolves_dates(text, ref, want_date, precision):
    [(span, t)] = find_times(text, ref)
    assert text[span.start:span.end] == span.text
    assert t.date == want_date
    assert t.precision == precision


def test_month_expressions_have_month_precision():
    [(_, feb)] = find_times("in late February against buildings", MONDAY)
    assert feb.date is None and feb.precision == "month"
    assert feb.start.date() == date(2021, 2, 21) and feb.end.date() == date(2021, 3, 1)  # end is exclusive
    [(_, since)] = find_times("five times since April", MONDAY)
    assert since.start.date() == date(2021, 4, 1) and since.end.date() == date(2021, 6, 29)


def test_weekday_same_day_counts_and_last_goes_back_a_week():
    [(_, t)] = find_times("on Monday", MONDAY)
    assert t.date == MONDAY
    [(_, t)] = find_times("last Monday", MONDAY)
    assert t.date == date(2021, 6, 21)


def test_offsets_are_shifted():
    [(span, _)] = find_times("x early Monday", MONDAY, offset=100)
    assert (span.start, span.end) == (102, 114)

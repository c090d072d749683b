"""pipeline.extraction.facts.time.parse: finding and resolving time expressions (own strings)."""

from datetime import UTC, date, datetime

import pytest

from pipeline.extraction.facts.time.parse import combine, find_times, first_date

MONDAY = date(2021, 6, 28)  # the reference article's date, a Monday


def only(text, ref=MONDAY):
    found = find_times(text, ref)
    assert len(found) == 1, found
    span, et = found[0]
    assert text[span.start : span.end] == span.text
    return span, et


def utc(*a):
    return datetime(*a, tzinfo=UTC)


def test_early_monday_on_a_monday_is_the_same_day_small_hours():
    span, et = only("US aircraft struck the facilities early Monday, officials said.")
    assert span.text == "early Monday"
    assert et.date == MONDAY and et.precision == "part_of_day"
    assert (et.start, et.end) == (utc(2021, 6, 28, 0), utc(2021, 6, 28, 6))


def test_bare_weekday_is_the_most_recent_such_day():
    assert only("Rockets hit the base Sunday.")[1].date == date(2021, 6, 27)
    assert only("on Tuesday the drones came")[1].date == date(2021, 6, 22)
    assert only("Last Monday's attack")[1].date == date(2021, 6, 21)  # "last" skips today
    _, et = only("It happened Saturday night.")
    assert et.date == date(2021, 6, 26) and et.precision == "part_of_day" and et.start == utc(2021, 6, 26, 20)


def test_late_february_is_month_precision_with_a_late_window():
    span, et = only("attacks in late February drew a response")
    assert span.text == "late February"
    assert et.precision == "month" and et.date == date(2021, 2, 1)
    assert (et.start, et.end) == (utc(2021, 2, 21), utc(2021, 3, 1))


def test_since_april_runs_to_the_article_date():
    span, et = only("at least five drone attacks since April")
    assert span.text == "since April" and et.precision == "month"
    assert (et.start, et.end) == (utc(2021, 4, 1), utc(2021, 6, 29))


def test_clock_time_is_hour_precision_naive_local():
    span, et = only("The strikes began around 1 a.m. local time.")
    assert span.text == "around 1 a.m. local time"
    assert et.precision == "hour" and et.date == MONDAY
    assert (et.start, et.end) == (utc(2021, 6, 28, 1), utc(2021, 6, 28, 2))


def test_day_and_clock_combine():
    (_, day), (_, clock) = find_times("early Sunday, at 11:30 p.m.", MONDAY)
    both = combine(day, clock)
    assert both.date == date(2021, 6, 27) and both.precision == "hour" and both.start == utc(2021, 6, 27, 23, 30)


@pytest.mark.parametrize(
    "text, expected, end",
    [
        ("On 9 May 2020, mortars", date(2020, 5, 9), date(2020, 5, 10)),
        ("On 01 May 2020, jets", date(2020, 5, 1), date(2020, 5, 2)),
        ("Around 12 May 2020 (as reported), jets", date(2020, 5, 12), date(2020, 5, 13)),
        ("between 9-10 May 2020 shelling", date(2020, 5, 9), date(2020, 5, 11)),
        ("dated 2020-05-09 in the log", date(2020, 5, 9), date(2020, 5, 10)),
        ("on June 28, 2021 the jets", date(2021, 6, 28), date(2021, 6, 29)),
        ("On November 9, 2019, French", date(2019, 11, 9), date(2019, 11, 10)),
        ("report of 09/05/2020 said", date(2020, 5, 9), date(2020, 5, 10)),
    ],
)
def test_explicit_dates(text, expected, end):
    _, et = only(text, None)
    assert et.date == expected and et.precision == "day" and et.end == utc(end.year, end.month, end.day)


def test_year_less_dates_take_the_article_year_or_the_year_before():
    assert only("On May 29, an airstrike")[1].date == date(2021, 5, 29)
    assert only("On 3 December, an airstrike")[1].date == date(2020, 12, 3)  # would be in the future
    # No article date: a year written elsewhere in the text, else nothing.
    assert find_times("On May 29, jets struck; the 2019 campaign went on.", None)[0][1].date == date(2019, 5, 29)
    assert [et for _, et in find_times("On May 29, jets struck.", None) if et.date] == []


@pytest.mark.parametrize(
    "text, d, precision",
    [
        ("they said yesterday", date(2021, 6, 27), "day"),
        ("explosions last night", date(2021, 6, 27), "part_of_day"),
        ("earlier this month the base", date(2021, 6, 1), "month"),
        ("a strike last week", date(2021, 6, 21), "week"),  # the previous calendar week, Mon-Sun
        ("in recent weeks militias", date(2021, 5, 17), "week"),
        ("two days ago rockets", date(2021, 6, 26), "day"),
        ("strikes in 2018 and", date(2018, 1, 1), "year"),
    ],
)
def test_relative_and_vague_expressions(text, d, precision):
    _, et = only(text)
    assert (et.date, et.precision) == (d, precision)
    assert et.start is not None and et.end is not None and et.start < et.end


def test_non_dates_are_not_times():
    assert find_times("The militias may strike again with 5 drones.", MONDAY) == []
    assert find_times("May 5 soldiers were hurt", MONDAY) == []


def test_first_date_skips_vague_expressions():
    et = first_date("In recent weeks, and then on 3 March 2020, jets struck.")
    assert et.date == date(2020, 3, 3)


def test_offsets_are_relative_to_the_text_and_ordered():
    text = "On Sunday jets struck; on 9 May 2020 again; late February too."
    found = find_times(text, MONDAY)
    assert [s.text for s, _ in found] == ["Sunday", "9 May 2020", "late February"]
    assert all(text[s.start : s.end] == s.text for s, _ in found)


def test_early_monday_morning_is_the_small_hours_not_the_whole_morning():
    _, et = only("Jets struck early Monday morning.")
    assert et.date == MONDAY and (et.start, et.end) == (utc(2021, 6, 28, 0), utc(2021, 6, 28, 6))
    _, et = only("Rockets landed late Sunday night.")
    assert et.date == date(2021, 6, 27) and (et.start, et.end) == (utc(2021, 6, 27, 22), utc(2021, 6, 28, 0))

"""When a strike happened, end to end on our own sentences: relative days against the
publication's local date at the place, background with its own date, undated -> reported."""

from datetime import UTC, date, datetime

from pipeline.extraction import extract_events
from pipeline.extraction.facts.time.assemble import event_time
from strikewatch.core.models import Article, EventTime, Modality, Place, Span


def _events(nlp, text: str, published: datetime):
    [events] = extract_events(
        nlp, [Article.new(f"https://t.invalid/{abs(hash(text))}", body=text, published_at=published)]
    )
    return [e for e in events if e.event_type.value != "other_violence"]


def test_on_sunday_is_the_last_sunday_before_publication(nlp):
    [ev] = _events(
        nlp, "Russian missiles struck Kharkiv on Sunday, officials said.", datetime(2024, 5, 28, 8, tzinfo=UTC)
    )
    assert ev.time.date == date(2024, 5, 26) and ev.time.precision == "day"


def test_one_am_local_time_is_utc_with_the_places_offset(nlp):
    [ev] = _events(
        nlp, "Drones struck Kharkiv early Monday around 1 a.m. local time.", datetime(2024, 5, 27, 12, tzinfo=UTC)
    )
    assert ev.time.date == date(2024, 5, 27) and ev.time.start == datetime(2024, 5, 26, 22, tzinfo=UTC)


def test_yesterday_is_read_on_the_places_calendar():
    # Published 22:30 UTC Sunday 26 May 2024: already Monday in Kyiv (UTC+3), so "yesterday" is Sunday there.
    kyiv = Place(name="Kyiv", country="Ukraine", country_code="UA", lat=50.45, lon=30.52, precision="city")
    naive = EventTime(
        date=date(2024, 5, 25),
        start=datetime(2024, 5, 25, tzinfo=UTC),
        end=datetime(2024, 5, 26, tzinfo=UTC),
        precision="day",
        expression=Span(text="yesterday", start=0, end=9),
    )
    t = event_time(naive, [kyiv], datetime(2024, 5, 26, 22, 30, tzinfo=UTC))
    assert t.date == date(2024, 5, 26)


def test_a_background_reference_keeps_its_own_date_as_history(nlp):
    evs = _events(
        nlp,
        "In October 2023, artillery shelled the village of Zxqivka near Bakhmut, residents recalled.",
        datetime(2024, 6, 1, tzinfo=UTC),
    )
    assert evs and evs[0].time.date == date(2023, 10, 1) and evs[0].time.precision == "month"
    assert evs[0].modality == Modality.HISTORICAL


def test_an_undated_strike_takes_the_publication_date_as_reported(nlp):
    [ev] = _events(nlp, "Houthi forces fired ballistic missiles at Marib.", datetime(2024, 3, 1, 21, 30, tzinfo=UTC))
    # Yemen is UTC+3: 21:30 UTC on 1 March is 2 March there.
    assert (ev.time.date, ev.time.precision) == (date(2024, 3, 2), "reported")
    assert ev.time.start == datetime(2024, 3, 1, 21, 30, tzinfo=UTC)

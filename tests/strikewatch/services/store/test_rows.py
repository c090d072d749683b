"""strikewatch.services.store.db rows: the sort time of a record (pure functions, no database)."""

from datetime import UTC, date, datetime

from strikewatch.core.filters import UNDATED
from strikewatch.core.models import Event, EventTime, EventType, Place
from strikewatch.services.store.db import event_row


def _event(**kw) -> Event:
    return Event(id="e_1", article_id="a_1", event_type=EventType.SHELLING, **kw)


def test_event_time_is_the_texts_then_the_publication_never_the_ingest_time():
    dated = event_row(
        _event(
            time=EventTime(date=date(2023, 10, 7), precision="day"),
            article_published_at=datetime(2024, 3, 1, tzinfo=UTC),
        )
    )
    assert dated["event_at"] == datetime(2023, 10, 7, tzinfo=UTC)  # a 2024 report of an October 2023 shelling
    reported = event_row(
        _event(article_published_at=datetime(2024, 3, 1, 9, tzinfo=UTC), extracted_at=datetime(2024, 3, 5, tzinfo=UTC))
    )
    assert reported["event_at"] == datetime(2024, 3, 1, 9, tzinfo=UTC)
    undated = event_row(_event(extracted_at=datetime(2024, 3, 5, tzinfo=UTC)))
    assert undated["event_at"] == UNDATED  # sorts last, never "now"


def test_a_place_without_a_point_gives_the_row_no_point():
    row = event_row(_event(places=[Place(name="Zxqivka", country="Ukraine", country_code="UA", precision="unknown")]))
    assert (row["lat"], row["lon"], row["geo_precision"]) == (None, None, None)
    assert row["countries"] == ["ukraine", "ua"]

"""An event's time from its mentions' time spans (pure functions; the event assembly
``pipeline.extraction.events`` calls them).

    best_time(times)                          -> the most precise of a mention's times
    dated_modality(modality, time, ref)       -> background (historical) when it ended long before
    event_time(time, places, published_at)    -> local-day, UTC-instant time of the event

Relative expressions ("on Sunday", "overnight", "yesterday") were resolved by the
component against the publication's UTC date; ``event_time`` resolves them again against
the publication's *local* date at the event's place when the two differ (a Kyiv article
published 22:30 UTC Sunday is Monday there: its "yesterday" is Sunday), turns clock times
and parts of the day into UTC instants with the place's offset, and gives an event the
text dates nowhere the publication date with precision ``reported``: never the time it was
ingested.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from strikewatch.core.models import EventTime, Modality, Place

from ..places import lookups as _geo
from . import parse

# A mention whose time ends this many days before the article date is background,
# not news. 30 days: "in recent weeks"/"since April" reports (ongoing campaigns the
# article is about) stay events; "in late February" in a June article is history.
HISTORICAL_AFTER_DAYS = 30
TIME_ORDER = {"hour": 0, "part_of_day": 1, "day": 2, "week": 3, "month": 4, "year": 5, "reported": 6, "unknown": 7}
# What joins a day and a clock time in one expression (``parse.combine``).
_JOIN = " … "


def best_time(times: Sequence[EventTime]) -> EventTime | None:
    """The most precise time; a bare clock time takes its day from the dated expression next to it."""
    if not times:
        return None
    dated = [t for t in times if t.date is not None]
    best = min(times, key=lambda t: TIME_ORDER[t.precision])
    if best.precision == "hour" and dated:
        day = min(dated, key=lambda t: TIME_ORDER[t.precision])
        if day.date != best.date and best.start is not None:
            shift = _midnight(day.date) - _midnight(best.date)
            best = best.model_copy(
                update={"date": day.date, "start": best.start + shift, "end": best.end + shift if best.end else None}
            )
    return best


def _midnight(d: date) -> datetime:
    return datetime.combine(d, datetime.min.time(), tzinfo=UTC)


def dated_modality(mod: Modality, t: EventTime | None, ref: date | None) -> Modality:
    """An asserted mention whose time ended over ``HISTORICAL_AFTER_DAYS`` before the article is history."""
    if mod != Modality.ASSERTED or t is None or ref is None or t.precision == "reported":
        return mod
    end = t.end.date() if t.end else t.date
    return Modality.HISTORICAL if end is not None and (ref - end).days > HISTORICAL_AFTER_DAYS else mod


def _place_of(places: Sequence[Place]) -> Place | None:
    return next((p for p in places if p.country_code), None)


def to_utc(t: EventTime | None, places: Sequence[Place]) -> EventTime | None:
    """A clock time or part of the day is local to where it happened: ``start``/``end``
    become UTC instants with the offset of the event's first place with a country ("around
    1 a.m. local time" in Iraq is 22:00 UTC the day before). ``date`` stays the local
    date; day and coarser windows, and places of unknown offset, are left as they are."""
    if t is None or t.start is None or t.precision not in ("hour", "part_of_day"):
        return t
    place = _place_of(places)
    off = _geo.utc_offset(place, t.start.replace(tzinfo=None)) if place else None
    if off is None:
        return t
    return t.model_copy(update={"start": t.start - off, "end": t.end - off if t.end else None})


def local_date(at: datetime | None, place: Place | None) -> date | None:
    """The calendar date at ``place`` at the instant ``at`` (UTC's where the zone is unknown)."""
    if at is None:
        return None
    utc = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    off = _geo.utc_offset(place, utc) if place is not None else None
    return (utc + (off or timedelta(0))).date()


def reresolve(t: EventTime, ref: date) -> EventTime:
    """``t``'s expression resolved again against ``ref`` (absolute dates come out the same)."""
    if t.expression is None:
        return t
    parts = t.expression.text.split(_JOIN)
    found = [parse.find_times(p, ref) for p in parts]
    if not all(found):
        return t
    new = found[0][0][1]
    if len(found) > 1:
        new = parse.combine(new, found[1][0][1])
    return new.model_copy(update={"expression": t.expression})


def reported(published_at: datetime | None, place: Place | None) -> EventTime:
    """The time of an event the text does not date: the publication's local date, precision
    ``reported`` (a report is no later than its publication; ``start`` is that instant)."""
    if published_at is None:
        return EventTime()
    at = published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC)
    return EventTime(date=local_date(at, place), start=at.astimezone(UTC), precision="reported")


def event_time(t: EventTime | None, places: Sequence[Place], published_at: datetime | None) -> EventTime:
    """The event's time: relative expressions against the publication's local date at the
    place, local clock times as UTC instants, and ``reported`` when the text dates nothing."""
    place = _place_of(places)
    if t is not None and published_at is not None and place is not None and t.expression is not None:
        utc_day = published_at.astimezone(UTC).date() if published_at.tzinfo else published_at.date()
        local = local_date(published_at, place)
        if local is not None and local != utc_day:
            t = reresolve(t, local)
    t = to_utc(t, places)
    if t is None or t.date is None:
        return reported(published_at, place)
    return t


# How much less sure an event is when the text dates it nowhere (precision "reported": the
# publication date stands in) or not at all: the report may be about an older strike. 0.1
# is what the rules' score gives a dated time (``assemble.event.confidence``), so a learned
# probability and the rules' score lose the same.
UNDATED_CONFIDENCE_PENALTY = 0.1


def time_confidence_penalty(t: EventTime | None) -> float:
    """What an event's confidence loses for its time: ``UNDATED_CONFIDENCE_PENALTY`` when the
    text gives no date (precision "reported" or "unknown"), else 0."""
    return UNDATED_CONFIDENCE_PENALTY if t is None or t.date is None or t.precision in ("reported", "unknown") else 0.0

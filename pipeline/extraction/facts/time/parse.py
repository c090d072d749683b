"""Time expressions in news and ACLED notes: find them and resolve them against the
article date.

    find_times("US jets struck early Monday.", date(2021, 6, 28))
    -> [(Span("early Monday", 14, 26), EventTime(date=2021-06-28, precision="part_of_day",
                                                 start=2021-06-28T00:00Z, end=2021-06-28T06:00Z))]

Resolution conventions (news style):

* a bare weekday is the most recent such day on or before the article date (the same
  day counts; "last Monday" on a Monday is a week back);
* a year-less date or month takes the article's year, or the previous year when that
  would put it more than ``FUTURE_SLACK`` after the article; with no article date a
  year-less date takes a year written elsewhere in the same text, else it is dropped;
* vague spans ("last week", "in recent weeks", "earlier this month", "late February",
  "since April") get a window (``start``/``end``) and a coarse precision; ``date`` is
  the first day of that window truncated to the precision (month precision -> day 1);
* clock times ("around 1 a.m. local time") have precision "hour". The place's time zone
  is unknown here, so wall-clock times are stored naive-as-UTC: ``start`` is the local
  wall-clock hour tagged UTC, not the true UTC instant.

Regular expressions first (compiled once); ``dateparser`` only for numeric dates such as
"09/05/2020" that the patterns do not resolve unambiguously, with languages=["en"] and
no locale guessing. Pure functions; span offsets are relative to ``text``.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta

from strikewatch.core.models import EventTime, Span

# A year-less date up to this far after the article date is still this year (days):
# reports written just after midnight UTC mention "tomorrow"-dated local events.
FUTURE_SLACK = timedelta(days=1)
# Part-of-day windows (local hours, [start, end)). Set from common newsroom usage:
# "early Monday" = small hours before dawn, "late Monday" = evening to midnight.
PART_HOURS = {
    "early": (0, 6),
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 22),
    "night": (20, 24),
    "late": (18, 24),
    "overnight": (-4, 6),
    "dawn": (4, 7),
    "midday": (11, 14),
    "noon": (11, 14),
}
# "early"/"late" narrowing a named part of the day (local hours). News "early Monday
# morning" is the small hours after midnight, like "early Monday".
QUALIFIED_PART_HOURS = {
    ("early", "morning"): (0, 6),
    ("late", "morning"): (9, 12),
    ("early", "afternoon"): (12, 15),
    ("late", "afternoon"): (15, 18),
    ("early", "evening"): (18, 20),
    ("late", "evening"): (21, 24),
    ("early", "night"): (20, 22),
    ("late", "night"): (22, 24),
}
# Windows of vague relative expressions, as (days back from the article date to the
# start, precision). "In recent weeks" ~ the last six weeks; "earlier this month" from
# day 1; "last week" = the previous calendar week (handled in code).
VAGUE_DAYS = {
    "in recent weeks": (42, "week"),
    "recent weeks": (42, "week"),
    "in recent days": (7, "week"),
    "recent days": (7, "week"),
    "past week": (7, "week"),
    "this week": (7, "week"),
    "past few days": (5, "week"),
    "last few days": (5, "week"),
    "past month": (31, "month"),
}

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_MON = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_PARTW = r"(?:morning|afternoon|evening|night|dawn|midday|noon)"
_Y = r"(?:19|20)\d{2}"
_D = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_TO = r"\s*(?:-|\u2013|to|and)\s*"
_NOT_UNIT = r"(?!\s*(?:pounds?|lbs?|kg|km|miles?|people|soldiers|civilians|militants|fighters|killed|dead|times|%))"

# (kind, pattern). Order does not matter: overlaps are settled earliest-longest first.
PATTERNS: list[tuple[str, re.Pattern]] = [
    # "9 May 2020", "9-10 May 2020", "between 9 and 10 May 2020", "09 May, 2020"
    ("dmy", re.compile(rf"\b(?P<d>{_D})(?:{_TO}(?P<d2>{_D}))?\s+(?P<mon>{_MON}),?\s+(?P<y>{_Y})\b", re.I)),
    # "May 29, 2021", "May 29 2021", "May 29-30, 2021"
    ("mdy", re.compile(rf"\b(?P<mon>{_MON})\s+(?P<d>{_D})(?:{_TO}(?P<d2>{_D}))?(?:,\s*|\s+)(?P<y>{_Y})\b", re.I)),
    # "2020-05-09"
    ("iso", re.compile(rf"\b(?P<y>{_Y})-(?P<m>[01]\d)-(?P<d>[0-3]\d)\b")),
    # "9 May", "9-10 May" (year-less)
    ("dm", re.compile(rf"\b(?P<d>{_D})(?:{_TO}(?P<d2>{_D}))?\s+(?P<mon>{_MON})\b(?!,?\s+{_Y})", re.I)),
    # "May 29", "May 29-30" (year-less); not "May 5 soldiers"
    ("md", re.compile(rf"\b(?P<mon>{_MON})\s+(?P<d>{_D})(?:{_TO}(?P<d2>{_D}))?\b(?!,?\s*{_Y}){_NOT_UNIT}", re.I)),
    # numeric "09/05/2020" or "9.5.2020": day-first (ACLED and most non-US wires) via dateparser
    ("numeric", re.compile(rf"\b(?P<num>[0-3]?\d[/.][01]?\d[/.](?:{_Y}|\d{{2}}))\b")),
    # "early Monday", "late on Sunday", "Monday night", "last Friday", "on Saturday morning"
    (
        "weekday",
        re.compile(
            rf"\b(?:(?P<q>early|late|last|this past|past)\s+(?:on\s+)?)?(?P<wd>{_WD})(?:\s+(?P<part>{_PARTW}))?\b", re.I
        ),
    ),
    # "yesterday", "last night", "overnight", "this morning", "earlier today"
    (
        "relday",
        re.compile(
            r"\b(?P<rel>the day before yesterday|yesterday(?:\s+(?:morning|afternoon|evening))?|last night|"
            r"overnight|this (?:morning|afternoon|evening)|tonight|earlier today|today|on the same day)\b",
            re.I,
        ),
    ),
    # "around 1 a.m. local time", "at 11:30 pm", "shortly after 2am"
    (
        "clock",
        re.compile(
            r"\b(?:(?:around|about|at|approximately|shortly (?:after|before)|just (?:after|before)|before|after)\s+)?"
            r"(?P<h>[01]?\d)(?:[:.](?P<min>[0-5]\d))?\s*(?P<ampm>a\.m\.|p\.m\.|am\b|pm\b)(?P<local>\s+local time)?",
            re.I,
        ),
    ),
    # "late February", "early March 2020", "since April", "in mid-May", "earlier in June"
    (
        "month",
        re.compile(
            rf"\b(?:(?P<q>early|mid|late|since|in|earlier in|during|end of|beginning of|throughout)[\s-]+)?(?:-)?"
            r"(?P<mon>January|February|March|April|May|June|July|August|September|October|November|December)"
            rf"(?:\s+(?P<y>{_Y}))?\b",
            re.I,
        ),
    ),
    # "last week", "earlier this month", "in recent weeks", "two days ago", "last month", "earlier this year"
    (
        "vague",
        re.compile(
            r"\b(?P<vague>in recent (?:weeks|days)|recent (?:weeks|days)|earlier this (?:month|week|year)|"
            r"(?:last|past|this) (?:week|month|year)|past few days|last few days|"
            r"(?P<n>a|one|two|three|four|five|six|seven|several|a few|\d+) (?P<unit>days?|weeks?|months?) ago)\b",
            re.I,
        ),
    ),
    # "in 2018", "since 2014"
    ("year", re.compile(rf"\b(?:in|since|during|throughout|early|late|mid-?)\s+(?P<y>{_Y})\b(?!-\d)", re.I)),
]

_NUMBER_WORDS = {
    "a": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "several": 3,
    "a few": 3,
}


def _utc(d: date, hour: float = 0) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC) + timedelta(hours=hour)


def _day_int(s: str) -> int:
    return int(re.match(r"\d+", s).group(0))


def _year_for(month: int, day: int, ref: date | None, text_year: int | None) -> int | None:
    if ref is None:
        return text_year
    try:
        cand = date(ref.year, month, day)
    except ValueError:
        cand = date(ref.year, month, 1)
    return ref.year - 1 if cand > ref + FUTURE_SLACK else ref.year


def _days(d0: date, d1: date, span: Span) -> EventTime:
    return EventTime(date=d0, start=_utc(d0), end=_utc(d1 + timedelta(days=1)), precision="day", expression=span)


def _part(d: date, part: str, span: Span, qualifier: str | None = None) -> EventTime:
    h0, h1 = QUALIFIED_PART_HOURS.get((qualifier or "", part)) or PART_HOURS[part]
    return EventTime(date=d, start=_utc(d, h0), end=_utc(d, h1), precision="part_of_day", expression=span)


def _month_window(y: int, m: int, q: str, span: Span, ref: date | None) -> EventTime:
    last = calendar.monthrange(y, m)[1]
    d0, d1 = 1, last
    if q in ("early", "beginning of"):
        d1 = 10
    elif q == "mid":
        d0, d1 = 11, 20
    elif q in ("late", "end of"):
        d0 = 21
    start, end = date(y, m, d0), date(y, m, d1)
    if q == "since" and ref is not None:
        end = max(ref, start)
    return EventTime(
        date=date(y, m, 1), start=_utc(start), end=_utc(end + timedelta(days=1)), precision="month", expression=span
    )


def _numeric(s: str, ref: date | None) -> date | None:
    import dateparser

    settings = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "REQUIRE_PARTS": ["day", "month", "year"]}
    if ref is not None:
        settings["RELATIVE_BASE"] = datetime.combine(ref, time(12))
    dt = dateparser.parse(s, languages=["en"], locales=None, settings=settings)
    return dt.date() if dt else None


def resolve(kind: str, m: re.Match, ref: date | None, span: Span, text_year: int | None = None) -> EventTime | None:
    """Resolve one match of ``PATTERNS[kind]`` against the article date ``ref``."""
    g = m.groupdict()
    try:
        if kind in ("dmy", "mdy", "iso", "dm", "md"):
            mon = int(g["m"]) if kind == "iso" else _MONTHS[g["mon"].lower().rstrip(".")]
            d = _day_int(g["d"])
            y = int(g["y"]) if g.get("y") else _year_for(mon, d, ref, text_year)
            if y is None:
                return None
            d0 = date(y, mon, d)
            d1 = date(y, mon, _day_int(g["d2"])) if g.get("d2") else d0
            return _days(d0, max(d0, d1), span)
        if kind == "numeric":
            d = _numeric(g["num"], ref)
            return _days(d, d, span) if d else None
        if kind == "weekday":
            if ref is None:
                return None
            q = (g.get("q") or "").lower()
            back = (ref.weekday() - _WEEKDAYS[g["wd"].lower()]) % 7
            if q in ("last", "this past", "past") and back == 0:
                back = 7
            day = ref - timedelta(days=back)
            named = (g.get("part") or "").lower() or None
            part = named or (q if q in ("early", "late") else None)
            return (
                _part(day, part, span, q if named and q in ("early", "late") else None)
                if part
                else _days(day, day, span)
            )
        if kind == "relday":
            if ref is None:
                return None
            rel = " ".join(g["rel"].lower().split())
            if rel == "the day before yesterday":
                return _days(ref - timedelta(days=2), ref - timedelta(days=2), span)
            if rel.startswith("yesterday"):
                y = ref - timedelta(days=1)
                part = rel.split()[1] if " " in rel else None
                return _part(y, part, span) if part else _days(y, y, span)
            if rel == "last night":
                return _part(ref - timedelta(days=1), "night", span)
            if rel == "overnight":
                return _part(ref, "overnight", span)
            if rel.startswith("this "):
                return _part(ref, rel.split()[1], span)
            if rel == "tonight":
                return _part(ref, "night", span)
            if rel == "on the same day":
                return None  # anaphoric: the caller knows which day
            return _days(ref, ref, span)
        if kind == "clock":
            h = int(g["h"])
            if h > 12:
                return None
            h = h % 12 + (12 if g["ampm"].lower().startswith("p") else 0)
            minute = int(g["min"] or 0)
            if ref is None:
                return EventTime(precision="hour", expression=span)
            start = _utc(ref, h + minute / 60)
            return EventTime(date=ref, start=start, end=start + timedelta(hours=1), precision="hour", expression=span)
        if kind == "month":
            q = " ".join((g.get("q") or "").lower().split())
            mon = _MONTHS[g["mon"].lower()]
            if mon == 5 and not q and not g.get("y"):
                return None  # bare "May" is usually the modal verb
            y = int(g["y"]) if g.get("y") else _year_for(mon, 1, ref, text_year)
            if y is None:
                return None
            return _month_window(y, mon, q, span, ref)
        if kind == "vague":
            if ref is None:
                return None
            v = " ".join(g["vague"].lower().split())
            if v == "last week":
                monday = ref - timedelta(days=ref.weekday() + 7)
                return EventTime(
                    date=monday,
                    start=_utc(monday),
                    end=_utc(monday + timedelta(days=7)),
                    precision="week",
                    expression=span,
                )
            if v in ("earlier this month", "this month"):
                d0 = ref.replace(day=1)
                return EventTime(
                    date=d0, start=_utc(d0), end=_utc(ref + timedelta(days=1)), precision="month", expression=span
                )
            if v in ("last month",):
                last = ref.replace(day=1) - timedelta(days=1)
                d0 = last.replace(day=1)
                return EventTime(
                    date=d0, start=_utc(d0), end=_utc(last + timedelta(days=1)), precision="month", expression=span
                )
            if v in ("earlier this year", "this year", "past year", "last year"):
                y = ref.year - (1 if v == "last year" else 0)
                d0 = date(y, 1, 1)
                d1 = ref if v != "last year" else date(y, 12, 31)
                if v == "past year":
                    d0 = ref - timedelta(days=365)
                return EventTime(
                    date=d0, start=_utc(d0), end=_utc(d1 + timedelta(days=1)), precision="year", expression=span
                )
            if v == "earlier this week":
                d0 = ref - timedelta(days=ref.weekday())
                return EventTime(
                    date=d0, start=_utc(d0), end=_utc(ref + timedelta(days=1)), precision="week", expression=span
                )
            if g.get("unit"):
                n = _NUMBER_WORDS.get(g["n"].lower()) if not g["n"].isdigit() else int(g["n"])
                unit = g["unit"].lower().rstrip("s")
                if unit == "day":
                    d = ref - timedelta(days=n)
                    if g["n"].lower() in ("several", "a few"):
                        return EventTime(
                            date=d,
                            start=_utc(ref - timedelta(days=7)),
                            end=_utc(ref - timedelta(days=1)),
                            precision="week",
                            expression=span,
                        )
                    return _days(d, d, span)
                days = n * (7 if unit == "week" else 30)
                d = ref - timedelta(days=days)
                return EventTime(
                    date=d,
                    start=_utc(d - timedelta(days=3 if unit == "week" else 15)),
                    end=_utc(d + timedelta(days=4 if unit == "week" else 16)),
                    precision="week" if unit == "week" else "month",
                    expression=span,
                )
            back, prec = VAGUE_DAYS.get(v, (7, "week"))
            d0 = ref - timedelta(days=back)
            return EventTime(
                date=d0, start=_utc(d0), end=_utc(ref + timedelta(days=1)), precision=prec, expression=span
            )
        if kind == "year":
            y = int(g["y"])
            return EventTime(
                date=date(y, 1, 1),
                start=_utc(date(y, 1, 1)),
                end=_utc(date(y + 1, 1, 1)),
                precision="year",
                expression=span,
            )
    except (ValueError, KeyError, OverflowError, TypeError):
        return None
    return None


_ANY_YEAR = re.compile(rf"\b({_Y})\b")


def find_times(text: str, article_date: date | None) -> list[tuple[Span, EventTime]]:
    """Every date/time expression in ``text``, resolved against ``article_date``, as
    (span, EventTime) in text order; overlapping candidates are settled earliest-longest
    first. Offsets are relative to ``text``."""
    found: list[tuple[int, int, str, re.Match]] = []
    for kind, pat in PATTERNS:
        for m in pat.finditer(text):
            found.append((m.start(), m.end(), kind, m))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    text_year = None
    if article_date is None:
        years = _ANY_YEAR.findall(text)
        text_year = int(years[0]) if years else None
    out: list[tuple[Span, EventTime]] = []
    taken_end = -1
    for s, e, kind, m in found:
        if s < taken_end:
            continue
        span = Span(text=text[s:e], start=s, end=e)
        et = resolve(kind, m, article_date, span, text_year)
        if et is not None:
            out.append((span, et))
            taken_end = e
    return out


def first_date(text: str, article_date: date | None = None) -> EventTime | None:
    """The first day-or-finer time in ``text`` (ACLED notes open with the event date)."""
    for _span, et in find_times(text, article_date):
        if et.date is not None and et.precision in ("day", "part_of_day", "hour"):
            return et
    return None


def combine(day: EventTime, clock: EventTime) -> EventTime:
    """A clock time ("around 1 a.m.") placed on a resolved day ("early Monday")."""
    if day.date is None or clock.start is None or clock.date is None:
        return day
    offset = clock.start - _utc(clock.date)
    start = _utc(day.date) + offset
    span = day.expression
    if day.expression and clock.expression:
        a, b = sorted([day.expression, clock.expression], key=lambda s: s.start)
        span = Span(text=a.text + " … " + b.text, start=a.start, end=b.end)
    return EventTime(date=day.date, start=start, end=start + timedelta(hours=1), precision="hour", expression=span)

"""Time expressions: find them in a text and resolve them against the article's date.

    find_times("... carried out airstrikes early Monday ...", date(2021, 6, 28))
    -> [(Span("early Monday", 35, 47), EventTime(date=2021-06-28, precision="part_of_day", ...))]

Conventions (news style): a bare weekday is the most recent such day on or before the
article date (same day counts); a year-less date or month takes the article's year,
or the year before when that would put it after the article; "early/late" narrow a
day to a part of the day. Times of day are kept naive-local as UTC (the place's time
zone is not known here) and flagged by the precision "hour". Regular expressions only;
compiled once.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone

from strikewatch.models import EventTime, Span

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_MON = r"(?P<mon>January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
_WD = r"(?P<wd>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_PART = r"(?P<part>morning|afternoon|evening|night)"

PATTERNS: list[tuple[str, re.Pattern]] = [
    ("dmy", re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2})?\s+" + _MON + r",?\s+(?P<y>(?:19|20)\d{2})\b", re.I)),
    ("mdy", re.compile(r"\b" + _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s*[-–]\s*\d{1,2})?(?:,\s*|\s+)(?P<y>(?:19|20)\d{2})\b", re.I)),
    ("iso", re.compile(r"\b(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("dm", re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON + r"\b(?!,?\s+(?:19|20)\d{2})", re.I)),
    ("md", re.compile(r"\b" + _MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!,?\s+(?:19|20)\d{2})(?!\s*(?:pounds?|lb|kg|km|miles?|people|soldiers|civilians))", re.I)),
    ("weekday", re.compile(r"\b(?:(?P<q>early|late|on|last)\s+)?" + _WD + r"(?:\s+" + _PART + r")?\b", re.I)),
    ("relday", re.compile(r"\b(?P<rel>yesterday|today|last night|this morning|tonight|overnight)\b", re.I)),
    ("clock", re.compile(r"\b(?:around|about|at|shortly after|shortly before)?\s*(?P<h>\d{1,2})(?::(?P<min>\d{2}))?\s*(?P<ampm>a\.m\.|p\.m\.|am|pm)(?:\s+local time)?", re.I)),
    ("month", re.compile(r"\b(?:(?P<q>early|mid|late|earlier in|since|in)\s+)?(?P<mon>January|February|March|April|June|July|August|September|October|November|December)(?:\s+(?P<y>(?:19|20)\d{2}))?\b", re.I)),
    ("vague", re.compile(r"\b(?P<vague>in recent weeks|recent weeks|earlier this month|last week|last month|earlier this year|this week|last year|(?:a|one|two|three|several) (?:days?|weeks?) ago)\b", re.I)),
    ("year", re.compile(r"\bin (?P<y>(?:19|20)\d{2})\b")),
]

PART_HOURS = {"early": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 22), "night": (20, 24), "late": (18, 24)}


def _year_for(month: int, day: int | None, ref: date | None) -> int:
    if ref is None:
        return date.today().year
    y = ref.year
    try:
        cand = date(y, month, day or 1)
    except ValueError:
        return y
    return y - 1 if cand > ref + timedelta(days=1) else y


def _utc(d: date, h: int = 0) -> datetime:
    return datetime.combine(d, time(0), tzinfo=timezone.utc) + timedelta(hours=h)


def _day(d: date, span: Span, part: str | None = None) -> EventTime:
    if part and part in PART_HOURS:
        h0, h1 = PART_HOURS[part]
        return EventTime(date=d, start=_utc(d, h0), end=_utc(d, h1), precision="part_of_day", expression=span)
    return EventTime(date=d, start=_utc(d), end=_utc(d, 24), precision="day", expression=span)


def _month(y: int, m: int, span: Span, q: str | None = None) -> EventTime:
    last = calendar.monthrange(y, m)[1]
    d0, d1 = 1, last
    if q == "early":
        d1 = 10
    elif q == "mid":
        d0, d1 = 11, 20
    elif q == "late":
        d0 = 21
    start = date(y, m, d0)
    return EventTime(date=None, start=_utc(start), end=_utc(date(y, m, d1), 24), precision="month", expression=span)


def resolve(kind: str, m: re.Match, ref: date | None, span: Span) -> EventTime | None:
    g = m.groupdict()
    try:
        if kind in ("dmy", "mdy", "iso", "dm", "md"):
            mon = int(g["m"]) if kind == "iso" else MONTHS[g["mon"].lower().rstrip(".")]
            d = int(g["d"])
            y = int(g["y"]) if g.get("y") else _year_for(mon, d, ref)
            return _day(date(y, mon, d), span)
        if kind == "weekday":
            if ref is None:
                return None
            wd = WEEKDAYS[g["wd"].lower()]
            back = (ref.weekday() - wd) % 7
            if (g.get("q") or "").lower() == "last" and back == 0:
                back = 7
            part = (g.get("part") or "").lower() or None
            q = (g.get("q") or "").lower()
            if q in ("early", "late") and not part:
                part = q
            return _day(ref - timedelta(days=back), span, part)
        if kind == "relday":
            if ref is None:
                return None
            rel = g["rel"].lower()
            if rel == "yesterday":
                return _day(ref - timedelta(days=1), span)
            if rel == "last night":
                return _day(ref - timedelta(days=1), span, "night")
            if rel == "overnight":
                return EventTime(date=ref, start=_utc(ref - timedelta(days=1), 20), end=_utc(ref, 6), precision="part_of_day", expression=span)
            return _day(ref, span, "morning" if "morning" in rel else ("night" if rel == "tonight" else None))
        if kind == "clock":
            h = int(g["h"]) % 12 + (12 if g["ampm"].lower().startswith("p") else 0)
            if h > 23:
                return None
            minute = int(g["min"] or 0)
            if ref is None:
                return EventTime(precision="hour", expression=span)
            start = _utc(ref, h) + timedelta(minutes=minute)
            return EventTime(date=ref, start=start, end=start + timedelta(hours=1), precision="hour", expression=span)
        if kind == "month":
            mon = MONTHS[g["mon"].lower()]
            y = int(g["y"]) if g.get("y") else _year_for(mon, None, ref)
            q = (g.get("q") or "").lower()
            et = _month(y, mon, span, q if q in ("early", "mid", "late") else None)
            if q == "since" and ref is not None:
                return EventTime(start=et.start, end=_utc(ref, 24), precision="month", expression=span)
            return et
        if kind == "vague":
            if ref is None:
                return None
            v = g["vague"].lower()
            weeks = {"last week": 2, "this week": 1, "last month": 8, "earlier this month": 5, "in recent weeks": 6, "recent weeks": 6}.get(v, 52 if "year" in v else 2)
            return EventTime(start=_utc(ref - timedelta(weeks=weeks)), end=_utc(ref, 24), precision="week" if weeks < 8 else "month", expression=span)
        if kind == "year":
            y = int(g["y"])
            return EventTime(start=_utc(date(y, 1, 1)), end=_utc(date(y, 12, 31), 24), precision="year", expression=span)
    except (ValueError, KeyError):
        return None
    return None


def find_times(text: str, article_date: date | None, offset: int = 0) -> list[tuple[Span, EventTime]]:
    """Every time expression in ``text`` (non-overlapping, earliest-longest first),
    resolved against ``article_date``; span offsets are shifted by ``offset``."""
    found: list[tuple[int, int, str, re.Match]] = []
    for kind, pat in PATTERNS:
        for m in pat.finditer(text):
            s, e = m.span()
            while s < e and text[s].isspace():
                s += 1
            if kind == "month" and not m.group("q") and not m.group("y") and m.group("mon").lower() in ("may",):
                continue
            found.append((s, e, kind, m))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    out: list[tuple[Span, EventTime]] = []
    taken_end = -1
    for s, e, kind, m in found:
        if s < taken_end:
            continue
        span = Span(text=text[s:e], start=s + offset, end=e + offset)
        et = resolve(kind, m, article_date, span)
        if et is not None:
            out.append((span, et))
            taken_end = e
    return out

"""Feed bodies -> Articles: RSS 0.9x/1.0/2.0, Atom and RDF through feedparser, and
JSON Feed 1.x. Pure functions over bytes; nothing here does IO.

    articles = parse_feed(body, feed_name="bbc", feed_url=url, http_charset="utf-8")

Raises ``FeedError`` with reason ``empty``, ``not_a_feed`` (an HTML page), ``xml_bomb``
/ ``xxe`` (refused unparsed), ``malformed`` (nothing recoverable) or ``too_large``.
A malformed feed with recoverable entries yields them (feedparser's lenient mode),
and the caller counts it as ``recovered``.
"""

from __future__ import annotations

import calendar
import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

from strikewatch.core.models import Article

from . import safexml
from .errors import FeedError

# Every pattern here runs over feed text, which is attacker-controlled, so each is linear: a match that
# starts at "<" can only scan to the next "<" or ">" ([^<>]), so no two attempts scan the same text twice.
# (The old ``<[^>]+>`` and ``<(script|style)\b.*?</\1>`` scanned to the end of the text from every "<" with
# no ">" or closing tag after it: a 234 KiB feed of "<a" took 5.7 s.)
_TAG_RE = re.compile(r"<[^<>]+>")
_BREAK_RE = re.compile(r"(?i)<\s*(?:br|/p|/div|/li|/h\d)\s*/?>")
_RAW_TEXT_RE = re.compile(r"(?i)<(/?)(script|style)\b[^<>]*>")
_WS_RE = re.compile(r"[ \t\r\f\v]+")
# A numeric character reference of 8 or more digits is past U+10FFFF, so invalid; html.unescape would hand
# it to int(), which refuses more than 4,300 digits with a ValueError (a crash of the whole feed's parse).
_HUGE_CHARREF_RE = re.compile(r"&#0*[0-9]{8,};?|&#[xX]0*[0-9a-fA-F]{8,};?")
_HTML_START_RE = re.compile(r"^\s*(?:<!doctype\s+html|<html\b|<head\b|<body\b)", re.I)


def _drop_raw_text(t: str) -> str:
    """Remove <script>...</script> and <style>...</style> in one pass over their tags (linear)."""
    out, pos, open_at, open_name = [], 0, -1, ""
    for m in _RAW_TEXT_RE.finditer(t):
        closing, name = m.group(1), m.group(2).lower()
        if open_at < 0 and not closing:
            open_at, open_name = m.start(), name
        elif open_at >= 0 and closing and name == open_name:
            out.append(t[pos:open_at])
            pos, open_at = m.end(), -1
    out.append(t[pos:])
    return "".join(out)


def html_to_text(fragment: str) -> str:
    """Tags out, entities decoded, paragraphs kept as blank lines. Linear in the length of ``fragment``."""
    if not fragment:
        return ""
    t = _BREAK_RE.sub("\n", fragment)
    t = _drop_raw_text(t)
    t = html.unescape(_HUGE_CHARREF_RE.sub("\ufffd", _TAG_RE.sub("", t)))
    lines = [_WS_RE.sub(" ", ln).strip() for ln in t.split("\n")]
    return "\n".join(ln for ln in lines if ln).strip()


@dataclass(frozen=True)
class ParsedFeed:
    articles: list[Article]
    recovered: bool  # the document was malformed but entries were recovered
    language: str | None
    # (link as written, why) of entries left out because no Article can be made of them (a link urlsplit
    # refuses, such as "http://[::1"); the poller dead-letters each one and goes on with the rest.
    rejected: list[tuple[str, str]] = field(default_factory=list)


def _when(struct) -> datetime | None:
    if not struct:
        return None
    try:
        # feedparser normalises to UTC struct_time; timegm keeps it in UTC.
        return datetime.fromtimestamp(calendar.timegm(struct), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _lang(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    return code.split("-")[0] or None if code else None


def _jsonfeed(text: str, feed_name: str, feed_url: str | None) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise FeedError(f"invalid JSON Feed: {e}", "malformed") from None
    if not isinstance(doc, dict) or "jsonfeed" not in str(doc.get("version", "")):
        raise FeedError("JSON document is not a JSON Feed", "not_a_feed")
    lang = _lang(doc.get("language"))
    out, rejected = [], []
    for item in doc.get("items") or []:
        if not isinstance(item, dict):
            continue
        url = item.get("url") or item.get("external_url") or item.get("id")
        if not url or not isinstance(url, str):
            continue
        try:
            out.append(_json_item(item, url, feed_name, feed_url, lang))
        except (ValueError, TypeError, AttributeError) as e:
            rejected.append((url[:2000], f"{type(e).__name__}: {e}"))
    return ParsedFeed(out, False, lang, rejected)


def _json_item(item: dict, url: str, feed_name: str, feed_url: str | None, lang: str | None) -> Article:
    body = item.get("content_text") or html_to_text(item.get("content_html") or "")
    published = None
    if item.get("date_published"):
        try:
            published = datetime.fromisoformat(item["date_published"].replace("Z", "+00:00"))
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
        except ValueError:
            published = None
    authors = [
        a.get("name")
        for a in item.get("authors") or ([item["author"]] if item.get("author") else [])
        if isinstance(a, dict) and a.get("name")
    ]
    return Article.new(
        urljoin(feed_url or "", url),
        title=(item.get("title") or "").strip(),
        body=body,
        summary=(item.get("summary") or "").strip(),
        authors=authors,
        published_at=published,
        language=_lang(item.get("language")) or lang,
        source=feed_name,
        feed_url=feed_url,
    )


def parse_feed(body: bytes, feed_name: str, feed_url: str | None = None, http_charset: str | None = None) -> ParsedFeed:
    import feedparser

    if not body or not body.strip():
        raise FeedError("empty body", "empty")
    safexml.refuse_entities(body)
    text, _enc = safexml.decode(body, http_charset)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return _jsonfeed(stripped, feed_name, feed_url)
    if _HTML_START_RE.match(stripped):
        raise FeedError("body is an HTML page, not a feed", "not_a_feed", body)
    parsed = feedparser.parse(safexml.strip_declaration(stripped), resolve_relative_uris=False, sanitize_html=False)
    entries = parsed.entries
    if not entries:
        if parsed.bozo or not parsed.version:
            msg = str(getattr(parsed, "bozo_exception", "no feed elements found"))
            reason = "not_a_feed" if not parsed.version and not parsed.feed else "malformed"
            raise FeedError(f"no entries: {msg}", reason, body)
        return ParsedFeed([], False, _lang(parsed.feed.get("language")))
    lang = _lang(parsed.feed.get("language"))
    out, rejected = [], []
    for e in entries:
        url = e.get("link") or (e.get("id") if str(e.get("id", "")).startswith("http") else None)
        if not url:
            continue
        try:
            out.append(_entry(e, url, feed_name, feed_url, lang))
        except (ValueError, TypeError) as err:
            rejected.append((str(url)[:2000], f"{type(err).__name__}: {err}"))
    return ParsedFeed(out, bool(parsed.bozo), lang, rejected)


def _entry(e, url: str, feed_name: str, feed_url: str | None, lang: str | None) -> Article:
    url = urljoin(feed_url or "", url.strip())
    content = ""
    if e.get("content"):
        content = html_to_text(max((c.get("value", "") for c in e.content), key=len))
    summary = html_to_text(e.get("summary", ""))
    authors = [a.get("name") for a in e.get("authors", []) if a.get("name")] or (
        [e["author"]] if e.get("author") else []
    )
    published = _when(e.get("published_parsed")) or _when(e.get("updated_parsed"))
    return Article.new(
        url,
        title=html_to_text(e.get("title", "")),
        body=content or summary,
        summary=summary,
        authors=authors,
        published_at=published,
        language=_lang(e.get("language")) or lang,
        source=feed_name,
        feed_url=feed_url,
    )

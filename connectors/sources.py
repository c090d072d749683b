"""The two non-feed source kinds a monitoring team polls, as pure parsers:

* news sitemaps (``<urlset>`` with ``news:news`` title/publication date, and sitemap
  indexes whose child sitemaps the poller follows);
* a GDELT DOC-API-style JSON search (``{"articles": [{"url", "title", "seendate",
  "language", "domain"}]}``), whose URL (query included) is configurable so any
  compatible endpoint, or a local one in tests, can be polled.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET

from strikewatch.core.models import Article

from . import safexml
from .errors import FeedError

NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
# ISO 639 names GDELT uses -> codes.
GDELT_LANG = {
    "english": "en",
    "french": "fr",
    "arabic": "ar",
    "spanish": "es",
    "russian": "ru",
    "ukrainian": "uk",
    "german": "de",
    "chinese": "zh",
    "portuguese": "pt",
    "turkish": "tr",
}


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    v = value.strip()
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
        return d if d.tzinfo else d.replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_sitemap(
    body: bytes, source: str, feed_url: str | None = None, rejected: list[tuple[str, str]] | None = None
) -> tuple[list[Article], list[str]]:
    """(articles, child sitemap URLs). Entries no Article can be made of are left out and, when
    ``rejected`` is given, appended to it as (link, why)."""
    if not body.strip():
        raise FeedError("empty body", "empty")
    safexml.refuse_entities(body)
    try:
        root = SafeET.fromstring(body)
    except SafeET.ParseError as e:
        raise FeedError(f"malformed sitemap: {e}", "malformed", body) from None
    except Exception as e:  # defusedxml's refusals (DTD/entities) land here too
        raise FeedError(f"sitemap refused: {type(e).__name__}", "xml_bomb", body) from None
    tag = root.tag.split("}")[-1]
    if tag == "sitemapindex":
        return [], [el.text.strip() for el in root.findall("sm:sitemap/sm:loc", NS) if el.text]
    if tag != "urlset":
        raise FeedError(f"not a sitemap (root <{tag}>)", "not_a_feed", body)
    out = []
    for url_el in root.findall("sm:url", NS):
        loc = url_el.findtext("sm:loc", default="", namespaces=NS).strip()
        if not loc:
            continue
        title = url_el.findtext("news:news/news:title", default="", namespaces=NS).strip()
        published = _iso(
            url_el.findtext("news:news/news:publication_date", default=None, namespaces=NS)
            or url_el.findtext("sm:lastmod", default=None, namespaces=NS)
        )
        lang = url_el.findtext("news:news/news:publication/news:language", default=None, namespaces=NS)
        try:
            out.append(
                Article.new(loc, title=title, published_at=published, language=lang, source=source, feed_url=feed_url)
            )
        except ValueError as e:
            if rejected is not None:
                rejected.append((loc[:2000], f"{type(e).__name__}: {e}"))
    return out, []


def parse_gdelt(
    body: bytes, source: str, feed_url: str | None = None, rejected: list[tuple[str, str]] | None = None
) -> list[Article]:
    if not body.strip():
        raise FeedError("empty body", "empty")
    try:
        doc = json.loads(body.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as e:
        raise FeedError(f"invalid GDELT JSON: {e}", "malformed", body) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("articles", []), list):
        raise FeedError("JSON has no 'articles' list", "not_a_feed", body)
    out = []
    for a in doc.get("articles", []):
        if not isinstance(a, dict) or not a.get("url"):
            continue
        lang = GDELT_LANG.get(str(a.get("language", "")).lower())
        try:
            out.append(
                Article.new(
                    str(a["url"]),
                    title=str(a.get("title") or "").strip(),
                    published_at=_iso(str(a.get("seendate") or "")),
                    language=lang,
                    source=source,
                    feed_url=feed_url,
                )
            )
        except ValueError as e:
            if rejected is not None:
                rejected.append((str(a["url"])[:2000], f"{type(e).__name__}: {e}"))
    return out

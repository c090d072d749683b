"""Full text of an article page (trafilatura), for feeds that carry only a summary."""

from __future__ import annotations

from datetime import UTC, datetime

from strikewatch.core.models import Article


def extract_page(html: bytes, url: str) -> dict:
    """{"text", "title", "author", "date", "language"} from a page; empty strings when absent."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html.decode("utf-8", errors="replace"),
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
    )
    if doc is None:
        return {}
    d = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    return {k: d.get(k) for k in ("text", "title", "author", "date", "language")}


def with_full_text(article: Article, page: dict) -> Article:
    """The article with the page's body, and the page's date/authors where the feed had none."""
    if not page or not page.get("text"):
        return article
    published = article.published_at
    if published is None and page.get("date"):
        try:
            published = datetime.fromisoformat(str(page["date"])).replace(tzinfo=UTC)
        except ValueError:
            published = None
    authors = article.authors or (
        [a.strip() for a in str(page["author"]).split(";") if a.strip()] if page.get("author") else []
    )
    return Article.new(
        article.url,
        title=article.title or (page.get("title") or ""),
        body=page["text"],
        summary=article.summary or article.body,
        authors=authors,
        published_at=published,
        fetched_at=article.fetched_at,
        language=article.language or page.get("language"),
        source=article.source,
        feed_url=article.feed_url,
    )

"""An ``Article`` from a plain-text file: the format ``strikewatch replay`` and
``strikewatch extract`` read (``.txt``; an optional first line ``date YYYY-MM-DD``).

Here, below the connectors and the extraction package both, so reading a text file
loads no NLP (``connectors/replay.py`` imported ``pipeline.extraction`` for it, spaCy and all).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from strikewatch.core.models import Article

_DATE_LINE = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\s*$")


def article_from_text(text: str, url: str = "file://article", source: str = "file") -> Article:
    """An Article from a plain text whose first line may be ``date YYYY-MM-DD``."""
    lines = text.lstrip("\ufeff").splitlines()
    published = None
    if lines and _DATE_LINE.match(lines[0]):
        published = datetime.strptime(lines[0].split()[1], "%Y-%m-%d").replace(tzinfo=UTC)
        lines = lines[1:]
    body = "\n".join(lines).strip()
    return Article.new(url, title="", body=body, published_at=published, source=source)

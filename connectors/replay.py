"""Backfill: articles from files into Kafka, with a progress bar.

Accepts JSONL files (one Article JSON per line, or ``{"url", "title", "body",
"published_at", "source"}``), plain-text articles (``.txt``; first line ``date
YYYY-MM-DD`` optional), and directories of either. Dedup applies as for feeds, so a
replay twice emits nothing the second time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from strikewatch.core.models import Article, DeadLetter
from strikewatch.core.textfiles import article_from_text

from .dedup import SeenStore
from .producer import Publisher

log = logging.getLogger(__name__)


def _from_record(rec: dict, source: str) -> Article:
    try:
        return Article.model_validate(rec)
    except ValidationError:
        pass
    if not rec.get("url"):
        raise ValueError("record has no url")
    published = rec.get("published_at") or rec.get("date")
    when = None
    if published:
        when = datetime.fromisoformat(str(published).replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return Article.new(
        rec["url"],
        title=rec.get("title") or "",
        body=rec.get("body") or rec.get("text") or "",
        published_at=when,
        source=rec.get("source") or source,
        language=rec.get("language"),
    )


def iter_articles(path: Path, source: str = "replay") -> Iterator[Article | DeadLetter]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if f.suffix == ".txt":
            yield article_from_text(
                f.read_text(encoding="utf-8", errors="replace"), url=f.resolve().as_uri(), source=source
            )
        elif f.suffix in (".jsonl", ".json"):
            with f.open(encoding="utf-8", errors="replace") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        yield _from_record(json.loads(line), source)
                    except (ValueError, TypeError) as e:
                        yield DeadLetter.of("connector.replay", "bad_record", f"{f}:{n}: {e}", line, source=source)


def replay(path: Path, publisher: Publisher, seen: SeenStore, source: str = "replay", progress: bool = True) -> dict:
    from tqdm import tqdm

    counts = {"emitted": 0, "duplicates": 0, "dead_letters": 0}
    for item in tqdm(iter_articles(path, source), desc=f"replay {path.name}", unit=" articles", disable=not progress):
        if isinstance(item, DeadLetter):
            publisher.dead_letter(item)
            counts["dead_letters"] += 1
        elif seen.emit(publisher, item):
            counts["emitted"] += 1
        else:
            counts["duplicates"] += 1
    publisher.flush()
    return counts

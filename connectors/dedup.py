"""Exactly once per article: a dedup state that survives restarts.

Two keys identify an article: its id (hash of the canonical URL) and its content
hash (the same story under two URLs). Both are written to the compacted topic
``strikewatch.connector-seen`` after the article itself is sent, in one producer
session, and the whole topic is read back on start. A restarted connector therefore
re-emits nothing it emitted before, and, because an article is only marked after it
was sent, misses nothing either (a crash between the two re-sends at most one batch,
whose Kafka key is the same article id).
"""

from __future__ import annotations

import threading

from strikewatch.core.kafka import KafkaConfig
from strikewatch.core.models import Article

from .producer import Publisher, RecordTooLarge, read_compacted


def keys_of(article: Article) -> list[str]:
    keys = ["u:" + article.id]
    if article.content_hash and (article.title or article.body):
        keys.append("c:" + article.content_hash)
    return keys


class SeenStore:
    def __init__(self, initial: set[str] | None = None):
        self._seen: set[str] = set(initial or ())
        self._lock = threading.Lock()

    @classmethod
    def load(cls, kafka: KafkaConfig | str, topic: str) -> SeenStore:
        state = read_compacted(kafka, topic)
        return cls({k.decode() for k, v in state.items() if v is not None})

    def is_new(self, article: Article) -> bool:
        with self._lock:
            return not any(k in self._seen for k in keys_of(article))

    def claim(self, article: Article) -> bool:
        """Atomically: True (and remember it) if the article was not seen."""
        keys = keys_of(article)
        with self._lock:
            if any(k in self._seen for k in keys):
                return False
            self._seen.update(keys)
            return True

    def __len__(self) -> int:
        return len(self._seen)

    def emit(self, publisher: Publisher, article: Article) -> bool:
        """Send the article and its dedup marks unless already seen; True if sent. An article too large to
        send raises ``RecordTooLarge`` and is marked seen all the same, so the caller's one dead letter is
        not repeated at every poll of a feed that keeps carrying it."""
        if not self.claim(article):
            return False
        try:
            publisher.article(article)
        except RecordTooLarge:
            publisher.seen(keys_of(article), article.id)
            raise
        publisher.seen(keys_of(article), article.id)
        return True

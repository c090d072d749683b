"""Polling: the feed list, per-feed state, and the poll loop.

``deploy/feeds.toml``::

    [[feed]]
    name = "bbc-world"                 # metric label: keep it short and stable
    url = "https://feeds.bbci.co.uk/news/world/rss.xml"
    kind = "rss"                       # rss (RSS/Atom/RDF/JSON Feed) | sitemap | gdelt
    interval_s = 120
    fulltext = false                   # fetch each article page when the feed has summaries only
    language = "uk"                    # optional: the feed's language where its items declare none

Each due feed is polled by a worker thread (I/O bound: threads overlap network
waits; spaCy runs elsewhere). Scheduling is jittered so feeds with one interval do
not poll in lockstep; a failing feed backs off exponentially up to a cap; ETag and
Last-Modified make an unchanged feed cost one 304. Every failure is a log line, a
metric and a dead letter, and the loop goes on to the next feed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from strikewatch.core import netguard
from strikewatch.core.metrics import (
    LATENCY_BUCKETS_S,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    SimpleNamespace,
)
from strikewatch.core.models import Article, DeadLetter

from . import feeds, fulltext, sources
from .dedup import SeenStore
from .errors import ConnectorError, FeedError, FetchError
from .fetch import Fetcher
from .producer import DEAD_PAYLOAD_BYTES, Publisher, RecordTooLarge

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 300.0
# Jitter: each poll is scheduled interval * (1 +/- 10 %) so feeds spread out.
JITTER_FRACTION = 0.1
# Backoff for a failing feed: interval * 2^failures, capped at 1 hour.
BACKOFF_CAP_S = 3600.0
# Worker threads polling feeds at once: network-bound; 16 keeps 200 feeds at a
# 5-minute interval far below saturation on 2 cores (see bench/bench_connectors.py).
WORKERS = 16
# Articles whose page is fetched for full text, per poll of one feed (politeness).
MAX_FULLTEXT_PER_POLL = 20
# Unparsable entry links remembered per feed so each is dead-lettered once (bounds memory on a feed that
# invents new broken links at every poll: at most this many strings of <= 2,000 chars).
MAX_REMEMBERED_REJECTS = 1000


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        polls=Counter(
            "strikewatch_connector_polls_total", "Feed polls by outcome", ["feed", "outcome"], registry=registry
        ),
        not_modified=Counter(
            "strikewatch_connector_not_modified_total", "Polls answered 304 Not Modified", ["feed"], registry=registry
        ),
        emitted=Counter(
            "strikewatch_connector_articles_emitted_total", "Articles sent to Kafka", ["feed"], registry=registry
        ),
        duplicates=Counter(
            "strikewatch_connector_duplicates_dropped_total",
            "Articles dropped as already seen",
            ["feed"],
            registry=registry,
        ),
        failures=Counter(
            "strikewatch_connector_failures_total",
            "Failed polls and fetches by reason",
            ["feed", "reason"],
            registry=registry,
        ),
        latency=Histogram(
            "strikewatch_connector_fetch_seconds",
            "Feed fetch latency",
            ["feed"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        ),
        last_success=Gauge(
            "strikewatch_connector_last_success_timestamp_seconds",
            "Unix time of the last successful poll",
            ["feed"],
            registry=registry,
        ),
    )


METRICS = make_metrics()


@dataclass
class FeedConfig:
    name: str
    url: str
    kind: str = "rss"
    interval_s: float = DEFAULT_INTERVAL_S
    fulltext: bool = False
    language: str | None = None  # ISO 639-1, for items that declare none (extraction detects it otherwise)


@dataclass
class FeedState:
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_due: float = 0.0
    running: bool = False
    rejected: set[str] = field(default_factory=set)  # entry links already dead-lettered (unparsable, bad port)


def load_feeds(path: str | Path) -> list[FeedConfig]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for f in data.get("feed", []):
        kind = f.get("kind", "rss")
        if kind not in ("rss", "sitemap", "gdelt"):
            raise ConnectorError(f"feed {f.get('name')!r}: unknown kind {kind!r}")
        out.append(
            FeedConfig(
                name=f["name"],
                url=f["url"],
                kind=kind,
                interval_s=float(f.get("interval_s", DEFAULT_INTERVAL_S)),
                fulltext=bool(f.get("fulltext", False)),
                language=f.get("language"),
            )
        )
    names = [f.name for f in out]
    if len(names) != len(set(names)):
        raise ConnectorError("feed names must be unique (they are metric labels)")
    return out


class Poller:
    def __init__(
        self,
        feed_list: list[FeedConfig],
        fetcher: Fetcher,
        publisher: Publisher,
        seen: SeenStore,
        metrics: SimpleNamespace = METRICS,
        rng: random.Random | None = None,
    ):
        self.feeds = feed_list
        self.fetcher, self.publisher, self.seen, self.m = fetcher, publisher, seen, metrics
        self.state = {f.name: FeedState() for f in feed_list}
        self._rng = rng or random.Random()
        self._stop = threading.Event()

    # ------------------------------------------------------------------ one poll
    def poll(self, feed: FeedConfig) -> int:
        """Poll one feed now; returns the number of new articles emitted."""
        st = self.state[feed.name]
        try:
            res = self.fetcher.get(feed.url, st.etag, st.last_modified)
            self.m.latency.labels(feed.name).observe(res.seconds)
            if res.status == 304:
                self.m.not_modified.labels(feed.name).inc()
                self.m.polls.labels(feed.name, "not_modified").inc()
                self._ok(feed, st)
                return 0
            rejected: list[tuple[str, str]] = []
            articles, recovered = self._parse(feed, res, rejected)
            st.etag, st.last_modified = res.etag, res.last_modified
        except ConnectorError as e:
            self._fail(feed, st, e)
            return 0
        for link, why in rejected:
            if link not in st.rejected:  # once per link and process, not at every poll of a feed that keeps it
                if len(st.rejected) < MAX_REMEMBERED_REJECTS:
                    st.rejected.add(link)
                self._item_dead(feed, "connector.parse", "bad_url", f"entry link {link!r}: {why}", link)
        emitted = 0
        pages = 0
        for art in articles:
            # One item never stops its feed: whatever goes wrong with it is a dead letter for that item.
            try:
                sent, pages = self._one(feed, art, pages)
            except RecordTooLarge as e:
                self._item_dead(feed, "connector.publish", e.reason, f"{art.url}: {e}", e.payload)
                continue
            except netguard.Blocked as e:
                self._item_dead(feed, "connector.parse", e.reason, f"entry link {art.url!r}: {e}", art.url)
                continue
            except Exception as e:  # noqa: BLE001 - a bug with one item must not wedge the feed in backoff
                log.exception("feed %s: item %s failed", feed.name, art.url)
                error = f"{art.url}: {type(e).__name__}: {e}"
                self._item_dead(feed, "connector.item", "internal_error", error, art.url)
                continue
            emitted += sent
        self.publisher.flush()
        self.m.polls.labels(feed.name, "recovered" if recovered else "ok").inc()
        self._ok(feed, st)
        return emitted

    def _one(self, feed: FeedConfig, art: Article, pages: int) -> tuple[int, int]:
        """Emit one article unless seen: (1 if sent else 0, full-text pages fetched so far)."""
        try:
            netguard.split_url(art.url)
        except netguard.Blocked:  # a link with a bad port or scheme: one dead letter for this item, once
            rejected = self.state[feed.name].rejected
            if art.url in rejected:
                return 0, pages
            if len(rejected) < MAX_REMEMBERED_REJECTS:
                rejected.add(art.url)  # not SeenStore.claim: its content key would drop a good copy of the story
            raise
        if not self.seen.is_new(art):
            self.m.duplicates.labels(feed.name).inc()
            return 0, pages
        if feed.language and not art.language:
            art = art.model_copy(update={"language": feed.language})
        if feed.fulltext and pages < MAX_FULLTEXT_PER_POLL and len(art.body) < 500:
            pages += 1
            art = self._full_text(feed, art)
        if self.seen.emit(self.publisher, art):
            self.m.emitted.labels(feed.name).inc()
            return 1, pages
        self.m.duplicates.labels(feed.name).inc()
        return 0, pages

    def _item_dead(self, feed: FeedConfig, stage: str, reason: str, error: str, payload: bytes | str | None) -> None:
        self.m.failures.labels(feed.name, reason).inc()
        log.warning("feed %s: one item dead-lettered (%s): %s", feed.name, reason, error[:300])
        body = payload.encode() if isinstance(payload, str) else (payload or b"")
        self.publisher.dead_letter(DeadLetter.of(stage, reason, error, body[:DEAD_PAYLOAD_BYTES], source=feed.name))

    def _parse(self, feed: FeedConfig, res, rejected: list[tuple[str, str]]) -> tuple[list[Article], bool]:
        if feed.kind == "sitemap":
            arts, children = sources.parse_sitemap(res.body, feed.name, feed.url, rejected)
            for child in children[:20]:  # a sitemap index: follow its first children
                sub = self.fetcher.get(child)
                arts += sources.parse_sitemap(sub.body, feed.name, child, rejected)[0]
            return arts, False
        if feed.kind == "gdelt":
            return sources.parse_gdelt(res.body, feed.name, feed.url, rejected), False
        parsed = feeds.parse_feed(res.body, feed.name, feed.url, res.charset)
        rejected += parsed.rejected
        if parsed.recovered:
            # Entries were recovered from a malformed document: keep them, and leave a
            # dead letter so the feed's owner can see the document is broken.
            self._dead(feed, FeedError("malformed feed; entries recovered", "malformed_recovered"), res.body)
        return parsed.articles, parsed.recovered

    def _full_text(self, feed: FeedConfig, art: Article) -> Article:
        try:
            if not self.fetcher.allowed_by_robots(art.url):
                self.m.failures.labels(feed.name, "robots_disallowed").inc()
                return art
            page = self.fetcher.get(art.url)
            return fulltext.with_full_text(art, fulltext.extract_page(page.body, page.url))
        except ConnectorError as e:
            self.m.failures.labels(feed.name, e.reason).inc()
            log.info("feed %s: full text of %s not fetched (%s): %s", feed.name, art.url, e.reason, e)
            return art

    def _ok(self, feed: FeedConfig, st: FeedState) -> None:
        st.failures = 0
        self.m.last_success.labels(feed.name).set(time.time())
        st.next_due = time.monotonic() + self._jitter(feed.interval_s)

    def _fail(self, feed: FeedConfig, st: FeedState, e: ConnectorError) -> None:
        st.failures += 1
        delay = min(feed.interval_s * 2**st.failures, BACKOFF_CAP_S)
        st.next_due = time.monotonic() + self._jitter(delay)
        self.m.failures.labels(feed.name, e.reason).inc()
        self.m.polls.labels(feed.name, "error").inc()
        log.warning("feed %s failed (%s): %s; next try in %.0f s", feed.name, e.reason, e, delay)
        self._dead(feed, e, e.payload)

    def _dead(self, feed: FeedConfig, e: ConnectorError, payload: bytes | None) -> None:
        stage = "connector.fetch" if isinstance(e, FetchError) else "connector.parse"
        # Keep at most 64 kB of a rejected body: enough to diagnose, small for Kafka.
        body = (payload or feed.url.encode())[:65536]
        self.publisher.dead_letter(DeadLetter.of(stage, e.reason, f"{feed.url}: {e}", body, source=feed.name))

    def _jitter(self, seconds: float) -> float:
        return seconds * (1 + self._rng.uniform(-JITTER_FRACTION, JITTER_FRACTION))

    # ------------------------------------------------------------------ the loop
    def run(self, once: bool = False, workers: int = WORKERS) -> None:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
            if once:
                list(pool.map(self._guarded, self.feeds))
                return
            while not self._stop.is_set():
                now = time.monotonic()
                for feed in self.feeds:
                    st = self.state[feed.name]
                    if not st.running and st.next_due <= now:
                        st.running = True
                        pool.submit(self._guarded, feed)
                self._stop.wait(0.2)

    def _guarded(self, feed: FeedConfig) -> int:
        try:
            return self.poll(feed)
        except Exception as e:  # noqa: BLE001 - a bug in one feed's handling must not stop the poller
            log.exception("feed %s: unexpected error", feed.name)
            self._fail(feed, self.state[feed.name], ConnectorError(f"{type(e).__name__}: {e}", "internal_error"))
            return 0
        finally:
            self.state[feed.name].running = False

    def stop(self) -> None:
        self._stop.set()

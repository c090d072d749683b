"""The Beam extraction stage on a real Beam runner: events out, oversized articles
dead-lettered with the article kept, the rest unaffected; long articles on their own lane
(not holding short ones back on Prism) within a wall-clock budget."""

import time
from datetime import datetime, timezone

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.extract import ExtractEvents
from strikewatch.models import Article, DeadLetter

DATE = datetime(2021, 6, 28, tzinfo=timezone.utc)


def test_stage_extracts_and_dead_letters_oversized():
    strike = Article.new("https://example.com/1", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE)
    quiet = Article.new("https://example.com/2", body="The parliament met on Sunday to discuss the budget.", published_at=DATE)
    huge = Article.new("https://example.com/3", body="airstrike " * 2000, published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([strike, quiet, huge]) | ExtractEvents(batch_size=2, max_chars=5_000)
        assert_that(res.events | "types" >> beam.Map(lambda e: (e.article_id, e.event_type.value, e.modality.value)),
                    equal_to([(strike.id, "air_strike", "asserted")]), label="events")
        assert_that(res.dead_letters | "dl" >> beam.Map(lambda d: (d.stage, d.reason, Article.from_bytes(d.payload).id)),
                    equal_to([("pipeline.extract", "too_large", huge.id)]), label="dead")


LONG_PARAGRAPH = ("The council met on Tuesday to discuss the budget for the coming year, and members argued about road repairs, "
                  "school funding and the price of water in the northern districts. ")
LONG_STRIKE = "Russian drones struck an energy facility near Kharkiv on Monday, killing two workers, the regional governor said. "


def long_article_text(chars: int) -> str:
    """A long, dull article (generated here) with a strike report in every 20th paragraph."""
    parts, i = [], 0
    while sum(map(len, parts)) < chars:
        parts.append((LONG_STRIKE if i % 20 == 0 else LONG_PARAGRAPH) + f"Item {i}.\n\n")
        i += 1
    return "".join(parts)[:chars]


class _Stamp(beam.DoFn):
    """Appends (article id, wall time) of every event to a file: the LOOPBACK worker runs
    in this process, so the test reads when each article's events came out."""

    def __init__(self, path: str):
        self._path = path

    def process(self, ev):
        with open(self._path, "a") as f:
            f.write(f"{ev.article_id} {time.time()}\n")


@pytest.mark.integration
def test_a_short_article_is_not_held_behind_a_long_one_on_prism(stack_settings, tmp_path):
    """A 50k-character article and a short one arrive together: the short one's event comes
    out before the long one's (it used to wait in the same batch, behind the same lock)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from strikewatch.stack import prism_path

    long_ = Article.new("https://example.com/long", body=long_article_text(50_000), published_at=DATE)
    short = Article.new("https://example.com/short", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE)
    stamps = tmp_path / "stamps.txt"
    opts = PipelineOptions(["--runner=PrismRunner", f"--prism_location={prism_path(stack_settings)}", "--environment_type=LOOPBACK"])
    with beam.Pipeline(options=opts) as p:
        res = p | beam.Create([long_, short]) | ExtractEvents()
        _ = res.events | beam.ParDo(_Stamp(str(stamps)))
    first: dict[str, float] = {}
    for line in stamps.read_text().split("\n"):
        if line:
            aid, t = line.split()
            first.setdefault(aid, float(t))
    assert set(first) == {long_.id, short.id}, first
    assert first[short.id] < first[long_.id]


def test_long_lane_dead_letters_an_article_past_its_budget_and_keeps_going():
    """Pure logic of the lane with a stand-in extractor that sleeps: too_slow at the budget,
    the article kept in the dead letter; the next article runs once the slow one ends."""
    from pipeline.extract import LongLane

    def extract(_nlp, article):
        time.sleep(float(article.body.split()[0]))
        return [article.id]

    lane = LongLane(nlp=None, extract=extract, wait_s=5.0)
    slow = Article.new("https://example.com/slow", body="1.5 seconds", published_at=DATE)
    fast = Article.new("https://example.com/fast", body="0.01 seconds", published_at=DATE)
    dead = lane.extract(slow, budget_s=0.2)
    assert isinstance(dead, DeadLetter) and dead.reason == "too_slow" and dead.stage == "pipeline.extract"
    assert Article.from_bytes(dead.payload).id == slow.id
    assert lane.extract(fast, budget_s=5.0) == [fast.id]  # waited for the slow parse to end, then ran


def test_long_lane_does_not_wait_forever_behind_a_runaway():
    from pipeline.extract import LongLane

    lane = LongLane(nlp=None, extract=lambda _nlp, a: time.sleep(float(a.body.split()[0])) or [a.id], wait_s=0.3)
    runaway = Article.new("https://example.com/runaway", body="2 seconds", published_at=DATE)
    queued = Article.new("https://example.com/queued", body="0 seconds", published_at=DATE)
    assert lane.extract(runaway, budget_s=0.1).reason == "too_slow"
    blocked = lane.extract(queued, budget_s=5.0)
    assert isinstance(blocked, DeadLetter) and blocked.reason == "too_slow" and "busy" in blocked.error


def test_any_exception_in_extraction_is_a_dead_letter_with_a_reason(monkeypatch):
    """One article that makes the extractor raise (a bug, a RecursionError) costs its batch a
    retry one by one, becomes a dead letter with a reason, and the others' events go on."""
    import pipeline.extraction as extraction

    real = extraction.extract_events

    def hostile(nlp, articles, batch_size=32):
        for a in articles:
            if "BOOM" in a.body:
                raise RuntimeError("simulated extractor bug")
            if "DEEP" in a.body:
                raise RecursionError("maximum recursion depth exceeded")
        return real(nlp, articles, batch_size=batch_size)

    monkeypatch.setattr(extraction, "extract_events", hostile)
    strike = Article.new("https://example.com/s", body="Israeli warplanes struck a depot near Damascus on Sunday.",
                         published_at=DATE)
    boom = Article.new("https://example.com/b", body="BOOM", published_at=DATE)
    deep = Article.new("https://example.com/d", body="DEEP", published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([boom, strike, deep]) | ExtractEvents(batch_size=4, max_chars=5_000)
        assert_that(res.events | "ids" >> beam.Map(lambda e: e.article_id), equal_to([strike.id]), label="events")
        assert_that(res.dead_letters | "dl" >> beam.Map(lambda d: (d.reason, Article.from_bytes(d.payload).id)),
                    equal_to([("extract_error", boom.id), ("too_deep", deep.id)]), label="dead")

"""The Beam extraction stage on a real Beam runner: events out, oversized articles
dead-lettered with the article kept, the rest unaffected; long articles on their own lane
(not holding short ones back on Prism) within a wall-clock budget."""

import time
from datetime import UTC, datetime

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from pipeline.extract import ExtractEvents
from strikewatch.core.models import Article, DeadLetter

DATE = datetime(2021, 6, 28, tzinfo=UTC)


def test_stage_extracts_and_dead_letters_oversized():
    strike = Article.new(
        "https://example.com/1", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE
    )
    quiet = Article.new(
        "https://example.com/2", body="The parliament met on Sunday to discuss the budget.", published_at=DATE
    )
    huge = Article.new("https://example.com/3", body="airstrike " * 2000, published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([strike, quiet, huge]) | ExtractEvents(batch_size=2, max_chars=5_000)
        assert_that(
            res.events | "types" >> beam.Map(lambda e: (e.article_id, e.event_type.value, e.modality.value)),
            equal_to([(strike.id, "air_strike", "asserted")]),
            label="events",
        )
        assert_that(
            res.dead_letters | "dl" >> beam.Map(lambda d: (d.stage, d.reason, Article.from_bytes(d.payload).id)),
            equal_to([("pipeline.extract", "too_large", huge.id)]),
            label="dead",
        )


LONG_PARAGRAPH = (
    "The council met on Tuesday to discuss the budget for the coming year, and members argued about road repairs, "
    "school funding and the price of water in the northern districts. "
)
LONG_STRIKE = (
    "Russian drones struck an energy facility near Kharkiv on Monday, killing two workers, the regional governor said. "
)


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

    from strikewatch.devstack.stack import prism_path

    long_ = Article.new("https://example.com/long", body=long_article_text(50_000), published_at=DATE)
    short = Article.new(
        "https://example.com/short", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE
    )
    stamps = tmp_path / "stamps.txt"
    opts = PipelineOptions(
        ["--runner=PrismRunner", f"--prism_location={prism_path(stack_settings)}", "--environment_type=LOOPBACK"]
    )
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

    def hostile(nlp, articles, batch_size=32, **kw):
        for a in articles:
            if "BOOM" in a.body:
                raise RuntimeError("simulated extractor bug")
            if "DEEP" in a.body:
                raise RecursionError("maximum recursion depth exceeded")
        return real(nlp, articles, batch_size=batch_size, **kw)

    monkeypatch.setattr(extraction, "extract_events", hostile)
    strike = Article.new(
        "https://example.com/s", body="Israeli warplanes struck a depot near Damascus on Sunday.", published_at=DATE
    )
    boom = Article.new("https://example.com/b", body="BOOM", published_at=DATE)
    deep = Article.new("https://example.com/d", body="DEEP", published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([boom, strike, deep]) | ExtractEvents(batch_size=4, max_chars=5_000)
        assert_that(res.events | "ids" >> beam.Map(lambda e: e.article_id), equal_to([strike.id]), label="events")
        assert_that(
            res.dead_letters | "dl" >> beam.Map(lambda d: (d.reason, Article.from_bytes(d.payload).id)),
            equal_to([("extract_error", boom.id), ("too_deep", deep.id)]),
            label="dead",
        )


# --- issue 20, attack round 2: one 20 KB article froze extraction for a minute -------------

PAREN_ATTACK = "US warplanes struck a weapons depot near Deir ez-Zor on Sunday, the Pentagon said. " + ")" * 19_750


def test_a_run_of_one_mark_cannot_make_the_tokenizer_quadratic():
    """The attack article: a strike sentence, then 19,750 ")" (under the 20k-character long
    lane). spaCy's tokenizer strips one ")" per step and searches the rest again (70 s here);
    the doc the extractor parses now holds a handful of tokens for the run, keeps the
    article's length, and the strike is still found."""
    from pipeline.extraction import extract_events, load_nlp, make_doc

    nlp = load_nlp()
    article = Article.new("https://example.com/parens", title="Strike", body=PAREN_ATTACK, published_at=DATE)
    doc = make_doc(nlp, article)
    assert len(doc.text) == len(article.text)
    assert len(doc) < 60, len(doc)  # the sentence's ~20 tokens, ")))", and blanks; it was 19,750+ tokens
    [events] = extract_events(nlp, [article])
    assert [e.event_type.value for e in events] == ["air_strike"]
    assert "US warplanes struck a weapons depot" in events[0].evidence[0].text


@pytest.mark.parametrize("junk", ["!?" * 9_875, "a)" * 9_875, "(x) " * 5_000, "\"'" * 9_000, "z" * 19_750])
def test_no_whitespace_free_run_reaches_the_tokenizer_longer_than_the_cap(junk):
    from pipeline.extraction.runs import MAX_REPEAT, MAX_RUN_CHARS, defuse

    text = "Drones hit a depot. " + junk
    out = defuse(text)
    assert len(out) == len(text) and out.startswith("Drones hit a depot. ")
    assert max(map(len, out.split())) <= MAX_RUN_CHARS
    assert all(len(set(w)) > 1 or len(w) <= MAX_REPEAT or w.isalnum() for w in out.split())


def test_defuse_leaves_prose_alone():
    from pipeline.extraction.runs import defuse

    prose = 'He said: "They struck twice..." (AP). Wait!!! See https://example.org/a/b?c=1 — the end.'
    assert defuse(prose) == prose


def test_a_batch_past_its_budget_gives_up_only_the_article_it_was_reading():
    """Pure logic of the batched lane with a stand-in extractor: the article being read when
    the budget runs out is the culprit; the others are handed back (to the long lane)."""
    from pipeline.extract import Lane, Overrun

    def extract(_nlp, articles, progress):
        for i, a in enumerate(articles):
            progress.article = i
            time.sleep(float(a.body.split()[0]))
        progress.article = None
        return [[a.id] for a in articles]

    lane = Lane(nlp=None, extract=extract, wait_s=5.0)
    fast, slow, later = (
        Article.new(f"https://example.com/{n}", body=f"{s} seconds", published_at=DATE)
        for n, s in (("f", "0.01"), ("s", "1.5"), ("l", "0.01"))
    )
    over = lane.run([fast, slow, later], budget_s=0.3)
    assert over == Overrun(1, "not extracted within 0.3 s")
    time.sleep(1.3)  # the slow parse finishes on the lane's thread; its result is dropped
    assert lane.run([fast, later], budget_s=5.0) == [[fast.id], [later.id]]


def test_the_batched_lane_has_a_budget_and_the_rest_of_its_batch_goes_on(monkeypatch):
    """A short article that hangs the batched lane is dead-lettered too_slow once the batch's
    budget is spent; the other articles of its batch come out through the long lane."""
    import pipeline.extract as stage
    import pipeline.extraction as extraction

    real = extraction.extract_events

    def hanging(nlp, articles, batch_size=32, progress=None, **kw):
        for i, a in enumerate(articles):
            if "HANG" in a.body and progress is not None:
                progress.article = i
                time.sleep(3.0)
        return real(nlp, articles, batch_size=batch_size, progress=progress, **kw)

    monkeypatch.setattr(extraction, "extract_events", hanging)
    monkeypatch.setattr(stage, "BATCH_BUDGET_S", 0.5)
    strikes = [
        Article.new(
            f"https://example.com/ok{i}",
            body=f"Israeli warplanes struck a depot near Damascus on day {i}.",
            published_at=DATE,
        )
        for i in range(3)
    ]
    hang = Article.new("https://example.com/hang", body="HANG airstrike", published_at=DATE)
    with beam.Pipeline(runner="BundleBasedDirectRunner") as p:
        res = p | beam.Create([strikes[0], hang, strikes[1], strikes[2]]) | ExtractEvents(batch_size=8, max_chars=5_000)
        assert_that(
            res.events | "ids" >> beam.Map(lambda e: e.article_id), equal_to([a.id for a in strikes]), label="events"
        )
        assert_that(
            res.dead_letters | "dl" >> beam.Map(lambda d: (d.reason, Article.from_bytes(d.payload).id)),
            equal_to([("too_slow", hang.id)]),
            label="dead",
        )

"""The extraction stage sets each article's language and skips (counts, never dead-letters)
the ones it does not read."""

from pipeline.extract import METRICS, read_language
from strikewatch.core.models import Article


def _value(counter, label: str) -> float:
    return counter.labels(label)._value.get()


def test_unread_language_is_counted_and_skipped():
    de = Article.new(
        "https://news.example/de/1",
        title="Streik bei der Bahn",
        body="Die Lokführer haben für Donnerstag einen bundesweiten Streik angekündigt.",
    )
    before_seen, before_skipped = _value(METRICS.languages, "de"), _value(METRICS.skipped, "de")
    assert read_language(de) is None
    assert _value(METRICS.languages, "de") == before_seen + 1
    assert _value(METRICS.skipped, "de") == before_skipped + 1


def test_read_language_sets_it_on_the_article():
    uk = Article.new(
        "https://news.example/uk/1", title="", body="Уряд оголосив нову програму підтримки малого бізнесу."
    )
    before = _value(METRICS.skipped, "uk")
    got = read_language(uk)
    assert got is not None and got.language == "uk"
    assert _value(METRICS.skipped, "uk") == before

"""Metric labels come only from bounded sets: the feed list, the gazetteer's countries,
the Reason enum; anything a record brings in becomes ``other``. The attack: 5,000
articles, each with its own ``source``, made 5,000 series of one counter."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from strikewatch.core.metrics import OTHER, LabelSet
from strikewatch.core.models import Article, Reason


def _series(counter) -> list[dict]:
    return [s.labels for m in counter.collect() for s in m.samples if s.name.endswith("_total")]


def test_label_set_passes_known_values_and_folds_the_rest_into_other():
    labels = LabelSet({"bbc-world", "unknown"})
    assert labels("bbc-world") == "bbc-world"
    assert labels("bbc-world\n") == labels("<script>") == labels(None) == labels("x" * 10_000) == OTHER
    assert labels.source("") == "unknown"
    capped = LabelSet((), cap=2)
    assert [capped(v) for v in ("a", "b", "c", "a", "d")] == ["a", "b", OTHER, "a", OTHER]
    copy = pickle.loads(pickle.dumps(capped))  # a DoFn carries it: values and cap travel, not what one worker admitted
    assert copy.values == capped.values and copy.cap == 2 and copy("z") == "z"


def test_feed_labels_are_the_feed_list(repo_root, tmp_path):
    feeds = LabelSet.feeds(repo_root / "deploy" / "feeds.toml")
    assert {"bbc-world", "aljazeera", "unknown", "replay"} <= feeds.values
    f = tmp_path / "feeds.toml"
    f.write_text('[[feed]]\nname = "only-one"\nurl = "https://example.org/rss"\n')
    assert LabelSet.feeds(f).values == {"only-one", "unknown", "replay"}


def test_5000_article_sources_make_one_series_not_5000():
    import pipeline.decode as decode

    before = decode.METRICS
    decode.METRICS = decode.make_metrics(CollectorRegistry())
    try:
        fn = decode._DecodeFn(10_000, LabelSet.feeds())
        now = datetime(2026, 1, 1, tzinfo=UTC)
        for n in range(5000):
            a = Article.new(f"https://example.org/{n}", title="t", body="b", fetched_at=now, source=f"attacker-{n}")
            list(fn.process(a.to_bytes()))
        list(
            fn.process(Article.new("https://example.org/bbc", body="b", fetched_at=now, source="bbc-world").to_bytes())
        )
        sources = sorted(s["source"] for s in _series(decode.METRICS.decoded))
    finally:
        decode.METRICS = before
    assert sources == ["bbc-world", OTHER]


def test_theatre_and_dyad_labels_are_bounded():
    from pipeline.escalation import DYAD_LABELS, DYADS, theatres

    assert theatres()("Syria") == "Syria" and theatres()("unknown") == "unknown"
    assert theatres()("Syria; DROP TABLE") == OTHER
    assert 200 < len(theatres().values) < 600
    seen = {DYADS(f"Militia {n}~Army {n}") for n in range(DYAD_LABELS * 20)}
    assert len(seen) <= DYAD_LABELS + 1 and OTHER in seen


def test_reason_labels_are_the_enum():
    assert Reason.of("too_deep") is Reason.TOO_DEEP
    assert Reason.of("anything a record says") is Reason.OTHER

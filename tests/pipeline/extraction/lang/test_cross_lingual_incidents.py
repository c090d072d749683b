"""A Russian (or Ukrainian, Arabic) and an English report of one strike cluster into one
incident that lists both sources with their languages; a different strike does not join.
Real extraction (both pipelines) and real embeddings (MiniLM for English pairs, e5 across
languages); texts written for this test."""

from datetime import UTC, datetime

import pytest

from pipeline.extraction import extract_events
from pipeline.extraction.lang.similarity import e5_on_minilm_scale
from pipeline.incidents import Clusterer, load_embedder
from strikewatch.core.models import STRIKE_TYPES, Article, Modality

PUB = datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
EN = Article.new(
    "https://news.example/en/kharkiv",
    title="Russian missile strike on Kharkiv",
    body="Russian forces launched a missile strike on an apartment block in Kharkiv on Tuesday, killing three people "
    "and wounding 11, the regional governor said.",
    published_at=PUB,
)
RU = Article.new(
    "https://news.example/ru/kharkiv",
    title="Ракетный удар по Харькову",
    body="Во вторник российские ракеты ударили по жилому дому в Харькове. Погибли три человека, еще 11 ранены, "
    "сообщил губернатор области.",
    published_at=PUB,
)
OTHER = Article.new(
    "https://news.example/uk/odesa",
    title="Дрони атакували Одесу",
    body="Вночі російські дрони атакували порт в Одесі, пошкоджено склади.",
    published_at=PUB,
)


def strikes(evs):
    return [e for e in evs if e.event_type in STRIKE_TYPES and e.modality == Modality.ASSERTED]


@pytest.fixture(scope="module")
def events(nlp):
    return [strikes(evs) for evs in extract_events(nlp, [EN, RU, OTHER])]


def test_the_two_reports_are_one_incident_with_both_languages(events):
    en, ru, other = events
    assert en and ru and other
    clusterer = Clusterer(load_embedder())
    open_, first = clusterer.add([], en[0], PUB)
    open_, second = clusterer.add(open_, ru[0], PUB)
    assert second is not None and second.id == first.id, "the Russian report opened an incident of its own"
    assert {s.language for s in second.sources} == {"en", "ru"}
    assert second.source_count == 2
    _, third = clusterer.add(open_, other[0], PUB)
    assert third.id != first.id  # a drone strike on Odesa is another incident


def test_e5_scale_maps_onto_the_clustering_thresholds():
    assert e5_on_minilm_scale(0.835) == pytest.approx(0.55)
    assert e5_on_minilm_scale(0.885) == pytest.approx(0.70)
    assert e5_on_minilm_scale(0.76) < 0.35 and e5_on_minilm_scale(0.99) == 1.0

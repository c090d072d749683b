"""``extract_events`` routes each article by its language: English through the English
pipeline unchanged, five languages natively, any other to no event."""

from datetime import UTC, datetime

from pipeline.extraction import extract_english, extract_events
from strikewatch.core.models import Article

PUB = datetime(2024, 3, 14, 9, tzinfo=UTC)
EN = Article.new(
    "https://news.example/en",
    title="US jets strike militia depot",
    body="US F-15E jets struck a weapons depot used by an Iran-backed militia near Albu Kamal, Syria, early on Sunday, "
    "the Pentagon said.",
    published_at=PUB,
)
UK = Article.new(
    "https://news.example/uk",
    title="Удар по Харкову",
    body="У вівторок російські війська завдали ракетного удару по Харкову, загинули двоє людей.",
    published_at=PUB,
)
DE = Article.new(
    "https://news.example/de",
    title="Luftangriff auf Charkiw",
    body="Russische Truppen haben am Dienstag Charkiw mit Raketen angegriffen, zwei Menschen starben.",
    published_at=PUB,
)


def _plain(evs):
    return [e.model_dump(exclude={"extracted_at", "language"}) for e in evs]


def test_english_output_is_the_english_pipelines(nlp):
    [mixed_en, mixed_uk, mixed_de] = extract_events(nlp, [EN, UK, DE])
    [alone] = extract_english(nlp, [EN])
    assert mixed_en and _plain(mixed_en) == _plain(alone)
    assert {e.language for e in mixed_en} == {"en"}
    assert mixed_uk and mixed_uk[0].language == "uk" and mixed_uk[0].article_url == UK.url
    assert (
        mixed_uk[0].extractor_version.startswith("native-")
        and mixed_en[0].extractor_version == alone[0].extractor_version
    )
    assert mixed_de == []  # German is not read: no event, no error

"""Wire models: stable ids, JSON round trips, schema export, dead letters keep payloads."""

import base64
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from strikewatch.core import models


def test_article_id_is_stable_across_tracking_params_and_case():
    a = models.article_id_for("https://www.Example.com/world/story/?utm_source=rss&id=7#top")
    b = models.article_id_for("https://example.com/world/story?id=7")
    c = models.article_id_for("https://example.com/world/story?id=8")
    assert a == b
    assert a != c


def test_canonical_url_normalises():
    assert (
        models.canonical_url("HTTPS://WWW.Example.COM:443/a/b/?b=2&a=1&fbclid=x") == "https://example.com/a/b?a=1&b=2"
    )


def test_article_round_trips_as_json():
    art = models.Article.new(
        "https://example.com/x", title="T", body="B", published_at=datetime(2021, 6, 28, tzinfo=UTC), source="test"
    )
    again = models.Article.from_bytes(art.to_bytes())
    assert again == art
    assert again.text == "T\n\nB"
    assert json.loads(art.to_bytes())["schema_version"] == models.SCHEMA_VERSION


def test_models_are_frozen_and_strict():
    art = models.Article.new("https://example.com/x", title="T")
    with pytest.raises(ValidationError):
        art.title = "changed"
    with pytest.raises(ValidationError):
        models.Article.model_validate({**art.model_dump(), "unexpected": 1})


def test_event_id_depends_only_on_content():
    a = models.Event.make_id("a_1", "air_strike", 10, 50)
    assert a == models.Event.make_id("a_1", "air_strike", 10, 50)
    assert a != models.Event.make_id("a_1", "air_strike", 11, 50)


def test_dead_letter_keeps_binary_payload_as_base64():
    dl = models.DeadLetter.of("pipeline.decode", "not_utf8", ValueError("bad"), b"\xff\xfe\x00")
    assert dl.payload_encoding == "base64"
    assert base64.b64decode(dl.payload) == b"\xff\xfe\x00"
    assert dl.error == "ValueError: bad"
    text = models.DeadLetter.of("s", "r", "e", b"plain")
    assert (text.payload, text.payload_encoding) == ("plain", "utf-8")


def test_schema_export_writes_every_wire_model(tmp_path):
    written = models.export_schemas(tmp_path)
    assert {p.name.split(".")[0] for p in written} == {n.lower() for n in models.WIRE_MODELS}
    for p in written:
        schema = json.loads(p.read_text())
        assert schema["type"] == "object" and "schema_version" in schema["properties"]


def test_committed_schemas_are_current(repo_root, tmp_path):
    """deploy/schemas must match the models (regenerate with python -m strikewatch.core.models)."""
    for p in models.export_schemas(tmp_path):
        committed = repo_root / "deploy" / "schemas" / p.name
        assert committed.exists(), f"{committed} missing"
        assert json.loads(committed.read_text()) == json.loads(p.read_text()), f"{p.name} is stale"


def test_version_1_records_still_read():
    """Schema 2 only added optional fields: a version-1 Event and Incident read, with the links unset."""
    now = datetime(2021, 6, 28, tzinfo=UTC)
    ev = models.Event(id="e_1", article_id="a_1", event_type="air_strike", schema_version=1)
    old = json.loads(ev.to_bytes())
    for k in ("article_url", "article_title", "outlet", "extractor_version"):
        old.pop(k)
    back = models.Event.from_bytes(json.dumps(old))
    assert back.schema_version == 1 and back.article_url is None and back.extractor_version is None
    src = models.IncidentSource(event_id="e_1", article_id="a_1", source="s", seen_at=now)
    inc = json.loads(models.Incident(id="i_1", event_type="air_strike", sources=[src], schema_version=1).to_bytes())
    for s in inc["sources"]:
        for k in ("url", "title", "outlet"):
            s.pop(k)
    assert models.Incident.from_bytes(json.dumps(inc)).sources[0].url is None


def test_outlet_is_the_host_without_www():
    assert models.outlet_of("https://www.reuters.com/world/x?utm=1") == "reuters.com"
    assert models.outlet_of("file://article") is None


def test_a_date_outside_the_sane_window_is_unknown():
    """Issue 20, attack round 2: an article dated 9999 sorted first in every list and wiped the
    escalation history. Dates before 1900 or past the wall clock plus MAX_FUTURE are unknown,
    wherever a record carries them (articles, event times, incident sources)."""
    from datetime import date, datetime, timedelta

    from strikewatch.core.models import MAX_FUTURE, Article, Event, EventTime, IncidentSource

    far = datetime(9999, 12, 31, tzinfo=UTC)
    t = EventTime(date=far.date(), start=far, end=far, precision="day")
    assert (t.date, t.start, t.end, t.precision) == (None, None, None, "unknown")
    assert EventTime(date=date(1850, 1, 1), precision="day").date is None
    soon = datetime.now(UTC) + MAX_FUTURE - timedelta(hours=1)
    assert EventTime(start=soon, precision="hour").start == soon  # a clock running ahead is kept
    ok = EventTime(date=date(2021, 6, 28), precision="day")
    assert EventTime.model_validate_json(ok.model_dump_json()) == ok
    art = Article.new("https://example.org/9999", body="x", published_at=far)
    assert (
        art.published_at is None
        and Article.from_bytes(
            art.to_bytes().replace(b'"published_at":null', b'"published_at":"9999-12-31T00:00:00Z"')
        ).published_at
        is None
    )
    ev = Event.from_bytes(
        Event(id="e_1", article_id="a_1", event_type="air_strike")
        .to_bytes()
        .replace(b'"date":null', b'"date":"9999-12-31"')
    )
    assert ev.time.date is None
    assert IncidentSource(event_id="e", article_id="a", source="s", published_at=far).published_at is None

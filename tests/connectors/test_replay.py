"""Backfill from files into the real broker, deduplicated, bad lines dead-lettered."""

import json

import pytest
from kafka import KafkaConsumer, TopicPartition

from connectors.dedup import SeenStore
from connectors.producer import Publisher, TopicNames
from connectors.replay import replay
from strikewatch.core.models import Article, DeadLetter

pytestmark = pytest.mark.integration


def _all(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=1500, enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = [m.value for m in c]
    c.close()
    return out


def test_replay_jsonl_and_text_files(kafka_bootstrap, new_topic, tmp_path):
    names = TopicNames(articles=new_topic("art"), seen=new_topic("seen", compact=True), dead_letters=new_topic("dl"))
    (tmp_path / "a.jsonl").write_text(
        "\n".join(
            [
                json.dumps(
                    {
                        "url": "https://news.example/1",
                        "title": "One",
                        "body": "b1",
                        "published_at": "2021-06-28T01:00:00Z",
                    }
                ),
                "{broken json",
                Article.new("https://news.example/2", title="Two", body="b2").model_dump_json(),
            ]
        )
    )
    (tmp_path / "ref.txt").write_text("date 2021-06-28\nUS jets struck militia sites early Monday.")
    pub = Publisher(kafka_bootstrap, names)
    counts = replay(tmp_path, pub, SeenStore.load(kafka_bootstrap, names.seen), progress=False)
    assert counts == {"emitted": 3, "duplicates": 0, "dead_letters": 1}
    again = replay(tmp_path, pub, SeenStore.load(kafka_bootstrap, names.seen), progress=False)
    assert again == {"emitted": 0, "duplicates": 3, "dead_letters": 1}
    pub.close()
    arts = [Article.from_bytes(v) for v in _all(kafka_bootstrap, names.articles)]
    assert sorted(a.title for a in arts) == ["", "One", "Two"]
    ref = next(a for a in arts if a.url.endswith("ref.txt"))
    assert ref.published_at.date().isoformat() == "2021-06-28"
    dls = [DeadLetter.from_bytes(v) for v in _all(kafka_bootstrap, names.dead_letters)]
    assert {d.reason for d in dls} == {"bad_record"} and dls[0].payload.startswith("{broken")

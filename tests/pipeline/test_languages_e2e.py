"""Issue 19 end to end on the real stack (Kafka + the pipeline on Prism): a Russian and an
English report of one strike become one incident whose sources are in both languages, and
an article in a language the pipeline does not read is skipped without a dead letter.
Texts written for this test."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from strikewatch.core import topics
from strikewatch.core.models import Article

pytestmark = pytest.mark.integration
WAIT_S = 300

EN = (
    "Russian missile strike on Kharkiv",
    "Russian forces launched a missile strike on an apartment block in Kharkiv on Tuesday, killing three "
    "people and wounding 11, "
    "the regional governor said.",
)
RU = (
    "Ракетный удар по Харькову",
    "Во вторник российские ракеты ударили по жилому дому в Харькове. Погибли три человека, еще 11 ранены, "
    "сообщил губернатор области.",
)
DE = (
    "Raketenangriff auf Charkiw",
    "Russische Raketen haben am Dienstag ein Wohnhaus in Charkiw getroffen, drei Menschen starben.",
)


def _at_end(bootstrap: str, topic: str) -> KafkaConsumer:
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
    parts = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    c.assign(parts)
    c.seek_to_end(*parts)
    for p in parts:
        c.position(p)  # resolve the end now, before anything is sent
    return c


def test_russian_and_english_reports_form_one_incident(kafka_bootstrap, repo_root, tmp_path):
    run = uuid.uuid4().hex[:8]
    incidents = _at_end(kafka_bootstrap, topics.INCIDENTS.name)
    dead = _at_end(kafka_bootstrap, topics.DEAD_LETTERS.name)
    env = {**os.environ, "STRIKEWATCH_CONSUMER_GROUP": "e2e-lang-" + run, "STRIKEWATCH_START_FROM": "latest"}
    log = open(tmp_path / "pipeline.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "pipeline"],
        cwd=repo_root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    ours = lambda inc: [s for s in inc["sources"] if f"/{run}/" in (s.get("url") or "")]  # noqa: E731
    seen: dict[str, dict] = {}
    dead_ours: list[dict] = []
    try:
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        published = datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
        deadline = time.monotonic() + WAIT_S
        sent = 0
        joined = None
        while time.monotonic() < deadline and joined is None:
            assert proc.poll() is None, (tmp_path / "pipeline.log").read_text()[-3000:]
            if sent < 20:  # the job starts at the topic's end: offer the pair until it is up
                for lang, (title, body) in (("en", EN), ("ru", RU), ("de", DE)):
                    art = Article.new(
                        f"https://{lang}.news.example/{run}/{sent}",
                        title=title,
                        body=body,
                        published_at=published,
                        source=f"e2e-{lang}",
                    )
                    producer.send(topics.ARTICLES.name, key=art.id.encode(), value=art.to_bytes())
                producer.flush()
                sent += 1
            for msg in incidents:
                inc = json.loads(msg.value)
                if ours(inc):
                    seen[inc["id"]] = inc
            for msg in dead:
                d = json.loads(msg.value)
                if run in d.get("payload", ""):
                    dead_ours.append(d)
            joined = next(
                (inc for inc in seen.values() if {s.get("language") for s in ours(inc)} >= {"en", "ru"}), None
            )
            time.sleep(5)
        summary = [
            (i["id"], i["revision"], [(s.get("language"), s.get("url")) for s in ours(i)]) for i in seen.values()
        ]
        assert joined is not None, (
            f"no incident with both languages: {summary}\n" + (tmp_path / "pipeline.log").read_text()[-3000:]
        )
        assert joined["places"] and joined["places"][0]["name"] == "Kharkiv"
        assert not any(s.get("language") == "de" for i in seen.values() for s in ours(i))  # German: skipped
        assert not dead_ours, f"dead letters for this run's articles: {[(d['stage'], d['reason']) for d in dead_ours]}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        incidents.close()
        dead.close()

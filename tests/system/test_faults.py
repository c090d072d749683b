"""Faults across the whole running system, each process real and separate:

    feed server (127.0.0.1) -> strikewatch connectors -> Kafka -> strikewatch pipeline (Prism)
        -> alerts -> strikewatch deliver -> webhook server (127.0.0.1)

on a broker of its own (own directory and ports, so killing it disturbs no other
test). New strike reports appear on the feed in four rounds; before each of the last
three, one part is killed with SIGKILL (its whole process group, as a crashed host or
container would be) and started again:

1. nothing is killed (the baseline round);
2. the connector, while idle between polls: on restart it re-emits nothing it had
   emitted (dedup state read back from the compacted topic) and picks up the new items;
3. the broker, as soon as the round's articles are on it, while the pipeline reads and
   writes them: producers and consumers of every process ride out the outage and carry
   on when it is back on the same data directory;
4. the pipeline, as soon as the round's articles are on the topic: on restart it
   resumes from the group's committed offsets, which trail what it read by the
   commit lag, so it re-reads rather than loses.

Then: every article is on the articles topic exactly once, every report became an
alert delivered to the webhook, and no alert was delivered twice (a replayed article
yields the same event, incident and alert ids, and the deliverer skips ids it has
delivered).

5. the pipeline again, once its offsets are committed past the round's alerted reports
   (after the commit lag, so nothing is re-read): then a second report of each of the
   round's strikes. On Prism the clustering state was in memory only; the restarted
   pipeline reopens the open incidents from the incidents topic and what was alerted
   from the alerts topic (pipeline/recovery.py), so each second report revises its
   strike's incident: no second incident, no second ``new_incident`` alert (before:
   one more incident and one more alert per strike).

Bounded: each round waits at most ``ROUND_TIMEOUT_S``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

import pytest
from kafka import KafkaConsumer, TopicPartition

from strikewatch.core import topics
from strikewatch.core.models import Subscription, article_id_for
from strikewatch.core.procs import port_open
from strikewatch.devstack import stack
from strikewatch.services.api import SubscriptionStore

pytestmark = pytest.mark.integration

REPORTS_PER_ROUND = 4
# Seconds a round may take: Prism start + spaCy/MiniLM load (~30 s here) after a
# pipeline restart, plus the clients' reconnect backoff after a broker restart.
ROUND_TIMEOUT_S = 300
POLL_INTERVAL_S = 1
PLACES = [
    ("Al-Qaim", "Iraq"),
    ("Albu Kamal", "Syria"),
    ("Mosul", "Iraq"),
    ("Deir ez-Zor", "Syria"),
    ("Erbil", "Iraq"),
    ("Baghdad", "Iraq"),
]


def _report(n: int, run: str, base_url: str) -> dict:
    # One strike a week, on a Monday, so no two reports can be one incident.
    published = datetime(2021, 6, 28, 12, tzinfo=UTC) + timedelta(days=7 * n)
    place, country = PLACES[n % len(PLACES)]
    text = (
        f"U.S. fighter jets carried out airstrikes early Monday on a weapons depot used by Kataib Hezbollah "
        f"near {place} in {country}, the Pentagon said in statement {run}-{n}. There were no immediate "
        f"reports of casualties."
    )
    return {
        "link": f"{base_url}/news/{run}/{n}",
        "title": f"US strikes militia near {place}",
        "text": text,
        "published": published,
    }


def _second_report(n: int, run: str, base_url: str) -> dict:
    """Another outlet's report of strike ``n`` (same day, place and attacker, other words), hours later."""
    first = _report(n, run, base_url)
    place, country = PLACES[n % len(PLACES)]
    text = (
        f"U.S. warplanes struck a weapons depot of Kataib Hezbollah near {place} in {country} early on Monday, "
        f"U.S. officials said in statement {run}-{n}-b. No casualties were immediately reported."
    )
    return {
        "link": f"{base_url}/wire/{run}/{n}",
        "title": f"US jets hit militia depot near {place}",
        "text": text,
        "published": first["published"] + timedelta(hours=6),
    }


def _rss(items: list[dict]) -> bytes:
    body = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
        f"<description>{escape(i['text'])}</description><pubDate>{format_datetime(i['published'])}</pubDate></item>"
        for i in reversed(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss '
        f'version="2.0"><channel><title>faults</title><link>http://127.0.0.1/</link>{body}</channel></rss>'
    ).encode()


class Proc:
    """A strikewatch subcommand in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict, cwd, logdir):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.logpath = logdir / f"{name}.log"
        self.p: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.logpath, "ab")
        self.p = subprocess.Popen(
            [sys.executable, "-m", "strikewatch.cli", *self.argv],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        os.killpg(self.p.pid, signal.SIGKILL)
        self.p.wait(30)

    def stop(self) -> None:
        if self.p is not None and self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return f"--- {self.name} ---\n" + self.logpath.read_text(errors="replace")[-2500:]


def _article_counts(bootstrap: str) -> Counter:
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        parts = [TopicPartition(topics.ARTICLES.name, p) for p in c.partitions_for_topic(topics.ARTICLES.name)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        return Counter(m.key.decode() for m in c)
    finally:
        c.close()


def _committed_past(bootstrap: str, article_ids: set[str], group: str = "strikewatch-pipeline") -> bool:
    """The group's committed offsets are past every record of these articles: a restart re-reads none."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        committed = {
            tp.partition: om.offset
            for tp, om in admin.list_group_offsets({group: None}).get(group, {}).items()
            if tp.topic == topics.ARTICLES.name
        }
        parts = [TopicPartition(topics.ARTICLES.name, p) for p in c.partitions_for_topic(topics.ARTICLES.name)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        return all(committed.get(m.partition, 0) > m.offset for m in c if m.key.decode() in article_ids)
    finally:
        c.close()
        admin.close()


def _incidents(bootstrap: str) -> list[dict]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        parts = [TopicPartition(topics.INCIDENTS.name, p) for p in c.partitions_for_topic(topics.INCIDENTS.name)]
        c.assign(parts)
        c.seek_to_beginning(*parts)
        return [json.loads(m.value) for m in c]
    finally:
        c.close()


def test_connector_pipeline_and_broker_killed_mid_stream_lose_nothing_and_duplicate_no_alert(
    stack_settings, http_server, route, repo_root, tmp_path
):
    root = tmp_path / "stack"
    s = stack.isolated(root, stack_settings)
    kp = s.kafka_port
    stack.up(s)
    run = uuid.uuid4().hex[:8]
    feed = http_server.routes["/feed.xml"] = route(body=_rss([]), headers={"Content-Type": "application/rss+xml"})
    hook = http_server.routes["/hook"] = route(status=204)
    feeds_toml = tmp_path / "feeds.toml"
    feeds_toml.write_text(
        f'[[feed]]\nname = "faults"\nurl = "{http_server.url("/feed.xml")}"\ninterval_s = {POLL_INTERVAL_S}\n'
    )
    store = SubscriptionStore(s.bootstrap_servers)
    store.put(
        Subscription(
            id=f"sub-{run}",
            owner=f"o-{run}",
            countries=["Iraq", "Syria"],
            event_types=["air_strike"],
            notify_on=["new_incident"],
            webhook_url=http_server.url("/hook"),
        )
    )
    store.close()

    env = {
        **os.environ,
        "STRIKEWATCH_BOOTSTRAP_SERVERS": s.bootstrap_servers,
        "STRIKEWATCH_STACK_DIR": str(root),
        "STRIKEWATCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1/32",
        "STRIKEWATCH_WEBHOOK_HMAC_SECRET": "faults",
    }
    procs = {
        "connectors": Proc("connectors", ["connectors", "--feeds", str(feeds_toml)], env, repo_root, tmp_path),
        "pipeline": Proc("pipeline", ["pipeline"], env, repo_root, tmp_path),
        "deliver": Proc("deliver", ["deliver"], env, repo_root, tmp_path),
    }

    def logs() -> str:
        broker = (root / "kafka" / "broker.log").read_text(errors="replace")[-1500:]
        return "\n".join(p.tail() for p in procs.values()) + "\n--- broker ---\n" + broker

    items: list[dict] = []

    def delivered() -> list[dict]:
        return [json.loads(body)["data"] for _, body in list(hook.posts)]

    def covered() -> set[str]:
        return {src["article_id"] for a in delivered() for src in a["incident"]["sources"]}

    def publish_round() -> set[str]:
        new = [_report(len(items) + i, run, "https://news.example") for i in range(REPORTS_PER_ROUND)]
        items.extend(new)
        feed.body = _rss(items)
        feed.etag = f'"{len(items)}"'
        return {article_id_for(i["link"]) for i in new}

    def wait_for(what: str, cond) -> None:
        deadline = time.monotonic() + ROUND_TIMEOUT_S
        while not cond():
            assert time.monotonic() < deadline, f"timed out waiting for {what}\n{logs()}"
            for p in procs.values():
                assert p.p.poll() is None, f"{p.name} exited with {p.p.returncode}\n{logs()}"
            time.sleep(0.5)

    def on_topic(ids: set[str]) -> bool:
        return ids <= set(_article_counts(s.bootstrap_servers))

    try:
        for p in procs.values():
            p.start()
        expected: set[str] = set()

        # 1. baseline
        ids = publish_round()
        expected |= ids
        wait_for("round 1 alerts", lambda: expected <= covered())

        # 2. connector killed while idle, new items appear, connector restarted
        procs["connectors"].kill()
        ids = publish_round()
        expected |= ids
        procs["connectors"].start()
        wait_for("round 2 alerts", lambda: expected <= covered())

        # 3. broker killed as soon as the round's articles are on it (the pipeline is
        #    reading and writing them), restarted on the same data directory
        ids = publish_round()
        expected |= ids
        wait_for("round 3 articles on the topic", lambda: on_topic(ids))
        os.kill(int(stack.StackPaths(root).pidfile.read_text()), signal.SIGKILL)
        time.sleep(5)
        assert not port_open("127.0.0.1", kp)
        assert stack.start_kafka(s) is True
        wait_for("round 3 alerts", lambda: expected <= covered())

        # 4. pipeline killed as soon as the round's articles are on the topic
        ids = publish_round()
        expected |= ids
        wait_for("round 4 articles on the topic", lambda: on_topic(ids))
        procs["pipeline"].kill()
        procs["pipeline"].start()
        wait_for("round 4 alerts", lambda: expected <= covered())

        time.sleep(10)  # a duplicate delivery would arrive by now
        counts = _article_counts(s.bootstrap_servers)
        mine = {k: n for k, n in counts.items() if k in expected}
        assert set(mine) == expected
        assert all(n == 1 for n in mine.values()), {k: n for k, n in mine.items() if n != 1}
        alerts = delivered()
        alert_ids = [a["id"] for a in alerts]
        assert len(alert_ids) == len(set(alert_ids)), Counter(alert_ids).most_common(3)
        assert all(a["kind"] == "new_incident" for a in alerts)
        # One strike a week: each report is its own incident, alerted once.
        assert len({a["incident_id"] for a in alerts}) == len(alerts) == len(expected)
        assert covered() == expected

        # 5. pipeline killed after its offsets are committed past the round (nothing is re-read), then
        #    a second report of each of the round's strikes
        first = list(range(len(items), len(items) + REPORTS_PER_ROUND))
        ids = publish_round()
        expected |= ids
        wait_for("round 5 alerts", lambda: expected <= covered())
        wait_for("round 5 offsets committed", lambda: _committed_past(s.bootstrap_servers, ids))
        procs["pipeline"].kill()
        procs["pipeline"].start()
        seconds = [_second_report(n, run, "https://news.example") for n in first]
        items.extend(seconds)
        feed.body = _rss(items)
        feed.etag = f'"{len(items)}"'
        second_ids = {article_id_for(i["link"]) for i in seconds}

        def clustered() -> bool:
            return second_ids <= {
                src["article_id"] for inc in _incidents(s.bootstrap_servers) for src in inc["sources"]
            }

        wait_for("round 5 second reports clustered", clustered)
        time.sleep(10)  # an alert about them would arrive by now
        by_strike: dict[str, set[str]] = {}  # first report's article id -> incidents holding a round-5 report
        pair = {
            article_id_for(_report(n, run, "https://news.example")["link"]): article_id_for(i["link"])
            for n, i in zip(first, seconds)
        }
        for inc in _incidents(s.bootstrap_servers):
            arts = {src["article_id"] for src in inc["sources"]}
            for a1, a2 in pair.items():
                if arts & {a1, a2}:
                    by_strike.setdefault(a1, set()).add(inc["id"])
        alerts = delivered()
        alert_ids = [a["id"] for a in alerts]
        assert len(alert_ids) == len(set(alert_ids)), Counter(alert_ids).most_common(3)
        round5 = [
            a for a in alerts if {src["article_id"] for src in a["incident"]["sources"]} & (set(pair) | second_ids)
        ]
        found = (
            f"{REPORTS_PER_ROUND} strikes, 2 reports each, the pipeline killed between them: "
            f"{sum(len(v) for v in by_strike.values())} incidents, {len(round5)} alerts "
            f"{[(a['kind'], a['incident_id'], a['incident_revision']) for a in round5]}"
        )
        assert len(by_strike) == REPORTS_PER_ROUND and all(len(v) == 1 for v in by_strike.values()), found
        assert len(round5) == REPORTS_PER_ROUND and {a["kind"] for a in round5} == {"new_incident"}, found
        assert len({a["incident_id"] for a in round5}) == REPORTS_PER_ROUND, found
    finally:
        for p in procs.values():
            p.stop()
        stack.stop_kafka(s)

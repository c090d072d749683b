"""Polling into the real broker: every capture served from 127.0.0.1, hostile feeds
dead-lettered with reasons while the rest go on, exactly once across restarts."""

import json
import random

import pytest
from kafka import KafkaConsumer, TopicPartition

from connectors.dedup import SeenStore
from connectors.fetch import Fetcher
from connectors.producer import Publisher, TopicNames
from connectors.scheduler import FeedConfig, Poller, make_metrics
from strikewatch.core.metrics import CollectorRegistry
from strikewatch.core.models import Article, DeadLetter

pytestmark = pytest.mark.integration

BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b '
    b'"&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>'
)


def _read_all(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1500)
    tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = [m for m in c]
    c.close()
    return out


def _rss(items):
    body = "".join(
        f"<item><title>{t}</title><link>{u}</link><description>{d}</description></item>" for u, t, d in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'
    ).encode()


@pytest.fixture
def topics_(new_topic):
    return TopicNames(
        articles=new_topic("art", 3), seen=new_topic("seen", 1, compact=True), dead_letters=new_topic("dl")
    )


def _poller(kafka_bootstrap, names, feeds, registry=None):
    publisher = Publisher(kafka_bootstrap, names)
    seen = SeenStore.load(kafka_bootstrap, names.seen)
    fetcher = Fetcher("strikewatch-test/1", "127.0.0.1/32", host_interval_s=0, deadline_s=2.0)
    metrics = make_metrics(registry or CollectorRegistry())
    return Poller(feeds, fetcher, publisher, seen, metrics, random.Random(1)), publisher, metrics


def test_all_captures_and_hostile_feeds(kafka_bootstrap, topics_, http_server, route, feeds_dir):
    manifest = json.loads((feeds_dir / "manifest.json").read_text())
    feeds = []
    for m in manifest:
        http_server.routes["/" + m["file"]] = route((feeds_dir / m["file"]).read_bytes())
        feeds.append(FeedConfig(name=_name(m["file"]), url=http_server.url("/" + m["file"]), interval_s=60))
    hostile = {
        "bomb": (route(BOMB), "xml_bomb"),
        "huge": (route(b"<rss>" + b"x" * (6 * 1024 * 1024) + b"</rss>"), "too_large"),
        "slow": (route(b"<rss>" + b" " * 400 + b"</rss>", trickle_s=0.02), "timeout"),
        "redirect-private": (route(status=302, headers={"Location": "http://10.9.9.9/feed"}), "ssrf_blocked"),
        "html": (
            route(b"<!DOCTYPE html><html><body>Object moved</body></html>", headers={"Content-Type": "text/html"}),
            "not_a_feed",
        ),
        "gone": (route(status=500), "http_5xx"),
    }
    for name, (r, _reason) in hostile.items():
        http_server.routes["/" + name] = r
        feeds.append(FeedConfig(name=name, url=http_server.url("/" + name)))
    feeds.append(FeedConfig(name="unreachable", url="http://no-such-host.invalid/rss"))
    poller, publisher, metrics = _poller(kafka_bootstrap, topics_, feeds)
    poller.run(once=True, workers=8)
    publisher.flush()

    articles = [Article.from_bytes(m.value) for m in _read_all(kafka_bootstrap, topics_.articles)]
    wellformed = [m["file"] for m in manifest if m["expat_wellformed"]]
    sources = {a.source for a in articles}
    for f in wellformed:
        assert _name(f) in sources, f
    assert len({a.id for a in articles}) == len(articles), "no article twice"

    dead = [DeadLetter.from_bytes(m.value) for m in _read_all(kafka_bootstrap, topics_.dead_letters)]
    by_source = {}
    for d in dead:
        by_source.setdefault(d.source, set()).add(d.reason)
    for name, (_r, reason) in hostile.items():
        assert reason in by_source.get(name, set()), (name, by_source.get(name))
        assert metrics.failures.labels(name, reason)._value.get() == 1
    assert "unreachable" in by_source["unreachable"]
    assert "empty" in by_source[_name("dailytelegraph_EMPTY.xml")]
    assert "not_a_feed" in by_source[_name("marketwatch_redirect_NOT_A_FEED.html.xml")]
    assert "malformed_recovered" in by_source[_name("physorg_no_xml_decl_2021.rss.xml")]
    bbc = _name("bbc_news_home_2021-10-17.rss.xml")
    assert metrics.emitted.labels(bbc)._value.get() == len([a for a in articles if a.source == bbc]) > 0


def _name(file: str) -> str:
    return file.split("/")[-1].split(".")[0]


def test_restart_reemits_nothing_and_misses_nothing(kafka_bootstrap, topics_, http_server, route):
    items = [(f"https://news.example/{i}?utm_source=rss", f"Story {i}", f"Body {i}") for i in range(5)]
    http_server.routes["/f"] = route(_rss(items))
    feed = FeedConfig(name="f", url=http_server.url("/f"))
    p1, pub1, _ = _poller(kafka_bootstrap, topics_, [feed])
    assert p1.poll(feed) == 5
    pub1.close()
    # The same story again under another tracking URL, plus one new story.
    items.append(("https://news.example/0?utm_source=twitter", "Story 0", "Body 0"))
    items.append(("https://news.example/new", "New story", "Fresh body"))
    http_server.routes["/f"] = route(_rss(items))
    p2, pub2, m2 = _poller(kafka_bootstrap, topics_, [feed])  # a new process: state from the topic
    assert p2.poll(feed) == 1
    pub2.close()
    assert m2.duplicates.labels("f")._value.get() == 6
    titles = sorted(Article.from_bytes(m.value).title for m in _read_all(kafka_bootstrap, topics_.articles))
    assert titles == sorted([f"Story {i}" for i in range(5)] + ["New story"])


def test_unchanged_feed_costs_a_304(kafka_bootstrap, topics_, http_server, route):
    http_server.routes["/f"] = route(_rss([("https://news.example/a", "A", "a")]), etag='"1"')
    feed = FeedConfig(name="f", url=http_server.url("/f"))
    poller, publisher, metrics = _poller(kafka_bootstrap, topics_, [feed])
    assert poller.poll(feed) == 1
    assert poller.poll(feed) == 0
    assert metrics.not_modified.labels("f")._value.get() == 1
    assert metrics.last_success.labels("f")._value.get() > 0
    publisher.close()


def test_failing_feed_backs_off_exponentially(kafka_bootstrap, topics_, http_server, route):
    http_server.routes["/f"] = route(status=503)
    feed = FeedConfig(name="f", url=http_server.url("/f"), interval_s=10)
    poller, publisher, _ = _poller(kafka_bootstrap, topics_, [feed])
    import time

    delays = []
    for _ in range(3):
        before = time.monotonic()
        poller.poll(feed)
        delays.append(poller.state["f"].next_due - before)
    assert delays[0] < delays[1] < delays[2]
    assert 18 <= delays[0] <= 22 and 72 <= delays[2] <= 88  # 10 s * 2^n, +/-10 % jitter
    publisher.close()


def test_a_bad_item_is_one_dead_letter_and_the_feed_goes_on(kafka_bootstrap, topics_, http_server, route):
    """A link with a bad port wedged the whole feed in backoff, and an Article over the broker's record size
    was re-sent forever. Each is now a dead letter for that item; the others are emitted, the poll is a
    success (no backoff), and a second poll repeats no dead letter."""
    huge = "x" * (2_200_000)  # body and summary both carry it: a 4.4 MB Article, over the 4 MiB record limit
    items = [
        ("https://news.example/ok-1", "First", "fine"),
        ("http://news.example:99999/bad-port", "Bad port", "x"),
        ("http://[::1/broken", "Broken", "x"),
        ("https://news.example/huge", "Huge", huge),
        ("https://news.example/ok-2", "Second", "fine too"),
        ("http://news.example:70000/second", "Second", "fine too"),
    ]  # the same story under a bad link
    http_server.routes["/f"] = route(_rss(items))
    feed = FeedConfig(name="f", url=http_server.url("/f"), interval_s=10)
    poller, publisher, metrics = _poller(kafka_bootstrap, topics_, [feed])
    assert poller.poll(feed) == 2
    assert poller.state["f"].failures == 0 and metrics.polls.labels("f", "ok")._value.get() == 1
    assert poller.poll(feed) == 0  # nothing new, no dead letter repeated
    publisher.close()
    titles = sorted(Article.from_bytes(m.value).title for m in _read_all(kafka_bootstrap, topics_.articles))
    assert titles == ["First", "Second"]
    dead = [DeadLetter.from_bytes(m.value) for m in _read_all(kafka_bootstrap, topics_.dead_letters)]
    got = sorted((d.stage, d.reason) for d in dead)
    assert got == [("connector.parse", "bad_url")] * 3 + [("connector.publish", "too_large")], got
    assert all(d.source == "f" and len(d.payload) <= 65536 for d in dead)
    assert metrics.failures.labels("f", "too_large")._value.get() == 1


def test_a_record_the_broker_refuses_is_dead_lettered_not_resent_forever(kafka_bootstrap, topics_):
    """A topic whose limit is below ours (max.message.bytes 2,000): the broker answers MESSAGE_TOO_LARGE,
    which no re-send can fix."""
    import uuid

    from kafka.admin import KafkaAdminClient, NewTopic

    small = f"small-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(small, 1, 1, topic_configs={"max.message.bytes": "2000"})])
    admin.close()
    names = TopicNames(articles=small, seen=topics_.seen, dead_letters=topics_.dead_letters)
    publisher = Publisher(kafka_bootstrap, names)
    rng = random.Random(0)
    body = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(20_000))  # gzip keeps > 2 kB
    publisher.article(Article.new("https://news.example/small", title="Small", body="fits"))
    publisher.article(Article.new("https://news.example/big", title="Big", body=body))
    publisher.article(Article.new("https://news.example/small-2", title="Small 2", body="fits too"))
    publisher.flush()  # returns: the refusal is permanent
    publisher.close()
    [dl] = [DeadLetter.from_bytes(m.value) for m in _read_all(kafka_bootstrap, topics_.dead_letters)]
    assert (dl.stage, dl.reason) == ("connector.publish", "too_large") and "Big" in dl.payload
    # The refusal aborted the whole idempotent producer; the records in flight with it still arrive.
    assert sorted(Article.from_bytes(m.value).title for m in _read_all(kafka_bootstrap, small)) == ["Small", "Small 2"]

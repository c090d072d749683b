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
from strikewatch.metrics import CollectorRegistry
from strikewatch.models import Article, DeadLetter

pytestmark = pytest.mark.integration

BOMB = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>'


def _read_all(bootstrap, topic):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1500)
    tps = [TopicPartition(topic, p) for p in c.partitions_for_topic(topic)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    out = [m for m in c]
    c.close()
    return out


def _rss(items):
    body = "".join(f"<item><title>{t}</title><link>{u}</link><description>{d}</description></item>" for u, t, d in items)
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


@pytest.fixture
def topics_(new_topic):
    return TopicNames(articles=new_topic("art", 3), seen=new_topic("seen", 1, compact=True), dead_letters=new_topic("dl"))


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
        "html": (route(b"<!DOCTYPE html><html><body>Object moved</body></html>", headers={"Content-Type": "text/html"}), "not_a_feed"),
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

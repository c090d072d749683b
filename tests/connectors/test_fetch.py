"""The guarded fetcher against a real HTTP server on 127.0.0.1."""

import pytest

from connectors.errors import FetchError
from connectors.fetch import Fetcher

LOOPBACK = "127.0.0.1/32"


def fetcher(**kw) -> Fetcher:
    return Fetcher("strikewatch-test/1", LOOPBACK, host_interval_s=0, **kw)


def test_conditional_get_answers_304(http_server, route):
    http_server.routes["/f"] = route(b"<rss/>", etag='"v1"', headers={"Last-Modified": "Mon, 28 Jun 2021 01:00:00 GMT"})
    f = fetcher()
    first = f.get(http_server.url("/f"))
    assert (first.status, first.body, first.etag) == (200, b"<rss/>", '"v1"')
    again = f.get(http_server.url("/f"), first.etag, first.last_modified)
    assert again.status == 304 and again.body == b""


def test_oversized_body_is_cut_at_the_cap(http_server, route):
    http_server.routes["/big"] = route(b"x" * (10 * 1024 * 1024))
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/big"))
    assert e.value.reason == "too_large"


def test_slow_loris_hits_the_total_deadline(http_server, route):
    http_server.routes["/slow"] = route(b"<rss>" + b" " * 200 + b"</rss>", trickle_s=0.05)
    with pytest.raises(FetchError) as e:
        fetcher(deadline_s=1.0).get(http_server.url("/slow"))
    assert e.value.reason == "timeout"


@pytest.mark.parametrize("target", ["http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data", "http://[::1]:9/x"])
def test_redirects_to_private_addresses_are_refused_before_connecting(http_server, route, target):
    http_server.routes["/r"] = route(status=302, headers={"Location": target})
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/r"))
    assert e.value.reason == "ssrf_blocked"


def test_loopback_itself_is_refused_unless_allowlisted(http_server, route):
    http_server.routes["/f"] = route(b"ok")
    with pytest.raises(FetchError) as e:
        Fetcher("t", None, host_interval_s=0).get(http_server.url("/f"))
    assert e.value.reason == "ssrf_blocked"
    assert http_server.routes["/f"].hits == 0  # refused before any request was sent


def test_redirect_chain_is_followed(http_server, route):
    http_server.routes["/a"] = route(status=301, headers={"Location": "/b"})
    http_server.routes["/b"] = route(b"final")
    res = fetcher().get(http_server.url("/a"))
    assert res.body == b"final" and res.url.endswith("/b")


def test_unreachable_host_and_http_errors_have_reasons(http_server, route):
    with pytest.raises(FetchError) as e:
        fetcher().get("http://no-such-host.invalid/feed")
    assert e.value.reason == "unreachable"
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/missing"))
    assert e.value.reason == "http_4xx"


def test_robots_txt_is_respected(http_server, route):
    http_server.routes["/robots.txt"] = route(b"User-agent: *\nDisallow: /private/\n")
    f = fetcher()
    assert f.allowed_by_robots(http_server.url("/news/1"))
    assert not f.allowed_by_robots(http_server.url("/private/2"))

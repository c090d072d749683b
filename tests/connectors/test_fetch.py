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


# --- hostile servers (issue 13) ------------------------------------------------------------------------------------
import gzip  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402


def _peak_bytes_of(fn) -> tuple[int, BaseException | None]:
    tracemalloc.start()
    err = None
    try:
        fn()
    except BaseException as e:  # noqa: BLE001 - returned to the test
        err = e
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, err


def test_gzip_bomb_stops_at_the_cap_while_inflating(http_server, route):
    """64 MiB of zeros gzipped to ~64 kB: inflating it whole before checking (what httpx's decoder does with
    one chunk) costs the whole 64 MiB; the cap applied while decoding keeps the peak near the 1 MiB cap."""
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)
    assert len(bomb) < 100_000
    http_server.routes["/bomb"] = route(
        bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
    )
    peak, err = _peak_bytes_of(lambda: fetcher(max_bytes=1024 * 1024).get(http_server.url("/bomb")))
    assert isinstance(err, FetchError) and err.reason == "too_large", err
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB while decoding a bomb under a 1 MiB cap"


def test_stacked_content_encodings_are_refused(http_server, route):
    inner = gzip.compress(gzip.compress(b"<rss/>" * 1000))
    http_server.routes["/double"] = route(inner, headers={"Content-Encoding": "gzip, gzip"})
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/double"))
    assert e.value.reason == "bad_encoding" and "stacked" in str(e.value)
    http_server.routes["/br"] = route(b"\x0b\x02\x80hi\x03", headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/br"))
    assert e.value.reason == "bad_encoding"


def test_gzip_and_deflate_bodies_still_decode(http_server, route):
    import zlib

    http_server.routes["/gz"] = route(gzip.compress(b"<rss>gz</rss>"), headers={"Content-Encoding": "gzip"})
    http_server.routes["/two-members"] = route(
        gzip.compress(b"<rss>") + gzip.compress(b"</rss>"), headers={"Content-Encoding": "gzip"}
    )
    http_server.routes["/zlib"] = route(zlib.compress(b"<rss>zlib</rss>"), headers={"Content-Encoding": "deflate"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    http_server.routes["/raw"] = route(
        raw.compress(b"<rss>raw</rss>") + raw.flush(), headers={"Content-Encoding": "deflate"}
    )
    f = fetcher()
    assert f.get(http_server.url("/gz")).body == b"<rss>gz</rss>"
    assert f.get(http_server.url("/two-members")).body == b"<rss></rss>"
    assert f.get(http_server.url("/zlib")).body == b"<rss>zlib</rss>"
    assert f.get(http_server.url("/raw")).body == b"<rss>raw</rss>"


def test_headers_trickled_byte_by_byte_end_at_the_total_deadline(http_server, route):
    """Every byte of the status line and headers arrives within the 10 s read timeout, so only a total
    deadline ends this: 200 header bytes at 0.2 s each would take 40 s."""
    http_server.routes["/trickle"] = route(b"<rss/>", headers={"X-Pad": "a" * 150}, trickle_headers_s=0.2)
    t0 = time.monotonic()
    with pytest.raises(FetchError) as e:
        fetcher(deadline_s=1.0).get(http_server.url("/trickle"))
    assert e.value.reason == "timeout"
    assert time.monotonic() - t0 < 15, "the deadline, not the trickle, ended the fetch"


def test_the_connection_goes_to_the_address_that_was_vetted(http_server, route):
    """A rebinding DNS server answers an allowed address to the check and a private one afterwards. The
    name is resolved once, at connect time, and the socket opened to that answer; the request still names
    the host (Host header; SNI and certificate name for https)."""
    answers = ["127.0.0.1", "10.9.9.9", "10.9.9.9"]
    calls = []

    def rebinding(host, port, type=0):
        calls.append(host)
        return [(2, 1, 6, "", (answers[min(len(calls) - 1, 2)], port))]

    seen_host = []
    http_server.routes["/f"] = route(b"<rss/>")
    f = Fetcher("t", "127.0.0.1/32", host_interval_s=0, resolver=rebinding)
    orig = http_server.httpd.RequestHandlerClass.do_GET

    def spy(self):
        seen_host.append(self.headers.get("Host"))
        orig(self)

    http_server.httpd.RequestHandlerClass.do_GET = spy
    res = f.get(f"http://rebind.test:{http_server.port}/f")
    assert res.body == b"<rss/>"
    assert calls == ["rebind.test"], "one lookup per connection, no second one to rebind"
    assert seen_host == [f"rebind.test:{http_server.port}"]
    f.close()
    # A name whose (single) answer is private is refused before any connection.
    f2 = Fetcher("t", None, host_interval_s=0, resolver=rebinding)
    with pytest.raises(FetchError) as e:
        f2.get(f"http://rebind.test:{http_server.port}/f")
    assert e.value.reason == "ssrf_blocked" and http_server.routes["/f"].hits == 1


def test_a_slow_name_server_ends_at_the_deadline():
    def slow_dns(host, port, type=0):  # 6 s: well past the 1 s deadline
        time.sleep(6)
        return [(2, 1, 6, "", ("8.8.8.8", port))]

    t0 = time.monotonic()
    with pytest.raises(FetchError) as e:
        Fetcher("t", None, host_interval_s=0, deadline_s=1.0, resolver=slow_dns).get("http://slow-dns.example/feed")
    assert e.value.reason == "timeout" and time.monotonic() - t0 < 5


@pytest.mark.parametrize(
    "ip",
    [
        "100.64.0.1",
        "fec0::1",
        "192.0.0.170",
        "198.18.0.1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::1",
        "224.0.0.1",
        "0.0.0.0",
        "fe80::1",
    ],
)
def test_only_global_addresses_pass_the_guard(ip):
    f = Fetcher("t", None, host_interval_s=0, resolver=lambda host, port, type=0: [(10, 1, 6, "", (ip, port))])
    with pytest.raises(FetchError) as e:
        f.check_url("http://innocent.example/feed")
    assert e.value.reason == "ssrf_blocked", ip
    ok = Fetcher("t", None, resolver=lambda host, port, type=0: [(2, 1, 6, "", ("8.8.8.8", port))])
    ok.check_url("http://innocent.example/feed")


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://[::1/x", "unreachable"),  # httpx: invalid Location header
        ("http://example.com:99999/x", "bad_url"),
        ("gopher://example.com/", "bad_url"),
    ],
)
def test_a_malformed_redirect_is_a_fetch_error_not_a_crash(http_server, route, location, reason):
    http_server.routes["/r"] = route(status=302, headers={"Location": location})
    with pytest.raises(FetchError) as e:
        fetcher().get(http_server.url("/r"))
    assert e.value.reason == reason


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:99999/x",
        "http://example.com:abc/x",
        "ftp://example.com/x",
        "http:///x",
        "http://exa mple.com/x",
    ],
)
def test_invalid_urls_are_bad_url_errors(url):
    with pytest.raises(FetchError) as e:
        fetcher().get(url)
    assert e.value.reason == "bad_url"


def test_robots_txt_per_rfc_9309(http_server, route):
    # Protego: the longest matching rule wins (urllib's parser takes the first, and would refuse /news/open).
    http_server.routes["/robots.txt"] = route(b"User-agent: *\nDisallow: /news/\nAllow: /news/open\n")
    f = fetcher()
    assert f.allowed_by_robots(http_server.url("/news/open/1"))
    assert not f.allowed_by_robots(http_server.url("/news/closed"))
    # 5xx: the server's rules are unknown, so everything is disallowed; 4xx: no rules, everything allowed.
    http_server.routes["/robots.txt"] = route(status=503)
    assert not fetcher().allowed_by_robots(http_server.url("/news/1"))
    http_server.routes["/robots.txt"] = route(status=404)
    assert fetcher().allowed_by_robots(http_server.url("/news/1"))

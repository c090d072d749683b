"""HTTP fetching for connectors: safe by default.

* SSRF guard (``strikewatch.core.netguard``): each hop (the URL and each redirect) is a new request whose
  connection is opened by the guarded transport, which resolves the name once, refuses any address that is
  not public unless allowlisted (``allow_private``), and connects to the address it vetted. Nothing is ever
  sent to a refused address, and DNS rebinding has no second lookup to change.
* Limits: one total deadline per fetch covering connect, headers and body of every hop (a server trickling
  its headers or body one byte at a time ends at the deadline), a cap on the body enforced while streaming
  and applied to the *decoded* bytes as they are decompressed (a gzip bomb stops at the cap, not after
  inflating), one Content-Encoding at most (``gzip, gzip`` is refused), at most ``MAX_REDIRECTS`` hops.
* Politeness: a User-Agent, a per-host minimum interval between requests (not counted in the deadline),
  conditional GET (ETag / Last-Modified -> 304), robots.txt for article pages (Protego; RFC 9309: a 4xx
  robots.txt allows everything, a 5xx or an unreachable one disallows everything).

Threads share one ``Fetcher`` (httpx.Client is thread-safe).
"""

from __future__ import annotations

import socket
import threading
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from protego import Protego

from strikewatch.core import netguard

from .errors import FetchError

# Total seconds one fetch may take, redirects included: a feed of a few MB arrives in
# well under 10 s on any working server; 20 s leaves room for a slow origin.
TOTAL_DEADLINE_S = 20.0
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
# Largest body read (bytes), after decompression. Real feeds in the captures are <= 250 kB, full article
# pages < 2 MB; 5 MiB bounds memory per fetch while fitting any real news page.
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
# Minimum seconds between two requests to one host (politeness; a feed list has
# several feeds per publisher).
PER_HOST_INTERVAL_S = 1.0
ROBOTS_CACHE_S = 3600.0
# A robots.txt that could not be read (5xx, timeout, unreachable) disallows the host for this long before it
# is asked again: RFC 9309 says to assume complete disallow; 10 minutes keeps a broken server from being
# asked once per article.
ROBOTS_ERROR_CACHE_S = 600.0
# Content codings we decode (and announce in Accept-Encoding). Anything else, or two stacked, is refused.
ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class _Decoder:
    """Content-Encoding decoding under a cap on the decoded size, enforced while inflating: each
    ``decompress`` call may produce at most the room left plus one byte, so a 1.8 kB bomb that would inflate
    to 2 GB costs one cap's worth of memory."""

    def __init__(self, header: str | None, cap: int):
        codings = [c.strip().lower() for c in (header or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1:
            raise FetchError(f"stacked Content-Encoding {header!r} refused", "bad_encoding")
        self.coding = codings[0] if codings else None
        if self.coding is not None and self.coding not in ENCODINGS:
            raise FetchError(f"unsupported Content-Encoding {self.coding!r}", "bad_encoding")
        self._cap, self._size, self._later_member = cap, 0, False
        self._z = zlib.decompressobj(ENCODINGS[self.coding]) if self.coding else None

    def _count(self, n: int) -> None:
        self._size += n
        if self._size > self._cap:
            raise FetchError(f"decoded body exceeds {self._cap} bytes", "too_large")

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            self._count(len(data))
            return data
        out = []
        while data:
            try:
                chunk = self._z.decompress(data, self._cap - self._size + 1)
            except zlib.error as e:
                if self.coding == "deflate" and self._size == 0 and not self._later_member:
                    self._z = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate without the zlib header, as IIS sends
                    self.coding = "raw deflate"
                    continue
                if self._later_member:
                    break  # trailing garbage after a complete gzip member: ignored, as gzip(1) does
                raise FetchError(f"corrupt {self.coding} body: {e}", "bad_encoding") from None
            self._count(len(chunk))
            out.append(chunk)
            if self._z.unconsumed_tail:
                data = self._z.unconsumed_tail
            elif self._z.eof and self._z.unused_data:
                data = self._z.unused_data  # concatenated gzip members (RFC 1952)
                self._z, self._later_member = zlib.decompressobj(ENCODINGS[self.coding]), True
            else:
                break
        return b"".join(out)


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL after redirects
    status: int  # 200, or 304 when not modified
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    charset: str | None
    seconds: float


class Fetcher:
    def __init__(
        self,
        user_agent: str,
        allow_private: str | list[str] | None = None,
        *,
        max_bytes: int = MAX_BODY_BYTES,
        deadline_s: float = TOTAL_DEADLINE_S,
        host_interval_s: float = PER_HOST_INTERVAL_S,
        resolver: netguard.Resolver = socket.getaddrinfo,
    ):
        self.guard = netguard.Guard(allow_private, resolver)
        self._max_bytes, self._deadline_s, self._interval = max_bytes, deadline_s, host_interval_s
        accept = (
            "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
            "text/xml;q=0.9, */*;q=0.5"
        )
        self._client = netguard.client(
            self.guard,
            headers={"User-Agent": user_agent, "Accept": accept, "Accept-Encoding": ", ".join(ENCODINGS)},
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        )
        self._host_lock = threading.Lock()
        self._host_next: dict[str, float] = {}
        self._robots: dict[str, tuple[float, Protego | None]] = {}
        self.user_agent = user_agent

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ guard
    def check_url(self, url: str) -> None:
        """Vet a URL without fetching it (``FetchError`` with the guard's reason)."""
        try:
            self.guard.check_url(url)
        except netguard.Blocked as e:
            raise FetchError(str(e), e.reason) from None

    def _pace(self, host: str) -> None:
        with self._host_lock:
            now = time.monotonic()
            at = max(now, self._host_next.get(host, 0.0))
            self._host_next[host] = at + self._interval
        if at > now:
            time.sleep(at - now)

    # ------------------------------------------------------------------ fetch
    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        t0 = time.monotonic()
        spent = 0.0  # seconds on the network so far: the per-host pacing waits do not count
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                _scheme, host, _port = netguard.split_url(current)
            except netguard.Blocked as e:
                raise FetchError(str(e), e.reason) from None
            self._pace(host)
            left = self._deadline_s - spent
            if left <= 0:
                raise FetchError(f"fetch exceeded its {self._deadline_s:.0f} s deadline", "timeout")
            hop_start = time.monotonic()
            try:
                with netguard.deadline(left):
                    res = self._hop(current, headers, etag, last_modified, t0)
            except netguard.Blocked as e:
                raise FetchError(str(e), e.reason) from None
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as e:  # a hop's URL httpx refuses
                raise FetchError(f"invalid URL {current!r}: {type(e).__name__}: {e}", "bad_url") from None
            except httpx.TimeoutException as e:
                raise FetchError(f"timeout fetching {current}: {type(e).__name__}", "timeout") from None
            except httpx.TransportError as e:
                raise FetchError(f"cannot reach {current}: {type(e).__name__}: {e}", "unreachable") from None
            finally:
                spent += time.monotonic() - hop_start
            if isinstance(res, FetchResult):
                return res
            current = res
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", "too_many_redirects")

    def _hop(
        self, current: str, headers: dict, etag: str | None, last_modified: str | None, t0: float
    ) -> FetchResult | str:
        """One request: the result, or the URL a redirect points to."""
        with self._client.stream("GET", current, headers=headers) as resp:
            if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                try:
                    return urljoin(current, resp.headers["location"])
                except ValueError as e:  # "http://[::1": urljoin raises; one bad redirect, not a crash
                    raise FetchError(f"invalid redirect from {current}: {e}", "bad_url") from None
            if resp.status_code == 304:
                return FetchResult(current, 304, b"", etag, last_modified, None, None, time.monotonic() - t0)
            if resp.status_code >= 400:
                raise FetchError(f"HTTP {resp.status_code} from {current}", f"http_{resp.status_code // 100}xx")
            declared = resp.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self._max_bytes:
                raise FetchError(f"declared body of {declared} bytes exceeds {self._max_bytes}", "too_large")
            decoder = _Decoder(resp.headers.get("content-encoding"), self._max_bytes)
            chunks: list[bytes] = []
            raw = 0
            try:
                for chunk in resp.iter_raw():
                    raw += len(chunk)
                    if raw > self._max_bytes:
                        raise FetchError(f"body exceeds {self._max_bytes} bytes", "too_large")
                    chunks.append(decoder.feed(chunk))
            except FetchError as e:
                if e.reason == "too_large" and e.payload is None:
                    e.payload = b"".join(chunks)[:4096]
                raise
            ctype = resp.headers.get("content-type")
            charset = resp.charset_encoding if ctype and "charset" in ctype.lower() else None
            return FetchResult(
                current,
                resp.status_code,
                b"".join(chunks),
                resp.headers.get("etag"),
                resp.headers.get("last-modified"),
                ctype,
                charset,
                time.monotonic() - t0,
            )

    # ------------------------------------------------------------------ robots.txt
    def allowed_by_robots(self, url: str) -> bool:
        """RFC 9309 with Protego: a robots.txt answered 4xx allows everything; one answered 5xx, or a host
        that cannot be reached, disallows everything (cached ``ROBOTS_ERROR_CACHE_S``)."""
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(base)
        now = time.monotonic()
        if cached is None or now > cached[0]:
            rp: Protego | None
            try:
                res = self.get(base + "/robots.txt")
                rp, ttl = Protego.parse(res.body.decode("utf-8", errors="replace")), ROBOTS_CACHE_S
            except FetchError as e:
                if e.reason == "http_4xx":
                    rp, ttl = None, ROBOTS_CACHE_S  # "unavailable": no rules, everything allowed
                else:
                    rp, ttl = Protego.parse("User-agent: *\nDisallow: /\n"), ROBOTS_ERROR_CACHE_S
            self._robots[base] = cached = (now + ttl, rp)
        rp = cached[1]
        return True if rp is None else rp.can_fetch(url, self.user_agent)

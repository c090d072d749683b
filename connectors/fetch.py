"""HTTP fetching for connectors: safe by default.

* SSRF guard: every hop (the URL and each redirect) is resolved first and refused if
  any address is private, loopback, link-local, multicast or reserved, unless the
  host or a network containing it is allowlisted (``allow_private``). The check runs
  before a connection is opened, so nothing is ever sent to a refused address.
* Limits: connect/read timeouts plus a total deadline per fetch (a slow-loris server
  that trickles bytes still ends at the deadline), a hard cap on body size enforced
  while streaming, at most ``MAX_REDIRECTS`` hops.
* Politeness: a User-Agent, a per-host minimum interval between requests,
  conditional GET (ETag / Last-Modified -> 304), robots.txt for article pages.

Threads share one ``Fetcher`` (httpx.Client is thread-safe).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from .errors import FetchError

# Total seconds one fetch may take, redirects included: a feed of a few MB arrives in
# well under 10 s on any working server; 20 s leaves room for a slow origin.
TOTAL_DEADLINE_S = 20.0
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
# Largest body read (bytes). Real feeds in the captures are <= 250 kB, full article
# pages < 2 MB; 5 MiB bounds memory per fetch while fitting any real news page.
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
# Minimum seconds between two requests to one host (politeness; a feed list has
# several feeds per publisher).
PER_HOST_INTERVAL_S = 1.0
ROBOTS_CACHE_S = 3600.0


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


def _parse_allow(allow: str | list[str] | None) -> tuple[set[str], list[ipaddress._BaseNetwork]]:
    hosts: set[str] = set()
    nets: list[ipaddress._BaseNetwork] = []
    items = allow.split(",") if isinstance(allow, str) else (allow or [])
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower())
    return hosts, nets


class Fetcher:
    def __init__(self, user_agent: str, allow_private: str | list[str] | None = None, *, max_bytes: int = MAX_BODY_BYTES,
                 deadline_s: float = TOTAL_DEADLINE_S, host_interval_s: float = PER_HOST_INTERVAL_S, resolver=socket.getaddrinfo):
        self._allow_hosts, self._allow_nets = _parse_allow(allow_private)
        self._max_bytes, self._deadline_s, self._interval = max_bytes, deadline_s, host_interval_s
        self._resolve = resolver
        self._client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept": "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"},
            timeout=httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the guard must see the real peer
        )
        self._host_lock = threading.Lock()
        self._host_next: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}
        self.user_agent = user_agent

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ guard
    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"scheme {parts.scheme!r} not allowed", "bad_url")
        host = (parts.hostname or "").lower()
        if not host:
            raise FetchError("URL has no host", "bad_url")
        if host in self._allow_hosts:
            return
        try:
            infos = self._resolve(host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise FetchError(f"cannot resolve {host}: {e}", "unreachable") from None
        for info in infos:
            ip = ipaddress.ip_address(info[4][0])
            if any(ip in n for n in self._allow_nets):
                continue
            if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
                raise FetchError(f"{host} resolves to non-public address {ip}; refused (SSRF guard)", "ssrf_blocked")

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
        deadline = t0 + self._deadline_s
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            self.check_url(current)
            self._pace((urlsplit(current).hostname or "").lower())
            try:
                with self._client.stream("GET", current, headers=headers) as resp:
                    if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
                        current = urljoin(current, resp.headers["location"])
                        continue
                    if resp.status_code == 304:
                        return FetchResult(current, 304, b"", etag, last_modified, None, None, time.monotonic() - t0)
                    if resp.status_code >= 400:
                        raise FetchError(f"HTTP {resp.status_code} from {current}", f"http_{resp.status_code // 100}xx")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > self._max_bytes:
                        raise FetchError(f"declared body of {declared} bytes exceeds {self._max_bytes}", "too_large")
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > self._max_bytes:
                            raise FetchError(f"body exceeds {self._max_bytes} bytes", "too_large", b"".join(chunks)[:4096])
                        if time.monotonic() > deadline:
                            raise FetchError(f"fetch exceeded its {self._deadline_s:.0f} s deadline", "timeout")
                        chunks.append(chunk)
                    ctype = resp.headers.get("content-type")
                    return FetchResult(current, resp.status_code, b"".join(chunks), resp.headers.get("etag"), resp.headers.get("last-modified"),
                                       ctype, resp.charset_encoding if ctype and "charset" in ctype.lower() else None, time.monotonic() - t0)
            except httpx.TimeoutException as e:
                raise FetchError(f"timeout fetching {current}: {type(e).__name__}", "timeout") from None
            except httpx.TransportError as e:
                raise FetchError(f"cannot reach {current}: {type(e).__name__}: {e}", "unreachable") from None
        raise FetchError(f"more than {MAX_REDIRECTS} redirects", "too_many_redirects")

    # ------------------------------------------------------------------ robots.txt
    def allowed_by_robots(self, url: str) -> bool:
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(base)
        if cached is None or time.monotonic() - cached[0] > ROBOTS_CACHE_S:
            rp: RobotFileParser | None = RobotFileParser()
            try:
                res = self.get(base + "/robots.txt")
                rp.parse(res.body.decode("utf-8", errors="replace").splitlines())
            except FetchError as e:
                # No robots.txt (4xx) means everything is allowed; an unreachable
                # host will fail the page fetch anyway.
                rp = None if e.reason.startswith("http_4") else rp
                if rp is not None:
                    rp.parse([])
            self._robots[base] = (time.monotonic(), rp)
            cached = self._robots[base]
        rp = cached[1]
        return True if rp is None else rp.can_fetch(self.user_agent, url)

"""The SSRF guard and the HTTP transport every outbound request to a URL from the world goes through.

Feed URLs, their redirects and article links (connectors), and webhook URLs (delivery, checked again by the
API at creation) are all attacker-controlled. Three rules:

* Only public addresses: an address must be ``is_global`` and not multicast, site-local (fec0::/10) or
  reserved, and an IPv4 address embedded in IPv6 (``::ffff:a.b.c.d``, 6to4, Teredo, NAT64 ``64:ff9b::/96``)
  must pass on its own. 100.64.0.0/10 (carrier-grade NAT), 192.0.0.0/24 and the documentation ranges are
  not global, so they are refused. Hosts and networks on the allowlist (``allow``, e.g. ``127.0.0.1/32``
  for a local stack or an in-cluster Alertmanager) pass.
* The address that was vetted is the address connected to. ``GuardedTransport`` resolves the name once, at
  connect time, checks every address and opens the socket to a checked one; the request keeps the name in
  its Host header and as TLS SNI (and the certificate is verified against the name). A DNS answer that
  changes between a check and the connection (rebinding) therefore has nothing to change.
* One total deadline per request (``deadline(seconds)``), across the DNS lookup, connect, TLS, sending, the response
  headers and the body: every socket operation gets at most the time left, so a server that trickles its
  headers one byte a second ends at the deadline, not at ``n_bytes * read_timeout``.

    guard = Guard("127.0.0.1/32")
    with httpx.Client(transport=GuardedTransport(guard)) as http, deadline(10.0):
        http.get(url)                     # raises Blocked (reason ssrf_blocked | bad_url | unreachable)

Nothing here logs a URL's path or query: ``redact_url`` is what callers log (a Slack webhook's path is its
token).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import logging
import socket
import threading
import time
import typing
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpcore
import httpx

from strikewatch.core.errors import StrikewatchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list]

# NAT64's well-known prefix (RFC 6052): 64:ff9b::a.b.c.d reaches a.b.c.d through a gateway.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# httpx logs every request's full URL at INFO ("HTTP Request: POST https://hooks.slack.com/services/..."): a
# webhook URL's path is a credential, so these loggers say only warnings and errors.
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("strikewatch_http_deadline", default=None)


class Blocked(StrikewatchError):
    """A URL the guard refuses. ``reason``: ``bad_url`` (scheme, host or port), ``ssrf_blocked`` (an address
    that is not public), or ``unreachable`` (the name does not resolve)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def redact_url(url: str | None) -> str:
    """``scheme://host[:port]/…``: what may be logged of a URL (its path and query can be credentials)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    if ":" in host:
        host = f"[{host}]"
    tail = "/…" if (parts.path not in ("", "/") or parts.query) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


def parse_allow(allow: str | list[str] | None) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """``"host,10.0.0.0/8,::1"`` -> (host names, networks)."""
    hosts: set[str] = set()
    nets: list[IPNetwork] = []
    items = allow.split(",") if isinstance(allow, str) else (allow or [])
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            hosts.add(item.lower())
    return frozenset(hosts), tuple(nets)


def is_public(ip: IPAddress) -> bool:
    """True for an address a request from the world may go to (see the module docstring)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # 3.11 calls every mapped address reserved: the IPv4 address decides
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        embedded = [ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip.is_site_local or any(e is not None and not is_public(e) for e in embedded):
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved and not ip.is_unspecified


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or ``Blocked('bad_url')``: a bad port, no host, another
    scheme, or a string that is not a URL at all."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise Blocked(f"invalid URL: {e}", "bad_url") from None
    if parts.scheme not in ("http", "https"):
        raise Blocked(f"scheme {parts.scheme!r} not allowed", "bad_url")
    host = (parts.hostname or "").lower()
    if not host:
        raise Blocked("URL has no host", "bad_url")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise Blocked("URL contains whitespace or control characters", "bad_url")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


class Guard:
    """Resolves and vets hosts. Thread-safe (no mutable state). ``resolver`` has ``socket.getaddrinfo``'s
    signature (tests pass one that answers differently on each call, as a rebinding DNS server does)."""

    def __init__(self, allow: str | list[str] | None = None, resolver: Resolver = socket.getaddrinfo):
        self.allow_hosts, self.allow_nets = parse_allow(allow)
        self._resolve = resolver

    def __repr__(self) -> str:
        return f"Guard(allow_hosts={sorted(self.allow_hosts)}, allow_nets={[str(n) for n in self.allow_nets]})"

    def allowed(self, ip: IPAddress) -> bool:
        return any(ip in n for n in self.allow_nets if n.version == ip.version) or is_public(ip)

    def vet(self, host: str, port: int) -> list[str]:
        """Resolve ``host`` once and return its addresses, all of them checked; raises ``Blocked`` if any
        address is refused (a name with one private address is treated as private: which address a client
        picks is not ours to predict)."""
        host = host.strip("[]").lower()
        try:
            infos = self._lookup(host, port)
        except (socket.gaierror, UnicodeError) as e:
            raise Blocked(f"cannot resolve {host}: {e}", "unreachable") from None
        addrs = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
        if not addrs:
            raise Blocked(f"{host} has no address", "unreachable")
        if host in self.allow_hosts:
            return addrs
        for a in addrs:
            ip = ipaddress.ip_address(a)
            if not self.allowed(ip):
                raise Blocked(f"{host} resolves to non-public address {ip}; refused (SSRF guard)", "ssrf_blocked")
        return addrs

    def _lookup(self, host: str, port: int) -> list:
        """getaddrinfo, within the current ``deadline`` if there is one: the system resolver has no timeout
        of ours, and a hostile name server can answer slowly. A lookup past the deadline is left to finish
        in its daemon thread and the connection fails as a timeout."""
        end = _DEADLINE.get()
        if end is None:
            return self._resolve(host, port, type=socket.SOCK_STREAM)
        box: dict[str, typing.Any] = {}

        def run() -> None:
            try:
                box["infos"] = self._resolve(host, port, type=socket.SOCK_STREAM)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                box["error"] = e

        t = threading.Thread(target=run, name="netguard-dns", daemon=True)
        t.start()
        t.join(max(0.0, end - time.monotonic()))
        if t.is_alive():
            raise httpcore.ConnectTimeout(f"resolving {host} exceeded the request deadline")
        if "error" in box:
            raise box["error"]
        return box["infos"]

    def check_url(self, url: str) -> list[str]:
        """Vet a URL without connecting (the API checks a webhook URL at creation); returns its addresses."""
        _scheme, host, port = split_url(url)
        return self.vet(host, port)


# ---------------------------------------------------------------------- the total deadline


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[float]:
    """Every request made through a ``GuardedTransport`` in this block (this thread or task) ends by
    ``seconds`` from now; nested blocks keep the earlier end."""
    end = time.monotonic() + seconds
    outer = _DEADLINE.get()
    token = _DEADLINE.set(end if outer is None else min(outer, end))
    try:
        yield end
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, timeout_exc: type[Exception]) -> float | None:
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise timeout_exc("total request deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write gets at most the time left before the deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname: str | None = None, timeout: float | None = None):
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolves once, vets, connects to a vetted address. httpcore keeps the origin's name for the Host
    header and for TLS (SNI and certificate check), so only the socket's peer comes from here."""

    def __init__(self, guard: Guard):
        self._guard = guard
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for addr in self._guard.vet(host, port):
            try:
                stream = self._plain.connect_tcp(
                    addr, port, _bounded(timeout, httpcore.ConnectTimeout), local_address, socket_options
                )
                return _DeadlineStream(stream)
            except httpcore.ConnectError as e:  # try the next vetted address
                last = e
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise Blocked("unix sockets are not reachable through the guard", "bad_url")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections are opened by ``_GuardedBackend``. No proxy (a proxy would
    connect on our behalf to an address we never saw)."""

    def __init__(self, guard: Guard, *, verify: bool | typing.Any = True, limits: httpx.Limits = httpx.Limits()):
        super().__init__(verify=verify, trust_env=False, limits=limits)
        # httpx builds its httpcore pool without a way to pass a network backend; this is the same pool
        # (same TLS context and limits) with ours. Covered by tests/strikewatch/test_netguard.py.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(guard),
        )


def client(guard: Guard, **kw: typing.Any) -> httpx.Client:
    """An ``httpx.Client`` that goes through ``guard``: no redirects followed by httpx (callers vet each hop
    by making it a new request), no proxy or settings from the environment."""
    return httpx.Client(transport=GuardedTransport(guard), follow_redirects=False, trust_env=False, **kw)

"""uvicorn as ``strikewatch api`` runs it (``serve_config``): a deadline on request headers, and proxy
headers believed only from configured proxies.

uvicorn sets no deadline on a request's headers: a connection that sends its request line and then one
header byte now and then (slowloris) is held open for as long as it keeps trickling, each one a
socket, a parser and a file descriptor, and a fresh connection that sends nothing is never timed out at
all. ``HeaderDeadline`` closes a connection whose request has not finished its headers
``HEADER_TIMEOUT_S`` after it began (or after the connection opened), answering 408 first.
``bench/bench_slow_headers.py`` measures what slow connections cost other clients, with and without it.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Seconds a request may take to send its headers (or a new connection its first request). A client on a
# slow mobile link sends a few hundred bytes of headers in well under a second; nginx's default
# client_header_timeout is 60 s, Apache's mod_reqtimeout 20-40 s. 10 s frees an attacker's connection
# six times sooner than nginx would and leaves any real client room.
HEADER_TIMEOUT_S = 10.0
# Seconds an idle keep-alive connection stays open between requests (uvicorn's default, kept).
KEEP_ALIVE_S = 5


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on each request's headers (``HEADER_TIMEOUT_S``)."""

    header_timeout_s = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_due: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._headers_due is None:
            self._headers_due = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_late(self) -> None:
        self._headers_due = None
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a request on a kept-alive connection gets its own deadline

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def serve_config(app, settings, port: int | None = None, **kw):
    """The ``uvicorn.Config`` of ``strikewatch api``: the header deadline, X-Forwarded-* believed only from
    ``settings.trusted_proxies`` (uvicorn's default believes 127.0.0.1: any local process could pose as any
    client address, and so escape the per-address throttle of wrong keys)."""
    import uvicorn

    proxies = settings.trusted_proxies.strip()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=port or settings.port,
        http=HeaderDeadline,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        timeout_keep_alive=KEEP_ALIVE_S,
        access_log=settings.access_log,
        # /v1/stream responses never end by themselves; 5 s lets other requests finish, then they are
        # closed (clients reconnect and resume).
        timeout_graceful_shutdown=5,
        **{"log_level": "info", **kw},
    )

"""Hostile servers and feeds against the connectors, on loopback; prints one JSON object.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_hostile.py [--bomb-gib 2] [--trickle-s 0.5]

Uses only the connectors' public API (``Fetcher.get``, ``Fetcher.allowed_by_robots``, ``parse_feed``), so
the same script measures an older tree (``PYTHONPATH=/path/to/old/tree``) for a before/after table:

* ``gzip_bomb``: 1 GiB of zeros gzipped once (~1 MB): outcome, seconds, peak RSS;
* ``bomb``: a body gzipped twice (``Content-Encoding: gzip, gzip``) that inflates to ``--bomb-gib`` GiB:
  outcome, seconds, and the process's peak RSS (ru_maxrss; the bomb is built by streaming, in < 20 MB);
* ``trickle``: response headers sent one byte every ``--trickle-s`` seconds, with a 5 s fetch deadline;
* ``robots_5xx_allows``: whether a robots.txt answered 503 lets a page be fetched;
* ``guard``: what the SSRF guard says to names answering 100.64.0.1 and fec0::1;
* ``hostile_feed_s``: seconds to parse an RSS feed whose two descriptions hold "<a" x 60,000 (234 KiB).

Numbers measured while other jobs run are noisy; the outcomes are not.
"""

from __future__ import annotations

import argparse
import json
import resource
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Size of the zero chunks fed to the compressor while building the bomb (bounds the builder's memory).
BUILD_CHUNK = 8 * 1024 * 1024


def gzip_stream(chunks) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(z.compress(c) for c in chunks) + z.flush()


def double_gzip_bomb(gib: float) -> bytes:
    inner = gzip_stream(b"\0" * BUILD_CHUNK for _ in range(int(gib * 1024**3 // BUILD_CHUNK)))
    return gzip_stream([inner])


def hostile_feed(n: int = 60_000) -> bytes:
    items = "".join(
        f"<item><title>t{i}</title><link>https://news.example/{i}</link>"
        f"<description><![CDATA[{'<a' * n}]]></description></item>"
        for i in range(2)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bomb-gib", type=float, default=2.0)
    ap.add_argument("--trickle-s", type=float, default=0.5)
    args = ap.parse_args()
    bomb = double_gzip_bomb(args.bomb_gib)
    single = gzip_stream(b"\0" * BUILD_CHUNK for _ in range(1024**3 // BUILD_CHUNK))  # 1 GiB of zeros, gzipped once
    trickle_s = args.trickle_s

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle(self):
            try:
                super().handle()
            except ConnectionResetError:  # the fetcher hung up on a refused body: expected
                pass

        def do_GET(self):
            if self.path in ("/bomb", "/gzip-bomb"):
                body = bomb if self.path == "/bomb" else single
                self.send_response(200)
                self.send_header("Content-Encoding", "gzip, gzip" if self.path == "/bomb" else "gzip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/trickle":
                raw = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 100 + b"\r\nContent-Length: 2\r\n\r\nok"
                for i in range(len(raw)):
                    try:
                        self.wfile.write(raw[i : i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(trickle_s)
            else:  # robots.txt and anything else: a server error
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"

    from connectors.errors import ConnectorError
    from connectors.feeds import parse_feed
    from connectors.fetch import Fetcher

    out: dict = {"bomb_bytes": len(bomb), "bomb_inflates_to_gib": args.bomb_gib}
    f = Fetcher("bench", "127.0.0.1/32", host_interval_s=0, deadline_s=5)
    # ru_maxrss only grows: the smaller bomb goes first, so each peak is its own.
    for name, path in (("gzip_bomb", "/gzip-bomb"), ("bomb", "/bomb"), ("trickle", "/trickle")):
        t0 = time.monotonic()
        try:
            f.get(base + path)
            outcome = "fetched"
        except ConnectorError as e:
            outcome = e.reason
        out[name] = {"outcome": outcome, "seconds": round(time.monotonic() - t0, 2)}
        if name.endswith("bomb"):
            out[name]["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["robots_5xx_allows"] = f.allowed_by_robots(base + "/news/1")
    out["guard"] = {}
    for ip in ("100.64.0.1", "fec0::1"):
        g = Fetcher("bench", None, resolver=lambda host, port, type=0, ip=ip: [(0, 0, 0, "", (ip, port))])
        try:
            g.check_url("http://innocent.example/feed")
            out["guard"][ip] = "passes"
        except ConnectorError as e:
            out["guard"][ip] = e.reason
    body = hostile_feed()
    t0 = time.perf_counter()
    parse_feed(body, "bench")
    out["hostile_feed_kib"] = len(body) // 1024
    out["hostile_feed_s"] = round(time.perf_counter() - t0, 3)
    srv.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

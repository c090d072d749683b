"""Slow-header (slowloris) connections against the API: what they cost everyone else.

    PYTHONPATH=. .venv/bin/python bench/bench_slow_headers.py [--attackers 200] [--seconds 20] [--byte-every 0.5]

Starts the API app in a process of its own (no database needed: /healthz) with
`strikewatch.services.httpserver.serve_config`, as `strikewatch api` runs it, on a free port; opens N connections
(asyncio, in this process) that each send a request line and then one header byte every --byte-every
seconds, never ending their headers, reopening any the server closes; meanwhile a client asks /healthz
every 0.2 s on fresh connections. Prints JSON: /healthz latency p50/p99/max (ms) and failures, how many
attacker connections the server had closed by the end, and when (seconds after they opened).

--plain runs uvicorn as it was configured before issue 20 (no header deadline), for the before column.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


SERVER = """
import sys, uvicorn
from strikewatch.services.api import create_app
from strikewatch.services.httpserver import serve_config
from strikewatch.core.settings import ApiSettings

class NoSubscriptions:
    def list(self, owner):
        return []

port, plain = int(sys.argv[1]), sys.argv[2] == "plain"
settings = ApiSettings(api_keys="k=o")
app = create_app(settings, NoSubscriptions())
if plain:  # as `strikewatch api` ran uvicorn before issue 20
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off",
                            timeout_graceful_shutdown=5)
else:
    config = serve_config(app, settings, port=port, log_level="error", lifespan="off")
uvicorn.Server(config).run()
"""


async def attack(port: int, n: int, byte_every: float, seconds: float, closed: list[float]) -> None:
    """n connections, each a request line then one header byte every ``byte_every`` s; a connection the
    server closes is reopened (a real attacker keeps its count up)."""
    import asyncio

    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def one():
        while loop.time() < end:
            t0 = loop.time()
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                while loop.time() < end:
                    writer.write(b"a")
                    await writer.drain()
                    if reader.at_eof() or writer.is_closing():
                        raise ConnectionResetError
                    try:
                        data = await asyncio.wait_for(reader.read(1), byte_every)
                        if data == b"" or data:
                            raise ConnectionResetError  # the server answered (408) or closed
                    except TimeoutError:
                        pass
                writer.close()
                return
            except OSError:
                closed.append(loop.time() - t0)
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one() for _ in range(n)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attackers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--byte-every", type=float, default=0.5)
    ap.add_argument("--plain", action="store_true", help="uvicorn as configured before issue 20 (no deadline)")
    args = ap.parse_args(argv)
    import asyncio
    import os
    import subprocess

    import httpx

    from strikewatch.core.procs import free_port

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), "plain" if args.plain else "config"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        closed: list[float] = []
        attacker = threading.Thread(
            target=lambda: asyncio.run(attack(port, args.attackers, args.byte_every, args.seconds + 2, closed)),
            daemon=True,
        )
        attacker.start()
        time.sleep(2)  # the connections open
        latencies, failures = [], 0
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10, trust_env=False).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - t0) * 1000)
            else:
                failures += 1
            time.sleep(0.2)
        attacker.join(30)
    finally:
        server.terminate()
        server.wait(30)
    latencies.sort()
    print(
        json.dumps(
            {
                "config": "plain uvicorn (before)" if args.plain else "serve_config (after)",
                "attackers": args.attackers,
                "byte_every_s": args.byte_every,
                "healthz_requests": len(latencies) + failures,
                "healthz_failures": failures,
                "healthz_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
                "healthz_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None,
                "healthz_ms_max": round(latencies[-1], 1) if latencies else None,
                "attacker_connections_closed_by_server": len(closed),
                "closed_after_s_median": round(statistics.median(closed), 1) if closed else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""/v1/stream fan-out: what N open streams cost other requests while the store writes incidents.

    PYTHONPATH=. .venv/bin/python bench/bench_stream.py [--streams 500] [--writes 60] [--rate 5]

Needs the local PostgreSQL and Kafka (`strikewatch up`). Starts `strikewatch api` from --tree (this one by
default; another checkout for the before column) on a fresh database of 2,000 incidents, with 50
keys; opens N streams spread over the keys (asyncio, raw HTTP/1.1), then writes --writes new incidents at
--rate per second, one transaction each, while another key asks GET /v1/incidents?limit=1 every 0.1 s.
Prints JSON: that request's p50/p99/max latency (ms) during the writes, the events the streams received
(of N x writes), and the API process's CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEYS = 50


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def stream(port: int, key: str, counts: list, opened: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /v1/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    opened.append(status.split()[1] == b"200")
    try:
        while line := await reader.readline():
            if line.startswith(b"data: "):
                counts[0] += 1
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def run(port: int, args, dsn: str) -> dict:
    import httpx
    import psycopg

    from strikewatch.services.store import db
    from strikewatch.services.store import synthetic as R

    counts, opened = [0], []
    tasks = [asyncio.create_task(stream(port, f"key{n % KEYS}", counts, opened)) for n in range(args.streams)]
    while len(opened) < args.streams:
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)  # every stream subscribed and listening
    latencies: list[float] = []
    done = asyncio.Event()

    async def probe():
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": "probe"}, trust_env=False, timeout=30
        ) as http:
            while not done.is_set():
                t0 = time.perf_counter()
                r = await http.get("/v1/incidents?limit=1")
                assert r.status_code == 200, r.text
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.1)

    prober = asyncio.create_task(probe())
    conn = psycopg.connect(dsn, autocommit=True)

    def write(i: int) -> None:  # as the store writes: one transaction, NOTIFY in it
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, [R.incident(100_000 + i)], db.WriteResult())

    for i in range(args.writes):
        await asyncio.to_thread(write, i)
        await asyncio.sleep(1 / args.rate)
    await asyncio.sleep(3)
    done.set()
    await prober
    conn.close()
    for t in tasks:
        t.cancel()
    latencies.sort()
    return {
        "streams_opened": sum(opened),
        "events_received": counts[0],
        "events_expected": sum(opened) * args.writes,
        "probe_ms_p50": round(statistics.median(latencies), 1),
        "probe_ms_p99": round(latencies[int(0.99 * (len(latencies) - 1))], 1),
        "probe_ms_max": round(latencies[-1], 1),
        "probe_requests": len(latencies),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=500)
    ap.add_argument("--writes", type=int, default=60)
    ap.add_argument("--rate", type=float, default=5.0, help="incidents written per second")
    ap.add_argument("--tree", default=str(ROOT), help="the source tree whose `strikewatch api` to run (before/after)")
    args = ap.parse_args(argv)
    import httpx
    import psycopg

    from strikewatch.core.procs import free_port
    from strikewatch.core.settings import ApiSettings
    from strikewatch.devstack.postgres import ensure_database
    from strikewatch.services.store import db
    from strikewatch.services.store import synthetic as R

    s = ApiSettings()
    name = f"benchstream_{uuid.uuid4().hex[:8]}"
    ensure_database(s, name)
    dsn = s.postgres_dsn(name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        with conn.transaction(), conn.cursor() as cur:
            db.write_batch(cur, [R.incident(i) for i in range(2000)], db.WriteResult())
    port = free_port()
    keys = ",".join([f"key{n}=owner{n}" for n in range(KEYS)] + ["probe=probe"])
    env = {
        **os.environ,
        "PYTHONPATH": args.tree,
        "STRIKEWATCH_PORT": str(port),
        "STRIKEWATCH_POSTGRES_DB": name,
        "STRIKEWATCH_API_KEYS": keys,
        "STRIKEWATCH_WEBHOOK_HMAC_SECRET": uuid.uuid4().hex,
        "STRIKEWATCH_RATE_LIMIT_PER_S": "1000000",
        "STRIKEWATCH_RATE_LIMIT_BURST": "1000000",
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "api"],
        env=env,
        cwd=args.tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                assert api.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        cpu0 = cpu_s(api.pid)
        out = asyncio.run(run(port, args, dsn))
        out["api_cpu_s"] = round(cpu_s(api.pid) - cpu0, 2)
    finally:
        api.terminate()
        api.wait(30)
        with psycopg.connect(s.postgres_dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "tree": args.tree,
                "streams": args.streams,
                "writes": args.writes,
                "rate": args.rate,
                **out,
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

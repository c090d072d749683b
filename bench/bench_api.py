"""Read API benchmark: latency of filtered pages with N incidents in the store and C
concurrent clients (wrk, Debian package), against `strikewatch api` as it runs.

    PYTHONPATH=. .venv/bin/python bench/bench_api.py [--incidents 100000] [--clients 50] [--seconds 30]

Needs the local PostgreSQL (`strikewatch up`) and Kafka (the app's subscription store). Fills a
fresh database with N incidents over ~240 countries, 60 actors and two years (skipped with
--database NAME of a filled one), starts `strikewatch api` on a free port, then runs wrk with
C connections cycling through filtered first pages and deeper cursor pages (limit 50). Prints
JSON: requests/s, p50/p90/p99 latency in ms (wrk's latency distribution), non-2xx count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import incident, world  # noqa: E402

from strikewatch.core.settings import ApiSettings  # noqa: E402

# Filtered first pages, as the web app and API users ask for them; a cursor is added to some.
QUERIES = [
    "country=Iraq",
    "country=SY,YE",
    "event_type=drone_strike&min_severity=0.5",
    "bbox=30,25,50,40",
    "actor=Armed%20group%207",
    "since=2024-06-01&until=2024-09-01",
    "min_sources=2&country=UA",
    "event_type=air_strike&country=SS",
    "min_severity=0.9",
    "bbox=-20,-10,40,20&event_type=shelling",
    "",
    "actor=Armed%20group%2012&since=2025-01-01",
]
# The bench key's rate limit (requests/s): far above anything 50 clients reach on 2 cores.
BENCH_KEY_RATE_PER_S = 1_000_000
WRK_LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["X-API-Key"] = "%s"})
end
"""


def cpu_s(pids) -> float:
    """User + system CPU seconds of these processes so far (0 for any that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / tick


def backends(database: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to ``database`` (their titles name it)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                title = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                out.append(int(d.name))
    return out


def fill(dsn: str, n: int) -> float:
    import psycopg

    from strikewatch.services.store import db

    places, actors = world()
    rnd = random.Random(11)
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        for start in range(0, n, 2000):
            recs = [
                incident(i, 1 if i % 3 == 0 else 0, places, actors, rnd) for i in range(start, min(n, start + 2000))
            ]
            with conn.transaction(), conn.cursor() as cur:
                db.write_batch(cur, recs, db.WriteResult())
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--database", default=None, help="an already filled database")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    import httpx
    import psycopg

    from strikewatch.core.procs import free_port
    from strikewatch.devstack.postgres import ensure_database

    s = ApiSettings()
    name = args.database or f"benchapi_{uuid.uuid4().hex[:8]}"
    ensure_database(s, name)
    dsn = s.postgres_dsn(name)
    fill_s = fill(dsn, args.incidents) if not args.database else 0.0
    with psycopg.connect(dsn) as conn:
        stored = conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    port = free_port()
    env = {
        **os.environ,
        "STRIKEWATCH_PORT": str(port),
        "STRIKEWATCH_POSTGRES_DB": name,
        "STRIKEWATCH_API_KEYS": "bench-key=bench",
        # Not the dev secret, which `strikewatch api` refuses without --dev (and the bench uses no webhook).
        "STRIKEWATCH_WEBHOOK_HMAC_SECRET": uuid.uuid4().hex,
        # One key drives every client here: its 5 requests/s default would answer nearly all with 429.
        "STRIKEWATCH_RATE_LIMIT_PER_S": str(BENCH_KEY_RATE_PER_S),
        "STRIKEWATCH_RATE_LIMIT_BURST": str(BENCH_KEY_RATE_PER_S),
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "strikewatch.cli", "api"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if api.poll() is not None:
                raise SystemExit(f"strikewatch api exited with {api.returncode} (run it by hand to see why)")
            try:
                if httpx.get(base + "/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        paths = []
        with httpx.Client(base_url=base, headers={"X-API-Key": "bench-key"}, trust_env=False, timeout=30) as http:
            for q in QUERIES:
                r = http.get(f"/v1/incidents?{q}&limit=50")
                assert r.status_code == 200, (q, r.status_code, r.text[:200])
                paths.append(f"/v1/incidents?{q}&limit=50")
                for _ in range(3):  # and three pages down
                    cur = r.json()["next_cursor"]
                    if not cur:
                        break
                    r = http.get(f"/v1/incidents?{q}&limit=50&cursor={cur}")
                paths.append(str(r.request.url.raw_path, "ascii"))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(WRK_LUA % (", ".join(json.dumps(p) for p in paths), "bench-key"))
            script = f.name
        load_before = os.getloadavg()  # other jobs; the load during the run counts the bench itself
        api_cpu0, pg_cpu0 = cpu_s([api.pid]), cpu_s(backends(name))
        usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.clients}", f"-d{args.seconds}s", "--latency", "-s", script, base],
            capture_output=True,
            text=True,
            timeout=args.seconds + 60,
        ).stdout
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child that ended meanwhile
        api_cpu, pg_cpu = cpu_s([api.pid]) - api_cpu0, cpu_s(backends(name)) - pg_cpu0
        wrk_cpu = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime
        load = os.getloadavg()
        os.unlink(script)
    finally:
        api.terminate()
        api.wait(30)
        if not args.keep and not args.database:
            with psycopg.connect(s.postgres_dsn("postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    def ms(label: str) -> float | None:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)], 1)

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    n_req = int(total.group(1)) if total else 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    print(
        json.dumps(
            {
                "incidents": stored,
                "clients": args.clients,
                "seconds": args.seconds,
                "fill_s": round(fill_s, 1),
                "paths": len(paths),
                "requests_per_s": float(rps.group(1)) if rps else None,
                "p50_ms": ms("50"),
                "p90_ms": ms("90"),
                "p99_ms": ms("99"),
                "non_2xx": int(non2xx.group(1)) if non2xx else 0,
                # CPU per request, from /proc: less sensitive to other jobs on the machine than latency.
                "cpu_ms_per_request": {
                    k: round(1000 * v / n_req, 2) if n_req else None
                    for k, v in (("api", api_cpu), ("postgres", pg_cpu), ("wrk", wrk_cpu))
                },
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in load],
                "database": name if args.keep or args.database else None,
            }
        )
    )
    if not rps:
        print(out, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The local PostgreSQL of the incident store, run from Debian's binaries (package
``postgresql``, installed by ``scripts/setup.sh``) the way ``strikewatch/devstack/stack.py`` runs Kafka:

    .stack/postgres/data/            the cluster (initdb), owned by the ``postgres`` user when run as root
    .stack/postgres/data/strikewatch.conf   port, listen address, buffers: rewritten on every start
    .stack/postgres/postgres.log     the server log

``start_postgres`` is idempotent (a server answering on the port is reused) and creates the
database; ``stop_postgres`` is ``pg_ctl stop -m fast`` (a clean shutdown). PostgreSQL refuses
to run as root, so as root both run the binaries as the ``postgres`` system user the Debian
package creates.
"""

from __future__ import annotations

import logging
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from strikewatch.core.errors import StackError
from strikewatch.core.procs import port_open
from strikewatch.core.settings import StackSettings

log = logging.getLogger(__name__)

# Seconds pg_ctl waits for the server to accept connections: a fresh cluster starts in
# ~1 s here (initdb adds ~2 s); 60 s leaves room on a loaded CI box.
PG_START_TIMEOUT_S = 60
# A fast shutdown of the small local cluster takes < 1 s; pg_ctl waits this long.
PG_STOP_TIMEOUT_S = 30
SYSTEM_USER = "postgres"


@dataclass(frozen=True)
class PgPaths:
    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "postgres"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def logfile(self) -> Path:
        return self.dir / "postgres.log"


def bindir() -> Path:
    """Directory of initdb/pg_ctl: the newest /usr/lib/postgresql/N/bin, else PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(re.sub(r"\D", "", p.parent.parent.name) or 0),
    )
    if found:
        return found[-1].parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).parent
    raise StackError(
        "PostgreSQL binaries not found (initdb, pg_ctl): run scripts/setup.sh (apt-get install postgresql)"
    )


def _user() -> str | None:
    """The user to run the server as: ``postgres`` when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError as e:
        raise StackError(
            f"running as root and there is no {SYSTEM_USER!r} user: apt-get install postgresql creates it"
        ) from e
    return SYSTEM_USER


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    user = _user()
    # Drop root's groups too: with gid 0 kept, the server could not read its own 0600 files in a
    # clone under /tmp (initdb: "could not open file .pwfile: Permission denied").
    ids = {"user": user, "group": user, "extra_groups": []} if user else {}
    try:
        return subprocess.run(
            argv, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd="/", **ids, **kw
        )
    except subprocess.CalledProcessError as e:
        raise StackError(
            f"{Path(argv[0]).name} failed ({e.returncode}): {(e.stderr or e.stdout).strip()[-2000:]}"
        ) from e


def _own(path: Path) -> None:
    user = _user()
    if user:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _ensure_traversable(path: Path) -> None:
    """As root, the server runs as ``postgres``, which must be able to reach the data directory:
    give search permission (``o+x``, not read) to any ancestor that lacks it (a clone under a
    ``mktemp -d`` folder is 0700)."""
    if _user() is None:
        return
    for d in [path, *path.parents]:
        mode = d.stat().st_mode
        if not mode & 0o001:
            log.warning("giving %s search permission (o+x) so the postgres user reaches %s", d, path)
            d.chmod(mode | 0o001)


def _conf(s: StackSettings) -> str:
    return "\n".join(
        [
            f"port = {s.postgres_port}",
            f"listen_addresses = '{s.postgres_host}'",
            "unix_socket_directories = ''",  # TCP only: no socket in /var/run, nothing to clean up
            f"shared_buffers = '{s.postgres_shared_buffers}'",
            # 50 API clients share one pool of 4 (strikewatch/services/web/routes.py), the store holds 2,
            # tests a few: 100 (the default) is plenty.
            "max_connections = 100",
            "",
        ]
    )


def _initdb(s: StackSettings, paths: PgPaths) -> None:
    paths.dir.mkdir(parents=True, exist_ok=True)
    _ensure_traversable(paths.dir.parent)
    _own(paths.dir)
    pwfile = paths.dir / ".pwfile"
    pwfile.write_text(s.postgres_password.get_secret_value() + "\n")
    pwfile.chmod(0o600)
    _own(pwfile)
    try:
        _run(
            [
                str(bindir() / "initdb"),
                "-D",
                str(paths.data),
                "-U",
                s.postgres_user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
    finally:
        pwfile.unlink(missing_ok=True)
    with (paths.data / "postgresql.conf").open("a") as f:
        f.write("\ninclude_if_exists = 'strikewatch.conf'\n")


def start_postgres(s: StackSettings) -> bool:
    """Start the local server unless one answers on the port; create the database. Returns
    True if it started one."""
    paths = PgPaths(s.stack_dir)
    started = False
    if port_open(s.postgres_host, s.postgres_port):
        log.info("PostgreSQL already listening on %s:%d", s.postgres_host, s.postgres_port)
    else:
        if not (paths.data / "PG_VERSION").exists():
            _initdb(s, paths)
        conf = paths.data / "strikewatch.conf"
        conf.write_text(_conf(s))
        _own(conf)
        if not paths.logfile.exists():
            paths.logfile.touch()
            _own(paths.logfile)
        # A server SIGKILLed leaves its pid file; pg_ctl checks the pid and starts anyway.
        _run(
            [
                str(bindir() / "pg_ctl"),
                "-D",
                str(paths.data),
                "-l",
                str(paths.logfile),
                "-w",
                "-t",
                str(PG_START_TIMEOUT_S),
                "start",
            ],
            start_new_session=True,
        )  # the postmaster outlives the CLI; `strikewatch down` stops it
        started = True
    ensure_database(s)
    return started


def ensure_database(s: StackSettings, name: str | None = None) -> None:
    """CREATE DATABASE unless it exists (idempotent)."""
    import psycopg
    from psycopg import sql

    name = name or s.postgres_db
    with psycopg.connect(s.postgres_dsn("postgres"), autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop_postgres(s: StackSettings) -> bool:
    paths = PgPaths(s.stack_dir)
    if not (paths.data / "postmaster.pid").exists():
        return False
    try:
        _run(
            [str(bindir() / "pg_ctl"), "-D", str(paths.data), "-m", "fast", "-w", "-t", str(PG_STOP_TIMEOUT_S), "stop"]
        )
    except StackError as e:
        if "Is server running?" in str(e) or "No such process" in str(e):
            return False
        raise
    return True

"""Processes and ports on this machine, read from /proc and the socket API.

The job stops the Prism child Beam started for it (``pipeline/main.py``), and the local
stack starts, finds and stops its own servers (``strikewatch/devstack/``): both use these,
so they live in the core, below either.
"""

from __future__ import annotations

import socket
from pathlib import Path


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def child_pids(pid: int | str = "self", name: str | None = None) -> list[int]:
    """Live (not zombie) child processes of ``pid``, from /proc, only those whose command
    is ``name`` if given. Every thread's list: a child started from another thread is
    listed only under that thread."""
    kids: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids.update(int(c) for c in (task / "children").read_text().split())
        except OSError:  # the thread ended meanwhile
            continue
    return sorted(k for k in kids if pid_alive(k) and (name is None or _comm(k) == name))


def _comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # exited meanwhile
        return None


def pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

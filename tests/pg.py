"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, pg_ctl on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """Lives in its own /tmp directory: as root it must be reachable by the postgres user."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="leasehub-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.initdb = find_bin("initdb")
        self.pg_ctl = find_bin("pg_ctl")
        # PostgreSQL refuses to run as root: run it as the `postgres` system user then.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        if self.as_user:
            shutil.chown(self.base, user="postgres")
        self._run(
            str(self.initdb),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            # Every statement is logged so a test can see what really reached the server.
            "-c log_statement=all"
        )
        self._run(
            str(self.pg_ctl),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.base / "server.log"),
            "-w",
            "start",
        )
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"
        return self.url

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def restart(self) -> None:
        """`pg_ctl restart` in fast mode (open connections are cut), back when it accepts again."""
        self._run(
            str(self.pg_ctl),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    def stop(self) -> None:
        try:
            self._run(str(self.pg_ctl), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

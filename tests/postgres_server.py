"""A real PostgreSQL server for one test module: Debian's packages, a temporary directory, a Unix
socket only (no TCP), started and stopped here. See ../shared/docs/environment.md.

The server refuses to run as root, and CI runs as root: then every server command runs as the
`postgres` user the package creates, on a directory it owns.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER = "tester"


def server_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


class PostgresError(Exception):
    """psql said no: its message, for the test's failure."""


class PostgresServer:
    """`initdb`, `pg_ctl start` and `stop`; `run(sql)` through psql, rows back as lists."""

    def __init__(self, bin_dir: Path) -> None:
        self._bin = bin_dir
        # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="chatlio-pg-"))
        self._as_server: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self._as_server = ["runuser", "-u", "postgres", "--"]
        self.data = self.root / "data"
        self.port = _free_port()  # only names the socket file: no TCP is listened on

    def start(self) -> PostgresServer:
        self._server("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync")
        options = f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off"
        log = str(self.root / "server.log")
        self._server("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._server("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def run(self, sql: str) -> list[list[str]]:
        """Run `sql` (stopping at the first error); the last statement's rows, as text."""
        result = subprocess.run(
            [
                str(self._bin / "psql"),
                "-h", str(self.root), "-p", str(self.port), "-U", USER, "-d", "postgres",
                "-X", "-q", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-F", "\t",
            ],
            input=sql,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise PostgresError(result.stderr.strip())
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def _server(self, program: str, *args: str) -> None:
        command = [*self._as_server, str(self._bin / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise PostgresError(f"{program} failed: {result.stderr.strip()}\n{tail}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

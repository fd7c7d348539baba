"""A PostgreSQL cluster of a spec's own, made with initdb and driven with pg_ctl, so that a spec
may stop, restart or cripple it without touching the server every other spec shares.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
`postgres` account and every pg_ctl runs as it, through runuser.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.api.server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
# Nothing a spec writes needs to survive a crash of the machine, so the cluster skips fsync: a
# crash of PostgreSQL alone (an immediate stop) loses nothing, as the operating system still
# holds every write. Commits stay synchronous, which is what such a crash does test: a commit
# acknowledged before its WAL was written would be lost with the server's memory.
_OPTIONS = "-c fsync=off -c full_page_writes=off -c max_connections=200"


class Cluster:
    """One private cluster on a loopback port, trusted without a password."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.data = directory / "data"
        self.port = port
        self.url = f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
        self._owner = "postgres" if os.geteuid() == 0 else None

    def initdb(self) -> None:
        self._run(BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        self._pg_ctl("start", "-w", "-t", "30", "-l", self.directory / "server.log")
        self.wait_until_ready()

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-w", "-t", "30", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("restart", "-w", "-t", "30", "-m", mode, "-l", self.directory / "server.log")
        self.wait_until_ready()

    def is_running(self) -> bool:
        status = subprocess.run(
            self._as_owner(BIN / "pg_ctl", "status", "-D", self.data),
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def wait_until_ready(self, within: float = 30.0) -> None:
        """Until the cluster accepts a query: pg_ctl's -w returns once the postmaster answers,
        which after a crash restart may still be before recovery has finished."""
        deadline = time.monotonic() + within
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _pg_ctl(self, action: str, *args: object) -> None:
        self._run(BIN / "pg_ctl", action, "-D", self.data, "-o", self._server_options(), *args)

    def _server_options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} {_OPTIONS}"
        )

    def _run(self, *command: object) -> None:
        done = subprocess.run(self._as_owner(*command), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(map(str, command[:2]))} failed: "
                f"{done.stdout.decode()}{done.stderr.decode()}"
            )

    def _as_owner(self, *command: object) -> list[str]:
        words = [str(word) for word in command]
        return words if self._owner is None else ["runuser", "-u", self._owner, "--", *words]


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A fresh cluster, started; stopped and removed afterwards, however the spec ends."""
    # Not under pytest's tmp_path: that is private to root, and the cluster's owner must write.
    directory = Path(tempfile.mkdtemp(prefix="trustledger-pg-"))
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(directory, postgres.pw_uid, postgres.pw_gid)
    cluster = Cluster(directory, free_port())
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)

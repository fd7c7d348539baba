"""The service as it runs in production, for the fault specs: API processes (`trustledger serve`)
and projection workers (`trustledger project`) as real processes, killed and starved as real
processes are, against a PostgreSQL of their own or a fresh schema of the shared one.

Every process of one ledger shares its signing keys, made here before any starts (two processes
generating them at once would each sign with their own)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.directory import add_admin
from api.security import audit_signer, load_signing_key
from api.settings import Settings
from domain.application import Trustledger
from tests.api.client import PASSWORD, Client
from tests.api.conftest import ADMIN_EMAIL, _people
from tests.api.server import free_port
from tests.conftest import settings_for
from tests.faults.cluster import Cluster, private_cluster

ROOT = Path(__file__).resolve().parents[2]
# The bound on anything a fault spec waits for: long enough for a loaded CI machine, short
# enough that a service that never recovers fails the spec rather than hanging the run.
PATIENCE = 30.0


def eventually(condition: Callable[[], bool], what: str, within: float = PATIENCE) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a `trustledger` process reads these settings from."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTLEDGER_")}
    env |= {
        "TRUSTLEDGER_VAR_DIR": str(settings.var_dir),
        "TRUSTLEDGER_DATABASE_SCHEMA": settings.database_schema,
        # Signing on a timer would write to the database in the middle of a fault.
        "TRUSTLEDGER_AUDIT_CHECKPOINT_SECONDS": "0",
        "TRUSTLEDGER_POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
    }
    if settings.database_url is not None:
        env["TRUSTLEDGER_DATABASE_URL"] = settings.database_url
    return env | extra


class Process:
    """A `trustledger` command run as its own process, its output in a file."""

    def __init__(self, log: Path, env: dict[str, str], *args: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def said(self, words: str) -> bool:
        return words in self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no lock is released but by the operating system."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Api(Process):
    """`trustledger serve` on a free port."""

    def __init__(self, log: Path, settings: Settings, *args: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        super().__init__(log, environment(settings), "serve", "--port", port, *args)

    def wait_until_serving(self) -> None:
        # Importing the service takes seconds, and more on a machine busy with other tests.
        eventually(self._serving, f"the API on {self.url} to serve", within=2 * PATIENCE)

    def _serving(self) -> bool:
        if not self.alive():
            raise AssertionError(f"the API process died:\n{self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/health", timeout=5).status_code == 200
        except httpx.TransportError:
            return False


class ProjectionWorkers(Process):
    """`trustledger project` for every view (or those named), active or standing by."""

    def __init__(self, log: Path, settings: Settings, *args: str) -> None:
        super().__init__(log, environment(settings), "project", *args)


@dataclass
class Ledger:
    """A ledger ready for processes to serve: its settings, keys and first admin."""

    settings: Settings
    tmp: Path
    processes: list[Process]

    def api(self, name: str = "api") -> Api:
        [api] = self.apis(name)
        return api

    def apis(self, *names: str, args: tuple[str, ...] = ()) -> list[Api]:
        """API processes started together, so that their start-ups overlap; once all serve."""
        apis = [Api(self.tmp / f"{name}.log", self.settings, *args) for name in names]
        self.processes.extend(apis)
        for api in apis:
            api.wait_until_serving()
        return apis

    def workers(self, name: str, *args: str) -> ProjectionWorkers:
        workers = ProjectionWorkers(self.tmp / f"{name}.log", self.settings, *args)
        self.processes.append(workers)
        return workers

    def people(self, url: str) -> dict[str, Any]:
        """Sandwell's council and trust, with their commissioner and provider signed in."""
        admin = Client.signed_in(url, ADMIN_EMAIL)
        return _people(
            admin,
            url,
            "Sandwell Metropolitan Borough Council",
            "333",
            "E08000028",
            "Sandwell Children's Trust",
        )

    def connect(self) -> psycopg.Connection[Any]:
        """A connection to the ledger's schema, to check what it stores behind the API."""
        assert self.settings.database_url is not None
        connection = psycopg.connect(self.settings.database_url, autocommit=True)
        connection.execute(f'SET search_path TO "{self.settings.database_schema}"')
        return connection


@contextmanager
def ready_ledger(settings: Settings, tmp: Path) -> Iterator[Ledger]:
    load_signing_key(None, None, settings.var_dir / "token-signing-key.pem")
    audit_signer(settings)
    ledger = Trustledger(settings.ledger_env())
    try:
        add_admin(ledger, ADMIN_EMAIL, "Operator", PASSWORD)
    finally:
        ledger.close()
    ready = Ledger(settings, tmp, [])
    try:
        yield ready
    finally:
        for process in ready.processes:
            process.stop()


@pytest.fixture(scope="module")
def shared_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """A fresh schema of the PostgreSQL every spec shares, for the specs of one module that
    only load it; they start their processes once, as starting one takes seconds."""
    tmp = tmp_path_factory.mktemp("shared")
    for settings in settings_for("postgres", tmp):
        with ready_ledger(settings, tmp) as ledger:
            yield ledger


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def private_postgres(
    cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """A ledger on the module's own cluster, which its specs may stop, restart and cripple."""
    tmp = tmp_path_factory.mktemp("private")
    settings = Settings(database_url=cluster.url, var_dir=tmp)
    with ready_ledger(settings, tmp) as ledger:
        yield ledger


# -- load, and what it leaves behind -------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP answer to one attempt at a write."""

    key: str
    status: int
    headers: httpx.Headers
    body: Any


class Load:
    """Clients writing through the API in threads until stopped. Each write has its own
    Idempotency-Key and is tried again under it after a 503 (as a client told to retry does),
    until it gets another answer or the load stops."""

    def __init__(self, write: Callable[[str], httpx.Response], clients: int) -> None:
        self._write = write
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.answers: list[Answer] = []
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        while not self._stopping.is_set():
            key = uuid.uuid4().hex
            while True:
                response = self._write(key)
                body = response.json() if response.content else None
                with self._lock:
                    self.answers.append(Answer(key, response.status_code, response.headers, body))
                if response.status_code != 503 or self._stopping.is_set():
                    break

    def seen(self, status: int, after: int = 0) -> bool:
        with self._lock:
            return any(a.status == status for a in self.answers[after:])

    def count(self) -> int:
        with self._lock:
            return len(self.answers)

    def stop(self) -> list[Answer]:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=PATIENCE)
            assert not thread.is_alive(), "a client is still waiting for an answer"
        return self.answers


def assert_nothing_half_written(connection: psycopg.Connection[Any]) -> None:
    """Every event has its audit leaf and every leaf its event, the leaves are numbered without
    a gap, and every idempotency record points at events that are stored. (The library names
    the events' table after the application; `audit_leaves` is the view of the leaves the
    recorder keeps a row per transaction in `audit_batches`.)"""
    events = connection.execute("SELECT count(*) FROM trustledger_events").fetchone()
    leaves = connection.execute(
        "SELECT count(*), coalesce(max(leaf_index) + 1, 0) FROM audit_leaves"
    ).fetchone()
    assert events is not None
    assert leaves is not None
    assert leaves[0] == leaves[1], "the audit log has a gap"
    unlogged = connection.execute(
        "SELECT count(*) FROM trustledger_events e "
        "LEFT JOIN audit_leaves l USING (notification_id) WHERE l.leaf_index IS NULL"
    ).fetchone()
    orphans = connection.execute(
        "SELECT count(*) FROM audit_leaves l "
        "LEFT JOIN trustledger_events e USING (notification_id) WHERE e.originator_id IS NULL"
    ).fetchone()
    assert unlogged == (0,), "an event is missing from the audit log"
    assert orphans == (0,), "a leaf has no event"
    assert events[0] == leaves[0]
    dangling = connection.execute(
        "SELECT count(*) FROM idempotent_writes w LEFT JOIN trustledger_events e "
        "ON e.originator_id = w.aggregate_id AND e.originator_version = w.version "
        "WHERE e.notification_id IS NULL OR w.position NOT IN "
        "(SELECT notification_id FROM trustledger_events)"
    ).fetchone()
    assert dangling == (0,), "an idempotency record names events that are not stored"

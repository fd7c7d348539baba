"""Projection workers as the processes they run as (`trustledger project`), killed as processes
die: a rebuild killed half way resumes to the same rows, and a standby takes over from an active
worker killed outright. On PostgreSQL the lock is an advisory lock; on SQLite a file lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from api.settings import Settings
from domain.application import Trustledger
from projections.dashboard_view import DASHBOARD
from projections.view_store import Versions, ViewStore, view_store
from tests.projections.builders import with_two_quarters
from tests.projections.test_views import eventually, every_row, readable_position
from tests.test_demo import seed

ROOT = Path(__file__).resolve().parents[2]
ACTIVE = "projection worker active"
STANDING_BY = "projection worker standing by"


class Worker:
    """A `trustledger project` process, its log in a file."""

    def __init__(self, settings: Settings, log: Path, *args: str) -> None:
        env = {
            **os.environ,
            "TRUSTLEDGER_VAR_DIR": str(settings.var_dir),
            "TRUSTLEDGER_DATABASE_SCHEMA": settings.database_schema,
        }
        env.pop("TRUSTLEDGER_DATABASE_URL", None)
        if settings.database_url is not None:
            env["TRUSTLEDGER_DATABASE_URL"] = settings.database_url
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "project", "--view", "dashboard", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def said(self, words: str) -> bool:
        return words in self.log.read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def test_a_rebuild_killed_half_way_resumes_to_the_same_rows(
    ledger: Trustledger,
    store: ViewStore,
    store_settings: Settings,
    tmp_path: Path,
    workers: list[Worker],
) -> None:
    seed(ledger)
    head = ledger.recorder.max_notification_id() or 0
    live = Worker(store_settings, tmp_path / "live.log")
    workers.append(live)
    eventually(lambda: _position(store) >= head, "the live view")
    rows = every_row(store, DASHBOARD)
    live.stop()

    # One event per transaction, so that there is a middle to kill it in.
    rebuilding = Worker(
        store_settings, tmp_path / "rebuild.log", "--rebuild", "dashboard", "--batch", "1"
    )
    workers.append(rebuilding)
    eventually(lambda: store.tracked("dashboard", 2) > 0, "the rebuild to begin")
    rebuilding.kill()

    interrupted_at = store.tracked("dashboard", 2)
    assert 0 < interrupted_at < head, "killed in the middle of the rebuild"
    assert store.versions("dashboard") == Versions(current=1, building=2)
    assert every_row(store, DASHBOARD) == rows, "reads stayed on the old version"

    resumed = Worker(store_settings, tmp_path / "resumed.log")
    workers.append(resumed)
    eventually(
        lambda: store.versions("dashboard").current == 2 and store.position("dashboard") >= head,
        "the rebuild to finish",
    )
    assert every_row(store, DASHBOARD) == rows
    assert store.versions("dashboard") == Versions(current=2, building=None)


def test_a_standby_takes_over_when_the_active_worker_is_killed(
    ledger: Trustledger,
    store: ViewStore,
    store_settings: Settings,
    tmp_path: Path,
    workers: list[Worker],
) -> None:
    history = with_two_quarters()
    ledger.events.put(history.events)
    active = Worker(store_settings, tmp_path / "active.log")
    workers.append(active)
    eventually(lambda: active.said(ACTIVE), "the first worker to be active")
    standby = Worker(store_settings, tmp_path / "standby.log")
    workers.append(standby)
    eventually(lambda: standby.said(STANDING_BY), "the second worker to stand by")
    eventually(lambda: _position(store) >= (ledger.recorder.max_notification_id() or 0), "view")
    assert not standby.said(ACTIVE)

    active.kill()
    history.submit("2024-25 Q3", 200, 1000, date(2025, 1, 10))
    ledger.events.put(history.events[-1:])
    head = ledger.recorder.max_notification_id() or 0

    eventually(lambda: _position(store) >= head, "the standby to take the new return in")
    assert standby.said(ACTIVE)
    dashboard = store.query("SELECT dashboard FROM {dashboard_contracts}")[0]["dashboard"]
    assert '"period":"2024-25 Q3"' in dashboard


def _position(store: ViewStore) -> int:
    return readable_position(store, "dashboard")


def test_a_workers_view_threads_starting_together_each_open_the_view_store(
    tmp_path: Path,
) -> None:
    """Given a new SQLite ledger, when a worker's view threads all open its view store at the
    same moment, then each gets one: its creation records the table's migration once, not once
    per thread with all but one refused."""
    env = Settings(var_dir=tmp_path).ledger_env()
    Trustledger(env).close()
    together = threading.Barrier(4)

    def open_store() -> ViewStore:
        together.wait()
        return view_store(env)

    with ThreadPoolExecutor(4) as threads:
        opening = [threads.submit(open_store) for _ in range(4)]

    assert all(isinstance(opened.result(), ViewStore) for opened in opening)

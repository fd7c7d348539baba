"""The embedded SQLite store when its disk is full (SQLITE_FULL: "database or disk is full") or
its file read-only (SQLITE_READONLY): a write is refused with problem details a person can act
on, records nothing partial, and reads still work. (PostgreSQL turned read-only is in
test_postgres_restart.py, on the cluster that spec may cripple.)

The fault is put in the way SQLite would meet it: every connection the service opens to the
ledger's file is given a page limit at the file's present size, or made query-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.api.client import Client
from tests.api.server import live_server
from tests.faults.conftest import ready_ledger

# Enough writes to fill whatever room the file's last pages (or PostgreSQL's tables) still have.
MOST_WRITES_BEFORE_FULL = 300


@dataclass
class Ledger:
    settings: Settings
    path: Path
    commissioner_token: str
    trust_id: str
    contract: dict[str, Any]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A ledger on SQLite holding one contract, its service stopped."""
    settings = Settings(var_dir=tmp_path, audit_checkpoint_seconds=0)
    with ready_ledger(settings, tmp_path) as ready, live_server(settings) as url:
        people = ready.people(url)
        commissioner: Client = people["commissioner"]
        drafted = _draft(commissioner, people["trust_id"], "before the fault")
        assert drafted.status_code == 201, drafted.text
        token = commissioner.http.headers["Authorization"].removeprefix("Bearer ")
        path = Path(settings.ledger_env()["SQLITE_DBNAME"])
        yield Ledger(settings, path, token, people["trust_id"], drafted.json())


@contextmanager
def served_with(monkeypatch: pytest.MonkeyPatch, ledger: Ledger, pragma: str) -> Iterator[Client]:
    """The service started again, every connection it opens to the ledger's file given the
    pragma; the commissioner signed in to it."""
    connect = sqlite3.connect

    def crippled(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        if kwargs.get("database", args[0] if args else None) == str(ledger.path):
            connection.execute(pragma)
        return connection

    monkeypatch.setattr(sqlite3, "connect", crippled)
    with live_server(ledger.settings) as url:
        yield Client(url, ledger.commissioner_token)


def test_a_full_disk_refuses_writes_with_507_and_keeps_reads(
    monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    # Given the disk holds not one page more than the ledger has now
    events = _events(ledger.path)
    with sqlite3.connect(ledger.path) as connection:
        [pages] = connection.execute("PRAGMA page_count").fetchone()
    with served_with(monkeypatch, ledger, f"PRAGMA max_page_count = {pages}") as commissioner:
        # When the council drafts contracts until the store has no room for one
        # Then the refusal says the storage is full and nothing was recorded
        drafted = draft_until_full(commissioner, ledger.trust_id)

        # And reads still work, of what was there before and of what fitted
        for contract_id in [ledger.contract["id"], *drafted]:
            assert commissioner.contract(contract_id).status_code == 200
        titles = [c["title"] for c in commissioner.contracts().json()]
        assert f"draft {len(drafted)}" not in titles

    # And the ledger holds the drafts that fitted, each whole, and nothing of the one refused
    assert _events(ledger.path) == events + len(drafted)
    _assert_whole(ledger.path)


def test_a_read_only_file_refuses_writes_with_503_and_keeps_reads(
    monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    events = _events(ledger.path)
    # Given the ledger's file can only be read
    with served_with(monkeypatch, ledger, "PRAGMA query_only = 1") as commissioner:
        # When the council drafts a contract
        response = _draft(commissioner, ledger.trust_id, "while read-only")

        # Then it is told plainly that the ledger takes no changes just now
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["Retry-After"].isdigit()
        problem = response.json()
        assert problem["type"] == "/problems/ledger-read-only"
        assert "read-only" in problem["detail"]

        # And its contracts can still be read
        read = commissioner.contract(ledger.contract["id"])
        assert read.status_code == 200, read.text
    assert _events(ledger.path) == events
    _assert_whole(ledger.path)


def draft_until_full(commissioner: Client, trust_id: str) -> list[str]:
    """Contracts drafted until one is refused, which must be for want of room: those drafted."""
    drafted: list[str] = []
    for attempt in range(MOST_WRITES_BEFORE_FULL):
        response = _draft(commissioner, trust_id, f"draft {attempt}")
        if response.status_code != 201:
            break
        drafted.append(response.json()["id"])
    else:
        pytest.fail(f"{MOST_WRITES_BEFORE_FULL} drafts fitted in the room left")
    assert response.status_code == 507, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/problems/ledger-storage-full"
    assert "storage is full" in problem["detail"]
    assert "nothing was recorded" in problem["detail"]
    return drafted


def _draft(commissioner: Client, trust_id: str, title: str) -> httpx.Response:
    return commissioner.draft_contract(
        trust_organisation_id=trust_id,
        title=title,
        term={"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
        scope=["front-door"],
        contract_sums={"2018-19": 5_800_000_000},
    )


def _events(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        [count] = connection.execute("SELECT count(*) FROM stored_events").fetchone()
    return int(count)


def _assert_whole(path: Path) -> None:
    """Every event has its audit leaf and every leaf its event, numbered without a gap, and
    every idempotency record points at a stored event (SQLite's rowid is the position;
    `audit_leaves` is the view of the leaves kept a row per transaction)."""
    with sqlite3.connect(path) as connection:
        [(leaves, size)] = connection.execute(
            "SELECT count(*), coalesce(max(leaf_index) + 1, 0) FROM audit_leaves"
        ).fetchall()
        [(unlogged,)] = connection.execute(
            "SELECT count(*) FROM stored_events e LEFT JOIN audit_leaves l "
            "ON l.notification_id = e.rowid WHERE l.leaf_index IS NULL"
        ).fetchall()
        [(orphans,)] = connection.execute(
            "SELECT count(*) FROM audit_leaves l LEFT JOIN stored_events e "
            "ON e.rowid = l.notification_id WHERE e.rowid IS NULL"
        ).fetchall()
        [(dangling,)] = connection.execute(
            "SELECT count(*) FROM idempotent_writes w LEFT JOIN stored_events e "
            "ON e.rowid = w.position WHERE e.rowid IS NULL"
        ).fetchall()
    assert leaves == size, "the audit log has a gap"
    assert (unlogged, orphans, dangling) == (0, 0, 0)

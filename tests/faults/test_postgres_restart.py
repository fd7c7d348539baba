"""PostgreSQL stopped and restarted under write load (a private cluster, so that no other spec
loses its server): while it is down, writers get 503 with Retry-After; the service comes back
by itself; each write that got a 2xx is in the ledger exactly once, and nothing is half
written."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from projections.worker import VIEWS
from tests.api.client import Client
from tests.faults.cluster import Cluster
from tests.faults.conftest import (
    Answer,
    Api,
    Ledger,
    Load,
    ProjectionWorkers,
    assert_nothing_half_written,
    eventually,
)

WRITERS = 8


def title(key: str) -> str:
    return f"Contract drafted under {key}"


def drafting(commissioner: Client, trust_id: str) -> Any:
    """A council drafting contracts, each under the key it is given."""

    def draft(key: str) -> httpx.Response:
        return commissioner.post(
            "/contracts",
            {
                "trust_organisation_id": trust_id,
                "title": title(key),
                "term": {"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
                "scope": ["front-door"],
                "contract_sums": {"2018-19": 5_800_000_000},
            },
            Idempotency_Key=key,
        )

    return draft


@dataclass
class Served:
    api: Api
    commissioner: Client
    trust_id: str


@pytest.fixture(scope="module")
def served(private_postgres: Ledger) -> Served:
    api = private_postgres.api()
    people = private_postgres.people(api.url)
    return Served(api, people["commissioner"], people["trust_id"])


@pytest.mark.parametrize(
    "outage",
    ["stopped, then started", "restarted at once, without a clean shutdown"],
)
def test_writes_during_a_database_restart_are_refused_with_503_or_stored_once(
    cluster: Cluster, private_postgres: Ledger, served: Served, outage: str
) -> None:
    # Given a council drafting contracts from several clients at once
    load = Load(drafting(served.commissioner, served.trust_id), WRITERS)
    eventually(lambda: load.seen(201), "the first contracts to be drafted")

    # When PostgreSQL goes away under the load, and comes back
    if outage == "stopped, then started":
        cluster.stop("fast")
        down = load.count()
        eventually(lambda: load.seen(503, after=down), "a writer to be told the ledger is down")
        cluster.start()
    else:
        cluster.restart("immediate")
    back = load.count()
    eventually(lambda: load.seen(201, after=back), "the service to take writes again")
    answers = load.stop()

    # Then every answer was a draft or a 503 to retry later, as problem details
    assert {a.status for a in answers} <= {201, 503}, {a.status for a in answers}
    unavailable = [a for a in answers if a.status == 503]
    if outage == "stopped, then started":
        assert unavailable, "nobody was told the ledger was down"
    for answer in unavailable:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["Retry-After"].isdigit()
        assert answer.body["type"] == "/problems/unavailable"

    # And every contract acknowledged is in the ledger exactly once, with the id its client was
    # given. A write answered 503 may yet have been committed (its reply lost with the server):
    # its client retried under the same key until told the outcome, unless the load stopped
    # first, so a key never acknowledged has at most one contract.
    drafted = _drafted(answers)
    assert drafted, "no write was acknowledged"
    listed = served.commissioner.contracts()
    assert listed.status_code == 200, listed.text
    titles = Counter(c["title"] for c in listed.json())
    ids = {c["title"]: c["id"] for c in listed.json()}
    for key, contract_id in drafted.items():
        assert titles[title(key)] == 1, "a retry drafted a second contract"
        assert ids[title(key)] == contract_id
    for key in {a.key for a in answers} - set(drafted):
        assert titles[title(key)] <= 1
    with private_postgres.connect() as connection:
        assert_nothing_half_written(connection)


def _drafted(answers: list[Answer]) -> dict[str, str]:
    """Each key that got a 201, and the contract it drafted: the same for every 201 it got."""
    drafted: dict[str, str] = {}
    for answer in answers:
        if answer.status == 201:
            assert drafted.setdefault(answer.key, answer.body["id"]) == answer.body["id"]
    return drafted


def test_a_read_only_database_refuses_writes_plainly_and_still_serves_reads(
    cluster: Cluster, private_postgres: Ledger, served: Served
) -> None:
    # Given a contract in the ledger
    drafted = drafting(served.commissioner, served.trust_id)("before the database turned")
    assert drafted.status_code == 201, drafted.text
    contract = drafted.json()
    with private_postgres.connect() as connection:
        events_before = _count_events(connection)

        # When the database turns read-only, as a standby does after a failover gone wrong,
        # under the service's open connections
        _set_read_only(connection, True)
        try:
            # Then a write is refused with problem details that say why, to try again later
            refused = drafting(served.commissioner, served.trust_id)("while read-only")
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["Retry-After"].isdigit()
            problem = refused.json()
            assert problem["type"] == "/problems/ledger-read-only"
            assert "read-only" in problem["detail"]
            assert "nothing was recorded" in problem["detail"]

            # And reads still work, and nothing was written
            read = served.commissioner.contract(contract["id"])
            assert read.status_code == 200, read.text
            assert read.json()["version"] == contract["version"]
            assert _count_events(connection) == events_before
        finally:
            _set_read_only(connection, False)

    # And once the database takes changes again, so does the service
    after = drafting(served.commissioner, served.trust_id)("once writable again")
    assert after.status_code == 201, after.text
    with private_postgres.connect() as connection:
        assert_nothing_half_written(connection)


def _set_read_only(connection: psycopg.Connection[Any], read_only: bool) -> None:
    """Every new session of the database read-only (or not), and the service's sessions ended,
    so that its pools reconnect to the database as it now is."""
    connection.execute("SET default_transaction_read_only = off")
    setting = "SET default_transaction_read_only = on" if read_only else "RESET ALL"
    connection.execute(f"ALTER DATABASE postgres {setting}")
    connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = "
        "'client backend'"
    )


def _count_events(connection: psycopg.Connection[Any]) -> int:
    row = connection.execute("SELECT count(*) FROM trustledger_events").fetchone()
    assert row is not None
    return int(row[0])


def test_after_a_restart_each_view_has_still_one_active_worker(
    cluster: Cluster, private_postgres: Ledger, served: Served
) -> None:
    # Given two projection workers: for each view one active, the other standing by
    workers = [private_postgres.workers("worker-1"), private_postgres.workers("worker-2")]
    for view in VIEWS:
        eventually(lambda v=view: _active(workers, v) == 1, f"one worker active for {view}")

    # When PostgreSQL restarts, ending every session and the advisory locks they held
    cluster.restart("immediate")
    drafted = _until_answered(lambda: drafting(served.commissioner, served.trust_id)("restart"))
    assert drafted.status_code == 201, drafted.text
    position = int(drafted.headers["Trustledger-Position"])

    # Then the views take in what is written after it
    eventually(
        lambda: (
            served.commissioner.dashboard(drafted.json()["id"], min_position=position).status_code
            == 200
        ),
        "the views to take the new contract in",
    )
    # And each view is kept by one worker again: the one active before notices, at its next
    # look at its lock, that the restart took the lock away (exactly once never rested on the
    # lock: a view's tracking refuses a batch taken in twice)
    for view in VIEWS:
        eventually(lambda v=view: _active(workers, v) == 1, f"one worker to keep {view}")
    assert all(worker.alive() for worker in workers)


def _active(workers: list[ProjectionWorkers], view: str) -> int:
    """How many of the workers last said, of this view, that they keep it."""
    return [_last_said(worker, view) == "projection worker active" for worker in workers].count(
        True
    )


def _last_said(worker: ProjectionWorkers, view: str) -> str | None:
    said = None
    for line in worker.log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("view") == view and entry.get("event") in LIFECYCLE:
                said = entry["event"]
    return said


LIFECYCLE = {
    "projection worker active",
    "projection worker standing by",
    "projection worker lost its lock",
}


def _until_answered(attempt: Callable[[], httpx.Response]) -> httpx.Response:
    """The first answer that is not a 503, while the service reconnects."""
    answers = [attempt()]
    eventually(
        lambda: answers[-1].status_code != 503 or bool(answers.append(attempt())),
        "the service to answer other than 503",
    )
    return answers[-1]

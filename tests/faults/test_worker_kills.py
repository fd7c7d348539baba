"""Projection workers killed with SIGKILL while the ledger is being written: one while it
follows the log live, then its successor half way through a rebuild. A third takes over; once
it has caught up, every view holds exactly what a clean build from the log gives (no event
taken in twice, none missed)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from domain.application import Trustledger
from projections.view_store import ViewStore, view_store
from projections.worker import VIEWS, request_rebuild
from tests.faults.conftest import Ledger, eventually
from tests.projections.builders import with_two_quarters
from tests.projections.test_views import every_row, readable_position


class Writing:
    """Contracts' histories appended one transaction at a time, in a thread, until stopped, so
    that the log keeps growing under the workers."""

    def __init__(self, ledger: Trustledger) -> None:
        self.ledger = ledger
        self.contracts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        while not self._stopping.is_set():
            self.ledger.events.put(with_two_quarters().events)
            self.contracts += 1

    def stop(self) -> int:
        """Stop writing; the log's head once the last write is in."""
        self._stopping.set()
        self._thread.join()
        return self.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def writing(shared_postgres: Ledger) -> Iterator[Writing]:
    ledger = Trustledger(shared_postgres.settings.ledger_env())
    writing = Writing(ledger)
    try:
        yield writing
    finally:
        writing.stop()
        ledger.close()


def test_views_kept_by_killed_workers_end_as_a_clean_build(
    shared_postgres: Ledger, writing: Writing
) -> None:
    env = shared_postgres.settings.ledger_env()
    store = view_store(env)

    # Given a worker following the log, a few events per transaction, as contracts arrive
    following = shared_postgres.workers("following", "--batch", "5")
    eventually(lambda: _position(store) > 0, "the first worker to take events in")

    # When it is killed outright while the log is still growing
    following.kill()

    # And its successor, once active, is asked to rebuild every view and killed half way
    rebuilding = shared_postgres.workers("rebuilding", "--batch", "5")
    for name in VIEWS:
        request_rebuild(name, env)
    eventually(
        lambda: all(store.tracked(name, _building(store, name)) > 0 for name in VIEWS),
        "the rebuild to begin",
    )
    rebuilding.kill()
    assert all(store.versions(name).building is not None for name in VIEWS), "rebuilt already"

    # Then a third worker finishes the rebuild and catches up with everything written
    shared_postgres.workers("finishing")
    head = writing.stop()
    eventually(
        lambda: all(
            store.versions(name).building is None and readable_position(store, name) >= head
            for name in VIEWS
        ),
        "the rebuild to switch and catch up",
    )
    kept = {name: every_row(store, VIEWS[name].spec) for name in VIEWS}

    # And what it keeps is what a clean build of the same log gives
    for name in VIEWS:
        request_rebuild(name, env)
    eventually(
        lambda: all(
            store.versions(name).building is None and readable_position(store, name) >= head
            for name in VIEWS
        ),
        "the clean build to switch",
    )
    assert {name: every_row(store, VIEWS[name].spec) for name in VIEWS} == kept
    contracts = store.query("SELECT count(*) AS n FROM {dashboard_contracts}")[0]["n"]
    assert contracts == writing.contracts


def _position(store: ViewStore) -> int:
    return min(readable_position(store, name) for name in VIEWS)


def _building(store: ViewStore, name: str) -> int:
    building = store.versions(name).building
    assert building is not None
    return building

"""The web specs act in the HTTP specs' world (tests/api/conftest.py): a running server on each
store, two councils with their trusts, their people and an auditor."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from projections.worker import VIEWS, run_workers
from tests.api.conftest import World, world

__all__ = ["world"]


@pytest.fixture(scope="module")
def workers(world: World) -> Iterator[None]:
    """The projection workers, as `trustledger project` runs them, for the pages that read the
    dashboards."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_workers, args=(list(VIEWS), world.settings.ledger_env(), stop), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)

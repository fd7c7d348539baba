"""The web specs act in the HTTP specs' world (tests/api/conftest.py): a running server on each
store, two councils with their trusts, their people and an auditor."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import World, world
from tests.api.server import projection_workers

__all__ = ["world"]


@pytest.fixture(scope="module")
def workers(world: World) -> Iterator[None]:
    """The projection workers, as `trustledger project` runs them, for the pages that read the
    dashboards."""
    with projection_workers(world.settings):
        yield

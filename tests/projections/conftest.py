"""What every projection spec stands on: a fresh ledger and its view store, per store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.settings import Settings
from domain.application import Trustledger
from projections.view_store import ViewStore, view_store


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def store(store_settings: Settings) -> ViewStore:
    return view_store(store_settings.ledger_env())

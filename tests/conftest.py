"""The stores every store-dependent spec runs on: embedded SQLite and a real PostgreSQL.

PostgreSQL comes from TRUSTLEDGER_TEST_DATABASE_URL (`make test` provides it). Without it the
PostgreSQL specs fail: they are never skipped, because a green run that did not touch the
production store would be a lie.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import structlog

from api.logs import configure_logging
from api.settings import Settings

STORES = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    """The service's log lines go through the standard logging module, where pytest keeps each
    test's lines for its report (from any thread, under the handler's lock). The API's threads
    log after each response, when the test may already have moved on: a line written straight
    to a stream pytest captured could meet that stream closed, or being swapped, and crash."""
    configure_logging(logger_factory=structlog.stdlib.LoggerFactory())


def postgres_url() -> str:
    url = os.environ.get("TRUSTLEDGER_TEST_DATABASE_URL")
    if not url:
        pytest.fail(
            "TRUSTLEDGER_TEST_DATABASE_URL is not set: run `make test`, or point it at a "
            "PostgreSQL database you may create schemas in",
            pytrace=False,
        )
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL at {url} is unreachable: {error}", pytrace=False)
    return url


def settings_for(store: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty ledger on the given store, removed afterwards."""
    if store == "sqlite":
        yield Settings(var_dir=tmp_path, demo_mode=True)
        return
    url = postgres_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield Settings(database_url=url, database_schema=schema, var_dir=tmp_path, demo_mode=True)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from settings_for(request.param, tmp_path)

"""The two baselines the command path over HTTP is measured against (bench/http.py).

Both serve the route Trustledger serves for a KPI return and validate the same body with the
same pydantic schema, but neither signs anyone in nor keeps any rule:

- `insert`: one raw psycopg INSERT of the return through a psycopg_pool pool, in a sync
  handler. Nothing in this stack can answer a write faster, so it is the ceiling.
- `save`: the library's plain `Application.save()` of one event per request, which takes the
  events table's exclusive lock until COMMIT (DESIGN §1).

    uvicorn --factory bench.bare_app:create_app   with BENCH_DATABASE_URL, BENCH_SCHEMA and
    BENCH_BASELINE (insert or save) in the environment
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI, status
from psycopg import sql
from psycopg_pool import ConnectionPool

from api.schemas.kpis import Code, ReturnToSubmit
from domain.indicators import Suppression

# As Trustledger's own pool (TRUSTLEDGER_POSTGRES_POOL_SIZE), so the baselines get no more
# connections than the service they are compared with.
POOL_SIZE = 10

Submit = Callable[[UUID, str, ReturnToSubmit], None]


def prepare(url: str, schema: str) -> None:
    """The table the `insert` baseline writes: a return is known by its contract, KPI and
    period, as the ledger knows it, so the INSERT pays for the same uniqueness check."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.kpi_returns ("
                "contract_id uuid NOT NULL, indicator_code text NOT NULL, period text NOT NULL, "
                "value text NOT NULL, numerator integer, denominator integer, "
                "commentary text NOT NULL, PRIMARY KEY (contract_id, indicator_code, period))"
            ).format(sql.Identifier(schema))
        )


class KpiReturn(Aggregate):
    """One return as one aggregate of one event: the least the library's save() can write."""

    @event("Submitted")
    def __init__(
        self,
        contract_id: UUID,
        indicator_code: str,
        period: str,
        value: str,
        numerator: int | None,
        denominator: int | None,
        commentary: str,
    ) -> None:
        self.contract_id = contract_id
        self.indicator_code = indicator_code
        self.period = period
        self.value = value
        self.numerator = numerator
        self.denominator = denominator
        self.commentary = commentary


def _text(value: Decimal | Suppression) -> str:
    return value.value if isinstance(value, Suppression) else str(value)


def _inserting(url: str, schema: str) -> tuple[Submit, Callable[[], None]]:
    pool = ConnectionPool(
        url,
        min_size=POOL_SIZE,
        max_size=POOL_SIZE,
        kwargs={"options": f"-c search_path={schema}"},
        open=True,
    )
    pool.wait()
    statement = (
        "INSERT INTO kpi_returns (contract_id, indicator_code, period, value, numerator, "
        "denominator, commentary) VALUES (%s, %s, %s, %s, %s, %s, %s)"
    )

    def submit(contract_id: UUID, indicator_code: str, body: ReturnToSubmit) -> None:
        with pool.connection() as conn:
            conn.execute(
                statement,
                (
                    contract_id,
                    indicator_code,
                    body.period,
                    _text(body.value),
                    body.numerator,
                    body.denominator,
                    body.commentary,
                ),
                prepare=True,
            )

    return submit, pool.close


def _saving(url: str, schema: str) -> tuple[Submit, Callable[[], None]]:
    parts = urlsplit(url)
    application = Application[UUID](
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or ""),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_POOL_SIZE": str(POOL_SIZE),
            "POSTGRES_SCHEMA": schema,
            "CREATE_TABLE": "y",
        }
    )

    def submit(contract_id: UUID, indicator_code: str, body: ReturnToSubmit) -> None:
        application.save(
            KpiReturn(
                contract_id=contract_id,
                indicator_code=indicator_code,
                period=body.period,
                value=_text(body.value),
                numerator=body.numerator,
                denominator=body.denominator,
                commentary=body.commentary,
            )
        )

    return submit, application.close


def create_app() -> FastAPI:
    url = os.environ["BENCH_DATABASE_URL"]
    schema = os.environ["BENCH_SCHEMA"]
    baseline = os.environ["BENCH_BASELINE"]
    make = {"insert": _inserting, "save": _saving}[baseline]
    state: dict[str, Submit] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        submit, close = make(url, schema)
        state["submit"] = submit
        try:
            yield
        finally:
            close()

    app = FastAPI(title=f"bare {baseline}", lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        "/contracts/{contract_id}/kpis/{indicator_code}/returns",
        status_code=status.HTTP_201_CREATED,
    )
    def submit_return(
        contract_id: UUID, indicator_code: Code, body: ReturnToSubmit
    ) -> dict[str, str]:
        state["submit"](contract_id, indicator_code, body)
        return {"contract_id": str(contract_id), "indicator_code": indicator_code}

    return app

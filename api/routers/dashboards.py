"""One page of truth per contract, a portfolio across contracts, and the activity feed: read
from the views the projection workers keep, or folded from the log "as at" an instant.

A client that has just written can pass the position its write returned (`min_position`):
the read waits briefly for the views to take it in, then answers 503 with Retry-After rather
than an answer older than the client's own write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response

from api.benchmarks import benchmark_for_period
from api.deps import Caller, Ledger, ReadAt, Reading, allowed
from api.exports import Format, download, export_format
from api.policy import Principal, require_access
from api.problems import Problem, problem_responses
from api.routers.contracts import parties
from api.schemas.dashboards import (
    ActivityView,
    DashboardView,
    KpiBenchmark,
    PortfolioView,
    attribution,
)
from domain.actor import Role
from domain.application import Trustledger
from domain.benchmark import PublishedFigures
from domain.errors import NotFound
from domain.reporting import ReportingPeriod
from domain.service_contract import ServiceContract
from projections.activity_view import ActivityReader
from projections.dashboard_view import (
    Dashboard,
    DashboardReader,
    PortfolioLine,
    dashboard_at,
    portfolio_at,
)

router = APIRouter(tags=["dashboards"])

# How long a read waits for the views to reach a client's own write before answering 503.
FRESHNESS_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.05

FormatParam = Annotated[
    str | None,
    Query(alias="format", description="json, csv or xlsx; wins over the Accept header"),
]
MinPosition = Annotated[
    int | None,
    Query(ge=0, description="Wait until the view has taken in this log position (a write's "
          "Trustledger-Position); 503 with Retry-After if it has not within a few seconds"),
]  # fmt: skip


def get_dashboards(request: Request) -> DashboardReader:
    reader: DashboardReader = request.app.state.dashboards
    return reader


def get_activity(request: Request) -> ActivityReader:
    reader: ActivityReader = request.app.state.activity
    return reader


# A dashboard or the portfolio is JSON, or a board paper in another format `Accept` or
# `?format=` asks for; a format it does not make is refused (400, 406).
EXPORTS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            each.media_type: {"schema": {"type": "string", "format": "binary"}}
            for each in Format
            if each is not Format.JSON
        }
    },
    **problem_responses(400, 406),
}

Dashboards = Annotated[DashboardReader, Depends(get_dashboards)]
Activity = Annotated[ActivityReader, Depends(get_activity)]


async def wait_for(position: int | None, read_position: Callable[[], int]) -> int:
    """The view's position once it has taken in `position` (at once if None)."""
    deadline = time.monotonic() + FRESHNESS_WAIT_SECONDS
    while True:
        reached = await anyio.to_thread.run_sync(read_position)
        if position is None or reached >= position:
            return reached
        if time.monotonic() >= deadline:
            raise Problem(
                503,
                "Not caught up",
                f"the view has taken in log position {reached}, not yet {position}: try again",
                {"Retry-After": "1"},
            )
        await anyio.sleep(_POLL_SECONDS)


def _answer(
    view: DashboardView | PortfolioView,
    json: Callable[[], bytes],
    name: str,
    reading: Reading,
    request: Request,
    chosen: str | None,
) -> Response:
    """The view as JSON, or as a board paper in the format asked for; either says which
    instant it shows when read as at one.

    The JSON is made by the view itself (`json`) from parts the reader serialised once per row,
    not by FastAPI from the whole model: the route's `response_model` still gives the schema."""
    export = export_format(request.headers.get("accept"), chosen)
    answer = (
        Response(json(), media_type="application/json")
        if export is Format.JSON
        else download(view.report(), export, name)
    )
    reading.report(answer)
    return answer


@router.get(
    "/contracts/{contract_id}/dashboard",
    summary="A contract's dashboard: KPIs against targets with benchmarks, returns, notices, "
    "Ofsted, finances and governance (JSON, CSV or XLSX)",
    response_model=DashboardView,
    responses=EXPORTS,
)
async def dashboard(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("dashboard.read"))],
    reading: ReadAt,
    ledger: Ledger,
    reader: Dashboards,
    request: Request,
    min_position: MinPosition = None,
    format: FormatParam = None,
) -> Response:
    # The whole read (the view's position, then the row, then the benchmarks) is one turn of a
    # worker thread, not one each: on a busy machine every turn waits to be scheduled. A
    # client's own write, when it names one, is waited for first.
    def read() -> tuple[int, Dashboard, dict[str, KpiBenchmark]]:
        if reading.as_at is None:
            position = reader.position()
            found = reader.dashboard(contract_id, reading.day)
        else:
            position = reading.as_at.position
            found = dashboard_at(ledger, contract_id, position, reading.day)
        found = readable(caller.principal, contract_id, found)
        return position, found, kpi_benchmarks(ledger, found, position)

    if reading.as_at is None and min_position is not None:
        await wait_for(min_position, reader.position)
    position, found, benchmarks = await anyio.to_thread.run_sync(read)
    view = DashboardView(
        dashboard=found,
        benchmarks=benchmarks,
        position=position,
        attribution=attribution(bool(benchmarks) or found.ofsted is not None),
    )
    return _answer(
        view,
        lambda: view.to_json(reader.contract_json(found.contract)),
        f"{found.contract.trust.name} dashboard",
        reading,
        request,
        format,
    )


@router.get(
    "/portfolio",
    summary="Every contract the reader may see, side by side (JSON, CSV or XLSX)",
    response_model=PortfolioView,
    responses=EXPORTS,
)
async def portfolio(
    caller: Annotated[Caller, Depends(allowed("portfolio.read"))],
    reading: ReadAt,
    ledger: Ledger,
    reader: Dashboards,
    request: Request,
    min_position: MinPosition = None,
    format: FormatParam = None,
) -> Response:
    # One turn of a worker thread, as for a dashboard.
    def read() -> tuple[int, list[PortfolioLine]]:
        position = reader.position() if reading.as_at is None else reading.as_at.position
        contracts = visible_contracts(caller.principal, reader)
        if reading.as_at is None:
            return position, reader.portfolio(contracts, reading.day)
        return position, portfolio_at(ledger, contracts, position, reading.day)

    if reading.as_at is None and min_position is not None:
        await wait_for(min_position, reader.position)
    position, lines = await anyio.to_thread.run_sync(read)
    view = PortfolioView(
        contracts=lines,
        today=reading.day,
        position=position,
        attribution=attribution(any(line.latest_ofsted_grade for line in lines)),
    )
    return _answer(
        view,
        lambda: view.to_json([reader.line_json(line) for line in lines]),
        "Portfolio",
        reading,
        request,
        format,
    )


@router.get(
    "/contracts/{contract_id}/activity",
    summary="Who did what to a contract, its KPIs and its notices, and when: newest first",
)
async def activity(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("activity.read"))],
    ledger: Ledger,
    reader: Activity,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
    min_position: MinPosition = None,
) -> ActivityView:
    contract = await anyio.to_thread.run_sync(ledger.get, contract_id, ServiceContract)
    caller.check(contract.id, parties(contract))
    position = await wait_for(min_position, reader.position)
    found = await anyio.to_thread.run_sync(reader.activity, contract_id, page, size)
    return ActivityView(
        entries=found.entries,
        page=found.page,
        size=found.size,
        total=found.total,
        position=position,
    )


def readable(principal: Principal, contract_id: UUID, found: Dashboard | None) -> Dashboard:
    """The dashboard found for `contract_id`, if the reader may read it: NotFound, or 403 by the
    organisation rule. The API and the web pages ask this one question."""
    if found is None:
        raise NotFound(f"no contract {contract_id} on the dashboards")
    parties = (found.contract.council.organisation_id, found.contract.trust.organisation_id)
    require_access(principal, "dashboard.read", contract_id, parties)
    return found


def visible_contracts(principal: Principal, reader: DashboardReader) -> list[UUID] | None:
    """The contracts a reader may see: every one for an admin (None), those granted for an
    auditor, and its own organisation's for a council or a trust (the portfolio, in the API
    and on the web pages)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.AUDITOR:
        return sorted(principal.granted_contracts)
    return reader.contracts_of(principal.organisation_id)


def kpi_benchmarks(ledger: Trustledger, found: Dashboard, position: int) -> dict[str, KpiBenchmark]:
    """By KPI code, DfE's England, region and neighbours' figures for its latest period's year,
    from the figures imported by the log position the dashboard shows, or later."""
    latest = tuple(
        (kpi.code, ReportingPeriod.parse(kpi.latest.period).ends)
        for kpi in found.contract.kpis
        if kpi.latest is not None
    )
    figures = ledger.published_figures(known_by=position)
    return _benchmarks.of(figures, found.contract.la_number, latest)


class KpiBenchmarks:
    """The benchmarks of a contract's KPIs, made once per set of DfE figures and latest periods.

    Working out 40 KPIs' benchmarks (England, region, the ten neighbours' median) took 7.5 ms of
    every dashboard read on the national dataset, though they change only with an import of DfE
    figures or a KPI's new latest period. The ledger hands out the same `PublishedFigures` until
    an import brings new ones, so benchmarks are kept for the figures last seen, by authority
    and KPIs' latest periods, and dropped when the figures change."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._figures: PublishedFigures | None = None
        self._kept: dict[tuple[str, tuple[tuple[str, date], ...]], dict[str, KpiBenchmark]] = {}
        self._lock = threading.Lock()

    def of(
        self, figures: PublishedFigures, la_number: str, latest: tuple[tuple[str, date], ...]
    ) -> dict[str, KpiBenchmark]:
        key = (la_number, latest)
        with self._lock:
            if figures is not self._figures:
                self._figures, self._kept = figures, {}
            kept = self._kept.get(key)
        if kept is None:
            kept = {}
            for code, ends in latest:
                found = benchmark_for_period(figures, la_number, code, ends)
                if found is not None:
                    kept[code] = KpiBenchmark.of(found)
            with self._lock:
                if figures is self._figures and len(self._kept) < self.size:
                    self._kept[key] = kept
        return dict(kept)


# A national deployment has 153 contracts; each keeps one entry until its KPIs move on.
_benchmarks = KpiBenchmarks(size=1024)

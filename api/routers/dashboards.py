"""One page of truth per contract, a portfolio across contracts, and the activity feed: read
from the views the projection workers keep, or folded from the log "as at" an instant.

A client that has just written can pass the position its write returned (`min_position`):
the read waits briefly for the views to take it in, then answers 503 with Retry-After rather
than an answer older than the client's own write.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
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


V = TypeVar("V", DashboardView, PortfolioView)


def _answer(
    view: V, name: str, reading: Reading, request: Request, response: Response, chosen: str | None
) -> V | Response:
    """The view as JSON, or as a board paper in the format asked for; either says which
    instant it shows when read as at one."""
    export = export_format(request.headers.get("accept"), chosen)
    if export is Format.JSON:
        reading.report(response)
        return view
    paper = download(view.report(), export, name)
    reading.report(paper)
    return paper


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
    response: Response,
    min_position: MinPosition = None,
    format: FormatParam = None,
) -> DashboardView | Response:
    if reading.as_at is None:
        position = await wait_for(min_position, reader.position)
        found = await anyio.to_thread.run_sync(reader.dashboard, contract_id, reading.day)
    else:
        position = reading.as_at.position
        found = await anyio.to_thread.run_sync(
            dashboard_at, ledger, contract_id, position, reading.day
        )
    found = readable(caller.principal, contract_id, found)
    benchmarks = await anyio.to_thread.run_sync(kpi_benchmarks, ledger, found)
    view = DashboardView(
        dashboard=found,
        benchmarks=benchmarks,
        position=position,
        attribution=attribution(bool(benchmarks) or found.ofsted is not None),
    )
    return _answer(
        view, f"{found.contract.trust.name} dashboard", reading, request, response, format
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
    response: Response,
    min_position: MinPosition = None,
    format: FormatParam = None,
) -> PortfolioView | Response:
    if reading.as_at is None:
        position = await wait_for(min_position, reader.position)
    else:
        position = reading.as_at.position
    contracts = await anyio.to_thread.run_sync(visible_contracts, caller.principal, reader)
    lines: list[PortfolioLine]
    if reading.as_at is None:
        lines = await anyio.to_thread.run_sync(reader.portfolio, contracts, reading.day)
    else:
        lines = await anyio.to_thread.run_sync(
            portfolio_at, ledger, contracts, position, reading.day
        )
    view = PortfolioView(
        contracts=lines,
        today=reading.day,
        position=position,
        attribution=attribution(any(line.latest_ofsted_grade for line in lines)),
    )
    return _answer(view, "Portfolio", reading, request, response, format)


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


def kpi_benchmarks(ledger: Trustledger, found: Dashboard) -> dict[str, KpiBenchmark]:
    """By KPI code, DfE's England, region and neighbours' figures for its latest period's year."""
    figures = ledger.published_figures()
    benchmarks: dict[str, KpiBenchmark] = {}
    for kpi in found.contract.kpis:
        if kpi.latest is None:
            continue
        ends = ReportingPeriod.parse(kpi.latest.period).ends
        found_benchmark = benchmark_for_period(figures, found.contract.la_number, kpi.code, ends)
        if found_benchmark is not None:
            benchmarks[kpi.code] = KpiBenchmark.of(found_benchmark)
    return benchmarks

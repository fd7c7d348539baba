"""The pages: sign in and out, the portfolio (home) and a contract's dashboard.

Each page asks the policy exactly what the API's route for the same read asks (`require_role`
for the action, then the organisation rule through the same shared functions), in Python before
anything is rendered: a template only shows what it is given.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import AppSettings, Ledger, Signer, today
from api.policy import require_role
from api.problems import Problem
from api.routers.auth import (
    WRONG_CREDENTIALS,
    Throttle,
    authenticate,
    client_address,
    minutes,
)
from api.routers.dashboards import (
    Dashboards,
    kpi_benchmarks,
    visible_contracts,
)
from api.schemas.dashboards import KpiBenchmark, attribution
from api.settings import Settings
from api.web import audit_log, charts, finances, notices, returns, scrutiny, variations
from api.web.errors import safe_next
from api.web.formats import sentence
from api.web.routing import NegotiatedPageRoute, PageRoute
from api.web.session import (
    ANONYMOUS_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    CurrentVisit,
    SignedIn,
    check_csrf,
    forget,
    new_session,
    principal,
    set_cookie,
)
from api.web.templating import render
from projections.dashboard import KpiLine
from projections.dashboard_view import Dashboard

PORTFOLIO_PAGE_SIZE = 20

pages = APIRouter(route_class=PageRoute, include_in_schema=False)
# On paths the API serves too: a browser gets the page, an API client the JSON.
negotiated = APIRouter(route_class=NegotiatedPageRoute, include_in_schema=False)
router = APIRouter()


# -- signing in and out ---------------------------------------------------------------------------


@pages.get("/sign-in")
def sign_in_page(
    request: Request,
    visit: CurrentVisit,
    next: Annotated[str, Query(max_length=2000)] = "/",
    signed_out: bool = False,
) -> Response:
    if visit.principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request,
        visit,
        "sign_in.html",
        "Sign in",
        next=safe_next(next),
        email="",
        signed_out=signed_out,
        **_demo(request),
    )


@pages.post("/sign-in")
async def sign_in(
    request: Request,
    visit: CurrentVisit,
    ledger: Ledger,
    signer: Signer,
    settings: AppSettings,
    throttle: Throttle,
) -> Response:
    form = await request.form()
    check_csrf(visit, form.get(CSRF_FIELD))
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    goes_to = safe_next(form.get("next"))
    errors = []
    if not email:
        errors.append({"field": "email", "text": "Enter your email address"})
    if not password:
        errors.append({"field": "password", "text": "Enter your password"})
    status = 400
    headers: dict[str, str] = {}
    if not errors:
        try:
            account = await anyio.to_thread.run_sync(
                authenticate, ledger, settings, throttle, email, password, client_address(request)
            )
        except Problem as refused:
            if refused.status == 429:
                status, headers = 429, {"Retry-After": refused.headers["Retry-After"]}
                wait = minutes(int(headers["Retry-After"]))
                text = f"You have tried to sign in too many times. Try again in {wait}."
            elif refused.detail == WRONG_CREDENTIALS:
                text = "Enter a correct email address and password"
            else:
                # A disabled account, a demo account: said as a sentence of its own.
                text = f"{sentence(refused.detail)}."
            errors.append({"field": "email", "text": text})
        else:
            response = RedirectResponse(goes_to, status_code=303)
            set_cookie(request, response, SESSION_COOKIE, new_session(signer, account.id))
            response.delete_cookie(ANONYMOUS_COOKIE, path="/")
            return response
    return render(
        request,
        visit,
        "sign_in.html",
        "Sign in",
        status_code=status,
        headers=headers,
        errors=errors,
        next=goes_to,
        email=email,
        signed_out=False,
        **_demo(request),
    )


@pages.get("/sign-out")
def sign_out_page(request: Request, visit: SignedIn) -> Response:
    return render(request, visit, "sign_out.html", "Sign out")


@pages.post("/sign-out")
async def sign_out(request: Request, visit: CurrentVisit) -> Response:
    response = RedirectResponse("/sign-in?signed_out=true", status_code=303)
    if visit.principal is not None:
        form = await request.form()
        check_csrf(visit, form.get(CSRF_FIELD))
    forget(request, response)
    return response


# -- the portfolio --------------------------------------------------------------------------------


@pages.get("/")
def portfolio_page(
    request: Request,
    visit: SignedIn,
    reader: Dashboards,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    reading = principal(visit)
    require_role(reading, "portfolio.read")
    day = today()
    lines = reader.portfolio(visible_contracts(reading, reader), day)
    pages_count = max(1, math.ceil(len(lines) / PORTFOLIO_PAGE_SIZE))
    if page > pages_count:
        raise Problem(404, "Not found", f"the portfolio has {pages_count} pages")
    shown = lines[(page - 1) * PORTFOLIO_PAGE_SIZE : page * PORTFOLIO_PAGE_SIZE]
    return render(
        request,
        visit,
        "portfolio.html",
        "Portfolio" if pages_count == 1 else f"Portfolio (page {page} of {pages_count})",
        nav="portfolio",
        lines=shown,
        total=len(lines),
        page=page,
        pages_count=pages_count,
        today=day,
        position=reader.position(),
        attribution=attribution(any(line.latest_ofsted_grade for line in lines)),
    )


# -- a contract's dashboard -----------------------------------------------------------------------


@negotiated.get("/contracts/{contract_id}")
def dashboard_page(
    contract_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    reader: Dashboards,
) -> Response:
    reading = principal(visit)
    require_role(reading, "dashboard.read")
    # As the API's as_at: the day typed (its end, UK time) or an instant, folded from the log.
    found, position, asked = scrutiny.dashboard_as_asked(
        reading, contract_id, ledger, reader, scrutiny.as_at_asked(request, ledger), today()
    )
    benchmarks = kpi_benchmarks(ledger, found, position)
    return render(
        request,
        visit,
        "dashboard.html",
        found.contract.title + f": {found.contract.trust.name}",
        status_code=asked.status,
        errors=asked.errors,
        asked=asked,
        nav="portfolio",
        board=found,
        contract=found.contract,
        benchmarks=benchmarks,
        charts={kpi.code: kpi_chart(kpi, benchmarks.get(kpi.code)) for kpi in found.contract.kpis},
        overdue_kpis=_overdue(found),
        position=position,
        attribution=attribution(bool(benchmarks) or found.ofsted is not None),
    )


def kpi_chart(kpi: KpiLine, benchmark: KpiBenchmark | None) -> Any:
    """A KPI's trend against its target, with DfE's England and neighbours' figures for the
    year of its latest period beside that period."""
    points = [
        charts.Point(point.period, None if isinstance(point.value, str) else point.value)
        for point in kpi.trend
    ]
    marks: list[charts.Benchmark] = []
    if benchmark is not None and kpi.latest is not None:
        if benchmark.england is not None and not isinstance(benchmark.england, str):
            marks.append(
                charts.Benchmark(
                    f"England (DfE {benchmark.year})", benchmark.england, kpi.latest.period
                )
            )
        if benchmark.statistical_neighbour_median is not None:
            marks.append(
                charts.Benchmark(
                    f"Neighbours' median (DfE {benchmark.year})",
                    benchmark.statistical_neighbour_median,
                    kpi.latest.period,
                )
            )
    return charts.trend_chart(
        f"chart-{kpi.code.lower()}",
        f"{kpi.reference} {kpi.title}: trend against target",
        kpi.unit,
        points,
        kpi.target,
        marks,
    )


def _overdue(board: Dashboard) -> list[tuple[KpiLine, list[str]]]:
    return [
        (kpi, board.overdue_returns[kpi.code])
        for kpi in board.contract.kpis
        if kpi.code in board.overdue_returns
    ]


def _demo(request: Request) -> dict[str, Any]:
    """The demo accounts, listed on the sign-in page in demo mode only (their password is
    published, and they may sign in only then)."""
    settings: Settings = request.app.state.settings
    if not settings.demo_mode:
        return {"demo_accounts": [], "demo_password": ""}
    from api.demo import DEMO_ACCOUNTS, DEMO_PASSWORD  # the demo's seed, only when it runs

    return {
        "demo_accounts": [(account.email, account.display_name) for account in DEMO_ACCOUNTS],
        "demo_password": DEMO_PASSWORD,
    }


router.include_router(pages)
router.include_router(negotiated)
router.include_router(variations.router)
router.include_router(scrutiny.negotiated)
router.include_router(audit_log.pages)
router.include_router(returns.router)
router.include_router(notices.router)
router.include_router(finances.router)

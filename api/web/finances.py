"""A contract's money as pages: the financial positions the trust has reported, the form it
reports one with, and the dashboard's board papers (CSV and XLSX) downloaded with the browser's
session rather than a bearer token.

Every command and read is the API's own handler, called with what its dependency would give
it, so the role and the organisation rule are judged exactly as for the API.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from api.deps import Ledger, Reading
from api.exports import Format
from api.routers import contracts as api
from api.routers import dashboards as dashboard_api
from api.routers.dashboards import Dashboards
from api.schemas.contracts import FinancialPositionToReport
from api.web.forms import (
    IDEMPOTENCY_FIELD,
    Error,
    Sent,
    Submitted,
    acting,
    caller,
    done,
    done_message,
    form_key,
    invalid,
    once,
    passes,
    pence_of,
    refusal,
    required,
    shown,
)
from api.web.routing import NegotiatedPageRoute, PageRoute
from api.web.session import SignedIn, Visit
from api.web.templating import render
from domain.application import Trustledger
from domain.errors import DomainError
from domain.service_contract import ServiceContract

pages = APIRouter(route_class=PageRoute, include_in_schema=False)
negotiated = APIRouter(route_class=NegotiatedPageRoute, include_in_schema=False)

# Council budget monitoring's periods: quarters and months counted from April.
PERIODS = [f"Q{n}" for n in range(1, 5)] + [f"M{n}" for n in range(1, 13)]


def address(contract_id: UUID) -> str:
    return f"/contracts/{contract_id}/financial-positions"


# -- the positions reported -----------------------------------------------------------------------


@negotiated.get("/contracts/{contract_id}/financial-positions")
def positions_page(
    contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger
) -> Response:
    contract = api.readable(ledger, caller(request, visit, "contract.read"), contract_id)
    page = render(
        request,
        visit,
        "financial_positions.html",
        f"Financial positions: {contract.title}",
        nav="portfolio",
        banner=done_message(request),
        contract=contract,
        positions=list(reversed(contract.financial_positions)),
        may_report=passes(lambda: _reportable(request, visit, ledger, contract_id)),
    )
    return shown(request, page)


# -- reporting one --------------------------------------------------------------------------------


@pages.get("/contracts/{contract_id}/financial-positions/new")
def report_page(contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    contract = _reportable(request, visit, ledger, contract_id)
    return _report_form(request, visit, contract, {IDEMPOTENCY_FIELD: form_key()})


@pages.post("/contracts/{contract_id}/financial-positions/new")
def report(
    contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    contract = _reportable(request, visit, ledger, contract_id)
    errors: list[Error] = []
    body = _position(sent, errors)
    status = 400
    if body is not None:
        try:
            once(
                visit,
                sent,
                lambda: api.report_financial_position(
                    contract_id,
                    body,
                    acting(
                        request, visit, ledger, "contract.report_financial_position", sent, body
                    ),
                ),
            )
        except DomainError as error:
            status, errors = refusal(error, "financial_year")
        else:
            return done(request, address(contract_id), "position-reported")
    return _report_form(request, visit, contract, sent.kept(), errors, status)


def _reportable(
    request: Request, visit: Visit, ledger: Trustledger, contract_id: UUID
) -> ServiceContract:
    """The contract, once the reader is known to be one who may report its position."""
    return api.readable(
        ledger, caller(request, visit, "contract.report_financial_position"), contract_id
    )


def _position(sent: Submitted, errors: list[Error]) -> FinancialPositionToReport | None:
    year = sent.text("financial_year")
    if not year:
        errors.append(Error("financial_year", "Select the financial year"))
    period = sent.text("period")
    if period not in PERIODS:
        errors.append(Error("period", "Select the quarter or month the position is at"))
    outturn = pence_of(sent, "forecast_outturn", "the forecast outturn", errors)
    commentary = required(sent, "commentary", "Enter the commentary on the position", errors)
    if errors:
        return None
    assert outturn is not None  # no errors: it was read
    try:
        return FinancialPositionToReport(
            financial_year=year, period=period, forecast_outturn=outturn, commentary=commentary
        )
    except ValidationError as error:
        errors.extend(
            invalid(
                error,
                {
                    "financial_year": "financial_year",
                    "forecast_outturn": "forecast_outturn",
                    "commentary": "commentary",
                },
            )
        )
        return None


def _report_form(
    request: Request,
    visit: Visit,
    contract: ServiceContract,
    values: dict[str, Any],
    errors: list[Error] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "financial_position_new.html",
        "Report the financial position",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        contract=contract,
        values=values,
        years=[year.label for year in contract.term.financial_years],
        periods=PERIODS,
    )


# -- the dashboard's board papers -----------------------------------------------------------------


@negotiated.get("/contracts/{contract_id}/dashboard")
async def dashboard_download(
    contract_id: UUID,
    request: Request,
    visit: SignedIn,
    ledger: Ledger,
    reader: Dashboards,
    format: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """The API's dashboard export, for a browser following the dashboard page's links: the
    session, not a bearer token, says who is reading. Without a format a browser is shown the
    dashboard page itself."""
    if format not in (Format.CSV.value, Format.XLSX.value):
        return RedirectResponse(f"/contracts/{contract_id}", status_code=303)
    answer = await dashboard_api.dashboard(
        contract_id,
        caller(request, visit, "dashboard.read"),
        Reading(None),
        ledger,
        reader,
        request,
        None,
        format,
    )
    # Contract business, as the pages are: not to be kept by a shared computer's cache.
    answer.headers["Cache-Control"] = "no-store"
    return answer


router = APIRouter()
router.include_router(pages)
router.include_router(negotiated)

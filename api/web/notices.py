"""Performance notices as pages: the council issues one, the notice's own page (the HTML of
`/notices/{id}`, whose JSON the API serves), the trust answers with a remedial plan, and the
council accepts or rejects each plan and closes the notice as resolved or escalates it.

Every command and read is the API's own handler, called with what its dependency would give
it, so the role and the organisation rule are judged exactly as for the API.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.deps import Ledger, today
from api.routers import contracts as contract_api
from api.routers import notices as api
from api.schemas.common import Reason
from api.schemas.notices import (
    Escalation,
    NoticeToIssue,
    NoticeView,
    RemedialActionBody,
    RemedialPlanToSubmit,
)
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
    refusal,
    required,
    shown,
)
from api.web.routing import NegotiatedPageRoute, PageRoute
from api.web.session import SignedIn, Visit
from api.web.templating import render
from domain.application import Trustledger
from domain.errors import DomainError
from domain.performance_notice import EscalationRoute, NoticeStatus
from domain.service_contract import ServiceContract

pages = APIRouter(route_class=PageRoute, include_in_schema=False)
negotiated = APIRouter(route_class=NegotiatedPageRoute, include_in_schema=False)

# How many actions the plan form offers: enough for a plan, and no script needed to add rows.
PLAN_ACTIONS = 5

ESCALATION_ROUTES = {
    EscalationRoute.DISPUTE_RESOLUTION: "Dispute resolution under the contract",
    EscalationRoute.STEP_IN: "The council steps in to run the services",
    EscalationRoute.TERMINATION: "Termination of the contract",
    EscalationRoute.DFE_REFERRAL: "Referral to the Department for Education",
}


def address(notice_id: UUID) -> str:
    return f"/notices/{notice_id}"


# -- a contract's notices, and issuing one --------------------------------------------------------


@negotiated.get("/contracts/{contract_id}/notices")
def notices_page(contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    found = api.list_notices(contract_id, caller(request, visit, "notice.read"), ledger)
    contract = ledger.get(contract_id, ServiceContract)
    return render(
        request,
        visit,
        "notices.html",
        f"Performance notices: {contract.title}",
        nav="portfolio",
        contract=contract,
        notices=list(reversed(found)),
        may_issue=passes(lambda: _issuable(request, visit, ledger, contract_id)),
    )


@pages.get("/contracts/{contract_id}/notices/new")
def issue_page(contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    contract = _issuable(request, visit, ledger, contract_id)
    day = today()
    values = {
        IDEMPOTENCY_FIELD: form_key(),
        "issued_on-day": str(day.day),
        "issued_on-month": str(day.month),
        "issued_on-year": str(day.year),
    }
    return _issue_form(request, visit, contract, values)


@pages.post("/contracts/{contract_id}/notices/new")
def issue(
    contract_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    contract = _issuable(request, visit, ledger, contract_id)
    errors: list[Error] = []
    body = _notice(sent, contract, errors)
    status = 400
    if body is not None:
        try:
            notice = once(
                visit,
                sent,
                lambda: api.issue_notice(
                    contract_id, body, acting(request, visit, ledger, "notice.issue", sent, body)
                ),
            )
        except DomainError as error:
            status, errors = refusal(error, "grounds")
        else:
            return done(request, address(notice.id), "notice-issued")
    kept = {**sent.kept(), "kpi_codes": sent.texts("kpi_codes")}
    return _issue_form(request, visit, contract, kept, errors, status)


def _issuable(
    request: Request, visit: Visit, ledger: Trustledger, contract_id: UUID
) -> ServiceContract:
    """The contract, once the reader is known to be one who may issue a notice under it."""
    return contract_api.readable(ledger, caller(request, visit, "notice.issue"), contract_id)


def _notice(
    sent: Submitted, contract: ServiceContract, errors: list[Error]
) -> NoticeToIssue | None:
    grounds = required(sent, "grounds", "Enter what the trust has failed to do", errors)
    kpi_codes = [code for code in sent.texts("kpi_codes") if code in contract.kpi_schedule]
    clauses = [clause.strip() for clause in sent.text("clauses").split(",") if clause.strip()]
    if not kpi_codes and not clauses:
        errors.append(Error("clauses", "Select a KPI or enter the contract clause not met"))
    remedy = required(sent, "remedy", "Enter the remedy the council requires", errors)
    issued_on = sent.date("issued_on", "the date the notice is issued", errors)
    response_due = sent.date("response_due", "the date the remedial plan is due", errors)
    if errors:
        return None
    # No errors, so both dates were read.
    assert issued_on is not None
    assert response_due is not None
    if response_due <= issued_on:
        sent.refuse_date(
            sent.dates["response_due"].refused("The plan's due date must be after the date issued"),
            errors,
        )
        return None
    try:
        return NoticeToIssue(
            grounds=grounds,
            kpi_codes=kpi_codes,
            clauses=clauses,
            remedy=remedy,
            issued_on=issued_on,
            response_due=response_due,
        )
    except ValidationError as error:
        errors.extend(invalid(error, {"grounds": "grounds", "clauses": "clauses"}))
        return None


def _issue_form(
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
        "notice_new.html",
        "Issue a performance notice",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        contract=contract,
        values=values,
        kpis=contract.kpi_schedule,
    )


# -- a notice -------------------------------------------------------------------------------------


@negotiated.get("/notices/{notice_id}")
def notice_page(notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    notice = api.read_notice(notice_id, caller(request, visit, "notice.read"), ledger, Response())
    return shown(request, _notice_page(request, visit, ledger, notice, done_message(request)))


def _notice_page(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    notice: NoticeView,
    banner: str | None,
    errors: list[Error] | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    contract = ledger.get(notice.contract_id, ServiceContract)
    open_ = notice.status not in (NoticeStatus.RESOLVED, NoticeStatus.ESCALATED)
    deciding = open_ and _may(request, visit, ledger, notice.id, "notice.decide")
    return render(
        request,
        visit,
        "notice.html",
        f"Performance notice issued {notice.issued_on.day} {notice.issued_on:%B %Y}",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        banner=banner,
        notice=notice,
        contract=contract,
        kpis=contract.kpi_schedule,
        may_plan=notice.status is NoticeStatus.AWAITING_PLAN
        and _may(request, visit, ledger, notice.id, "notice.submit_remedial_plan"),
        may_decide_plan=deciding and notice.status is NoticeStatus.PLAN_SUBMITTED,
        may_close=deciding,
        routes=ESCALATION_ROUTES,
        values={IDEMPOTENCY_FIELD: form_key(), **(values or {})},
    )


def _may(request: Request, visit: Visit, ledger: Trustledger, notice_id: UUID, action: str) -> bool:
    """Whether the policy gives the reader `action` on this notice (to offer its form)."""
    return passes(
        lambda: api.read_notice(notice_id, caller(request, visit, action), ledger, Response())
    )


def _refused(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    notice_id: UUID,
    sent: Submitted,
    status: int,
    errors: list[Error],
) -> Response:
    """The notice's page again, as it now stands, with what was refused and the answers."""
    notice = api.read_notice(notice_id, caller(request, visit, "notice.read"), ledger, Response())
    return _notice_page(request, visit, ledger, notice, None, errors, status, sent.kept())


# -- the trust's remedial plan -------------------------------------------------------------------


@pages.get("/notices/{notice_id}/remedial-plan")
def plan_page(notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger) -> Response:
    notice = _plannable(request, visit, ledger, notice_id)
    return _plan_form(request, visit, ledger, notice, {IDEMPOTENCY_FIELD: form_key()})


@pages.post("/notices/{notice_id}/remedial-plan")
def submit_plan(
    notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    notice = _plannable(request, visit, ledger, notice_id)
    errors: list[Error] = []
    body = _plan(sent, errors)
    status = 400
    if body is not None:
        try:
            once(
                visit,
                sent,
                lambda: api.submit_remedial_plan(
                    notice_id,
                    body,
                    acting(request, visit, ledger, "notice.submit_remedial_plan", sent, body),
                ),
            )
        except DomainError as error:
            status, errors = refusal(error, "summary")
        else:
            return done(request, address(notice_id), "plan-submitted")
    return _plan_form(request, visit, ledger, notice, sent.kept(), errors, status)


def _plannable(request: Request, visit: Visit, ledger: Trustledger, notice_id: UUID) -> NoticeView:
    """The notice, once the reader is known to be one who may answer it with a plan."""
    return api.read_notice(
        notice_id, caller(request, visit, "notice.submit_remedial_plan"), ledger, Response()
    )


def _decidable(request: Request, visit: Visit, ledger: Trustledger, notice_id: UUID) -> None:
    """Refuse (403) a reader who may not decide this notice, before their form is looked at:
    a form without its key is refused only once the reader is known to be one who may send it."""
    api.read_notice(notice_id, caller(request, visit, "notice.decide"), ledger, Response())


def _plan(sent: Submitted, errors: list[Error]) -> RemedialPlanToSubmit | None:
    summary = required(sent, "summary", "Enter a summary of the plan", errors)
    actions: list[tuple[str, date]] = []
    for number in range(1, PLAN_ACTIONS + 1):
        name = f"action-{number}"
        description = sent.text(f"{name}-description")
        given_date = any(sent.text(f"{name}-due-{part}") for part in ("day", "month", "year"))
        if not description and not given_date and number > 1:
            continue
        if not description:
            errors.append(Error(f"{name}-description", f"Enter what action {number} will do"))
        due = sent.date(f"{name}-due", f"the date action {number} is due", errors)
        if description and due is not None:
            actions.append((description, due))
    if errors:
        return None
    try:
        return RemedialPlanToSubmit(
            summary=summary,
            actions=[RemedialActionBody(description=d, due=due) for d, due in actions],
        )
    except ValidationError as error:
        errors.extend(invalid(error, {"summary": "summary", "actions": "action-1-description"}))
        return None


def _plan_form(
    request: Request,
    visit: Visit,
    ledger: Trustledger,
    notice: NoticeView,
    values: dict[str, Any],
    errors: list[Error] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        visit,
        "notice_plan.html",
        "Send a remedial plan",
        status_code=status,
        nav="portfolio",
        errors=errors or [],
        notice=notice,
        contract=ledger.get(notice.contract_id, ServiceContract),
        values=values,
        actions=range(1, PLAN_ACTIONS + 1),
    )


# -- the council's decisions ---------------------------------------------------------------------


@pages.post("/notices/{notice_id}/accept-plan")
def accept_plan(
    notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    _decidable(request, visit, ledger, notice_id)
    try:
        once(
            visit,
            sent,
            lambda: api.accept_remedial_plan(
                notice_id, acting(request, visit, ledger, "notice.decide", sent)
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "accept-plan")
        return _refused(request, visit, ledger, notice_id, sent, status, errors)
    return done(request, address(notice_id), "plan-accepted")


@pages.post("/notices/{notice_id}/reject-plan")
def reject_plan(
    notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    _decidable(request, visit, ledger, notice_id)
    errors: list[Error] = []
    reason = required(sent, "plan_reason", "Enter why the plan is not good enough", errors)
    if errors:
        return _refused(request, visit, ledger, notice_id, sent, 400, errors)
    body = Reason(reason=reason)
    try:
        once(
            visit,
            sent,
            lambda: api.reject_remedial_plan(
                notice_id, body, acting(request, visit, ledger, "notice.decide", sent, body)
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "plan_reason")
        return _refused(request, visit, ledger, notice_id, sent, status, errors)
    return done(request, address(notice_id), "plan-rejected")


@pages.post("/notices/{notice_id}/resolve")
def resolve(
    notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    _decidable(request, visit, ledger, notice_id)
    try:
        once(
            visit,
            sent,
            lambda: api.resolve_notice(
                notice_id, acting(request, visit, ledger, "notice.decide", sent)
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "resolve")
        return _refused(request, visit, ledger, notice_id, sent, status, errors)
    return done(request, address(notice_id), "notice-resolved")


@pages.post("/notices/{notice_id}/escalate")
def escalate(
    notice_id: UUID, request: Request, visit: SignedIn, ledger: Ledger, sent: Sent
) -> Response:
    _decidable(request, visit, ledger, notice_id)
    errors: list[Error] = []
    route = sent.text("route")
    if route not in {r.value for r in EscalationRoute}:
        errors.append(Error("route", "Select where the notice is escalated to"))
    reason = required(sent, "escalation_reason", "Enter why the notice is escalated", errors)
    if errors:
        return _refused(request, visit, ledger, notice_id, sent, 400, errors)
    body = Escalation(route=EscalationRoute(route), reason=reason)
    try:
        once(
            visit,
            sent,
            lambda: api.escalate_notice(
                notice_id, body, acting(request, visit, ledger, "notice.decide", sent, body)
            ),
        )
    except DomainError as error:
        status, errors = refusal(error, "escalation_reason")
        return _refused(request, visit, ledger, notice_id, sent, status, errors)
    return done(request, address(notice_id), "notice-escalated")


router = APIRouter()
router.include_router(pages)
router.include_router(negotiated)

"""Performance notices: issued by the council under a live contract, answered by the trust's
remedial plans, and closed as resolved or escalated. Each handler turns one request into one
command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import Acting, Caller, Ledger, acting_as, allowed, etag, today
from api.routers.contracts import parties, readable
from api.schemas.common import Reason
from api.schemas.notices import Escalation, NoticeToIssue, NoticeView, RemedialPlanToSubmit
from domain.application import Session
from domain.errors import ContractNotLive
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract

# Notices are issued and listed under their contract, and then known by their own id.
_under_contract = APIRouter(prefix="/contracts/{contract_id}/notices")
_notices = APIRouter(prefix="/notices")


def _parties(notice: PerformanceNotice) -> tuple[str, str]:
    return (notice.council_organisation_id, notice.trust_organisation_id)


def _act(
    acting: Acting, notice_id: UUID, command: Callable[[PerformanceNotice], None]
) -> NoticeView:
    """Run one command on a notice the caller's organisation may act on; answer with the notice
    as the command left it, its ETag and the log position written."""
    outcome = acting.ledger.change(
        PerformanceNotice,
        notice_id,
        command,
        actor=acting.actor,
        write=acting.write,
        guard=lambda notice: acting.caller.check(notice.contract_id, _parties(notice)),
    )
    acting.report(outcome.version, outcome.position)
    notice = acting.ledger.get(notice_id, PerformanceNotice, outcome.version)
    return NoticeView.of(notice, today())


@_under_contract.post(
    "", status_code=status.HTTP_201_CREATED, summary="Issue a performance notice to the trust"
)
def issue_notice(
    contract_id: UUID,
    body: NoticeToIssue,
    acting: Annotated[Acting, Depends(acting_as("notice.issue"))],
) -> NoticeView:
    # The contract is read in the same unit of work as the notice is added, so a notice is
    # never issued on the strength of a stale read of who the parties are or whether it binds.
    def issue(session: Session) -> PerformanceNotice:
        contract = session.get(contract_id, ServiceContract)
        acting.caller.check(contract.id, parties(contract))
        if not contract.is_in_force:
            raise ContractNotLive(
                "a performance notice is issued under a contract both parties have signed "
                "and that has not ended"
            )
        return PerformanceNotice.issue(
            contract_id=contract.id,
            council_organisation_id=contract.council.organisation_id,
            trust_organisation_id=contract.trust.organisation_id,
            grounds=body.grounds,
            kpi_codes=body.kpi_codes,
            clauses=body.clauses,
            remedy=body.remedy,
            response_due=body.response_due,
            issued_on=body.issued_on,
            actor=acting.actor,
        )

    return NoticeView.of(acting.create(PerformanceNotice, issue, "/notices"), today())


@_under_contract.get("", summary="The performance notices issued under a contract")
def list_notices(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("notice.read"))],
    ledger: Ledger,
) -> list[NoticeView]:
    readable(ledger, caller, contract_id)
    day = today()
    return [NoticeView.of(notice, day) for notice in ledger.notices(contract_id)]


@_notices.get("/{notice_id}", summary="A performance notice as it stands")
def read_notice(
    notice_id: UUID,
    caller: Annotated[Caller, Depends(allowed("notice.read"))],
    ledger: Ledger,
    response: Response,
) -> NoticeView:
    notice = ledger.get(notice_id, PerformanceNotice)
    caller.check(notice.contract_id, _parties(notice))
    response.headers["ETag"] = etag(notice.version)
    return NoticeView.of(notice, today())


@_notices.post("/{notice_id}/remedial-plans", summary="Answer the notice with a remedial plan")
def submit_remedial_plan(
    notice_id: UUID,
    body: RemedialPlanToSubmit,
    acting: Annotated[Acting, Depends(acting_as("notice.submit_remedial_plan"))],
) -> NoticeView:
    return _act(
        acting,
        notice_id,
        lambda notice: notice.submit_remedial_plan(
            summary=body.summary, actions=body.remedial_actions(), actor=acting.actor
        ),
    )


@_notices.post(
    "/{notice_id}/remedial-plans/acceptance", summary="Accept the plan awaiting a decision"
)
def accept_remedial_plan(
    notice_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("notice.decide"))],
) -> NoticeView:
    return _act(
        acting,
        notice_id,
        lambda notice: notice.accept_remedial_plan(actor=acting.actor),
    )


@_notices.post(
    "/{notice_id}/remedial-plans/rejection",
    summary="Reject the plan awaiting a decision, saying why; the trust then sends another",
)
def reject_remedial_plan(
    notice_id: UUID,
    body: Reason,
    acting: Annotated[Acting, Depends(acting_as("notice.decide"))],
) -> NoticeView:
    return _act(
        acting,
        notice_id,
        lambda notice: notice.reject_remedial_plan(reason=body.reason, actor=acting.actor),
    )


@_notices.post("/{notice_id}/resolution", summary="Close the notice as resolved")
def resolve_notice(
    notice_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("notice.decide"))],
) -> NoticeView:
    return _act(
        acting,
        notice_id,
        lambda notice: notice.resolve(actor=acting.actor),
    )


@_notices.post(
    "/{notice_id}/escalation",
    summary="Close the notice by escalating it: dispute resolution, step-in, termination or DfE",
)
def escalate_notice(
    notice_id: UUID,
    body: Escalation,
    acting: Annotated[Acting, Depends(acting_as("notice.decide"))],
) -> NoticeView:
    return _act(
        acting,
        notice_id,
        lambda notice: notice.escalate(route=body.route, reason=body.reason, actor=acting.actor),
    )


# What api/app.py includes: both groups of routes, under one tag.
router = APIRouter(tags=["performance notices"])
router.include_router(_under_contract)
router.include_router(_notices)

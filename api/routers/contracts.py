"""Service contracts: drafted by the council, signed by both parties, varied by agreement,
governed, paid for and ended. Each handler turns one request into one command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import (
    Acting,
    Caller,
    Ledger,
    ReadAt,
    acting_as,
    allowed,
    as_at_headers,
    etag,
    instant,
    today,
)
from api.policy import can_read
from api.schemas.changes import ChangesView
from api.schemas.common import Reason
from api.schemas.contracts import (
    ActionCompletion,
    AnnualReviewToHold,
    BoardToEstablish,
    BreakClauseDecisionBody,
    ContractSummary,
    ContractToDraft,
    ContractView,
    Created,
    DraftAmendment,
    EarlyEnding,
    ExtensionToTake,
    FinancialPositionToReport,
    MeetingMinutes,
    MeetingToSchedule,
    ObligationMet,
    ObligationToSet,
    PaymentToRecord,
    ReservedMatterToRefer,
    VariationToPropose,
)
from domain.application import AsAt
from domain.errors import NotFound, UnknownReference
from domain.organisation import Organisation, OrganisationKind
from domain.service_contract import Council, ServiceContract, Trust

router = APIRouter(prefix="/contracts", tags=["contracts"])

R = TypeVar("R")


def parties(contract: ServiceContract) -> tuple[str, str]:
    return (contract.council.organisation_id, contract.trust.organisation_id)


def act(
    acting: Acting, contract_id: UUID, command: Callable[[ServiceContract], R]
) -> tuple[R, ContractView]:
    """Run one command on a contract the caller's organisation may act on; answer with the
    contract as the command left it, its ETag and the log position written."""
    outcome = acting.ledger.change(
        ServiceContract,
        contract_id,
        command,
        actor=acting.actor,
        write=acting.write,
        guard=lambda contract: acting.caller.check(contract.id, parties(contract)),
    )
    acting.report(outcome.version, outcome.position)
    contract = acting.ledger.get(contract_id, ServiceContract, outcome.version)
    return outcome.value, ContractView.of(contract, today())


def readable(
    ledger: Ledger, caller: Caller, contract_id: UUID, at: AsAt | None = None
) -> ServiceContract:
    """The contract, as it stands or as the ledger knew it at an instant, once the caller is
    known to be one of its readers."""
    try:
        contract = ledger.get_as_at(contract_id, ServiceContract, at)
    except NotFound:
        if at is not None:
            # A contract's parties never change, so its readers now are its readers at any
            # instant: a stranger asking about a time before it existed is refused as a
            # stranger, and learns nothing of when it was drafted.
            readable(ledger, caller, contract_id)
        raise
    caller.check(contract.id, parties(contract))
    return contract


@router.get("", summary="The contracts you may read")
def list_contracts(
    caller: Annotated[Caller, Depends(allowed("contract.list"))], ledger: Ledger
) -> list[ContractSummary]:
    day = today()
    return [
        ContractSummary.of(contract, day)
        for contract in ledger.contracts()
        if can_read(caller.principal, contract.id, parties(contract))
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Draft a contract with a trust")
def draft_contract(
    body: ContractToDraft,
    acting: Annotated[Acting, Depends(acting_as("contract.draft"))],
) -> ContractView:
    ledger = acting.ledger
    council = _organisation(
        ledger, UUID(acting.caller.principal.organisation_id), OrganisationKind.COUNCIL
    )
    trust = _organisation(ledger, body.trust_organisation_id, OrganisationKind.TRUST)
    # A council organisation always has both codes: `Organisation.register` insists on them.
    assert council.la_number is not None
    assert council.ons_code is not None
    commissioner = Council(
        la_number=council.la_number,
        ons_code=council.ons_code,
        name=council.name,
        organisation_id=str(council.id),
    )
    contract = acting.create(
        ServiceContract,
        lambda _: ServiceContract.draft(
            council=commissioner,
            trust=Trust(name=trust.name, organisation_id=str(trust.id)),
            title=body.title,
            term=body.term.term(),
            scope=body.scope,
            contract_sums=body.contract_sums,
            actor=acting.actor,
        ),
        "/contracts",
    )
    return ContractView.of(contract, today())


@router.get("/{contract_id}", summary="A contract as it stands, or as the ledger knew it then")
def read_contract(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("contract.read"))],
    reading: ReadAt,
    ledger: Ledger,
    response: Response,
) -> ContractView:
    contract = readable(ledger, caller, contract_id, reading.as_at)
    response.headers["ETag"] = etag(contract.version)
    reading.report(response)
    return ContractView.of(contract, reading.day)


@router.get(
    "/{contract_id}/changes",
    summary="What the ledger recorded about the contract, its KPIs and notices between two "
    "instants, with who and why",
)
def list_changes(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("contract.read"))],
    ledger: Ledger,
    response: Response,
    since: Annotated[
        str, Query(alias="from", description="an instant with its offset: changes after it")
    ],
    until: Annotated[
        str | None,
        Query(alias="to", description="an instant with its offset: changes up to it (or now)"),
    ] = None,
    after: Annotated[
        # Bounded as a log position is, so that no cursor overflows the store's integers.
        int | None,
        Query(ge=0, le=2**62, description="the cursor: `next_after` of the page before"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangesView:
    contract = readable(ledger, caller, contract_id)
    start = ledger.as_at(instant(since, "from"))
    end = ledger.as_at(datetime.now(UTC) if until is None else instant(until, "to"))
    changes = ledger.changes(contract, start, end, after=after, limit=limit)
    response.headers.update(as_at_headers(end))
    return ChangesView.of(contract, start, end, changes)


@router.patch("/{contract_id}", summary="Amend the draft's terms (before anyone signs)")
def amend_draft(
    contract_id: UUID,
    body: DraftAmendment,
    acting: Annotated[Acting, Depends(acting_as("contract.amend_draft"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.amend_draft(
            actor=acting.actor,
            title=body.title,
            term=body.term.term() if body.term else None,
            scope=body.scope,
            contract_sums=body.contract_sums,
        ),
    )
    return view


@router.post("/{contract_id}/signatures", summary="Sign the contract for your organisation")
def sign_contract(
    contract_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("contract.sign", consent=True))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.sign(actor=acting.actor),
    )
    return view


@router.post(
    "/{contract_id}/obligations",
    status_code=status.HTTP_201_CREATED,
    summary="Set an outcome the trust must achieve by a date (while drafting)",
)
def set_obligation(
    contract_id: UUID,
    body: ObligationToSet,
    acting: Annotated[Acting, Depends(acting_as("contract.set_obligation"))],
) -> Created:
    obligation_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.set_obligation(
            description=body.description, due_on=body.due_on, actor=acting.actor
        ),
    )
    return Created(id=obligation_id, contract=view)


# -- variations ---------------------------------------------------------------------------------


@router.post(
    "/{contract_id}/variations",
    status_code=status.HTTP_201_CREATED,
    summary="Propose a variation for the other party to agree",
)
def propose_variation(
    contract_id: UUID,
    body: VariationToPropose,
    acting: Annotated[Acting, Depends(acting_as("contract.propose_variation"))],
) -> Created:
    variation_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.propose_variation(
            changes=body.changes.changes(contract.indicator),
            rationale=body.rationale,
            actor=acting.actor,
        ),
    )
    return Created(id=variation_id, contract=view)


@router.post(
    "/{contract_id}/variations/{variation_id}/agreement",
    summary="Agree the other party's variation: it takes effect at once",
)
def agree_variation(
    contract_id: UUID,
    variation_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("contract.decide_variation", consent=True))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.agree_variation(variation_id=variation_id, actor=acting.actor),
    )
    return view


@router.post(
    "/{contract_id}/variations/{variation_id}/rejection",
    summary="Reject the other party's variation, saying why",
)
def reject_variation(
    contract_id: UUID,
    variation_id: UUID,
    body: Reason,
    acting: Annotated[Acting, Depends(acting_as("contract.decide_variation"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.reject_variation(
            variation_id=variation_id, reason=body.reason, actor=acting.actor
        ),
    )
    return view


@router.post(
    "/{contract_id}/variations/{variation_id}/withdrawal",
    summary="Withdraw your own proposal",
)
def withdraw_variation(
    contract_id: UUID,
    variation_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("contract.decide_variation"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.withdraw_variation(variation_id=variation_id, actor=acting.actor),
    )
    return view


# -- governance ---------------------------------------------------------------------------------


@router.post(
    "/{contract_id}/boards",
    status_code=status.HTTP_201_CREATED,
    summary="Establish a board or group that governs the contract",
)
def establish_board(
    contract_id: UUID,
    body: BoardToEstablish,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> Created:
    board_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.establish_board(
            kind=body.kind, name=body.name, actor=acting.actor
        ),
    )
    return Created(id=board_id, contract=view)


@router.post(
    "/{contract_id}/boards/{board_id}/meetings",
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a meeting of a board",
)
def schedule_meeting(
    contract_id: UUID,
    board_id: UUID,
    body: MeetingToSchedule,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> Created:
    meeting_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.schedule_meeting(
            board_id=board_id, scheduled_for=body.scheduled_for, actor=acting.actor
        ),
    )
    return Created(id=meeting_id, contract=view)


@router.post(
    "/{contract_id}/meetings/{meeting_id}/minutes",
    summary="Record that a scheduled meeting was held, with its decisions and actions",
)
def hold_meeting(
    contract_id: UUID,
    meeting_id: UUID,
    body: MeetingMinutes,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> ContractView:
    # The new actions' ids are in the view, listed on the meeting.
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.hold_meeting(
            meeting_id=meeting_id,
            held_on=body.held_on,
            decisions=body.decisions,
            actions=body.agreed_actions(),
            actor=acting.actor,
        ),
    )
    return view


@router.post(
    "/{contract_id}/meetings/{meeting_id}/cancellation",
    summary="Cancel a scheduled meeting, saying why",
)
def cancel_meeting(
    contract_id: UUID,
    meeting_id: UUID,
    body: Reason,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.cancel_meeting(
            meeting_id=meeting_id, reason=body.reason, actor=acting.actor
        ),
    )
    return view


@router.post(
    "/{contract_id}/actions/{action_id}/completion",
    summary="Record that an action agreed at a meeting or review was completed",
)
def complete_action(
    contract_id: UUID,
    action_id: UUID,
    body: ActionCompletion,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.complete_action(
            action_id=action_id, completed_on=body.completed_on, actor=acting.actor
        ),
    )
    return view


@router.post(
    "/{contract_id}/annual-reviews",
    summary="Record the annual review of a contract year, with the actions it agreed",
)
def hold_annual_review(
    contract_id: UUID,
    body: AnnualReviewToHold,
    acting: Annotated[Acting, Depends(acting_as("contract.govern"))],
) -> ContractView:
    # A review is known by its contract year, and its actions' ids are in the view.
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.hold_annual_review(
            contract_year=body.contract_year,
            held_on=body.held_on,
            outcome=body.outcome,
            actions=body.agreed_actions(),
            actor=acting.actor,
        ),
    )
    return view


# -- obligations and reserved matters -----------------------------------------------------------


@router.post(
    "/{contract_id}/obligations/{obligation_id}/met",
    summary="Record, on evidence, that the trust met an obligation",
)
def record_obligation_met(
    contract_id: UUID,
    obligation_id: UUID,
    body: ObligationMet,
    acting: Annotated[Acting, Depends(acting_as("contract.settle_obligation"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.record_obligation_met(
            obligation_id=obligation_id,
            met_on=body.met_on,
            evidence=body.evidence,
            actor=acting.actor,
        ),
    )
    return view


@router.post(
    "/{contract_id}/obligations/{obligation_id}/missed",
    summary="Record that the trust missed an obligation, saying why",
)
def record_obligation_missed(
    contract_id: UUID,
    obligation_id: UUID,
    body: Reason,
    acting: Annotated[Acting, Depends(acting_as("contract.settle_obligation"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.record_obligation_missed(
            obligation_id=obligation_id, reason=body.reason, actor=acting.actor
        ),
    )
    return view


@router.post(
    "/{contract_id}/reserved-matters",
    status_code=status.HTTP_201_CREATED,
    summary="Refer a reserved matter to the council for its decision",
)
def refer_reserved_matter(
    contract_id: UUID,
    body: ReservedMatterToRefer,
    acting: Annotated[Acting, Depends(acting_as("contract.refer_reserved_matter"))],
) -> Created:
    matter_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.refer_reserved_matter(subject=body.subject, actor=acting.actor),
    )
    return Created(id=matter_id, contract=view)


@router.post(
    "/{contract_id}/reserved-matters/{matter_id}/approval",
    summary="Approve a reserved matter",
)
def approve_reserved_matter(
    contract_id: UUID,
    matter_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("contract.decide_reserved_matter"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.approve_reserved_matter(matter_id=matter_id, actor=acting.actor),
    )
    return view


@router.post(
    "/{contract_id}/reserved-matters/{matter_id}/refusal",
    summary="Refuse a reserved matter, saying why",
)
def refuse_reserved_matter(
    contract_id: UUID,
    matter_id: UUID,
    body: Reason,
    acting: Annotated[Acting, Depends(acting_as("contract.decide_reserved_matter"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.refuse_reserved_matter(
            matter_id=matter_id, reason=body.reason, actor=acting.actor
        ),
    )
    return view


# -- finances -----------------------------------------------------------------------------------


@router.post(
    "/{contract_id}/financial-positions",
    summary="Report the trust's forecast outturn for a year, as at a quarter or month",
)
def report_financial_position(
    contract_id: UUID,
    body: FinancialPositionToReport,
    acting: Annotated[Acting, Depends(acting_as("contract.report_financial_position"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.report_financial_position(
            financial_year=body.financial_year,
            period=body.period,
            forecast_outturn=body.forecast_outturn,
            commentary=body.commentary,
            actor=acting.actor,
        ),
    )
    return view


@router.post(
    "/{contract_id}/payments",
    status_code=status.HTTP_201_CREATED,
    summary="Record a payment from the council to the trust",
)
def record_payment(
    contract_id: UUID,
    body: PaymentToRecord,
    acting: Annotated[Acting, Depends(acting_as("contract.record_payment"))],
) -> Created:
    payment_id, view = act(
        acting,
        contract_id,
        lambda contract: contract.record_payment(
            amount=body.amount, paid_on=body.paid_on, reference=body.reference, actor=acting.actor
        ),
    )
    return Created(id=payment_id, contract=view)


# -- ending -------------------------------------------------------------------------------------


@router.post("/{contract_id}/extension", summary="Take up one of the term's extension options")
def extend_contract(
    contract_id: UUID,
    body: ExtensionToTake,
    acting: Annotated[Acting, Depends(acting_as("contract.extend"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.extend(months=body.months, actor=acting.actor),
    )
    return view


@router.post(
    "/{contract_id}/break-clause-decisions",
    summary="Decide whether to use the break clause; using it ends the contract",
)
def consider_break_clause(
    contract_id: UUID,
    body: BreakClauseDecisionBody,
    acting: Annotated[Acting, Depends(acting_as("contract.end"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.consider_break_clause(
            used=body.used, rationale=body.rationale, ends_on=body.ends_on, actor=acting.actor
        ),
    )
    return view


@router.post("/{contract_id}/expiry", summary="Record that the term has run out")
def expire_contract(
    contract_id: UUID,
    acting: Annotated[Acting, Depends(acting_as("contract.expire"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.expire(on=today(), actor=acting.actor),
    )
    return view


@router.post(
    "/{contract_id}/termination", summary="End the contract early under its termination clauses"
)
def terminate_contract(
    contract_id: UUID,
    body: EarlyEnding,
    acting: Annotated[Acting, Depends(acting_as("contract.terminate"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.terminate(
            reason=body.reason, ends_on=body.ends_on, actor=acting.actor
        ),
    )
    return view


@router.post("/{contract_id}/return-in-house", summary="Take the services back into the council")
def return_in_house(
    contract_id: UUID,
    body: EarlyEnding,
    acting: Annotated[Acting, Depends(acting_as("contract.end"))],
) -> ContractView:
    _, view = act(
        acting,
        contract_id,
        lambda contract: contract.return_in_house(
            reason=body.reason, ends_on=body.ends_on, actor=acting.actor
        ),
    )
    return view


def _organisation(ledger: Ledger, organisation_id: UUID, kind: OrganisationKind) -> Organisation:
    try:
        organisation = ledger.get(organisation_id, Organisation)
    except NotFound:
        organisation = None
    if organisation is None or organisation.kind is not kind:
        raise UnknownReference(f"there is no {kind} organisation {organisation_id}")
    return organisation


__all__ = ["Created", "act", "parties", "readable", "router"]

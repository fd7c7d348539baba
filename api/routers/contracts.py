"""Service contracts: drafted by the council, signed by both parties, varied by agreement,
governed, paid for and ended. Each handler turns one request into one command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import (
    Caller,
    ConsentingWrite,
    CurrentPrincipal,
    Ledger,
    WriteOptions,
    allowed,
    etag,
    outcome_headers,
    today,
)
from api.policy import can_read, require_role
from api.schemas.contracts import (
    ContractSummary,
    ContractToDraft,
    ContractView,
    Created,
    DraftAmendment,
)
from domain.errors import NotFound, UnknownReference
from domain.organisation import Organisation, OrganisationKind
from domain.service_contract import Council, ServiceContract, Trust

router = APIRouter(prefix="/contracts", tags=["contracts"])

R = TypeVar("R")


def parties(contract: ServiceContract) -> tuple[str, str]:
    return (contract.council.organisation_id, contract.trust.organisation_id)


def act(
    ledger: Ledger,
    caller: Caller,
    contract_id: UUID,
    write: WriteOptions,
    response: Response,
    command: Callable[[ServiceContract], R],
) -> tuple[R, ContractView]:
    """Run one command on a contract the caller's organisation may act on; answer with the
    contract as the command left it, its ETag and the log position written."""
    outcome = ledger.change(
        ServiceContract,
        contract_id,
        command,
        actor=caller.actor,
        write=write,
        guard=lambda contract: caller.check(contract.id, parties(contract)),
    )
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    contract = ledger.get(contract_id, ServiceContract, outcome.version)
    return outcome.value, ContractView.of(contract, today())


def readable(ledger: Ledger, caller: Caller, contract_id: UUID) -> ServiceContract:
    contract = ledger.get(contract_id, ServiceContract)
    caller.check(contract.id, parties(contract))
    return contract


@router.get("", summary="The contracts you may read")
def list_contracts(principal: CurrentPrincipal, ledger: Ledger) -> list[ContractSummary]:
    require_role(principal, "contract.list")
    day = today()
    return [
        ContractSummary.of(contract, day)
        for contract in ledger.contracts()
        if can_read(principal, contract.id, parties(contract))
    ]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Draft a contract with a trust")
def draft_contract(
    body: ContractToDraft,
    caller: Annotated[Caller, Depends(allowed("contract.draft"))],
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> ContractView:
    council = _organisation(ledger, UUID(caller.principal.organisation_id), OrganisationKind.COUNCIL)
    trust = _organisation(ledger, body.trust_organisation_id, OrganisationKind.TRUST)
    # A council organisation always has both codes: `Organisation.register` insists on them.
    assert council.la_number is not None and council.ons_code is not None
    commissioner = Council(
        la_number=council.la_number,
        ons_code=council.ons_code,
        name=council.name,
        organisation_id=str(council.id),
    )
    outcome = ledger.create(
        lambda _: ServiceContract.draft(
            council=commissioner,
            trust=Trust(name=trust.name, organisation_id=str(trust.id)),
            title=body.title,
            term=body.term.term(),
            scope=body.scope,
            contract_sums=body.contract_sums,
            actor=caller.actor,
        ),
        actor=caller.actor,
        write=write,
    )
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    response.headers["Location"] = f"/contracts/{outcome.aggregate_id}"
    contract = ledger.get(outcome.aggregate_id, ServiceContract, outcome.version)
    return ContractView.of(contract, today())


@router.get("/{contract_id}", summary="A contract as it stands")
def read_contract(
    contract_id: UUID,
    caller: Annotated[Caller, Depends(allowed("contract.read"))],
    ledger: Ledger,
    response: Response,
) -> ContractView:
    contract = readable(ledger, caller, contract_id)
    response.headers["ETag"] = etag(contract.version)
    return ContractView.of(contract, today())


@router.patch("/{contract_id}", summary="Amend the draft's terms (before anyone signs)")
def amend_draft(
    contract_id: UUID,
    body: DraftAmendment,
    caller: Annotated[Caller, Depends(allowed("contract.amend_draft"))],
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> ContractView:
    _, view = act(
        ledger, caller, contract_id, write, response,
        lambda contract: contract.amend_draft(
            actor=caller.actor,
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
    caller: Annotated[Caller, Depends(allowed("contract.sign"))],
    ledger: Ledger,
    write: ConsentingWrite,
    response: Response,
) -> ContractView:
    _, view = act(
        ledger, caller, contract_id, write, response,
        lambda contract: contract.sign(actor=caller.actor),
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

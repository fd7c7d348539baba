"""People's accounts: registered, granted contracts, disabled and re-enabled by an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import Acting, Caller, Ledger, acting_as, allowed, etag
from api.schemas.common import Reason
from api.schemas.directory import (
    AccountToRegister,
    AccountView,
    ContractGrant,
    NewPassword,
)
from api.security import hash_password
from domain.account import Account
from domain.application import Session, Trustledger
from domain.errors import NotFound, UnknownReference
from domain.ledger import LedgerAggregate
from domain.organisation import Organisation
from domain.service_contract import ServiceContract

router = APIRouter(prefix="/accounts", tags=["accounts"])

Managing = Annotated[Acting, Depends(acting_as("account.manage"))]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an account")
def register_account(body: AccountToRegister, acting: Managing) -> AccountView:
    _must_exist(acting.ledger, body.organisation_id, Organisation, "organisation")
    # Hashing is slow by design: do it before queuing for the writer, not inside it.
    password_hash = hash_password(body.password)

    def register(session: Session) -> Account:
        account = Account.register(
            email=body.email,
            display_name=body.display_name,
            organisation_id=str(body.organisation_id),
            role=body.role,
            actor=acting.actor,
        )
        session.store_password_hash(account.id, password_hash)
        return account

    return AccountView.of(acting.create(Account, register, "/accounts"))


@router.get("/{account_id}", summary="An account")
def read_account(
    account_id: UUID,
    _: Annotated[Caller, Depends(allowed("account.read"))],
    ledger: Ledger,
    response: Response,
) -> AccountView:
    account = ledger.get(account_id, Account)
    response.headers["ETag"] = etag(account.version)
    return AccountView.of(account)


def _change(acting: Acting, account_id: UUID, command: Callable[[Account], None]) -> AccountView:
    outcome = acting.ledger.change(
        Account, account_id, command, actor=acting.actor, write=acting.write
    )
    acting.report(outcome.version, outcome.position)
    return AccountView.of(acting.ledger.get(account_id, Account, outcome.version))


@router.post("/{account_id}/grants", summary="Let an auditor read a contract")
def grant_contract(
    account_id: UUID,
    body: ContractGrant,
    acting: Managing,
) -> AccountView:
    _must_exist(acting.ledger, body.contract_id, ServiceContract, "contract")
    return _change(
        acting,
        account_id,
        lambda account: account.grant_contract(body.contract_id, actor=acting.actor),
    )


@router.delete("/{account_id}/grants/{contract_id}", summary="Stop an auditor reading a contract")
def revoke_contract(
    account_id: UUID,
    contract_id: UUID,
    acting: Managing,
) -> AccountView:
    return _change(
        acting,
        account_id,
        lambda account: account.revoke_contract(contract_id, actor=acting.actor),
    )


@router.post("/{account_id}/disable", summary="Disable an account: its tokens stop working at once")
def disable_account(
    account_id: UUID,
    body: Reason,
    acting: Managing,
) -> AccountView:
    return _change(
        acting,
        account_id,
        lambda account: account.disable(reason=body.reason, actor=acting.actor),
    )


@router.post("/{account_id}/enable", summary="Enable a disabled account")
def enable_account(account_id: UUID, acting: Managing) -> AccountView:
    return _change(
        acting,
        account_id,
        lambda account: account.enable(actor=acting.actor),
    )


@router.put("/{account_id}/password", summary="Set a new password")
def set_password(
    account_id: UUID,
    body: NewPassword,
    acting: Managing,
) -> AccountView:
    # Hashing costs a deliberate fraction of a second: spend it only on an account that exists.
    acting.ledger.get(account_id, Account)
    password_hash = hash_password(body.password)

    def change_password(session: Session) -> tuple[Account, None]:
        account = session.get(account_id, Account)
        account.check_version(acting.write.expected_version)
        account.record_password_changed(actor=acting.actor)
        session.store_password_hash(account.id, password_hash)
        return account, None

    outcome = acting.ledger.execute(change_password, actor=acting.actor, write=acting.write)
    acting.report(outcome.version, outcome.position)
    return AccountView.of(acting.ledger.get(account_id, Account, outcome.version))


def _must_exist(
    ledger: Trustledger, aggregate_id: UUID, cls: type[LedgerAggregate], what: str
) -> None:
    """Organisations and contracts are never deleted, so a check before the write holds."""
    try:
        ledger.get(aggregate_id, cls)
    except NotFound:
        raise UnknownReference(f"there is no {what} {aggregate_id}") from None

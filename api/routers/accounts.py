"""People's accounts: registered, granted contracts, disabled and re-enabled by an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Response, status

from api.deps import Caller, Ledger, WriteOptions, allowed, etag, outcome_headers
from api.schemas.directory import (
    AccountToRegister,
    AccountView,
    ContractGrant,
    NewPassword,
    Reason,
)
from api.security import hash_password
from domain.account import Account
from domain.application import Session
from domain.errors import NotFound, UnknownReference
from domain.organisation import Organisation
from domain.service_contract import ServiceContract

router = APIRouter(prefix="/accounts", tags=["accounts"])

Manager = Annotated[Caller, Depends(allowed("account.manage"))]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Register an account")
def register_account(
    body: AccountToRegister,
    caller: Manager,
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> AccountView:
    # Hashing is slow by design: do it before queuing for the writer, not inside it.
    password_hash = hash_password(body.password)

    _must_exist(ledger, body.organisation_id, Organisation, "organisation")

    def register(session: Session) -> Account:
        account = Account.register(
            email=body.email,
            display_name=body.display_name,
            organisation_id=str(body.organisation_id),
            role=body.role,
            actor=caller.actor,
        )
        session.store_password_hash(account.id, password_hash)
        return account

    outcome = ledger.create(register, actor=caller.actor, write=write)
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    response.headers["Location"] = f"/accounts/{outcome.aggregate_id}"
    return AccountView.of(ledger.get(outcome.aggregate_id, Account, outcome.version))


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


def _change(
    ledger: Ledger,
    account_id: UUID,
    caller: Caller,
    write: WriteOptions,
    response: Response,
    command: Callable[[Account], None],
) -> AccountView:
    outcome = ledger.change(Account, account_id, command, actor=caller.actor, write=write)
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    return AccountView.of(ledger.get(account_id, Account, outcome.version))


@router.post("/{account_id}/grants", summary="Let an auditor read a contract")
def grant_contract(
    account_id: UUID,
    body: ContractGrant,
    caller: Manager,
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> AccountView:
    _must_exist(ledger, body.contract_id, ServiceContract, "contract")
    return _change(
        ledger,
        account_id,
        caller,
        write,
        response,
        lambda account: account.grant_contract(body.contract_id, actor=caller.actor),
    )


@router.delete("/{account_id}/grants/{contract_id}", summary="Stop an auditor reading a contract")
def revoke_contract(
    account_id: UUID,
    contract_id: UUID,
    caller: Manager,
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> AccountView:
    return _change(
        ledger,
        account_id,
        caller,
        write,
        response,
        lambda account: account.revoke_contract(contract_id, actor=caller.actor),
    )


@router.post("/{account_id}/disable", summary="Disable an account: its tokens stop working at once")
def disable_account(
    account_id: UUID,
    body: Reason,
    caller: Manager,
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> AccountView:
    return _change(
        ledger,
        account_id,
        caller,
        write,
        response,
        lambda account: account.disable(reason=body.reason, actor=caller.actor),
    )


@router.post("/{account_id}/enable", summary="Enable a disabled account")
def enable_account(
    account_id: UUID, caller: Manager, ledger: Ledger, write: WriteOptions, response: Response
) -> AccountView:
    return _change(
        ledger,
        account_id,
        caller,
        write,
        response,
        lambda account: account.enable(actor=caller.actor),
    )


@router.put("/{account_id}/password", summary="Set a new password")
def set_password(
    account_id: UUID,
    body: NewPassword,
    caller: Manager,
    ledger: Ledger,
    write: WriteOptions,
    response: Response,
) -> AccountView:
    password_hash = hash_password(body.password)

    def change_password(session: Session) -> tuple[Account, None]:
        account = session.get(account_id, Account)
        account.check_version(write.expected_version)
        account.record_password_changed(actor=caller.actor)
        session.store_password_hash(account.id, password_hash)
        return account, None

    outcome = ledger.execute(change_password, actor=caller.actor, write=write)
    response.headers.update(outcome_headers(outcome.version, outcome.position))
    return AccountView.of(ledger.get(account_id, Account, outcome.version))


def _must_exist(ledger: Ledger, aggregate_id: UUID, cls: type[object], what: str) -> None:
    """Organisations and contracts are never deleted, so a check before the write holds."""
    try:
        ledger.get(aggregate_id, cls)  # type: ignore[type-var]
    except NotFound:
        raise UnknownReference(f"there is no {what} {aggregate_id}") from None

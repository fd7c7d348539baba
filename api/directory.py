"""Setting up who may sign in, outside any request: the first admin and the demo accounts."""

from __future__ import annotations

from contextlib import suppress
from uuid import UUID

from api.security import hash_password
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Session, Trustledger, Write
from domain.errors import AlreadyExists
from domain.organisation import Organisation, OrganisationKind

SYSTEM = Actor(user_id="system", organisation_id="system", role=Role.SYSTEM)
OPERATOR = "Trustledger operator"


def ensure_organisation(
    ledger: Trustledger,
    name: str,
    kind: OrganisationKind,
    la_number: str | None = None,
    ons_code: str | None = None,
) -> UUID:
    """Register an organisation unless the ledger already holds it; its id either way."""
    with suppress(AlreadyExists):
        ledger.create(
            lambda _: Organisation.register(
                name=name, kind=kind, la_number=la_number, ons_code=ons_code, actor=SYSTEM
            ),
            actor=SYSTEM,
            write=Write(),
        )
    return Organisation.id_for(name)


def ensure_account(
    ledger: Trustledger,
    email: str,
    display_name: str,
    organisation_id: UUID,
    role: Role,
    password: str,
) -> UUID:
    """Register an account unless it exists; an existing one keeps its password."""
    password_hash = hash_password(password)

    def register(session: Session) -> Account:
        account = Account.register(
            email=email,
            display_name=display_name,
            organisation_id=str(organisation_id),
            role=role,
            actor=SYSTEM,
        )
        session.store_password_hash(account.id, password_hash)
        return account

    with suppress(AlreadyExists):
        ledger.create(register, actor=SYSTEM, write=Write())
    return Account.id_for(email)


def add_admin(ledger: Trustledger, email: str, display_name: str, password: str) -> UUID:
    if len(password) < 12:
        raise SystemExit("an admin's password needs at least 12 characters")
    operator = ensure_organisation(ledger, OPERATOR, OrganisationKind.OPERATOR)
    return ensure_account(ledger, email, display_name, operator, Role.ADMIN, password)

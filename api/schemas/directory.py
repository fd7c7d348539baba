"""Organisations and accounts."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body
from domain.account import Account
from domain.actor import Role
from domain.organisation import Organisation, OrganisationKind


class OrganisationToRegister(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: OrganisationKind
    la_number: str | None = Field(default=None, description="DfE LA number, councils only")
    ons_code: str | None = Field(default=None, description="ONS code, councils only")


class OrganisationView(BaseModel):
    id: UUID
    name: str
    kind: OrganisationKind
    la_number: str | None
    ons_code: str | None
    version: int

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationView:
        return cls(
            id=organisation.id,
            name=organisation.name,
            kind=organisation.kind,
            la_number=organisation.la_number,
            ons_code=organisation.ons_code,
            version=organisation.version,
        )


class AccountToRegister(Body):
    email: str = Field(min_length=3, max_length=254)
    display_name: str = Field(min_length=1, max_length=200)
    organisation_id: UUID
    role: Role
    password: str = Field(min_length=12, max_length=200)


class AccountView(BaseModel):
    id: UUID
    email: str
    display_name: str
    organisation_id: UUID
    role: Role
    granted_contracts: list[UUID]
    is_disabled: bool
    version: int

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            id=account.id,
            email=account.email,
            display_name=account.display_name,
            organisation_id=UUID(account.organisation_id),
            role=account.role,
            granted_contracts=sorted(account.granted_contracts, key=str),
            is_disabled=account.is_disabled,
            version=account.version,
        )


class ContractGrant(Body):
    contract_id: UUID


class NewPassword(Body):
    password: str = Field(min_length=12, max_length=200)


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int

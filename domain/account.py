"""A person's sign-in account: who they are, which organisation they act for, and their role.

Its id is derived from the email, so registering the same person twice lands on the same
aggregate, which the store then refuses as a duplicate. The past-tense methods take the actor
only so that the event they record names it.
"""

from __future__ import annotations

import re
from uuid import UUID

from eventsourcing.domain import event

from domain.actor import Actor, Role
from domain.errors import (
    AccountDisabled,
    AccountNotDisabled,
    ContractAlreadyGranted,
    ContractNotGranted,
    InvalidAccount,
    NotAnAuditor,
)
from domain.ledger import LedgerAggregate, ledger_id, required_reason

# Deliberately loose: one @, no spaces, a dot in the domain. Only a sent message proves an
# address, and a stricter pattern turns away real ones.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class Account(LedgerAggregate):
    class Registered(LedgerAggregate.Created):
        email: str
        display_name: str
        organisation_id: str
        role: Role

    class ContractAccessGranted(LedgerAggregate.Event):
        contract_id: UUID

    class ContractAccessRevoked(LedgerAggregate.Event):
        contract_id: UUID

    class Disabled(LedgerAggregate.Event):
        reason: str

    class Enabled(LedgerAggregate.Event):
        pass

    class PasswordChanged(LedgerAggregate.Event):
        pass

    def __init__(self, email: str, display_name: str, organisation_id: str, role: Role) -> None:
        self.email = email
        self.display_name = display_name
        # As actors carry it: the str of the organisation's id, compared with the parties
        # a contract or notice records.
        self.organisation_id = organisation_id
        # JSON stores a StrEnum as its bare value, so a replayed event carries a plain str.
        self.role = Role(role)
        self.granted_contracts: frozenset[UUID] = frozenset()
        self.is_disabled = False

    @classmethod
    def id_for(cls, email: str) -> UUID:
        return ledger_id(f"account:{_normalised_email(email)}")

    @classmethod
    def register(
        cls, *, email: str, display_name: str, organisation_id: str, role: Role, actor: Actor
    ) -> Account:
        email = _normalised_email(email)
        display_name = " ".join(display_name.split())
        if not _EMAIL.fullmatch(email):
            raise InvalidAccount(f"{email!r} is not an email address")
        if not display_name:
            raise InvalidAccount("an account needs a display name")
        if role is Role.SYSTEM:
            raise InvalidAccount("the system role is for imports, never for a person")
        return cls._create(
            cls.Registered,
            id=cls.id_for(email),
            email=email,
            display_name=display_name,
            organisation_id=organisation_id,
            role=role,
            actor=actor,
        )

    def grant_contract(self, contract_id: UUID, *, actor: Actor) -> None:
        """Let an auditor read a contract.

        Granting it again is refused rather than ignored, so that the admin learns the grant
        was already there and no event records a change that did not happen.
        """
        if self.role is not Role.AUDITOR:
            raise NotAnAuditor(f"only auditor accounts are granted contracts, not {self.role} ones")
        if contract_id in self.granted_contracts:
            raise ContractAlreadyGranted(f"the account already reads contract {contract_id}")
        self._contract_access_granted(contract_id=contract_id, actor=actor)

    @event(ContractAccessGranted)
    def _contract_access_granted(self, contract_id: UUID, actor: Actor) -> None:
        self.granted_contracts = self.granted_contracts | {contract_id}

    def revoke_contract(self, contract_id: UUID, *, actor: Actor) -> None:
        if contract_id not in self.granted_contracts:
            raise ContractNotGranted(f"the account does not read contract {contract_id}")
        self._contract_access_revoked(contract_id=contract_id, actor=actor)

    @event(ContractAccessRevoked)
    def _contract_access_revoked(self, contract_id: UUID, actor: Actor) -> None:
        self.granted_contracts = self.granted_contracts - {contract_id}

    def disable(self, *, reason: str, actor: Actor) -> None:
        if self.is_disabled:
            raise AccountDisabled("the account is already disabled")
        reason = required_reason(reason, "disabling an account")
        self._disabled(reason=reason, actor=actor)

    @event(Disabled)
    def _disabled(self, reason: str, actor: Actor) -> None:
        self.is_disabled = True

    def enable(self, *, actor: Actor) -> None:
        if not self.is_disabled:
            raise AccountNotDisabled("the account is not disabled")
        self._enabled(actor=actor)

    @event(Enabled)
    def _enabled(self, actor: Actor) -> None:
        self.is_disabled = False

    def record_password_changed(self, *, actor: Actor) -> None:
        """Record that the password changed, and who changed it (the person or an admin).

        The event carries no hash: the ledger is immutable and copied into the audit log,
        projections and backups, so a hash written here could never be erased and could be
        attacked offline for ever. Hashes live in the credentials table, outside the ledger,
        where each change overwrites the last. A disabled account may change it, so that an
        admin can reset a compromised password before enabling the account again.
        """
        self._password_changed(actor=actor)

    @event(PasswordChanged)
    def _password_changed(self, actor: Actor) -> None:
        """Nothing to keep in the account: the event itself, with actor and time, is the record."""


def _normalised_email(email: str) -> str:
    return email.strip().lower()

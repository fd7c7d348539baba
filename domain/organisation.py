"""An organisation that takes part in the ledger: a council, a trust, an audit body or us.

Its id is derived from its name, so registering the same organisation twice lands on the same
aggregate, which the store then refuses as a duplicate. The past-tense methods take the actor
only so that the event they record names it.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import InvalidOrganisation
from domain.ledger import LedgerAggregate, ledger_id, required_reason
from domain.local_authority import check_council_codes


class OrganisationKind(StrEnum):
    COUNCIL = "council"
    TRUST = "trust"
    AUDIT_BODY = "audit_body"
    OPERATOR = "operator"  # runs the service: admins' accounts belong to it


class Organisation(LedgerAggregate):
    class Registered(LedgerAggregate.Created):
        name: str
        kind: OrganisationKind
        la_number: str | None
        ons_code: str | None

    class Renamed(LedgerAggregate.Event):
        name: str
        reason: str

    def __init__(
        self, name: str, kind: OrganisationKind, la_number: str | None, ons_code: str | None
    ) -> None:
        self.name = name
        # JSON stores a StrEnum as its bare value, so a replayed event carries a plain str.
        self.kind = OrganisationKind(kind)
        self.la_number = la_number
        self.ons_code = ons_code

    @classmethod
    def id_for(cls, name: str) -> UUID:
        """The id an organisation of this name is registered under, whatever its spacing or case.

        A renamed organisation keeps the id of the name it was registered with.
        """
        return ledger_id(f"organisation:{_single_spaced(name).casefold()}")

    @classmethod
    def register(
        cls,
        *,
        name: str,
        kind: OrganisationKind,
        la_number: str | None = None,
        ons_code: str | None = None,
        actor: Actor,
    ) -> Organisation:
        name = _valid_name(name)
        if kind is OrganisationKind.COUNCIL:
            check_council_codes(la_number, ons_code)
        elif la_number is not None or ons_code is not None:
            raise InvalidOrganisation(
                f"only a council has an LA number or ONS code, not an organisation of kind {kind}"
            )
        return cls._create(
            cls.Registered,
            id=cls.id_for(name),
            name=name,
            kind=kind,
            la_number=la_number,
            ons_code=ons_code,
            actor=actor,
        )

    def rename(self, *, name: str, reason: str, actor: Actor) -> None:
        name = _valid_name(name)
        if name == self.name:
            raise InvalidOrganisation(f"the organisation is already named {name!r}")
        reason = required_reason(reason, "renaming an organisation")
        self._renamed(name=name, reason=reason, actor=actor)

    @event(Renamed)
    def _renamed(self, name: str, reason: str, actor: Actor) -> None:
        self.name = name


def _single_spaced(name: str) -> str:
    return " ".join(name.split())


def _valid_name(name: str) -> str:
    name = _single_spaced(name)
    if not name:
        raise InvalidOrganisation("an organisation needs a name")
    return name

"""The people behind the ledger's events, as a page names them: a person, their organisation and
the part they play."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.errors import NotFound
from domain.organisation import Organisation

ROLES = {
    Role.COMMISSIONER: "Commissioner",
    Role.PROVIDER: "Trust",
    Role.AUDITOR: "Auditor",
    Role.ADMIN: "Administrator",
    Role.SYSTEM: "Import",
}


@dataclass(frozen=True)
class Who:
    person: str
    organisation: str
    role: str

    @property
    def signature(self) -> str:
        """The person and their organisation, as a history line names them."""
        return f"{self.person}, {self.organisation}"


class People:
    """The names behind the ids an event's actor records, each looked up once per page.

    A contract's readers see who acted on it, as a board paper names them; an id that is not
    an account or organisation (an import's) is shown as recorded."""

    def __init__(self, ledger: Trustledger) -> None:
        self.ledger = ledger
        self._names: dict[tuple[type, str], str] = {}

    def of(self, actor: Actor) -> Who:
        return Who(
            person=self._name(Account, actor.user_id),
            organisation=self._name(Organisation, actor.organisation_id),
            role=ROLES.get(Role(actor.role), str(actor.role)),
        )

    def _name(self, kind: type[Account] | type[Organisation], id_text: str) -> str:
        key = (kind, id_text)
        if key not in self._names:
            self._names[key] = self._look_up(kind, id_text)
        return self._names[key]

    def _look_up(self, kind: type[Account] | type[Organisation], id_text: str) -> str:
        try:
            found = self.ledger.get(UUID(id_text), kind)
        except (ValueError, NotFound):
            return id_text
        return found.display_name if isinstance(found, Account) else found.name

"""The base every Trustledger aggregate shares: each of its events records the actor."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actor import Actor
from domain.errors import MissingReason, NotAParty, StaleVersion, WrongParty

# Fixed for good: every deterministic id is derived from it, so a new value would orphan every
# such aggregate already in the ledger and let a retried registration create a twin.
LEDGER_NAMESPACE = UUID("08930b03-5644-4337-bb5d-b71bbdeb89c5")


def ledger_id(key: str) -> UUID:
    """The id of the aggregate whose real-world key is `key`, e.g. "account:ann@kent.gov.uk"."""
    return uuid5(LEDGER_NAMESPACE, key)


def required_reason(reason: str, doing: str) -> str:
    """The reason, trimmed; corrections, rejections and closures must say why (DESIGN §2)."""
    reason = reason.strip()
    if not reason:
        raise MissingReason(f"{doing} needs a reason")
    return reason


def check_party(actor: Actor, acting_party: str, other_party: str, doing: str) -> None:
    """Refuse unless the actor's organisation is the party (an organisation id) that may do this,
    for aggregates that keep the two parties' ids rather than the contract itself."""
    if actor.organisation_id == other_party:
        raise WrongParty(f"only the other party to the contract may {doing}")
    if actor.organisation_id != acting_party:
        raise NotAParty(f"{actor.organisation_id} is not a party to the contract")


class LedgerAggregate(Aggregate):
    """An aggregate whose every event says who caused it (DESIGN §2)."""

    class Event(Aggregate.Event):
        actor: Actor

    class Created(Event, Aggregate.Created):
        pass

    def check_version(self, expected: int | None) -> None:
        """Refuse a command made against an older read of this aggregate (If-Match)."""
        if expected is not None and expected != self.version:
            raise StaleVersion(expected=expected, actual=self.version)

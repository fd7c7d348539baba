"""Which events a view reads: those its aggregates declare."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.ledger import LedgerAggregate


def declared_events(*kinds: type[LedgerAggregate]) -> tuple[type[LedgerAggregate.Event], ...]:
    """Every event class the aggregates declare (their nested classes)."""
    return tuple(
        member
        for kind in kinds
        for member in vars(kind).values()
        if isinstance(member, type) and issubclass(member, LedgerAggregate.Event)
    )


def topics_of(*kinds: type[LedgerAggregate]) -> tuple[str, ...]:
    """The topics the log stores those events under, to read only them."""
    return tuple(get_topic(event) for event in declared_events(*kinds))

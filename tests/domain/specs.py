"""Given/When/Then for aggregates: a spec shows only the facts that matter.

    contract = given(fact(ServiceContract.Drafted, title="..."), fact(ServiceContract.Signed, ...))
    contract.sign(actor=TRUST)
    [signed] = contract.collect_events()

`fact` fills in the originator id, version, timestamp and a default actor; `given` replays the
facts in order, exactly as the repository would, and leaves no pending events behind.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import CanInitAggregate
from eventsourcing.utils import get_topic

from domain.actor import Actor, Role

COUNCIL_ORG = "org-council"
TRUST_ORG = "org-trust"
OTHER_COUNCIL_ORG = "org-other-council"

COMMISSIONER = Actor(
    user_id="user-commissioner", organisation_id=COUNCIL_ORG, role=Role.COMMISSIONER
)
PROVIDER = Actor(user_id="user-provider", organisation_id=TRUST_ORG, role=Role.PROVIDER)
OUTSIDER = Actor(user_id="user-outsider", organisation_id=OTHER_COUNCIL_ORG, role=Role.COMMISSIONER)
ADMIN = Actor(user_id="user-admin", organisation_id="org-operator", role=Role.ADMIN)

EPOCH = datetime(2018, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Fact:
    event_class: type[Any]
    attributes: dict[str, Any] = field(default_factory=dict)


def fact(event_class: type[Any], **attributes: Any) -> Fact:
    return Fact(event_class, attributes)


def given(*facts: Fact, originator_id: UUID | None = None, actor: Actor = COMMISSIONER) -> Any:
    """Replay the facts into a fresh aggregate, as if loaded from the ledger."""
    originator_id = originator_id or uuid4()
    aggregate: Any = None
    for version, f in enumerate(facts, start=1):
        attributes: dict[str, Any] = {
            "originator_id": originator_id,
            "originator_version": version,
            "timestamp": EPOCH + timedelta(minutes=version),
            "actor": actor,
            **f.attributes,
        }
        if issubclass(f.event_class, CanInitAggregate):
            attributes.setdefault("originator_topic", get_topic(_aggregate_class_of(f.event_class)))
        aggregate = f.event_class(**attributes).mutate(aggregate)
    assert aggregate is not None, "given() needs at least one fact"
    return aggregate


def _aggregate_class_of(event_class: type[Any]) -> type[Any]:
    outer_name = event_class.__qualname__.rsplit(".", 1)[0]
    outer: Any = sys.modules[event_class.__module__]
    for part in outer_name.split("."):
        outer = getattr(outer, part)
    assert isinstance(outer, type)
    return outer

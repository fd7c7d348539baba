"""The activity feed: who did what to a contract, and when, in words a board member reads.

The human-readable face of the audit trail: one entry per event of the contract, its KPI series
and its performance notices, with the actor, the time the ledger recorded it and its position
in the log. `entry` is the pure fold's one step: an event and the contract (and KPI) it
belongs to in, an entry out.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.actor import Role
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract

# The aggregates whose events are a contract's activity.
CONTRACT_KINDS: tuple[type[LedgerAggregate], ...] = (
    ServiceContract,
    IndicatorSeries,
    PerformanceNotice,
)
# What an event named by a bare participle ("Signed") happened to.
_NOUNS: dict[type[LedgerAggregate], str] = {
    ServiceContract: "contract",
    IndicatorSeries: "KPI series",
    PerformanceNotice: "performance notice",
}
_WORD = re.compile(r"[A-Z][a-z]*")
_ACRONYMS = {"kpi": "KPI"}


class ActivityEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    contract_id: UUID
    position: int
    recorded_at: datetime
    user_id: str
    organisation_id: str
    role: Role
    what: str  # "variation agreed", "return submitted"
    subject: str  # what it was about, where the event names it: "B13 2024-25"


def entry(
    event: LedgerAggregate.Event, position: int, contract_id: UUID, kpi: str | None = None
) -> ActivityEntry:
    """The feed's entry for an event of a contract; `kpi` is the indicator code of the series
    the event belongs to, if it is a KPI's."""
    subject = " ".join(part for part in (kpi, _period_of(event)) if part)
    return ActivityEntry(
        contract_id=contract_id,
        position=position,
        recorded_at=event.timestamp,
        user_id=event.actor.user_id,
        organisation_id=event.actor.organisation_id,
        role=Role(event.actor.role),
        what=in_words(type(event)),
        subject=subject,
    )


@cache
def in_words(kind: type[LedgerAggregate.Event]) -> str:
    """An event's class in plain words: `VariationAgreed` is "variation agreed", and a bare
    participle names what it happened to, `PerformanceNotice.Issued` "performance notice
    issued"."""
    words = [_ACRONYMS.get(w.lower(), w.lower()) for w in _WORD.findall(kind.__name__)]
    if len(words) == 1:
        owner = next(
            (noun for cls, noun in _NOUNS.items() if kind.__qualname__.startswith(cls.__name__)),
            "",
        )
        words = [owner, *words] if owner else words
    return " ".join(words)


def _period_of(event: LedgerAggregate.Event) -> str | None:
    if isinstance(event, IndicatorSeries.ReturnSubmitted):
        return event.period.label
    label = getattr(event, "period_label", None)
    return label if isinstance(label, str) else None

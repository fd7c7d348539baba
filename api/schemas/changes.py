"""What changed under a contract between two instants: each event in words, with who and why.

For board papers and audit: an entry names what it is about (the contract, one KPI's series or a
performance notice), what happened in plain words ("variation agreed", "return restated"), who
did it, when the ledger recorded it and where in the log, and the reason where one was given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from domain.actor import Actor
from domain.application import AsAt, Changes, RecordedEvent, period_of
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract

_SUBJECTS: list[tuple[type[LedgerAggregate.Event], str]] = [
    (ServiceContract.Event, "contract"),
    (IndicatorSeries.Event, "KPI series"),
    (PerformanceNotice.Event, "performance notice"),
]


def in_words(event: LedgerAggregate.Event) -> str:
    """The event's class name as words: `VariationAgreed` is "variation agreed"."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(event).__name__).lower()
    return re.sub(r"\bkpi\b", "KPI", words)


class ChangeView(BaseModel):
    position: int = Field(description="the event's position in the ledger's log")
    recorded_at: datetime = Field(description="when the ledger recorded it")
    subject: str = Field(description='"contract", "KPI series" or "performance notice"')
    subject_id: UUID
    version: int = Field(description="the subject's version this event made")
    indicator: str | None = Field(description="the KPI's indicator code, for a series' events")
    period: str | None = Field(description="the reporting period a return's event is about")
    event: str = Field(description='what happened, in words: "variation agreed"')
    actor: Actor
    reason: str | None = Field(description="why, where the event gives a reason or rationale")

    @classmethod
    def of(cls, recorded: RecordedEvent, indicators: Mapping[UUID, str]) -> ChangeView:
        event = recorded.event
        reason = getattr(event, "reason", None) or getattr(event, "rationale", None)
        return cls(
            position=recorded.position,
            recorded_at=recorded.recorded_at,
            subject=next(name for kind, name in _SUBJECTS if isinstance(event, kind)),
            subject_id=event.originator_id,
            version=event.originator_version,
            indicator=indicators.get(event.originator_id),
            period=period_of(event),
            event=in_words(event),
            actor=event.actor,
            reason=reason if isinstance(reason, str) else None,
        )


class ChangesView(BaseModel):
    """Events recorded in (from, to], oldest first, a page at a time."""

    contract_id: UUID
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    from_position: int = Field(description="the log position the ledger had reached at `from`")
    to_position: int = Field(description="the log position the ledger had reached at `to`")
    changes: list[ChangeView]
    next_after: int | None = Field(
        description="the cursor for the next page (send it as `after`), None on the last page"
    )

    @classmethod
    def of(cls, contract: ServiceContract, start: AsAt, end: AsAt, changes: Changes) -> ChangesView:
        series = {
            IndicatorSeries.id_for(contract.id, change.indicator_code): change.indicator_code
            for change in contract.kpi_schedule_history
        }
        return cls(
            contract_id=contract.id,
            from_=start.instant,
            to=end.instant,
            from_position=start.position,
            to_position=end.position,
            changes=[ChangeView.of(recorded, series) for recorded in changes.events],
            next_after=changes.next_after,
        )

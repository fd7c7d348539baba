"""The KPI schedule, the trust's returns and the commissioner's challenge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, Text
from domain.actor import Actor
from domain.application import RecordedEvent
from domain.indicator_series import IndicatorSeries, KpiReturn
from domain.indicators import Indicator, Polarity, Suppression, Unit
from domain.kpis import KpiSummary
from domain.reporting import Frequency, ReportingPeriod
from domain.service_contract import ScheduledKpi

Code = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]
Reference = Annotated[str, Field(min_length=1, max_length=20)]
# A value as the publisher writes it: a number, or a suppression code such as "c".
Value = Decimal | Suppression
Count = Annotated[int, Field(ge=0, strict=True)]


class KpiToSchedule(Body):
    reference: Reference = Field(description='the contract\'s own code, e.g. "A1" or "B13"')
    frequency: Frequency
    due_working_days: int = Field(ge=0, le=60, strict=True)
    targets: dict[str, Decimal] = Field(
        description='target per contract year, e.g. {"2024-25": 45}'
    )
    tolerances: dict[str, Decimal] = Field(
        default_factory=dict, description="per contract year, the value beyond which amber is red"
    )

    def scheduled(self, indicator: Indicator) -> ScheduledKpi:
        return ScheduledKpi(
            indicator=indicator,
            reference=self.reference,
            frequency=self.frequency,
            due_working_days=self.due_working_days,
            targets=self.targets,
            tolerances=self.tolerances,
            agreed_in=None,
        )


class ScheduledKpiChange(KpiToSchedule):
    indicator_code: Code


class LocalIndicatorToDefine(Body):
    code: Code
    title: Text
    unit: Unit
    polarity: Polarity
    decimals: int = Field(ge=0, le=4, strict=True)
    has_fraction: bool
    definition: Text

    def indicator(self) -> Indicator:
        return Indicator(
            code=self.code,
            title=self.title,
            unit=self.unit,
            polarity=self.polarity,
            decimals=self.decimals,
            has_fraction=self.has_fraction,
            definition=self.definition,
            source="local",
            national=False,
        )


class ReturnToSubmit(Body):
    period: str = Field(
        min_length=4, max_length=12, description='"2024-25", "2024-25 Q1" or "2024-04"'
    )
    value: Value
    numerator: Count | None = None
    denominator: Count | None = None
    commentary: str = Field(default="", max_length=4000)


class Restatement(Body):
    value: Value
    numerator: Count | None = None
    denominator: Count | None = None
    reason: Text


class Question(Body):
    question: Text


class Answer(Body):
    answer: Text


class SeriesView(BaseModel):
    contract_id: str
    indicator: Indicator
    version: int
    returns: dict[str, KpiReturn] = Field(description="by period label, as write URLs name it")

    @classmethod
    def of(cls, series: IndicatorSeries) -> SeriesView:
        return cls(
            contract_id=str(series.contract_id),
            indicator=series.indicator,
            version=series.version,
            returns=series.returns,
        )


class KpiSummaryView(BaseModel):
    kpis: list[KpiSummary]


class QueryRaised(BaseModel):
    id: UUID
    series: SeriesView


class ReturnEventKind(StrEnum):
    SUBMITTED = "submitted"
    RESTATED = "restated"
    QUERIED = "queried"
    ANSWERED = "answered"
    ACCEPTED = "accepted"


class ReturnEvent(BaseModel):
    """One thing recorded about a period's return: a value given (submitted or restated, with
    the reason), a query, its answer, or the council's acceptance."""

    kind: ReturnEventKind
    recorded_at: datetime = Field(description="when the ledger recorded it (what as_at compares)")
    position: int = Field(description="its position in the ledger's log")
    version: int = Field(description="the series' version it made")
    actor: Actor
    value: Value | None = None
    numerator: int | None = None
    denominator: int | None = None
    commentary: str | None = None
    reason: str | None = None
    query_id: UUID | None = None
    question: str | None = None
    answer: str | None = None

    @classmethod
    def of(cls, recorded: RecordedEvent) -> ReturnEvent:
        event = recorded.event
        said: dict[str, Any]
        match event:
            case IndicatorSeries.ReturnSubmitted():
                said = {
                    "kind": ReturnEventKind.SUBMITTED,
                    "value": event.value,
                    "numerator": event.numerator,
                    "denominator": event.denominator,
                    "commentary": event.commentary,
                }
            case IndicatorSeries.ReturnRestated():
                said = {
                    "kind": ReturnEventKind.RESTATED,
                    "value": event.value,
                    "numerator": event.numerator,
                    "denominator": event.denominator,
                    "reason": event.reason,
                }
            case IndicatorSeries.ReturnQueried():
                said = {
                    "kind": ReturnEventKind.QUERIED,
                    "query_id": event.query_id,
                    "question": event.question,
                }
            case IndicatorSeries.QueryAnswered():
                said = {
                    "kind": ReturnEventKind.ANSWERED,
                    "query_id": event.query_id,
                    "answer": event.answer,
                }
            case IndicatorSeries.ReturnAccepted():
                said = {"kind": ReturnEventKind.ACCEPTED}
            case _:
                raise TypeError(f"{type(event).__name__} is not about a period's return")
        return cls(
            recorded_at=recorded.recorded_at,
            position=recorded.position,
            version=event.originator_version,
            actor=event.actor,
            **said,
        )


class ReturnHistoryView(BaseModel):
    """Everything recorded about one period's return, oldest first: valid time (the period)
    beside recorded time (when the ledger learnt each value)."""

    contract_id: UUID
    indicator: str
    period: str
    history: list[ReturnEvent]

    @classmethod
    def of(
        cls,
        contract_id: UUID,
        indicator: str,
        period: ReportingPeriod,
        history: Sequence[RecordedEvent],
    ) -> ReturnHistoryView:
        return cls(
            contract_id=contract_id,
            indicator=indicator,
            period=period.label,
            history=[ReturnEvent.of(recorded) for recorded in history],
        )

"""The KPI schedule, the trust's returns and the commissioner's challenge."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, Text
from domain.indicator_series import IndicatorSeries, KpiReturn
from domain.indicators import Indicator, Polarity, Suppression, Unit
from domain.kpis import KpiSummary
from domain.reporting import Frequency
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

"""Performance notices: what the council sends to issue one, what the trust sends to answer it,
and what either reads back. The view carries the domain's own remedial plans."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Body, Text
from domain.performance_notice import (
    EscalationRoute,
    NoticeStatus,
    PerformanceNotice,
    RemedialAction,
    RemedialPlan,
)

# A KPI code ("CSC-03") or a contract clause ("7.2"); whether one is blank is the domain's rule.
Reference = Annotated[str, Field(max_length=50)]


class NoticeToIssue(Body):
    grounds: Text
    kpi_codes: list[Reference] = Field(default_factory=list, max_length=50)
    clauses: list[Reference] = Field(default_factory=list, max_length=50)
    remedy: Text
    issued_on: date
    response_due: date = Field(description="when the trust's remedial plan is due")


class RemedialActionBody(Body):
    description: Text
    due: date

    def action(self) -> RemedialAction:
        return RemedialAction(self.description, self.due)


class RemedialPlanToSubmit(Body):
    summary: Text
    actions: list[RemedialActionBody] = Field(max_length=100)

    def remedial_actions(self) -> list[RemedialAction]:
        return [action.action() for action in self.actions]


class Escalation(Body):
    route: EscalationRoute
    reason: Text


class NoticeView(BaseModel):
    id: UUID
    version: int
    contract_id: UUID
    council_organisation_id: str
    trust_organisation_id: str
    grounds: str
    kpi_codes: list[str]
    clauses: list[str]
    remedy: str
    issued_on: date
    response_due: date
    status: NoticeStatus
    is_overdue: bool = Field(description="open, past its response date, and no plan yet")
    plans: list[RemedialPlan]
    escalation_route: EscalationRoute | None
    escalation_reason: str | None

    @classmethod
    def of(cls, notice: PerformanceNotice, today: date) -> NoticeView:
        return cls(
            id=notice.id,
            version=notice.version,
            contract_id=notice.contract_id,
            council_organisation_id=notice.council_organisation_id,
            trust_organisation_id=notice.trust_organisation_id,
            grounds=notice.grounds,
            kpi_codes=list(notice.kpi_codes),
            clauses=list(notice.clauses),
            remedy=notice.remedy,
            issued_on=notice.issued_on,
            response_due=notice.response_due,
            status=notice.status,
            is_overdue=notice.is_overdue(today),
            plans=list(notice.plans),
            escalation_route=notice.escalation_route,
            escalation_reason=notice.escalation_reason,
        )

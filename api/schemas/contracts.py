"""Service contracts: what a client sends to draft and run one, and what it reads back.

Views carry the aggregate's own frozen dataclasses (signatures, variations, meetings...), so
the OpenAPI schema is the domain's vocabulary, not a copy of it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import (
    Body,
    Label,
    Name,
    NonNegativePence,
    Pence,
    PositivePence,
    Text,
)
from api.schemas.kpis import ScheduledKpiChange
from domain.indicators import Indicator
from domain.service_contract import (
    Action,
    AgreedAction,
    AnnualReview,
    Board,
    BoardKind,
    BreakClauseDecision,
    ContractStatus,
    Council,
    Ending,
    Extension,
    FinancialPosition,
    KpiScheduleChange,
    Meeting,
    Obligation,
    ObligationChange,
    Payment,
    ReservedMatter,
    ScheduledKpi,
    ServiceContract,
    Signature,
    Term,
    Trust,
    Variation,
    VariationChanges,
)
from domain.services import ServiceLine


class TermBody(Body):
    starts: date
    ends: date
    extension_options: list[int] = Field(
        default_factory=list, description="lengths in months of each option to extend"
    )

    def term(self) -> Term:
        return Term(self.starts, self.ends, tuple(self.extension_options))


class ContractToDraft(Body):
    """The council drafting is the caller's own organisation; the trust is named by id."""

    trust_organisation_id: UUID
    title: str = Field(min_length=1, max_length=300)
    term: TermBody
    scope: list[ServiceLine] = Field(min_length=1)
    contract_sums: dict[str, Pence] = Field(
        default_factory=dict,
        description='annual contract sum in pence per financial year, e.g. {"2018-19": 5800000000}',
    )


class DraftAmendment(Body):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    term: TermBody | None = None
    scope: list[ServiceLine] | None = None
    contract_sums: dict[str, Pence] | None = None


class ObligationToSet(Body):
    description: Text
    due_on: date


class ObligationMet(Body):
    met_on: date
    evidence: Text


class ObligationChangeBody(Body):
    """A new description or due date for an open obligation; one left out stays as it is."""

    obligation_id: UUID
    description: Text | None = None
    due_on: date | None = None

    def change(self) -> ObligationChange:
        return ObligationChange(self.obligation_id, self.description, self.due_on)


class VariationChangesBody(Body):
    """Only what is named changes; `contract_sums` sets the named years and keeps the rest."""

    scope: list[ServiceLine] | None = None
    contract_sums: dict[str, Pence] | None = None
    term_ends: date | None = None
    obligations: list[ObligationChangeBody] = Field(default_factory=list, max_length=100)
    kpis: list[ScheduledKpiChange] = Field(
        default_factory=list, max_length=100, description="KPIs to add, or to replace by code"
    )
    kpis_removed: list[str] = Field(default_factory=list, max_length=100)
    kpis_from: date | None = Field(
        default=None, description="the first day the KPI changes apply (else the day agreed)"
    )

    def changes(self, indicator_of: Callable[[str], Indicator]) -> VariationChanges:
        """The changes, with each KPI's indicator as the contract (or the catalogue) defines it."""
        return VariationChanges(
            scope=None if self.scope is None else tuple(self.scope),
            contract_sums=self.contract_sums,
            term_ends=self.term_ends,
            obligations=tuple(change.change() for change in self.obligations),
            kpis=tuple(kpi.scheduled(indicator_of(kpi.indicator_code)) for kpi in self.kpis),
            kpis_removed=tuple(self.kpis_removed),
            kpis_from=self.kpis_from,
        )


class VariationToPropose(Body):
    changes: VariationChangesBody
    rationale: Text


class BoardToEstablish(Body):
    kind: BoardKind
    name: Name


class MeetingToSchedule(Body):
    scheduled_for: date


class AgreedActionBody(Body):
    description: Text
    owner: Name
    due_on: date

    def agreed(self) -> AgreedAction:
        return AgreedAction(self.description, self.owner, self.due_on)


class AgreesActions(Body):
    actions: list[AgreedActionBody] = Field(default_factory=list, max_length=100)

    def agreed_actions(self) -> list[AgreedAction]:
        return [action.agreed() for action in self.actions]


class MeetingMinutes(AgreesActions):
    held_on: date
    decisions: list[Text] = Field(default_factory=list, max_length=100)


class ActionCompletion(Body):
    completed_on: date


class AnnualReviewToHold(AgreesActions):
    contract_year: Label
    held_on: date
    outcome: Text


class ReservedMatterToRefer(Body):
    subject: Text


class FinancialPositionToReport(Body):
    financial_year: Label
    period: Label
    forecast_outturn: NonNegativePence
    commentary: Text


class PaymentToRecord(Body):
    amount: PositivePence
    paid_on: date
    reference: Name


class ExtensionToTake(Body):
    months: int = Field(strict=True, gt=0, description="the length of an unused option")


class BreakClauseDecisionBody(Body):
    used: bool
    rationale: Text
    ends_on: date | None = Field(
        default=None, description="the last day in force, when the clause is used"
    )


class EarlyEnding(Body):
    reason: Text
    ends_on: date = Field(description="the last day in force")


class ContractSummary(BaseModel):
    id: UUID
    version: int
    title: str
    council: Council
    trust: Trust
    status: ContractStatus

    @classmethod
    def of(cls, contract: ServiceContract, today: date) -> ContractSummary:
        return cls(
            id=contract.id,
            version=contract.version,
            title=contract.title,
            council=contract.council,
            trust=contract.trust,
            status=contract.status(today),
        )


class ContractView(BaseModel):
    id: UUID
    version: int
    title: str
    status: ContractStatus
    council: Council
    trust: Trust
    term: Term
    ends_on: date
    scope: list[ServiceLine]
    contract_sums: dict[str, Pence]
    signatures: list[Signature]
    variations: list[Variation]
    obligations: list[Obligation]
    boards: list[Board]
    meetings: list[Meeting]
    actions: list[Action]
    annual_reviews: list[AnnualReview]
    reserved_matters: list[ReservedMatter]
    financial_positions: list[FinancialPosition]
    latest_financial_positions: dict[str, FinancialPosition]
    payments: list[Payment]
    paid_by_year: dict[str, Pence]
    extensions: list[Extension]
    break_clause_decisions: list[BreakClauseDecision]
    ending: Ending | None
    # By indicator code. The history keeps every version of every line, and which variation
    # agreed it, so a target in force can be traced to its agreement.
    kpi_schedule: dict[str, ScheduledKpi]
    kpi_schedule_history: list[KpiScheduleChange]
    local_indicators: dict[str, Indicator]

    @classmethod
    def of(cls, contract: ServiceContract, today: date) -> ContractView:
        return cls(
            id=contract.id,
            version=contract.version,
            title=contract.title,
            status=contract.status(today),
            council=contract.council,
            trust=contract.trust,
            term=contract.term,
            ends_on=contract.ends_on,
            scope=list(contract.scope),
            contract_sums=contract.contract_sums,
            signatures=list(contract.signatures),
            variations=list(contract.variations.values()),
            obligations=list(contract.obligations.values()),
            boards=list(contract.boards.values()),
            meetings=list(contract.meetings.values()),
            actions=list(contract.actions.values()),
            annual_reviews=list(contract.annual_reviews.values()),
            reserved_matters=list(contract.reserved_matters.values()),
            financial_positions=list(contract.financial_positions),
            latest_financial_positions=contract.latest_financial_positions,
            payments=list(contract.payments),
            paid_by_year=contract.paid_by_year,
            extensions=list(contract.extensions),
            break_clause_decisions=list(contract.break_clause_decisions),
            ending=contract.ending,
            kpi_schedule=contract.kpi_schedule,
            kpi_schedule_history=list(contract.kpi_schedule_history),
            local_indicators=contract.local_indicators,
        )


class Created(BaseModel):
    """The id of what a command created, with the contract as it now stands."""

    id: UUID
    contract: ContractView

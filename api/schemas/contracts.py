"""Service contracts: what a client sends to draft and run one, and what it reads back.

Views carry the aggregate's own frozen dataclasses (signatures, variations, meetings...), so
the OpenAPI schema is the domain's vocabulary, not a copy of it.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.service_contract import (
    Action,
    AnnualReview,
    Board,
    BreakClauseDecision,
    ContractStatus,
    Council,
    Ending,
    Extension,
    FinancialPosition,
    Meeting,
    Obligation,
    Payment,
    ReservedMatter,
    ServiceContract,
    Signature,
    Term,
    Trust,
    Variation,
)
from domain.services import ServiceLine

Pence = int


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
        default_factory=dict, description='annual contract sum in pence per financial year, e.g. {"2018-19": 5800000000}'
    )


class DraftAmendment(Body):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    term: TermBody | None = None
    scope: list[ServiceLine] | None = None
    contract_sums: dict[str, Pence] | None = None


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
        )


class Created(BaseModel):
    """The id of what a command created, with the contract as it now stands."""

    id: UUID
    contract: ContractView

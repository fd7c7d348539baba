"""The returns a trust makes for one KPI of one contract, and the council's challenge of them.

One series per contract and indicator (DESIGN §1), so that a contract's stream does not grow
with every return: the trust submits one return per period, the council queries it and accepts
it once every query is answered, and a figure found wrong is restated with its reason. Nothing
is overwritten: each value a return has had stays in its history.

The past-tense methods take the actor only so that the event they record names it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import (
    InvalidDate,
    InvalidFraction,
    InvalidOrganisation,
    InvalidValue,
    MissingDetail,
    NotAParty,
    NotFound,
    QueryAlreadyAnswered,
    QueryOpen,
    RestatementChangesNothing,
    ReturnAlreadyAccepted,
    ReturnAlreadySubmitted,
    ValueDisagreesWithCounts,
)
from domain.indicators import Indicator, Suppression
from domain.ledger import LedgerAggregate, check_party, ledger_id, required_reason
from domain.reporting import ReportingPeriod


class ReturnStatus(StrEnum):
    SUBMITTED = "submitted"  # awaiting the council's acceptance, or awaiting it again once restated
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class ReturnValue:
    """One value a return has had: as submitted (no reason) or as restated (with the reason)."""

    value: Decimal | Suppression
    numerator: int | None
    denominator: int | None
    given_by: Actor
    given_at: datetime
    reason: str | None = None


@dataclass(frozen=True)
class Query:
    """The council's question on a return; open until the trust answers it."""

    query_id: UUID
    question: str
    asked_by: Actor
    asked_at: datetime
    answer: str | None = None
    answered_by: Actor | None = None
    answered_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.answer is None


@dataclass(frozen=True)
class KpiReturn:
    """A period's return as it stands: its current value, and every value it has had."""

    period: ReportingPeriod
    value: Decimal | Suppression
    numerator: int | None
    denominator: int | None
    commentary: str
    submitted_by: Actor
    submitted_on: date
    due_on: date
    late: bool
    status: ReturnStatus
    history: tuple[ReturnValue, ...]
    queries: tuple[Query, ...] = ()
    restated: bool = False

    @property
    def open_queries(self) -> tuple[Query, ...]:
        return tuple(query for query in self.queries if query.is_open)


class IndicatorSeries(LedgerAggregate):
    """Every return made for one KPI of one contract."""

    class Started(LedgerAggregate.Created):
        contract_id: UUID
        indicator: Indicator
        council_organisation_id: str
        trust_organisation_id: str

    class ReturnSubmitted(LedgerAggregate.Event):
        period: ReportingPeriod
        value: Decimal | Suppression
        numerator: int | None
        denominator: int | None
        commentary: str
        due_on: date
        submitted_on: date
        late: bool

    class ReturnQueried(LedgerAggregate.Event):
        period_label: str
        query_id: UUID
        question: str

    class QueryAnswered(LedgerAggregate.Event):
        period_label: str
        query_id: UUID
        answer: str

    class ReturnAccepted(LedgerAggregate.Event):
        period_label: str

    class ReturnRestated(LedgerAggregate.Event):
        period_label: str
        value: Decimal | Suppression
        numerator: int | None
        denominator: int | None
        reason: str

    def __init__(
        self,
        contract_id: UUID,
        indicator: Indicator,
        council_organisation_id: str,
        trust_organisation_id: str,
    ) -> None:
        self.contract_id = contract_id
        # The definition the contract scheduled when the series began: returns are checked
        # against its decimals and counts.
        self.indicator = indicator
        # Copied from the contract at the start, so that the series can check parties on its own.
        self.council_organisation_id = council_organisation_id
        self.trust_organisation_id = trust_organisation_id
        self.returns: dict[str, KpiReturn] = {}

    @classmethod
    def id_for(cls, contract_id: UUID, indicator_code: str) -> UUID:
        """One series per contract and indicator, so a retried first return cannot start a twin."""
        return ledger_id(f"series:{contract_id}:{indicator_code}")

    @classmethod
    def start(
        cls,
        *,
        contract_id: UUID,
        indicator: Indicator,
        council_organisation_id: str,
        trust_organisation_id: str,
        actor: Actor,
    ) -> IndicatorSeries:
        """A KPI's series, begun by its first return (`domain.kpis.submit_return`)."""
        if council_organisation_id == trust_organisation_id:
            raise InvalidOrganisation("the council and its trust are two organisations")
        if actor.organisation_id not in (council_organisation_id, trust_organisation_id):
            raise NotAParty(f"{actor.organisation_id} is not a party to the contract")
        return cls._create(
            cls.Started,
            id=cls.id_for(contract_id, indicator.code),
            contract_id=contract_id,
            indicator=indicator,
            council_organisation_id=council_organisation_id,
            trust_organisation_id=trust_organisation_id,
            actor=actor,
        )

    # -- returns ----------------------------------------------------------------------------------

    def submit_return(
        self,
        *,
        period: ReportingPeriod,
        value: Decimal | Suppression,
        numerator: int | None,
        denominator: int | None,
        commentary: str,
        due_on: date,
        submitted_on: date,
        actor: Actor,
    ) -> None:
        """The trust's figure for a period; one submitted after its due date is recorded late."""
        self._check_provider(actor, "submit a return")
        _check_value(self.indicator, value, numerator, denominator)
        if due_on < period.ends:
            raise InvalidDate(
                f"the return for {period.label} cannot fall due on {due_on}, before the period "
                f"ends on {period.ends}"
            )
        # A period's figures are complete only once its last day is over.
        if submitted_on <= period.ends:
            raise InvalidDate(
                f"the return for {period.label} is made after the period ends on {period.ends}, "
                f"not on {submitted_on}"
            )
        submitted = self.returns.get(period.label)
        if submitted is not None:
            raise ReturnAlreadySubmitted(
                f"the return for {period.label} was submitted on {submitted.submitted_on}: "
                "restate it to change it"
            )
        self._return_submitted(
            period=period,
            value=value,
            numerator=numerator,
            denominator=denominator,
            commentary=commentary.strip(),
            due_on=due_on,
            submitted_on=submitted_on,
            late=submitted_on > due_on,
            actor=actor,
            timestamp=_now(),
        )

    @event(ReturnSubmitted)
    def _return_submitted(
        self,
        period: ReportingPeriod,
        value: Decimal | Suppression,
        numerator: int | None,
        denominator: int | None,
        commentary: str,
        due_on: date,
        submitted_on: date,
        late: bool,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        value = _as_value(value)
        submitted = KpiReturn(
            period=period,
            value=value,
            numerator=numerator,
            denominator=denominator,
            commentary=commentary,
            submitted_by=actor,
            submitted_on=submitted_on,
            due_on=due_on,
            late=late,
            status=ReturnStatus.SUBMITTED,
            history=(ReturnValue(value, numerator, denominator, actor, timestamp),),
        )
        # In period order, whatever order the returns came in. Returns nearly always come in
        # order, so the usual case appends: re-sorting on every return made replaying a series
        # quadratic in its length (275 ms for a contract's 14 KPIs over 10 years, monthly).
        latest = next(reversed(self.returns.values()), None)
        if latest is None or latest.period < period:
            self.returns[period.label] = submitted
        else:
            every = sorted((*self.returns.values(), submitted), key=lambda r: r.period)
            self.returns = {r.period.label: r for r in every}

    def restate_return(
        self,
        *,
        period_label: str,
        value: Decimal | Suppression,
        numerator: int | None,
        denominator: int | None,
        reason: str,
        actor: Actor,
    ) -> None:
        """A corrected figure, with the reason; the return must then be accepted again."""
        self._check_provider(actor, "restate a return")
        reason = required_reason(reason, "restating a return")
        _check_value(self.indicator, value, numerator, denominator)
        restated = self._return(period_label)
        if (value, numerator, denominator) == (
            restated.value,
            restated.numerator,
            restated.denominator,
        ):
            raise RestatementChangesNothing(
                f"the return for {period_label} already has the value {value}"
            )
        self._return_restated(
            period_label=period_label,
            value=value,
            numerator=numerator,
            denominator=denominator,
            reason=reason,
            actor=actor,
            timestamp=_now(),
        )

    @event(ReturnRestated)
    def _return_restated(
        self,
        period_label: str,
        value: Decimal | Suppression,
        numerator: int | None,
        denominator: int | None,
        reason: str,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        value = _as_value(value)
        restated = self.returns[period_label]
        self.returns[period_label] = replace(
            restated,
            value=value,
            numerator=numerator,
            denominator=denominator,
            status=ReturnStatus.SUBMITTED,
            history=(
                *restated.history,
                ReturnValue(value, numerator, denominator, actor, timestamp, reason),
            ),
            restated=True,
        )

    # -- the council's challenge ------------------------------------------------------------------

    def query_return(self, *, period_label: str, question: str, actor: Actor) -> UUID:
        """The council questions a return; returns the new query's id."""
        self._check_commissioner(actor, "query a return")
        question = question.strip()
        if not question:
            raise MissingDetail("a query needs its question")
        self._return(period_label)
        query_id = uuid4()
        self._return_queried(
            period_label=period_label,
            query_id=query_id,
            question=question,
            actor=actor,
            timestamp=_now(),
        )
        return query_id

    @event(ReturnQueried)
    def _return_queried(
        self, period_label: str, query_id: UUID, question: str, actor: Actor, timestamp: datetime
    ) -> None:
        queried = self.returns[period_label]
        self.returns[period_label] = replace(
            queried, queries=(*queried.queries, Query(query_id, question, actor, timestamp))
        )

    def answer_query(self, *, query_id: UUID, answer: str, actor: Actor) -> None:
        self._check_provider(actor, "answer a query")
        answer = answer.strip()
        if not answer:
            raise MissingDetail("an answer to a query cannot be blank")
        period_label, query = self._query(query_id)
        if not query.is_open:
            raise QueryAlreadyAnswered(
                f"the query was answered on {query.answered_at:%Y-%m-%d}: ask a new one"
            )
        self._query_answered(
            period_label=period_label,
            query_id=query_id,
            answer=answer,
            actor=actor,
            timestamp=_now(),
        )

    @event(QueryAnswered)
    def _query_answered(
        self, period_label: str, query_id: UUID, answer: str, actor: Actor, timestamp: datetime
    ) -> None:
        answered = self.returns[period_label]
        self.returns[period_label] = replace(
            answered,
            queries=tuple(
                replace(query, answer=answer, answered_by=actor, answered_at=timestamp)
                if query.query_id == query_id
                else query
                for query in answered.queries
            ),
        )

    def accept_return(self, *, period_label: str, actor: Actor) -> None:
        """The council accepts the figure, once the trust has answered every query on it."""
        self._check_commissioner(actor, "accept a return")
        accepted = self._return(period_label)
        if accepted.status is ReturnStatus.ACCEPTED:
            raise ReturnAlreadyAccepted(
                f"the return for {period_label} was accepted and has not been restated since"
            )
        if accepted.open_queries:
            raise QueryOpen(
                f"the return for {period_label} has a query awaiting the trust's answer"
            )
        self._return_accepted(period_label=period_label, actor=actor)

    @event(ReturnAccepted)
    def _return_accepted(self, period_label: str, actor: Actor) -> None:
        self.returns[period_label] = replace(
            self.returns[period_label], status=ReturnStatus.ACCEPTED
        )

    # -- what the series says now ----------------------------------------------------------------

    def latest(self) -> KpiReturn | None:
        """The return for the latest period, whenever it was made."""
        return max(self.returns.values(), key=lambda r: r.period.ends, default=None)

    def _return(self, period_label: str) -> KpiReturn:
        found = self.returns.get(period_label)
        if found is None:
            raise NotFound(f"no return for {period_label} has been submitted")
        return found

    def _query(self, query_id: UUID) -> tuple[str, Query]:
        for label, kpi_return in self.returns.items():
            for query in kpi_return.queries:
                if query.query_id == query_id:
                    return label, query
        raise NotFound(f"no query {query_id} on these returns")

    def _check_commissioner(self, actor: Actor, doing: str) -> None:
        check_party(actor, self.council_organisation_id, self.trust_organisation_id, doing)

    def _check_provider(self, actor: Actor, doing: str) -> None:
        check_party(actor, self.trust_organisation_id, self.council_organisation_id, doing)


def _now() -> datetime:
    """When the ledger learns of a value or a query: fixed by the command, so replay keeps it."""
    return IndicatorSeries.Event.create_timestamp()


def _as_value(value: Decimal | str) -> Decimal | Suppression:
    # JSON stores a StrEnum as its bare value, so a replayed suppression code is a plain str.
    return value if isinstance(value, Decimal) else Suppression(value)


def _check_value(
    indicator: Indicator,
    value: Decimal | Suppression,
    numerator: int | None,
    denominator: int | None,
) -> None:
    """A value as the indicator publishes it, made by its own counts where it has them.

    A suppression code says why there is no figure, so the counts become optional; any given
    must still be counts the indicator could be made of.
    """
    for count in (numerator, denominator):
        # bool is an int to Python, but never a count of children.
        if count is not None and (type(count) is not int or count < 0):
            raise InvalidFraction(f"a count is a whole number, not negative, not {count!r}")
    if not indicator.has_fraction and (numerator is not None or denominator is not None):
        raise InvalidFraction(f"{indicator.title} is returned as a value alone, without counts")
    made = None
    if numerator is not None and denominator is not None:
        # Refuses a part larger than its whole, and a denominator of 0.
        made = indicator.value_of(numerator, denominator)
    if isinstance(value, Suppression):
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        codes = ", ".join(code.value for code in Suppression)
        raise InvalidValue(f"a value is a number, not negative, or one of {codes}; not {value!r}")
    if _decimals(value) > indicator.decimals:
        raise InvalidValue(
            f"{indicator.title} is published to {indicator.decimals} decimal places, "
            f"so {value} cannot be its value"
        )
    if not indicator.has_fraction:
        return
    if made is None:
        raise InvalidFraction(f"{indicator.title} is returned with its numerator and denominator")
    # The publisher's rounding decides: 844 of 3,723 is 22.67%, published as 22.7.
    if value != made:
        raise ValueDisagreesWithCounts(
            f"{value} does not agree with {numerator:,} / {denominator:,} = {made}"
        )


def _decimals(value: Decimal) -> int:
    """Decimal places the value needs: 22.70 needs one, as 22.7 does."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # only NaN and infinity have another, and they are refused
    return max(0, -exponent)

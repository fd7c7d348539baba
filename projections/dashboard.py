"""The contract dashboard and the portfolio: what a board needs of one contract on one page, and
of every contract side by side.

The view is a pure fold. `Folded.apply(event)` folds one event into the aggregates it belongs
to, with the aggregate's own `mutate` (the domain's rules, not a copy of them); `contract_rows`
and `authority_row` turn the aggregates of one contract, or of one local authority's inspections,
into the rows stored. The live projection (`projections/dashboard_view.py`) and an "as at" read
(`fold`, then `rows_of`) run the same functions, so they cannot disagree.

What depends on the day it is read (is a return overdue, which board meeting is next, is the
contract live yet) is stored as the dates it turns on and decided by `Dashboard.on(today)`:
a row written yesterday is still true today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.indicator_series import IndicatorSeries, ReturnStatus
from domain.indicators import Polarity, Suppression
from domain.inspection import Area, Grade, Inspection, InspectionType, latest_inspections
from domain.kpis import kpi_summary
from domain.ledger import LedgerAggregate
from domain.performance_notice import NoticeStatus, PerformanceNotice
from domain.rag import Rag, rag
from domain.reporting import ReportingPeriod, due_date, england
from domain.service_contract import (
    ContractStatus,
    MeetingStatus,
    ServiceContract,
    VariationStatus,
)
from projections.events import declared_events

# How many of a KPI's latest periods its trend shows: a year of quarters and one more, so the
# same quarter last year is in sight.
TREND_PERIODS = 5
_ONE_DAY = timedelta(days=1)

# The aggregates a dashboard is made of; every event of these is folded, any other ignored.
FOLDED_KINDS: tuple[type[LedgerAggregate], ...] = (
    ServiceContract,
    IndicatorSeries,
    PerformanceNotice,
    Inspection,
)
Aggregate: TypeAlias = ServiceContract | IndicatorSeries | PerformanceNotice | Inspection
_FOLDED_EVENTS = declared_events(*FOLDED_KINDS)


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- the contract ---------------------------------------------------------------------------------


class StatusFrom(Row):
    """The contract's status from a day on, until the next entry's day."""

    starts_on: date
    status: ContractStatus


class Party(Row):
    name: str
    organisation_id: str


class AgreedVariation(Row):
    variation_id: UUID
    rationale: str
    proposed_by: str  # the party
    agreed_at: datetime
    changes: list[str]  # what it changed, in words


class FinancialPositionLine(Row):
    financial_year: str
    period: str
    forecast_outturn: int  # pence
    contract_sum: int | None
    variance: int | None  # overspend positive, underspend negative


class Finances(Row):
    contract_sums: dict[str, int]  # pence, by contract year
    agreed_variations: list[AgreedVariation]
    open_variations: int
    latest_positions: list[FinancialPositionLine]  # the latest per year, in year order
    paid_by_year: dict[str, int]
    total_paid: int


# -- KPIs -----------------------------------------------------------------------------------------


class Direction(StrEnum):
    """The latest period against the one before, as the indicator's polarity judges it."""

    IMPROVING = "improving"
    UNCHANGED = "unchanged"
    WORSENING = "worsening"
    NOT_KNOWN = "not_known"  # fewer than two values, or one of them suppressed


class TrendPoint(Row):
    period: str
    value: Decimal | Suppression


class OwedReturn(Row):
    """A period owed a return that has none yet, and the day it falls due."""

    period: str
    due_on: date


class LatestReturnLine(Row):
    period: str
    value: Decimal | Suppression
    late: bool
    restated: bool
    status: ReturnStatus


class KpiLine(Row):
    reference: str
    code: str
    title: str
    unit: str
    polarity: Polarity
    frequency: str
    latest: LatestReturnLine | None
    target: Decimal | None
    tolerance: Decimal | None
    rag: Rag
    direction: Direction
    trend: list[TrendPoint]
    owed: list[OwedReturn]  # overdue once `due_on` has passed
    late: list[str]
    open_queries: int
    restatements: int

    def overdue(self, today: date) -> list[str]:
        return [owed.period for owed in self.owed if owed.due_on < today]


# -- performance notices and governance -----------------------------------------------------------


class NoticeLine(Row):
    notice_id: UUID
    issued_on: date
    response_due: date
    status: NoticeStatus
    grounds: str
    kpi_codes: list[str]
    clauses: list[str]
    # The first day the notice counts as overdue (no plan by its due date); None once a plan came.
    overdue_from: date | None

    def is_overdue(self, today: date) -> bool:
        return self.overdue_from is not None and today >= self.overdue_from


class MeetingLine(Row):
    meeting_id: UUID
    board: str
    scheduled_for: date
    held_on: date | None = None
    decisions: int = 0
    actions: int = 0


class ActionLine(Row):
    action_id: UUID
    description: str
    owner: str
    due_on: date


class ReviewLine(Row):
    contract_year: str
    held_on: date
    outcome: str


class Governance(Row):
    boards: list[str]
    scheduled_meetings: list[MeetingLine]  # in date order; the next is the first not yet past
    last_meeting: MeetingLine | None
    open_actions: list[ActionLine]
    last_annual_review: ReviewLine | None


# -- the rows stored ------------------------------------------------------------------------------


class ContractDashboard(Row):
    """One contract's dashboard as stored: everything but what the reading day decides."""

    contract_id: UUID
    title: str
    council: Party
    trust: Party
    la_number: str
    ons_code: str
    statuses: list[StatusFrom]
    starts: date
    ends_on: date
    extension_options: list[int]
    ending: str | None
    scope: list[str]
    finances: Finances
    kpis: list[KpiLine]
    open_notices: list[NoticeLine]
    closed_notices: int
    governance: Governance

    def status(self, today: date) -> ContractStatus:
        return status_on(self.statuses, today)


class PortfolioRow(Row):
    """One contract beside the others: the columns a portfolio sorts and counts."""

    contract_id: UUID
    title: str
    council: str
    trust: str
    ons_code: str
    statuses: list[StatusFrom]
    rag: dict[Rag, int]
    owed_due_on: list[date]
    open_notices: int
    notices_overdue_from: list[date]
    variance: int | None  # pence, the latest year with a reported position
    variance_year: str | None


class InspectionLine(Row):
    inspection_id: UUID
    inspection_type: InspectionType
    starts_on: date
    published_on: date
    judgements: dict[Area, Grade]
    theme: str | None
    corrections: int


class OfstedRecord(Row):
    """A local authority's Ofsted inspections and visits, newest first, and the latest judging
    inspection's grades."""

    ons_code: str
    la_name: str
    latest: InspectionLine | None
    history: list[InspectionLine]

    @property
    def latest_grade(self) -> Grade | None:
        if self.latest is None:
            return None
        return self.latest.judgements.get(Area.OVERALL_EFFECTIVENESS)


# -- the fold -------------------------------------------------------------------------------------


def owner_of(aggregate: Aggregate) -> str:
    """What an aggregate's events change: its contract's rows, or its authority's Ofsted row."""
    if isinstance(aggregate, ServiceContract):
        return str(aggregate.id)
    if isinstance(aggregate, Inspection):
        return aggregate.ons_code
    return str(aggregate.contract_id)


class Folded:
    """The aggregates the dashboard is made of, each as its events so far have made it."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Aggregate] = {}
        self.members: dict[str, set[UUID]] = {}
        # Each aggregate's owner, fixed by the event that starts it (no event moves one).
        self.owners: dict[UUID, str] = {}

    def add(self, aggregate: Aggregate) -> None:
        owner = owner_of(aggregate)
        self.aggregates[aggregate.id] = aggregate
        self.owners[aggregate.id] = owner
        self.members.setdefault(owner, set()).add(aggregate.id)

    def apply(self, event: LedgerAggregate.Event) -> Aggregate | None:
        """Fold one event in; the aggregate it changed, or None for an event already folded (a
        re-delivery changes nothing) or of a kind the dashboard does not show."""
        if not _folds(type(event)):
            return None
        known = self.aggregates.get(event.originator_id)
        if known is not None and event.originator_version <= known.version:
            return None
        mutated = event.mutate(known)
        if mutated is known:
            return known  # changed where it is held, as the library's aggregates are
        if not isinstance(mutated, _AGGREGATE_KINDS):
            return None
        self.add(mutated)
        return mutated

    def of(self, owner: str) -> list[Aggregate]:
        return [self.aggregates[i] for i in sorted(self.members.get(owner, ()))]


_AGGREGATE_KINDS = (ServiceContract, IndicatorSeries, PerformanceNotice, Inspection)
_FOLDS: dict[type[LedgerAggregate.Event], bool] = {}


def _folds(kind: type[LedgerAggregate.Event]) -> bool:
    """Whether the dashboard folds events of this class: asked once per class rather than of
    every event against each of the classes declared."""
    folds = _FOLDS.get(kind)
    if folds is None:
        folds = _FOLDS[kind] = issubclass(kind, _FOLDED_EVENTS)
    return folds


def contract_rows(
    contract: ServiceContract, members: Iterable[Aggregate]
) -> tuple[ContractDashboard, PortfolioRow]:
    """The dashboard and portfolio rows of a contract, from it and its series and notices."""
    series = {s.indicator.code: s for s in members if isinstance(s, IndicatorSeries)}
    notices = sorted(
        (n for n in members if isinstance(n, PerformanceNotice)),
        key=lambda n: (n.issued_on, str(n.id)),
    )
    kpis = _kpi_lines(contract, series)
    open_notices = [_notice_line(n) for n in notices if n.is_open]
    finances = _finances(contract)
    statuses = _statuses(contract)
    dashboard = ContractDashboard(
        contract_id=contract.id,
        title=contract.title,
        council=Party(name=contract.council.name, organisation_id=contract.council.organisation_id),
        trust=Party(name=contract.trust.name, organisation_id=contract.trust.organisation_id),
        la_number=contract.council.la_number,
        ons_code=contract.council.ons_code,
        statuses=statuses,
        starts=contract.term.starts,
        ends_on=contract.ends_on,
        extension_options=list(contract.term.extension_options),
        ending=None if contract.ending is None else contract.ending.kind.value,
        scope=[line.value for line in contract.scope],
        finances=finances,
        kpis=kpis,
        open_notices=open_notices,
        closed_notices=len(notices) - len(open_notices),
        governance=_governance(contract),
    )
    latest = finances.latest_positions[-1] if finances.latest_positions else None
    portfolio = PortfolioRow(
        contract_id=contract.id,
        title=contract.title,
        council=contract.council.name,
        trust=contract.trust.name,
        ons_code=contract.council.ons_code,
        statuses=statuses,
        rag={r: sum(k.rag is r for k in kpis) for r in Rag},
        owed_due_on=sorted(owed.due_on for k in kpis for owed in k.owed),
        open_notices=len(open_notices),
        notices_overdue_from=sorted(n.overdue_from for n in open_notices if n.overdue_from),
        variance=None if latest is None else latest.variance,
        variance_year=None if latest is None else latest.financial_year,
    )
    return dashboard, portfolio


def authority_row(ons_code: str, inspections: Sequence[Inspection]) -> OfstedRecord:
    history = sorted(inspections, key=lambda i: (i.starts_on, str(i.id)), reverse=True)
    judged = latest_inspections(history, inspected_by=date.max, published_by=date.max)
    latest = judged[0] if judged else None
    return OfstedRecord(
        ons_code=ons_code,
        la_name=history[0].la_name if history else "",
        latest=None if latest is None else _inspection_line(latest),
        history=[_inspection_line(i) for i in history],
    )


def fold(events: Iterable[LedgerAggregate.Event]) -> Folded:
    """The aggregates as the given events (the log up to some position) make them: `rows_of`
    gives the rows "as at" that position, the same rows the live view stored then."""
    folded = Folded()
    for event in events:
        folded.apply(event)
    return folded


def rows_of(
    folded: Folded, owners: Iterable[str] | None = None
) -> tuple[dict[UUID, tuple[ContractDashboard, PortfolioRow]], dict[str, OfstedRecord]]:
    """The rows of the given owners (contract ids and ONS codes), or of every one."""
    contracts: dict[UUID, tuple[ContractDashboard, PortfolioRow]] = {}
    authorities: dict[str, OfstedRecord] = {}
    for owner in folded.members if owners is None else owners:
        members = folded.of(owner)
        inspections = [i for i in members if isinstance(i, Inspection)]
        if inspections:
            authorities[owner] = authority_row(owner, inspections)
            continue
        for contract in members:
            if isinstance(contract, ServiceContract):
                contracts[contract.id] = contract_rows(contract, members)
    return contracts, authorities


def status_on(statuses: Sequence[StatusFrom], today: date) -> ContractStatus:
    return [s.status for s in statuses if s.starts_on <= today][-1]


# -- the parts ------------------------------------------------------------------------------------


def _statuses(contract: ServiceContract) -> list[StatusFrom]:
    """The contract's status as a function of the day, asked of the contract itself on the days
    it can change, so that its rule is stated once (`ServiceContract.status`)."""
    days = [date.min, contract.term.starts, contract.ends_on + _ONE_DAY]
    statuses: list[StatusFrom] = []
    for day in days:
        status = contract.status(day)
        if not statuses or statuses[-1].status is not status:
            statuses.append(StatusFrom(starts_on=day, status=status))
    return statuses


def _finances(contract: ServiceContract) -> Finances:
    agreed = [v for v in contract.variations.values() if v.status is VariationStatus.AGREED]
    return Finances(
        contract_sums=dict(contract.contract_sums),
        agreed_variations=[
            AgreedVariation(
                variation_id=v.variation_id,
                rationale=v.rationale,
                proposed_by=v.proposer.value,
                agreed_at=v.decided_at or v.proposed_at,
                changes=sorted(v.changes.subjects),
            )
            for v in sorted(agreed, key=lambda v: v.decided_at or v.proposed_at)
        ],
        open_variations=len(contract.open_variations),
        latest_positions=[
            FinancialPositionLine(
                financial_year=p.financial_year,
                period=p.period,
                forecast_outturn=p.forecast_outturn,
                contract_sum=p.contract_sum,
                variance=p.variance,
            )
            for p in contract.latest_financial_positions.values()
        ],
        paid_by_year=contract.paid_by_year,
        total_paid=contract.total_paid,
    )


def _kpi_lines(contract: ServiceContract, series: Mapping[str, IndicatorSeries]) -> list[KpiLine]:
    # Asked as at the end of time, the summary lists every period owed and not returned; which
    # of them are overdue is for the reading day to say, from the due dates kept beside them.
    calendar = england()
    lines: list[KpiLine] = []
    for summary in kpi_summary(contract, series, date.max):
        code = summary.indicator.code
        kpi = contract.kpi_schedule[code]
        returns = [] if code not in series else list(series[code].returns.values())
        trend = [TrendPoint(period=r.period.label, value=r.value) for r in returns]
        latest = summary.latest
        lines.append(
            KpiLine(
                reference=summary.reference,
                code=code,
                title=summary.indicator.title,
                unit=summary.indicator.unit.value,
                polarity=summary.indicator.polarity,
                frequency=summary.frequency.value,
                latest=None
                if latest is None
                else LatestReturnLine(
                    period=latest.period,
                    value=latest.value,
                    late=latest.late,
                    restated=latest.restated,
                    status=latest.status,
                ),
                target=summary.target,
                tolerance=summary.tolerance,
                rag=summary.rag,
                direction=_direction(trend, summary.indicator.polarity),
                trend=trend[-TREND_PERIODS:],
                owed=[
                    OwedReturn(
                        period=label,
                        due_on=due_date(
                            ReportingPeriod.parse(label), kpi.due_working_days, calendar
                        ),
                    )
                    for label in summary.overdue
                ],
                late=summary.late,
                open_queries=summary.open_queries,
                restatements=sum(len(r.history) - 1 for r in returns),
            )
        )
    return lines


def _direction(trend: Sequence[TrendPoint], polarity: Polarity) -> Direction:
    if len(trend) < 2:
        return Direction.NOT_KNOWN
    previous, latest = trend[-2].value, trend[-1].value
    if not isinstance(previous, Decimal) or not isinstance(latest, Decimal):
        return Direction.NOT_KNOWN
    if latest == previous:
        return Direction.UNCHANGED
    # The last period as the target for this one: RAG's own rule says which side is better.
    if rag(latest, previous, None, polarity) is Rag.GREEN:
        return Direction.IMPROVING
    return Direction.WORSENING


def _notice_line(notice: PerformanceNotice) -> NoticeLine:
    # Overdue is the notice's own rule; ask it on the first day it could be.
    first_overdue_day = notice.response_due + _ONE_DAY
    return NoticeLine(
        notice_id=notice.id,
        issued_on=notice.issued_on,
        response_due=notice.response_due,
        status=notice.status,
        grounds=notice.grounds,
        kpi_codes=list(notice.kpi_codes),
        clauses=list(notice.clauses),
        overdue_from=first_overdue_day if notice.is_overdue(first_overdue_day) else None,
    )


def _governance(contract: ServiceContract) -> Governance:
    boards = contract.boards

    def line(meeting_id: UUID) -> MeetingLine:
        meeting = contract.meetings[meeting_id]
        board = boards.get(meeting.board_id)
        return MeetingLine(
            meeting_id=meeting.meeting_id,
            board="" if board is None else board.name,
            scheduled_for=meeting.scheduled_for,
            held_on=meeting.held_on,
            decisions=len(meeting.decisions),
            actions=len(meeting.action_ids),
        )

    meetings = sorted(contract.meetings.values(), key=lambda m: (m.scheduled_for, m.meeting_id))
    held = [m for m in meetings if m.status is MeetingStatus.HELD]
    last_held = max(held, key=lambda m: m.held_on or m.scheduled_for, default=None)
    reviews = sorted(contract.annual_reviews.values(), key=lambda r: r.contract_year)
    return Governance(
        boards=sorted(board.name for board in boards.values()),
        scheduled_meetings=[
            line(m.meeting_id) for m in meetings if m.status is MeetingStatus.SCHEDULED
        ],
        last_meeting=None if last_held is None else line(last_held.meeting_id),
        open_actions=sorted(
            (
                ActionLine(
                    action_id=a.action_id, description=a.description, owner=a.owner, due_on=a.due_on
                )
                for a in contract.actions.values()
                if a.completed_on is None
            ),
            key=lambda a: (a.due_on, str(a.action_id)),
        ),
        last_annual_review=None
        if not reviews
        else ReviewLine(
            contract_year=reviews[-1].contract_year,
            held_on=reviews[-1].held_on,
            outcome=reviews[-1].outcome,
        ),
    )


def _inspection_line(inspection: Inspection) -> InspectionLine:
    return InspectionLine(
        inspection_id=inspection.id,
        inspection_type=inspection.inspection_type,
        starts_on=inspection.starts_on,
        published_on=inspection.published_on,
        judgements=dict(inspection.judgements),
        theme=inspection.theme,
        corrections=len(inspection.corrections),
    )

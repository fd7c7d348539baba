"""The service delivery contract between a council and its independent children's trust.

The council (the commissioner) keeps its statutory duties for children's social care and
contracts their delivery to the trust (the provider). The contract is drafted by the council,
signed by both, changed only by variations one party proposes and the other agrees, governed
through boards, meetings and annual reviews, and ended by expiry, termination, a break clause or
the services' return in house.

Each command checks its rules before recording anything, so a refused command leaves no event
and no change behind. Money is integer pence throughout; financial years are labels such as
"2018-19" (see `domain.periods`).

The contract also holds its KPI schedule: which indicators the trust reports, how often, by
when, and against which target and tolerance in each contract year. The returns themselves live
in one `IndicatorSeries` per KPI (`domain.indicator_series`), so the contract's stream stays short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.actor import Actor
from domain.errors import (
    ActionAlreadyCompleted,
    AlreadySigned,
    ContractEnded,
    ContractNotDraft,
    ContractNotLive,
    InvalidAmendment,
    InvalidAmount,
    InvalidContractSum,
    InvalidDate,
    InvalidFraction,
    InvalidIndicator,
    InvalidKpi,
    InvalidOrganisation,
    InvalidPeriod,
    InvalidScope,
    InvalidTerm,
    InvalidVariation,
    MeetingNotScheduled,
    MissingDetail,
    MissingReason,
    NoSuchOption,
    NotAParty,
    NotFound,
    NotOnSchedule,
    NotProposer,
    ObligationNotOpen,
    OwnVariation,
    ReferenceInUse,
    ReservedMatterNotOpen,
    ReviewAlreadyHeld,
    TermNotEnded,
    UnknownIndicator,
    VariationAlreadyOpen,
    VariationNotOpen,
    WrongParty,
)
from domain.indicators import CATALOGUE, Indicator, national_indicator
from domain.ledger import LedgerAggregate
from domain.local_authority import check_council_codes
from domain.periods import FinancialYear, add_months
from domain.rag import check_tolerance
from domain.reporting import Frequency
from domain.services import ServiceLine

_T = TypeVar("_T")

# The longest wait for a return a schedule may set: three months of working days, beyond which
# a figure is history rather than monitoring.
MOST_WORKING_DAYS_TO_RETURN = 60
# DfE's tables print at most one decimal place; four leaves room for a contract's own measures,
# and a bound keeps rounding to them within Decimal's 28 digits.
MOST_DECIMALS = 4
# The source a contract's own indicator names, where a national one names DfE's file.
LOCAL_SOURCE = "local"


# -- the parties and the terms --------------------------------------------------------------------


class Party(StrEnum):
    COMMISSIONER = "commissioner"
    PROVIDER = "provider"


@dataclass(frozen=True)
class Council:
    """The commissioner, named as the DfE and the ONS know it (Sandwell: "333", "E08000028")."""

    la_number: str
    ons_code: str
    name: str
    organisation_id: str


@dataclass(frozen=True)
class Trust:
    """The provider: the company the council set up, or was directed to set up, to run services."""

    name: str
    organisation_id: str


@dataclass(frozen=True)
class Term:
    """From the first to the last day in force, with any options to extend (lengths in months)."""

    starts: date
    ends: date
    extension_options: tuple[int, ...] = ()

    @property
    def financial_years(self) -> tuple[FinancialYear, ...]:
        """The contract years: every financial year the term touches."""
        return FinancialYear.spanning(self.starts, self.ends)

    def covers(self, year: FinancialYear) -> bool:
        return year.overlaps(self.starts, self.ends)

    def ends_after_extension(self, months: int) -> date:
        # A term from 1 April 2018 ends on 31 March 2028, and two years more must end on
        # 31 March 2030: count from the day after the last day, not from the last day.
        return add_months(self.ends + timedelta(days=1), months) - timedelta(days=1)


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    LIVE = "live"
    ENDED = "ended"


@dataclass(frozen=True)
class Signature:
    party: Party
    signed_by: Actor
    signed_at: datetime


# -- the KPI schedule ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledKpi:
    """One line of the contract's KPI schedule, as the parties agreed it.

    `indicator` is the definition as agreed, so that a contract's own indicator travels with
    it and a later change to the national catalogue does not rewrite what was signed.
    `reference` is the contract's own code for the line (Doncaster's "A1", "B13"). Returns fall
    due `due_working_days` working days after each period ends. `targets` and `tolerances` are
    by contract year ("2024-25"); a tolerance is the value beyond which amber turns red.
    `agreed_in` is None for a line as signed, else the variation that agreed it, so every target
    in force can be traced to its agreement.
    """

    indicator: Indicator
    reference: str
    frequency: Frequency
    due_working_days: int
    targets: dict[str, Decimal]
    tolerances: dict[str, Decimal] = field(default_factory=dict)
    agreed_in: UUID | None = None

    @property
    def code(self) -> str:
        return self.indicator.code


@dataclass(frozen=True)
class KpiScheduleChange:
    """One version of one line of the schedule: the KPI as it then stood, or None once it was
    taken off; `agreed_in` is the variation that made the change, None while drafting."""

    indicator_code: str
    kpi: ScheduledKpi | None
    agreed_in: UUID | None
    changed_by: Actor
    changed_at: datetime
    # The first day the change applies, when the parties agreed one (the 2022 review agreed KPIs
    # "from 1 April 2023"); otherwise it applies from the day it was agreed.
    effective_from: date | None = None


# -- variations -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObligationChange:
    """A new description or due date (or both) for an obligation; None leaves it as it is."""

    obligation_id: UUID
    description: str | None = None
    due_on: date | None = None

    def applied_to(self, obligation: Obligation) -> Obligation:
        return replace(
            obligation,
            description=obligation.description if self.description is None else self.description,
            due_on=obligation.due_on if self.due_on is None else self.due_on,
        )


@dataclass(frozen=True)
class VariationChanges:
    """What a variation would change. Each field left empty is untouched by the variation.

    `contract_sums` sets the named years' sums and leaves the other years alone. `kpis` adds
    KPIs to the schedule or replaces those measured by the same indicators, and `kpis_removed`
    takes KPIs off it by indicator code.
    """

    scope: tuple[ServiceLine, ...] | None = None
    contract_sums: dict[str, int] | None = None
    term_ends: date | None = None
    obligations: tuple[ObligationChange, ...] = ()
    kpis: tuple[ScheduledKpi, ...] = ()
    kpis_removed: tuple[str, ...] = ()
    kpis_from: date | None = None  # the first day the KPI changes apply; else the day agreed

    @property
    def subjects(self) -> frozenset[str]:
        """What the variation touches, for the one-open-proposal-per-subject rule."""
        subjects = {f"the contract sum for {year}" for year in self.contract_sums or {}}
        subjects |= {f"obligation {change.obligation_id}" for change in self.obligations}
        subjects |= {f"the KPI {kpi.code}" for kpi in self.kpis}
        subjects |= {f"the KPI {code}" for code in self.kpis_removed}
        if self.scope is not None:
            subjects.add("the scope of services")
        if self.term_ends is not None:
            subjects.add("the term")
        return frozenset(subjects)


class VariationStatus(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # still open when the contract ended


@dataclass(frozen=True)
class Variation:
    variation_id: UUID
    changes: VariationChanges
    rationale: str
    proposer: Party
    proposed_by: Actor
    proposed_at: datetime
    status: VariationStatus = VariationStatus.PROPOSED
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    rejection_reason: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status is VariationStatus.PROPOSED


# -- governance -----------------------------------------------------------------------------------


class BoardKind(StrEnum):
    OPERATIONAL_GROUP = "operational-group"
    STRATEGIC_GROUP = "strategic-group"
    STRATEGIC_MONITORING_BOARD = "strategic-monitoring-board"
    PARTNERSHIP_BOARD = "partnership-board"
    JOINT_COMMITTEE = "joint-committee"
    OTHER = "other"


@dataclass(frozen=True)
class Board:
    board_id: UUID
    kind: BoardKind
    name: str


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Meeting:
    meeting_id: UUID
    board_id: UUID
    scheduled_for: date
    status: MeetingStatus = MeetingStatus.SCHEDULED
    held_on: date | None = None
    decisions: tuple[str, ...] = ()
    action_ids: tuple[UUID, ...] = ()
    cancellation_reason: str | None = None


@dataclass(frozen=True)
class AgreedAction:
    """An action as a meeting or review agrees it, before the ledger gives it an id."""

    description: str
    owner: str
    due_on: date


@dataclass(frozen=True)
class Action:
    action_id: UUID
    description: str
    owner: str
    due_on: date
    completed_on: date | None = None


@dataclass(frozen=True)
class AnnualReview:
    contract_year: str
    held_on: date
    outcome: str
    action_ids: tuple[UUID, ...]
    held_by: Actor


# -- obligations and reserved matters -------------------------------------------------------------


class ObligationStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class Obligation:
    obligation_id: UUID
    description: str
    due_on: date
    status: ObligationStatus = ObligationStatus.OPEN
    met_on: date | None = None
    evidence: str | None = None
    missed_reason: str | None = None
    recorded_by: Actor | None = None


class ReservedMatterStatus(StrEnum):
    REFERRED = "referred"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True)
class ReservedMatter:
    """A decision the trust must put to the council, such as its annual business plan."""

    matter_id: UUID
    subject: str
    referred_by: Actor
    status: ReservedMatterStatus = ReservedMatterStatus.REFERRED
    decided_by: Actor | None = None
    refusal_reason: str | None = None


# -- finances -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinancialPosition:
    financial_year: str
    period: str
    forecast_outturn: int
    contract_sum: int | None  # the year's sum when the position was reported, if one was agreed
    commentary: str
    reported_by: Actor

    @property
    def variance(self) -> int | None:
        """Forecast overspend (positive) or underspend (negative) against the contract sum."""
        return None if self.contract_sum is None else self.forecast_outturn - self.contract_sum


@dataclass(frozen=True)
class Payment:
    payment_id: UUID
    amount: int
    paid_on: date
    reference: str
    recorded_by: Actor

    @property
    def financial_year(self) -> str:
        return FinancialYear.containing(self.paid_on).label


# -- ending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    months: int
    ends: date
    extended_by: Actor


@dataclass(frozen=True)
class BreakClauseDecision:
    used: bool
    rationale: str
    ends_on: date | None
    decided_by: Actor


class EndingKind(StrEnum):
    EXPIRED = "expired"
    TERMINATED = "terminated"
    BREAK_CLAUSE = "break-clause"
    RETURNED_IN_HOUSE = "returned-in-house"


@dataclass(frozen=True)
class Ending:
    """How the contract ended; `ends_on` is its last day in force."""

    kind: EndingKind
    ends_on: date
    reason: str | None
    ended_by: Actor
    recorded_at: datetime


# -- the aggregate --------------------------------------------------------------------------------


class ServiceContract(LedgerAggregate):
    """One council's contract with its trust, from the draft to the day it ends."""

    class Drafted(LedgerAggregate.Created):
        council: Council
        trust: Trust
        title: str
        term: Term
        scope: list[ServiceLine]
        contract_sums: dict[str, int]

    class DraftAmended(LedgerAggregate.Event):
        title: str | None
        term: Term | None
        scope: list[ServiceLine] | None
        contract_sums: dict[str, int] | None

    class ObligationSet(LedgerAggregate.Event):
        obligation_id: UUID
        description: str
        due_on: date

    class LocalIndicatorDefined(LedgerAggregate.Event):
        indicator: Indicator

    class KpiScheduled(LedgerAggregate.Event):
        kpi: ScheduledKpi

    class KpiUnscheduled(LedgerAggregate.Event):
        indicator_code: str

    class Signed(LedgerAggregate.Event):
        """The actor signed for their organisation's side of the contract."""

    class VariationProposed(LedgerAggregate.Event):
        variation_id: UUID
        changes: VariationChanges
        rationale: str

    class VariationAgreed(LedgerAggregate.Event):
        variation_id: UUID

    class VariationRejected(LedgerAggregate.Event):
        variation_id: UUID
        reason: str

    class VariationWithdrawn(LedgerAggregate.Event):
        variation_id: UUID

    class BoardEstablished(LedgerAggregate.Event):
        board_id: UUID
        kind: BoardKind
        name: str

    class MeetingScheduled(LedgerAggregate.Event):
        meeting_id: UUID
        board_id: UUID
        scheduled_for: date

    class MeetingHeld(LedgerAggregate.Event):
        meeting_id: UUID
        held_on: date
        decisions: list[str]
        actions: list[Action]

    class MeetingCancelled(LedgerAggregate.Event):
        meeting_id: UUID
        reason: str

    class ActionCompleted(LedgerAggregate.Event):
        action_id: UUID
        completed_on: date

    class AnnualReviewHeld(LedgerAggregate.Event):
        contract_year: str
        held_on: date
        outcome: str
        actions: list[Action]

    class ObligationMet(LedgerAggregate.Event):
        obligation_id: UUID
        met_on: date
        evidence: str

    class ObligationMissed(LedgerAggregate.Event):
        obligation_id: UUID
        reason: str

    class ReservedMatterReferred(LedgerAggregate.Event):
        matter_id: UUID
        subject: str

    class ReservedMatterApproved(LedgerAggregate.Event):
        matter_id: UUID

    class ReservedMatterRefused(LedgerAggregate.Event):
        matter_id: UUID
        reason: str

    class FinancialPositionReported(LedgerAggregate.Event):
        financial_year: str
        period: str
        forecast_outturn: int
        commentary: str

    class PaymentRecorded(LedgerAggregate.Event):
        payment_id: UUID
        amount: int
        paid_on: date
        reference: str

    class Extended(LedgerAggregate.Event):
        months: int
        ends: date

    class BreakClauseConsidered(LedgerAggregate.Event):
        used: bool
        rationale: str
        ends_on: date | None

    class Expired(LedgerAggregate.Event):
        ends_on: date

    class Terminated(LedgerAggregate.Event):
        reason: str
        ends_on: date

    class ReturnedInHouse(LedgerAggregate.Event):
        reason: str
        ends_on: date

    # -- drafting ---------------------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        council: Council,
        trust: Trust,
        title: str,
        term: Term,
        scope: Sequence[ServiceLine],
        contract_sums: Mapping[str, int],
        actor: Actor,
    ) -> ServiceContract:
        """The council drafts the contract; the trust signs what the council has written."""
        _check_parties(council, trust)
        if actor.organisation_id == trust.organisation_id:
            raise WrongParty("the council drafts the contract; the trust signs it")
        if actor.organisation_id != council.organisation_id:
            raise NotAParty(f"only {council.name} can draft its contract with {trust.name}")
        _check_detail(title, "a contract needs a title")
        _check_term(term)
        _check_scope(scope)
        _check_contract_sums(contract_sums, term)
        return cls._create(
            cls.Drafted,
            id=uuid4(),
            council=council,
            trust=trust,
            title=title,
            term=term,
            scope=list(scope),
            contract_sums=dict(contract_sums),
            actor=actor,
        )

    def __init__(
        self,
        council: Council,
        trust: Trust,
        title: str,
        term: Term,
        scope: list[ServiceLine],
        contract_sums: dict[str, int],
    ) -> None:
        self.council = council
        self.trust = trust
        self.title = title
        self.term = term
        self.scope = _service_lines(scope)
        self.contract_sums = _in_year_order(contract_sums)
        self.signatures: tuple[Signature, ...] = ()
        self.obligations: dict[UUID, Obligation] = {}
        self.variations: dict[UUID, Variation] = {}
        self.boards: dict[UUID, Board] = {}
        self.meetings: dict[UUID, Meeting] = {}
        self.actions: dict[UUID, Action] = {}
        self.annual_reviews: dict[str, AnnualReview] = {}
        self.reserved_matters: dict[UUID, ReservedMatter] = {}
        self.financial_positions: tuple[FinancialPosition, ...] = ()
        self.payments: tuple[Payment, ...] = ()
        self.extensions: tuple[Extension, ...] = ()
        self.break_clause_decisions: tuple[BreakClauseDecision, ...] = ()
        self.ending: Ending | None = None
        self.kpi_schedule: dict[str, ScheduledKpi] = {}
        self.kpi_schedule_history: tuple[KpiScheduleChange, ...] = ()
        self.local_indicators: dict[str, Indicator] = {}

    def amend_draft(
        self,
        *,
        actor: Actor,
        title: str | None = None,
        term: Term | None = None,
        scope: Sequence[ServiceLine] | None = None,
        contract_sums: Mapping[str, int] | None = None,
    ) -> None:
        """Rewrite any of the draft's terms; `contract_sums` replaces the whole table."""
        self._check_party(actor, Party.COMMISSIONER, "amends the draft")
        self._check_draft()
        new_title = self.title if title is None else title
        new_term = self.term if term is None else term
        new_scope = self.scope if scope is None else tuple(scope)
        new_sums = self.contract_sums if contract_sums is None else dict(contract_sums)
        _check_detail(new_title, "a contract needs a title")
        _check_term(new_term)
        _check_scope(new_scope)
        _check_contract_sums(new_sums, new_term)
        _check_schedule(self.kpi_schedule, new_term)
        if (new_title, new_term, set(new_scope), new_sums) == (
            self.title,
            self.term,
            set(self.scope),
            self.contract_sums,
        ):
            raise InvalidAmendment("the amendment would leave the draft as it is")
        self._draft_amended(
            title=title,
            term=term,
            scope=None if scope is None else list(scope),
            contract_sums=None if contract_sums is None else dict(contract_sums),
            actor=actor,
        )

    @event(DraftAmended)
    def _draft_amended(
        self,
        title: str | None,
        term: Term | None,
        scope: list[ServiceLine] | None,
        contract_sums: dict[str, int] | None,
        actor: Actor,
    ) -> None:
        if title is not None:
            self.title = title
        if term is not None:
            self.term = term
        if scope is not None:
            self.scope = _service_lines(scope)
        if contract_sums is not None:
            self.contract_sums = _in_year_order(contract_sums)

    def set_obligation(self, *, description: str, due_on: date, actor: Actor) -> UUID:
        """An outcome the trust must achieve by a date, such as an Ofsted "Good" judgement.

        Set while drafting; once signed, obligations change only through an agreed variation.
        """
        self._check_party(actor, Party.COMMISSIONER, "sets the contract's obligations")
        self._check_draft()
        _check_detail(description, "an obligation needs a description")
        obligation_id = uuid4()
        self._obligation_set(
            obligation_id=obligation_id, description=description, due_on=due_on, actor=actor
        )
        return obligation_id

    @event(ObligationSet)
    def _obligation_set(
        self, obligation_id: UUID, description: str, due_on: date, actor: Actor
    ) -> None:
        self.obligations[obligation_id] = Obligation(obligation_id, description, due_on)

    def define_local_indicator(self, *, indicator: Indicator, actor: Actor) -> None:
        """A measure of the contract's own, defined while drafting so that it can be scheduled.

        Defining it again rewrites it, and a KPI on the draft's schedule takes the new definition;
        once signed, a new or changed local indicator comes with the variation that schedules it.
        """
        self._check_party(actor, Party.COMMISSIONER, "defines the contract's own indicators")
        self._check_draft()
        _check_local_indicator(indicator)
        if self.local_indicators.get(indicator.code) == indicator:
            raise InvalidAmendment(f"{indicator.code} is already defined so")
        self._local_indicator_defined(indicator=indicator, actor=actor, timestamp=_now())

    @event(LocalIndicatorDefined)
    def _local_indicator_defined(
        self, indicator: Indicator, actor: Actor, timestamp: datetime
    ) -> None:
        self.local_indicators[indicator.code] = indicator
        scheduled = self.kpi_schedule.get(indicator.code)
        if scheduled is not None:
            self._put_on_schedule(replace(scheduled, indicator=indicator), actor, timestamp)

    def schedule_kpi(self, *, kpi: ScheduledKpi, actor: Actor) -> None:
        """Add a KPI to the draft's schedule, or replace the one measured by the same indicator.

        A national indicator must be DfE's as catalogued; a local one must have been defined.
        Once signed, the schedule changes only through an agreed variation.
        """
        self._check_party(actor, Party.COMMISSIONER, "drafts the KPI schedule")
        self._check_draft()
        kpi = _as_proposed(kpi)
        self._check_indicator(kpi.indicator, by_variation=False)
        schedule = {**self.kpi_schedule, kpi.code: kpi}
        _check_schedule(schedule, self.term)
        if self.kpi_schedule.get(kpi.code) == kpi:
            raise InvalidAmendment(f"the KPI {kpi.code} is already scheduled so")
        self._kpi_scheduled(kpi=kpi, actor=actor, timestamp=_now())

    @event(KpiScheduled)
    def _kpi_scheduled(self, kpi: ScheduledKpi, actor: Actor, timestamp: datetime) -> None:
        self._put_on_schedule(kpi, actor, timestamp)

    def unschedule_kpi(self, *, indicator_code: str, actor: Actor) -> None:
        self._check_party(actor, Party.COMMISSIONER, "drafts the KPI schedule")
        self._check_draft()
        self.scheduled_kpi(indicator_code)
        self._kpi_unscheduled(indicator_code=indicator_code, actor=actor, timestamp=_now())

    @event(KpiUnscheduled)
    def _kpi_unscheduled(self, indicator_code: str, actor: Actor, timestamp: datetime) -> None:
        self._take_off_schedule(indicator_code, actor, timestamp)

    def _put_on_schedule(
        self,
        kpi: ScheduledKpi,
        actor: Actor,
        timestamp: datetime,
        effective_from: date | None = None,
    ) -> None:
        self.kpi_schedule[kpi.code] = kpi
        self.kpi_schedule_history += (
            KpiScheduleChange(kpi.code, kpi, kpi.agreed_in, actor, timestamp, effective_from),
        )

    def _take_off_schedule(
        self,
        code: str,
        actor: Actor,
        timestamp: datetime,
        agreed_in: UUID | None = None,
        effective_from: date | None = None,
    ) -> None:
        del self.kpi_schedule[code]
        self.kpi_schedule_history += (
            KpiScheduleChange(code, None, agreed_in, actor, timestamp, effective_from),
        )

    # -- signing ----------------------------------------------------------------------------------

    def sign(self, *, actor: Actor) -> None:
        """Each party signs once, in either order; the contract binds when both have signed."""
        party = self.party_of(actor)
        if party in {signature.party for signature in self.signatures}:
            raise AlreadySigned(f"the {party} has already signed")
        self._signed(actor=actor, timestamp=_now())

    @event(Signed)
    def _signed(self, actor: Actor, timestamp: datetime) -> None:
        self.signatures += (Signature(self.party_of(actor), actor, timestamp),)

    # -- variations -------------------------------------------------------------------------------

    def propose_variation(self, *, changes: VariationChanges, rationale: str, actor: Actor) -> UUID:
        """Either party proposes a change; nothing changes until the other party agrees.

        One open proposal per subject (the scope, the term, one year's sum, one obligation):
        the other party then agrees to a change against a baseline that cannot move under it.
        """
        self.party_of(actor)
        self._check_in_force()
        _check_reason(rationale, "a variation needs its rationale")
        changes = replace(changes, kpis=tuple(_as_proposed(kpi) for kpi in changes.kpis))
        self._check_changes(changes)
        for open_variation in self.open_variations:
            overlap = open_variation.changes.subjects & changes.subjects
            if overlap:
                raise VariationAlreadyOpen(
                    f"variation {open_variation.variation_id} is still open on "
                    f"{', '.join(sorted(overlap))}: agree, reject or withdraw it first"
                )
        variation_id = uuid4()
        self._variation_proposed(
            variation_id=variation_id,
            changes=changes,
            rationale=rationale,
            actor=actor,
            timestamp=_now(),
        )
        return variation_id

    @event(VariationProposed)
    def _variation_proposed(
        self,
        variation_id: UUID,
        changes: VariationChanges,
        rationale: str,
        actor: Actor,
        timestamp: datetime,
    ) -> None:
        self.variations[variation_id] = Variation(
            variation_id=variation_id,
            changes=changes,
            rationale=rationale,
            proposer=self.party_of(actor),
            proposed_by=actor,
            proposed_at=timestamp,
        )

    def agree_variation(self, *, variation_id: UUID, actor: Actor) -> None:
        """The other party agrees, and the change takes effect in the contract at once."""
        party = self.party_of(actor)
        self._check_in_force()
        variation = self._open_variation(variation_id)
        if party is variation.proposer:
            raise OwnVariation(f"the {party} proposed this variation; the other party agrees it")
        # Obligations may have been met or missed since the proposal: check it still applies.
        self._check_changes(variation.changes)
        self._variation_agreed(variation_id=variation_id, actor=actor, timestamp=_now())

    @event(VariationAgreed)
    def _variation_agreed(self, variation_id: UUID, actor: Actor, timestamp: datetime) -> None:
        variation = self.variations[variation_id]
        self.variations[variation_id] = replace(
            variation, status=VariationStatus.AGREED, decided_by=actor, decided_at=timestamp
        )
        changes = variation.changes
        if changes.scope is not None:
            self.scope = changes.scope
        if changes.contract_sums:
            self.contract_sums = _in_year_order({**self.contract_sums, **changes.contract_sums})
        if changes.term_ends is not None:
            self.term = replace(self.term, ends=changes.term_ends)
        for change in changes.obligations:
            obligation = self.obligations[change.obligation_id]
            self.obligations[change.obligation_id] = change.applied_to(obligation)
        for code in changes.kpis_removed:
            self._take_off_schedule(
                code, actor, timestamp, agreed_in=variation_id, effective_from=changes.kpis_from
            )
        for kpi in changes.kpis:
            if not kpi.indicator.national:
                # The contract's own indicator is agreed with the KPI that measures by it.
                self.local_indicators[kpi.code] = kpi.indicator
            self._put_on_schedule(
                replace(kpi, agreed_in=variation_id), actor, timestamp, changes.kpis_from
            )

    def reject_variation(self, *, variation_id: UUID, reason: str, actor: Actor) -> None:
        party = self.party_of(actor)
        self._check_in_force()
        _check_reason(reason, "a rejected variation needs the reason")
        variation = self._open_variation(variation_id)
        if party is variation.proposer:
            raise OwnVariation(
                f"the {party} proposed this variation: withdraw it rather than reject it"
            )
        self._variation_rejected(
            variation_id=variation_id, reason=reason, actor=actor, timestamp=_now()
        )

    @event(VariationRejected)
    def _variation_rejected(
        self, variation_id: UUID, reason: str, actor: Actor, timestamp: datetime
    ) -> None:
        self.variations[variation_id] = replace(
            self.variations[variation_id],
            status=VariationStatus.REJECTED,
            decided_by=actor,
            decided_at=timestamp,
            rejection_reason=reason,
        )

    def withdraw_variation(self, *, variation_id: UUID, actor: Actor) -> None:
        party = self.party_of(actor)
        self._check_in_force()
        variation = self._open_variation(variation_id)
        if party is not variation.proposer:
            raise NotProposer(f"only the {variation.proposer} can withdraw its own proposal")
        self._variation_withdrawn(variation_id=variation_id, actor=actor, timestamp=_now())

    @event(VariationWithdrawn)
    def _variation_withdrawn(self, variation_id: UUID, actor: Actor, timestamp: datetime) -> None:
        self.variations[variation_id] = replace(
            self.variations[variation_id],
            status=VariationStatus.WITHDRAWN,
            decided_by=actor,
            decided_at=timestamp,
        )

    # -- governance -------------------------------------------------------------------------------

    def establish_board(self, *, kind: BoardKind, name: str, actor: Actor) -> UUID:
        self.party_of(actor)
        self._check_in_force()
        _check_detail(name, "a board needs a name")
        board_id = uuid4()
        self._board_established(board_id=board_id, kind=kind, name=name, actor=actor)
        return board_id

    @event(BoardEstablished)
    def _board_established(self, board_id: UUID, kind: BoardKind, name: str, actor: Actor) -> None:
        # Stored events give enums back as their plain values.
        self.boards[board_id] = Board(board_id, BoardKind(kind), name)

    def schedule_meeting(self, *, board_id: UUID, scheduled_for: date, actor: Actor) -> UUID:
        self.party_of(actor)
        self._check_in_force()
        if board_id not in self.boards:
            raise NotFound(f"this contract has no board {board_id}")
        meeting_id = uuid4()
        self._meeting_scheduled(
            meeting_id=meeting_id, board_id=board_id, scheduled_for=scheduled_for, actor=actor
        )
        return meeting_id

    @event(MeetingScheduled)
    def _meeting_scheduled(
        self, meeting_id: UUID, board_id: UUID, scheduled_for: date, actor: Actor
    ) -> None:
        self.meetings[meeting_id] = Meeting(meeting_id, board_id, scheduled_for)

    def hold_meeting(
        self,
        *,
        meeting_id: UUID,
        held_on: date,
        decisions: Sequence[str],
        actions: Sequence[AgreedAction],
        actor: Actor,
    ) -> tuple[UUID, ...]:
        """Record the meeting's decisions and actions; returns the new actions' ids."""
        self.party_of(actor)
        self._check_in_force()
        for decision in decisions:
            _check_detail(decision, "a recorded decision cannot be blank")
        new_actions = _new_actions(actions)
        self._scheduled_meeting(meeting_id)
        self._meeting_held(
            meeting_id=meeting_id,
            held_on=held_on,
            decisions=list(decisions),
            actions=new_actions,
            actor=actor,
        )
        return tuple(action.action_id for action in new_actions)

    @event(MeetingHeld)
    def _meeting_held(
        self,
        meeting_id: UUID,
        held_on: date,
        decisions: list[str],
        actions: list[Action],
        actor: Actor,
    ) -> None:
        self.meetings[meeting_id] = replace(
            self.meetings[meeting_id],
            status=MeetingStatus.HELD,
            held_on=held_on,
            decisions=tuple(decisions),
            action_ids=tuple(action.action_id for action in actions),
        )
        self.actions.update((action.action_id, action) for action in actions)

    def cancel_meeting(self, *, meeting_id: UUID, reason: str, actor: Actor) -> None:
        self.party_of(actor)
        self._check_in_force()
        _check_reason(reason, "a cancelled meeting needs the reason")
        self._scheduled_meeting(meeting_id)
        self._meeting_cancelled(meeting_id=meeting_id, reason=reason, actor=actor)

    @event(MeetingCancelled)
    def _meeting_cancelled(self, meeting_id: UUID, reason: str, actor: Actor) -> None:
        self.meetings[meeting_id] = replace(
            self.meetings[meeting_id],
            status=MeetingStatus.CANCELLED,
            cancellation_reason=reason,
        )

    def complete_action(self, *, action_id: UUID, completed_on: date, actor: Actor) -> None:
        self.party_of(actor)
        self._check_in_force()
        action = self.actions.get(action_id)
        if action is None:
            raise NotFound(f"this contract has no action {action_id}")
        if action.completed_on is not None:
            raise ActionAlreadyCompleted(f"the action was completed on {action.completed_on}")
        self._action_completed(action_id=action_id, completed_on=completed_on, actor=actor)

    @event(ActionCompleted)
    def _action_completed(self, action_id: UUID, completed_on: date, actor: Actor) -> None:
        self.actions[action_id] = replace(self.actions[action_id], completed_on=completed_on)

    def hold_annual_review(
        self,
        *,
        contract_year: str,
        held_on: date,
        outcome: str,
        actions: Sequence[AgreedAction],
        actor: Actor,
    ) -> tuple[UUID, ...]:
        """One review per contract year (a financial year within the term).

        Returns the ids of the actions the review agreed.
        """
        self.party_of(actor)
        self._check_in_force()
        self._check_contract_year(contract_year)
        _check_detail(outcome, "a review needs its outcome")
        new_actions = _new_actions(actions)
        if contract_year in self.annual_reviews:
            raise ReviewAlreadyHeld(
                f"the {contract_year} review was held on "
                f"{self.annual_reviews[contract_year].held_on}"
            )
        self._annual_review_held(
            contract_year=contract_year,
            held_on=held_on,
            outcome=outcome,
            actions=new_actions,
            actor=actor,
        )
        return tuple(action.action_id for action in new_actions)

    @event(AnnualReviewHeld)
    def _annual_review_held(
        self,
        contract_year: str,
        held_on: date,
        outcome: str,
        actions: list[Action],
        actor: Actor,
    ) -> None:
        self.annual_reviews[contract_year] = AnnualReview(
            contract_year=contract_year,
            held_on=held_on,
            outcome=outcome,
            action_ids=tuple(action.action_id for action in actions),
            held_by=actor,
        )
        self.actions.update((action.action_id, action) for action in actions)

    # -- obligations ------------------------------------------------------------------------------

    def record_obligation_met(
        self, *, obligation_id: UUID, met_on: date, evidence: str, actor: Actor
    ) -> None:
        """The council, which keeps the statutory duty, judges whether the trust met it."""
        self._check_party(actor, Party.COMMISSIONER, "records an obligation met or missed")
        self._check_in_force()
        _check_detail(evidence, "an obligation is met on evidence")
        self._open_obligation(obligation_id)
        self._obligation_met(
            obligation_id=obligation_id, met_on=met_on, evidence=evidence, actor=actor
        )

    @event(ObligationMet)
    def _obligation_met(
        self, obligation_id: UUID, met_on: date, evidence: str, actor: Actor
    ) -> None:
        self.obligations[obligation_id] = replace(
            self.obligations[obligation_id],
            status=ObligationStatus.MET,
            met_on=met_on,
            evidence=evidence,
            recorded_by=actor,
        )

    def record_obligation_missed(self, *, obligation_id: UUID, reason: str, actor: Actor) -> None:
        self._check_party(actor, Party.COMMISSIONER, "records an obligation met or missed")
        self._check_in_force()
        _check_reason(reason, "a missed obligation needs the reason")
        self._open_obligation(obligation_id)
        self._obligation_missed(obligation_id=obligation_id, reason=reason, actor=actor)

    @event(ObligationMissed)
    def _obligation_missed(self, obligation_id: UUID, reason: str, actor: Actor) -> None:
        self.obligations[obligation_id] = replace(
            self.obligations[obligation_id],
            status=ObligationStatus.MISSED,
            missed_reason=reason,
            recorded_by=actor,
        )

    # -- reserved matters -------------------------------------------------------------------------

    def refer_reserved_matter(self, *, subject: str, actor: Actor) -> UUID:
        self._check_party(actor, Party.PROVIDER, "refers reserved matters to the council")
        self._check_in_force()
        _check_detail(subject, "a reserved matter needs its subject")
        matter_id = uuid4()
        self._reserved_matter_referred(matter_id=matter_id, subject=subject, actor=actor)
        return matter_id

    @event(ReservedMatterReferred)
    def _reserved_matter_referred(self, matter_id: UUID, subject: str, actor: Actor) -> None:
        self.reserved_matters[matter_id] = ReservedMatter(matter_id, subject, referred_by=actor)

    def approve_reserved_matter(self, *, matter_id: UUID, actor: Actor) -> None:
        self._check_party(actor, Party.COMMISSIONER, "decides reserved matters")
        self._check_in_force()
        self._open_reserved_matter(matter_id)
        self._reserved_matter_approved(matter_id=matter_id, actor=actor)

    @event(ReservedMatterApproved)
    def _reserved_matter_approved(self, matter_id: UUID, actor: Actor) -> None:
        self.reserved_matters[matter_id] = replace(
            self.reserved_matters[matter_id],
            status=ReservedMatterStatus.APPROVED,
            decided_by=actor,
        )

    def refuse_reserved_matter(self, *, matter_id: UUID, reason: str, actor: Actor) -> None:
        self._check_party(actor, Party.COMMISSIONER, "decides reserved matters")
        self._check_in_force()
        _check_reason(reason, "a refused reserved matter needs the reason")
        self._open_reserved_matter(matter_id)
        self._reserved_matter_refused(matter_id=matter_id, reason=reason, actor=actor)

    @event(ReservedMatterRefused)
    def _reserved_matter_refused(self, matter_id: UUID, reason: str, actor: Actor) -> None:
        self.reserved_matters[matter_id] = replace(
            self.reserved_matters[matter_id],
            status=ReservedMatterStatus.REFUSED,
            decided_by=actor,
            refusal_reason=reason,
        )

    # -- finances ---------------------------------------------------------------------------------

    def report_financial_position(
        self,
        *,
        financial_year: str,
        period: str,
        forecast_outturn: int,
        commentary: str,
        actor: Actor,
    ) -> None:
        """The trust's forecast for the year's spending, as at the end of a quarter or month."""
        self._check_party(actor, Party.PROVIDER, "reports its financial position")
        self._check_in_force()
        # A period that is not Q1 to Q4 or M1 to M12 has no end, and is refused.
        self._check_contract_year(financial_year).period_ends(period)
        if type(forecast_outturn) is not int or forecast_outturn < 0:
            raise InvalidAmount(
                f"a forecast outturn is whole pence and not negative, not {forecast_outturn!r}"
            )
        _check_detail(commentary, "a financial position needs its commentary")
        self._financial_position_reported(
            financial_year=financial_year,
            period=period,
            forecast_outturn=forecast_outturn,
            commentary=commentary,
            actor=actor,
        )

    @event(FinancialPositionReported)
    def _financial_position_reported(
        self,
        financial_year: str,
        period: str,
        forecast_outturn: int,
        commentary: str,
        actor: Actor,
    ) -> None:
        self.financial_positions += (
            FinancialPosition(
                financial_year=financial_year,
                period=period,
                forecast_outturn=forecast_outturn,
                contract_sum=self.contract_sums.get(financial_year),
                commentary=commentary,
                reported_by=actor,
            ),
        )

    def record_payment(self, *, amount: int, paid_on: date, reference: str, actor: Actor) -> UUID:
        self._check_party(actor, Party.COMMISSIONER, "records payments to the trust")
        self._check_in_force()
        if type(amount) is not int or amount <= 0:
            raise InvalidAmount(f"a payment is a positive number of pence, not {amount!r}")
        _check_detail(reference, "a payment needs its reference")
        payment_id = uuid4()
        self._payment_recorded(
            payment_id=payment_id, amount=amount, paid_on=paid_on, reference=reference, actor=actor
        )
        return payment_id

    @event(PaymentRecorded)
    def _payment_recorded(
        self, payment_id: UUID, amount: int, paid_on: date, reference: str, actor: Actor
    ) -> None:
        self.payments += (Payment(payment_id, amount, paid_on, reference, recorded_by=actor),)

    # -- ending -----------------------------------------------------------------------------------

    def extend(self, *, months: int, actor: Actor) -> None:
        """The council takes up one of the term's unused extension options."""
        self._check_party(actor, Party.COMMISSIONER, "takes up an extension option")
        self._check_in_force()
        if months not in self.term.extension_options:
            options = ", ".join(str(m) for m in self.term.extension_options) or "none"
            raise NoSuchOption(f"no unused option of {months} months (unused options: {options})")
        self._check_no_open_variation_on_term()
        self._extended(months=months, ends=self.term.ends_after_extension(months), actor=actor)

    @event(Extended)
    def _extended(self, months: int, ends: date, actor: Actor) -> None:
        unused = list(self.term.extension_options)
        unused.remove(months)
        self.term = Term(self.term.starts, ends, tuple(unused))
        self.extensions += (Extension(months, ends, extended_by=actor),)

    def consider_break_clause(
        self, *, used: bool, rationale: str, ends_on: date | None, actor: Actor
    ) -> None:
        """The council decides whether to use the break clause; if it does, the contract ends.

        `ends_on` is the last day in force when the clause is used, and None when it is not.
        """
        self._check_party(actor, Party.COMMISSIONER, "decides on the break clause")
        self._check_in_force()
        _check_reason(rationale, "a break clause decision needs its rationale")
        if used:
            if ends_on is None:
                raise InvalidDate("using the break clause needs the contract's last day")
            self._check_early_end(ends_on)
        elif ends_on is not None:
            raise InvalidDate("a break clause left unused ends nothing, so takes no end date")
        self._break_clause_considered(
            used=used, rationale=rationale, ends_on=ends_on, actor=actor, timestamp=_now()
        )

    @event(BreakClauseConsidered)
    def _break_clause_considered(
        self, used: bool, rationale: str, ends_on: date | None, actor: Actor, timestamp: datetime
    ) -> None:
        self.break_clause_decisions += (BreakClauseDecision(used, rationale, ends_on, actor),)
        if ends_on is not None:
            self._end(Ending(EndingKind.BREAK_CLAUSE, ends_on, rationale, actor, timestamp))

    def expire(self, *, on: date, actor: Actor) -> None:
        """Record that the term has run out; `on` is the day it is recorded."""
        self.party_of(actor)
        self._check_in_force()
        if on < self.term.ends:
            raise TermNotEnded(f"the term runs until {self.term.ends}")
        self._expired(ends_on=self.term.ends, actor=actor, timestamp=_now())

    @event(Expired)
    def _expired(self, ends_on: date, actor: Actor, timestamp: datetime) -> None:
        self._end(Ending(EndingKind.EXPIRED, ends_on, None, actor, timestamp))

    def terminate(self, *, reason: str, ends_on: date, actor: Actor) -> None:
        """Either party ends the contract early under its termination clauses."""
        self.party_of(actor)
        self._check_in_force()
        _check_reason(reason, "a termination needs the reason")
        self._check_early_end(ends_on)
        self._terminated(reason=reason, ends_on=ends_on, actor=actor, timestamp=_now())

    @event(Terminated)
    def _terminated(self, reason: str, ends_on: date, actor: Actor, timestamp: datetime) -> None:
        self._end(Ending(EndingKind.TERMINATED, ends_on, reason, actor, timestamp))

    def return_in_house(self, *, reason: str, ends_on: date, actor: Actor) -> None:
        """The council takes the services back, as Doncaster's came back on 1 April 2022."""
        self._check_party(actor, Party.COMMISSIONER, "takes services back in house")
        self._check_in_force()
        _check_reason(reason, "returning services in house needs the reason")
        self._check_early_end(ends_on)
        self._returned_in_house(reason=reason, ends_on=ends_on, actor=actor, timestamp=_now())

    @event(ReturnedInHouse)
    def _returned_in_house(
        self, reason: str, ends_on: date, actor: Actor, timestamp: datetime
    ) -> None:
        self._end(Ending(EndingKind.RETURNED_IN_HOUSE, ends_on, reason, actor, timestamp))

    def _end(self, ending: Ending) -> None:
        """Proposals still open when the contract ends can never be decided: they lapse."""
        self.ending = ending
        for variation in self.open_variations:
            self.variations[variation.variation_id] = replace(
                variation,
                status=VariationStatus.LAPSED,
                decided_by=ending.ended_by,
                decided_at=ending.recorded_at,
            )

    # -- what the contract says now ---------------------------------------------------------------

    def party_of(self, actor: Actor) -> Party:
        """The side the actor's organisation is on; anyone else has no business here."""
        if actor.organisation_id == self.council.organisation_id:
            return Party.COMMISSIONER
        if actor.organisation_id == self.trust.organisation_id:
            return Party.PROVIDER
        raise NotAParty(
            f"{actor.organisation_id} is neither {self.council.name} nor {self.trust.name}"
        )

    @property
    def is_in_force(self) -> bool:
        """Both have signed and no ending is recorded, so the contract takes changes."""
        return len(self.signatures) == len(Party) and self.ending is None

    @property
    def ends_on(self) -> date:
        """The last day in force: the term's end, unless the contract was ended early."""
        return self.term.ends if self.ending is None else self.ending.ends_on

    def status(self, on: date) -> ContractStatus:
        if len(self.signatures) < len(Party):
            return ContractStatus.DRAFT
        if on > self.ends_on:
            return ContractStatus.ENDED
        if on < self.term.starts:
            return ContractStatus.SIGNED
        return ContractStatus.LIVE

    @property
    def open_variations(self) -> tuple[Variation, ...]:
        return tuple(v for v in self.variations.values() if v.is_open)

    @property
    def latest_financial_positions(self) -> dict[str, FinancialPosition]:
        """Per financial year, the position for its latest period; a restatement replaces it.

        A late report for an earlier quarter does not hide a later one.
        """
        latest: dict[str, FinancialPosition] = {}
        for position in self.financial_positions:
            year = FinancialYear.parse(position.financial_year)
            current = latest.get(position.financial_year)
            if current is None or year.period_ends(position.period) >= year.period_ends(
                current.period
            ):
                latest[position.financial_year] = position
        return _in_year_order(latest)

    @property
    def paid_by_year(self) -> dict[str, int]:
        """Payments in pence per financial year of the day they were paid."""
        totals: dict[str, int] = {}
        for payment in self.payments:
            totals[payment.financial_year] = totals.get(payment.financial_year, 0) + payment.amount
        return _in_year_order(totals)

    @property
    def total_paid(self) -> int:
        return sum(payment.amount for payment in self.payments)

    def indicator(self, code: str) -> Indicator:
        """The contract's own indicator by that code if it defined one, else the national one."""
        return self.local_indicators.get(code) or national_indicator(code)

    def scheduled_kpi(self, code: str) -> ScheduledKpi:
        kpi = self.kpi_schedule.get(code)
        if kpi is None:
            raise NotOnSchedule(f"{code} is not on this contract's KPI schedule")
        return kpi

    def target_for(self, code: str, contract_year: str) -> tuple[Decimal | None, Decimal | None]:
        """The target and tolerance in force for a contract year; None where none is set."""
        kpi = self.scheduled_kpi(code)
        return kpi.targets.get(contract_year), kpi.tolerances.get(contract_year)

    def kpi_owed_from(self, code: str) -> date:
        """The day from which periods ending are owed a return: the term's start for a KPI on the
        schedule as signed, else the day from which the variation that brought it onto the
        schedule (since it was last taken off) applies: the date it names, or the day it was
        agreed. A variation that only changes its targets moves nothing."""
        self.scheduled_kpi(code)
        owed_from, on_schedule = self.term.starts, False
        for change in self.kpi_schedule_history:
            if change.indicator_code != code:
                continue
            if change.kpi is None:
                on_schedule = False
            elif not on_schedule:
                on_schedule = True
                owed_from = (
                    self.term.starts
                    if change.agreed_in is None
                    else change.effective_from or change.changed_at.date()
                )
        return owed_from

    # -- rules shared by several commands ---------------------------------------------------------

    def _check_party(self, actor: Actor, party: Party, what: str) -> None:
        if self.party_of(actor) is not party:
            raise WrongParty(f"only the {party} {what}")

    def _check_draft(self) -> None:
        if self.signatures:
            raise ContractNotDraft("the contract has been signed: change it by variation")

    def _check_in_force(self) -> None:
        if self.ending is not None:
            raise ContractEnded(f"the contract ended on {self.ends_on} ({self.ending.kind})")
        if len(self.signatures) < len(Party):
            raise ContractNotLive("the contract binds only once both parties have signed it")

    def _check_early_end(self, ends_on: date) -> None:
        if not self.term.starts <= ends_on <= self.term.ends:
            raise InvalidDate(
                f"the last day in force must fall within the term, "
                f"{self.term.starts} to {self.term.ends}"
            )

    def _check_contract_year(self, label: str) -> FinancialYear:
        year = FinancialYear.parse(label)
        if year not in self.term.financial_years:
            raise InvalidPeriod(f"{label} is not a year of this contract's term")
        return year

    def _check_changes(self, changes: VariationChanges) -> None:
        if not changes.subjects:
            raise InvalidVariation("a variation must change something")
        if changes.scope is not None:
            _check_scope(changes.scope)
            if set(changes.scope) == set(self.scope):
                raise InvalidVariation("the scope of services would stay as it is")
        term = self.term
        if changes.term_ends is not None:
            if changes.term_ends == term.ends:
                raise InvalidVariation(f"the term already ends on {term.ends}")
            term = replace(term, ends=changes.term_ends)
            _check_term(term)
        if changes.contract_sums:
            _check_contract_sums(changes.contract_sums, term)
            if all(self.contract_sums.get(y) == p for y, p in changes.contract_sums.items()):
                raise InvalidVariation("the contract sums would stay as they are")
        # A shorter term must not leave an agreed sum for a year it no longer touches.
        _check_contract_sums(self.contract_sums, term)
        seen: set[UUID] = set()
        for change in changes.obligations:
            if change.obligation_id in seen:
                raise InvalidVariation(f"obligation {change.obligation_id} is named twice")
            seen.add(change.obligation_id)
            obligation = self._open_obligation(change.obligation_id)
            if change.description is not None:
                _check_detail(change.description, "an obligation needs a description")
            if change.applied_to(obligation) == obligation:
                raise InvalidVariation(f"obligation {change.obligation_id} would stay as it is")
        self._check_kpi_changes(changes, term)
        if changes.kpis_from is not None:
            if not (changes.kpis or changes.kpis_removed):
                raise InvalidVariation("a date from which KPI changes apply needs KPI changes")
            if not term.starts <= changes.kpis_from <= term.ends:
                raise InvalidVariation(
                    f"KPI changes cannot apply from {changes.kpis_from}, outside the term"
                )

    def _check_kpi_changes(self, changes: VariationChanges, term: Term) -> None:
        codes = [kpi.code for kpi in changes.kpis] + list(changes.kpis_removed)
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise InvalidVariation(f"the variation names the KPI {', '.join(repeated)} twice")
        schedule = dict(self.kpi_schedule)
        for code in changes.kpis_removed:
            self.scheduled_kpi(code)
            del schedule[code]
        for kpi in changes.kpis:
            self._check_indicator(kpi.indicator, by_variation=True)
            current = self.kpi_schedule.get(kpi.code)
            if current is not None and replace(current, agreed_in=None) == kpi:
                raise InvalidVariation(f"the KPI {kpi.code} would stay as it is")
            schedule[kpi.code] = kpi
        # A shorter term must not leave a target for a year it no longer touches.
        _check_schedule(schedule, term)

    def _check_indicator(self, indicator: Indicator, *, by_variation: bool) -> None:
        """A national indicator must be DfE's as catalogued. While drafting, the contract's own
        must be defined before it is scheduled; after signing, a variation brings its own."""
        if indicator.national:
            if national_indicator(indicator.code) != indicator:
                raise InvalidKpi(
                    f"{indicator.code} is not defined as the national catalogue has it"
                )
            return
        _check_local_indicator(indicator)
        if by_variation:
            return
        defined = self.local_indicators.get(indicator.code)
        if defined is None:
            raise UnknownIndicator(
                f"{indicator.code} must be defined as the contract's own indicator before it is "
                "scheduled"
            )
        if defined != indicator:
            raise InvalidKpi(f"{indicator.code} is defined otherwise in this contract")

    def _check_no_open_variation_on_term(self) -> None:
        for variation in self.open_variations:
            if variation.changes.term_ends is not None:
                raise VariationAlreadyOpen(
                    f"variation {variation.variation_id} would move the term's end: "
                    "decide it before taking up an option"
                )

    def _open_variation(self, variation_id: UUID) -> Variation:
        variation = self.variations.get(variation_id)
        if variation is None:
            raise NotFound(f"this contract has no variation {variation_id}")
        if not variation.is_open:
            raise VariationNotOpen(f"the variation was {variation.status}")
        return variation

    def _scheduled_meeting(self, meeting_id: UUID) -> Meeting:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            raise NotFound(f"this contract has no meeting {meeting_id}")
        if meeting.status is not MeetingStatus.SCHEDULED:
            raise MeetingNotScheduled(f"the meeting was {meeting.status}")
        return meeting

    def _open_obligation(self, obligation_id: UUID) -> Obligation:
        obligation = self.obligations.get(obligation_id)
        if obligation is None:
            raise NotFound(f"this contract has no obligation {obligation_id}")
        if obligation.status is not ObligationStatus.OPEN:
            raise ObligationNotOpen(f"the obligation was {obligation.status}")
        return obligation

    def _open_reserved_matter(self, matter_id: UUID) -> ReservedMatter:
        matter = self.reserved_matters.get(matter_id)
        if matter is None:
            raise NotFound(f"this contract has no reserved matter {matter_id}")
        if matter.status is not ReservedMatterStatus.REFERRED:
            raise ReservedMatterNotOpen(f"the reserved matter was {matter.status}")
        return matter


def _now() -> datetime:
    """When the ledger learns of a decision: fixed by the command so that replay gives it back."""
    return ServiceContract.Event.create_timestamp()


def _check_parties(council: Council, trust: Trust) -> None:
    check_council_codes(council.la_number, council.ons_code)
    _check_detail(council.name, "the council needs its name")
    _check_detail(trust.name, "the trust needs its name")
    if council.organisation_id == trust.organisation_id:
        raise InvalidOrganisation("the council and its trust are two organisations")


def _check_term(term: Term) -> None:
    if term.ends <= term.starts:
        raise InvalidTerm(f"a term from {term.starts} must end after it, not on {term.ends}")
    if any(type(months) is not int or months <= 0 for months in term.extension_options):
        raise InvalidTerm("extension options are lengths in whole months")


def _check_scope(scope: Sequence[ServiceLine]) -> None:
    if not scope:
        raise InvalidScope("the trust must deliver at least one service")
    repeated = sorted({line for line in scope if scope.count(line) > 1})
    if repeated:
        raise InvalidScope(f"the scope names {', '.join(repeated)} more than once")


def _check_contract_sums(contract_sums: Mapping[str, int], term: Term) -> None:
    for label, pence in contract_sums.items():
        year = FinancialYear.parse(label)
        # bool is an int to Python, but never a sum of money.
        if type(pence) is not int or pence < 0:
            raise InvalidContractSum(
                f"the contract sum for {label} is whole pence and not negative, not {pence!r}"
            )
        if not term.covers(year):
            raise InvalidContractSum(
                f"{label} falls outside the term, {term.starts} to {term.ends}"
            )


def _as_proposed(kpi: ScheduledKpi) -> ScheduledKpi:
    """A KPI as a party puts it forward: which agreement brought it in is the ledger's to say.

    The tables are copied, so that the caller's later changes to its own cannot reach the ledger.
    """
    return replace(
        kpi,
        reference=kpi.reference.strip(),
        targets=dict(kpi.targets),
        tolerances=dict(kpi.tolerances),
        agreed_in=None,
    )


def _check_schedule(schedule: Mapping[str, ScheduledKpi], term: Term) -> None:
    """Each KPI is well formed within the term, and no two share a reference."""
    by_reference: dict[str, str] = {}
    for kpi in schedule.values():
        _check_kpi(kpi, term)
        other = by_reference.setdefault(kpi.reference, kpi.code)
        if other != kpi.code:
            raise ReferenceInUse(f"the KPIs {other} and {kpi.code} would both be {kpi.reference}")


def _check_kpi(kpi: ScheduledKpi, term: Term) -> None:
    if not kpi.reference:
        raise InvalidKpi(f"the KPI {kpi.code} needs the contract's reference for it")
    days = kpi.due_working_days
    # bool is an int to Python, but never a number of days.
    if type(days) is not int or not 0 <= days <= MOST_WORKING_DAYS_TO_RETURN:
        raise InvalidKpi(
            f"returns fall due 0 to {MOST_WORKING_DAYS_TO_RETURN} working days after a period "
            f"ends, not {days!r}"
        )
    for label, figure in (*kpi.targets.items(), *kpi.tolerances.items()):
        if not term.covers(FinancialYear.parse(label)):
            raise InvalidPeriod(
                f"{label} is not a year of this contract's term, {term.starts} to {term.ends}"
            )
        if not isinstance(figure, Decimal) or not figure.is_finite():
            raise InvalidKpi(f"a target or tolerance for {label} is a number, not {figure!r}")
    for label, tolerance in kpi.tolerances.items():
        check_tolerance(kpi.targets.get(label), tolerance, kpi.indicator.polarity)


def _check_local_indicator(indicator: Indicator) -> None:
    code = indicator.code
    if not code or code != code.strip():
        raise InvalidIndicator(f"{code!r} is not an indicator code")
    if code in CATALOGUE:
        raise InvalidIndicator(
            f"{code} is a national indicator's code: give the contract's own measure its own"
        )
    if indicator.national or indicator.source != LOCAL_SOURCE:
        raise InvalidIndicator(
            f"{code} is the contract's own measure: not national, and its source is "
            f"{LOCAL_SOURCE!r}"
        )
    if not indicator.title.strip() or not indicator.definition.strip():
        raise InvalidIndicator(f"{code} needs a title and a definition")
    decimals = indicator.decimals
    if type(decimals) is not int or not 0 <= decimals <= MOST_DECIMALS:
        raise InvalidIndicator(
            f"{code} is published to 0 to {MOST_DECIMALS} decimals, not {decimals!r}"
        )
    if indicator.has_fraction:
        try:
            # The indicator itself is the one judge of which units are fractions of two counts.
            indicator.value_of(0, 1)
        except InvalidFraction:
            raise InvalidIndicator(
                f"{code} is a {indicator.unit}, which is not made of a numerator and denominator"
            ) from None


def _check_detail(text: str, message: str) -> None:
    if not text.strip():
        raise MissingDetail(message)


def _check_reason(text: str, message: str) -> None:
    if not text.strip():
        raise MissingReason(message)


def _new_actions(agreed: Sequence[AgreedAction]) -> list[Action]:
    for action in agreed:
        _check_detail(action.description, "an action needs a description")
        _check_detail(action.owner, "an action needs an owner")
    return [Action(uuid4(), a.description, a.owner, a.due_on) for a in agreed]


def _service_lines(scope: Sequence[str]) -> tuple[ServiceLine, ...]:
    # Stored events give enums back as their plain values.
    return tuple(ServiceLine(line) for line in scope)


def _in_year_order(by_year: Mapping[str, _T]) -> dict[str, _T]:
    # Labels such as "2018-19" sort in the order of the years they name.
    return dict(sorted(by_year.items()))

"""A national-scale history for measuring Trustledger at the size a national service would hold.

Every English local authority with children's services (the 153 with an ONS code in DfE's
reference lookup) has a council and a children's trust, each with a commissioner's and a
provider's account, and a fifteen-year contract signed in September 2016. The history runs ten
years from October 2016: every month the trust returns 40 KPIs (DfE's 14 national indicators and
26 of the contract's own), the council queries some returns, the trust answers and sometimes
restates them with a reason, and the council accepts them; a few returns come in late. Each
quarter the strategic board meets and agrees an action, the trust reports its forecast outturn
and the council pays; each year is reviewed; some years bring a performance notice with a
remedial plan, and some a variation of the year's sum. The real public record comes beside it,
through the importers `trustledger import` runs: Ofsted's tables and DfE's statistics.

Every event is made by the domain's own commands, with its actor. Figures, dates, queries,
restatements and notices come from a random generator seeded per authority, so an authority's
history is the same whatever fraction of the country is generated with it. What the domain
draws for itself (the ids of a contract, a meeting or a query, and each event's timestamp) is
all that differs between two runs.

The bulk path saves a year of one council's history (about 1,100 events of some 45 aggregates)
per transaction through the ledger's own recorder, so every event's audit leaf commits with it,
rather than one command per transaction through the group-commit writer.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import TextIO
from uuid import UUID

from api.dfe import read_demo_statistics
from api.dfe_import import import_published
from api.directory import SYSTEM
from api.local_authorities import REFERENCE_FILE, LocalAuthority, local_authorities
from api.ofsted import import_ofsted, read_file
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.indicators import CATALOGUE, Indicator, Polarity, Unit
from domain.ledger import LedgerAggregate
from domain.organisation import Organisation, OrganisationKind
from domain.performance_notice import PerformanceNotice, RemedialAction
from domain.periods import FinancialYear
from domain.reporting import Frequency, ReportingPeriod, due_date, england, reporting_periods
from domain.service_contract import (
    LOCAL_SOURCE,
    AgreedAction,
    BoardKind,
    Council,
    ScheduledKpi,
    ServiceContract,
    Term,
    Trust,
    VariationChanges,
)
from domain.services import ServiceLine
from projections.view_store import view_store
from projections.worker import VIEWS, ProjectionWorker

SEED = 2016
YEARS = 10
HISTORY_STARTS = date(2016, 10, 1)
# Fifteen years, as some councils have let: the ten years of history are all in the past and the
# contracts are still in force when read.
TERM = Term(starts=HISTORY_STARTS, ends=date(2031, 9, 30))
SIGNED_ON = date(2016, 9, 15)
POUND = 100  # contract money is integer pence
DUE_WORKING_DAYS = 10
# Of each month's returns: how many the council queries, how many of those the trust restates,
# and how many returns come in late.
QUERIES_A_MONTH = 5
RESTATED_OF_QUERIED = 0.25
LATE = 0.06
# The chance of a performance notice in a contract year.
NOTICES_A_YEAR = 0.35

# Events per transaction when the views take in a load. The dashboard redraws a contract's row
# for every batch that touches it, which costs 0.4 to 0.7 s for a contract with ten years of 40
# monthly KPIs (the period and working-day arithmetic of each KPI's every period): at the
# workers' 500 a load's views took 1,370 events/s, a council's history being redrawn 23 times.
# Several councils' histories per batch redraw each about once.
VIEW_BATCH = 50_000

OFSTED_TABLES = REFERENCE_FILE.parent.parent / "ofsted"

# The contract's own measures, defined by each council beside DfE's 14 to make 40 KPIs. These
# are the measures trusts commonly report monthly to their councils; each is a percentage of
# the children (or staff, or cases) it counts.
LOCAL_MEASURES = (
    ("cin_visits_20_days", "Children in need visited within 20 working days"),
    ("cp_visits_10_days", "Children on a plan visited within 10 working days"),
    ("strategy_1_day", "Strategy discussions held within one working day"),
    ("icpc_15_days", "Initial conferences within 15 working days of the strategy discussion"),
    ("cp_reviews_on_time", "Child protection reviews held on time"),
    ("cla_reviews_on_time", "Looked-after reviews held on time"),
    ("cla_health_on_time", "Health assessments of children in care on time"),
    ("cla_dental_on_time", "Dental checks of children in care on time"),
    ("pep_up_to_date", "Children in care with an up-to-date personal education plan"),
    ("pathway_plans_current", "Care leavers with a current pathway plan"),
    ("care_leavers_in_touch", "Care leavers the trust is in touch with"),
    ("return_interviews_72h", "Return home interviews offered within 72 hours"),
    ("placements_within_20_miles", "Children placed within 20 miles of home"),
    ("foster_approvals_8_months", "Foster carers approved within eight months"),
    ("seen_alone_assessment", "Children seen alone during their assessment"),
    ("referral_decisions_1_day", "Referrals decided within one working day"),
    ("audits_good", "Case audits rated good or better"),
    ("supervision_on_time", "Social workers supervised within timescale"),
    ("appraisals_current", "Staff with an appraisal in the last year"),
    ("caseloads_under_18", "Social workers holding fewer than 18 cases"),
    ("complaints_20_days", "Complaints answered within 20 working days"),
    ("fgc_before_proceedings", "Families offered a family group conference before proceedings"),
    ("step_down_with_plan", "Cases stepped down to early help with a plan"),
    ("cin_plans_reviewed", "Child in need plans reviewed within three months"),
    ("sibling_placements", "Brothers and sisters in care placed together"),
    ("permanence_by_review_2", "Children in care with a permanence plan by their second review"),
)
INDICATORS = len(CATALOGUE) + len(LOCAL_MEASURES)

QUESTIONS = (
    "The figure moved sharply from last month: what changed?",
    "Please confirm the denominator against the case management system.",
    "Which teams account for the change?",
    "Does this include the children transferred in during the month?",
)
ANSWERS = (
    "A backlog in one locality cleared during the month.",
    "Confirmed against the system's month-end snapshot.",
    "Two teams with vacancies account for most of it.",
    "Transfers in are counted from the date of transfer.",
)
RESTATEMENT_REASONS = (
    "Cases recorded after the month-end snapshot were left out",
    "Duplicate records removed after the data quality check",
    "A team's cases were counted twice",
)


class AlreadyLoaded(Exception):
    """The ledger already holds some of the councils a load was asked to add."""


@dataclass(frozen=True)
class NationalPlan:
    """Which authorities and how many years of history to generate."""

    authorities: tuple[LocalAuthority, ...]
    years: int = YEARS
    seed: int = SEED

    @classmethod
    def of(cls, fraction: float = 1.0, *, years: int = YEARS, seed: int = SEED) -> NationalPlan:
        """The first `fraction` of every authority in an order the seed shuffles, so a larger
        fraction holds every authority of a smaller one."""
        if not 0 < fraction <= 1:
            raise ValueError(f"a fraction is above 0 and at most 1, not {fraction}")
        if not 1 <= years <= YEARS:
            raise ValueError(f"the history runs 1 to {YEARS} years, not {years}")
        every = list(_authorities())
        random.Random(seed).shuffle(every)  # noqa: S311 - a repeatable choice, not a secret
        return cls(tuple(every[: max(1, round(len(every) * fraction))]), years, seed)

    def beyond(self, smaller: NationalPlan) -> NationalPlan:
        """The authorities of this plan that `smaller` does not hold: what loading grows by."""
        held = set(smaller.authorities)
        return replace(self, authorities=tuple(a for a in self.authorities if a not in held))


@cache
def _authorities() -> tuple[LocalAuthority, ...]:
    """Every authority that can have a contract (one with an ONS code), in DfE number order."""
    text = REFERENCE_FILE.read_bytes().decode("utf-8-sig")
    numbers = sorted(row["la_code"] for row in csv.DictReader(io.StringIO(text, newline="")))
    found = (local_authorities().find(number) for number in numbers)
    return tuple(la for la in found if la is not None and la.ons_code is not None)


def council_name(authority: LocalAuthority) -> str:
    return f"{authority.name} Council"


def trust_name(authority: LocalAuthority) -> str:
    return f"{authority.name} Children's Trust"


def commissioner_email(authority: LocalAuthority) -> str:
    return f"commissioner@council-{authority.la_number}.national.test"


# -- the history ----------------------------------------------------------------------------------


def national_history(plan: NationalPlan) -> Iterator[list[LedgerAggregate]]:
    """Each council's history, a transaction's worth at a time: its registration, drafting and
    signing, then one contract year after another. Each time, the aggregates that changed, with
    their new events pending; saving them takes the events."""
    for authority in plan.authorities:
        history = _CouncilHistory(authority, plan)
        yield history.opening()
        for year in range(plan.years):
            yield history.year(year)


def _local_indicator(code: str, title: str) -> Indicator:
    return Indicator(
        code=code,
        title=title,
        unit=Unit.PERCENTAGE,
        polarity=Polarity.HIGHER_IS_BETTER,
        decimals=1,
        has_fraction=True,
        definition=f"{title}, as a percentage of all those counted at the end of the month "
        "(the trust's case records).",
        source=LOCAL_SOURCE,
        national=False,
    )


INDICATOR_SET = (
    *CATALOGUE.values(),
    *(_local_indicator(code, title) for code, title in LOCAL_MEASURES),
)


@dataclass
class _Level:
    """Where one KPI stands for one council, wandering a little from month to month: a share of
    a cohort for a percentage, a rate per 10,000 of the child population, or a figure alone."""

    indicator: Indicator
    level: float
    cohort: int

    @classmethod
    def drawn(cls, indicator: Indicator, rng: random.Random) -> _Level:
        if indicator.unit is Unit.RATE_PER_10K:
            return cls(indicator, rng.uniform(40, 700), rng.randint(30_000, 250_000))
        if not indicator.has_fraction:
            return cls(indicator, rng.uniform(8, 30), 0)
        if indicator.polarity is Polarity.LOWER_IS_BETTER:
            return cls(indicator, rng.uniform(0.08, 0.3), rng.randint(150, 3_000))
        return cls(indicator, rng.uniform(0.6, 0.92), rng.randint(150, 3_000))

    def wander(self, rng: random.Random) -> None:
        self.level *= 1 + rng.gauss(0, 0.04)
        if self.indicator.has_fraction and self.indicator.unit is not Unit.RATE_PER_10K:
            self.level = min(max(self.level, 0.01), 0.99)
        else:
            self.level = max(self.level, 1.0)

    def figure(self, rng: random.Random) -> tuple[Decimal, int | None, int | None]:
        """This month's return: its value, and its counts where the indicator has them."""
        indicator = self.indicator
        if not indicator.has_fraction:
            return indicator.rounded(Decimal(f"{self.level:.4f}")), None, None
        denominator = self.cohort + rng.randint(-(self.cohort // 50), self.cohort // 50)
        per = 10_000 if indicator.unit is Unit.RATE_PER_10K else 1
        numerator = min(denominator, round(denominator * self.level / per))
        return indicator.value_of(numerator, denominator), numerator, denominator

    def value(self) -> Decimal:
        scale = 100 if self.indicator.unit is Unit.PERCENTAGE and self.indicator.has_fraction else 1
        return Decimal(f"{self.level * scale:.4f}")

    def targets(
        self, years: Sequence[FinancialYear]
    ) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """A target a little better than where the council stands, tightening year by year, and
        the tolerance beyond which amber turns red."""
        lower = self.indicator.polarity is Polarity.LOWER_IS_BETTER
        targets, tolerances = {}, {}
        for n, year in enumerate(years):
            step = Decimal(1) - Decimal("0.02") * n if lower else Decimal(1) + Decimal("0.01") * n
            target = self.indicator.rounded(self.value() * step)
            if self.indicator.unit is Unit.PERCENTAGE:
                target = min(target, Decimal(99))
            worse = Decimal("1.15") if lower else Decimal("0.85")
            targets[year.label] = target
            tolerances[year.label] = self.indicator.rounded(target * worse)
        return targets, tolerances


class _CouncilHistory:
    """One council's contract with its trust, told a contract year at a time. The aggregates
    are kept between years, as the ledger would hand them to the next command."""

    def __init__(self, authority: LocalAuthority, plan: NationalPlan) -> None:
        assert authority.ons_code is not None
        self.authority = authority
        self.ons_code = authority.ons_code
        self.plan = plan
        # One generator per authority: its history is the same in any fraction of the country.
        self.rng = random.Random(f"{plan.seed}:{authority.la_number}")  # noqa: S311
        self.council_org = Organisation.id_for(council_name(authority))
        self.trust_org = Organisation.id_for(trust_name(authority))
        self.council = _actor(
            commissioner_email(authority), str(self.council_org), Role.COMMISSIONER
        )
        self.trust = _actor(provider_email(authority), str(self.trust_org), Role.PROVIDER)
        self.levels = {i.code: _Level.drawn(i, self.rng) for i in INDICATOR_SET}
        base = self.rng.randint(20, 160) * 1_000_000
        self.sums = {
            year.label: round(base * 1.03**n) * POUND for n, year in enumerate(TERM.financial_years)
        }
        self.contract: ServiceContract
        self.series: dict[str, IndicatorSeries] = {}
        self.strategic_board: UUID
        self.open_actions: list[UUID] = []
        self.notice: PerformanceNotice | None = None
        self.notices_touched: list[PerformanceNotice] = []

    def opening(self) -> list[LedgerAggregate]:
        """The organisations and their accounts, the contract drafted with its 40 KPIs, signed by
        both parties, and its boards established."""
        authority = self.authority
        council = Organisation.register(
            name=council_name(authority),
            kind=OrganisationKind.COUNCIL,
            la_number=authority.la_number,
            ons_code=self.ons_code,
            actor=SYSTEM,
        )
        trust = Organisation.register(
            name=trust_name(authority), kind=OrganisationKind.TRUST, actor=SYSTEM
        )
        accounts = [
            Account.register(
                email=email,
                display_name=name,
                organisation_id=str(organisation),
                role=role,
                actor=SYSTEM,
            )
            for email, name, organisation, role in (
                (
                    commissioner_email(authority),
                    f"{authority.name} commissioner",
                    self.council_org,
                    Role.COMMISSIONER,
                ),
                (
                    provider_email(authority),
                    f"{authority.name} trust contract lead",
                    self.trust_org,
                    Role.PROVIDER,
                ),
            )
        ]
        contract = ServiceContract.draft(
            council=Council(
                la_number=authority.la_number,
                ons_code=self.ons_code,
                name=council_name(authority),
                organisation_id=str(self.council_org),
            ),
            trust=Trust(name=trust_name(authority), organisation_id=str(self.trust_org)),
            title="Service delivery contract for children's social care",
            term=TERM,
            scope=list(ServiceLine),
            contract_sums=self.sums,
            actor=self.council,
        )
        for indicator in INDICATOR_SET[len(CATALOGUE) :]:
            contract.define_local_indicator(indicator=indicator, actor=self.council)
        for n, indicator in enumerate(INDICATOR_SET, start=1):
            targets, tolerances = self.levels[indicator.code].targets(TERM.financial_years)
            contract.schedule_kpi(
                kpi=ScheduledKpi(
                    indicator=indicator,
                    reference=f"K{n:02d}",
                    frequency=Frequency.MONTHLY,
                    due_working_days=DUE_WORKING_DAYS,
                    targets=targets,
                    tolerances=tolerances,
                ),
                actor=self.council,
            )
        contract.sign(actor=self.council)
        contract.sign(actor=self.trust)
        self.strategic_board = contract.establish_board(
            kind=BoardKind.STRATEGIC_MONITORING_BOARD,
            name="Strategic Partnership Board",
            actor=self.council,
        )
        self.contract = contract
        return [council, trust, *accounts, contract]

    def year(self, year: int) -> list[LedgerAggregate]:
        """A contract year of returns, challenge, governance, money and notices."""
        starts = _months_after(HISTORY_STARTS, 12 * year)
        ends = _months_after(starts, 12) - timedelta(days=1)
        last_year = year == self.plan.years - 1
        months = reporting_periods(Frequency.MONTHLY, starts, ends)
        for n, month in enumerate(months):
            final = last_year and n == len(months) - 1
            self._return_month(month, final=final)
            if month.ends.month in (3, 6, 9, 12):
                self._close_quarter(month)
            if month.ends.month == 7:
                self._review(FinancialYear.containing(month.ends).label, month.ends, previous=True)
            if n == 1 and year % 4 == 3:
                self._vary_sum(FinancialYear.containing(month.ends))
            if n == 5 and self.notice is None and self.rng.random() < NOTICES_A_YEAR:
                self._issue_notice(month)
            if n == 9 and self.notice is not None and not last_year:
                # The last year's notice is still open when the history stops.
                self.notice.resolve(actor=self.council)
                self.notice = None
        notices, self.notices_touched = self.notices_touched, []
        return [self.contract, *self.series.values(), *notices]

    def _return_month(self, month: ReportingPeriod, *, final: bool) -> None:
        """Every KPI's return for a month; some queried, answered and restated; then accepted,
        but for the last month's queried returns, whose queries are still open."""
        due = _due(month)
        for indicator in INDICATOR_SET:
            level = self.levels[indicator.code]
            level.wander(self.rng)
            value, numerator, denominator = level.figure(self.rng)
            if self.rng.random() < LATE:
                submitted_on = due + timedelta(days=self.rng.randint(1, 20))
            else:
                submitted_on = month.ends + timedelta(
                    days=self.rng.randint(1, (due - month.ends).days)
                )
            self._series(indicator).submit_return(
                period=month,
                value=value,
                numerator=numerator,
                denominator=denominator,
                commentary="",
                due_on=due,
                submitted_on=submitted_on,
                actor=self.trust,
            )
        queried = self.rng.sample(INDICATOR_SET, QUERIES_A_MONTH)
        for indicator in queried:
            series = self.series[indicator.code]
            query = series.query_return(
                period_label=month.label, question=self.rng.choice(QUESTIONS), actor=self.council
            )
            if final:
                continue
            series.answer_query(query_id=query, answer=self.rng.choice(ANSWERS), actor=self.trust)
            if self.rng.random() < RESTATED_OF_QUERIED:
                self._restate(series, month)
        open_queries = {i.code for i in queried} if final else set()
        for indicator in INDICATOR_SET:
            if indicator.code not in open_queries:
                self.series[indicator.code].accept_return(
                    period_label=month.label, actor=self.council
                )

    def _restate(self, series: IndicatorSeries, month: ReportingPeriod) -> None:
        level = self.levels[series.indicator.code]
        stood = series.returns[month.label]
        value, numerator, denominator = level.figure(self.rng)
        if (value, numerator, denominator) == (stood.value, stood.numerator, stood.denominator):
            return
        series.restate_return(
            period_label=month.label,
            value=value,
            numerator=numerator,
            denominator=denominator,
            reason=self.rng.choice(RESTATEMENT_REASONS),
            actor=self.trust,
        )

    def _series(self, indicator: Indicator) -> IndicatorSeries:
        found = self.series.get(indicator.code)
        if found is None:
            found = IndicatorSeries.start(
                contract_id=self.contract.id,
                indicator=indicator,
                council_organisation_id=str(self.council_org),
                trust_organisation_id=str(self.trust_org),
                actor=self.trust,
            )
            self.series[indicator.code] = found
        return found

    def _close_quarter(self, month: ReportingPeriod) -> None:
        """The strategic board meets, the trust reports its forecast and the council pays."""
        contract, year = self.contract, FinancialYear.containing(month.ends)
        quarter = f"Q{(month.ends.month - 4) % 12 // 3 + 1}"
        held_on = month.ends - timedelta(days=10)
        for action in self.open_actions:
            contract.complete_action(action_id=action, completed_on=held_on, actor=self.trust)
        meeting = contract.schedule_meeting(
            board_id=self.strategic_board, scheduled_for=held_on, actor=self.council
        )
        self.open_actions = list(
            contract.hold_meeting(
                meeting_id=meeting,
                held_on=held_on,
                decisions=[f"The {year.label} {quarter} performance report is noted"],
                actions=[
                    AgreedAction(
                        "Report progress on the KPIs outside tolerance",
                        f"Director of performance, {trust_name(self.authority)}",
                        held_on + timedelta(days=80),
                    )
                ],
                actor=self.council,
            )
        )
        forecast = round(self.sums[year.label] * self.rng.uniform(0.96, 1.08))
        contract.report_financial_position(
            financial_year=year.label,
            period=quarter,
            forecast_outturn=forecast,
            commentary="Forecast outturn against the contract sum for the year",
            actor=self.trust,
        )
        contract.record_payment(
            amount=self.sums[year.label] // 4,
            paid_on=month.ends,
            reference=f"Contract sum {year.label} {quarter}",
            actor=self.council,
        )

    def _review(self, contract_year: str, held_on: date, *, previous: bool) -> None:
        reviewed = FinancialYear.parse(contract_year)
        if previous:
            reviewed = FinancialYear.containing(reviewed.starts - timedelta(days=1))
        if not TERM.covers(reviewed):
            return
        self.contract.hold_annual_review(
            contract_year=reviewed.label,
            held_on=held_on,
            outcome=f"The {reviewed.label} contract year reviewed against its KPIs and sum",
            actions=[],
            actor=self.council,
        )

    def _vary_sum(self, year: FinancialYear) -> None:
        more = round(self.sums[year.label] * 1.05)
        variation = self.contract.propose_variation(
            changes=VariationChanges(contract_sums={year.label: more}),
            rationale="Demand for care above the business case",
            actor=self.trust,
        )
        self.contract.agree_variation(variation_id=variation, actor=self.council)
        self.sums[year.label] = more

    def _issue_notice(self, month: ReportingPeriod) -> None:
        indicator = self.rng.choice(INDICATOR_SET)
        issued_on = month.ends + timedelta(days=14)
        notice = PerformanceNotice.issue(
            contract_id=self.contract.id,
            council_organisation_id=str(self.council_org),
            trust_organisation_id=str(self.trust_org),
            grounds=f"{indicator.title} outside tolerance for three months",
            kpi_codes=[indicator.code],
            remedy="A remedial plan that brings the KPI back within tolerance within six months",
            response_due=issued_on + timedelta(days=28),
            issued_on=issued_on,
            actor=self.council,
        )
        notice.submit_remedial_plan(
            summary="Weekly tracking of the KPI by team, with a temporary team for the backlog",
            actions=[
                RemedialAction("A temporary team for the backlog", issued_on + timedelta(days=60))
            ],
            actor=self.trust,
        )
        notice.accept_remedial_plan(actor=self.council)
        self.notice = notice
        self.notices_touched.append(notice)


def _actor(email: str, organisation_id: str, role: Role) -> Actor:
    return Actor(user_id=str(Account.id_for(email)), organisation_id=organisation_id, role=role)


def provider_email(authority: LocalAuthority) -> str:
    return f"contracts@trust-{authority.la_number}.national.test"


def _months_after(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


@cache
def _due(month: ReportingPeriod) -> date:
    return due_date(month, DUE_WORKING_DAYS, england())


# -- loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    events: int
    transactions: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def councils_held(ledger: Trustledger, plan: NationalPlan) -> int:
    """How many of the plan's councils the ledger already holds."""
    return sum(
        Organisation.id_for(council_name(authority)) in ledger.repository
        for authority in plan.authorities
    )


def load_history(ledger: Trustledger, plan: NationalPlan) -> Loaded:
    """Save the plan's councils' histories, a council's contract year per transaction.

    Refused if the ledger holds any of them: the domain's ids for contracts are its own, so a
    second load would make a second contract for each council rather than meet the first."""
    held = councils_held(ledger, plan)
    if held:
        raise AlreadyLoaded(
            f"the ledger already holds {held} of these {len(plan.authorities)} councils: "
            "generate into an empty database"
        )
    started, events, transactions = time.perf_counter(), 0, 0
    for batch in national_history(plan):
        # As aggregates rather than their events, so that the ledger snapshots those that grew
        # past their interval from the objects in hand.
        events += len(ledger.save(*batch))
        transactions += 1
    return Loaded(events, transactions, time.perf_counter() - started)


def load_public_record(ledger: Trustledger) -> Loaded:
    """Ofsted's and DfE's tables, through the importers as `trustledger import` runs them; a
    table already taken in is not taken again."""
    before = ledger.recorder.max_notification_id() or 0
    started = time.perf_counter()
    tables = [read_file(path) for path in sorted(OFSTED_TABLES.glob("*.csv"))]
    ofsted = import_ofsted(ledger, tables, SYSTEM)
    dfe = import_published(ledger, read_demo_statistics(), SYSTEM)
    if not ofsted.imported or not dfe.imported:
        raise RuntimeError(f"the shipped tables did not import: {ofsted.problems} {dfe.problems}")
    after = ledger.recorder.max_notification_id() or 0
    return Loaded(after - before, 0, time.perf_counter() - started)


def build_views(ledger: Trustledger, env: dict[str, str], *, batch: int = VIEW_BATCH) -> Loaded:
    """Bring every view up to the head of the log with the workers' own steps, in larger
    batches than they take when following."""
    store = view_store(env)
    head = ledger.recorder.max_notification_id() or 0
    started, transactions, behind = time.perf_counter(), 0, 0
    for view in VIEWS.values():
        store.prepare(view.spec)
        behind = max(behind, head - store.position(view.spec.name))
        worker = ProjectionWorker(view, ledger, store, batch=batch)
        while worker.run_once():
            transactions += 1
    return Loaded(behind, transactions, time.perf_counter() - started)


def generate(ledger: Trustledger, env: dict[str, str], plan: NationalPlan, out: TextIO) -> int:
    """The `trustledger generate --national` command: refuse a second load, then the public
    record, the councils' histories and the views, each with how long it took."""
    held = councils_held(ledger, plan)
    if held:
        print(
            f"refused: the ledger already holds {held} of the {len(plan.authorities)} councils "
            "to generate; generate into an empty database",
            file=out,
        )
        return 1
    print(
        f"generating {len(plan.authorities)} councils x {plan.years} years x {INDICATORS} KPIs "
        "monthly, with the public record",
        file=out,
        flush=True,
    )
    steps: list[tuple[str, Callable[[], Loaded]]] = [
        ("public record (Ofsted, DfE)", lambda: load_public_record(ledger)),
        ("councils' histories (bulk path)", lambda: load_history(ledger, plan)),
        ("views built", lambda: build_views(ledger, env)),
    ]
    for what, step in steps:
        done = step()
        print(
            f"  {what}: {done.events} events in {done.seconds:.1f} s, {done.rate:,.0f} events/s",
            file=out,
            flush=True,
        )
    return 0

"""The demo scenario: Sandwell's contract with its children's trust as the council's published
papers tell it, and Birmingham's beside it so that organisation boundaries show.

The public record (../shared/data/README.md; Sandwell Cabinet decision 616 of 28 September 2022;
Express & Star, 25 June 2019) gives the term, the 2018-19 sum, the £5m of 2019, the Ofsted
milestone and its 2022 variation, the contract review and the inspections. Sandwell's annual KPI
returns are the figures DfE published for Sandwell, read from the shipped copies of its files
(demo_data/README.md). Every other date, sum, board, meeting, action, KPI target and tolerance,
and every monthly KPI figure below is illustrative, and says so.

The ledger's public record is seeded beside the contracts: Ofsted's tables as at 31 March 2025
and DfE's tables (the shipped copies, imported as `trustledger import` would), Sandwell's and
Birmingham's other inspections from 2013 to 2025 as the README gives Ofsted's reports, and the
statutory interventions that made their trusts, as reported at the time. The demo admin records
them all, as the public record is the operator's to keep.

Each command is made as the demo person whose organisation would make it, so the history names
real actors, and under an idempotency key naming its step: a second run replays each step's
stored outcome and records nothing, and a run that stopped part way is finished by the next.
The events' own times are when the seed ran; the business dates are the commands' parameters.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TextIO, TypeVar
from uuid import UUID

from api.dfe import SOURCES, PublishedStatistics, read_demo_statistics
from api.dfe_import import DfeImport, import_published
from api.dfe_import import Outcome as DfeOutcome
from api.directory import OPERATOR, ensure_account, ensure_organisation
from api.local_authorities import local_authorities
from api.ofsted import OfstedImport, import_ofsted, read_file
from domain import kpis
from domain.account import Account
from domain.actor import Actor, Role
from domain.application import Outcome, Session, Trustledger, Write
from domain.indicator_series import IndicatorSeries
from domain.indicators import CATALOGUE, Indicator, Polarity, Suppression, Unit
from domain.inspection import Area, Grade, Inspection, InspectionType, PublishedLine
from domain.ledger import LedgerAggregate
from domain.local_authority_record import (
    DatePrecision,
    Intervention,
    InterventionKind,
    SourceDocument,
    record_intervention,
)
from domain.organisation import Organisation, OrganisationKind
from domain.performance_notice import PerformanceNotice, RemedialAction
from domain.periods import FinancialYear
from domain.reporting import Frequency, ReportingPeriod, england, reporting_periods
from domain.service_contract import (
    LOCAL_SOURCE,
    AgreedAction,
    BoardKind,
    Council,
    ObligationChange,
    ScheduledKpi,
    ServiceContract,
    Term,
    Trust,
    VariationChanges,
)
from domain.services import ServiceLine

A = TypeVar("A", bound=LedgerAggregate)
R = TypeVar("R")

# Published on purpose: `api/routers/auth.py` refuses every .demo account outside demo mode.
DEMO_PASSWORD = "demo-password"  # noqa: S105

POUND = 100  # contract money is integer pence


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: OrganisationKind
    la_number: str | None = None
    ons_code: str | None = None

    @property
    def id(self) -> UUID:
        return Organisation.id_for(self.name)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: Role
    organisation: DemoOrganisation

    @property
    def id(self) -> UUID:
        return Account.id_for(self.email)

    @property
    def actor(self) -> Actor:
        return Actor(
            user_id=str(self.id), organisation_id=str(self.organisation.id), role=self.role
        )


SANDWELL_COUNCIL = DemoOrganisation(
    "Sandwell Metropolitan Borough Council", OrganisationKind.COUNCIL, "333", "E08000028"
)
SANDWELL_TRUST = DemoOrganisation("Sandwell Children's Trust", OrganisationKind.TRUST)
BIRMINGHAM_COUNCIL = DemoOrganisation(
    "Birmingham City Council", OrganisationKind.COUNCIL, "330", "E08000025"
)
BIRMINGHAM_TRUST = DemoOrganisation("Birmingham Children's Trust", OrganisationKind.TRUST)
DFE = DemoOrganisation("Department for Education", OrganisationKind.AUDIT_BODY)
OPERATOR_ORGANISATION = DemoOrganisation(OPERATOR, OrganisationKind.OPERATOR)

SANDWELL_COMMISSIONER = DemoAccount(
    "commissioner@sandwell.demo",
    "Sandwell commissioner (demo)",
    Role.COMMISSIONER,
    SANDWELL_COUNCIL,
)
SANDWELL_PROVIDER = DemoAccount(
    "provider@sandwell-trust.demo",
    "Sandwell Children's Trust contract lead (demo)",
    Role.PROVIDER,
    SANDWELL_TRUST,
)
BIRMINGHAM_COMMISSIONER = DemoAccount(
    "commissioner@birmingham.demo",
    "Birmingham commissioner (demo)",
    Role.COMMISSIONER,
    BIRMINGHAM_COUNCIL,
)
BIRMINGHAM_PROVIDER = DemoAccount(
    "provider@birmingham-trust.demo",
    "Birmingham Children's Trust contract lead (demo)",
    Role.PROVIDER,
    BIRMINGHAM_TRUST,
)
AUDITOR = DemoAccount("auditor@dfe.demo", "DfE auditor (demo)", Role.AUDITOR, DFE)
ADMIN = DemoAccount(
    "admin@trustledger.demo", "Trustledger admin (demo)", Role.ADMIN, OPERATOR_ORGANISATION
)

DEMO_ORGANISATIONS = (
    SANDWELL_COUNCIL,
    SANDWELL_TRUST,
    BIRMINGHAM_COUNCIL,
    BIRMINGHAM_TRUST,
    DFE,
    OPERATOR_ORGANISATION,
)
DEMO_ACCOUNTS = (
    SANDWELL_COMMISSIONER,
    SANDWELL_PROVIDER,
    BIRMINGHAM_COMMISSIONER,
    BIRMINGHAM_PROVIDER,
    AUDITOR,
    ADMIN,
)

TITLE = "Service delivery contract for children's social care"
# Both councils' contracts run ten years from 1 April 2018 (Sandwell's papers; Birmingham's
# budget pages speak of its "10-year contract"). Sandwell's break clause is no option to extend,
# so the term has none: it is decided by `consider_break_clause`.
TEN_YEARS_FROM_APRIL_2018 = Term(starts=date(2018, 4, 1), ends=date(2028, 3, 31))
# The statutory children's social care a full-service trust runs. Illustrative: the papers cited
# do not schedule the services line by line. Early help and youth justice are left out, as many
# councils keep them in multi-agency partnerships outside the trust.
CHILDRENS_SOCIAL_CARE = (
    ServiceLine.FRONT_DOOR,
    ServiceLine.ASSESSMENT,
    ServiceLine.CHILD_IN_NEED,
    ServiceLine.CHILD_PROTECTION,
    ServiceLine.EDGE_OF_CARE,
    ServiceLine.CHILDREN_IN_CARE,
    ServiceLine.CARE_LEAVERS,
    ServiceLine.FOSTERING,
    ServiceLine.ADOPTION,
    ServiceLine.RESIDENTIAL_CARE,
    ServiceLine.DISABLED_CHILDREN,
    ServiceLine.EMERGENCY_DUTY,
    ServiceLine.INDEPENDENT_REVIEWING,
    ServiceLine.LADO,
)

# -- Sandwell's KPI schedule ---------------------------------------------------------------------
# Decision 616 speaks of contractual KPIs, but the papers cited do not publish the schedule: its
# lines, references, due rules, targets and tolerances are illustrative. The references follow
# Doncaster's trust contract (A1 re-referrals, A2 assessment timeliness): A for help and
# protection, B for children in care and care leavers, C for the social work workforce.

# Annual returns carry the year's statutory figures; monthly ones come from the trust's records.
ANNUAL_RETURN_WORKING_DAYS = 20
MONTHLY_RETURN_WORKING_DAYS = 10

# The contract's own measure, defined while drafting. Statutory guidance leaves how often a child
# in need is visited to local practice; 20 working days is a common local standard.
VISITS_WITHIN_TIMESCALE = Indicator(
    code="visits_within_timescale",
    title="Children in need visited within 20 working days",
    unit=Unit.PERCENTAGE,
    polarity=Polarity.HIGHER_IS_BETTER,
    decimals=1,
    has_fraction=True,
    definition=(
        "Children on a child in need plan at the end of the month who had been visited within "
        "the previous 20 working days, as a percentage of all children on a child in need plan "
        "at the end of the month (the trust's case records)."
    ),
    source=LOCAL_SOURCE,
    national=False,
)


@dataclass(frozen=True)
class _KpiLine:
    """A line of the demo's KPI schedule. `levels` holds a (target, tolerance) from each contract
    year it names until the next one; illustrative, set near Sandwell's and England's published
    figures so that the returns come out green, amber and red in turn."""

    reference: str
    indicator: Indicator
    frequency: Frequency
    levels: Mapping[str, tuple[str, str]]

    @property
    def code(self) -> str:
        return self.indicator.code

    def revised(self, levels: Mapping[str, tuple[str, str]]) -> _KpiLine:
        return replace(self, levels={**self.levels, **levels})

    def scheduled(self) -> ScheduledKpi:
        targets: dict[str, Decimal] = {}
        tolerances: dict[str, Decimal] = {}
        level: tuple[str, str] | None = None
        for year in TEN_YEARS_FROM_APRIL_2018.financial_years:
            level = self.levels.get(year.label, level)
            if level is not None:
                target, tolerance = level
                targets[year.label] = Decimal(target)
                tolerances[year.label] = Decimal(tolerance)
        annual = self.frequency is Frequency.ANNUAL
        return ScheduledKpi(
            indicator=self.indicator,
            reference=self.reference,
            frequency=self.frequency,
            due_working_days=ANNUAL_RETURN_WORKING_DAYS if annual else MONTHLY_RETURN_WORKING_DAYS,
            targets=targets,
            tolerances=tolerances,
        )


# The schedule as signed: the children in need, child protection and workforce measures. The
# comments give Sandwell's and England's published figures for 2018-19 to 2022-23 (the workforce
# census of 30 September 2018 is 2018-19's), against which the demo's levels were chosen.
SIGNED_KPIS = (
    # 19.2 to 24.8%; England 21.5 to 22.7%.
    _KpiLine("A1", CATALOGUE["rereferrals_12m"], Frequency.ANNUAL, {"2018-19": ("22.0", "25.0")}),
    # Not in the shipped DfE files: the trust returns it monthly from its records.
    _KpiLine(
        "A2",
        CATALOGUE["assessments_45_working_days"],
        Frequency.MONTHLY,
        {"2018-19": ("85.0", "80.0")},
    ),
    _KpiLine("A3", VISITS_WITHIN_TIMESCALE, Frequency.MONTHLY, {"2018-19": ("90.0", "85.0")}),
    # 17.1% in 2018-19, then 22.2 to 31.3%; England 20.8 to 23.6%.
    _KpiLine(
        "A4", CATALOGUE["cpp_second_or_subsequent"], Frequency.ANNUAL, {"2018-19": ("20.0", "24.0")}
    ),
    # Suppressed in 2018-19, then 1.7 to 4.8%; England 2.0 to 2.5%.
    _KpiLine("A5", CATALOGUE["cpp_2_years_plus"], Frequency.ANNUAL, {"2018-19": ("2.5", "3.5")}),
    # 14.3 to 28.0%; England 13.5 to 17.2%.
    _KpiLine("C1", CATALOGUE["sw_turnover_rate"], Frequency.ANNUAL, {"2018-19": ("16.0", "20.0")}),
    # 29.4 to 36.3%, against England's 15.4 to 17.6%: a falling trajectory, not one level.
    _KpiLine(
        "C2",
        CATALOGUE["sw_agency_rate"],
        Frequency.ANNUAL,
        {"2018-19": ("30.0", "35.0"), "2020-21": ("25.0", "30.0")},
    ),
    # 26.0 to 27.7%; England 16.1 to 20.0%.
    _KpiLine("C3", CATALOGUE["sw_vacancy_rate"], Frequency.ANNUAL, {"2018-19": ("20.0", "25.0")}),
    # 16.0 to 20.1 cases; England 16.3 to 17.4.
    _KpiLine("C4", CATALOGUE["sw_caseload"], Frequency.ANNUAL, {"2018-19": ("17.0", "19.0")}),
)

# The revised KPIs "from 1 April 2023" (decision 616), as the 2022 variation agrees them. The
# children in care and care leaver measures join, with the children in need rate: DfE's files
# publish each of them from the year to 31 March 2021 only, so none could be set in 2018. The
# comments give Sandwell's and England's figures for 2020-21 to 2022-23.
KPIS_FROM_2023 = FinancialYear.parse("2023-24")
ADDED_KPIS = (
    # 330.5 to 400.1 per 10,000; England 329.6 to 343.7.
    _KpiLine(
        "A6", CATALOGUE["cin_rate_per_10k"], Frequency.ANNUAL, {"2023-24": ("320.0", "340.0")}
    ),
    # 93 to 103 per 10,000; England 69 to 70, the West Midlands 86 to 90.
    _KpiLine("B1", CATALOGUE["cla_rate_per_10k"], Frequency.ANNUAL, {"2023-24": ("90", "95")}),
    # 6 to 8%; England 9 to 11%.
    _KpiLine("B2", CATALOGUE["cla_3_plus_placements"], Frequency.ANNUAL, {"2023-24": ("9", "11")}),
    # 68 to 73%; England 68 to 71%.
    _KpiLine(
        "B3", CATALOGUE["cla_long_term_stability"], Frequency.ANNUAL, {"2023-24": ("70", "65")}
    ),
    # 38 to 45%; England 52 to 56%. Doncaster's trust contract set its B13, the same measure, at
    # 45% with a tolerance of 40%.
    _KpiLine(
        "B4", CATALOGUE["care_leavers_19_21_eet"], Frequency.ANNUAL, {"2023-24": ("45", "40")}
    ),
    # 81 to 84%; England 88%.
    _KpiLine(
        "B5",
        CATALOGUE["care_leavers_19_21_suitable_accommodation"],
        Frequency.ANNUAL,
        {"2023-24": ("88", "85")},
    ),
)
# Targets the same variation moves from 2023-24: tighter for re-referrals, assessments and agency
# staff, which had improved; re-based for repeat child protection plans, near 30% since 2021-22.
REVISED_LEVELS = {
    "rereferrals_12m": ("21.0", "23.0"),
    "assessments_45_working_days": ("88.0", "83.0"),
    "cpp_second_or_subsequent": ("25.0", "30.0"),
    "sw_agency_rate": ("18.0", "22.0"),
}
REVISED_KPIS = tuple(
    line.revised({KPIS_FROM_2023.label: REVISED_LEVELS[line.code]})
    for line in SIGNED_KPIS
    if line.code in REVISED_LEVELS
)

# The shipped DfE files end with the 2025 releases. For children in need and in care that is the
# year to 31 March 2025, contract year 2024-25; the workforce census of 30 September 2025 would
# be 2025-26's, but the demo's annual returns stop with the last year every measure has.
LAST_PUBLISHED_YEAR = FinancialYear.parse("2024-25")
# Illustrative: the 2019-20 annual returns went in a month late, in the first national lockdown.
LOCKDOWN_RETURNS_ON = date(2020, 6, 5)
# Illustrative monthly returns run to September 2026. October's, due on 13 November 2026, is
# left unmade, so the summary shows it overdue; August's and September's await acceptance.
LAST_MONTH_RETURNED = ReportingPeriod.parse("2026-09")
MONTHS_AWAITING_ACCEPTANCE = 2

# Busier and quieter months, from April: fewer cases in August and December.
_SEASON = (-8, 12, 0, 15, -30, 2, 20, 9, -35, 0, 4, 11)


@dataclass(frozen=True)
class _MonthlyFigures:
    """Illustrative monthly counts for a KPI the trust returns from its own records: for each
    contract year, the cases in an average month and the percentage in time in each month
    from April. The returned figure is the one its counts make."""

    by_year: Mapping[str, tuple[int, tuple[int, ...]]]

    def counts(self, period: ReportingPeriod) -> tuple[int, int]:
        """(in time, all cases) for a month."""
        cases, percentages = self.by_year[period.financial_year.label]
        month = (period.starts.month - 4) % 12
        denominator = cases + _SEASON[month]
        return (percentages[month] * denominator + 50) // 100, denominator


# Assessments completed in a month fall with referrals (Sandwell's published referrals fell from
# 6,364 in 2018-19 to 3,723 in 2024-25). Timeliness fell below tolerance in the first half of
# 2019-20 and was back within it in the last quarter, as the A2 performance notice tells.
ASSESSMENT_FIGURES = _MonthlyFigures(
    {
        "2018-19": (470, (83, 84, 82, 85, 86, 84, 83, 85, 84, 82, 81, 80)),
        "2019-20": (480, (77, 76, 74, 75, 73, 76, 78, 79, 80, 81, 82, 83)),
        "2020-21": (400, (84, 86, 87, 86, 88, 87, 86, 85, 84, 86, 87, 88)),
        "2021-22": (350, (87, 86, 88, 89, 87, 86, 88, 87, 85, 86, 88, 89)),
        "2022-23": (340, (88, 87, 86, 88, 89, 90, 88, 87, 86, 87, 89, 90)),
        "2023-24": (350, (89, 88, 90, 91, 89, 88, 90, 89, 87, 88, 90, 91)),
        "2024-25": (300, (90, 89, 91, 92, 90, 89, 91, 90, 88, 89, 91, 92)),
        "2025-26": (290, (91, 90, 92, 91, 93, 90, 89, 87, 85, 90, 92, 93)),
        "2026-27": (295, (91, 90, 89, 88, 90, 86)),
    }
)
# Children on child in need plans; visits dipped in the first months of the pandemic.
VISIT_FIGURES = _MonthlyFigures(
    {
        "2018-19": (640, (78, 80, 81, 83, 79, 84, 85, 86, 82, 86, 87, 88)),
        "2019-20": (660, (88, 89, 87, 86, 84, 88, 89, 90, 86, 90, 91, 91)),
        "2020-21": (610, (85, 82, 84, 86, 83, 86, 87, 85, 83, 84, 86, 88)),
        "2021-22": (560, (89, 90, 91, 90, 87, 91, 92, 91, 88, 91, 92, 93)),
        "2022-23": (540, (91, 92, 91, 93, 89, 92, 93, 92, 89, 92, 93, 94)),
        "2023-24": (550, (92, 93, 92, 94, 90, 93, 94, 93, 90, 93, 94, 94)),
        "2024-25": (520, (93, 94, 93, 94, 91, 94, 95, 94, 91, 94, 95, 95)),
        "2025-26": (510, (94, 95, 94, 95, 92, 94, 95, 94, 91, 94, 95, 96)),
        "2026-27": (515, (95, 94, 95, 96, 93, 95)),
    }
)
MONTHLY_FIGURES = {"A2": ASSESSMENT_FIGURES, "A3": VISIT_FIGURES}


def seed_demo(ledger: Trustledger, out: TextIO) -> None:
    """Seed the demo, then tell `out` what was added or already there, and how to sign in."""
    directory_added = _register_directory(ledger)
    sandwell, birmingham = _Story(ledger, "sandwell"), _Story(ledger, "birmingham")
    # DfE's files are read once: for Sandwell's annual returns and to import them.
    statistics = read_demo_statistics()
    sandwell_contract = _tell_sandwell(sandwell, statistics)
    birmingham_contract = _tell_birmingham(birmingham)
    grants = _Story(ledger, "grants")

    def grant(step: str, contract_id: UUID) -> None:
        grants.change(
            step,
            ADMIN.actor,
            Account,
            AUDITOR.id,
            lambda account: account.grant_contract(contract_id, actor=ADMIN.actor),
        )

    grant("grant the auditor Sandwell's contract", sandwell_contract)
    grant("grant the auditor Birmingham's contract", birmingham_contract)
    ofsted, in_tables = _import_ofsted_tables(ledger)
    dfe = _import_dfe_tables(ledger, statistics)
    history = _Story(ledger, "public record")
    _tell_public_record(history, in_tables)

    total = len(DEMO_ORGANISATIONS) + len(DEMO_ACCOUNTS)
    directory = "already there" if directory_added == 0 else f"{directory_added} of {total} new"
    print("Trustledger demo", file=out)
    print(f"  organisations and accounts: {directory}", file=out)
    print(f"  Sandwell's contract {sandwell_contract}: {sandwell.result}", file=out)
    print(f"  Birmingham's contract {birmingham_contract}: {birmingham.result}", file=out)
    print(f"  {AUDITOR.email} granted both contracts: {grants.result}", file=out)
    print(f"  Ofsted's tables as at 31 March 2025: {_imported(ofsted)}", file=out)
    print(f"  DfE's tables, 2013 to 2025: {_published(dfe)}", file=out)
    print(
        f"  inspection and intervention history of Sandwell and Birmingham: {history.result}",
        file=out,
    )
    print(file=out)
    print(f"Sandwell's KPIs: {_kpi_history(ledger, sandwell_contract)}", file=out)
    print(file=out)
    print(f"Public record: {_public_record(ledger, in_tables, dfe)}", file=out)
    print(file=out)
    print(f"Demo sign-ins, all with the password {DEMO_PASSWORD!r}", file=out)
    print("(accepted only when the service runs with TRUSTLEDGER_DEMO_MODE=true):", file=out)
    for account in DEMO_ACCOUNTS:
        line = f"  {account.email:<32} {account.role:<13} {account.organisation.name}"
        print(line, file=out)
    port = os.environ.get("PORT", "8000")
    print(
        f"Open http://127.0.0.1:{port}/docs, press Authorize and sign in as one of them.", file=out
    )
    print(
        "Dates and sums beyond the councils' published papers, KPI targets and tolerances, and "
        "monthly KPI figures are illustrative.",
        file=out,
    )
    print(
        "Contains public sector information licensed under the Open Government Licence v3.0.",
        file=out,
    )


def _kpi_history(ledger: Trustledger, contract_id: UUID) -> str:
    """What the ledger holds of a contract's KPI returns, told by frequency and by source."""
    contract = ledger.get(contract_id, ServiceContract)
    returns = [
        made
        for code in contract.kpi_schedule
        for made in ledger.get(
            IndicatorSeries.id_for(contract_id, code), IndicatorSeries
        ).returns.values()
    ]

    def made(frequency: Frequency, figures: str) -> str:
        periods = sorted(r.period for r in returns if r.period.frequency is frequency)
        return (
            f"{len(periods)} {frequency} returns {periods[0].label} to {periods[-1].label} "
            f"({figures})"
        )

    return (
        f"{len(contract.kpi_schedule)} scheduled; "
        f"{made(Frequency.ANNUAL, 'the figures DfE published for Sandwell')}; "
        f"{made(Frequency.MONTHLY, 'illustrative figures')}; "
        f"{sum(r.late for r in returns)} made late, {sum(r.restated for r in returns)} restated, "
        f"{sum(len(r.open_queries) for r in returns)} with a query open"
    )


def _register_directory(ledger: Trustledger) -> int:
    """Register each demo organisation and account the ledger lacks; how many it lacked."""
    ids = [o.id for o in DEMO_ORGANISATIONS] + [a.id for a in DEMO_ACCOUNTS]
    lacking = sum(1 for each in ids if each not in ledger.repository)
    for organisation in DEMO_ORGANISATIONS:
        ensure_organisation(
            ledger,
            organisation.name,
            organisation.kind,
            la_number=organisation.la_number,
            ons_code=organisation.ons_code,
        )
    for account in DEMO_ACCOUNTS:
        ensure_account(
            ledger,
            account.email,
            account.display_name,
            account.organisation.id,
            account.role,
            DEMO_PASSWORD,
        )
    return lacking


class _Story:
    """One part of the demo, told as commands each made under a key that names its step."""

    def __init__(self, ledger: Trustledger, name: str) -> None:
        self._ledger = ledger
        self._name = name
        self._steps: set[str] = set()
        self._new = 0
        self._replayed = 0

    @property
    def result(self) -> str:
        if self._new == 0:
            return "already there"
        if self._replayed == 0:
            return f"seeded ({self._new} commands)"
        return f"completed ({self._new} of {self._new + self._replayed} commands were missing)"

    def create(self, step: str, actor: Actor, create: Callable[[Session], A]) -> UUID:
        return self._told(self._ledger.create(create, actor=actor, write=self._write(step)))

    def change(
        self,
        step: str,
        actor: Actor,
        cls: type[A],
        aggregate_id: UUID,
        command: Callable[[A], R],
    ) -> R:
        outcome = self._ledger.change(
            cls, aggregate_id, command, actor=actor, write=self._write(step)
        )
        return self._told(outcome)

    def execute(
        self, step: str, actor: Actor, run: Callable[[Session], tuple[LedgerAggregate, R]]
    ) -> R:
        return self._told(self._ledger.execute(run, actor=actor, write=self._write(step)))

    def _write(self, step: str) -> Write:
        # A step named twice would be handed the first one's stored outcome instead of running.
        assert step not in self._steps, f"the {self._name} story names the step {step!r} twice"
        self._steps.add(step)
        return Write(idempotency_key=f"demo:{self._name}:{step}")

    def _told(self, outcome: Outcome[R]) -> R:
        if outcome.replayed:
            self._replayed += 1
        else:
            self._new += 1
        return outcome.value


def _council(organisation: DemoOrganisation) -> Council:
    # The demo's councils are declared with both codes above.
    assert organisation.la_number is not None
    assert organisation.ons_code is not None
    return Council(
        la_number=organisation.la_number,
        ons_code=organisation.ons_code,
        name=organisation.name,
        organisation_id=str(organisation.id),
    )


def _trust(organisation: DemoOrganisation) -> Trust:
    return Trust(name=organisation.name, organisation_id=str(organisation.id))


def _tell_sandwell(story: _Story, statistics: PublishedStatistics) -> UUID:
    """Sandwell's contract from its drafting in early 2018 to the Ofsted "Good" of 2025, and its
    KPI returns to September 2026."""
    council, trust = SANDWELL_COMMISSIONER.actor, SANDWELL_PROVIDER.actor
    contract_id = story.create(
        "draft the contract",
        council,
        lambda _: ServiceContract.draft(
            council=_council(SANDWELL_COUNCIL),
            trust=_trust(SANDWELL_TRUST),
            title=TITLE,
            term=TEN_YEARS_FROM_APRIL_2018,
            scope=CHILDRENS_SOCIAL_CARE,
            # £58m in 2018-19 (Express & Star, 25 June 2019). The 2019-20 sum drafted at the
            # same level is illustrative; the £5m of 2019 is added to it by variation below.
            contract_sums={"2018-19": 58_000_000 * POUND, "2019-20": 58_000_000 * POUND},
            actor=council,
        ),
    )

    def contract(step: str, actor: Actor, command: Callable[[ServiceContract], R]) -> R:
        return story.change(step, actor, ServiceContract, contract_id, command)

    # "Within four years of contract commencement (March 2022)": decision 616.
    ofsted_good = contract(
        "set the Ofsted Good obligation",
        council,
        lambda c: c.set_obligation(
            description="Achieve an Ofsted judgement of Good within four years",
            due_on=date(2022, 3, 31),
            actor=council,
        ),
    )

    # The KPI schedule, agreed while drafting: illustrative (see SIGNED_KPIS).
    def schedule(line: _KpiLine) -> None:
        contract(
            f"schedule KPI {line.reference}",
            council,
            lambda c: c.schedule_kpi(kpi=line.scheduled(), actor=council),
        )

    contract(
        "define the local indicator visits_within_timescale",
        council,
        lambda c: c.define_local_indicator(indicator=VISITS_WITHIN_TIMESCALE, actor=council),
    )
    for line in SIGNED_KPIS:
        schedule(line)
    contract("sign for the council", council, lambda c: c.sign(actor=council))
    contract("sign for the trust", trust, lambda c: c.sign(actor=trust))

    # Governance, payments and the first year's finances: illustrative.
    strategic = contract(
        "establish the Strategic Partnership Board",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.STRATEGIC_MONITORING_BOARD,
            name="Strategic Partnership Board",
            actor=council,
        ),
    )
    operational = contract(
        "establish the Operational Group",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.OPERATIONAL_GROUP, name="Contract Operational Group", actor=council
        ),
    )

    def meeting(
        step: str,
        actor: Actor,
        board_id: UUID,
        on: date,
        decisions: list[str],
        actions: list[AgreedAction],
    ) -> tuple[UUID, ...]:
        meeting_id = contract(
            f"schedule {step}",
            actor,
            lambda c: c.schedule_meeting(board_id=board_id, scheduled_for=on, actor=actor),
        )
        return contract(
            f"hold {step}",
            actor,
            lambda c: c.hold_meeting(
                meeting_id=meeting_id, held_on=on, decisions=decisions, actions=actions, actor=actor
            ),
        )

    [first_kpi_report] = meeting(
        "the first Operational Group",
        trust,
        operational,
        date(2018, 5, 15),
        decisions=["Monthly performance reports follow the contract's KPI schedule"],
        actions=[
            AgreedAction(
                "Send the first monthly KPI report",
                "Head of performance, Sandwell Children's Trust",
                date(2018, 6, 15),
            )
        ],
    )
    contract(
        "complete the first KPI report",
        trust,
        lambda c: c.complete_action(
            action_id=first_kpi_report, completed_on=date(2018, 6, 14), actor=trust
        ),
    )
    meeting(
        "the first Strategic Partnership Board",
        council,
        strategic,
        date(2018, 7, 17),
        decisions=["The trust's improvement plan is endorsed as its route to an Ofsted Good"],
        actions=[
            AgreedAction(
                "Report progress on the improvement plan each quarter",
                "Chief executive, Sandwell Children's Trust",
                date(2018, 10, 16),
            )
        ],
    )

    def pay(quarter: str, paid_on: date) -> None:
        contract(
            f"pay 2018-19 {quarter}",
            council,
            lambda c: c.record_payment(
                amount=58_000_000 * POUND // 4,
                paid_on=paid_on,
                reference=f"SCT contract sum 2018-19 {quarter}",
                actor=council,
            ),
        )

    # 2018-19 paid in four equal quarterly instalments of the £58m.
    pay("Q1", date(2018, 4, 3))
    pay("Q2", date(2018, 7, 2))
    pay("Q3", date(2018, 10, 1))
    pay("Q4", date(2019, 1, 2))
    # The trust "predicted it would be £3.6m in the red by April" (Express & Star, 25 June
    # 2019); the quarter it said so in is illustrative.
    contract(
        "report the 2018-19 Q3 position",
        trust,
        lambda c: c.report_financial_position(
            financial_year="2018-19",
            period="Q3",
            forecast_outturn=61_600_000 * POUND,
            commentary="Forecast overspend of £3.6m: children in care up from just over 600 "
            "in April 2017 to more than 900",
            actor=trust,
        ),
    )
    business_plan = contract(
        "refer the 2019-20 business plan",
        trust,
        lambda c: c.refer_reserved_matter(
            subject="Sandwell Children's Trust annual business plan 2019-20", actor=trust
        ),
    )
    contract(
        "approve the 2019-20 business plan",
        council,
        lambda c: c.approve_reserved_matter(matter_id=business_plan, actor=council),
    )

    # The £5m agreed in June 2019 (Express & Star, 25 June 2019), added to the year it was
    # agreed in; the article does not say which year's sum it joined.
    five_million_more = contract(
        "propose £5m more for 2019-20",
        trust,
        lambda c: c.propose_variation(
            changes=VariationChanges(contract_sums={"2019-20": 63_000_000 * POUND}),
            rationale="Record numbers of children in care: £5m more to meet demand in 2019-20",
            actor=trust,
        ),
    )
    contract(
        "agree £5m more for 2019-20",
        council,
        lambda c: c.agree_variation(variation_id=five_million_more, actor=council),
    )
    contract(
        "review 2018-19",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2018-19",
            held_on=date(2019, 7, 16),
            outcome="First contract year: demand for care exceeded the business case; "
            "£5m more agreed for 2019-20",
            actions=[
                AgreedAction(
                    "Present a plan to manage demand for care safely",
                    "Chief executive, Sandwell Children's Trust",
                    date(2019, 10, 15),
                )
            ],
            actor=council,
        ),
    )

    # A notice on assessment timeliness, coded A2 as Doncaster's trust contract codes it:
    # illustrative throughout.
    notice_id = story.create(
        "issue the A2 notice",
        council,
        lambda _: PerformanceNotice.issue(
            contract_id=contract_id,
            council_organisation_id=str(SANDWELL_COUNCIL.id),
            trust_organisation_id=str(SANDWELL_TRUST.id),
            grounds="Assessments completed within 45 working days fell below the contract's "
            "target in Q1 and Q2 2019-20",
            kpi_codes=["A2"],
            remedy="A remedial plan that brings assessment timeliness back within tolerance "
            "by the end of 2019-20",
            response_due=date(2019, 11, 4),
            issued_on=date(2019, 10, 7),
            actor=council,
        ),
    )

    def notice(step: str, actor: Actor, command: Callable[[PerformanceNotice], R]) -> R:
        return story.change(step, actor, PerformanceNotice, notice_id, command)

    notice(
        "submit the A2 remedial plan",
        trust,
        lambda n: n.submit_remedial_plan(
            summary="Clear the backlog of late assessments and track timeliness weekly",
            actions=[
                RemedialAction(
                    "A temporary assessment team for assessments open beyond 45 working days",
                    date(2019, 12, 20),
                ),
                RemedialAction(
                    "Weekly A2 timeliness by team, reviewed at the Operational Group",
                    date(2019, 11, 30),
                ),
            ],
            actor=trust,
        ),
    )
    notice("accept the A2 remedial plan", council, lambda n: n.accept_remedial_plan(actor=council))
    meeting(
        "the May 2020 Operational Group",
        council,
        operational,
        date(2020, 5, 12),
        decisions=["A2 back within tolerance in Q4 2019-20: the performance notice is resolved"],
        actions=[],
    )
    notice("resolve the A2 notice", council, lambda n: n.resolve(actor=council))

    contract(
        "report the 2019-20 Q4 position",
        trust,
        lambda c: c.report_financial_position(
            financial_year="2019-20",
            period="Q4",
            forecast_outturn=62_800_000 * POUND,
            commentary="Outturn within the varied contract sum of £63m",
            actor=trust,
        ),
    )
    contract(
        "review 2019-20",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2019-20",
            held_on=date(2020, 7, 14),
            outcome="Spending within the varied sum; assessment timeliness recovered after "
            "the A2 notice",
            actions=[],
            actor=council,
        ),
    )
    contract(
        "review 2020-21",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2020-21",
            held_on=date(2021, 7, 13),
            outcome="Services kept running through the pandemic; improvement plan on track",
            actions=[],
            actor=council,
        ),
    )

    # 2022, from the public record: Ofsted's ILACS inspection of 9-20 May 2022 (published 5 July
    # 2022) judged the services requires improvement to be good, and the Cabinet's contract
    # review of 28 September 2022 (decision 616) kept the break clause unused, asked for revised
    # contractual KPIs from 1 April 2023 and moved the Ofsted milestone.
    meeting(
        "the July 2022 Strategic Partnership Board",
        council,
        strategic,
        date(2022, 7, 12),
        decisions=[
            "Ofsted (ILACS, 9-20 May 2022) judged services requires improvement to be good, "
            "up from inadequate",
            "The contract review goes to Cabinet in September 2022",
        ],
        actions=[],
    )
    [revised_kpis] = contract(
        "review 2021-22",
        council,
        lambda c: c.hold_annual_review(
            contract_year="2021-22",
            held_on=date(2022, 9, 28),
            outcome="Contract review: break clause not used; revised contractual KPIs from "
            "1 April 2023; the Ofsted Good milestone moved to the next standard inspection",
            actions=[
                AgreedAction(
                    "Agree revised contractual KPIs with the trust, from 1 April 2023",
                    "Director of Children and Education, Sandwell Council",
                    date(2023, 3, 31),
                )
            ],
            actor=council,
        ),
    )
    contract(
        "decide not to use the break clause",
        council,
        lambda c: c.consider_break_clause(
            used=False,
            rationale="Cabinet (28 September 2022, decision 616) noted the move from inadequate "
            "to requires improvement to be good and did not recommend to the Secretary of "
            "State that the break clause be invoked",
            ends_on=None,
            actor=council,
        ),
    )
    # "The next standard ILACS inspection by Ofsted (within three years of the previous
    # inspection)": three years from the last day of the May 2022 inspection.
    next_inspection = contract(
        "propose moving the Ofsted milestone",
        council,
        lambda c: c.propose_variation(
            changes=VariationChanges(
                obligations=(
                    ObligationChange(
                        obligation_id=ofsted_good,
                        description="Achieve an Ofsted judgement of Good at the next standard "
                        "inspection",
                        due_on=date(2025, 5, 20),
                    ),
                )
            ),
            rationale="Contract review, Cabinet 28 September 2022 (decision 616)",
            actor=council,
        ),
    )
    contract(
        "agree moving the Ofsted milestone",
        trust,
        lambda c: c.agree_variation(variation_id=next_inspection, actor=trust),
    )
    kpi_variation = contract(
        "propose the revised KPIs from 2023-24",
        council,
        lambda c: c.propose_variation(
            changes=VariationChanges(
                kpis=tuple(line.scheduled() for line in (*ADDED_KPIS, *REVISED_KPIS)),
                kpis_from=date(2023, 4, 1),
            ),
            rationale="Contract review, Cabinet 28 September 2022 (decision 616): a revised set "
            "of contractual KPIs from 1 April 2023",
            actor=council,
        ),
    )
    contract(
        "agree the revised KPIs from 2023-24",
        trust,
        lambda c: c.agree_variation(variation_id=kpi_variation, actor=trust),
    )
    contract(
        "complete the revised KPIs",
        council,
        lambda c: c.complete_action(
            action_id=revised_kpis, completed_on=date(2023, 3, 29), actor=council
        ),
    )
    contract(
        "record the Ofsted Good",
        council,
        lambda c: c.record_obligation_met(
            obligation_id=ofsted_good,
            met_on=date(2025, 12, 2),
            evidence="Ofsted ILACS standard inspection, 13-24 October 2025, published "
            "2 December 2025: overall effectiveness Good",
            actor=council,
        ),
    )
    _return_sandwell_kpis(story, contract_id, statistics)
    return contract_id


@dataclass(frozen=True)
class _Figure:
    """A return's value, with its counts where the indicator is made of them."""

    value: Decimal | Suppression
    numerator: int | None
    denominator: int | None


def _return_sandwell_kpis(
    story: _Story, contract_id: UUID, statistics: PublishedStatistics
) -> None:
    """The trust's KPI returns from the first month of the contract, and the council's challenge
    of them: DfE's published figures every year to 2024-25, illustrative ones every month to
    September 2026."""
    council, trust = SANDWELL_COMMISSIONER.actor, SANDWELL_PROVIDER.actor
    calendar = england()

    def submit(
        line: _KpiLine, period: ReportingPeriod, figure: _Figure, commentary: str, on: date
    ) -> None:
        def run(session: Session) -> tuple[LedgerAggregate, None]:
            series = kpis.submit_return(
                session,
                contract_id=contract_id,
                indicator_code=line.code,
                period_label=period.label,
                value=figure.value,
                numerator=figure.numerator,
                denominator=figure.denominator,
                commentary=commentary,
                submitted_on=on,
                actor=trust,
            )
            return series, None

        story.execute(f"submit {line.reference} {period.label}", trust, run)

    def on_series(
        step: str, actor: Actor, line: _KpiLine, command: Callable[[IndicatorSeries], R]
    ) -> R:
        series_id = IndicatorSeries.id_for(contract_id, line.code)
        return story.change(step, actor, IndicatorSeries, series_id, command)

    def accept(line: _KpiLine, label: str, step: str = "accept") -> None:
        on_series(
            f"{step} {line.reference} {label}",
            council,
            line,
            lambda s: s.accept_return(period_label=label, actor=council),
        )

    first_year = FinancialYear.containing(TEN_YEARS_FROM_APRIL_2018.starts)
    annual = [
        (line, returned_from)
        for lines, returned_from in ((SIGNED_KPIS, first_year), (ADDED_KPIS, KPIS_FROM_2023))
        for line in lines
        if line.frequency is Frequency.ANNUAL
    ]
    # Returns the council questions before accepting: illustrative.
    questioned = (("A5", first_year.label), ("A4", LAST_PUBLISHED_YEAR.label))
    for year in FinancialYear.spanning(first_year.starts, LAST_PUBLISHED_YEAR.ends):
        period = ReportingPeriod.parse(year.label)
        # Illustrative: three weeks after the year ends, but a month late in the first lockdown.
        on = LOCKDOWN_RETURNS_ON if year.label == "2019-20" else calendar.add(period.ends, 15)
        made = [line for line, returned_from in annual if year >= returned_from]
        for line in made:
            figure, commentary = _as_published(statistics, line.code, year)
            submit(line, period, figure, commentary, on)
        for line in made:
            if (line.reference, year.label) not in questioned:
                accept(line, year.label)

    # Illustrative: a suppressed figure questioned, explained and accepted.
    cp_two_years, label = _kpi("A5"), first_year.label
    query = on_series(
        f"query A5 {label}",
        council,
        cp_two_years,
        lambda s: s.query_return(
            period_label=label,
            question="The return gives no figure for plans lasting two years or more: why, and "
            "how are those children's plans overseen?",
            actor=council,
        ),
    )
    on_series(
        f"answer A5 {label}",
        trust,
        cp_two_years,
        lambda s: s.answer_query(
            query_id=query,
            answer="So few of the 582 plans open at 31 March 2019 had lasted two years that DfE "
            "suppresses the count to protect the children's confidentiality, and the return "
            "does the same. The Head of Safeguarding reviews each of those children's plans "
            "every month.",
            actor=trust,
        ),
    )
    accept(cp_two_years, label)
    # Illustrative: a question on the latest year that the trust has yet to answer, so that
    # return stays unaccepted.
    on_series(
        f"query A4 {LAST_PUBLISHED_YEAR.label}",
        council,
        _kpi("A4"),
        lambda s: s.query_return(
            period_label=LAST_PUBLISHED_YEAR.label,
            question="Second or subsequent child protection plans have been near 30% for four "
            "years and are above the revised tolerance again: what has the trust's audit of "
            "repeat plans found, and when will it report to the Operational Group?",
            actor=council,
        ),
    )

    months = reporting_periods(
        Frequency.MONTHLY, TEN_YEARS_FROM_APRIL_2018.starts, LAST_MONTH_RETURNED.ends
    )
    for index, period in enumerate(months):
        for reference, figures in MONTHLY_FIGURES.items():
            line = _kpi(reference)
            numerator, denominator = figures.counts(period)
            figure = _Figure(
                line.indicator.value_of(numerator, denominator), numerator, denominator
            )
            # Illustrative: each month's returns go in two working days before they fall due.
            on = calendar.add(period.ends, MONTHLY_RETURN_WORKING_DAYS - 2)
            submit(line, period, figure, "Illustrative figure (demo)", on)
            if index < len(months) - MONTHS_AWAITING_ACCEPTANCE:
                accept(line, period.label)

    # Illustrative: a month's figure corrected after data cleansing, then accepted again.
    visits, restated = _kpi("A3"), ReportingPeriod.parse("2026-03")
    numerator, denominator = VISIT_FIGURES.counts(restated)
    missed = 5
    on_series(
        f"restate A3 {restated.label}",
        trust,
        visits,
        lambda s: s.restate_return(
            period_label=restated.label,
            value=visits.indicator.value_of(numerator, denominator + missed),
            numerator=numerator,
            denominator=denominator + missed,
            reason=f"Data cleansing in May 2026 found {missed} children on child in need plans "
            "at the end of March 2026 missing from the return, none of them visited within "
            "20 working days",
            actor=trust,
        ),
    )
    accept(visits, restated.label, step="accept as restated")


def _kpi(reference: str) -> _KpiLine:
    """The schedule's line as signed, or as the 2022 variation added it."""
    [line] = [line for line in (*SIGNED_KPIS, *ADDED_KPIS) if line.reference == reference]
    return line


def _as_published(
    statistics: PublishedStatistics, code: str, year: FinancialYear
) -> tuple[_Figure, str]:
    """Sandwell's figure for a contract year as DfE published it, with counts where the
    indicator is made of them; a suppression code stands as it is."""
    dfe_year = _dfe_year(code, year)
    published = statistics.values_for(_council(SANDWELL_COUNCIL).la_number, code, dfe_year)
    assert published is not None, f"the DfE files hold no {code} for Sandwell in {dfe_year}"
    counted = CATALOGUE[code].has_fraction
    figure = _Figure(
        published.value,
        # A suppressed count is no count: the value's code says why it is missing.
        published.numerator if counted and isinstance(published.numerator, int) else None,
        published.denominator if counted and isinstance(published.denominator, int) else None,
    )
    return figure, f"As DfE published it: {published.file}, time_period {published.year}"


def _dfe_year(code: str, year: FinancialYear) -> int:
    """DfE's time_period for a contract year: the reporting year that ends within it. The year to
    31 March 2025 is 2024-25's, and so is the workforce census of 30 September 2024."""
    source = SOURCES[code]
    [ending_within] = [
        dfe_year
        for dfe_year in (year.starts.year, year.ends.year)
        if year.starts <= source.period_end(dfe_year) <= year.ends
    ]
    return ending_within


def _tell_birmingham(story: _Story) -> UUID:
    """Enough of Birmingham's contract to show that neither pair sees the other's."""
    council, trust = BIRMINGHAM_COMMISSIONER.actor, BIRMINGHAM_PROVIDER.actor
    contract_id = story.create(
        "draft the contract",
        council,
        lambda _: ServiceContract.draft(
            council=_council(BIRMINGHAM_COUNCIL),
            trust=_trust(BIRMINGHAM_TRUST),
            title=TITLE,
            term=TEN_YEARS_FROM_APRIL_2018,
            scope=CHILDRENS_SOCIAL_CARE,
            # Illustrative: Birmingham renegotiates the sum every year and the demo's sources
            # do not give it.
            contract_sums={"2018-19": 180_000_000 * POUND},
            actor=council,
        ),
    )

    def contract(step: str, actor: Actor, command: Callable[[ServiceContract], R]) -> R:
        return story.change(step, actor, ServiceContract, contract_id, command)

    contract("sign for the council", council, lambda c: c.sign(actor=council))
    contract("sign for the trust", trust, lambda c: c.sign(actor=trust))
    board = contract(
        "establish the Partnership Board",
        council,
        lambda c: c.establish_board(
            kind=BoardKind.PARTNERSHIP_BOARD, name="Partnership Board", actor=council
        ),
    )
    first_meeting = contract(
        "schedule the first Partnership Board",
        council,
        lambda c: c.schedule_meeting(
            board_id=board, scheduled_for=date(2018, 6, 12), actor=council
        ),
    )
    contract(
        "hold the first Partnership Board",
        council,
        lambda c: c.hold_meeting(
            meeting_id=first_meeting,
            held_on=date(2018, 6, 12),
            decisions=["The trust's first-year business plan is noted"],
            actions=[],
            actor=council,
        ),
    )
    contract(
        "pay 2018-19 Q1",
        council,
        lambda c: c.record_payment(
            amount=180_000_000 * POUND // 4,
            paid_on=date(2018, 4, 3),
            reference="BCT contract sum 2018-19 Q1",
            actor=council,
        ),
    )
    return contract_id


# -- the public record ---------------------------------------------------------------------------
# Ofsted's and DfE's tables as shipped (demo_data/README.md); what ../shared/data/README.md gives
# of Sandwell's and Birmingham's inspections from 2013; and, as reported at the time, the
# statutory interventions that made each council's children's trust.

OFSTED_TABLES = Path(__file__).resolve().parent / "demo_data" / "ofsted"

_OVERALL, _LEADERS, _HELP = (
    Area.OVERALL_EFFECTIVENESS,
    Area.IMPACT_OF_LEADERS,
    Area.HELP_AND_PROTECTION,
)
_IN_CARE, _LEAVERS, _IN_CARE_AND_LEAVERS = (
    Area.CHILDREN_IN_CARE,
    Area.CARE_LEAVERS,
    Area.CHILDREN_IN_CARE_AND_CARE_LEAVERS,
)


@dataclass(frozen=True)
class _ReportedInspection:
    """An inspection as Ofsted's report gives it, in ../shared/data/README.md's words: its first
    day, its publication and the judgements the README states, no more."""

    council: DemoOrganisation
    inspection_type: InspectionType
    starts_on: date
    published_on: date
    judgements: Mapping[Area, Grade]

    @property
    def ons_code(self) -> str:
        return _council(self.council).ons_code

    @property
    def inspection_id(self) -> UUID:
        return Inspection.id_for(self.ons_code, self.inspection_type, self.starts_on)

    @property
    def source(self) -> PublishedLine:
        """The report, named as the README describes it. The demo ships no copy of Ofsted's
        reports, so what it read is that description: its SHA-256 stands for the file's, and it
        is one line long."""
        published = self.published_on
        report = f"Ofsted inspection report, published {published.day} {published:%B %Y}"
        return PublishedLine(report, hashlib.sha256(report.encode()).hexdigest(), 1)

    def record(self, session: Session) -> tuple[LedgerAggregate, UUID]:
        """Recorded as the importer records a table's row, through `Inspection.record`."""
        council = _council(self.council)
        listed = local_authorities().find(council.ons_code)
        assert listed is not None, f"{council.ons_code} is in the reference list"
        inspection = Inspection.record(
            ons_code=council.ons_code,
            la_number=council.la_number,
            la_name=listed.name,  # the reference list's spelling, as the importer gives it
            inspection_type=self.inspection_type,
            starts_on=self.starts_on,
            published_on=self.published_on,
            judgements=self.judgements,
            theme=None,
            source=self.source,
            actor=ADMIN.actor,
        )
        return session.add(inspection), inspection.id


# Ofsted's inspections of the two councils, 2013 to 2025. The tables as at 31 March 2025 hold the
# latest before that date (Sandwell's of May 2022, Birmingham's of February 2023), which are
# listed here too and left to them; before 1 January 2023 ILACS made one judgement of children in
# care and care leavers.
REPORTED_INSPECTIONS = (
    _ReportedInspection(
        SANDWELL_COUNCIL,
        InspectionType.PRE_SIF,  # looked-after children services, 2012-13 framework
        date(2013, 6, 24),
        date(2013, 8, 2),
        {_OVERALL: Grade.INADEQUATE},
    ),
    _ReportedInspection(
        SANDWELL_COUNCIL,
        InspectionType.SIF,
        date(2015, 1, 27),
        date(2015, 6, 5),
        {_OVERALL: Grade.INADEQUATE, _HELP: Grade.INADEQUATE},
    ),
    _ReportedInspection(
        SANDWELL_COUNCIL,
        InspectionType.SIF_REINSPECTION,
        date(2017, 11, 6),
        date(2018, 1, 29),
        {_OVERALL: Grade.INADEQUATE},
    ),
    _ReportedInspection(
        SANDWELL_COUNCIL,
        InspectionType.ILACS_STANDARD,
        date(2022, 5, 9),
        date(2022, 7, 5),
        dict.fromkeys(
            (_OVERALL, _LEADERS, _HELP, _IN_CARE_AND_LEAVERS), Grade.REQUIRES_IMPROVEMENT
        ),
    ),
    _ReportedInspection(
        SANDWELL_COUNCIL,
        InspectionType.ILACS_STANDARD,
        date(2025, 10, 13),
        date(2025, 12, 2),
        {
            **dict.fromkeys((_OVERALL, _LEADERS, _HELP, _IN_CARE), Grade.GOOD),
            _LEAVERS: Grade.REQUIRES_IMPROVEMENT,
        },
    ),
    _ReportedInspection(
        BIRMINGHAM_COUNCIL,
        InspectionType.SIF,
        date(2014, 3, 18),
        date(2014, 5, 23),
        {_OVERALL: Grade.INADEQUATE},
    ),
    _ReportedInspection(
        BIRMINGHAM_COUNCIL,
        InspectionType.SIF_REINSPECTION,
        date(2016, 9, 12),
        date(2016, 11, 25),
        {_OVERALL: Grade.INADEQUATE},
    ),
    _ReportedInspection(
        BIRMINGHAM_COUNCIL,
        InspectionType.ILACS_STANDARD,
        date(2018, 12, 3),
        date(2019, 1, 17),
        dict.fromkeys(
            (_OVERALL, _LEADERS, _HELP, _IN_CARE_AND_LEAVERS), Grade.REQUIRES_IMPROVEMENT
        ),
    ),
    _ReportedInspection(
        BIRMINGHAM_COUNCIL,
        InspectionType.ILACS_STANDARD,
        date(2023, 2, 20),
        date(2023, 4, 18),
        dict.fromkeys((_OVERALL, _LEADERS, _HELP, _IN_CARE, _LEAVERS), Grade.GOOD),
    ),
)

_SECRETARY_OF_STATE = "Secretary of State for Education"
_PUBLIC_SECTOR_EXECUTIVE = SourceDocument(
    title="Sandwell becomes latest met to lose control of children's services",
    url="https://www.publicsectorexecutive.com/Public-Sector-News/"
    "sandwell-becomes-latest-met-to-lose-control-of-childrens-services",
    reference="Public Sector Executive, 10 October 2016",
)

# The statutory history of each council's trust, as reported at the time; where a report gives
# only the month, the intervention is dated to the month. Reports of Sandwell's trust's set-up
# name Malcolm Newsam as the commissioner the Secretary of State appointed to establish it after
# the direction of October 2016 (Express & Star, 2 December 2016; Bevan Brittan, 9 May 2018), but
# none cited here gives when: he is dated with the direction, to the month. The README gives no
# direction for Birmingham, so its record holds the trust's start alone.
INTERVENTIONS: tuple[tuple[DemoOrganisation, Intervention], ...] = (
    (
        SANDWELL_COUNCIL,
        Intervention(
            kind=InterventionKind.COMMISSIONERS_REVIEW_REPORTED,
            took_effect_on=date(2016, 7, 1),
            date_precision=DatePrecision.MONTH,
            made_by="Eleanor Brazil, children's services commissioner appointed by the "
            "Secretary of State",
            requirement="Reported that the council on its own could not deliver the improvement "
            "its children's services needed, and that they should be removed from its control",
            source=_PUBLIC_SECTOR_EXECUTIVE,
        ),
    ),
    (
        SANDWELL_COUNCIL,
        Intervention(
            kind=InterventionKind.DIRECTION_TO_ESTABLISH_TRUST,
            took_effect_on=date(2016, 10, 1),
            date_precision=DatePrecision.MONTH,
            made_by=_SECRETARY_OF_STATE,
            requirement="Bring forward plans by 1 December 2016 to move the council's children's "
            "social care to a trust",
            source=_PUBLIC_SECTOR_EXECUTIVE,
        ),
    ),
    (
        SANDWELL_COUNCIL,
        Intervention(
            kind=InterventionKind.COMMISSIONER_APPOINTED,
            took_effect_on=date(2016, 10, 1),
            date_precision=DatePrecision.MONTH,
            made_by=_SECRETARY_OF_STATE,
            requirement="Malcolm Newsam, children's services commissioner for Sandwell, to "
            "establish the trust with the council",
            source=SourceDocument(
                title="New Sandwell children's services trust 'aims to go live next summer'",
                url="https://expressandstar.com/news/local-news/2016/12/02/"
                "new-sandwell-childrens-services-trust-aims-to-go-live-next-summer",
                reference="Express & Star, 2 December 2016",
            ),
        ),
    ),
    (
        SANDWELL_COUNCIL,
        Intervention(
            kind=InterventionKind.TRUST_ESTABLISHED,
            took_effect_on=date(2018, 4, 1),
            date_precision=DatePrecision.DAY,
            made_by="Sandwell Metropolitan Borough Council",
            requirement="Sandwell Children's Trust runs the council's children's social care "
            "from 1 April 2018",
            source=SourceDocument(
                title="Launch of Sandwell's Children's Trust",
                url="https://www.sandwellchildrenstrust.org/news/2018/"
                "launch-sandwells-childrens-trust/",
                reference="Sandwell Children's Trust, April 2018",
            ),
        ),
    ),
    (
        BIRMINGHAM_COUNCIL,
        Intervention(
            kind=InterventionKind.TRUST_ESTABLISHED,
            took_effect_on=date(2018, 4, 1),
            date_precision=DatePrecision.DAY,
            made_by="Birmingham City Council",
            requirement="Birmingham Children's Trust runs the council's children's social care "
            "from 1 April 2018",
            source=SourceDocument(
                title="Birmingham Children's Trust: The Journey Starts Here!",
                url="https://adcs.org.uk/blog/article/birmingham-childrens-trust-the-journey-starts-here",
                reference="ADCS blog, April 2018",
            ),
        ),
    ),
)


def _import_ofsted_tables(ledger: Trustledger) -> tuple[OfstedImport, frozenset[UUID]]:
    """Import the shipped tables as the demo admin; what the import did and the inspections the
    tables hold. The importer takes a file in once, so this writes nothing the second time."""
    tables = [read_file(path) for path in sorted(OFSTED_TABLES.glob("*.csv"))]
    report = import_ofsted(ledger, tables, ADMIN.actor)
    # Ofsted's own tables, which the importer reads whole: a problem is a broken copy.
    assert report.imported, report.problems
    return report, frozenset(row.inspection_id for table in tables for row in table.rows)


def _import_dfe_tables(ledger: Trustledger, statistics: PublishedStatistics) -> DfeImport:
    """Import the shipped copies of DfE's tables as the demo admin, one publication per table. A
    file already taken in is not taken again, so this writes nothing the second time."""
    report = import_published(ledger, statistics, ADMIN.actor)
    # The publisher's own rows, which the reader takes whole: a problem is a broken copy.
    assert report.imported, report.problems
    return report


def _tell_public_record(story: _Story, in_tables: frozenset[UUID]) -> None:
    """Sandwell's and Birmingham's inspections that the tables do not hold, then the
    interventions, each recorded by the demo admin under its own step."""
    for reported in REPORTED_INSPECTIONS:
        if reported.inspection_id not in in_tables:
            story.execute(
                f"record {reported.council.name}'s {reported.inspection_type} of "
                f"{reported.starts_on}",
                ADMIN.actor,
                reported.record,
            )
    for council, intervention in INTERVENTIONS:
        codes = _council(council)

        def run(
            session: Session, codes: Council = codes, intervention: Intervention = intervention
        ) -> tuple[LedgerAggregate, UUID]:
            listed = local_authorities().find(codes.ons_code)
            assert listed is not None, f"{codes.ons_code} is in the reference list"
            return record_intervention(
                session,
                ons_code=codes.ons_code,
                la_number=codes.la_number,
                la_name=listed.name,
                intervention=intervention,
                actor=ADMIN.actor,
            )

        story.execute(
            f"record {council.name}'s {intervention.kind} of {intervention.took_effect_on}",
            ADMIN.actor,
            run,
        )


def _imported(report: OfstedImport) -> str:
    written = sum(done.recorded + done.corrected for done in report.files)
    if written == 0:
        return "already there"
    rows = sum(done.rows for done in report.files)
    return f"seeded ({written} inspections and visits from {rows} rows)"


def _published(report: DfeImport) -> str:
    written = [f for f in report.files if f.outcome in (DfeOutcome.RECORDED, DfeOutcome.RESTATED)]
    if not written:
        return "already there"
    return f"seeded ({len(written)} tables, {sum(f.values for f in written)} published values)"


def _public_record(ledger: Trustledger, in_tables: frozenset[UUID], dfe: DfeImport) -> str:
    """What the ledger holds of the public record: by source, and each council's timeline."""
    inspections = ledger.inspections()

    def timeline(council: DemoOrganisation) -> str:
        ons_code = _council(council).ons_code
        listed = local_authorities().find(ons_code)
        assert listed is not None, f"{ons_code} is in the reference list"
        years = sorted(i.starts_on.year for i in inspections if i.ons_code == ons_code)
        record = ledger.local_authority_record(ons_code)
        interventions = 0 if record is None else len(record.interventions)
        return (
            f"{listed.name}'s timeline: inspections and visits {len(years)} ({years[0]} to "
            f"{years[-1]}), statutory interventions {interventions}"
        )

    return (
        f"{sum(i.id in in_tables for i in inspections)} inspections and visits of "
        f"{len({i.ons_code for i in inspections})} local authorities from Ofsted's tables, "
        f"{sum(i.id not in in_tables for i in inspections)} from Ofsted's reports; "
        f"{timeline(SANDWELL_COUNCIL)}; {timeline(BIRMINGHAM_COUNCIL)}; DfE's statistics: "
        f"{sum(f.outcome is not DfeOutcome.SKIPPED for f in dfe.files)} tables with "
        f"{sum(f.values for f in dfe.files)} published values for England, its regions and "
        "local authorities"
    )

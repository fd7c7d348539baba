"""Specifications of `trustledger demo`, on SQLite and PostgreSQL: Sandwell's contract as the
council's published papers tell it, with its KPI returns as DfE published Sandwell's figures,
Birmingham's beside it, and a second run that adds nothing.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from api.demo import (
    ADMIN,
    AUDITOR,
    BIRMINGHAM_COMMISSIONER,
    BIRMINGHAM_COUNCIL,
    BIRMINGHAM_PROVIDER,
    BIRMINGHAM_TRUST,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    SANDWELL_COMMISSIONER,
    SANDWELL_COUNCIL,
    SANDWELL_PROVIDER,
    SANDWELL_TRUST,
    DemoOrganisation,
    seed_demo,
)
from api.dfe import DEMO_DIRECTORY, SOURCES, file_stem, read_demo_statistics
from api.security import verify_password
from api.settings import Settings
from domain.account import Account
from domain.application import Trustledger, Write
from domain.indicator_series import IndicatorSeries, ReturnStatus
from domain.indicators import Suppression
from domain.inspection import Area, Grade, InspectionType, PublishedLine, latest_inspections
from domain.kpis import KpiSummary, kpi_summary
from domain.local_authority_record import DatePrecision, InterventionKind, SourceDocument
from domain.performance_notice import NoticeStatus, PerformanceNotice, PlanStatus
from domain.periods import FinancialYear
from domain.publication import Publication
from domain.reporting import Frequency
from domain.service_contract import (
    ContractStatus,
    ObligationStatus,
    Party,
    ServiceContract,
    VariationStatus,
)
from domain.timeline import EntryCategory, TimelineEntry, timeline
from tests.conftest import STORES, settings_for

POUND = 100
# The demo's "today": October 2026's monthly returns fell due on 13 November.
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module", params=STORES)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trustledger]:
    """One seeded ledger per store, shared by the specs that only read it."""
    for settings in settings_for(request.param, tmp_path_factory.mktemp("demo")):
        ledger = Trustledger(settings.ledger_env())
        try:
            seed(ledger)
            yield ledger
        finally:
            ledger.close()


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    try:
        yield ledger
    finally:
        ledger.close()


def seed(ledger: Trustledger) -> dict[str, str]:
    """Seed the demo; what it said of each part, by the part's name."""
    return parts(told(ledger))


def told(ledger: Trustledger) -> list[str]:
    """Seed the demo; its report, paragraph by paragraph."""
    out = io.StringIO()
    seed_demo(ledger, out)
    return out.getvalue().split("\n\n")


def parts(report: list[str]) -> dict[str, str]:
    """What the report's first paragraph said of each part, by the part's name."""
    return dict(line.strip().split(": ", 1) for line in report[0].splitlines()[1:])


def contract_of(ledger: Trustledger, council: DemoOrganisation) -> ServiceContract:
    [contract] = [c for c in ledger.contracts() if c.council.organisation_id == str(council.id)]
    return contract


def signers(contract: ServiceContract) -> set[tuple[Party, str]]:
    return {(s.party, s.signed_by.user_id) for s in contract.signatures}


def kpi_series(ledger: Trustledger, contract: ServiceContract) -> dict[str, IndicatorSeries]:
    return {
        code: ledger.get(IndicatorSeries.id_for(contract.id, code), IndicatorSeries)
        for code in contract.kpi_schedule
    }


def summary_of(ledger: Trustledger, today: date = TODAY) -> dict[str, KpiSummary]:
    contract = contract_of(ledger, SANDWELL_COUNCIL)
    return {
        kpi.indicator.code: kpi
        for kpi in kpi_summary(contract, kpi_series(ledger, contract), today)
    }


def test_each_council_has_one_contract_with_its_own_trust_signed_by_the_demo_people(
    seeded: Trustledger,
) -> None:
    assert len(seeded.contracts()) == 2
    for council, trust, commissioner, provider, la_number, ons_code in [
        (
            SANDWELL_COUNCIL,
            SANDWELL_TRUST,
            SANDWELL_COMMISSIONER,
            SANDWELL_PROVIDER,
            "333",
            "E08000028",
        ),
        (
            BIRMINGHAM_COUNCIL,
            BIRMINGHAM_TRUST,
            BIRMINGHAM_COMMISSIONER,
            BIRMINGHAM_PROVIDER,
            "330",
            "E08000025",
        ),
    ]:
        contract = contract_of(seeded, council)
        assert (contract.council.la_number, contract.council.ons_code) == (la_number, ons_code)
        assert contract.trust.organisation_id == str(trust.id)
        assert contract.term.starts == date(2018, 4, 1)
        assert signers(contract) == {
            (Party.COMMISSIONER, str(commissioner.id)),
            (Party.PROVIDER, str(provider.id)),
        }
        assert contract.status(date(2026, 1, 1)) is ContractStatus.LIVE


def test_sandwells_contract_follows_the_councils_published_papers(seeded: Trustledger) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    trust, council = str(SANDWELL_PROVIDER.id), str(SANDWELL_COMMISSIONER.id)
    assert contract.term.ends == date(2028, 3, 31)  # ten years

    # About £58m in 2018-19, and £5m more agreed in 2019: the trust asked, the council agreed.
    assert contract.contract_sums["2018-19"] == 58_000_000 * POUND
    assert contract.contract_sums["2019-20"] == 63_000_000 * POUND
    [money] = [v for v in contract.variations.values() if v.changes.contract_sums]
    assert money.changes.contract_sums == {"2019-20": 63_000_000 * POUND}
    assert money.status is VariationStatus.AGREED
    assert money.proposed_by.user_id == trust
    assert money.decided_by is not None
    assert money.decided_by.user_id == council

    # The Ofsted "Good" within four years, moved in 2022 to the next standard inspection.
    [ofsted] = contract.obligations.values()
    [moved] = [v for v in contract.variations.values() if v.changes.obligations]
    [change] = moved.changes.obligations
    assert change.obligation_id == ofsted.obligation_id
    assert moved.status is VariationStatus.AGREED
    assert moved.proposed_by.user_id == council
    assert moved.decided_by is not None
    assert moved.decided_by.user_id == trust
    assert "next standard inspection" in ofsted.description
    assert ofsted.due_on == date(2025, 5, 20)
    assert ofsted.status is ObligationStatus.MET

    # The 2022 contract review kept the break clause unused.
    [decision] = contract.break_clause_decisions
    assert not decision.used
    assert decision.decided_by.user_id == council
    assert contract.ending is None
    review = contract.annual_reviews["2021-22"]
    assert review.held_on == date(2022, 9, 28)
    assert "break clause not used" in review.outcome
    assert "1 April 2023" in review.outcome


def test_sandwells_contract_is_governed_paid_and_reported_on(seeded: Trustledger) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    assert {b.name for b in contract.boards.values()} == {
        "Strategic Partnership Board",
        "Contract Operational Group",
    }
    assert all(m.decisions for m in contract.meetings.values())
    assert len(contract.annual_reviews) >= 3
    assert contract.paid_by_year["2018-19"] == 58_000_000 * POUND
    assert set(contract.latest_financial_positions) == {"2018-19", "2019-20"}
    assert all(
        p.reported_by.user_id == str(SANDWELL_PROVIDER.id) for p in contract.financial_positions
    )
    [business_plan] = contract.reserved_matters.values()
    assert "business plan" in business_plan.subject
    assert business_plan.decided_by is not None
    assert business_plan.decided_by.user_id == str(SANDWELL_COMMISSIONER.id)


def test_the_notice_on_assessment_timeliness_was_resolved_after_its_plan_was_accepted(
    seeded: Trustledger,
) -> None:
    issued = seeded.recorder.select_notifications(
        None, 10, topics=[get_topic(PerformanceNotice.Issued)]
    )
    [notice] = [seeded.get(n.originator_id, PerformanceNotice) for n in issued]
    assert notice.contract_id == contract_of(seeded, SANDWELL_COUNCIL).id
    assert notice.kpi_codes == ("A2",)
    assert [plan.status for plan in notice.plans] == [PlanStatus.ACCEPTED]
    assert notice.status is NoticeStatus.RESOLVED


def test_the_kpi_summary_shows_the_figures_dfe_published_for_2024_25_as_the_latest_returns(
    seeded: Trustledger,
) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    series = kpi_series(seeded, contract)
    summary = summary_of(seeded)
    assert sum(kpi.indicator.national for kpi in contract.kpi_schedule.values()) >= 10

    # The figures ../shared/data/README.md says must come out exactly (Sandwell, year to
    # 31 March 2025), with the counts they are made of.
    for code, value, numerator, denominator in [
        ("rereferrals_12m", "22.7", 844, 3723),
        ("cpp_second_or_subsequent", "30.9", 129, 418),
        ("cpp_2_years_plus", "3.4", 12, 357),
        ("cla_long_term_stability", "63", 240, 380),
    ]:
        latest = summary[code].latest
        assert latest is not None
        assert (latest.period, latest.value) == ("2024-25", Decimal(value))
        made = series[code].returns["2024-25"]
        assert (made.numerator, made.denominator) == (numerator, denominator)

    # Every annual KPI's latest return is DfE's figure for the reporting year ending in 2024-25:
    # time_period 2025 for the year to 31 March, the workforce census of 30 September 2024.
    statistics = read_demo_statistics()
    year = FinancialYear.parse("2024-25")
    annual = [kpi for kpi in summary.values() if kpi.frequency is Frequency.ANNUAL]
    assert len(annual) >= 10
    for kpi in annual:
        code = kpi.indicator.code
        [dfe_year] = [
            y for y in (2024, 2025) if year.starts <= SOURCES[code].period_end(y) <= year.ends
        ]
        published = statistics.values_for("333", code, dfe_year)
        assert published is not None
        assert kpi.latest is not None
        assert (kpi.latest.period, kpi.latest.value) == ("2024-25", published.value), code

    returns = [made for each in series.values() for made in each.returns.values()]
    assert {made.submitted_by.user_id for made in returns} == {str(SANDWELL_PROVIDER.id)}


def test_a_figure_dfe_suppressed_is_returned_as_its_code_and_explained_when_queried(
    seeded: Trustledger,
) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    # DfE's 2019 release (the year to 31 March 2019) suppresses Sandwell's CP plans of 2+ years.
    made = kpi_series(seeded, contract)["cpp_2_years_plus"].returns["2018-19"]
    assert made.value is Suppression.SUPPRESSED
    assert made.numerator is None
    [query] = made.queries
    assert query.asked_by.user_id == str(SANDWELL_COMMISSIONER.id)
    assert query.answered_by is not None
    assert query.answered_by.user_id == str(SANDWELL_PROVIDER.id)
    assert made.status is ReturnStatus.ACCEPTED


def test_the_2022_contract_review_added_and_revised_kpis_from_2023_24_by_variation(
    seeded: Trustledger,
) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    series = kpi_series(seeded, contract)
    [variation] = [v for v in contract.variations.values() if v.changes.kpis]
    assert variation.status is VariationStatus.AGREED
    assert variation.proposed_by.user_id == str(SANDWELL_COMMISSIONER.id)
    assert variation.decided_by is not None
    assert variation.decided_by.user_id == str(SANDWELL_PROVIDER.id)
    varied = {kpi.code for kpi in variation.changes.kpis}
    for code in varied:
        assert contract.kpi_schedule[code].agreed_in == variation.variation_id
    signed = {c.indicator_code for c in contract.kpi_schedule_history if c.agreed_in is None}
    assert all(contract.kpi_schedule[code].agreed_in is None for code in signed - varied)

    # Children in care and care leavers join with targets and returns from 2023-24.
    added = varied - signed
    assert {
        "cla_3_plus_placements",
        "cla_long_term_stability",
        "care_leavers_19_21_eet",
        "care_leavers_19_21_suitable_accommodation",
        "cla_rate_per_10k",
    } <= added
    for code in added:
        assert min(contract.kpi_schedule[code].targets) == "2023-24"
        assert list(series[code].returns) == ["2023-24", "2024-25"]

    # A revised KPI keeps its targets up to 2022-23 and has new ones from 2023-24.
    revised = varied & signed
    assert revised
    for code in revised:
        [as_signed, *_] = [
            c.kpi for c in contract.kpi_schedule_history if c.indicator_code == code and c.kpi
        ]
        now = contract.kpi_schedule[code]
        assert as_signed is not None
        assert now.targets["2022-23"] == as_signed.targets["2022-23"]
        assert now.targets["2023-24"] != as_signed.targets["2023-24"]


def test_sandwells_returns_include_a_late_one_an_open_query_and_a_restatement(
    seeded: Trustledger,
) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    series = kpi_series(seeded, contract)
    summary = summary_of(seeded)

    assert "2019-20" in summary["rereferrals_12m"].late
    late = series["rereferrals_12m"].returns["2019-20"]
    assert late.late
    assert late.submitted_on > late.due_on

    assert summary["cpp_second_or_subsequent"].open_queries == 1
    queried = series["cpp_second_or_subsequent"].returns["2024-25"]
    [query] = queried.open_queries
    assert query.asked_by.user_id == str(SANDWELL_COMMISSIONER.id)
    assert queried.status is ReturnStatus.SUBMITTED

    restated = [made for each in series.values() for made in each.returns.values() if made.restated]
    assert len(restated) == 1
    [made] = restated
    first, second = made.history
    assert first.reason is None
    assert second.reason
    assert first.value != second.value
    assert made.value == second.value
    assert made.status is ReturnStatus.ACCEPTED

    # The council accepts most returns.
    returns = [made for each in series.values() for made in each.returns.values()]
    accepted = [made for made in returns if made.status is ReturnStatus.ACCEPTED]
    assert len(accepted) > 0.9 * len(returns)


def test_the_monthly_returns_run_to_september_2026_and_october_is_overdue_once_due(
    seeded: Trustledger,
) -> None:
    contract = contract_of(seeded, SANDWELL_COUNCIL)
    monthly = [
        code for code, kpi in contract.kpi_schedule.items() if kpi.frequency is Frequency.MONTHLY
    ]
    assert set(monthly) == {"assessments_45_working_days", "visits_within_timescale"}
    assert not contract.kpi_schedule["visits_within_timescale"].indicator.national

    for today, overdue in [(date(2026, 11, 13), []), (TODAY, ["2026-10"])]:
        summary = summary_of(seeded, today)
        for code in monthly:
            latest = summary[code].latest
            assert latest is not None
            assert latest.period == "2026-09"
            assert summary[code].overdue == overdue


def test_every_demo_account_has_the_demo_password_and_the_auditor_reads_both_contracts(
    seeded: Trustledger,
) -> None:
    for demo in DEMO_ACCOUNTS:
        account = seeded.get(demo.id, Account)
        assert (account.email, account.role) == (demo.email, demo.role)
        assert account.organisation_id == str(demo.organisation.id)
        assert verify_password(seeded.password_hash(account.id), DEMO_PASSWORD)
    auditor = seeded.get(AUDITOR.id, Account)
    assert auditor.granted_contracts == {c.id for c in seeded.contracts()}


def test_seeding_again_records_nothing(ledger: Trustledger) -> None:
    first = seed(ledger)
    last_event = ledger.recorder.max_notification_id()

    report = told(ledger)

    assert ledger.recorder.max_notification_id() == last_event
    assert first.pop("organisations and accounts") == "12 of 12 new"
    assert all(said.startswith("seeded") for said in first.values()), first
    assert set(parts(report).values()) == {"already there"}
    assert len(ledger.contracts()) == 2
    # Which KPI figures are DfE's and which are made up is said every time.
    [kpis] = [paragraph for paragraph in report if paragraph.startswith("Sandwell's KPIs")]
    assert "DfE published" in kpis
    assert "illustrative" in kpis


class SeedStopped(Exception):
    """The seed was cut off, as by a crash or Ctrl-C."""


# After the twelve organisations and accounts: the first few steps of Sandwell's story, while
# its KPIs are being scheduled; or part way through its KPI returns.
@pytest.mark.parametrize("commands", [17, 400])
def test_a_seed_that_stopped_part_way_is_finished_by_the_next(
    store_settings: Settings, commands: int
) -> None:
    stopping = Trustledger(store_settings.ledger_env())
    stopping.execute = stop_after(stopping.execute, commands=commands)
    try:
        with pytest.raises(SeedStopped):
            seed(stopping)
    finally:
        stopping.close()

    ledger = Trustledger(store_settings.ledger_env())
    try:
        said = seed(ledger)
        last_event = ledger.recorder.max_notification_id()
        assert said["organisations and accounts"] == "already there"
        [sandwell] = [v for k, v in said.items() if k.startswith("Sandwell")]
        assert sandwell.startswith("completed"), sandwell
        contract = contract_of(ledger, SANDWELL_COUNCIL)
        assert len(contract.signatures) == 2
        assert [o.status for o in contract.obligations.values()] == [ObligationStatus.MET]
        assert summary_of(ledger)["visits_within_timescale"].overdue == ["2026-10"]

        seed(ledger)
        assert ledger.recorder.max_notification_id() == last_event
    finally:
        ledger.close()


def stop_after(execute: Callable[..., Any], commands: int) -> Callable[..., Any]:
    """The ledger's `execute`, cut off after the given number of commands."""
    calls = 0

    def execute_until_stopped(run: Any, *, actor: Any, write: Write) -> Any:
        nonlocal calls
        calls += 1
        if calls > commands:
            raise SeedStopped
        return execute(run, actor=actor, write=write)

    return execute_until_stopped


# -- the public record ---------------------------------------------------------------------------

SANDWELL_ONS, BIRMINGHAM_ONS = "E08000028", "E08000025"
LATEST_TABLE = "la_inspection_outcomes_2025_latest_per_la.csv"


def timeline_of(ledger: Trustledger, ons_code: str) -> list[TimelineEntry]:
    return timeline(ledger.inspections(ons_code), ledger.local_authority_record(ons_code))


def judged(entries: list[TimelineEntry]) -> list[tuple[int, Grade | None]]:
    """(year, overall effectiveness) of each inspection that judges, oldest first."""
    return [
        (entry.on.year, entry.overall_effectiveness)
        for entry in entries
        if entry.category is EntryCategory.INSPECTION and entry.overall_effectiveness is not None
    ]


def interventions(entries: list[TimelineEntry]) -> list[tuple[Any, date]]:
    return [(e.kind, e.on) for e in entries if e.category is EntryCategory.INTERVENTION]


def test_sandwells_timeline_runs_from_the_inadequate_of_2013_through_its_trust_to_good_in_2025(
    seeded: Trustledger,
) -> None:
    entries = timeline_of(seeded, SANDWELL_ONS)

    assert judged(entries) == [
        (2013, Grade.INADEQUATE),
        (2015, Grade.INADEQUATE),
        (2017, Grade.INADEQUATE),
        (2022, Grade.REQUIRES_IMPROVEMENT),
        (2025, Grade.GOOD),
    ]
    assert interventions(entries) == [
        (InterventionKind.COMMISSIONERS_REVIEW_REPORTED, date(2016, 7, 1)),
        (InterventionKind.DIRECTION_TO_ESTABLISH_TRUST, date(2016, 10, 1)),
        (InterventionKind.COMMISSIONER_APPOINTED, date(2016, 10, 1)),
        (InterventionKind.TRUST_ESTABLISHED, date(2018, 4, 1)),
    ]
    # Inspections and interventions in one order: the trust came between the SIF re-inspection
    # and the first ILACS inspection.
    assert [(e.category, e.on.year) for e in entries] == [
        (EntryCategory.INSPECTION, 2013),
        (EntryCategory.INSPECTION, 2015),
        (EntryCategory.INTERVENTION, 2016),
        (EntryCategory.INTERVENTION, 2016),
        (EntryCategory.INTERVENTION, 2016),
        (EntryCategory.INSPECTION, 2017),
        (EntryCategory.INTERVENTION, 2018),
        (EntryCategory.INSPECTION, 2022),
        (EntryCategory.INSPECTION, 2024),  # the focused visit of October 2024: a theme, no grade
        (EntryCategory.INSPECTION, 2025),
    ]
    by_year = {(e.category, e.on.year, e.kind): e for e in entries}
    direction = by_year[
        (EntryCategory.INTERVENTION, 2016, InterventionKind.DIRECTION_TO_ESTABLISH_TRUST)
    ]
    assert "by 1 December 2016" in direction.summary
    assert "Secretary of State for Education" in direction.summary
    assert direction.date_precision is DatePrecision.MONTH
    appointed = by_year[(EntryCategory.INTERVENTION, 2016, InterventionKind.COMMISSIONER_APPOINTED)]
    assert "Malcolm Newsam" in appointed.summary
    review = by_year[
        (EntryCategory.INTERVENTION, 2016, InterventionKind.COMMISSIONERS_REVIEW_REPORTED)
    ]
    assert "Eleanor Brazil" in review.summary
    assert all(isinstance(e.source, SourceDocument) and e.source.url for e in [direction, review])

    # The tables' inspection keeps its line; the others name Ofsted's report.
    ilacs_2022 = by_year[(EntryCategory.INSPECTION, 2022, InspectionType.ILACS)]
    assert isinstance(ilacs_2022.source, PublishedLine)
    assert (ilacs_2022.source.file, ilacs_2022.source.line) == (LATEST_TABLE, 108)
    first = by_year[(EntryCategory.INSPECTION, 2013, InspectionType.PRE_SIF)]
    assert isinstance(first.source, PublishedLine)
    assert first.source.file == "Ofsted inspection report, published 2 August 2013"
    last = by_year[(EntryCategory.INSPECTION, 2025, InspectionType.ILACS_STANDARD)]
    assert last.published_on == date(2025, 12, 2)


def test_sandwells_interventions_and_reported_inspections_are_recorded_by_the_demo_admin(
    seeded: Trustledger,
) -> None:
    record = seeded.local_authority_record(SANDWELL_ONS)
    assert record is not None
    assert {each.recorded_by.user_id for each in record.interventions.values()} == {str(ADMIN.id)}
    reported = [i for i in seeded.inspections(SANDWELL_ONS) if i.starts_on.year != 2022]
    assert {i.la_name for i in reported} == {"Sandwell"}


def test_birminghams_timeline_holds_its_inspections_from_2014_and_its_trust(
    seeded: Trustledger,
) -> None:
    entries = timeline_of(seeded, BIRMINGHAM_ONS)

    assert judged(entries) == [
        (2014, Grade.INADEQUATE),
        (2016, Grade.INADEQUATE),
        (2018, Grade.REQUIRES_IMPROVEMENT),
        (2023, Grade.GOOD),
    ]
    # ../shared/data/README.md gives no date for a direction to Birmingham: none is recorded.
    assert interventions(entries) == [(InterventionKind.TRUST_ESTABLISHED, date(2018, 4, 1))]


def test_the_latest_judgements_as_at_31_march_2025_are_still_ofsteds_table(
    seeded: Trustledger,
) -> None:
    latest = latest_inspections(
        seeded.inspections(), inspected_by=date(2025, 3, 31), published_by=date(2025, 6, 30)
    )

    assert len(latest) == 153
    assert Counter(i.judgements[Area.OVERALL_EFFECTIVENESS] for i in latest) == {
        Grade.GOOD: 67,
        Grade.OUTSTANDING: 36,
        Grade.REQUIRES_IMPROVEMENT: 31,
        Grade.INADEQUATE: 19,
    }
    by_la = {i.ons_code: i for i in latest}
    assert by_la[SANDWELL_ONS].starts_on == date(2022, 5, 9)
    # Sandwell's inspection of October 2025 stands from its publication.
    now = latest_inspections(
        seeded.inspections(), inspected_by=date(2025, 12, 2), published_by=date(2025, 12, 2)
    )
    assert {i.ons_code: i for i in now}[SANDWELL_ONS].judgements[Area.OVERALL_EFFECTIVENESS] is (
        Grade.GOOD
    )


def test_each_shipped_dfe_table_is_a_publication_of_the_file_as_shipped(
    seeded: Trustledger,
) -> None:
    # The national adoption timings feed no catalogue indicator, so they are no publication.
    tables = {source.file for source in SOURCES.values()}
    shipped = [p for p in sorted(DEMO_DIRECTORY.glob("*.csv")) if file_stem(p.name) in tables]
    assert len(shipped) == 9

    for path in shipped:
        publication = seeded.get(Publication.id_for(file_stem(path.name)), Publication)
        assert (publication.file, publication.sha256) == (
            path.name,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )


def test_seeding_again_writes_nothing_to_the_public_record_and_tells_it(
    seeded: Trustledger,
) -> None:
    last_event = seeded.recorder.max_notification_id()

    report = told(seeded)

    assert seeded.recorder.max_notification_id() == last_event
    said = parts(report)
    assert said["Ofsted's tables as at 31 March 2025"] == "already there"
    assert said["DfE's tables, 2013 to 2025"] == "already there"
    assert said["inspection and intervention history of Sandwell and Birmingham"] == "already there"
    [public] = [paragraph for paragraph in report if paragraph.startswith("Public record")]
    assert "213 inspections and visits of 153 local authorities from Ofsted's tables" in public
    assert "7 from Ofsted's reports" in public
    assert (
        "Sandwell's timeline: inspections and visits 6 (2013 to 2025), statutory interventions 4"
    ) in public
    assert "DfE's statistics: 9 tables" in public
    assert (
        report[-1]
        .strip()
        .endswith(
            "Contains public sector information licensed under the Open Government Licence v3.0."
        )
    )


def test_a_seed_stopped_in_the_public_record_is_finished_by_the_next(
    store_settings: Settings,
) -> None:
    stopping = Trustledger(store_settings.ledger_env())
    stopping.execute = stop_at(
        stopping.execute,
        "demo:public record:record Sandwell Metropolitan Borough Council's commissioner_appointed",
    )
    try:
        with pytest.raises(SeedStopped):
            seed(stopping)
    finally:
        stopping.close()

    ledger = Trustledger(store_settings.ledger_env())
    try:
        said = seed(ledger)
        last_event = ledger.recorder.max_notification_id()
        assert said["Ofsted's tables as at 31 March 2025"] == "already there"
        assert said["DfE's tables, 2013 to 2025"] == "already there"
        history = said["inspection and intervention history of Sandwell and Birmingham"]
        assert history == "completed (3 of 12 commands were missing)", history
        assert len(interventions(timeline_of(ledger, SANDWELL_ONS))) == 4

        seed(ledger)
        assert ledger.recorder.max_notification_id() == last_event
    finally:
        ledger.close()


def stop_at(execute: Callable[..., Any], key: str) -> Callable[..., Any]:
    """The ledger's `execute`, cut off at the command made under a key starting so."""

    def execute_until_stopped(run: Any, *, actor: Any, write: Write) -> Any:
        if (write.idempotency_key or "").startswith(key):
            raise SeedStopped
        return execute(run, actor=actor, write=write)

    return execute_until_stopped

"""Specifications of `trustledger demo`, on SQLite and PostgreSQL: Sandwell's contract as the
council's published papers tell it, Birmingham's beside it, and a second run that adds nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from api.demo import (
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
from api.security import verify_password
from api.settings import Settings
from domain.account import Account
from domain.application import Trustledger, Write
from domain.performance_notice import NoticeStatus, PerformanceNotice, PlanStatus
from domain.service_contract import (
    ContractStatus,
    ObligationStatus,
    Party,
    ServiceContract,
    VariationStatus,
)
from tests.conftest import STORES, settings_for

POUND = 100


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
    out = io.StringIO()
    seed_demo(ledger, out)
    report = out.getvalue().split("\n\n")[0].splitlines()[1:]
    return dict(line.strip().split(": ", 1) for line in report)


def contract_of(ledger: Trustledger, council: DemoOrganisation) -> ServiceContract:
    [contract] = [c for c in ledger.contracts() if c.council.organisation_id == str(council.id)]
    return contract


def signers(contract: ServiceContract) -> set[tuple[Party, str]]:
    return {(s.party, s.signed_by.user_id) for s in contract.signatures}


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

    second = seed(ledger)

    assert ledger.recorder.max_notification_id() == last_event
    assert first.pop("organisations and accounts") == "12 of 12 new"
    assert all(said.startswith("seeded") for said in first.values()), first
    assert set(second.values()) == {"already there"}
    assert len(ledger.contracts()) == 2


class SeedStopped(Exception):
    """The seed was cut off, as by a crash or Ctrl-C."""


def test_a_seed_that_stopped_part_way_is_finished_by_the_next(store_settings: Settings) -> None:
    stopping = Trustledger(store_settings.ledger_env())
    # The twelve organisations and accounts, then the first few steps of Sandwell's story.
    stopping.execute = stop_after(stopping.execute, commands=17)
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

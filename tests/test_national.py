"""The national dataset's generator and bulk load, at a tiny fraction of the country: two councils
and one year of history, on both stores."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import api.cli
from api.national import (
    INDICATORS,
    AlreadyLoaded,
    NationalPlan,
    build_views,
    load_history,
    national_history,
)
from api.settings import Settings
from domain.actor import Actor, Role
from domain.application import Trustledger, Write
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract
from projections.audit_log import AuditStore, Signer, examine
from projections.dashboard_view import DashboardReader, dashboard_at, rows_at
from projections.view_store import view_store

TINY = NationalPlan.of(2 / 153, years=1)
TODAY = datetime.now(UTC).date()


@pytest.fixture
def ledger(store_settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(store_settings.ledger_env())
    try:
        yield ledger
    finally:
        ledger.close()


_UUID = re.compile(r"UUID\('([0-9a-f-]{36})'\)")
_INSTANT = re.compile(r"datetime\.datetime\([^)]*\)")


def as_told(events: list[LedgerAggregate.Event]) -> list[str]:
    """Each event as its class and attributes, with the ids the domain drew for itself numbered
    in order of first appearance, and without the times the events were made."""
    numbered: dict[str, int] = {}

    def number(found: re.Match[str]) -> str:
        return f"id{numbered.setdefault(found.group(1), len(numbered))}"

    told = []
    for event in events:
        attributes = {k: v for k, v in vars(event).items() if k != "timestamp"}
        text = f"{type(event).__qualname__} {attributes!r}"
        told.append(_INSTANT.sub("instant", _UUID.sub(number, text)))
    return told


def generated(plan: NationalPlan) -> list[LedgerAggregate.Event]:
    return [
        event
        for batch in national_history(plan)
        for each in batch
        for event in cast(list[LedgerAggregate.Event], each.collect_events())
    ]


def test_the_same_plan_tells_the_same_history_twice() -> None:
    first, second = generated(TINY), generated(TINY)

    assert len(first) > 2_000
    assert as_told(first) == as_told(second)


def test_another_seed_tells_another_history() -> None:
    other = NationalPlan(TINY.authorities, TINY.years, seed=TINY.seed + 1)

    assert as_told(generated(other)) != as_told(generated(TINY))


def test_a_larger_fraction_holds_every_council_of_a_smaller_one_with_the_same_history() -> None:
    tenth, quarter = NationalPlan.of(0.1, years=1), NationalPlan.of(0.25, years=1)

    assert len(tenth.authorities) == 15
    assert len(quarter.authorities) == 38
    assert set(tenth.authorities) < set(quarter.authorities)
    grown = quarter.beyond(tenth)
    assert set(grown.authorities) == set(quarter.authorities) - set(tenth.authorities)
    [first] = NationalPlan.of(1 / 153, years=1).authorities
    alone = as_told(generated(NationalPlan((first,), years=1)))
    among_others = as_told(generated(NationalPlan.of(0.1, years=1)))
    assert alone == among_others[: len(alone)]


def test_the_whole_country_is_every_authority_with_an_ons_code() -> None:
    every = NationalPlan.of(1.0)

    assert len(every.authorities) == 153
    assert all(authority.ons_code for authority in every.authorities)
    assert every.years == 10
    assert INDICATORS == 40


def test_the_load_saves_a_council_year_per_transaction_with_an_audit_leaf_for_every_event(
    ledger: Trustledger,
) -> None:
    loaded = load_history(ledger, TINY)

    # A council's opening (registration, drafting, signing) and then each contract year.
    assert loaded.transactions == len(TINY.authorities) * (1 + TINY.years)
    assert loaded.events == ledger.recorder.max_notification_id()
    store = cast(AuditStore, ledger.recorder)
    assert store.audit_size() == loaded.events
    key = Signer("trustledger.test/national", Ed25519PrivateKey.generate()).verifier_key
    assert list(examine(store, key)) == []


def test_a_second_load_of_the_same_councils_is_refused_and_writes_nothing(
    ledger: Trustledger,
) -> None:
    load_history(ledger, TINY)
    head = ledger.recorder.max_notification_id()

    with pytest.raises(AlreadyLoaded, match="already holds 2 of these 2 councils"):
        load_history(ledger, TINY)

    assert ledger.recorder.max_notification_id() == head


def test_the_load_grows_by_the_councils_a_larger_fraction_adds(ledger: Trustledger) -> None:
    one = NationalPlan.of(1 / 153, years=1)
    first = load_history(ledger, one)

    grown = load_history(ledger, TINY.beyond(one))

    assert ledger.recorder.max_notification_id() == first.events + grown.events
    assert len(ledger.contracts()) == 2


def test_the_dashboards_built_from_the_load_agree_with_the_ledger(
    ledger: Trustledger, store_settings: Settings
) -> None:
    load_history(ledger, TINY)
    env = store_settings.ledger_env()

    build_views(ledger, env)

    reader = DashboardReader(view_store(env))
    assert reader.position() == ledger.recorder.max_notification_id()
    contracts = ledger.contracts()
    assert len(contracts) == len(TINY.authorities)
    head = ledger.recorder.max_notification_id() or 0
    for contract in contracts:
        shown = reader.dashboard(contract.id, TODAY)
        assert shown is not None
        assert shown == dashboard_at(ledger, contract.id, head, TODAY)
        whole_log, _ = rows_at(ledger, head)
        assert shown.contract == whole_log[contract.id][0]
        assert len(shown.contract.kpis) == INDICATORS
        for line in shown.contract.kpis:
            series = ledger.get(IndicatorSeries.id_for(contract.id, line.code), IndicatorSeries)
            latest = series.latest()
            assert latest is not None
            assert line.latest is not None
            assert (line.latest.period, line.latest.value) == (latest.period.label, latest.value)
            assert line.restatements == sum(r.restated for r in series.returns.values())
            assert line.open_queries == sum(len(r.open_queries) for r in series.returns.values())
    lines = reader.portfolio(None, TODAY)
    assert sorted(line.row.contract_id for line in lines) == sorted(c.id for c in contracts)


def test_generate_loads_prints_its_rate_and_refuses_to_load_twice(
    store_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTLEDGER_VAR_DIR", str(store_settings.var_dir))
    if store_settings.database_schema is not None:
        monkeypatch.setenv("TRUSTLEDGER_DATABASE_SCHEMA", store_settings.database_schema)
    url = store_settings.database_url or f"sqlite:///{tmp_path / 'national.sqlite3'}"
    command = ["generate", "--national", "--fraction", "0.007", "--years", "1"]

    first = io.StringIO()
    monkeypatch.setattr("sys.stdout", first)
    assert api.cli.main([*command, "--database-url", url]) == 0
    again = io.StringIO()
    monkeypatch.setattr("sys.stdout", again)
    assert api.cli.main([*command, "--database-url", url]) == 1

    printed = first.getvalue()
    assert "generating 1 councils x 1 years x 40 KPIs monthly" in printed
    assert re.search(
        r"councils' histories \(bulk path\): \d+ events in [\d.]+ s, [\d,]+ events/s", printed
    )
    assert re.search(r"views built: \d+ events", printed)
    assert "refused: the ledger already holds 1 of the 1 councils" in again.getvalue()
    ledger = Trustledger(Settings(database_url=url).ledger_env())
    try:
        [contract] = ledger.contracts()
        assert isinstance(contract, ServiceContract)
        assert len(contract.kpi_schedule) == INDICATORS
    finally:
        ledger.close()


def test_a_contract_as_at_a_position_beyond_the_views_is_read_from_the_log(
    ledger: Trustledger, store_settings: Settings
) -> None:
    load_history(ledger, TINY)
    build_views(ledger, store_settings.ledger_env())
    contract = ledger.contracts()[0]
    before = ledger.recorder.max_notification_id() or 0

    issued = ledger.create(lambda _: notice_on(contract), actor=council_of(contract), write=Write())

    now = dashboard_at(ledger, contract.id, issued.position, TODAY)
    then = dashboard_at(ledger, contract.id, before, TODAY)
    assert now is not None
    assert then is not None
    assert issued.value in {notice.notice_id for notice in now.contract.open_notices}
    assert issued.value not in {notice.notice_id for notice in then.contract.open_notices}
    whole_log, _ = rows_at(ledger, issued.position)
    assert now.contract == whole_log[contract.id][0]
    assert dashboard_at(ledger, contract.id, 0, TODAY) is None


def test_a_reader_shows_a_contracts_row_again_once_the_view_has_changed_it(
    ledger: Trustledger, store_settings: Settings
) -> None:
    load_history(ledger, TINY)
    env = store_settings.ledger_env()
    build_views(ledger, env)
    reader = DashboardReader(view_store(env))
    contract = ledger.contracts()[0]
    before = reader.dashboard(contract.id, TODAY)
    assert before is not None
    assert reader.dashboard(contract.id, TODAY) == before

    issued = issue_notice(ledger, contract)
    build_views(ledger, env)

    after = reader.dashboard(contract.id, TODAY)
    assert after is not None
    assert issued in {notice.notice_id for notice in after.contract.open_notices}
    assert issued not in {notice.notice_id for notice in before.contract.open_notices}


def council_of(contract: ServiceContract) -> Actor:
    return Actor(
        user_id="council", organisation_id=contract.council.organisation_id, role=Role.COMMISSIONER
    )


def notice_on(contract: ServiceContract) -> PerformanceNotice:
    return PerformanceNotice.issue(
        contract_id=contract.id,
        council_organisation_id=contract.council.organisation_id,
        trust_organisation_id=contract.trust.organisation_id,
        grounds="Returns late three months running",
        clauses=["Schedule 4"],
        remedy="Returns on time",
        response_due=date(2027, 1, 15),
        issued_on=date(2026, 12, 1),
        actor=council_of(contract),
    )


def issue_notice(ledger: Trustledger, contract: ServiceContract) -> UUID:
    issued: UUID = ledger.create(
        lambda _: notice_on(contract), actor=council_of(contract), write=Write()
    ).value
    return issued


@pytest.mark.parametrize("fraction", ["0", "1.5", "-0.1"])
def test_generate_refuses_a_fraction_outside_0_to_1(
    fraction: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        api.cli.main(["generate", "--national", "--fraction", fraction])

    assert refused.value.code == 2
    assert f"a fraction is above 0 and at most 1, not {float(fraction)}" in capsys.readouterr().err

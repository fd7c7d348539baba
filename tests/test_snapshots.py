"""Snapshots of KPI series are a cache, on both stores: every read, of now or as at any past
position, gives the same aggregate from them as a ledger that keeps none gives by replaying every
event, and they stay out of the log that the audit log and the projections follow.

Snapshots are taken here every few events, far more often than in service, so that a short
history holds many of them and most positions fall between two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, cast
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import domain.application
from api.national import NationalPlan, national_history
from api.settings import Settings
from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.service_contract import ServiceContract
from domain.transcodings import STATES, AggregateSnapshot
from projections.audit_log import AuditStore
from tests.domain.test_kpi_schedule import A1
from tests.test_as_at import a_life

EVERY = 3


@pytest.fixture
def ledgers(
    store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Trustledger, Trustledger]]:
    """A ledger that snapshots, and one over the same store that keeps none."""
    monkeypatch.setitem(domain.application.SNAPSHOT_EVERY, IndicatorSeries, EVERY)
    env = store_settings.ledger_env()
    ledger = Trustledger(env)
    replaying = Trustledger({**env, "IS_SNAPSHOTTING_ENABLED": "n"})
    assert replaying.snapshots is None
    yield ledger, replaying
    replaying.close()
    ledger.close()


def typed(value: Any) -> Any:
    """A value with the type of everything in it, so that a tuple read back as a list, or an
    enum as its bare string, is told apart (they compare equal to Python)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value), tuple((f.name, typed(getattr(value, f.name))) for f in fields))
    if isinstance(value, dict):
        return (type(value), tuple((typed(k), typed(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list, frozenset)):
        return (type(value), tuple(typed(item) for item in value))
    return (type(value), value)


def held(aggregate: LedgerAggregate) -> Any:
    return type(aggregate), sorted((name, typed(v)) for name, v in vars(aggregate).items())


def load_council(ledger: Trustledger) -> list[UUID]:
    """Two years of one council's national history, by the bulk path; its aggregates' ids."""
    ids: list[UUID] = []
    for batch in national_history(NationalPlan.of(1 / 1000, years=2)):
        ledger.save(*batch)
        ids += [each.id for each in batch if each.id not in ids]
    return ids


def snapshots_of(ledger: Trustledger, aggregate_ids: list[UUID]) -> int:
    assert ledger.snapshots is not None
    return sum(len(list(ledger.snapshots.get(each))) for each in aggregate_ids)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_as_at_any_position_the_aggregates_are_as_replaying_every_event_makes_them(
    ledgers: tuple[Trustledger, Trustledger], data: st.DataObject
) -> None:
    ledger, replaying = ledgers
    if ledger.recorder.max_notification_id() is None:
        load_council(ledger)
    head = ledger.recorder.max_notification_id() or 0
    ids = [n.originator_id for n in ledger.notifications(ServiceContract.Drafted)]
    [contract_id] = ids
    ids += [
        IndicatorSeries.id_for(contract_id, code)
        for code in ledger.get(contract_id, ServiceContract).kpi_schedule
    ]
    position = data.draw(st.integers(min_value=0, max_value=head), label="position")

    from_snapshots = ledger.aggregates_at(ids, position)
    replayed = replaying.aggregates_at(ids, position)

    assert from_snapshots.keys() == replayed.keys()
    for aggregate_id, aggregate in from_snapshots.items():
        assert held(aggregate) == held(replayed[aggregate_id])


def test_the_bulk_load_snapshots_each_series_as_it_grows(
    ledgers: tuple[Trustledger, Trustledger],
) -> None:
    ledger, replaying = ledgers
    ids = load_council(ledger)

    assert snapshots_of(ledger, ids) > len(ids)
    for aggregate_id in ids:
        now = ledger.get(aggregate_id, LedgerAggregate)
        assert held(now) == held(replaying.get(aggregate_id, LedgerAggregate))


def test_commands_through_the_writer_snapshot_and_read_as_at_each_step_as_replayed(
    ledgers: tuple[Trustledger, Trustledger],
) -> None:
    ledger, replaying = ledgers
    contract_id, steps = a_life(ledger)
    ids = [contract_id, IndicatorSeries.id_for(contract_id, A1.code)]

    assert snapshots_of(ledger, ids) >= 1
    for step in steps:
        position = ledger.as_at(step.instant).position
        from_snapshots = ledger.aggregates_at(ids, position)
        replayed = replaying.aggregates_at(ids, position)
        assert {k: held(v) for k, v in from_snapshots.items()} == {
            k: held(v) for k, v in replayed.items()
        }


def test_snapshots_stay_out_of_the_log_and_the_audit_log(
    ledgers: tuple[Trustledger, Trustledger],
) -> None:
    ledger, _ = ledgers
    ids = load_council(ledger)
    head = ledger.recorder.max_notification_id() or 0

    logged = ledger.recorder.select_notifications(start=1, limit=head + 1)
    assert snapshots_of(ledger, ids) > 0
    assert len(logged) == head
    assert not [n for n in logged if "Snapshot" in n.topic]
    assert cast(AuditStore, ledger.recorder).audit_size() == head


def test_a_snapshot_refuses_an_attribute_it_has_no_declared_type_for(
    ledgers: tuple[Trustledger, Trustledger],
) -> None:
    ledger, _ = ledgers
    load_council(ledger)
    [drafted] = ledger.notifications(ServiceContract.Drafted)
    contract = ledger.get(drafted.originator_id, ServiceContract)
    series = ledger.get(IndicatorSeries.id_for(contract.id, "rereferrals_12m"), IndicatorSeries)
    series.__dict__["remembered"] = {1, 2}

    with pytest.raises(TypeError, match="remembered"):
        AggregateSnapshot.take(series)


def test_snapshots_taken_before_the_state_changed_shape_are_passed_over_for_the_events(
    ledgers: tuple[Trustledger, Trustledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a council's series snapshotted as they grew
    ledger, replaying = ledgers
    ids = load_council(ledger)
    series_ids = [each for each in ids if ledger.snapshots and list(ledger.snapshots.get(each))]
    assert series_ids
    head = ledger.recorder.max_notification_id() or 0

    # When a release changes what a series holds, so that every snapshot is of an older shape
    monkeypatch.setattr(STATES[IndicatorSeries], "shape", "a series as a later release has it")

    # Then reads of now and as at the past replay the events, as a ledger without snapshots does
    for series_id in series_ids:
        now = ledger.get(series_id, IndicatorSeries)
        assert held(now) == held(replaying.get(series_id, IndicatorSeries))
    for position in (head // 3, head):
        assert {k: held(v) for k, v in ledger.aggregates_at(series_ids, position).items()} == {
            k: held(v) for k, v in replaying.aggregates_at(series_ids, position).items()
        }

"""The views in their tables, on SQLite and PostgreSQL: kept exactly once, and rebuilt from the
whole log into exactly the rows that were maintained live."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from api.demo import SANDWELL_COUNCIL
from api.schemas.dashboards import DashboardView, PortfolioView
from api.settings import Settings
from domain.application import Trustledger
from domain.ledger import LedgerAggregate
from projections.activity_view import ACTIVITY, ActivityReader
from projections.dashboard import fold, rows_of
from projections.dashboard_view import DASHBOARD, DashboardReader
from projections.view_store import ViewSpec, ViewStore, tracking_name
from projections.worker import VIEWS, ProjectionWorker, request_rebuild, run_workers
from tests.domain.specs import COMMISSIONER, PROVIDER
from tests.projections.builders import with_two_quarters
from tests.test_demo import TODAY, contract_of, seed

# Long enough for any healthy worker on a loaded machine; only a broken one waits it out.
PATIENCE_SECONDS = 60.0


def eventually(holds: Callable[[], bool], what: str) -> None:
    """Wait until `holds()`, polling with the library's back-off; fail if it never does."""
    waiting = threading.Event()
    interval, waited = 0.01, 0.0
    while not holds():
        assert waited < PATIENCE_SECONDS, f"still waiting for {what}"
        waiting.wait(interval)
        waited += interval
        interval = min(interval * 2, 0.2)


def every_row(store: ViewStore, spec: ViewSpec) -> dict[str, list[dict[str, Any]]]:
    """Every row the readers see, table by table, in key order."""
    return {
        table.name: sorted(
            store.query("SELECT * FROM {read}", read=table.name),
            key=lambda row, table=table: tuple(row[column] for column in table.key),  # type: ignore[misc]
        )
        for table in spec.tables
    }


def caught_up(worker: ProjectionWorker) -> None:
    while worker.run_once():
        pass


def events_of(ledger: Trustledger) -> list[tuple[LedgerAggregate.Event, int]]:
    found = ledger.recorder.select_notifications(None, 100_000)
    return [(ledger.mapper.to_domain_event(n), n.id) for n in found]  # type: ignore[misc]


def test_an_event_delivered_again_changes_no_row(ledger: Trustledger, store: ViewStore) -> None:
    history = with_two_quarters()
    ledger.events.put(history.events)
    store.prepare(DASHBOARD)
    worker = ProjectionWorker(VIEWS["dashboard"], ledger, store)
    caught_up(worker)
    before = every_row(store, DASHBOARD)
    [*_, (last, position)] = events_of(ledger)

    # Delivered again with its own position, by this worker or by one restarted since.
    restarted = ProjectionWorker(VIEWS["dashboard"], ledger, store).projection(1)
    for projection in (worker.projection(1), restarted):
        with pytest.raises(IntegrityError):
            projection.process([(last, position)], position)
        assert every_row(store, DASHBOARD) == before
    assert store.position("dashboard") == position

    # Delivered again within a later batch: only the new event counts.
    assert history.series is not None
    history.series.query_return(
        period_label="2024-25 Q2", question="why the fall?", actor=COMMISSIONER
    )
    history.record(history.series)
    ledger.events.put(history.events[-1:])
    [*_, (queried, head)] = events_of(ledger)
    worker.projection(1).process([(last, position), (queried, head)], head)

    [dashboard] = DashboardReader(store).portfolio(None, date(2024, 11, 1))
    contracts, _ = rows_of(fold(history.events))
    [(expected, _)] = contracts.values()
    stored = DashboardReader(store).dashboard(history.contract.id, date(2024, 11, 1))
    assert stored is not None
    assert stored.contract == expected
    assert stored.contract.kpis[0].open_queries == 1
    assert dashboard.row.contract_id == history.contract.id


def test_a_reader_serialises_a_row_once_per_version_and_answers_with_the_whole_views_json(
    ledger: Trustledger, store: ViewStore
) -> None:
    history = with_two_quarters()
    ledger.events.put(history.events)
    store.prepare(DASHBOARD)
    worker = ProjectionWorker(VIEWS["dashboard"], ledger, store)
    caught_up(worker)
    reader, day = DashboardReader(store), date(2024, 11, 1)

    first = reader.dashboard(history.contract.id, day)
    again = reader.dashboard(history.contract.id, day)
    assert first is not None
    assert again is not None
    assert again.contract is first.contract
    made = reader.contract_json(first.contract)
    assert made == first.contract.model_dump_json().encode()
    board = DashboardView(dashboard=first, benchmarks={}, position=7, attribution=None)
    assert board.to_json(made) == board.model_dump_json().encode()
    assert board.to_json(None) == board.model_dump_json().encode()
    [line] = reader.portfolio(None, day)
    assert reader.portfolio(None, day) == [line]
    portfolio = PortfolioView(contracts=[line], today=day, position=7, attribution=None)
    assert portfolio.to_json([reader.line_json(line)]) == portfolio.model_dump_json().encode()

    # The contract's next event makes its rows anew; what was made of the old ones is not used.
    assert history.series is not None
    history.series.query_return(
        period_label="2024-25 Q2", question="why the fall?", actor=COMMISSIONER
    )
    history.record(history.series)
    ledger.events.put(history.events[-1:])
    caught_up(worker)
    later = reader.dashboard(history.contract.id, day)
    assert later is not None
    assert later.contract.kpis[0].open_queries == 1
    assert reader.contract_json(first.contract) is None
    assert reader.contract_json(later.contract) == later.contract.model_dump_json().encode()
    [next_day] = reader.portfolio(None, date(2024, 11, 2))
    assert reader.line_json(line) is None
    assert reader.line_json(next_day) == next_day.model_dump_json().encode()


def test_a_rebuilt_view_equals_the_view_maintained_live_row_for_row(
    ledger: Trustledger, store: ViewStore, store_settings: Settings
) -> None:
    env = store_settings.ledger_env()
    stop = threading.Event()
    workers = threading.Thread(target=run_workers, args=(sorted(VIEWS), env, stop))
    workers.start()
    try:
        # Live: the workers follow the demo's seed as it is written.
        seed(ledger)
        head = ledger.recorder.max_notification_id() or 0
        for name in VIEWS:
            eventually(lambda name=name: readable_position(store, name) >= head, f"{name} live")
        live = {name: every_row(store, view.spec) for name, view in VIEWS.items()}
        dashboards = DashboardReader(store)
        sandwell = contract_of(ledger, SANDWELL_COUNCIL)
        live_dashboard = dashboards.dashboard(sandwell.id, TODAY)

        for name in VIEWS:
            assert request_rebuild(name, env) == 2
        for name in VIEWS:
            eventually(
                lambda name=name: (
                    store.versions(name).current == 2 and store.position(name) >= head
                ),
                f"{name} rebuilt",
            )
        rebuilt = {name: every_row(store, view.spec) for name, view in VIEWS.items()}
    finally:
        stop.set()
        workers.join()

    assert rebuilt == live
    assert all(live["dashboard"].values()), "the demo fills every table"
    assert dashboards.dashboard(sandwell.id, TODAY) == live_dashboard
    # And both are what the pure fold makes of the whole log, as an "as at" read would.
    contracts, authorities = rows_of(fold(event for event, _ in events_of(ledger)))
    assert live_dashboard is not None
    assert live_dashboard.contract == contracts[sandwell.id][0]
    assert live_dashboard.ofsted == authorities[sandwell.council.ons_code]
    assert live_dashboard.contract.kpis, "Sandwell's KPIs are on its dashboard"


def test_the_activity_feed_pages_newest_first(ledger: Trustledger, store: ViewStore) -> None:
    history = with_two_quarters()
    ledger.events.put(history.events)
    store.prepare(ACTIVITY)
    caught_up(ProjectionWorker(VIEWS["activity"], ledger, store))
    reader = ActivityReader(store)

    first, second = (reader.activity(history.contract.id, page, size=3) for page in (1, 2))

    positions = [e.position for e in first.entries + second.entries]
    assert positions == sorted(positions, reverse=True)
    assert first.total == second.total == len(history.events)
    assert [e.what for e in first.entries] == [
        "return submitted",
        "return submitted",
        "KPI series started",
    ]
    assert first.entries[0].user_id == PROVIDER.user_id
    assert [e.what for e in second.entries] == [
        "contract signed",
        "contract signed",
        "KPI scheduled",
    ]


def readable_position(store: ViewStore, name: str) -> int:
    """The view's position, 0 until a worker has made its tables."""
    try:
        return store.position(name)
    except Exception:  # noqa: BLE001 - the worker may not have made the view's tables yet
        return 0


def test_a_batch_naming_a_row_twice_keeps_its_last_and_stores_absent_values(
    store: ViewStore,
) -> None:
    store.prepare(ACTIVITY)
    series, notice = "series-id", "notice-id"

    store.write(
        ACTIVITY,
        1,
        {
            "activity_members": [
                (series, "first-contract", "A1"),
                (notice, "a-contract", None),
                (series, "second-contract", None),
            ]
        },
        Tracking(tracking_name(ACTIVITY.name, 1), 3),
    )

    assert every_row(store, ACTIVITY)["activity_members"] == [
        {"aggregate_id": notice, "contract_id": "a-contract", "kpi": None},
        {"aggregate_id": series, "contract_id": "second-contract", "kpi": None},
    ]
    assert store.position(ACTIVITY.name) == 3

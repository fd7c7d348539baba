"""What `/metrics` and `/health` are told of each view's lag, with time passed in."""

from __future__ import annotations

from domain.application import Trustledger
from projections.dashboard_view import DASHBOARD
from projections.lag import LagMonitor, prometheus_text, stalled
from projections.view_store import ViewStore
from projections.worker import VIEWS, ProjectionWorker
from tests.clock import Clock
from tests.projections.builders import with_two_quarters
from tests.projections.test_views import caught_up


def test_a_view_behind_and_still_is_stalled_until_it_moves(
    ledger: Trustledger, store: ViewStore
) -> None:
    ledger.events.put(with_two_quarters().events)
    head = ledger.recorder.max_notification_id() or 0
    store.prepare(DASHBOARD)
    clock = Clock()
    monitor = LagMonitor(
        store, ledger.recorder.max_notification_id, ["dashboard"], stall_after=30, clock=clock
    )

    [first] = monitor.observe()
    assert (first.position, first.head, first.behind) == (0, head, head)
    assert first.events_per_second is None
    assert not first.stalled

    clock.now += 30
    [still] = monitor.observe()
    assert still.stalled
    assert stalled([still]) == ["dashboard"]
    assert still.events_per_second == 0

    caught_up(ProjectionWorker(VIEWS["dashboard"], ledger, store))
    clock.now += 10
    [moved] = monitor.observe()
    assert (moved.position, moved.behind, moved.stalled) == (head, 0, False)
    assert moved.events_per_second == head / 40


def test_the_figures_are_exposed_in_prometheus_text_format(
    ledger: Trustledger, store: ViewStore
) -> None:
    ledger.events.put(with_two_quarters().events)
    head = ledger.recorder.max_notification_id() or 0
    store.prepare(DASHBOARD)
    clock = Clock()
    monitor = LagMonitor(store, ledger.recorder.max_notification_id, ["dashboard"], clock=clock)

    text = prometheus_text(monitor.observe())

    assert f"trustledger_ledger_head {head}\n" in text
    assert 'trustledger_view_position{view="dashboard"} 0\n' in text
    assert f'trustledger_view_events_behind{{view="dashboard"}} {head}\n' in text
    assert 'trustledger_view_stalled{view="dashboard"} 0\n' in text
    assert "# TYPE trustledger_view_events_per_second gauge\n" in text
    assert "trustledger_view_events_per_second{" not in text, "no rate from one sample"

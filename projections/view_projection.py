"""The thin part of a view: take events in batches, turn them into rows with the view's fold, and
write the rows and the tracking position in one transaction (`ViewStore.write`).

`process_event` is the library's one-event interface (`eventsourcing.projection.Projection`), so
the library's own `ProjectionRunner` can drive a view (the benchmark's baseline does); the
worker calls `process` with many events at once. Both go through the same code.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.application import Trustledger
from domain.ledger import LedgerAggregate
from projections.view_store import Row, ViewSpec, ViewStore, tracking_name


class ViewProjection(Projection[ViewStore]):
    """One version of one view, folding the ledger's events into that version's tables."""

    spec: ViewSpec

    def __init__(self, view: ViewStore, *, ledger: Trustledger, version: int) -> None:
        super().__init__(view)
        self.ledger = ledger
        self.version = version
        self.tracking_name = tracking_name(self.spec.name, version)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.process([(domain_event, tracking.notification_id)], tracking.notification_id)

    def process(
        self, events: Sequence[tuple[DomainEventProtocol[Any], int]], position: int
    ) -> None:
        """Fold the events (the log's, of this view's topics, each with its position, up to
        `position`) and record the rows with `position` as this version's tracking, all or
        nothing."""
        try:
            rows = self.rows_for(
                [(e, at) for e, at in events if isinstance(e, LedgerAggregate.Event)]
            )
            self.view.write(self.spec, self.version, rows, Tracking(self.tracking_name, position))
        except BaseException:
            # What was folded in memory may now be ahead of what was stored: start again from
            # the stored rows.
            self.forget()
            raise

    @abstractmethod
    def rows_for(
        self, events: Sequence[tuple[LedgerAggregate.Event, int]]
    ) -> Mapping[str, Sequence[Row]]:
        """The rows, by table, that these events (each with its position) change."""

    @abstractmethod
    def forget(self) -> None:
        """Drop what is held in memory, so the next batch reads it from the tables."""

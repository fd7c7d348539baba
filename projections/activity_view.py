"""The activity feed's tables, its projection and its read.

`activity` holds one row per entry, keyed by (contract, position), so a page newest first is one
scan of that key backwards. `activity_members` says which contract (and KPI) each series and
notice belongs to, since only the event that starts one names its contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ServiceContract
from projections.activity import CONTRACT_KINDS, ActivityEntry, entry
from projections.events import topics_of
from projections.view_projection import ViewProjection
from projections.view_store import Row, Table, ViewSpec, ViewStore, versioned

ACTIVITY = ViewSpec(
    name="activity",
    tables=(
        Table(
            name="activity",
            columns=(
                ("contract_id", "TEXT NOT NULL"),
                ("position", "BIGINT NOT NULL"),
                ("entry", "TEXT NOT NULL"),
            ),
            key=("contract_id", "position"),
        ),
        Table(
            name="activity_members",
            columns=(
                ("aggregate_id", "TEXT NOT NULL"),
                ("contract_id", "TEXT NOT NULL"),
                ("kpi", "TEXT"),
            ),
            key=("aggregate_id",),
        ),
    ),
)


@dataclass(frozen=True)
class Belonging:
    contract_id: UUID
    kpi: str | None


class ActivityProjection(ViewProjection):
    spec = ACTIVITY
    topics = topics_of(*CONTRACT_KINDS)

    def __init__(self, view: ViewStore, *, ledger: Trustledger, version: int) -> None:
        super().__init__(view, ledger=ledger, version=version)
        self.belonging: dict[UUID, Belonging] = {}
        self._members = versioned("activity_members", version)

    def forget(self) -> None:
        self.belonging = {}

    def rows_for(
        self, events: Sequence[tuple[LedgerAggregate.Event, int]]
    ) -> Mapping[str, Sequence[Row]]:
        entries: list[Row] = []
        members: list[Row] = []
        for event, position in events:
            belongs = self._belonging(event)
            if belongs is None:
                continue
            made = entry(event, position, belongs.contract_id, belongs.kpi)
            entries.append((str(belongs.contract_id), position, made.model_dump_json()))
            if isinstance(event, IndicatorSeries.Started | PerformanceNotice.Issued):
                members.append((str(event.originator_id), str(belongs.contract_id), belongs.kpi))
        return {"activity": entries, "activity_members": members}

    def _belonging(self, event: LedgerAggregate.Event) -> Belonging | None:
        found = self.belonging.get(event.originator_id)
        if found is not None:
            return found
        if isinstance(event, ServiceContract.Event):
            found = Belonging(event.originator_id, None)
        elif isinstance(event, IndicatorSeries.Started):
            found = Belonging(event.contract_id, event.indicator.code)
        elif isinstance(event, PerformanceNotice.Issued):
            found = Belonging(event.contract_id, None)
        else:
            rows = self.view.query(
                "SELECT contract_id, kpi FROM {members} WHERE aggregate_id=?",
                (str(event.originator_id),),
                members=self._members,
            )
            if rows:
                found = Belonging(UUID(rows[0]["contract_id"]), rows[0]["kpi"])
        if found is not None:
            self.belonging[event.originator_id] = found
        return found


@dataclass(frozen=True)
class ActivityPage:
    entries: list[ActivityEntry]  # newest first
    page: int
    size: int
    total: int


class ActivityReader:
    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def position(self) -> int:
        return self.store.position(ACTIVITY.name)

    def activity(self, contract_id: UUID, page: int = 1, size: int = 50) -> ActivityPage:
        """A page of the contract's feed, newest first; pages count from 1."""
        rows = self.store.query(
            "SELECT entry, (SELECT COUNT(*) FROM {activity} WHERE contract_id=?) AS total "
            "FROM {activity} WHERE contract_id=? ORDER BY position DESC LIMIT ? OFFSET ?",
            (str(contract_id), str(contract_id), size, (page - 1) * size),
        )
        total = int(rows[0]["total"]) if rows else self._total(contract_id)
        return ActivityPage(
            entries=[ActivityEntry.model_validate_json(row["entry"]) for row in rows],
            page=page,
            size=size,
            total=total,
        )

    def _total(self, contract_id: UUID) -> int:
        [row] = self.store.query(
            "SELECT COUNT(*) AS total FROM {activity} WHERE contract_id=?", (str(contract_id),)
        )
        return int(row["total"])

"""The dashboard view's tables, its projection, and the reads the API serves from them.

Three tables, each read by its key in one query:
- `dashboard_contracts`: per contract, its dashboard and its portfolio row (JSON), with the
  parties' organisation ids beside them for the API's authorisation;
- `dashboard_authorities`: per local authority, its Ofsted record and latest overall grade,
  joined to a contract by its ONS code;
- `dashboard_members`: which contract or authority each aggregate belongs to, and the version
  the stored rows were made from, so that a worker restarted mid-stream reloads exactly the
  aggregates the rows were made from (`repository.get(id, version=...)`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.application import Trustledger
from domain.indicator_series import IndicatorSeries
from domain.inspection import Grade, Inspection
from domain.ledger import LedgerAggregate
from domain.performance_notice import PerformanceNotice
from domain.service_contract import ContractStatus, ServiceContract
from projections.dashboard import (
    FOLDED_KINDS,
    ActionLine,
    ContractDashboard,
    Folded,
    MeetingLine,
    OfstedRecord,
    PortfolioRow,
    fold,
    rows_of,
    status_on,
)
from projections.events import declared_events, topics_of
from projections.view_projection import ViewProjection
from projections.view_store import Row, Table, ViewSpec, ViewStore, versioned, view_store

DASHBOARD = ViewSpec(
    name="dashboard",
    tables=(
        Table(
            name="dashboard_contracts",
            columns=(
                ("contract_id", "TEXT NOT NULL"),
                ("council_organisation_id", "TEXT NOT NULL"),
                ("trust_organisation_id", "TEXT NOT NULL"),
                ("ons_code", "TEXT NOT NULL"),
                ("dashboard", "TEXT NOT NULL"),
                ("portfolio", "TEXT NOT NULL"),
            ),
            key=("contract_id",),
        ),
        Table(
            name="dashboard_authorities",
            columns=(
                ("ons_code", "TEXT NOT NULL"),
                ("latest_grade", "TEXT"),
                ("ofsted", "TEXT NOT NULL"),
            ),
            key=("ons_code",),
        ),
        Table(
            name="dashboard_members",
            columns=(
                ("aggregate_id", "TEXT NOT NULL"),
                ("owner", "TEXT NOT NULL"),
                ("version", "BIGINT NOT NULL"),
            ),
            key=("aggregate_id",),
            indexes=(("owner",),),
        ),
    ),
)


class DashboardProjection(ViewProjection):
    spec = DASHBOARD
    topics = topics_of(*FOLDED_KINDS)

    def __init__(self, view: ViewStore, *, ledger: Trustledger, version: int) -> None:
        super().__init__(view, ledger=ledger, version=version)
        self.folded = Folded()
        self.loaded: set[str] = set()
        self._members = versioned("dashboard_members", version)

    def forget(self) -> None:
        self.folded = Folded()
        self.loaded = set()

    def rows_for(
        self, events: Sequence[tuple[LedgerAggregate.Event, int]]
    ) -> Mapping[str, Sequence[Row]]:
        owners = self._owners([event for event, _ in events])
        self._load(set(owners.values()))
        changed: dict[UUID, str] = {}
        for event, _ in events:
            owner = owners.get(event.originator_id)
            if owner is None:
                continue
            aggregate = self.folded.apply(event)
            if aggregate is not None:
                changed[aggregate.id] = owner
        contracts, authorities = rows_of(self.folded, set(changed.values()))
        return {
            "dashboard_contracts": [
                (
                    str(contract_id),
                    dashboard.council.organisation_id,
                    dashboard.trust.organisation_id,
                    dashboard.ons_code,
                    dashboard.model_dump_json(),
                    portfolio.model_dump_json(),
                )
                for contract_id, (dashboard, portfolio) in contracts.items()
            ],
            "dashboard_authorities": [
                (
                    ons_code,
                    None if record.latest_grade is None else record.latest_grade.value,
                    record.model_dump_json(),
                )
                for ons_code, record in authorities.items()
            ],
            "dashboard_members": [
                (str(aggregate_id), owner, self.folded.aggregates[aggregate_id].version)
                for aggregate_id, owner in changed.items()
            ],
        }

    def _owners(self, events: Sequence[LedgerAggregate.Event]) -> dict[UUID, str]:
        """The owner of each event's aggregate: named by the event that starts it, or held in
        memory, or else in the members table, asked once for the whole batch. Aggregates with
        no owner (none of the dashboard's) are left out."""
        owners: dict[UUID, str] = {}
        unknown: set[UUID] = set()
        for event in events:
            aggregate_id = event.originator_id
            if aggregate_id in owners:
                continue
            owner = _named_owner(event) or self.folded.owners.get(aggregate_id)
            if owner is None:
                unknown.add(aggregate_id)
            else:
                owners[aggregate_id] = owner
        for member in self._members_where(
            "aggregate_id", sorted(map(str, unknown - owners.keys()))
        ):
            owners[UUID(member["aggregate_id"])] = member["owner"]
        return owners

    def _load(self, owners: set[str]) -> None:
        """The aggregates of these contracts and authorities as the stored rows were made from
        them, for those not yet in memory."""
        wanted = owners - self.loaded
        for member in self._members_where("owner", sorted(wanted)):
            aggregate_id = UUID(member["aggregate_id"])
            if aggregate_id not in self.folded.aggregates:
                aggregate: LedgerAggregate = self.ledger.repository.get(
                    aggregate_id, version=member["version"]
                )
                assert isinstance(aggregate, _AGGREGATE_KINDS)
                self.folded.add(aggregate)
        self.loaded |= wanted

    def _members_where(
        self, column: Literal["aggregate_id", "owner"], values: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The members rows whose `column` is one of `values`, a few hundred to a query."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(values), _IN_LIST):
            chunk = values[start : start + _IN_LIST]
            statement = _MEMBERS_WHERE[column] + "(" + ", ".join("?" for _ in chunk) + ")"
            found += self.view.query(statement, chunk, members=self._members)
        return found


_AGGREGATE_KINDS = (ServiceContract, IndicatorSeries, PerformanceNotice, Inspection)
# Values in one `IN` list: under the 999 parameters a statement may have in older SQLite.
_IN_LIST = 500
_MEMBERS_WHERE = {
    "aggregate_id": "SELECT aggregate_id, owner, version FROM {members} WHERE aggregate_id IN ",
    "owner": "SELECT aggregate_id, owner, version FROM {members} WHERE owner IN ",
}


def _named_owner(event: LedgerAggregate.Event) -> str | None:
    """The owner an aggregate's first event names."""
    if isinstance(event, ServiceContract.Drafted):
        return str(event.originator_id)
    if isinstance(event, IndicatorSeries.Started | PerformanceNotice.Issued):
        return str(event.contract_id)
    if isinstance(event, Inspection.Recorded):
        return event.ons_code
    return None


# -- reading -------------------------------------------------------------------------------------


class Dashboard(BaseModel):
    """A contract's dashboard as read on a day: the stored row, its authority's Ofsted record,
    and what that day decides."""

    model_config = ConfigDict(frozen=True)

    today: date
    contract: ContractDashboard
    ofsted: OfstedRecord | None
    status: ContractStatus
    overdue_returns: dict[str, list[str]]  # by KPI code, the periods overdue
    overdue_notices: list[UUID]
    next_meeting: MeetingLine | None
    overdue_actions: list[ActionLine]

    @classmethod
    def on(cls, today: date, contract: ContractDashboard, ofsted: OfstedRecord | None) -> Dashboard:
        governance = contract.governance
        return cls(
            today=today,
            contract=contract,
            ofsted=ofsted,
            status=contract.status(today),
            overdue_returns={
                kpi.code: overdue for kpi in contract.kpis if (overdue := kpi.overdue(today))
            },
            overdue_notices=[n.notice_id for n in contract.open_notices if n.is_overdue(today)],
            next_meeting=next(
                (m for m in governance.scheduled_meetings if m.scheduled_for >= today), None
            ),
            overdue_actions=[a for a in governance.open_actions if a.due_on < today],
        )


class PortfolioLine(BaseModel):
    """One contract in the portfolio as read on a day."""

    model_config = ConfigDict(frozen=True)

    row: PortfolioRow
    status: ContractStatus
    overdue_returns: int
    overdue_notices: int
    latest_ofsted_grade: Grade | None


# A contract's row after ten years of 40 monthly KPIs is about 300 KB of JSON, and parsing it
# took 25 ms of a 35 ms read on the national dataset. A row changes only when its contract's
# events arrive, so each reader keeps what it made of the rows it has read, each with the exact
# text it was made from: a row whose text has changed is made afresh. With the parse it keeps the
# row's JSON as the API writes it (made once, ~1 ms), which an answer splices in rather than
# serialising the whole contract again on every read.
PARSED_ROWS = 64
# A portfolio line depends on its stored row, its authority's grade and the day it is read on; an
# admin's portfolio reads every contract's (about 34 KB of JSON each after ten years, most of it
# the due days of owed returns), so a line is kept per contract until one of the three changes.
PORTFOLIO_LINES = 1024

S = TypeVar("S")
M = TypeVar("M")


class _Kept(Generic[S, M]):
    """The last few things made, each with what it was made from; safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[UUID, tuple[S, M]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: UUID, source: S) -> M | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept[0] != source:
                return None
            self._kept.move_to_end(key)
            return kept[1]

    def latest(self, key: UUID) -> M | None:
        """What was last made for `key`, whatever from."""
        with self._lock:
            kept = self._kept.get(key)
            return None if kept is None else kept[1]

    def put(self, key: UUID, source: S, made: M) -> M:
        with self._lock:
            self._kept[key] = (source, made)
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return made


class DashboardReader:
    """The reads of the dashboard view; each is one indexed query."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store
        self._contracts: _Kept[str, tuple[ContractDashboard, bytes]] = _Kept(PARSED_ROWS)
        self._lines: _Kept[tuple[str, str | None, date], tuple[PortfolioLine, bytes]] = _Kept(
            PORTFOLIO_LINES
        )

    def _contract(self, contract_id: UUID, text: str) -> ContractDashboard:
        kept = self._contracts.get(contract_id, text)
        if kept is None:
            parsed = ContractDashboard.model_validate_json(text)
            kept = self._contracts.put(contract_id, text, (parsed, _json(parsed)))
        return kept[0]

    def contract_json(self, contract: ContractDashboard) -> bytes | None:
        """The JSON of a contract's row as `dashboard` last read it, made once per version of
        the row; None for one this reader did not read (e.g. folded as at an instant)."""
        kept = self._contracts.latest(contract.contract_id)
        return kept[1] if kept is not None and kept[0] is contract else None

    def line_json(self, line: PortfolioLine) -> bytes | None:
        """The JSON of a line as `portfolio` last made it; None for one it did not make."""
        kept = self._lines.latest(line.row.contract_id)
        return kept[1] if kept is not None and kept[0] is line else None

    def position(self) -> int:
        """The last log position the dashboards read now have taken in."""
        return self.store.position(DASHBOARD.name)

    def dashboard(self, contract_id: UUID, today: date) -> Dashboard | None:
        found = self.store.query(
            "SELECT c.dashboard, a.ofsted FROM {dashboard_contracts} c "
            "LEFT JOIN {dashboard_authorities} a ON a.ons_code = c.ons_code "
            "WHERE c.contract_id=?",
            (str(contract_id),),
        )
        if not found:
            return None
        [row] = found
        return Dashboard.on(
            today,
            self._contract(contract_id, row["dashboard"]),
            None if row["ofsted"] is None else OfstedRecord.model_validate_json(row["ofsted"]),
        )

    def portfolio(self, contract_ids: Iterable[UUID] | None, today: date) -> list[PortfolioLine]:
        """The given contracts (every contract for None), in the order of council and title."""
        statement = (
            "SELECT c.contract_id, c.portfolio, a.latest_grade FROM {dashboard_contracts} c "
            "LEFT JOIN {dashboard_authorities} a ON a.ons_code = c.ons_code"
        )
        params: list[str] = []
        if contract_ids is not None:
            params = [str(i) for i in contract_ids]
            if not params:
                return []
            statement += f" WHERE c.contract_id IN ({', '.join('?' for _ in params)})"
        lines = [
            self._line(row["contract_id"], row["portfolio"], row["latest_grade"], today)
            for row in self.store.query(statement, params)
        ]
        return sorted(lines, key=lambda line: (line.row.council, line.row.title))

    def _line(self, contract_id: str, text: str, grade: str | None, today: date) -> PortfolioLine:
        key, source = UUID(contract_id), (text, grade, today)
        kept = self._lines.get(key, source)
        if kept is None:
            line = _portfolio_line(PortfolioRow.model_validate_json(text), grade, today)
            kept = self._lines.put(key, source, (line, _json(line)))
        return kept[0]

    def contracts_of(self, organisation_id: str) -> list[UUID]:
        """The contracts an organisation is a party to, as council or as trust."""
        return [
            UUID(row["contract_id"])
            for row in self.store.query(
                "SELECT contract_id FROM {dashboard_contracts} "
                "WHERE council_organisation_id=? OR trust_organisation_id=?",
                (organisation_id, organisation_id),
            )
        ]

    def ofsted(self, ons_code: str) -> OfstedRecord | None:
        found = self.store.query(
            "SELECT ofsted FROM {dashboard_authorities} WHERE ons_code=?", (ons_code,)
        )
        return OfstedRecord.model_validate_json(found[0]["ofsted"]) if found else None


def _json(row: BaseModel) -> bytes:
    """A row's JSON as the API writes it: the bytes pydantic makes of it inside an answer."""
    return row.__pydantic_serializer__.to_json(row)


def _portfolio_line(row: PortfolioRow, grade: str | None, today: date) -> PortfolioLine:
    return PortfolioLine(
        row=row,
        status=status_on(row.statuses, today),
        overdue_returns=sum(due < today for due in row.owed_due_on),
        overdue_notices=sum(today >= first for first in row.notices_overdue_from),
        latest_ofsted_grade=None if grade is None else Grade(grade),
    )


def rows_at(
    ledger: Trustledger, position: int
) -> tuple[dict[UUID, tuple[ContractDashboard, PortfolioRow]], dict[str, OfstedRecord]]:
    """Every contract's and authority's rows as the log up to `position` makes them: the same
    fold the live view runs, over the events it reads, stopped there."""
    events = []
    for notification in ledger.notifications(*declared_events(*FOLDED_KINDS), up_to=position):
        event = ledger.mapper.to_domain_event(notification)
        assert isinstance(event, LedgerAggregate.Event)
        events.append(event)
    return rows_of(fold(events))


def dashboard_at(
    ledger: Trustledger, contract_id: UUID, position: int, today: date
) -> Dashboard | None:
    folded = _folded_at(ledger, [contract_id], position)
    if folded is None:
        return None
    contracts, authorities = folded
    if contract_id not in contracts:
        return None
    contract, _ = contracts[contract_id]
    return Dashboard.on(today, contract, authorities.get(contract.ons_code))


def portfolio_at(
    ledger: Trustledger, contract_ids: Iterable[UUID] | None, position: int, today: date
) -> list[PortfolioLine]:
    folded = None if contract_ids is None else _folded_at(ledger, contract_ids, position)
    contracts, authorities = rows_at(ledger, position) if folded is None else folded
    wanted = contracts.keys() if contract_ids is None else set(contract_ids) & contracts.keys()
    lines = []
    for contract_id in wanted:
        dashboard, row = contracts[contract_id]
        ofsted = authorities.get(dashboard.ons_code)
        grade = None if ofsted is None else ofsted.latest_grade
        lines.append(_portfolio_line(row, None if grade is None else grade.value, today))
    return sorted(lines, key=lambda line: (line.row.council, line.row.title))


# -- as at, from the contracts' own aggregates ---------------------------------------------------
#
# Folding the whole log up to a position made an as-at read cost the whole log: on the national
# dataset (1.7 million events) one contract's dashboard as at a day took minutes. A contract's
# rows depend only on its own aggregates (the contract, its KPI series, its notices) and its
# authority's inspections, so only those are read, each as it stood at the position: the fold
# `repository.get(id, version=...)` makes, over all their events up to the position read in one
# query (`Trustledger.aggregates_at`). Which aggregates those are comes from the view's members
# table for the part of the log the view has taken in, and from the log itself beyond it, so the
# answer does not depend on the view's lag.

_FOUND_BY_EVENT = (PerformanceNotice.Issued, Inspection.Recorded)
_stores: dict[tuple[tuple[str, str], ...], ViewStore] = {}
_stores_lock = threading.Lock()


def _store_of(ledger: Trustledger) -> ViewStore:
    """The view store of the ledger's database, one per process and database."""
    key = tuple(sorted(ledger.env.items()))
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = view_store(ledger.env)
            store.prepare(DASHBOARD)
            _stores[key] = store
        return store


def _folded_at(
    ledger: Trustledger, contract_ids: Iterable[UUID], position: int
) -> tuple[dict[UUID, tuple[ContractDashboard, PortfolioRow]], dict[str, OfstedRecord]] | None:
    """The rows of these contracts and their authorities as the log up to `position` makes
    them, or None if the ledger held none of the contracts then."""
    folded = Folded()
    owners: set[str] = set()
    candidates: set[UUID] = set()
    for contract_id, contract in ledger.aggregates_at(set(contract_ids), position).items():
        if not isinstance(contract, ServiceContract):
            continue
        folded.add(contract)
        owners |= {str(contract_id), contract.council.ons_code}
        codes = {change.indicator_code for change in contract.kpi_schedule_history}
        candidates |= {IndicatorSeries.id_for(contract_id, code) for code in codes}
    if not owners:
        return None
    store = _store_of(ledger)
    statement = "SELECT aggregate_id FROM {dashboard_members} WHERE owner IN "
    statement += f"({', '.join('?' for _ in owners)})"
    for member in store.query(statement, sorted(owners)):
        candidates.add(UUID(member["aggregate_id"]))
    viewed = store.position(DASHBOARD.name)
    if viewed < position:
        for notification in ledger.notifications(*_FOUND_BY_EVENT, after=viewed, up_to=position):
            found = ledger.mapper.to_domain_event(notification)
            assert isinstance(found, _FOUND_BY_EVENT)
            owner = found.ons_code if isinstance(found, Inspection.Recorded) else found.contract_id
            if str(owner) in owners:
                candidates.add(found.originator_id)
    for aggregate in ledger.aggregates_at(candidates - folded.aggregates.keys(), position).values():
        assert isinstance(
            aggregate, ServiceContract | IndicatorSeries | PerformanceNotice | Inspection
        )
        folded.add(aggregate)
    return rows_of(folded, owners)

"""`Trustledger`: the one application that holds every aggregate, so the whole council-trust
history has one total order (DESIGN §1). Each command method loads, commands and saves through
the group-commit writer; reads come straight from the repository."""

from __future__ import annotations

import logging
import math
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import attrgetter
from typing import Any, Protocol, TypeVar, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import (
    EventStore,
    JSONTranscoder,
    Notification,
    RecordConflictError,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from domain.account import Account
from domain.actor import Actor
from domain.benchmark import PublishedFigures
from domain.errors import Conflict, IdempotencyKeyReused, InvalidInstant, NotFound
from domain.indicator_series import IndicatorSeries
from domain.inspection import Inspection
from domain.ledger import LedgerAggregate
from domain.local_authority_record import LocalAuthorityRecord
from domain.performance_notice import PerformanceNotice
from domain.publication import Publication
from domain.reporting import ReportingPeriod
from domain.service_contract import ServiceContract
from domain.transcodings import AggregateSnapshot, StaleSnapshot, register_domain_transcodings
from domain.writer import (
    AggregateCache,
    Command,
    Executed,
    GroupCommitWriter,
    IdempotencyKey,
    Outcome,
    Session,
)

A = TypeVar("A", bound=LedgerAggregate)
R = TypeVar("R")

# How long a caller waits for the writer before the API answers 503: well past any healthy
# commit, short enough that a stuck database does not hold requests for ever.
WRITE_TIMEOUT_SECONDS = 30.0
CONFLICT_RETRIES = 3
# Notifications read from the log per query when scanning it for one kind of event.
_PAGE = 500
# Beyond any log position: PostgreSQL's notification ids are bigints.
_END_OF_LOG = 2**63 - 1
# Every event an inspection records, for folding inspections straight from the log.
_INSPECTION_EVENTS = (
    Inspection.Recorded,
    Inspection.JudgementCorrected,
    Inspection.PublicationDateCorrected,
    Inspection.TypeCorrected,
    Inspection.ThemeCorrected,
)
_PUBLICATION_EVENTS = (Publication.Imported, Publication.Restated)
# The aggregates whose streams grow with a contract's life, and how many of their events a read
# may replay after the latest snapshot. Folding a national contract's 41 aggregates as at the
# head of its ten years on PostgreSQL (min of 15, loaded machine): 136 ms from snapshots taken
# every 50 events, 391 ms every 100 (the tail of up to 99 events a series costs more than its
# snapshot), 218 ms every 25, against 549-568 ms replaying. A series' snapshot grows to 51 KB.
# A contract's own stream is left out: its snapshot (128 KB after ten years, its KPI schedule
# and its history) read no faster than its 283 events replayed (min 6.8 ms against 5.4 ms).
SNAPSHOT_EVERY: dict[type[LedgerAggregate], int] = {IndicatorSeries: 50}
_SNAPSHOTTED = tuple(SNAPSHOT_EVERY)

log = logging.getLogger(__name__)
# Every event an account records, those added later too: any may change what its holder may do.
_ACCOUNT_EVENTS = tuple(
    kind
    for kind in vars(Account).values()
    if isinstance(kind, type) and issubclass(kind, LedgerAggregate.Event)
)
# How long an account kept for signing requests in may go unchecked against the log: the most
# time a change another process records (an account disabled, a grant revoked) takes to reach
# this one. A change this process records reaches it at once.
ACCOUNT_RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Write:
    """How the caller wants a write made: against the version it read (If-Match), and under
    which retry key (Idempotency-Key) and request fingerprint."""

    expected_version: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""


@dataclass(frozen=True)
class IdempotentWrite:
    """What the ledger remembers, beside the events, of a write made under a key."""

    owner: str
    key: str
    fingerprint: str
    aggregate_id: UUID
    version: int
    value: bytes
    events: tuple[tuple[UUID, int], ...]


@dataclass(frozen=True)
class StoredWrite:
    fingerprint: str
    aggregate_id: UUID
    version: int
    value: bytes
    position: int


@dataclass(frozen=True)
class RecordedNotification:
    """A stored event with the time its audit leaf was committed: when the ledger learnt it."""

    notification: Notification
    recorded_at: datetime


@dataclass(frozen=True)
class RecordedEvent:
    """A domain event, where the log holds it and when the ledger recorded it."""

    event: LedgerAggregate.Event
    position: int
    recorded_at: datetime


@dataclass(frozen=True)
class Changes:
    """A page of events, and the position to read the next page after (None on the last)."""

    events: list[RecordedEvent]
    next_after: int | None


@dataclass(frozen=True)
class AsAt:
    """An instant of recorded time, and the last log position the ledger had recorded by then.

    Every aggregate a read needs is read at this one position, so that a contract and its KPI
    series read as at an instant agree with each other as they did at that instant."""

    instant: datetime
    position: int


class LedgerRecorder(Protocol):
    """What the ledger's recorders (projections/ledger_store.py) add to the library's."""

    def find_write(self, owner: str, key: str) -> StoredWrite | None: ...

    def password_hash(self, account_id: UUID) -> str | None: ...

    def position_at(self, instant: datetime) -> int:
        """The last notification id the ledger had recorded at `instant` (0 before any)."""
        ...

    def events_at(
        self, aggregate_ids: Collection[UUID], position: int, *, from_snapshots: bool = False
    ) -> list[StoredEvent]:
        """These aggregates' events at positions up to `position`, in one query, each
        aggregate's in version order. `from_snapshots`: each aggregate's latest snapshot of a
        version it had reached by `position` comes first, then only its events after it."""
        ...

    def recorded_events(
        self, aggregate_ids: Collection[UUID], after: int, up_to: int, limit: int
    ) -> list[RecordedNotification]:
        """These aggregates' events at positions in (after, up_to], in log order, each with the
        time its audit leaf was recorded."""
        ...

    def max_notification_id(self) -> int | None: ...

    def changed_since(self, position: int, limit: int) -> Sequence[Notification]:
        """The first `limit` events recorded after `position`, in log order."""
        ...


class _FoldedPublications:
    """The Publication aggregates folded from the log up to `position`, and their index."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.position = 0
        self.publications: dict[UUID, Publication] = {}
        self.figures = PublishedFigures(())


class _JustCommitted:
    """Each command's aggregate as its batch committed it, for the caller's read-back.

    A write's answer shows the aggregate at the version it wrote, and reading it back meant
    reading and decoding every one of its events again: at concurrency 64 that read was the
    largest single cost of a KPI return after the command itself. The writer keeps a pickled
    copy instead (the aggregate object itself goes on to the next batch), and the first read of
    that version takes it. A copy nobody asks for is dropped once `capacity` newer ones are kept.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._lock = threading.Lock()
        self._capacity = capacity
        self._copies: OrderedDict[tuple[UUID, int], bytes] = OrderedDict()

    def keep(self, aggregate: LedgerAggregate) -> None:
        try:
            copy = pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            # The batch is committed whatever happens here: without a copy, the read-back
            # reads the events as before.
            return
        with self._lock:
            self._copies[(aggregate.id, aggregate.version)] = copy
            while len(self._copies) > self._capacity:
                self._copies.popitem(last=False)

    def take(self, aggregate_id: UUID, version: int) -> Any:
        with self._lock:
            copy = self._copies.pop((aggregate_id, version), None)
        # Bytes this process pickled itself a moment ago, never anything read from outside.
        return None if copy is None else pickle.loads(copy)  # noqa: S301


class _AccountsKept:
    """Accounts as the log last showed them, for the check of the caller every request makes.

    Reading the caller's account, every event of it, on every request was a tenth of a KPI
    return's CPU at concurrency 64, with a connection's ping and a round trip each (py-spy,
    bench/http.py). So accounts are kept, and an account is forgotten as soon as this process
    commits an event of it, and otherwise at the first look at the log after it: a request
    finding the last look `recheck_seconds` old or more looks first, reading which accounts have
    recorded events since, in one query. An account read while a look or a commit forgets
    accounts is not kept, for it may have been read before the change.
    """

    def __init__(
        self,
        ledger: Trustledger,
        recheck_seconds: float,
        clock: Callable[[], float],
        capacity: int = 4096,
    ) -> None:
        self._ledger = ledger
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._capacity = capacity
        self._lock = threading.Lock()
        self._looking = threading.Lock()
        self._accounts: OrderedDict[UUID, Account] = OrderedDict()
        self._position: int | None = None
        self._looked_at = -math.inf
        # Counts the times accounts were forgotten: a read that saw it move may be stale.
        self._forgotten = 0

    def kept(self, account_id: UUID) -> Account | None:
        """The account if kept and the last look at the log is recent enough; never reads."""
        with self._lock:
            if self._clock() - self._looked_at >= self._recheck_seconds:
                return None
            account = self._accounts.get(account_id)
            if account is not None:
                self._accounts.move_to_end(account_id)
            return account

    def get(self, account_id: UUID) -> Account:
        self._look_if_due()
        account = self.kept(account_id)
        if account is not None:
            return account
        with self._lock:
            forgotten = self._forgotten
        account = self._ledger.get(account_id, Account)
        with self._lock:
            if self._forgotten == forgotten:
                self._accounts[account_id] = account
                while len(self._accounts) > self._capacity:
                    self._accounts.popitem(last=False)
        return account

    def forget(self, account_ids: Collection[UUID]) -> None:
        with self._lock:
            for account_id in account_ids:
                self._accounts.pop(account_id, None)
            self._forgotten += 1

    def _look_if_due(self) -> None:
        with self._looking:
            started = self._clock()
            if started - self._looked_at < self._recheck_seconds:
                return  # another request looked while this one waited
            # The head first: every event up to it is committed (ids are given out under the
            # insert lock), so the next look starts where this one ends and misses nothing.
            head = self._ledger.recorder.max_notification_id() or 0
            if self._position is None:
                with self._lock:
                    self._accounts.clear()
                    self._forgotten += 1
            else:
                changed = {
                    UUID(str(n.originator_id))
                    for n in self._ledger.notifications(
                        *_ACCOUNT_EVENTS, after=self._position, up_to=head
                    )
                }
                if changed:
                    self.forget(changed)
            self._position = head
            with self._lock:
                self._looked_at = started


def _project(
    aggregate: LedgerAggregate | None, events: Iterable[LedgerAggregate.Event]
) -> LedgerAggregate | None:
    """Each event's own `mutate`, in order: what the library's default projector does, less its
    check that every event meets the `CanMutateProtocol`. That check is a runtime Protocol
    `isinstance`, which walks the protocol's attributes each time: on the national dataset it
    was 21% of an as-at read that replays a contract's 11,271 events. Every event of ours is a
    `LedgerAggregate.Event`, whose class has `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Trustledger(Application[UUID]):
    """Every aggregate of every contract, in one ledger."""

    # The snapshots table is the library's; `save` decides when to take them (SNAPSHOT_EVERY).
    # IS_SNAPSHOTTING_ENABLED=n in the environment turns them off, to compare reads without.
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(env)
        self._snapshotted = Repository(event_store=self.events, snapshot_store=self.snapshots)
        self._writer = GroupCommitWriter(
            self.repository,
            self._save_batch,
            cache=AggregateCache(self.ledger, self.mapper.to_domain_event),
            read_many=lambda ids: self.aggregates_at(ids, _END_OF_LOG),
        )
        self._published = _FoldedPublications()
        self._just_committed = _JustCommitted()
        self._accounts = _AccountsKept(self, ACCOUNT_RECHECK_SECONDS, clock)

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository, less the snapshots: it would ask their table first on every
        read, a query more for each aggregate of a kind that has none. Contracts and series are
        read from them by `get`."""
        repository = super().construct_repository()
        repository.snapshot_store = None
        return repository

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    def close(self) -> None:
        self._writer.close()
        super().close()

    @property
    def ledger(self) -> LedgerRecorder:
        return cast(LedgerRecorder, self.recorder)

    # -- reads -------------------------------------------------------------------------------

    def get(self, aggregate_id: UUID, cls: type[A], version: int | None = None) -> A:
        """An aggregate as it stands now, or as it stood at a version."""
        aggregate: Any = None
        if version is not None:
            aggregate = self._just_committed.take(aggregate_id, version)
        if aggregate is None:
            repository = self._snapshotted if issubclass(cls, _SNAPSHOTTED) else self.repository
            try:
                try:
                    aggregate = repository.get(
                        aggregate_id, version=version, projector_func=_project
                    )
                except StaleSnapshot:
                    log.warning("a stale snapshot of %s was passed over", aggregate_id)
                    aggregate = self.repository.get(
                        aggregate_id, version=version, projector_func=_project
                    )
            except AggregateNotFoundError:
                aggregate = None
        if not isinstance(aggregate, cls):
            raise NotFound(f"no such {cls.__name__} {aggregate_id}")
        return aggregate

    def account(self, account_id: UUID) -> Account:
        """A signed-in caller's account, as the log showed it at most `ACCOUNT_RECHECK_SECONDS`
        ago (at once, for changes this process records); NotFound if it has none."""
        return self._accounts.get(account_id)

    def account_if_kept(self, account_id: UUID) -> Account | None:
        """As `account`, without reading the ledger: None when that would have to."""
        return self._accounts.kept(account_id)

    def as_at(self, instant: datetime) -> AsAt:
        """Where the log stood at an instant of recorded time (DESIGN §2, §3).

        An instant still to come is refused rather than read as now: the answer would change as
        writes arrived, and an as-at read must give the same answer whenever it is asked. (The
        last moment before a read is the one exception: a leaf is stamped under the insert lock
        just before COMMIT, so an instant within a commit's duration of now may yet gain it.)
        """
        if instant.utcoffset() is None:
            raise InvalidInstant(f"{instant.isoformat()} needs its offset from UTC")
        if instant > datetime.now(UTC):
            raise InvalidInstant(
                f"{instant.isoformat()} is still to come: the ledger can say only what it had "
                "recorded by an instant that has passed"
            )
        return AsAt(instant, self.ledger.position_at(instant))

    def get_as_at(self, aggregate_id: UUID, cls: type[A], at: AsAt | None) -> A:
        """An aggregate as the ledger knew it at an instant, folded from its events up to the log
        position reached then; as it stands now if `at` is None."""
        if at is None:
            return self.get(aggregate_id, cls)
        aggregate = self.aggregates_at([aggregate_id], at.position).get(aggregate_id)
        if not isinstance(aggregate, cls):
            raise NotFound(
                f"the ledger held no {cls.__name__} {aggregate_id} as at {at.instant.isoformat()}"
            )
        return aggregate

    def series_of(
        self, contract_id: UUID, codes: Iterable[str], at: AsAt | None
    ) -> dict[str, IndicatorSeries]:
        """The series of these KPIs of a contract that had begun, in the order given, as they
        stand or as they stood at an instant. As at one, all are read in one query: a query a
        series was 41 round trips for a national contract, more than the folds they fed."""
        wanted = {IndicatorSeries.id_for(contract_id, code): code for code in codes}
        if at is None:
            found = {}
            for series_id, code in wanted.items():
                try:
                    found[code] = self.get(series_id, IndicatorSeries)
                except NotFound:
                    continue
            return found
        folded = self.aggregates_at(wanted, at.position)
        return {
            code: series
            for series_id, code in wanted.items()
            if isinstance(series := folded.get(series_id), IndicatorSeries)
        }

    def aggregates_at(
        self, aggregate_ids: Collection[UUID], position: int
    ) -> dict[UUID, LedgerAggregate]:
        """These aggregates as the log up to `position` made them, those that existed by then.

        The same fold as `repository.get(id, version=...)` at each one's version then, over
        their events read in one query: reading each aggregate's version and then its events
        took two queries an aggregate, 90 for a contract of 40 KPIs on the national dataset,
        about a fifth of an as-at dashboard. The fold starts from each one's latest snapshot
        taken by then, if the ledger keeps them."""
        try:
            return self._fold_at(aggregate_ids, position, from_snapshots=self.snapshots is not None)
        except StaleSnapshot:
            log.warning(
                "a stale snapshot was passed over: replaying every event up to %s", position
            )
            return self._fold_at(aggregate_ids, position, from_snapshots=False)

    def _fold_at(
        self, aggregate_ids: Collection[UUID], position: int, *, from_snapshots: bool
    ) -> dict[UUID, LedgerAggregate]:
        stored_events = self.ledger.events_at(
            aggregate_ids, position, from_snapshots=from_snapshots
        )
        events = (
            cast(LedgerAggregate.Event, self.mapper.to_domain_event(stored))
            for stored in stored_events
        )
        folded: dict[UUID, LedgerAggregate] = {}
        for aggregate_id, its_events in groupby(events, key=attrgetter("originator_id")):
            aggregate = _project(None, its_events)
            assert aggregate is not None
            folded[aggregate_id] = aggregate
        return folded

    def recorded(
        self,
        aggregate_ids: Collection[UUID],
        *,
        after: int = 0,
        up_to: int | None = None,
        limit: int | None = None,
    ) -> list[RecordedEvent]:
        """The events of these aggregates recorded after one log position and up to another (or
        the end of the log), in log order, each with when it was recorded; `limit` or all."""
        found: list[RecordedEvent] = []
        end = _END_OF_LOG if up_to is None else up_to
        while limit is None or len(found) < limit:
            wanted = _PAGE if limit is None else min(_PAGE, limit - len(found))
            page = self.ledger.recorded_events(aggregate_ids, after, end, wanted)
            for recorded in page:
                event = self.mapper.to_domain_event(recorded.notification)
                assert isinstance(event, LedgerAggregate.Event)
                found.append(RecordedEvent(event, recorded.notification.id, recorded.recorded_at))
            if len(page) < wanted:
                break
            after = page[-1].notification.id
        return found

    def changes(
        self, contract: ServiceContract, start: AsAt, end: AsAt, *, after: int | None, limit: int
    ) -> Changes:
        """What the ledger recorded about a contract after `start` and up to `end`: its own
        events, those of the series of every KPI it has ever scheduled, and those of its
        performance notices, in log order; `limit` of them from the position `after`."""
        if end.instant <= start.instant:
            raise InvalidInstant(
                f"the end ({end.instant.isoformat()}) must come after the start "
                f"({start.instant.isoformat()})"
            )
        codes = sorted({change.indicator_code for change in contract.kpi_schedule_history})
        aggregate_ids = [
            contract.id,
            *(IndicatorSeries.id_for(contract.id, code) for code in codes),
            *self._notice_ids(contract.id),
        ]
        # One more than asked for, to know whether another page follows.
        found = self.recorded(
            aggregate_ids,
            after=max(start.position, after or 0),
            up_to=end.position,
            limit=limit + 1,
        )
        page = found[:limit]
        return Changes(page, page[-1].position if len(found) > limit else None)

    def return_history(
        self, series_id: UUID, period: ReportingPeriod, at: AsAt | None
    ) -> list[RecordedEvent]:
        """Everything recorded about one period's return in a KPI's series, oldest first: its
        submission, restatements, queries, answers and acceptances, up to `at` if given."""
        recorded = self.recorded([series_id], up_to=None if at is None else at.position)
        return [each for each in recorded if period_of(each.event) == period.label]

    def password_hash(self, account_id: UUID) -> str | None:
        return self.ledger.password_hash(account_id)

    def contracts(self) -> list[ServiceContract]:
        """Every contract, oldest first. Found from the log by the event that creates one, until
        the portfolio view (issue 6) keeps a table of them."""
        return [
            self.get(n.originator_id, ServiceContract)  # type: ignore[arg-type]
            for n in self.notifications(ServiceContract.Drafted)
        ]

    def notices(self, contract_id: UUID) -> list[PerformanceNotice]:
        """The performance notices issued under a contract, oldest first. Found from the log by
        the event that issues one, which names its contract, until a view keeps them."""
        return [self.get(n, PerformanceNotice) for n in self._notice_ids(contract_id)]

    def _notice_ids(self, contract_id: UUID) -> list[UUID]:
        found: list[UUID] = []
        for notification in self.notifications(PerformanceNotice.Issued):
            issued = self.mapper.to_domain_event(notification)
            if isinstance(issued, PerformanceNotice.Issued) and issued.contract_id == contract_id:
                found.append(issued.originator_id)
        return found

    def inspections(self, ons_code: str | None = None) -> list[Inspection]:
        """Every Ofsted inspection and visit, or a local authority's, in the order first recorded.

        Folded from the log's pages of Inspection events, so that a read costs a query per page
        rather than one per inspection, until the public-record view (issue 6) keeps them."""
        folded: dict[UUID, Inspection] = {}
        for notification in self.notifications(*_INSPECTION_EVENTS):
            recorded = self.mapper.to_domain_event(notification)
            assert isinstance(recorded, LedgerAggregate.Event)
            inspection = recorded.mutate(folded.get(recorded.originator_id))
            assert isinstance(inspection, Inspection)
            folded[inspection.id] = inspection
        return [i for i in folded.values() if ons_code is None or i.ons_code == ons_code]

    def local_authority_record(self, ons_code: str) -> LocalAuthorityRecord | None:
        """A local authority's intervention history; None until its first intervention."""
        try:
            return self.get(LocalAuthorityRecord.id_for(ons_code), LocalAuthorityRecord)
        except NotFound:
            return None

    def published_figures(self, known_by: int | None = None) -> PublishedFigures:
        """Every DfE figure imported, indexed for benchmarks.

        Kept in memory and brought up to date from the log on each read: when the log has moved
        on, only the Publication events after the last one folded are read, and the index is
        rebuilt only if there were any, i.e. after an import. Each process keeps its own, and
        the log's position keeps them true, until the benchmark view (issue 6) keeps a table.

        A read that shows the log up to a position (`known_by`, e.g. a dashboard's) needs no
        figure imported after it: when the figures kept were folded that far, the log is not
        asked for its head, which was a third of a dashboard read's queries.
        """
        published = self._published
        with published.lock:
            if known_by is not None and known_by <= published.position:
                return published.figures
            head = self.recorder.max_notification_id() or 0
            if head == published.position:
                return published.figures
            folded, last = 0, head
            try:
                for notification in self.notifications(
                    *_PUBLICATION_EVENTS, after=published.position
                ):
                    imported = self.mapper.to_domain_event(notification)
                    assert isinstance(imported, LedgerAggregate.Event)
                    found = published.publications.get(imported.originator_id)
                    publication = imported.mutate(found)
                    assert isinstance(publication, Publication)
                    published.publications[publication.id] = publication
                    folded, last = folded + 1, max(last, notification.id)
            except Exception:
                # Aggregates folded past `position` cannot take those events again: the next
                # read folds the log afresh, and until then the last index stands.
                published.position, published.publications = 0, {}
                raise
            published.position = last
            if folded:
                published.figures = PublishedFigures(published.publications.values())
            return published.figures

    def notifications(
        self,
        *kinds: type[LedgerAggregate.Event],
        after: int | None = None,
        up_to: int | None = None,
    ) -> Iterator[Notification]:
        """The log's records of these kinds of event after a position (or all) and up to one
        (or the head), in log order, read a page at a time."""
        topics = [get_topic(kind) for kind in kinds]
        start = after
        while True:
            page = self.recorder.select_notifications(
                start, _PAGE, stop=up_to, topics=topics, inclusive_of_start=False
            )
            yield from page
            if len(page) < _PAGE:
                return
            start = page[-1].id

    # -- writes ------------------------------------------------------------------------------

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | DomainEventProtocol[UUID] | None,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Save as the library does, then snapshot each aggregate whose new events took it past
        a multiple of its class's interval (SNAPSHOT_EVERY), from the object in hand.

        The library's own hook (`snapshotting_intervals`) reads each aggregate back from the
        store to snapshot it, and only at exact multiples, which a batch of several events
        steps over; the object just saved is that same state, without the read."""
        due = [
            obj
            for obj in objs
            if isinstance(obj, LedgerAggregate) and _passes_snapshot_interval(obj)
        ]
        recordings = super().save(*objs, **kwargs)
        if due and self.snapshots is not None:
            self._keep_snapshots(self.snapshots, due)
        return recordings

    def _keep_snapshots(
        self, store: EventStore[UUID], aggregates: Sequence[LedgerAggregate]
    ) -> None:
        try:
            store.put([AggregateSnapshot.take(each) for each in aggregates])
        except Exception:
            # The events are committed, and a snapshot is only a cache of what they say: without
            # it a read replays a little more, so a failure here must not fail the write.
            log.warning("snapshots not kept", exc_info=True)

    def change(
        self,
        cls: type[A],
        aggregate_id: UUID,
        command: Callable[[A], R],
        *,
        actor: Actor,
        write: Write,
        guard: Callable[[A], None] | None = None,
    ) -> Outcome[R]:
        """Run a command on one aggregate, once `guard` (the caller's permission, judged on the
        aggregate as it now stands) has passed, refusing it if the caller read an older version."""

        def run(session: Session) -> tuple[LedgerAggregate, R]:
            aggregate = session.get(aggregate_id, cls)
            if guard is not None:
                guard(aggregate)
            aggregate.check_version(write.expected_version)
            return aggregate, command(aggregate)

        return self.execute(run, actor=actor, write=write)

    def create(
        self,
        create: Callable[[Session], A],
        *,
        actor: Actor,
        write: Write,
    ) -> Outcome[UUID]:
        """Add a new aggregate; `create` may read others through the session first."""

        def run(session: Session) -> tuple[LedgerAggregate, UUID]:
            aggregate = session.add(create(session))
            return aggregate, aggregate.id

        return self.execute(run, actor=actor, write=write)

    def execute(
        self,
        run: Callable[[Session], tuple[LedgerAggregate, R]],
        *,
        actor: Actor,
        write: Write,
        reads: Sequence[UUID] = (),
    ) -> Outcome[R]:
        """Hand a command to the writer and wait for its own outcome; `reads` names the
        aggregates it will load, if known, so that the writer reads them for the whole batch.

        A write is always made under a key (the caller's, or a fresh one), so that a conflict
        reported for a write that was in fact committed (the library retries an insert whose
        COMMIT reply was lost, then meets its own rows: DESIGN §5) is recognised as ours.
        """
        key = IdempotencyKey(
            owner=actor.user_id,
            key=write.idempotency_key or f"auto:{uuid4().hex}",
            fingerprint=write.fingerprint,
        )
        if write.idempotency_key is not None:
            known = self._known_write(key)
            if known is not None:
                return known
        for _ in range(CONFLICT_RETRIES):
            future = self._writer.submit(Command(run=run, key=key, reads=tuple(reads)))
            try:
                return future.result(timeout=WRITE_TIMEOUT_SECONDS)
            except RecordConflictError:
                # Ours after all (a lost COMMIT reply, or a concurrent retry), or another
                # process wrote the aggregate first: then run the command again on what is
                # there now, where a stale If-Match is refused as it should be.
                known = self._known_write(key)
                if known is not None:
                    return known
        raise Conflict("the ledger was changed by others while this was being saved: try again")

    def _known_write(self, key: IdempotencyKey) -> Outcome[Any] | None:
        stored = self.ledger.find_write(key.owner, key.key)
        if stored is None:
            return None
        if stored.fingerprint != key.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request"
            )
        return Outcome(
            value=self.mapper.transcoder.decode(stored.value),
            aggregate_id=stored.aggregate_id,
            version=stored.version,
            position=stored.position,
            replayed=True,
        )

    def _save_batch(
        self, executed: Sequence[Executed], aggregates: Sequence[LedgerAggregate]
    ) -> dict[tuple[UUID, int], int]:
        writes = [
            IdempotentWrite(
                owner=each.command.key.owner,
                key=each.command.key.key,
                fingerprint=each.command.key.fingerprint,
                aggregate_id=each.principal.id,
                version=each.version,
                value=self.mapper.transcoder.encode(each.value),
                events=tuple(each.events),
            )
            for each in executed
            if each.events
        ]
        credentials: dict[UUID, str] = {}
        for each in executed:
            credentials.update(each.credentials)
        recordings = self.save(*aggregates, writes=writes, credentials=credentials)
        # Before any caller hears of it: a disabled account's next request is refused.
        accounts = [a.id for a in aggregates if isinstance(a, Account)]
        if accounts:
            self._accounts.forget(accounts)
        for each in executed:
            # Only the batch's last command on an aggregate left it at the version it reports.
            if each.principal.version == each.version:
                self._just_committed.keep(each.principal)
        return {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }


def _passes_snapshot_interval(aggregate: LedgerAggregate) -> bool:
    """Whether the aggregate's pending events take it past a multiple of its interval."""
    every = SNAPSHOT_EVERY.get(type(aggregate))
    if every is None or not aggregate._pending_events:  # before `save` takes them
        return False
    saved = aggregate.version - len(aggregate._pending_events)
    return aggregate.version // every > saved // every


def period_of(event: LedgerAggregate.Event) -> str | None:
    """The label of the period a KPI series' event is about; None for the series' start."""
    if isinstance(event, IndicatorSeries.ReturnSubmitted):
        return event.period.label
    label = getattr(event, "period_label", None)
    return label if isinstance(label, str) else None


__all__ = [
    "AsAt",
    "Changes",
    "Outcome",
    "RecordedEvent",
    "Session",
    "Trustledger",
    "Write",
    "period_of",
]

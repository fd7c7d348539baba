"""Projection workers: each view is kept by one worker at a time, in its own process
(`trustledger project`), following the ledger's log.

- At most one worker per view is active. A second started against the same database waits as a
  hot standby on a lock the active one holds for as long as it lives: a PostgreSQL session-level
  advisory lock on a dedicated connection, or on SQLite an `fcntl` lock on a file beside the
  database. The operating system (or PostgreSQL, when the connection drops) releases it when the
  holder dies, however it dies, and the standby takes over within `LOCK_POLL_SECONDS`.
  Exactly-once does not rest on the lock: a write whose tracking is not ahead of the stored one
  fails whole (`projections/view_store.py`), so even two workers at once could not count twice.
- Each step reads up to `batch` events after the version's tracking and writes their rows and
  the new tracking in one transaction. Catching up and rebuilding therefore take many events per
  transaction; following live, a step takes what has arrived, so latency stays low.
- New events are awaited by LISTEN on the channel the library's PostgreSQL recorder NOTIFYs on
  every insert, or, since SQLite cannot push, by polling the log's head.
- A rebuild (`begin_rebuild`) makes a new version of the view's tables. The worker fills it
  batch by batch beside the live version, which it keeps following, and switches reads to it
  once it has caught up with both the log and the live version. A rebuild interrupted resumes
  from its own tracking.

Tracking advances to the head of the log even across events a view does not read, so a view's
position is comparable with any write's position (for reads that wait for `min_position`).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.application import Trustledger
from projections.activity_view import ACTIVITY, ActivityProjection
from projections.dashboard_view import DASHBOARD, DashboardProjection
from projections.events import reusing_mapper
from projections.view_projection import ViewProjection
from projections.view_store import ViewSpec, ViewStore, view_store

log = structlog.get_logger()

# Events per transaction when catching up or rebuilding: large enough that a round's fixed cost
# (asking where the view and the log stand, reading a page, committing) is shared by many events,
# small enough that a transaction stays short (a few tenths of a second) and a batch's events
# sit in memory without thought. At 500 those fixed round trips were a third of a rebuild.
BATCH = 2000
# How often a standby asks for the lock, and how often SQLite's log is polled: the bound on the
# standby's takeover and on SQLite's latency.
LOCK_POLL_SECONDS = 0.5
SQLITE_POLL_SECONDS = 0.1
# How long an idle worker waits for news before looking again at the view's versions (for a
# rebuild requested by another process).
IDLE_SECONDS = 1.0
# After an error (the database went away), before trying again.
RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class View:
    spec: ViewSpec
    projection: type[ViewProjection]


VIEWS: Mapping[str, View] = {
    DASHBOARD.name: View(DASHBOARD, DashboardProjection),
    ACTIVITY.name: View(ACTIVITY, ActivityProjection),
}


def is_postgres(env: Mapping[str, str]) -> bool:
    return env["PERSISTENCE_MODULE"].endswith("postgres")


# -- the one active worker -------------------------------------------------------------------------


class ActiveLock(ABC):
    """Held by the one active worker of a view for as long as its process lives."""

    @abstractmethod
    def try_acquire(self) -> bool: ...

    @abstractmethod
    def release(self) -> None: ...

    def still_held(self) -> bool:
        """Whether the lock is still ours (asked now and then by the active worker)."""
        return True

    @contextmanager
    def held(self, view: str, stop: threading.Event) -> Iterator[bool]:
        """Wait as standby until the lock is ours (True), or until stopped (False)."""
        if not self.try_acquire():
            log.info("projection worker standing by", view=view, pid=os.getpid())
            while not self.try_acquire():
                if stop.wait(LOCK_POLL_SECONDS):
                    yield False
                    return
        try:
            yield True
        finally:
            self.release()


class AdvisoryLock(ActiveLock):
    """A session-level advisory lock, on a connection of its own so that no pool recycles it."""

    def __init__(self, env: Mapping[str, str], view: str) -> None:
        self._url = _postgres_url(env)
        self._key = zlib.crc32(f"{env['POSTGRES_SCHEMA']}:projection:{view}".encode())
        self._connection: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self._url, autocommit=True)
            query = "SELECT pg_try_advisory_lock(%s)"
            row = self._connection.execute(query, (self._key,)).fetchone()
        except psycopg.OperationalError:
            # PostgreSQL unreachable or full: no lock now; the standby asks again.
            log.warning("advisory lock unavailable", exc_info=True)
            self.release()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ends the session, and with it the lock
            self._connection = None

    def still_held(self) -> bool:
        # A session that PostgreSQL ended (a restart, a failover, a killed backend) took its
        # advisory lock with it, and a standby may hold it now: this worker is no longer the
        # one active worker, though nothing told it so.
        if self._connection is None or self._connection.closed:
            return False
        try:
            self._connection.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            return False
        return True


class FileLock(ActiveLock):
    """An exclusive `fcntl` lock on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file: IO[bytes] | None = None

    def try_acquire(self) -> bool:
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


def active_lock(env: Mapping[str, str], view: str) -> ActiveLock:
    if is_postgres(env):
        return AdvisoryLock(env, view)
    return FileLock(Path(f"{env['SQLITE_DBNAME']}.{view}.lock"))


# -- waiting for news ------------------------------------------------------------------------------


class News(ABC):
    """Wakes a worker when the log may have grown past a position."""

    @abstractmethod
    def wait(self, ledger: Trustledger, after: int, timeout: float) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class Listening(News):
    """LISTEN on the channel the library's recorder NOTIFYs within every insert's transaction.

    The library's own subscription filters by topic and hands out one event at a time, which
    would keep a view's tracking behind events it does not read and make batching guesswork;
    the notification itself is all a worker needs to know that it should read the log.
    """

    def __init__(self, env: Mapping[str, str], recorder: PostgresApplicationRecorder) -> None:
        self._connection = psycopg.connect(_postgres_url(env), autocommit=True)
        self._connection.execute(SQL("LISTEN {}").format(Identifier(recorder.channel_name)))

    def wait(self, ledger: Trustledger, after: int, timeout: float) -> None:
        # A NOTIFY that came while the worker was busy is queued on the connection, so none is
        # lost between the last read and this wait; asking the head first spares a wait on one
        # already read.
        if (ledger.recorder.max_notification_id() or 0) > after:
            return
        for _ in self._connection.notifies(timeout=timeout, stop_after=1):
            pass

    def close(self) -> None:
        self._connection.close()


class Polling(News):
    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    def wait(self, ledger: Trustledger, after: int, timeout: float) -> None:
        waited = 0.0
        while (ledger.recorder.max_notification_id() or 0) <= after and waited < timeout:
            if self._stop.wait(SQLITE_POLL_SECONDS):
                return
            waited += SQLITE_POLL_SECONDS

    def close(self) -> None:
        """Polling holds nothing open."""


# -- the worker ------------------------------------------------------------------------------------


class ProjectionWorker:
    """Keeps one view: each version of its tables in step with the log."""

    def __init__(
        self,
        view: View,
        ledger: Trustledger,
        store: ViewStore,
        *,
        batch: int = BATCH,
    ) -> None:
        self.view = view
        self.ledger = ledger
        self.store = store
        self.batch = batch
        self._projections: dict[int, ViewProjection] = {}
        self._mapper = reusing_mapper(ledger.mapper)

    @property
    def name(self) -> str:
        return self.view.spec.name

    def step(self, version: int, after: int, head: int) -> int:
        """Take up to `batch` more events into a version whose tracking is `after`, up to `head`,
        in one transaction; how far its tracking moved."""
        if head <= after:
            return 0
        projection = self.projection(version)
        found = self.ledger.recorder.select_notifications(
            after, self.batch, stop=head, topics=projection.topics, inclusive_of_start=False
        )
        # A short page is everything up to the head: the view has read the log that far.
        last = found[-1].id if len(found) == self.batch else head
        projection.process([(self._mapper.to_domain_event(n), n.id) for n in found], last)
        return last - after

    def run_once(self) -> int:
        """One round: a batch into the live version and one into the version being rebuilt, if
        any, switching reads to the rebuilt version once it has caught up. How far they moved.

        A round asks the database where things stand twice, whatever it then does: the view's
        versions with their tracking, and the log's head. Each step is then one read of the log
        and one write; a rebuild's rounds are many, so these round trips are most of its cost
        beyond the events themselves."""
        progress = self.store.progress(self.name)
        versions = progress.versions
        head = self.ledger.recorder.max_notification_id() or 0
        live = progress.current_at + self.step(versions.current, progress.current_at, head)
        moved = live - progress.current_at
        if versions.building is not None:
            assert progress.building_at is not None
            rebuilt = progress.building_at + self.step(
                versions.building, progress.building_at, head
            )
            moved += rebuilt - progress.building_at
            # Caught up with the log as this round read it, and so with the live version, which
            # this round took no further than that.
            if rebuilt >= head:
                self.store.switch(self.view.spec, versions.building)
                self._projections.pop(versions.current, None)
                log.info("view rebuilt", view=self.name, version=versions.building, at=rebuilt)
        return moved

    def follow(
        self, news: News, stop: threading.Event, still_active: Callable[[], bool] = lambda: True
    ) -> None:
        """Keep the view in step until stopped, or until this worker is no longer the active
        one (asked every `LOCK_POLL_SECONDS`)."""
        asked = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - asked >= LOCK_POLL_SECONDS:
                if not still_active():
                    return
                asked = time.monotonic()
            try:
                moved = self.run_once()
            except Exception:
                log.exception("projection step failed", view=self.name)
                stop.wait(RETRY_SECONDS)
                continue
            if not moved:
                current = self.store.versions(self.name).current
                news.wait(self.ledger, self.store.tracked(self.name, current), IDLE_SECONDS)

    def projection(self, version: int) -> ViewProjection:
        """The projection filling a version, with what it holds in memory between batches."""
        found = self._projections.get(version)
        if found is None:
            found = self.view.projection(self.store, ledger=self.ledger, version=version)
            self._projections[version] = found
        return found


def run_worker(
    name: str, env: Mapping[str, str], stop: threading.Event, *, batch: int = BATCH
) -> None:
    """Run the view's worker until stopped: standby until no other worker holds the view, then
    active."""
    view = VIEWS[name]
    lock = active_lock(env, name)
    while not stop.is_set():
        with lock.held(name, stop) as active:
            if not active:
                return
            log.info("projection worker active", view=name, pid=os.getpid())
            while not stop.is_set() and lock.still_held():
                try:
                    _keep(view, env, stop, batch, lock.still_held)
                except Exception:
                    # The database went away, or refused a connection: hold on to the lock,
                    # as no standby could do better, and try again.
                    log.exception("projection worker failed", view=name)
                    stop.wait(RETRY_SECONDS)
            if not stop.is_set():
                log.warning("projection worker lost its lock", view=name, pid=os.getpid())


def _keep(
    view: View,
    env: Mapping[str, str],
    stop: threading.Event,
    batch: int,
    still_active: Callable[[], bool],
) -> None:
    # One thread reads and writes at a time: a pool the API's size would hold idle connections.
    env = {**env, "POSTGRES_POOL_SIZE": "2"} if is_postgres(env) else env
    ledger = Trustledger(dict(env))
    store = view_store(env)
    news: News = (
        Listening(env, ledger.recorder)  # type: ignore[arg-type]
        if is_postgres(env)
        else Polling(stop)
    )
    try:
        store.prepare(view.spec)
        ProjectionWorker(view, ledger, store, batch=batch).follow(news, stop, still_active)
    finally:
        news.close()
        ledger.close()


def request_rebuild(name: str, env: Mapping[str, str]) -> int:
    """Begin (or find under way) a new version of the view; the active worker builds it."""
    spec = VIEWS[name].spec
    store = view_store(env)
    store.prepare(spec)
    return store.begin_rebuild(spec)


def run_workers(
    names: Sequence[str], env: Mapping[str, str], stop: threading.Event, *, batch: int = BATCH
) -> None:
    """One thread per view, each with its own lock, until stopped."""
    threads = [
        threading.Thread(
            target=run_worker, args=(name, env, stop), kwargs={"batch": batch}, name=name
        )
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _postgres_url(env: Mapping[str, str]) -> str:
    return psycopg.conninfo.make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        connect_timeout=env.get("POSTGRES_CONNECT_TIMEOUT", "5"),
    )

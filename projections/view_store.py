"""Where views keep their rows: tables beside the ledger's, in the same database, written in the
same transaction as the view's tracking position (DESIGN §4), with one recorder per store.

Each view's tables exist in versions (`dashboard_contracts_v1`, `_v2`...). `view_versions`
records which version is read and which, if any, is being rebuilt; readers query a plain SQL view
named after the table (`dashboard_contracts`) that the switch re-points in the same transaction
that records the new current version, so a reader sees the old rows or the new, never a mix.

The tracking position of a version is the library's tracking row named `{view}_v{version}`. Its
single-row upsert refuses to move backwards (it raises `IntegrityError`), so a transaction
carrying rows for events already tracked fails whole: a re-delivered event changes nothing.
"""

from __future__ import annotations

import string
import threading
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

SqlValue = str | int | None
Row = tuple[SqlValue, ...]


@dataclass(frozen=True)
class Table:
    """A view's table: its columns (SQL types both stores accept), key and secondary indexes."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)


@dataclass(frozen=True)
class ViewSpec:
    name: str
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        [found] = [t for t in self.tables if t.name == name]
        return found


@dataclass(frozen=True)
class Versions:
    current: int
    building: int | None


@dataclass(frozen=True)
class Progress:
    """A view's versions and how far each has taken in the log (0 for nothing yet)."""

    versions: Versions
    current_at: int
    building_at: int | None


# The environment name the library's factory builds the view store with: on PostgreSQL its
# tracking table is named after it (`views_tracking`).
VIEW_STORE_NAME = "views"


def versioned(table: str, version: int) -> str:
    return f"{table}_v{version}"


def tracking_name(view: str, version: int) -> str:
    return f"{view}_v{version}"


class ViewStore(TrackingRecorder, ABC):
    """The view tables of one database, whichever store it is."""

    placeholder = "?"
    tracking_table = "tracking"

    @abstractmethod
    def _name(self, name: str) -> str:
        """A table's name as queries must write it (schema-qualified on PostgreSQL)."""

    @abstractmethod
    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        """A cursor in a transaction of the view's database."""

    @abstractmethod
    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A cursor for one statement that only reads."""

    @abstractmethod
    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A cursor in a transaction that commits, for many statements sent together."""

    @abstractmethod
    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None: ...

    @abstractmethod
    def _serialise_setup(self, cursor: Any) -> None:
        """Make concurrent setups of the same view (two workers starting together) wait for
        each other, so that the second sees the first's tables rather than racing it."""

    # -- setup ---------------------------------------------------------------------------------

    def prepare(self, view: ViewSpec) -> Versions:
        """Create the view's first version and its read views unless they exist; its versions."""
        with self._transaction(commit=True) as c:
            self._serialise_setup(c)
            self._execute(
                c,
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {view_versions} (view TEXT PRIMARY KEY, "
                    "current_version BIGINT NOT NULL, building_version BIGINT)"
                ),
            )
            versions = self._versions(c, view.name)
            if versions is None:
                versions = Versions(current=1, building=None)
                self._execute(
                    c,
                    self._sql("INSERT INTO {view_versions} VALUES (?, 1, NULL)"),
                    (view.name,),
                )
                self._create_tables(c, view, 1)
                self._point_read_views(c, view, 1)
        return versions

    def versions(self, view: str) -> Versions:
        with self._reading() as c:
            found = self._versions(c, view)
        if found is None:
            raise LookupError(f"the view {view} has not been prepared")
        return found

    def begin_rebuild(self, view: ViewSpec) -> int:
        """The version being rebuilt beside the current one, begun now unless one is under way
        (a rebuild interrupted resumes from its own tracking)."""
        with self._transaction(commit=True) as c:
            self._serialise_setup(c)
            versions = self._versions(c, view.name)
            assert versions is not None, "prepare the view first"
            if versions.building is not None:
                return versions.building
            building = versions.current + 1
            self._create_tables(c, view, building)
            self._execute(
                c,
                self._sql("UPDATE {view_versions} SET building_version=? WHERE view=?"),
                (building, view.name),
            )
        return building

    def switch(self, view: ViewSpec, version: int) -> None:
        """Make a rebuilt version the one read, atomically, and drop the version it replaces."""
        with self._transaction(commit=True) as c:
            self._serialise_setup(c)
            versions = self._versions(c, view.name)
            assert versions is not None
            assert versions.building == version, versions
            self._execute(
                c,
                self._sql(
                    "UPDATE {view_versions} SET current_version=?, building_version=NULL "
                    "WHERE view=?"
                ),
                (version, view.name),
            )
            self._point_read_views(c, view, version)
            for table in view.tables:
                self._execute(
                    c,
                    self._sql(
                        "DROP TABLE IF EXISTS {old}", old=versioned(table.name, versions.current)
                    ),
                )

    # -- writing ---------------------------------------------------------------------------------

    def write(
        self,
        view: ViewSpec,
        version: int,
        rows: Mapping[str, Sequence[Row]],
        tracking: Tracking,
    ) -> None:
        """Upsert rows into a version's tables and move its tracking, in one transaction."""
        with self._writing() as c:
            for table_name, table_rows in rows.items():
                if table_rows:
                    self._upsert_rows(c, view.table(table_name), version, table_rows)
            self._insert_tracking_in(c, tracking)

    def _upsert_rows(self, c: Any, table: Table, version: int, rows: Sequence[Row]) -> None:
        self._executemany(c, self._upsert(table, version), rows)

    def _upsert(self, table: Table, version: int, *, arrays: Sequence[str] = ()) -> str:
        """The upsert of one row, or with `arrays` (a parameter each column, in order) of the
        rows those arrays make together."""
        columns = table.column_names
        updates = [c for c in columns if c not in table.key]
        template = (
            "INSERT INTO {table} ({columns}) SELECT * FROM unnest({values}) "
            if arrays
            else "INSERT INTO {table} ({columns}) VALUES ({values}) "
        )
        return self._sql(
            template + "ON CONFLICT ({key}) {then}",
            table=versioned(table.name, version),
            raw={
                "columns": ", ".join(columns),
                "values": ", ".join(arrays or ["?" for _ in columns]),
                "key": ", ".join(table.key),
                "then": "DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in updates)
                if updates
                else "DO NOTHING",
            },
        )

    # -- reading ---------------------------------------------------------------------------------

    def tracked(self, view: str, version: int) -> int:
        """The last position a version has taken in (0 for none)."""
        return self.max_tracking_id(tracking_name(view, version)) or 0

    def progress(self, view: str) -> Progress:
        """The view's versions and their tracking, in one query: what a worker asks each round."""
        found = self.query(
            "SELECT v.current_version, v.building_version, "
            "(SELECT MAX(notification_id) FROM {tracking} "
            "WHERE application_name = v.view || '_v' || v.current_version) AS current_at, "
            "(SELECT MAX(notification_id) FROM {tracking} "
            "WHERE application_name = v.view || '_v' || v.building_version) AS building_at "
            "FROM {view_versions} v WHERE v.view=?",
            (view,),
            tracking=self.tracking_table,
        )
        if not found:
            raise LookupError(f"the view {view} has not been prepared")
        [row] = found
        building = row["building_version"]
        return Progress(
            versions=Versions(current=row["current_version"], building=building),
            current_at=row["current_at"] or 0,
            building_at=None if building is None else row["building_at"] or 0,
        )

    def position(self, view: str) -> int:
        """The last position the version now read has taken in (0 for none), in one query."""
        found = self.query(
            "SELECT t.notification_id FROM {tracking} t JOIN {view_versions} v "
            "ON t.application_name = v.view || '_v' || v.current_version WHERE v.view=?",
            (view,),
            tracking=self.tracking_table,
        )
        return int(found[0]["notification_id"]) if found else 0

    def query(
        self, statement: str, params: Sequence[SqlValue] = (), **tables: str
    ) -> list[dict[str, Any]]:
        """Rows of one statement whose table names are in braces (`_sql`)."""
        with self._reading() as c:
            self._execute(c, self._sql(statement, raw=None, **tables), params)
            return [dict(row) for row in c.fetchall()]

    def _sql(self, template: str, *, raw: Mapping[str, str] | None = None, **tables: str) -> str:
        """A statement from a template whose braced names are tables: "{view_versions}" as
        itself, "{members}" as the table `members=` names, each qualified for the store; `raw`
        fills in lists of columns. Every name comes from a `ViewSpec` or this module, never
        from a request, which is why building SQL from them is safe."""
        names = {n: self._name(tables.get(n, n)) for n in _braced_names(template)}
        return template.format(**{**names, **(raw or {})})

    # -- helpers ---------------------------------------------------------------------------------

    def _versions(self, c: Any, view: str) -> Versions | None:
        self._execute(
            c,
            self._sql("SELECT current_version, building_version FROM {view_versions} WHERE view=?"),
            (view,),
        )
        found = c.fetchone()
        if found is None:
            return None
        return Versions(current=found["current_version"], building=found["building_version"])

    def _create_tables(self, c: Any, view: ViewSpec, version: int) -> None:
        for table in view.tables:
            name = versioned(table.name, version)
            columns = ", ".join(f"{column} {kind}" for column, kind in table.columns)
            self._execute(
                c,
                self._sql(
                    "CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY ({key}))",
                    table=name,
                    raw={"columns": columns, "key": ", ".join(table.key)},
                ),
            )
            for index in table.indexes:
                self._execute(
                    c,
                    self._sql(
                        "CREATE INDEX IF NOT EXISTS {index} ON {table} ({columns})",
                        table=name,
                        raw={"index": f"{name}_{'_'.join(index)}", "columns": ", ".join(index)},
                    ),
                )

    def _point_read_views(self, c: Any, view: ViewSpec, version: int) -> None:
        for table in view.tables:
            self._execute(c, self._sql("DROP VIEW IF EXISTS {read}", read=table.name))
            self._execute(
                c,
                self._sql(
                    "CREATE VIEW {read} AS SELECT * FROM {table}",
                    read=table.name,
                    table=versioned(table.name, version),
                ),
            )

    def _execute(
        self, c: Any, statement: str, params: Sequence[SqlValue | list[SqlValue]] = ()
    ) -> None:
        c.execute(statement.replace("?", self.placeholder), params)

    def _executemany(self, c: Any, statement: str, rows: Sequence[Row]) -> None:
        c.executemany(statement.replace("?", self.placeholder), rows)


class SQLiteViewStore(SQLiteTrackingRecorder, ViewStore):
    def _name(self, name: str) -> str:
        return f'"{name}"'

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as c:
            yield c

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as c:
            yield c

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        self._insert_tracking(cursor, tracking)

    def _serialise_setup(self, cursor: Any) -> None:
        # Taking the write lock now rather than at the first write: SQLite admits one writer, and
        # a transaction that read first could not take it later without failing.
        cursor.execute("UPDATE tracking SET notification_id=notification_id WHERE 0")


class PostgresViewStore(PostgresTrackingRecorder, ViewStore):
    placeholder = "%s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracking_table = self.tracking_table_name

    def _name(self, name: str) -> str:
        return f'"{self.datastore.schema}"."{name}"'

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as c:
            yield c

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        # One statement on a connection in autocommit is a transaction of its own: a BEGIN and
        # a ROLLBACK around it would only cost two more round trips to the server.
        with self.datastore.get_connection() as conn, conn.cursor() as c:
            yield c

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        # In pipeline mode the BEGIN, every upsert and the tracking go to the server together,
        # and wait for one answer (when the tracking's is read), then the COMMIT for another:
        # a transaction's round trips no longer grow with the number of its statements.
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline(),
            conn.transaction(),
            conn.cursor() as c,
        ):
            yield c

    def _upsert_rows(self, c: Any, table: Table, version: int, rows: Sequence[Row]) -> None:
        # One statement for a batch's rows of a table, each column sent as one array: even in a
        # pipeline, `executemany` had the server parse, plan and answer each row on its own, and
        # psycopg handle each answer, which cost more than the whole fold of the activity feed.
        # The arrays go in the binary format: in text, psycopg escaped every quote of every JSON
        # row with a regular expression, which cost more again. One statement may not update a
        # row twice, so a key repeated keeps its last row, as upserting one by one would.
        at = [table.column_names.index(column) for column in table.key]
        last = {tuple(row[i] for i in at): row for row in rows}
        arrays = [f"%b::{kind.split()[0]}[]" for _, kind in table.columns]
        self._execute(
            c,
            self._upsert(table, version, arrays=arrays),
            [list(column) for column in zip(*last.values(), strict=True)],
        )

    def _insert_tracking_in(self, cursor: Any, tracking: Tracking) -> None:
        # A cursor of its own: in a pipeline, the one the upserts went through may still be
        # handed their results when the tracking's row is asked for.
        with cursor.connection.cursor() as own:
            self._insert_tracking(own, tracking)

    def _serialise_setup(self, cursor: Any) -> None:
        key = zlib.crc32(f"{self.datastore.schema}:view setup".encode())
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


# The library's tracking recorder records its table's migration on creation, and two threads
# creating it at once (a worker's view threads starting together) both try: on SQLite, which has
# no advisory lock to serialise that (PostgreSQL's setup takes one), one of them failed.
_SETTING_UP = threading.Lock()


def view_store(env: Mapping[str, str]) -> ViewStore:
    """The view store of the ledger's own database (`Settings.ledger_env()`)."""
    factory: InfrastructureFactory[TrackingRecorder] = InfrastructureFactory.construct(
        Environment(VIEW_STORE_NAME, dict(env))
    )
    store_class: type[ViewStore] = (
        PostgresViewStore if env["PERSISTENCE_MODULE"].endswith("postgres") else SQLiteViewStore
    )
    with _SETTING_UP:
        store = factory.tracking_recorder(store_class)
    assert isinstance(store, ViewStore)
    return store


def _braced_names(statement: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(statement) if name}

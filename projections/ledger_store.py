"""The ledger's recorders: the library's event tables plus what must commit with the events.

Each event's audit leaf (and the subtree hashes it completes), an idempotent write's record and
an account's password hash are written in the same transaction as the events they belong to
(DESIGN §3, §5), the way the library's searchable-timestamps example writes its index. One
recorder per store; both implement `domain.application.LedgerRecorder` and
`projections.audit_log.AuditStore`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.application import IdempotentWrite, RecordedNotification, StoredWrite
from projections import merkle
from projections.audit_log import LoggedEvent, NewRows, StoredCheckpoint, StoredLeaf, new_rows
from projections.merkle import NodeRef


def _positions(
    stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
) -> dict[tuple[str, int], int]:
    return {
        (str(e.originator_id), e.originator_version): n
        for e, n in zip(stored_events, notification_ids, strict=True)
    }


def _write_rows(
    writes: Iterable[IdempotentWrite], positions: dict[tuple[str, int], int]
) -> list[tuple[str, str, str, str, int, bytes, int]]:
    return [
        (
            w.owner,
            w.key,
            w.fingerprint,
            str(w.aggregate_id),
            w.version,
            w.value,
            max(positions[(str(oid), v)] for oid, v in w.events),
        )
        for w in writes
    ]


def _logged(row: Any) -> LoggedEvent:
    return LoggedEvent(
        position=row["notification_id"],
        aggregate_id=UUID(str(row["originator_id"])),
        version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def _leaf(row: Any) -> StoredLeaf:
    return StoredLeaf(
        index=row["leaf_index"],
        position=row["notification_id"],
        recorded_at=_instant(row["recorded_at"]),
        hash=bytes(row["leaf_hash"]),
        event=None if row["originator_id"] is None else _logged(row),
    )


def _recorded(row: Any) -> RecordedNotification:
    # Joined to its leaf: an event the audit log does not cover has no recorded time and is not
    # vouched for (the verifier reports it), so it is no part of what the ledger knew.
    return RecordedNotification(
        notification=Notification(
            id=row["notification_id"],
            originator_id=UUID(str(row["originator_id"])),
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        ),
        recorded_at=_instant(row["recorded_at"]),
    )


def _instant(value: datetime | str) -> datetime:
    # SQLite keeps instants as ISO 8601 text in UTC with microseconds, which sorts as time does.
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class _AuditTables:
    """The audit log's rows, appended inside the events' transaction, and read back.

    Each store supplies its statements; the SQL differs only in placeholders, types and the
    way a set of (level, index) pairs is passed.
    """

    datastore: Any
    _sql: dict[str, Any]
    # The log's frontier as of this process's last committed append. The next append reuses
    # it when the log has not grown since (the usual case with one API process), which saves
    # reading the frontier's hashes back inside every transaction.
    _committed: merkle.Frontier | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._appending = threading.local()  # the frontier a transaction in progress made

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        self._appending.tree = None
        notification_ids = super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        # Only now is the transaction committed; a rolled back one leaves the cache as it was.
        if self._appending.tree is not None:
            self._committed = self._appending.tree
        return notification_ids

    def _append_leaves(
        self, cursor: Any, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
    ) -> None:
        # The library serialises inserts (an exclusive lock on PostgreSQL, one writer on
        # SQLite), so the log's size cannot change under this transaction. Each insert is
        # guarded by the size it assumed, so a stale cache writes nothing and is replaced.
        committed = self._committed
        if committed is not None:
            tree = merkle.Frontier(committed.size, committed.hashes)
            if self._insert_rows(
                cursor, committed.size, new_rows(tree, stored_events, notification_ids)
            ):
                self._appending.tree = tree
                return
        size = self._head(cursor)
        stored = self._hashes(cursor, merkle.frontier(size))
        tree = merkle.Frontier(size, [stored[ref] for ref in merkle.frontier(size)])
        if not self._insert_rows(cursor, size, new_rows(tree, stored_events, notification_ids)):
            raise RuntimeError("the audit log grew while its events' table was locked")
        self._appending.tree = tree

    def _head(self, cursor: Any) -> int:
        cursor.execute(self._sql["head"])
        size = cursor.fetchone()["size"]
        return 0 if size is None else int(size)

    def _insert_rows(self, cursor: Any, size: int, rows: NewRows) -> bool:
        """Write the rows if the log still has `size` leaves; whether it had."""
        if self._head(cursor) != size:
            return False
        recorded_at = datetime.now(UTC).isoformat(timespec="microseconds")
        cursor.executemany(self._sql["insert_leaf"], [(*leaf, recorded_at) for leaf in rows.leaves])
        cursor.executemany(self._sql["insert_node"], rows.nodes)
        return True

    def _hashes(self, cursor: Any, refs: Iterable[NodeRef]) -> dict[NodeRef, bytes]:
        leaves = sorted(ref.index for ref in refs if ref.level == 0)
        nodes = sorted((ref.level, ref.index) for ref in refs if ref.level > 0)
        found: dict[NodeRef, bytes] = {}
        if leaves:
            cursor.execute(self._sql["leaf_hashes"], self._leaf_params(leaves))
            found.update(
                (NodeRef(0, r["leaf_index"]), bytes(r["leaf_hash"])) for r in cursor.fetchall()
            )
        if nodes:
            cursor.execute(self._sql["node_hashes"], self._node_params(nodes))
            found.update(
                (NodeRef(r["level"], r["node_index"]), bytes(r["hash"])) for r in cursor.fetchall()
            )
        return found

    # SQLite takes a set of positions as one JSON parameter; PostgreSQL overrides these.
    def _leaf_params(self, indexes: list[int]) -> tuple[Any, ...]:
        return (json.dumps(indexes),)

    def _node_params(self, pairs: list[tuple[int, int]]) -> tuple[Any, ...]:
        return (json.dumps(pairs),)

    def _read(self, statement: Any, params: Sequence[Any] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def audit_size(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            return self._head(cursor)

    def audit_hashes(self, refs: Iterable[NodeRef]) -> dict[NodeRef, bytes]:
        with self.datastore.transaction(commit=False) as cursor:
            return self._hashes(cursor, list(refs))

    def audit_leaves(self, start: int, limit: int) -> list[StoredLeaf]:
        return [_leaf(row) for row in self._read(self._sql["select_leaves"], (start, limit))]

    def unlogged_events(self, limit: int) -> list[LoggedEvent]:
        return [_logged(row) for row in self._read(self._sql["select_unlogged"], (limit,))]

    def position_at(self, instant: datetime) -> int:
        rows = self._read(self._sql["position_at"], (self._instant_param(instant),))
        return int(rows[0]["notification_id"]) if rows else 0

    def _instant_param(self, instant: datetime) -> Any:
        return instant.astimezone(UTC).isoformat(timespec="microseconds")

    def record_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self._sql["insert_checkpoint"],
                (
                    checkpoint.size,
                    checkpoint.root,
                    checkpoint.note,
                    self._instant_param(checkpoint.signed_at),
                ),
            )

    def checkpoints(self, before: int | None, limit: int) -> list[StoredCheckpoint]:
        rows = self._read(self._sql["select_checkpoints"], (before, before, limit))
        return [
            StoredCheckpoint(
                size=row["tree_size"],
                root=bytes(row["root_hash"]),
                note=row["note"],
                signed_at=_instant(row["signed_at"]),
            )
            for row in rows
        ]


class SQLiteLedgerRecorder(_AuditTables, SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotent_writes ("
            "owner TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, value BLOB NOT NULL, "
            "position INTEGER NOT NULL, PRIMARY KEY (owner, key))",
            "CREATE TABLE IF NOT EXISTS credentials ("
            "account_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS audit_leaves ("
            "leaf_index INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL UNIQUE, "
            "leaf_hash BLOB NOT NULL, recorded_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS audit_leaves_recorded_at ON audit_leaves (recorded_at)",
            "CREATE TABLE IF NOT EXISTS audit_nodes ("
            "level INTEGER NOT NULL, node_index INTEGER NOT NULL, hash BLOB NOT NULL, "
            "PRIMARY KEY (level, node_index)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS audit_checkpoints ("
            "tree_size INTEGER PRIMARY KEY, root_hash BLOB NOT NULL, note TEXT NOT NULL, "
            "signed_at TEXT NOT NULL)",
        ]

    _sql = {
        "head": "SELECT max(leaf_index) + 1 AS size FROM audit_leaves",
        "insert_leaf": "INSERT INTO audit_leaves VALUES (?,?,?,?)",
        "insert_node": "INSERT INTO audit_nodes VALUES (?,?,?)",
        "select_leaves": "SELECT l.*, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM audit_leaves l LEFT JOIN stored_events e ON e.rowid = l.notification_id "
        "WHERE l.leaf_index >= ? ORDER BY l.leaf_index LIMIT ?",
        "select_unlogged": "SELECT e.rowid AS notification_id, e.* FROM stored_events e "
        "LEFT JOIN audit_leaves l ON l.notification_id = e.rowid "
        "WHERE l.leaf_index IS NULL ORDER BY e.rowid LIMIT ?",
        "position_at": "SELECT notification_id FROM audit_leaves WHERE recorded_at <= ? "
        "ORDER BY recorded_at DESC, leaf_index DESC LIMIT 1",
        "insert_checkpoint": "INSERT INTO audit_checkpoints VALUES (?,?,?,?) "
        "ON CONFLICT (tree_size) DO NOTHING",
        "select_checkpoints": "SELECT * FROM audit_checkpoints WHERE ? IS NULL OR tree_size < ? "
        "ORDER BY tree_size DESC LIMIT ?",
        "leaf_hashes": "SELECT leaf_index, leaf_hash FROM audit_leaves "
        "WHERE leaf_index IN (SELECT value FROM json_each(?))",
        "node_hashes": "SELECT n.level, n.node_index, n.hash FROM json_each(?) w "
        "JOIN audit_nodes n ON n.level = json_extract(w.value, '$[0]') "
        "AND n.node_index = json_extract(w.value, '$[1]')",
    }

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events)
        assert notification_ids is not None
        self._append_leaves(c, stored_events, notification_ids)
        rows = _write_rows(kwargs.get("writes", ()), _positions(stored_events, notification_ids))
        c.executemany("INSERT INTO idempotent_writes VALUES (?,?,?,?,?,?,?)", rows)
        c.executemany(
            "INSERT INTO credentials VALUES (?,?) "
            "ON CONFLICT (account_id) DO UPDATE SET password_hash=excluded.password_hash",
            [(str(a), h) for a, h in kwargs.get("credentials", {}).items()],
        )
        return notification_ids

    def find_write(self, owner: str, key: str) -> StoredWrite | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT fingerprint, aggregate_id, version, value, position "
                "FROM idempotent_writes WHERE owner=? AND key=?",
                (owner, key),
            )
            row = c.fetchone()
        if row is None:
            return None
        return StoredWrite(
            fingerprint=row["fingerprint"],
            aggregate_id=UUID(row["aggregate_id"]),
            version=row["version"],
            value=bytes(row["value"]),
            position=row["position"],
        )

    def password_hash(self, account_id: UUID) -> str | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT password_hash FROM credentials WHERE account_id=?", (str(account_id),)
            )
            row = c.fetchone()
        return None if row is None else str(row["password_hash"])

    # The library's events table (stored_events, as above) keeps an originator id as its hex
    # digits, and its rowid is the notification id.

    def events_at(self, aggregate_ids: Collection[UUID], position: int) -> list[StoredEvent]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "WHERE originator_id IN (SELECT value FROM json_each(?)) AND rowid<=? "
                "ORDER BY originator_id, originator_version",
                (json.dumps([a.hex for a in aggregate_ids]), position),
            )
            return [
                StoredEvent(
                    originator_id=UUID(row["originator_id"]),
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in c.fetchall()
            ]

    def changed_since(self, position: int, limit: int) -> list[Notification]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                "FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (position, limit),
            )
            return [
                Notification(
                    id=row[0],
                    originator_id=UUID(row[1]),
                    originator_version=row[2],
                    topic=row[3],
                    state=bytes(row[4]),
                )
                for row in c.fetchall()
            ]

    def recorded_events(
        self, aggregate_ids: Collection[UUID], after: int, up_to: int, limit: int
    ) -> list[RecordedNotification]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT e.rowid AS notification_id, e.originator_id, e.originator_version, "
                "e.topic, e.state, l.recorded_at FROM stored_events e "
                "JOIN audit_leaves l ON l.notification_id = e.rowid "
                "WHERE e.originator_id IN (SELECT value FROM json_each(?)) "
                "AND e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?",
                (json.dumps([a.hex for a in aggregate_ids]), after, up_to, limit),
            )
            return [_recorded(row) for row in c.fetchall()]


class PostgresLedgerRecorder(_AuditTables, PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.idempotent_writes ("
                "owner text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, "
                "aggregate_id uuid NOT NULL, version bigint NOT NULL, value bytea NOT NULL, "
                "position bigint NOT NULL, PRIMARY KEY (owner, key))"
            ).format(schema),
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.credentials ("
                "account_id uuid PRIMARY KEY, password_hash text NOT NULL)"
            ).format(schema),
        ]
        self._insert_write = SQL(
            "INSERT INTO {}.idempotent_writes VALUES (%s,%s,%s,%s,%s,%s,%s)"
        ).format(schema)
        self._upsert_credentials = SQL(
            "INSERT INTO {}.credentials VALUES (%s,%s) ON CONFLICT (account_id) "
            "DO UPDATE SET password_hash=excluded.password_hash"
        ).format(schema)
        self._select_write = SQL(
            "SELECT fingerprint, aggregate_id, version, value, position "
            "FROM {}.idempotent_writes WHERE owner=%s AND key=%s"
        ).format(schema)
        self._select_hash = SQL(
            "SELECT password_hash FROM {}.credentials WHERE account_id=%s"
        ).format(schema)
        events = Identifier(self.events_table_name)
        self._select_changed = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {}.{} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema, events)
        self._select_events_at = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s) AND notification_id<=%s "
            "ORDER BY originator_id, originator_version"
        ).format(schema, events)
        self._select_recorded = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
            "l.recorded_at FROM {0}.{1} e JOIN {0}.audit_leaves l "
            "ON l.notification_id = e.notification_id "
            "WHERE e.originator_id = ANY(%s) AND e.notification_id > %s "
            "AND e.notification_id <= %s ORDER BY e.notification_id LIMIT %s"
        ).format(schema, events)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.audit_leaves ("
                "leaf_index bigint PRIMARY KEY, notification_id bigint NOT NULL UNIQUE, "
                "leaf_hash bytea NOT NULL, recorded_at timestamptz NOT NULL)"
            ).format(schema),
            SQL(
                "CREATE INDEX IF NOT EXISTS audit_leaves_recorded_at "
                "ON {}.audit_leaves (recorded_at)"
            ).format(schema),
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.audit_nodes ("
                "level smallint NOT NULL, node_index bigint NOT NULL, hash bytea NOT NULL, "
                "PRIMARY KEY (level, node_index))"
            ).format(schema),
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.audit_checkpoints ("
                "tree_size bigint PRIMARY KEY, root_hash bytea NOT NULL, note text NOT NULL, "
                "signed_at timestamptz NOT NULL)"
            ).format(schema),
        ]
        events = Identifier(self.events_table_name)
        self._sql = {
            "head": SQL("SELECT max(leaf_index) + 1 AS size FROM {}.audit_leaves").format(schema),
            # One statement and one round trip for a whole batch's leaves and subtrees, written
            # only if the log still has the size they were computed for. The database's clock,
            # read under the insert lock, dates them, so that recorded times rise with leaf
            # indexes whichever API process wrote them.
            "append": SQL(
                "WITH guard AS (SELECT coalesce(max(leaf_index) + 1, 0) = %s AS holds "
                "FROM {0}.audit_leaves), "
                "leaves AS (INSERT INTO {0}.audit_leaves "
                "SELECT l.*, clock_timestamp() FROM unnest(%b::bigint[], %b::bigint[], "
                "%b::bytea[]) AS l, guard WHERE guard.holds RETURNING 1), "
                "nodes AS (INSERT INTO {0}.audit_nodes "
                "SELECT n.* FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[]) AS n, guard "
                "WHERE guard.holds) "
                "SELECT holds FROM guard"
            ).format(schema),
            "select_leaves": SQL(
                "SELECT l.*, e.originator_id, e.originator_version, e.topic, e.state "
                "FROM {0}.audit_leaves l LEFT JOIN {0}.{1} e "
                "ON e.notification_id = l.notification_id "
                "WHERE l.leaf_index >= %s ORDER BY l.leaf_index LIMIT %s"
            ).format(schema, events),
            "select_unlogged": SQL(
                "SELECT e.* FROM {0}.{1} e LEFT JOIN {0}.audit_leaves l "
                "ON l.notification_id = e.notification_id "
                "WHERE l.leaf_index IS NULL ORDER BY e.notification_id LIMIT %s"
            ).format(schema, events),
            "position_at": SQL(
                "SELECT notification_id FROM {}.audit_leaves WHERE recorded_at <= %s "
                "ORDER BY recorded_at DESC, leaf_index DESC LIMIT 1"
            ).format(schema),
            "insert_checkpoint": SQL(
                "INSERT INTO {}.audit_checkpoints VALUES (%s,%s,%s,%s) "
                "ON CONFLICT (tree_size) DO NOTHING"
            ).format(schema),
            "select_checkpoints": SQL(
                "SELECT * FROM {}.audit_checkpoints "
                "WHERE %s::bigint IS NULL OR tree_size < %s ORDER BY tree_size DESC LIMIT %s"
            ).format(schema),
            "leaf_hashes": SQL(
                "SELECT leaf_index, leaf_hash FROM {}.audit_leaves WHERE leaf_index = ANY(%s)"
            ).format(schema),
            "node_hashes": SQL(
                "SELECT n.level, n.node_index, n.hash FROM {}.audit_nodes n "
                "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, node_index) "
                "USING (level, node_index)"
            ).format(schema),
        }

    def _insert_rows(self, cursor: Any, size: int, rows: NewRows) -> bool:
        # Columns as lists, which psycopg sends as arrays (tuples would be records).
        leaves = [list(column) for column in zip(*rows.leaves, strict=True)]
        nodes = [list(column) for column in zip(*rows.nodes, strict=True)] or [[], [], []]
        cursor.execute(self._sql["append"], (size, *leaves, *nodes), prepare=True)
        return bool(cursor.fetchone()["holds"])

    def _instant_param(self, instant: datetime) -> Any:
        return instant

    def _leaf_params(self, indexes: list[int]) -> tuple[Any, ...]:
        return (indexes,)

    def _node_params(self, pairs: list[tuple[int, int]]) -> tuple[Any, ...]:
        return ([level for level, _ in pairs], [index for _, index in pairs])

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The notification ids are known only once the events are inserted; the rows below
        # ride in the same transaction, so a clash on an idempotency key undoes the events too.
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events)
        assert notification_ids is not None
        self._append_leaves(curs, stored_events, notification_ids)
        rows = _write_rows(kwargs.get("writes", ()), _positions(stored_events, notification_ids))
        if rows:
            curs.executemany(self._insert_write, rows)
        credentials = [(a, h) for a, h in kwargs.get("credentials", {}).items()]
        if credentials:
            curs.executemany(self._upsert_credentials, credentials)
        return notification_ids

    def find_write(self, owner: str, key: str) -> StoredWrite | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_write, (owner, key))
            row = curs.fetchone()
        if row is None:
            return None
        return StoredWrite(
            fingerprint=row["fingerprint"],
            aggregate_id=row["aggregate_id"],
            version=row["version"],
            value=bytes(row["value"]),
            position=row["position"],
        )

    def password_hash(self, account_id: UUID) -> str | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_hash, (account_id,))
            row = curs.fetchone()
        return None if row is None else str(row["password_hash"])

    def events_at(self, aggregate_ids: Collection[UUID], position: int) -> list[StoredEvent]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_events_at, (list(aggregate_ids), position))
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def recorded_events(
        self, aggregate_ids: Collection[UUID], after: int, up_to: int, limit: int
    ) -> list[RecordedNotification]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_recorded, (list(aggregate_ids), after, up_to, limit))
            return [_recorded(row) for row in curs.fetchall()]

    def changed_since(self, position: int, limit: int) -> list[Notification]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_changed, (position, limit), prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

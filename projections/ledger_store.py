"""The ledger's recorders: the library's event tables plus what must commit with the events.

Each event's audit leaf (and the subtree hashes it completes), an idempotent write's record and
an account's password hash are written in the same transaction as the events they belong to
(DESIGN §3, §5), the way the library's searchable-timestamps example writes its index. One
recorder per store; both implement `domain.application.LedgerRecorder` and
`projections.audit_log.AuditStore`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.application import IdempotentWrite, StoredWrite
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


def _leaf(row: Any) -> StoredLeaf:
    event = None
    if row["originator_id"] is not None:
        event = LoggedEvent(
            position=row["notification_id"],
            aggregate_id=UUID(str(row["originator_id"])),
            version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
    return StoredLeaf(
        index=row["leaf_index"],
        position=row["notification_id"],
        recorded_at=_instant(row["recorded_at"]),
        hash=bytes(row["leaf_hash"]),
        event=event,
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

    def _append_leaves(
        self, cursor: Any, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
    ) -> None:
        # The library serialises inserts (an exclusive lock on PostgreSQL, one writer on
        # SQLite), so the log's size read here cannot change before this transaction ends.
        cursor.execute(self._sql["head"])
        head = cursor.fetchone()
        size = 0 if head["size"] is None else head["size"]
        frontier = self._hashes(cursor, merkle.frontier(size))
        rows: NewRows = new_rows(size, frontier, stored_events, notification_ids)
        recorded_at = self._recorded_at(head)
        cursor.executemany(self._sql["insert_leaf"], [(*leaf, recorded_at) for leaf in rows.leaves])
        if rows.nodes:
            cursor.executemany(self._sql["insert_node"], rows.nodes)

    def _recorded_at(self, head: Any) -> Any:
        return datetime.now(UTC).isoformat(timespec="microseconds")

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
        [row] = self._read(self._sql["head"])
        return 0 if row["size"] is None else int(row["size"])

    def audit_hashes(self, refs: Iterable[NodeRef]) -> dict[NodeRef, bytes]:
        with self.datastore.transaction(commit=False) as cursor:
            return self._hashes(cursor, list(refs))

    def audit_leaves(self, start: int, limit: int) -> list[StoredLeaf]:
        return [_leaf(row) for row in self._read(self._sql["select_leaves"], (start, limit))]

    def unlogged_events(self, limit: int) -> list[LoggedEvent]:
        return [
            LoggedEvent(
                position=row["notification_id"],
                aggregate_id=UUID(str(row["originator_id"])),
                version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in self._read(self._sql["select_unlogged"], (limit,))
        ]

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
            # The database's clock, read under the insert lock, so that recorded times rise
            # with leaf indexes whichever API process wrote them.
            "head": SQL(
                "SELECT max(leaf_index) + 1 AS size, clock_timestamp() AS now FROM {}.audit_leaves"
            ).format(schema),
            "insert_leaf": SQL("INSERT INTO {}.audit_leaves VALUES (%s,%s,%s,%s)").format(schema),
            "insert_node": SQL("INSERT INTO {}.audit_nodes VALUES (%s,%s,%s)").format(schema),
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

    def _recorded_at(self, head: Any) -> Any:
        return head["now"]

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

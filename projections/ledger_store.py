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
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import Notification, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.application import IdempotentWrite, RecordedNotification, StoredWrite
from projections import merkle
from projections.audit_log import (
    STORED_LEVEL,
    LoggedEvent,
    NewRows,
    StoredCheckpoint,
    StoredLeaf,
    new_rows,
)
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


def _leaf_ranges(refs: Iterable[NodeRef]) -> list[tuple[int, int]]:
    """The leaf ranges [begin, end) the given subtrees cover, merged, in order."""
    merged: list[tuple[int, int]] = []
    for begin, end in sorted((ref.begin, ref.end) for ref in refs):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


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
        self,
        cursor: Any,
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int],
        size: int,
    ) -> None:
        """Write the rows for events just inserted into a log of `size` leaves.

        The library serialises inserts (an exclusive lock on PostgreSQL, one writer on
        SQLite), and `size` was read under it, so the log cannot grow under this transaction;
        the cached frontier is used only if it is of that size."""
        if not notification_ids:
            return  # a batch row of no leaves would take the next batch's first leaf index
        committed = self._committed
        if committed is not None and committed.size == size:
            tree = merkle.Frontier(size, committed.hashes)
        else:
            _, stored = self._sized_hashes(cursor, merkle.frontier(size))
            tree = merkle.Frontier(size, [stored[ref] for ref in merkle.frontier(size)])
        self._insert_rows(cursor, new_rows(tree, stored_events, notification_ids))
        self._appending.tree = tree

    def _head(self, cursor: Any) -> int:
        self._query(cursor, self._sql["head"], ())
        row = cursor.fetchone()
        return 0 if row is None else int(row["size"])

    def _insert_rows(self, cursor: Any, rows: NewRows) -> None:
        recorded_at = datetime.now(UTC).isoformat(timespec="microseconds")
        cursor.execute(
            self._sql["insert_batch"],
            (
                rows.first_leaf,
                rows.notification_ids[-1],
                json.dumps(rows.notification_ids),
                rows.leaf_hashes,
                recorded_at,
            ),
        )
        cursor.executemany(self._sql["insert_node"], rows.nodes)

    def _sized_hashes(
        self, cursor: Any, refs: Iterable[NodeRef]
    ) -> tuple[int, dict[NodeRef, bytes]]:
        """The log's size, its stored subtree hashes, and lower ones hashed from the leaf
        hashes they cover: one statement for all of them, whatever the mix, so that they are
        read in one snapshot."""
        refs = set(refs)
        low = [ref for ref in refs if ref.level < STORED_LEVEL]
        nodes = sorted((ref.level, ref.index) for ref in refs if ref.level >= STORED_LEVEL)
        self._query(cursor, self._sql["hashes"], self._hash_params(nodes, _leaf_ranges(low)))
        size = 0
        found: dict[NodeRef, bytes] = {}
        leaves: dict[int, bytes] = {}
        for row in cursor.fetchall():
            if row["size"] is not None:
                size = int(row["size"])
            elif row["first_leaf"] is None:
                found[NodeRef(row["level"], row["node_index"])] = bytes(row["hash"])
            else:
                digests = bytes(row["hash"])
                for offset in range(0, len(digests) - 31, 32):
                    leaves[row["first_leaf"] + offset // 32] = digests[offset : offset + 32]
        for ref in low:
            covered = [leaves.get(index) for index in range(ref.begin, ref.end)]
            if all(digest is not None for digest in covered):
                found[ref] = merkle.subtree_hash(cast(list[bytes], covered))
        return size, found

    # The statements every proof runs; PostgreSQL overrides this to prepare them.
    def _query(self, cursor: Any, statement: Any, params: Sequence[Any]) -> None:
        cursor.execute(statement, params)

    # SQLite takes a set of pairs as one JSON parameter; PostgreSQL overrides this.
    def _hash_params(
        self, nodes: list[tuple[int, int]], ranges: list[tuple[int, int]]
    ) -> tuple[Any, ...]:
        return (json.dumps(nodes), json.dumps(ranges))

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        """A cursor for reads that are one statement each."""
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor

    def _read(self, statement: Any, params: Sequence[Any] = ()) -> list[Any]:
        with self._reading() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def audit_size(self) -> int:
        with self._reading() as cursor:
            return self._head(cursor)

    def audit_sized_hashes(self, refs: Iterable[NodeRef]) -> tuple[int, dict[NodeRef, bytes]]:
        with self._reading() as cursor:
            return self._sized_hashes(cursor, refs)

    def audit_leaves(self, start: int, limit: int) -> list[StoredLeaf]:
        # Each batch holds at least one leaf, so `limit` batches from the one holding `start`
        # hold the page.
        rows = self._read(self._sql["select_leaves"], (start, limit, start, limit))
        return [_leaf(row) for row in rows]

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


# The audit log's size: where its last batch ends.
_SQLITE_HEAD = (
    "SELECT first_leaf + json_array_length(notification_ids) FROM audit_batches "
    "ORDER BY first_leaf DESC LIMIT 1"
)


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
            # One row per appending transaction: its leaves' notification ids (a JSON array)
            # and hashes (32 bytes each), in leaf order, from leaf index first_leaf on.
            "CREATE TABLE IF NOT EXISTS audit_batches ("
            "first_leaf INTEGER PRIMARY KEY, last_notification INTEGER NOT NULL, "
            "notification_ids TEXT NOT NULL, leaf_hashes BLOB NOT NULL, "
            "recorded_at TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS audit_batches_last_notification "
            "ON audit_batches (last_notification)",
            "CREATE INDEX IF NOT EXISTS audit_batches_recorded_at ON audit_batches (recorded_at)",
            # The leaves one per row, for auditors' SQL and for joins that scan the whole log.
            "CREATE VIEW IF NOT EXISTS audit_leaves AS "
            "SELECT b.first_leaf + j.key AS leaf_index, j.value AS notification_id, "
            "substr(b.leaf_hashes, j.key * 32 + 1, 32) AS leaf_hash, b.recorded_at "
            "FROM audit_batches b, json_each(b.notification_ids) j",
            "CREATE TABLE IF NOT EXISTS audit_nodes ("
            "level INTEGER NOT NULL, node_index INTEGER NOT NULL, hash BLOB NOT NULL, "
            "PRIMARY KEY (level, node_index)) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS audit_checkpoints ("
            "tree_size INTEGER PRIMARY KEY, root_hash BLOB NOT NULL, note TEXT NOT NULL, "
            "signed_at TEXT NOT NULL)",
        ]

    def _create_table(self, c: Any) -> None:
        # A ledger written before the log was kept per transaction has a table where the view
        # now goes, and SQLite's CREATE VIEW IF NOT EXISTS would skip it without a word, leaving
        # every old event unlogged. (PostgreSQL's CREATE OR REPLACE VIEW refuses a table.)
        c.execute("SELECT type FROM sqlite_master WHERE name = 'audit_leaves'")
        found = c.fetchone()
        if found is not None and found[0] != "view":
            raise RuntimeError(
                "this SQLite ledger keeps its audit log in the per-event layout Trustledger "
                "no longer reads: start a new ledger (for the demo, delete "
                "var/trustledger.sqlite3 and run `make demo` again)"
            )
        super()._create_table(c)

    _sql = {
        "head": f"SELECT coalesce(({_SQLITE_HEAD}), 0) AS size",
        "insert_batch": "INSERT INTO audit_batches VALUES (?,?,?,?,?)",
        "insert_node": "INSERT INTO audit_nodes VALUES (?,?,?)",
        "select_leaves": "WITH b AS (SELECT * FROM audit_batches WHERE first_leaf >= "
        "coalesce((SELECT max(first_leaf) FROM audit_batches WHERE first_leaf <= ?), 0) "
        "ORDER BY first_leaf LIMIT ?), "
        "l AS (SELECT b.first_leaf + j.key AS leaf_index, j.value AS notification_id, "
        "substr(b.leaf_hashes, j.key * 32 + 1, 32) AS leaf_hash, b.recorded_at "
        "FROM b, json_each(b.notification_ids) j) "
        "SELECT l.*, e.originator_id, e.originator_version, e.topic, e.state "
        "FROM l LEFT JOIN stored_events e ON e.rowid = l.notification_id "
        "WHERE l.leaf_index >= ? ORDER BY l.leaf_index LIMIT ?",
        "select_unlogged": "SELECT e.rowid AS notification_id, e.* FROM stored_events e "
        "LEFT JOIN audit_leaves l ON l.notification_id = e.rowid "
        "WHERE l.leaf_index IS NULL ORDER BY e.rowid LIMIT ?",
        "position_at": "SELECT last_notification AS notification_id FROM audit_batches "
        "WHERE recorded_at <= ? ORDER BY recorded_at DESC, first_leaf DESC LIMIT 1",
        "insert_checkpoint": "INSERT INTO audit_checkpoints VALUES (?,?,?,?) "
        "ON CONFLICT (tree_size) DO NOTHING",
        "select_checkpoints": "SELECT * FROM audit_checkpoints WHERE ? IS NULL OR tree_size < ? "
        "ORDER BY tree_size DESC LIMIT ?",
        # The log's size, stored nodes by (level, index), then the slices of batches' leaf
        # hashes that cover each leaf range [lo, hi), with the leaf index each slice starts at.
        "hashes": "SELECT NULL AS level, NULL AS node_index, NULL AS hash, "  # noqa: S608 - constant
        f"NULL AS first_leaf, coalesce(({_SQLITE_HEAD}), 0) AS size "
        "UNION ALL "
        "SELECT n.level, n.node_index, n.hash, NULL, NULL FROM json_each(?) w "
        "JOIN audit_nodes n ON n.level = json_extract(w.value, '$[0]') "
        "AND n.node_index = json_extract(w.value, '$[1]') "
        "UNION ALL "
        "SELECT NULL, NULL, substr(b.leaf_hashes, (s.lo - b.first_leaf) * 32 + 1, "
        "(s.hi - s.lo) * 32), s.lo, NULL FROM ("
        "SELECT b.first_leaf AS first_leaf, max(r.lo, b.first_leaf) AS lo, "
        "min(r.hi, b.first_leaf + json_array_length(b.notification_ids)) AS hi FROM "
        "(SELECT json_extract(value, '$[0]') AS lo, json_extract(value, '$[1]') AS hi "
        "FROM json_each(?)) r JOIN audit_batches b ON b.first_leaf < r.hi AND b.first_leaf >= "
        "coalesce((SELECT max(first_leaf) FROM audit_batches WHERE first_leaf <= r.lo), 0)"
        ") s JOIN audit_batches b USING (first_leaf) WHERE s.lo < s.hi",
    }

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events)
        assert notification_ids is not None
        self._append_leaves(c, stored_events, notification_ids, self._head(c))
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
    # digits, and its rowid is the notification id; its snapshots table is stored_snapshots.

    def events_at(
        self, aggregate_ids: Collection[UUID], position: int, *, from_snapshots: bool = False
    ) -> list[StoredEvent]:
        ids = json.dumps([a.hex for a in aggregate_ids])
        with self.datastore.transaction(commit=False) as c:
            if not from_snapshots:
                c.execute(
                    "SELECT originator_id, originator_version, topic, state FROM stored_events "
                    "WHERE originator_id IN (SELECT value FROM json_each(?)) AND rowid<=? "
                    "ORDER BY originator_id, originator_version",
                    (ids, position),
                )
            else:
                # A snapshot's version was reached by `position` if its event was logged by then.
                c.execute(
                    "WITH a(id) AS (SELECT value FROM json_each(?)), "
                    "s AS (SELECT s.originator_id, max(s.originator_version) AS originator_version "
                    "FROM stored_snapshots s JOIN stored_events e "
                    "ON e.originator_id = s.originator_id "
                    "AND e.originator_version = s.originator_version "
                    "WHERE s.originator_id IN (SELECT id FROM a) AND e.rowid <= ? "
                    "GROUP BY s.originator_id) "
                    "SELECT k.originator_id, k.originator_version, k.topic, k.state "
                    "FROM s JOIN stored_snapshots k USING (originator_id, originator_version) "
                    "UNION ALL "
                    "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                    "FROM a JOIN stored_events e ON e.originator_id = a.id "
                    "LEFT JOIN s ON s.originator_id = a.id WHERE e.rowid <= ? "
                    "AND e.originator_version > coalesce(s.originator_version, 0) "
                    "ORDER BY 1, 2",
                    (ids, position, position),
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
                # The batch that may hold an event is the first to end at or after it.
                "SELECT e.rowid AS notification_id, e.originator_id, e.originator_version, "
                "e.topic, e.state, b.recorded_at FROM stored_events e "
                "JOIN audit_batches b ON b.first_leaf = (SELECT first_leaf FROM audit_batches "
                "WHERE last_notification >= e.rowid ORDER BY last_notification LIMIT 1) "
                "AND e.rowid IN (SELECT value FROM json_each(b.notification_ids)) "
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
        # As above from each aggregate's latest snapshot whose version was reached by the
        # position (its event was logged by then), then only the events after it. The library
        # names the snapshots table as it names the events table, with "snapshots" for "events".
        snapshots = Identifier(self.events_table_name.removesuffix("_events") + "_snapshots")
        # The latest versions are chosen before any state is read: sorting the candidates with
        # their state would read every snapshot of the aggregate, not only the one wanted.
        self._select_snapshots_at = SQL(
            "WITH s AS (SELECT DISTINCT ON (s.originator_id) s.originator_id, "
            "s.originator_version FROM {0}.{2} s JOIN {0}.{1} e "
            "ON e.originator_id = s.originator_id AND e.originator_version = s.originator_version "
            "WHERE s.originator_id = ANY(%s) AND e.notification_id <= %s "
            "ORDER BY s.originator_id, s.originator_version DESC) "
            "SELECT k.originator_id, k.originator_version, k.topic, k.state "
            "FROM s JOIN {0}.{2} k USING (originator_id, originator_version) "
            "UNION ALL "
            "SELECT e.originator_id, e.originator_version, e.topic, e.state "
            "FROM unnest(%s::uuid[]) AS a(id) LEFT JOIN s ON s.originator_id = a.id "
            "JOIN {0}.{1} e ON e.originator_id = a.id "
            "AND e.originator_version > coalesce(s.originator_version, 0) "
            "WHERE e.notification_id <= %s "
            "ORDER BY originator_id, originator_version"
        ).format(schema, events, snapshots)
        # The batch that may hold an event is the first to end at or after it.
        self._select_recorded = SQL(
            "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic, e.state, "
            "b.recorded_at FROM {0}.{1} e CROSS JOIN LATERAL ("
            "SELECT recorded_at, notification_ids FROM {0}.audit_batches "
            "WHERE last_notification >= e.notification_id ORDER BY last_notification LIMIT 1) b "
            "WHERE e.notification_id = ANY(b.notification_ids) "
            "AND e.originator_id = ANY(%s) AND e.notification_id > %s "
            "AND e.notification_id <= %s ORDER BY e.notification_id LIMIT %s"
        ).format(schema, events)
        self.sql_create_statements += [
            # One row per appending transaction: its leaves' notification ids and hashes
            # (32 bytes each), in leaf order, from leaf index first_leaf on.
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.audit_batches ("
                "first_leaf bigint PRIMARY KEY, last_notification bigint NOT NULL, "
                "notification_ids bigint[] NOT NULL, leaf_hashes bytea NOT NULL, "
                "recorded_at timestamptz NOT NULL)"
            ).format(schema),
            SQL(
                "CREATE INDEX IF NOT EXISTS audit_batches_last_notification "
                "ON {}.audit_batches (last_notification)"
            ).format(schema),
            SQL(
                "CREATE INDEX IF NOT EXISTS audit_batches_recorded_at "
                "ON {}.audit_batches (recorded_at)"
            ).format(schema),
            # The leaves one per row, for auditors' SQL and for joins that scan the whole log.
            SQL(
                "CREATE OR REPLACE VIEW {0}.audit_leaves AS "
                "SELECT b.first_leaf + u.o - 1 AS leaf_index, u.notification_id, "
                "substring(b.leaf_hashes FROM (u.o::int - 1) * 32 + 1 FOR 32) AS leaf_hash, "
                "b.recorded_at FROM {0}.audit_batches b CROSS JOIN LATERAL "
                "unnest(b.notification_ids) WITH ORDINALITY AS u(notification_id, o)"
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
        # The audit log's size: where its last batch ends (0 before the first).
        head = SQL(
            "coalesce((SELECT first_leaf + cardinality(notification_ids) "
            "FROM {}.audit_batches ORDER BY first_leaf DESC LIMIT 1), 0)"
        ).format(schema)
        # The events' INSERT also reads the log's size, under the library's insert lock, so
        # that the batch's leaves can be placed without another round trip before COMMIT.
        self.insert_events_statement = SQL(
            "WITH inserted AS ({}) SELECT notification_id, {} AS audit_size FROM inserted"
        ).format(self.insert_events_statement, head)
        events = Identifier(self.events_table_name)
        self._sql = {
            "head": SQL("SELECT {} AS size").format(head),
            # A whole batch's leaves and subtrees in one statement, which nothing waits for:
            # it goes to the server with COMMIT, and if it fails the COMMIT fails with it. The
            # database's clock, read under the insert lock, dates the batch, so that recorded
            # times rise with leaf indexes whichever API process wrote them.
            "append": SQL(
                "WITH batch AS (INSERT INTO {0}.audit_batches "
                "VALUES (%b::bigint, %b::bigint, %b::bigint[], %b::bytea, clock_timestamp())) "
                "INSERT INTO {0}.audit_nodes "
                "SELECT * FROM unnest(%b::smallint[], %b::bigint[], %b::bytea[])"
            ).format(schema),
            "select_leaves": SQL(
                "WITH b AS (SELECT * FROM {0}.audit_batches WHERE first_leaf >= "
                "coalesce((SELECT max(first_leaf) FROM {0}.audit_batches WHERE first_leaf <= %s),"
                " 0) ORDER BY first_leaf LIMIT %s), "
                "l AS (SELECT b.first_leaf + u.o - 1 AS leaf_index, u.notification_id, "
                "substring(b.leaf_hashes FROM (u.o::int - 1) * 32 + 1 FOR 32) AS leaf_hash, "
                "b.recorded_at FROM b CROSS JOIN LATERAL "
                "unnest(b.notification_ids) WITH ORDINALITY AS u(notification_id, o)) "
                "SELECT l.*, e.originator_id, e.originator_version, e.topic, e.state "
                "FROM l LEFT JOIN {0}.{1} e ON e.notification_id = l.notification_id "
                "WHERE l.leaf_index >= %s ORDER BY l.leaf_index LIMIT %s"
            ).format(schema, events),
            "select_unlogged": SQL(
                "SELECT e.* FROM {0}.{1} e LEFT JOIN {0}.audit_leaves l "
                "ON l.notification_id = e.notification_id "
                "WHERE l.leaf_index IS NULL ORDER BY e.notification_id LIMIT %s"
            ).format(schema, events),
            "position_at": SQL(
                "SELECT last_notification AS notification_id FROM {}.audit_batches "
                "WHERE recorded_at <= %s ORDER BY recorded_at DESC, first_leaf DESC LIMIT 1"
            ).format(schema),
            "insert_checkpoint": SQL(
                "INSERT INTO {}.audit_checkpoints VALUES (%s,%s,%s,%s) "
                "ON CONFLICT (tree_size) DO NOTHING"
            ).format(schema),
            "select_checkpoints": SQL(
                "SELECT * FROM {}.audit_checkpoints "
                "WHERE %s::bigint IS NULL OR tree_size < %s ORDER BY tree_size DESC LIMIT %s"
            ).format(schema),
            # The log's size, stored nodes by (level, index), then the slices of batches' leaf
            # hashes that cover each leaf range [lo, hi), with the leaf index each slice
            # starts at.
            "hashes": SQL(
                "SELECT NULL::smallint AS level, NULL::bigint AS node_index, NULL::bytea AS hash, "
                "NULL::bigint AS first_leaf, {1} AS size "
                "UNION ALL "
                "SELECT n.level, n.node_index, n.hash, NULL, NULL "
                "FROM {0}.audit_nodes n "
                "JOIN unnest(%b::smallint[], %b::bigint[]) AS w(level, node_index) "
                "USING (level, node_index) "
                "UNION ALL "
                "SELECT NULL, NULL, substring(b.leaf_hashes "
                "FROM ((s.lo - b.first_leaf) * 32 + 1)::int FOR ((s.hi - s.lo) * 32)::int), s.lo, "
                "NULL "
                "FROM unnest(%b::bigint[], %b::bigint[]) AS r(lo, hi) "
                "CROSS JOIN LATERAL (SELECT first_leaf, leaf_hashes, "
                "cardinality(notification_ids) AS leaves FROM {0}.audit_batches "
                "WHERE first_leaf < r.hi AND first_leaf >= coalesce((SELECT max(first_leaf) "
                "FROM {0}.audit_batches WHERE first_leaf <= r.lo), 0)) b "
                "CROSS JOIN LATERAL (SELECT greatest(r.lo, b.first_leaf) AS lo, "
                "least(r.hi, b.first_leaf + b.leaves) AS hi) s "
                "WHERE s.lo < s.hi"
            ).format(schema, head),
        }

    def _insert_rows(self, cursor: Any, rows: NewRows) -> None:
        # Columns as lists, which psycopg sends as arrays (tuples would be records).
        nodes = [list(column) for column in zip(*rows.nodes, strict=True)] or [[], [], []]
        batch = (
            rows.first_leaf,
            rows.notification_ids[-1],
            rows.notification_ids,
            rows.leaf_hashes,
        )
        cursor.execute(self._sql["append"], (*batch, *nodes), prepare=True)

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        # Outside a transaction: each read is one statement, which PostgreSQL runs in one
        # snapshot anyway. In a read-only transaction a read paid BEGIN, ROLLBACK and, because
        # psycopg forgets its prepared statements on ROLLBACK, DEALLOCATE ALL and a fresh
        # PREPARE of the connection's next statements: a proof made six round trips where one
        # (and the pool's pre-ping) will do. The idempotency, credential and as-at reads too.
        with self.datastore.get_connection() as conn, conn.cursor() as cursor:
            yield cursor

    def _instant_param(self, instant: datetime) -> Any:
        return instant

    def _query(self, cursor: Any, statement: Any, params: Sequence[Any]) -> None:
        cursor.execute(statement, params, prepare=True)

    def _hash_params(
        self, nodes: list[tuple[int, int]], ranges: list[tuple[int, int]]
    ) -> tuple[Any, ...]:
        return (
            [level for level, _ in nodes],
            [index for _, index in nodes],
            [lo for lo, _ in ranges],
            [hi for _, hi in ranges],
        )

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The notification ids are known only once the events are inserted; the rows below
        # ride in the same transaction, so a clash on an idempotency key undoes the events too.
        # (The library's own version of this method expects the bare INSERT's status.)
        inserted = curs.fetchall()
        if len(inserted) != len(stored_events):
            raise ProgrammingError(
                f"got {len(inserted)} notification ids for {len(stored_events)} events"
            )
        notification_ids = [row["notification_id"] for row in inserted]
        if inserted:
            self._append_leaves(curs, stored_events, notification_ids, inserted[0]["audit_size"])
        rows = _write_rows(kwargs.get("writes", ()), _positions(stored_events, notification_ids))
        if rows:
            curs.executemany(self._insert_write, rows)
        credentials = [(a, h) for a, h in kwargs.get("credentials", {}).items()]
        if credentials:
            curs.executemany(self._upsert_credentials, credentials)
        return notification_ids

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        """The ledger's tables, made by one starting process at a time.

        API processes and projection workers starting together each make them: PostgreSQL
        refuses a CREATE OR REPLACE VIEW of a view another transaction is replacing ("tuple
        concurrently updated"), and two CREATE TABLE IF NOT EXISTS of one new table can both
        try to make it. The snapshots table, which the library makes next in a transaction of
        its own, is made here first under the same lock, by the library's own statements, so
        that its later attempt finds it."""
        curs.execute("SELECT pg_advisory_xact_lock(hashtext('trustledger: the ledger tables'))")
        super()._create_table(curs)
        snapshots = PostgresAggregateRecorder(
            self.datastore,
            events_table_name=self.events_table_name.removesuffix("_events") + "_snapshots",
        )
        snapshots._create_table(curs)

    def find_write(self, owner: str, key: str) -> StoredWrite | None:
        with self._reading() as curs:
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
        with self._reading() as curs:
            curs.execute(self._select_hash, (account_id,))
            row = curs.fetchone()
        return None if row is None else str(row["password_hash"])

    def events_at(
        self, aggregate_ids: Collection[UUID], position: int, *, from_snapshots: bool = False
    ) -> list[StoredEvent]:
        ids = list(aggregate_ids)
        with self._reading() as curs:
            if from_snapshots:
                curs.execute(self._select_snapshots_at, (ids, position, ids, position))
            else:
                curs.execute(self._select_events_at, (ids, position))
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
        with self._reading() as curs:
            curs.execute(self._select_recorded, (list(aggregate_ids), after, up_to, limit))
            return [_recorded(row) for row in curs.fetchall()]

    def changed_since(self, position: int, limit: int) -> list[Notification]:
        with self._reading() as curs:
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

"""The ledger's recorders: the library's event tables plus what must commit with the events.

An idempotent write's record and an account's password hash are written in the same
transaction as the events they belong to (DESIGN §3, §5), the way the library's
searchable-timestamps example writes its index. One recorder per store; both implement
`domain.application.LedgerRecorder`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.application import IdempotentWrite, StoredWrite


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


class SQLiteLedgerRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotent_writes ("
            "owner TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, value BLOB NOT NULL, "
            "position INTEGER NOT NULL, PRIMARY KEY (owner, key))",
            "CREATE TABLE IF NOT EXISTS credentials ("
            "account_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL)",
        ]

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        notification_ids = super()._insert_events(c, stored_events)
        assert notification_ids is not None
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


class PostgresLedgerRecorder(PostgresApplicationRecorder):
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

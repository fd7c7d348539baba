"""PostgreSQL whose disk fills up: the ledger's tables live on a small filesystem of their own (a
tablespace on a tmpfs mounted for this spec), which a file then fills to the last byte, as a
runaway log or backup fills a real volume. The server itself stays up, as its write-ahead log is
elsewhere: a write is refused with a problem a person can act on, nothing half written is left,
reads go on, and once room is made the service takes writes again by itself.

Mounting needs root, which CI and `make test` have; elsewhere the spec fails and says so."""

from __future__ import annotations

import errno
import os
import pwd
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.settings import Settings
from tests.api.client import Client
from tests.faults.cluster import Cluster, private_cluster
from tests.faults.conftest import Ledger, assert_nothing_half_written, ready_ledger
from tests.faults.test_full_and_read_only import _draft, draft_until_full

# Room for the ledger's empty tables and a few contracts; small, so that filling it is quick.
VOLUME = "16m"


@pytest.fixture(scope="module")
def volume() -> Iterator[Path]:
    """A tmpfs of its own, owned by the server's user, unmounted however the module ends."""
    if os.geteuid() != 0:
        pytest.fail("mounting the small volume needs root: run the suite as CI does, as root")
    mount_point = Path(tempfile.mkdtemp(prefix="trustledger-small-disk-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME},mode=0700", "tmpfs", mount_point],
        check=True,
        capture_output=True,
    )
    try:
        postgres = pwd.getpwnam("postgres")
        os.chown(mount_point, postgres.pw_uid, postgres.pw_gid)
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", mount_point], check=False, capture_output=True)
        mount_point.rmdir()


@pytest.fixture(scope="module")
def cluster(volume: Path) -> Iterator[Cluster]:
    """The module's own cluster, every table it is asked for put on the small volume."""
    with private_cluster() as cluster:
        with psycopg.connect(cluster.url, autocommit=True) as connection:
            connection.execute(f"CREATE TABLESPACE small_disk LOCATION '{volume}'")
            connection.execute("ALTER DATABASE postgres SET default_tablespace = small_disk")
        yield cluster


@pytest.fixture(scope="module")
def ledger(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    tmp = tmp_path_factory.mktemp("full-disk")
    with ready_ledger(Settings(database_url=cluster.url, var_dir=tmp), tmp) as ledger:
        yield ledger


def test_a_full_disk_refuses_writes_with_507_keeps_reads_and_recovers_when_room_is_made(
    volume: Path, ledger: Ledger
) -> None:
    api = ledger.api()
    people = ledger.people(api.url)
    commissioner: Client = people["commissioner"]
    trust_id: str = people["trust_id"]
    # Given a contract in the ledger, whose tables are on the small volume
    before = _draft(commissioner, trust_id, "before the disk filled")
    assert before.status_code == 201, before.text
    with ledger.connect() as connection:
        assert _tablespaces_of_the_ledger(connection) == {"small_disk"}

    # When something else fills the volume to its last byte
    filler = _fill(volume)
    try:
        # And the council drafts contracts until the pages the tables already had are used up
        # Then the one that no longer fits is refused: the storage is full, nothing was recorded
        drafted = draft_until_full(commissioner, trust_id)

        # And reads still work, and list nothing of the refused draft
        for contract_id in [before.json()["id"], *drafted]:
            read = commissioner.contract(contract_id)
            assert read.status_code == 200, read.text
        titles = {c["title"] for c in commissioner.contracts().json()}
        assert f"draft {len(drafted)}" not in titles
        with ledger.connect() as connection:
            assert_nothing_half_written(connection)
    finally:
        # When room is made again
        filler.unlink()

    # Then the service takes writes again without being restarted
    after = _draft(commissioner, trust_id, "once room was made")
    assert after.status_code == 201, after.text
    assert commissioner.contract(after.json()["id"]).status_code == 200
    with ledger.connect() as connection:
        assert_nothing_half_written(connection)


def _fill(volume: Path) -> Path:
    """A file taking every byte the volume has left."""
    filler = volume / "filler"
    block = b"\0" * (1 << 20)
    with filler.open("wb", buffering=0) as file:
        for size in (len(block), 4096, 1):
            while True:
                try:
                    file.write(block[:size])
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    break
    return filler


def _tablespaces_of_the_ledger(connection: Any) -> set[str]:
    rows = connection.execute(
        "SELECT DISTINCT coalesce(t.spcname, 'default') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')"
    ).fetchall()
    return {row[0] for row in rows}

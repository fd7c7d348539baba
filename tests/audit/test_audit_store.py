"""The audit log as each store keeps it: a leaf for every event, committed with it, and every
kind of tampering with the stored events found and located.

Each spec runs on SQLite and on PostgreSQL. Tampering is done the way an insider with the
database's password would: plain SQL against the tables, behind the application's back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, cast

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api import cli
from api.directory import SYSTEM, ensure_organisation
from api.settings import Settings
from domain.application import Trustledger
from domain.errors import BeyondTheLog, NotFound
from domain.organisation import Organisation, OrganisationKind
from projections.audit_log import AuditLog, AuditStore, Finding, Signer, examine
from projections.verifier import (
    ProofError,
    leaf_hash,
    open_checkpoint,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.conftest import STORES, settings_for
from tests.tampering import rewrite_leaf_hash

TRUSTS = [f"Children's Trust number {n}" for n in range(13)]


@pytest.fixture(params=STORES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    yield from settings_for(request.param, tmp_path)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Trustledger]:
    ledger = Trustledger(settings.ledger_env())
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def audit(ledger: Trustledger) -> AuditLog:
    return AuditLog(cast(AuditStore, ledger.recorder), Signer("trustledger.test/log", KEY))


KEY = Ed25519PrivateKey.generate()


def register(ledger: Trustledger, names: list[str]) -> None:
    for name in names:
        ensure_organisation(ledger, name, OrganisationKind.TRUST)


def leaf_inputs(ledger: Trustledger) -> list[bytes]:
    """Every leaf input rebuilt from the notification log, as an outsider would."""
    store = cast(AuditStore, ledger.recorder)
    return [
        leaf.event.leaf_input() for leaf in store.audit_leaves(0, 10_000) if leaf.event is not None
    ]


class _Tables:
    """`execute` with `?` placeholders on both stores; `stored_events` stands for the events
    table, whatever the store calls it, and on SQLite `notification_id = ?` for its rowid."""

    def __init__(self, connection: Any, events: str, is_postgres: bool) -> None:
        self.connection = connection
        self.events = events
        self.is_postgres = is_postgres

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        sql = sql.replace("stored_events", self.events)
        if self.is_postgres:
            return self.connection.execute(sql.replace("?", "%s"), params)
        return self.connection.execute(sql.replace("notification_id = ?", "rowid = ?"), params)


@contextmanager
def the_tables(settings: Settings, ledger: Trustledger) -> Iterator[_Tables]:
    """A connection to the ledger's tables behind its back, as someone with the password
    could have, committed on leaving."""
    events = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    if settings.is_postgres:
        assert settings.database_url is not None
        with psycopg.connect(settings.database_url, autocommit=True) as pg:
            pg.execute(f'SET search_path TO "{settings.database_schema}"')
            yield _Tables(pg, events, is_postgres=True)
        return
    with closing(sqlite3.connect(settings.var_dir / "trustledger.sqlite3")) as lite, lite:
        yield _Tables(lite, events, is_postgres=False)


def execute(settings: Settings, ledger: Trustledger, sql: str, *params: Any) -> None:
    """Run one statement against the ledger's tables directly (see `the_tables`)."""
    with the_tables(settings, ledger) as tables:
        tables.execute(sql, params)


def findings(ledger: Trustledger, audit: AuditLog) -> list[Finding]:
    return list(examine(cast(AuditStore, ledger.recorder), audit.signer.verifier_key))


# -- the log --------------------------------------------------------------------------------


def test_every_event_is_a_leaf_in_log_order_and_the_tree_is_rfc_9162s(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS)

    events = ledger.recorder.select_notifications(None, 10_000)
    assert audit.size() == len(events) == len(TRUSTS)
    leaves = cast(AuditStore, ledger.recorder).audit_leaves(0, 10_000)
    assert [leaf.index for leaf in leaves] == list(range(len(events)))
    assert [leaf.position for leaf in leaves] == [event.id for event in events]
    assert all(leaf.hash == leaf_hash(leaf.event.leaf_input()) for leaf in leaves if leaf.event)
    # The root the service signs, from its stored subtrees, is the RFC's root of the leaves.
    for size in range(1, len(events) + 1):
        assert audit.root(size) == root_hash(leaf_inputs(ledger)[:size])


def test_leaves_record_when_the_ledger_learnt_each_event(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:3])
    store = cast(AuditStore, ledger.recorder)
    first, second, third = store.audit_leaves(0, 3)

    assert first.recorded_at <= second.recorded_at <= third.recorded_at
    assert store.position_at(second.recorded_at) == second.position
    assert store.position_at(first.recorded_at.replace(year=2000)) == 0


def test_proofs_from_stored_subtrees_verify_against_a_signed_checkpoint(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:5])
    kept = open_checkpoint(audit.sign().note, audit.signer.verifier_key)
    register(ledger, TRUSTS[5:])
    latest = open_checkpoint(audit.sign().note, audit.signer.verifier_key)

    assert (kept.size, latest.size) == (5, len(TRUSTS))
    verify_consistency(
        kept.size,
        latest.size,
        audit.consistency_proof(kept.size, latest.size),
        kept.root,
        latest.root,
    )
    for index, leaf in enumerate(leaf_inputs(ledger)):
        proof = audit.inclusion_proof(index, latest.size)
        verify_inclusion(leaf_hash(leaf), index, latest.size, proof, latest.root)


# Transactions of these sizes (200 events) put batch rows across the 64-leaf subtrees the
# log stores, so that proofs mix stored subtrees with ones hashed from leaves.
BATCHES = [1, 40, 2, 63, 1, 64, 29]


def save_in_batches(ledger: Trustledger, sizes: list[int], made: int = 0) -> None:
    for size in sizes:
        ledger.save(
            *(
                Organisation.register(
                    name=f"Children's Trust in batch {made + n}",
                    kind=OrganisationKind.TRUST,
                    actor=SYSTEM,
                )
                for n in range(size)
            )
        )
        made += size


def test_a_log_kept_in_batches_gives_rfc_9162s_roots_and_proofs_at_every_size(
    ledger: Trustledger, audit: AuditLog
) -> None:
    save_in_batches(ledger, BATCHES)
    inputs = leaf_inputs(ledger)
    size = sum(BATCHES)

    assert audit.size() == len(inputs) == size
    assert [leaf.index for leaf in cast(AuditStore, ledger.recorder).audit_leaves(60, 70)] == list(
        range(60, 130)
    )
    roots = assert_roots_and_inclusion_proofs(audit, inputs)
    for old in range(1, size + 1, 7):
        proof = audit.consistency_proof(old, size)
        verify_consistency(old, size, proof, roots[old], roots[size])


def test_ledgers_taking_turns_on_one_store_keep_one_log(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    # As API processes do: each one's frontier of its own last append is stale whenever the
    # other wrote since, and the stored subtrees must be the ones a single writer would make.
    other = Trustledger(settings.ledger_env())
    try:
        made = 0
        for turn, size in enumerate(BATCHES):
            save_in_batches(other if turn % 2 else ledger, [size], made)
            made += size
    finally:
        other.close()
    inputs = leaf_inputs(ledger)
    size = sum(BATCHES)

    assert audit.size() == size
    assert findings(ledger, audit) == []
    assert_roots_and_inclusion_proofs(audit, inputs)


def test_a_rewritten_stored_subtree_fails_the_proofs_that_use_it(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    save_in_batches(ledger, BATCHES)
    signed = open_checkpoint(audit.sign().note, audit.signer.verifier_key)
    inputs = leaf_inputs(ledger)

    # Leaves 0 to 63 as one stored hash: the sibling on leaf 100's path.
    execute(
        settings,
        ledger,
        "UPDATE audit_nodes SET hash = ? WHERE level = ? AND node_index = ?",
        bytes(32),
        6,
        0,
    )

    with pytest.raises(ProofError):
        verify_inclusion(
            leaf_hash(inputs[100]),
            100,
            signed.size,
            audit.inclusion_proof(100, signed.size),
            signed.root,
        )
    assert audit.root(64) != root_hash(inputs[:64])


def test_a_checkpoint_is_signed_once_per_size_and_kept(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:2])
    first = audit.sign()
    assert audit.sign() == first
    register(ledger, TRUSTS[2:4])
    second = audit.sign()

    assert [c.size for c in audit.checkpoints(None, 10)] == [4, 2]
    assert [c.size for c in audit.checkpoints(4, 10)] == [2]
    assert second.signed_at >= first.signed_at


def test_proofs_are_refused_for_sizes_the_log_does_not_have(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:3])

    with pytest.raises(BeyondTheLog):
        audit.inclusion_proof(0, 4)
    with pytest.raises(BeyondTheLog):
        audit.inclusion_proof(3, 3)
    with pytest.raises(BeyondTheLog):
        audit.consistency_proof(3, 2)
    with pytest.raises(BeyondTheLog):
        audit.consistency_proof(0, 3)
    with pytest.raises(NotFound):
        audit.leaf(3)


# -- tampering ------------------------------------------------------------------------------


def test_an_untouched_store_has_no_findings(ledger: Trustledger, audit: AuditLog) -> None:
    register(ledger, TRUSTS)
    audit.sign()

    assert findings(ledger, audit) == []


def test_an_event_whose_stored_bytes_were_updated_is_found_and_located(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS)
    audit.sign()
    victim = cast(AuditStore, ledger.recorder).audit_leaves(6, 1)[0]
    assert victim.event is not None
    forged = victim.event.state.replace(b"number 6", b"number 9")

    execute(
        settings,
        ledger,
        "UPDATE stored_events SET state = ? WHERE notification_id = ?",
        forged,
        victim.position,
    )

    [finding] = findings(ledger, audit)
    assert (finding.kind, finding.leaf_index, finding.position) == (
        "altered",
        6,
        victim.position,
    )


def test_a_deleted_event_is_found_and_located(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS)
    victim = cast(AuditStore, ledger.recorder).audit_leaves(4, 1)[0]

    execute(
        settings, ledger, "DELETE FROM stored_events WHERE notification_id = ?", victim.position
    )

    [finding] = findings(ledger, audit)
    assert (finding.kind, finding.leaf_index, finding.position) == (
        "deleted",
        4,
        victim.position,
    )


def test_a_forged_event_inserted_behind_the_ledgers_back_is_found(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:3])
    genuine = cast(AuditStore, ledger.recorder).audit_leaves(0, 1)[0].event
    assert genuine is not None
    forged_id = "0" * 31 + "1"
    if settings.is_postgres:
        execute(
            settings,
            ledger,
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?::uuid, 1, ?, ?)",
            forged_id,
            genuine.topic,
            genuine.state,
        )
    else:
        execute(
            settings,
            ledger,
            "INSERT INTO stored_events VALUES (?, 1, ?, ?)",
            forged_id,
            genuine.topic,
            genuine.state,
        )

    [finding] = findings(ledger, audit)
    assert finding.kind == "unlogged"
    assert finding.position == genuine.position + 3


def test_leaves_rewritten_to_match_an_altered_event_break_the_signed_root(
    settings: Settings, ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS)
    audit.sign()
    victim = cast(AuditStore, ledger.recorder).audit_leaves(2, 1)[0]
    assert victim.event is not None
    forged = victim.event.state.replace(b"number 2", b"number 7")
    execute(
        settings,
        ledger,
        "UPDATE stored_events SET state = ? WHERE notification_id = ?",
        forged,
        victim.position,
    )
    rebuilt = type(victim.event)(
        victim.position,
        victim.event.aggregate_id,
        victim.event.version,
        victim.event.topic,
        forged,
    )
    with the_tables(settings, ledger) as tables:
        rewrite_leaf_hash(tables, 2, leaf_hash(rebuilt.leaf_input()))

    [finding] = findings(ledger, audit)
    assert finding.kind == "root"
    assert f"first {len(TRUSTS)} leaves" in finding.detail
    # And the proofs the service now serves from its tampered tables fail the auditor's check.
    kept = open_checkpoint(audit.checkpoints(None, 1)[0].note, audit.signer.verifier_key)
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf_hash(rebuilt.leaf_input()),
            2,
            kept.size,
            audit.inclusion_proof(2, kept.size),
            kept.root,
        )


def test_a_checkpoint_not_signed_with_the_published_key_is_a_finding(
    ledger: Trustledger, audit: AuditLog
) -> None:
    register(ledger, TRUSTS[:2])
    impostor = AuditLog(audit.store, Signer("trustledger.test/log", Ed25519PrivateKey.generate()))
    impostor.sign()

    [finding] = findings(ledger, audit)
    assert finding.kind == "root"
    assert "checkpoint of size 2" in finding.detail


# -- the command line -----------------------------------------------------------------------


def settings_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTLEDGER_VAR_DIR", str(settings.var_dir))
    if settings.database_url is not None:
        monkeypatch.setenv("TRUSTLEDGER_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("TRUSTLEDGER_DATABASE_SCHEMA", settings.database_schema)


def test_trustledger_verify_store_reports_the_tampered_event_and_fails(
    settings: Settings,
    ledger: Trustledger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings_environment(settings, monkeypatch)
    register(ledger, TRUSTS[:4])
    assert cli.main(["verify", "store"]) == 0
    assert "every one of 4 leaves matches" in capsys.readouterr().out
    victim = cast(AuditStore, ledger.recorder).audit_leaves(1, 1)[0]

    execute(
        settings, ledger, "DELETE FROM stored_events WHERE notification_id = ?", victim.position
    )

    assert cli.main(["verify", "store"]) == 1
    report = capsys.readouterr().out
    assert f"deleted: leaf 1: event {victim.position} is no longer stored" in report


def test_a_sqlite_ledger_in_the_per_event_layout_is_refused_by_name(tmp_path: Path) -> None:
    """Given a ledger file from before the log was kept per transaction, opening it says what
    to do rather than leaving its events unlogged behind a view that was never made."""
    with closing(sqlite3.connect(tmp_path / "trustledger.sqlite3")) as old:
        old.execute("CREATE TABLE audit_leaves (leaf_index INTEGER PRIMARY KEY)")
        old.commit()

    with pytest.raises(RuntimeError, match="per-event layout"):
        Trustledger(Settings(var_dir=tmp_path).ledger_env())


def assert_roots_and_inclusion_proofs(audit: AuditLog, inputs: list[bytes]) -> dict[int, bytes]:
    """Every stored root equals the one computed from the leaves, and every leaf's inclusion
    proof verifies against the whole log's root; the roots, by tree size."""
    size = len(inputs)
    roots = {n: root_hash(inputs[:n]) for n in range(1, size + 1)}
    for n in range(1, size + 1):
        assert audit.root(n) == roots[n]
    for index in range(size):
        proof = audit.inclusion_proof(index, size)
        verify_inclusion(leaf_hash(inputs[index]), index, size, proof, roots[size])
    return roots

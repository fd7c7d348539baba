"""The audit log as the ledger stores it: one leaf per stored event, in notification order.

DESIGN §3. The recorders (`projections/ledger_store.py`) append each batch's leaves and the
high subtree hashes they complete in the same transaction as the events; this module holds
what both stores share: the rows a batch of events adds, and the reads a proof or an auditor
needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import StoredEvent

from domain.errors import BeyondTheLog, NotFound
from projections import merkle
from projections.merkle import NodeRef
from projections.verifier import (
    Checkpoint,
    ProofError,
    event_leaf,
    leaf_hash,
    open_checkpoint,
    sign_checkpoint,
    verifier_key,
)


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event as its leaf sees it: the bytes the store holds and where."""

    position: int
    aggregate_id: UUID
    version: int
    topic: str
    state: bytes

    def leaf_input(self) -> bytes:
        return event_leaf(
            self.position, self.aggregate_id.bytes, self.version, self.topic, self.state
        )


@dataclass(frozen=True)
class StoredLeaf:
    """A leaf's row, with the event now stored at its position (None if it is gone)."""

    index: int
    position: int
    recorded_at: datetime
    hash: bytes
    event: LoggedEvent | None


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: datetime


# The log stores one row per appending transaction (its leaves' notification ids and hashes)
# and the hashes of subtrees of 2**STORED_LEVEL leaves and more; a lower subtree is hashed
# from the leaf hashes on demand (at most 63 hashes). Per-event rows and index entries cost
# more than the events themselves: measured on PostgreSQL at 40 events per transaction, one
# leaf row and one node row per event held appends to 0.68-0.76x of the library's recorder.
STORED_LEVEL = 6


@dataclass(frozen=True)
class NewRows:
    """What appending a batch of events adds to the audit tables: one batch row and the
    subtrees of STORED_LEVEL or more that its leaves complete."""

    first_leaf: int
    notification_ids: list[int]  # in leaf order
    leaf_hashes: bytes  # 32 bytes a leaf, in leaf order
    nodes: list[tuple[int, int, bytes]]  # (level, node index, hash), level >= STORED_LEVEL


def new_rows(
    tree: merkle.Frontier, stored_events: Sequence[StoredEvent], notification_ids: Sequence[int]
) -> NewRows:
    """The batch for events just inserted, appended to `tree` (which this grows), and the
    stored subtrees they complete. Leaves follow notification order, whatever the batch's."""
    first_leaf = tree.size
    positions: list[int] = []
    digests: list[bytes] = []
    nodes: list[tuple[int, int, bytes]] = []
    for position, event in sorted(zip(notification_ids, stored_events, strict=True), key=_first):
        aggregate_id = event.originator_id
        digest = leaf_hash(
            event_leaf(
                position,
                (aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id))).bytes,
                event.originator_version,
                event.topic,
                event.state,
            )
        )
        positions.append(position)
        digests.append(digest)
        completed = tree.push(digest)
        nodes.extend(
            (ref.level, ref.index, node) for ref, node in completed if ref.level >= STORED_LEVEL
        )
    return NewRows(first_leaf, positions, b"".join(digests), nodes)


def _first(pair: tuple[int, StoredEvent]) -> int:
    return pair[0]


class AuditStore(Protocol):
    """What the ledger's recorders offer for reading the audit log."""

    def audit_size(self) -> int: ...

    def audit_sized_hashes(self, refs: Iterable[NodeRef]) -> tuple[int, dict[NodeRef, bytes]]:
        """The log's size and the subtree hashes (level 0: leaf hashes), stored or, below
        STORED_LEVEL, hashed from the stored leaf hashes, read in one snapshot: a proof's one
        visit to the store. Hashes the store cannot give are left out."""
        ...

    def audit_leaves(self, start: int, limit: int) -> list[StoredLeaf]:
        """Leaves from index `start` on, in order, each with the event at its position."""
        ...

    def unlogged_events(self, limit: int) -> list[LoggedEvent]:
        """Stored events that no leaf covers: there should be none."""
        ...

    def position_at(self, instant: datetime) -> int:
        """The last notification id the ledger had recorded at `instant` (0 before any)."""
        ...

    def record_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Keep a signed checkpoint; a second one for the same size is ignored."""
        ...

    def checkpoints(self, before: int | None, limit: int) -> list[StoredCheckpoint]:
        """Signed checkpoints, largest first, of sizes below `before` (or all)."""
        ...


class Signer:
    """The log's identity: its origin line, which also names its key, and the Ed25519 key.

    The key lives outside the database (DESIGN §3), so that whoever can rewrite the tables
    cannot also sign what they wrote."""

    def __init__(self, origin: str, key: Ed25519PrivateKey) -> None:
        self.origin = origin
        self._key = key
        self.verifier_key = verifier_key(origin, key.public_key())

    def sign(self, size: int, root: bytes) -> StoredCheckpoint:
        note = sign_checkpoint(Checkpoint(self.origin, size, root), self.origin, self._key)
        return StoredCheckpoint(size=size, root=root, note=note, signed_at=datetime.now(UTC))


class AuditLog:
    """Proofs and checkpoints from the stored subtree hashes: one read each, whatever the
    log's size."""

    def __init__(self, store: AuditStore, signer: Signer) -> None:
        self.store = store
        self.signer = signer

    def size(self) -> int:
        return self.store.audit_size()

    def leaf(self, index: int) -> StoredLeaf:
        found = self.store.audit_leaves(index, 1) if index >= 0 else []
        if not found or found[0].index != index:
            raise NotFound(f"the audit log has no leaf {index}")
        return found[0]

    def root(self, size: int) -> bytes:
        return merkle.root(size, self._fetch(size, merkle.frontier(size)).__getitem__)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        if not 0 <= index < size:
            self._check_sizes(size)
            raise BeyondTheLog(f"leaf {index} is not in a tree of {size} leaves")
        nodes = merkle.inclusion_nodes(index, size)
        return merkle.resolve(nodes, self._fetch(size, merkle.refs(nodes)).__getitem__)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        if not 0 < first <= second:
            self._check_sizes(second)
            raise BeyondTheLog(f"no consistency proof from size {first} to size {second}")
        nodes = merkle.consistency_nodes(first, second)
        return merkle.resolve(nodes, self._fetch(second, merkle.refs(nodes)).__getitem__)

    def sign(self) -> StoredCheckpoint:
        """A checkpoint of the log as it stands, signed now unless one of that size exists.

        Signing rereads nothing it trusts blindly: the root comes from the stored hashes the
        proofs are served from, so a checkpoint and its proofs always agree."""
        latest = self.latest()
        size = self.size()
        if latest is not None and latest.size == size:
            return latest
        checkpoint = self.signer.sign(size, self.root(size))
        self.store.record_checkpoint(checkpoint)
        return checkpoint

    def latest(self) -> StoredCheckpoint | None:
        found = self.store.checkpoints(None, 1)
        return found[0] if found else None

    def checkpoints(self, before: int | None, limit: int) -> list[StoredCheckpoint]:
        return self.store.checkpoints(before, limit)

    def _check_sizes(self, size: int, head: int | None = None) -> None:
        head = self.size() if head is None else head
        if not 0 <= size <= head:
            raise BeyondTheLog(f"the audit log has {head} leaves, not {size}")

    def _fetch(self, size: int, refs: Iterable[NodeRef]) -> dict[NodeRef, bytes]:
        """The hashes of a tree of `size` leaves, refused if the log is smaller."""
        wanted = set(refs)
        head, found = self.store.audit_sized_hashes(wanted)
        self._check_sizes(size, head)
        if len(found) != len(wanted):
            missing = sorted(wanted - found.keys(), key=lambda r: (r.level, r.index))
            raise ProofError(f"the audit log is missing stored hashes: {missing[:5]}")
        return found


# --- Examining the store -----------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """Something in the store that its audit log does not vouch for.

    `kind` is one of: "altered" (an event's stored bytes no longer give its leaf), "deleted"
    (a leaf whose event is gone), "unlogged" (an event no leaf covers, e.g. a forged insert),
    "leaf missing" (a gap in the leaf indexes), "root" (the leaves no longer give the root a
    signed checkpoint vouches for, e.g. after leaves were rewritten to match altered events).
    """

    kind: str
    detail: str
    leaf_index: int | None = None
    position: int | None = None


_SCAN_PAGE = 5_000


def examine(store: AuditStore, verifier: str) -> Iterator[Finding]:
    """Re-derive every leaf from the stored events, and every signed root from the leaves.

    Findings come in log order, so the first one names the first leaf whose event was
    altered. Checkpoints are checked against `verifier` (the published key), so that a
    checkpoint forged along with the tables is a finding too."""
    signed: dict[int, bytes] = {}
    for checkpoint in store.checkpoints(None, 1_000_000):
        try:
            signed[checkpoint.size] = open_checkpoint(checkpoint.note, verifier).root
        except ProofError as error:
            yield Finding("root", f"checkpoint of size {checkpoint.size}: {error}")
    tree = merkle.Frontier()
    while True:
        page = store.audit_leaves(tree.size, _SCAN_PAGE)
        for leaf in page:
            if leaf.index != tree.size:
                yield Finding(
                    "leaf missing",
                    f"leaves {tree.size} to {leaf.index - 1} are not in the store",
                    leaf_index=tree.size,
                )
                return
            if leaf.event is None:
                yield Finding(
                    "deleted",
                    f"leaf {leaf.index}: event {leaf.position} is no longer stored",
                    leaf.index,
                    leaf.position,
                )
            elif leaf_hash(leaf.event.leaf_input()) != leaf.hash:
                yield Finding(
                    "altered",
                    f"leaf {leaf.index}: event {leaf.position} ({leaf.event.topic}, "
                    f"version {leaf.event.version} of {leaf.event.aggregate_id}) is not the "
                    "event that was logged",
                    leaf.index,
                    leaf.position,
                )
            tree.push(leaf.hash)
            if tree.size in signed and tree.root() != signed.pop(tree.size):
                yield Finding(
                    "root",
                    f"the first {tree.size} leaves no longer give the root signed for them: "
                    "a leaf at or below that size was rewritten",
                    leaf_index=tree.size - 1,
                )
        if len(page) < _SCAN_PAGE:
            break
    for size in sorted(signed):
        yield Finding("root", f"a checkpoint was signed for {size} leaves; the store has fewer")
    for event in store.unlogged_events(1_000):
        yield Finding(
            "unlogged",
            f"event {event.position} ({event.topic}, version {event.version} of "
            f"{event.aggregate_id}) is in the store but not in the audit log",
            position=event.position,
        )

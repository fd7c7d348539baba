"""Properties of the audit log's proofs for every tree size, not only the known-answer vectors.

The tree is kept as the log keeps it: a frontier that leaf by leaf completes perfect subtrees,
whose hashes are all a proof may be built from. For any size and index, an inclusion proof and
a consistency proof built from them verify; a proof checked against another size, another index,
another leaf or another root fails, and so does one with a bit flipped, an element dropped, an
element added or its elements reordered.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from projections.merkle import Frontier, NodeRef, consistency_proof, inclusion_proof
from projections.verifier import (
    ProofError,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

EXAMPLES = settings(max_examples=150, deadline=None)
MAX_SIZE = 600


@dataclass(frozen=True)
class Log:
    """A log of `size` distinct leaves, its stored subtrees and its root at every size."""

    leaves: tuple[bytes, ...]
    stored: dict[NodeRef, bytes]
    roots: tuple[bytes, ...]  # roots[n] is the root of the first n leaves

    @property
    def size(self) -> int:
        return len(self.leaves)

    def node(self, ref: NodeRef) -> bytes:
        return self.stored[ref]


def grown(size: int) -> Log:
    """The log after appending `size` leaves one by one, as the recorder appends them."""
    leaves = tuple(b"event %d" % i for i in range(size))
    frontier = Frontier()
    stored: dict[NodeRef, bytes] = {}
    roots = [frontier.root()]
    for index, leaf in enumerate(leaves):
        digest = leaf_hash(leaf)
        stored[NodeRef(0, index)] = digest
        stored.update(frontier.push(digest))
        roots.append(frontier.root())
    return Log(leaves, stored, tuple(roots))


@st.composite
def logs(draw: st.DrawFn, min_size: int = 1) -> Log:
    return grown(draw(st.integers(min_value=min_size, max_value=MAX_SIZE)))


@st.composite
def tampered(draw: st.DrawFn, proof: list[bytes]) -> list[bytes]:
    """The proof with one thing wrong: a bit flipped, an element dropped, one added, or two
    swapped."""
    kinds = ["added"] + (["flipped", "dropped"] if proof else [])
    if len(set(proof)) > 1:
        kinds.append("swapped")
    kind = draw(st.sampled_from(kinds))
    if kind == "added":
        at = draw(st.integers(0, len(proof)))
        return [*proof[:at], draw(st.binary(min_size=32, max_size=32)), *proof[at:]]
    at = draw(st.integers(0, len(proof) - 1))
    if kind == "dropped":
        return [*proof[:at], *proof[at + 1 :]]
    if kind == "flipped":
        bit = draw(st.integers(0, 255))
        element = bytearray(proof[at])
        element[bit // 8] ^= 1 << (bit % 8)
        return [*proof[:at], bytes(element), *proof[at + 1 :]]
    other = draw(st.integers(0, len(proof) - 1).filter(lambda i: proof[i] != proof[at]))
    swapped = list(proof)
    swapped[at], swapped[other] = swapped[other], swapped[at]
    return swapped


def test_the_frontier_gives_the_rfc_root_at_every_size() -> None:
    log = grown(70)

    assert [log.roots[n] for n in range(71)] == [root_hash(list(log.leaves[:n])) for n in range(71)]


@EXAMPLES
@given(logs(), st.data())
def test_an_inclusion_proof_verifies_for_any_size_and_index(log: Log, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, log.size))
    index = data.draw(st.integers(0, size - 1))

    proof = inclusion_proof(index, size, log.node)

    verify_inclusion(leaf_hash(log.leaves[index]), index, size, proof, log.roots[size])


@EXAMPLES
@given(logs(), st.data())
def test_a_consistency_proof_verifies_for_any_two_sizes(log: Log, data: st.DataObject) -> None:
    size2 = data.draw(st.integers(1, log.size))
    size1 = data.draw(st.integers(1, size2))

    proof = consistency_proof(size1, size2, log.node)

    verify_consistency(size1, size2, proof, log.roots[size1], log.roots[size2])


@EXAMPLES
@given(logs(), st.data())
def test_a_tampered_inclusion_proof_fails(log: Log, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, log.size - 1))
    proof = inclusion_proof(index, log.size, log.node)

    bad = data.draw(tampered(proof))

    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(log.leaves[index]), index, log.size, bad, log.roots[-1])


@EXAMPLES
@given(logs(min_size=2), st.data())
def test_a_tampered_consistency_proof_fails(log: Log, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, log.size - 1))
    proof = consistency_proof(size1, log.size, log.node)

    bad = data.draw(tampered(proof))

    with pytest.raises(ProofError):
        verify_consistency(size1, log.size, bad, log.roots[size1], log.roots[-1])


@EXAMPLES
@given(logs(min_size=2), st.data())
def test_an_inclusion_proof_fails_for_another_size_index_leaf_or_root(
    log: Log, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, log.size - 1))
    leaf = leaf_hash(log.leaves[index])
    proof = inclusion_proof(index, log.size, log.node)
    other_size = data.draw(st.integers(index + 1, log.size - 1)) if index + 1 < log.size else None
    other_index = data.draw(st.integers(0, log.size - 1).filter(lambda i: i != index))

    # Each pair is a size and the root the log had at that size, as a checkpoint signs them.
    if other_size is not None:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, other_size, proof, log.roots[other_size])
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other_index, log.size, proof, log.roots[-1])
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(log.leaves[other_index]), index, log.size, proof, log.roots[-1])
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, log.size, proof, log.roots[-2])


@EXAMPLES
@given(logs(min_size=3), st.data())
def test_a_consistency_proof_fails_for_other_sizes_or_swapped_roots(
    log: Log, data: st.DataObject
) -> None:
    size2 = data.draw(st.integers(2, log.size))
    size1 = data.draw(st.integers(1, size2 - 1))
    proof = consistency_proof(size1, size2, log.node)
    other1 = data.draw(st.integers(1, size2).filter(lambda n: n != size1))
    other2 = data.draw(st.integers(size1, log.size).filter(lambda n: n != size2))

    with pytest.raises(ProofError):
        verify_consistency(other1, size2, proof, log.roots[other1], log.roots[size2])
    with pytest.raises(ProofError):
        verify_consistency(size1, other2, proof, log.roots[size1], log.roots[other2])
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, proof, log.roots[size2], log.roots[size1])


@EXAMPLES
@given(logs(), st.data())
def test_a_proof_with_leading_garbage_or_a_short_hash_is_refused_before_any_hashing(
    log: Log, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, log.size - 1))
    proof = inclusion_proof(index, log.size, log.node)
    garbage = data.draw(st.binary(min_size=1, max_size=8))
    assume(proof)

    with pytest.raises(ProofError, match="bytes, expected 32"):
        verify_inclusion(
            leaf_hash(log.leaves[index]),
            index,
            log.size,
            [garbage + proof[0], *proof[1:]],
            log.roots[-1],
        )
    with pytest.raises(ProofError, match="bytes, expected 32"):
        verify_inclusion(
            leaf_hash(log.leaves[index]), index, log.size, [proof[0][1:], *proof[1:]], log.roots[-1]
        )

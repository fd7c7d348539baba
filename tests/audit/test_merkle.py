"""Proofs assembled from stored subtree hashes, checked by the stand-alone verifier."""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from projections.merkle import (
    Ephemeral,
    NodeRef,
    ProofNode,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    subtree_hash,
)
from projections.verifier import (
    ProofError,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.audit.test_verifier import CT_LEAVES, rfc_path, rfc_proof


class StoredTree:
    """What the database will hold: the hash of every perfect subtree, and nothing else.

    Asking for a node that is not a perfect subtree of the current tree fails the test, since
    storage could not answer it.
    """

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.node = cache(self._node)

    def _node(self, ref: NodeRef) -> bytes:
        assert ref.level >= 0
        assert 0 <= ref.begin < ref.end <= len(self.leaves), f"{ref} is not stored"
        return root_hash(self.leaves[ref.begin : ref.end])


@st.composite
def trees_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    leaves = draw(st.lists(st.binary(max_size=8), min_size=1, max_size=80))
    return leaves, draw(st.integers(0, len(leaves) - 1))


@st.composite
def trees_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int]:
    leaves = draw(st.lists(st.binary(max_size=8), min_size=1, max_size=80))
    return leaves, draw(st.integers(1, len(leaves)))


def _flip(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    element = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    flipped = bytearray(proof[element])
    flipped[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(flipped), *proof[element + 1 :]]


def test_proofs_from_stored_nodes_are_the_rfc_proofs_for_every_small_tree() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(33)]
    for size in range(1, len(leaves) + 1):
        store = StoredTree(leaves[:size])
        for index in range(size):
            assert inclusion_proof(index, size, store.node) == rfc_path(index, leaves[:size])
        for size1 in range(1, size + 1):
            assert consistency_proof(size1, size, store.node) == rfc_proof(size1, leaves[:size])


def test_the_ct_tree_needs_an_ephemeral_node_for_leaf_0_of_7() -> None:
    # Leaves 4..6 are not a perfect subtree: their hash is rebuilt from [4, 6) and [6, 7).
    assert inclusion_nodes(0, 7) == [
        NodeRef(0, 1),
        NodeRef(1, 1),
        Ephemeral((NodeRef(1, 2), NodeRef(0, 6))),
    ]
    store = StoredTree(CT_LEAVES[:7])
    assert inclusion_proof(0, 7, store.node) == rfc_path(0, CT_LEAVES[:7])


def test_a_consistency_proof_leaves_out_an_old_root_the_verifier_holds() -> None:
    assert consistency_nodes(4, 8) == [NodeRef(2, 1)]
    assert consistency_nodes(6, 8) == [NodeRef(1, 2), NodeRef(1, 3), NodeRef(2, 0)]
    assert consistency_nodes(5, 5) == []


def _ephemerals(nodes: list[ProofNode]) -> list[Ephemeral]:
    return [n for n in nodes if isinstance(n, Ephemeral)]


@pytest.mark.parametrize("size", range(1, 130))
def test_ephemeral_parts_run_left_to_right_and_shrink(size: int) -> None:
    groups = [
        *(_ephemerals(inclusion_nodes(i, size)) for i in range(size)),
        *(_ephemerals(consistency_nodes(s, size)) for s in range(1, size + 1)),
    ]
    for group in groups:
        for ephemeral in group:
            parts = ephemeral.parts
            assert len(parts) > 1
            assert all(a.end == b.begin and a.level > b.level for a, b in pairwise(parts))
            assert parts[-1].end == size


@pytest.mark.parametrize(("index", "size"), [(-1, 4), (4, 4), (0, 0)])
def test_no_inclusion_nodes_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_nodes(index, size)


@pytest.mark.parametrize(("size1", "size2"), [(0, 4), (5, 4), (-1, 4)])
def test_no_consistency_nodes_for_impossible_sizes(size1: int, size2: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_nodes(size1, size2)


@settings(max_examples=200, deadline=None)
@given(trees_and_index(), st.data())
def test_inclusion_proofs_verify_and_a_flipped_bit_does_not(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, index = tree
    size = len(leaves)
    root = root_hash(leaves)
    proof = inclusion_proof(index, size, StoredTree(leaves).node)

    verify_inclusion(leaf_hash(leaves[index]), index, size, proof, root)

    assume(proof)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(leaves[index]), index, size, _flip(proof, data), root)


@settings(max_examples=200, deadline=None)
@given(trees_and_sizes(), st.data())
def test_consistency_proofs_verify_and_a_flipped_bit_does_not(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, size1 = tree
    size2 = len(leaves)
    root1, root2 = root_hash(leaves[:size1]), root_hash(leaves)
    proof = consistency_proof(size1, size2, StoredTree(leaves).node)

    verify_consistency(size1, size2, proof, root1, root2)

    assume(proof)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, _flip(proof, data), root1, root2)


def test_a_changed_stored_leaf_no_longer_proves_against_the_signed_root() -> None:
    signed_root = root_hash(CT_LEAVES)
    tampered = StoredTree([*CT_LEAVES[:5], b"rewritten", *CT_LEAVES[6:]])
    proof = inclusion_proof(5, 8, tampered.node)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"rewritten"), 5, 8, proof, signed_root)


def test_a_rewritten_history_is_not_consistent_with_the_signed_root() -> None:
    signed_root = root_hash(CT_LEAVES[:5])
    rewritten = [*CT_LEAVES[:2], b"rewritten", *CT_LEAVES[3:]]
    proof = consistency_proof(5, 8, StoredTree(rewritten).node)
    with pytest.raises(ProofError):
        verify_consistency(5, 8, proof, signed_root, root_hash(rewritten))


@pytest.mark.parametrize("count", [1, 2, 8, 64])
def test_a_subtree_hashed_from_its_leaf_hashes_is_the_rfc_root_of_its_leaves(count: int) -> None:
    leaves = CT_LEAVES * (count // len(CT_LEAVES) + 1)

    assert subtree_hash([leaf_hash(leaf) for leaf in leaves[:count]]) == root_hash(leaves[:count])


@pytest.mark.parametrize("count", [0, 3, 63])
def test_leaves_that_make_no_perfect_subtree_are_refused(count: int) -> None:
    with pytest.raises(ValueError, match="perfect subtree"):
        subtree_hash([leaf_hash(b"")] * count)

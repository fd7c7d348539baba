"""Which subtree hashes make up an RFC 9162 proof, worked out by arithmetic alone.

The log can give the hash of every perfect subtree (2**level leaves, aligned on a multiple of
2**level): high ones are stored, low ones are hashed from the stored leaf hashes. A proof is
a list of such hashes, except that a tree whose size is not a power of two has non-perfect
nodes on its right edge. Those "ephemeral" nodes are never stored: each is rebuilt from the
perfect subtrees that cover the same leaves. This follows transparency-dev/merkle
`proof/proof.go`, so storage only has to fetch hashes by position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from projections.verifier import node_hash


class NodeRef(NamedTuple):
    """The perfect subtree of 2**level leaves starting at leaf index * 2**level.

    A named tuple rather than a frozen dataclass: a proof makes about a hundred of these, and
    building and hashing them was a fifth of a proof's time in Python."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing calls

    @property
    def begin(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


@dataclass(frozen=True)
class Ephemeral:
    """A right-edge node that is not a perfect subtree, as the perfect ones covering it.

    `parts` run left to right with strictly decreasing sizes; the node's hash folds them from
    the right, which is how RFC 9162 splits a tree whose size is not a power of two.
    """

    parts: tuple[NodeRef, ...]


ProofNode = NodeRef | Ephemeral


def _perfect_cover(begin: int, end: int) -> list[NodeRef]:
    """The fewest perfect subtrees covering leaves [begin, end), left to right.

    Greedily take the largest subtree that is aligned at `begin` and fits before `end`. Both
    ranges used here start at 0 or at a boundary coarser than their length, so the result is
    the binary decomposition of `end - begin`, largest first.
    """
    refs: list[NodeRef] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        while begin & ((1 << level) - 1):
            level -= 1
        refs.append(NodeRef(level, begin >> level))
        begin += 1 << level
    return refs


def _path_nodes(node: NodeRef, size: int) -> list[ProofNode]:
    """The nodes proving that perfect subtree `node` is part of the tree of `size` leaves.

    Going up from `node`, its path and the path to the tree's last leaf meet at a "fork"
    node: the highest bit in which `node.index` and `size >> node.level` differ says how many
    levels up. Below the fork every sibling is a perfect subtree. The fork is a left
    child (that bit is 0 in the index and 1 in the size), and its right sibling is the
    ephemeral node covering [fork.end, size), if any leaves lie there. Above it, the path runs
    along the right edge, whose only siblings are on the left: the perfect subtrees covering
    [0, fork.begin), nearest first.
    """
    inner = (node.index ^ (size >> node.level)).bit_length() - 1
    fork = NodeRef(node.level + inner, node.index >> inner)
    nodes: list[ProofNode] = [
        NodeRef(node.level + up, (node.index >> up) ^ 1) for up in range(inner)
    ]
    right = _perfect_cover(fork.end, size)
    if len(right) == 1:
        nodes.append(right[0])
    elif right:
        nodes.append(Ephemeral(tuple(right)))
    nodes.extend(reversed(_perfect_cover(0, fork.begin)))
    return nodes


def inclusion_nodes(index: int, size: int) -> list[ProofNode]:
    """The nodes of the inclusion proof for leaf `index` in a tree of `size` leaves, in order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _path_nodes(NodeRef(0, index), size)


def consistency_nodes(size1: int, size2: int) -> list[ProofNode]:
    """The nodes of the consistency proof from `size1` leaves to `size2`, in order.

    The old tree ends with a perfect subtree of 2**level leaves, level being the number of
    trailing zero bits of size1. The proof is that subtree's hash followed by its inclusion
    path in the new tree, except that the subtree is left out when it is the whole old tree
    (size1 a power of two), because the verifier already holds that root. Equal sizes need
    no proof. Like the verifier, this refuses size1 = 0.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1
    seed = NodeRef(level, (size1 - 1) >> level)
    path = _path_nodes(seed, size2)
    return path if seed.index == 0 else [seed, *path]


def _resolve(proof_node: ProofNode, node: Callable[[NodeRef], bytes]) -> bytes:
    if isinstance(proof_node, NodeRef):
        return node(proof_node)
    *rest, last = proof_node.parts
    digest = node(last)
    for part in reversed(rest):
        digest = node_hash(node(part), digest)
    return digest


def resolve(proof_nodes: Iterable[ProofNode], node: Callable[[NodeRef], bytes]) -> list[bytes]:
    """The hashes of the given proof nodes, in order, from perfect subtrees' fetched by `node`."""
    return [_resolve(n, node) for n in proof_nodes]


def inclusion_proof(index: int, size: int, node: Callable[[NodeRef], bytes]) -> list[bytes]:
    """The inclusion proof for leaf `index` in a tree of `size`, hashes fetched by `node`."""
    return resolve(inclusion_nodes(index, size), node)


def consistency_proof(size1: int, size2: int, node: Callable[[NodeRef], bytes]) -> list[bytes]:
    """The consistency proof from `size1` to `size2`, hashes fetched by `node`."""
    return resolve(consistency_nodes(size1, size2), node)


def refs(proof_nodes: Iterable[ProofNode]) -> set[NodeRef]:
    """Every perfect subtree the given proof nodes are made of, to fetch them in one go."""
    found: set[NodeRef] = set()
    for proof_node in proof_nodes:
        found.update(proof_node.parts if isinstance(proof_node, Ephemeral) else (proof_node,))
    return found


def frontier(size: int) -> list[NodeRef]:
    """The perfect subtrees whose row makes up the tree of `size` leaves, left to right."""
    return _perfect_cover(0, size)


class Frontier:
    """A growing tree as the row of its perfect subtrees' hashes: all that appending a leaf
    or computing the root needs.

    Leaf `i` completes one perfect subtree for each trailing 1 bit of `i`; its left sibling
    at that level is the last subtree in the row, so the row works as a stack.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} frontier hashes")

    def push(self, digest: bytes) -> list[tuple[NodeRef, bytes]]:
        """Append a leaf hash; the interior nodes it completes, lowest first."""
        index, level = self.size, 0
        completed: list[tuple[NodeRef, bytes]] = []
        while index >> level & 1:
            digest = node_hash(self.hashes.pop(), digest)
            level += 1
            completed.append((NodeRef(level, index >> level), digest))
        self.hashes.append(digest)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """RFC 9162's root: the row hashed from the right (SHA-256 of nothing when empty)."""
        if not self.hashes:
            return hashlib.sha256(b"").digest()
        *rest, digest = self.hashes
        for left in reversed(rest):
            digest = node_hash(left, digest)
        return digest


def subtree_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """The hash of a perfect subtree from its leaves' hashes, left to right (2**level of them).

    This is how the log serves the low levels it does not store: at most 2**level - 1 hashes."""
    row = list(leaf_hashes)
    if not row or len(row) & (len(row) - 1):
        raise ValueError(f"{len(row)} leaves do not make a perfect subtree")
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def root(size: int, node: Callable[[NodeRef], bytes]) -> bytes:
    """The root of the tree of `size` leaves, from its frontier's subtree hashes."""
    return Frontier(size, [node(ref) for ref in frontier(size)]).root()

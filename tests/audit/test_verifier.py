"""The stand-alone verifier against independently derived RFC 9162 vectors and C2SP notes.

The vectors in `vectors/` are derived here by a naive transcription of RFC 9162's recursive
definitions (MTH, PATH, PROOF), never by the code under test. Regenerate them with:

    PYTHONPATH=. .venv/bin/python -m tests.audit.test_verifier
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from projections import verifier
from projections.verifier import (
    Checkpoint,
    ProofError,
    RootMismatch,
    SignatureError,
    leaf_hash,
    node_hash,
    open_checkpoint,
    root_hash,
    sign_checkpoint,
    verifier_key,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parent / "vectors"

# The Certificate Transparency test tree (certificate-transparency-go merkletree tests).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- RFC 9162 §2.1, transcribed naively: the independent source of every expected value ---


def rfc_mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = _split(n)
    return hashlib.sha256(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:])).digest()


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*rfc_path(m, leaves[:k]), rfc_mth(leaves[k:])]
    return [*rfc_path(m - k, leaves[k:]), rfc_mth(leaves[:k])]


def rfc_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return _rfc_subproof(m, leaves, complete=True)


def _rfc_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [rfc_mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*_rfc_subproof(m, leaves[:k], complete), rfc_mth(leaves[k:])]
    return [*_rfc_subproof(m - k, leaves[k:], False), rfc_mth(leaves[:k])]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


# --- Vector generation ---------------------------------------------------------------------


def _flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    flipped = bytearray(proof[element])
    flipped[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:element], bytes(flipped), *proof[element + 1 :]]


def _hostile(proof: list[bytes]) -> list[tuple[str, list[bytes]]]:
    """The proof mangled every way STYLE.md asks for; each must be refused."""
    return [
        ("last element removed", proof[:-1]),
        ("first element removed", proof[1:]),
        ("element appended", [*proof, proof[0]]),
        ("leading garbage", [b"\xff" * 32, *proof]),
        ("first two elements swapped", [proof[1], proof[0], *proof[2:]]),
        ("first element duplicated", [proof[0], *proof]),
        ("bit flipped in first element", _flip(proof, 0, 0)),
        ("bit flipped in last element", _flip(proof, len(proof) - 1, 255)),
        ("short element", [proof[0][:31], *proof[1:]]),
    ]


def _inclusion_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []

    def add(
        desc: str,
        index: int,
        size: int,
        leaf: bytes,
        proof: list[bytes],
        root: bytes,
        want_err: bool,
    ) -> None:
        vectors.append(
            {
                "desc": desc,
                "leafIndex": index,
                "treeSize": size,
                "leafHash": leaf.hex(),
                "proof": [p.hex() for p in proof],
                "root": root.hex(),
                "wantErr": want_err,
            }
        )

    for size in range(1, len(CT_LEAVES) + 1):
        tree = CT_LEAVES[:size]
        for index in range(size):
            leaf = rfc_mth([tree[index]])
            add(
                f"leaf {index} in size {size}",
                index,
                size,
                leaf,
                rfc_path(index, tree),
                rfc_mth(tree),
                want_err=False,
            )

    tree, index = CT_LEAVES[:7], 2
    leaf, proof, root = rfc_mth([tree[index]]), rfc_path(index, tree), rfc_mth(tree)
    for desc, mangled in _hostile(proof):
        add(f"leaf 2 in size 7, {desc}", index, 7, leaf, mangled, root, want_err=True)
    add("leaf 2 in size 7, wrong index", 3, 7, leaf, proof, root, want_err=True)
    # A wrong size is caught only when it changes the proof's shape: sizes 5 to 8 give leaf 2
    # the same path here, so a proof cannot pin the size. The signed checkpoint does that.
    add("leaf 2 in size 7, wrong size", index, 3, leaf, proof, root, want_err=True)
    add("leaf 2 in size 7, much wrong size", index, 70, leaf, proof, root, want_err=True)
    add("leaf 2 in size 7, index beyond size", 7, 7, leaf, proof, root, want_err=True)
    add(
        "leaf 2 in size 7, another leaf's hash",
        index,
        7,
        rfc_mth([tree[3]]),
        proof,
        root,
        want_err=True,
    )
    add(
        "leaf 2 in size 7, the root of size 8",
        index,
        7,
        leaf,
        proof,
        rfc_mth(CT_LEAVES),
        want_err=True,
    )
    add(
        "leaf 0 in size 1, a proof where none is due",
        0,
        1,
        rfc_mth(CT_LEAVES[:1]),
        [rfc_mth(CT_LEAVES[1:2])],
        rfc_mth(CT_LEAVES[:1]),
        want_err=True,
    )
    add("empty tree", 0, 0, leaf, [], hashlib.sha256(b"").digest(), want_err=True)
    return vectors


def _consistency_vectors() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []

    def add(
        desc: str,
        size1: int,
        size2: int,
        proof: list[bytes],
        root1: bytes,
        root2: bytes,
        want_err: bool,
    ) -> None:
        vectors.append(
            {
                "desc": desc,
                "size1": size1,
                "size2": size2,
                "proof": [p.hex() for p in proof],
                "root1": root1.hex(),
                "root2": root2.hex(),
                "wantErr": want_err,
            }
        )

    for size2 in range(1, len(CT_LEAVES) + 1):
        for size1 in range(1, size2 + 1):
            add(
                f"size {size1} to size {size2}",
                size1,
                size2,
                rfc_proof(size1, CT_LEAVES[:size2]),
                rfc_mth(CT_LEAVES[:size1]),
                rfc_mth(CT_LEAVES[:size2]),
                want_err=False,
            )

    proof = rfc_proof(3, CT_LEAVES[:7])
    root3, root7 = rfc_mth(CT_LEAVES[:3]), rfc_mth(CT_LEAVES[:7])
    for desc, mangled in _hostile(proof):
        add(f"size 3 to size 7, {desc}", 3, 7, mangled, root3, root7, want_err=True)
    add("size 3 to size 7, wrong first size", 2, 7, proof, root3, root7, want_err=True)
    # As for inclusion, only a size that changes the proof's shape can be caught here.
    add("size 3 to size 7, wrong second size", 3, 4, proof, root3, root7, want_err=True)
    add("size 3 to size 7, roots swapped", 3, 7, proof, root7, root3, want_err=True)
    add("size1 greater than size2", 7, 3, proof, root7, root3, want_err=True)
    add("from the empty tree", 0, 7, [], hashlib.sha256(b"").digest(), root7, want_err=True)
    add("equal sizes, different roots", 7, 7, [], root7, rfc_mth(CT_LEAVES[1:8]), want_err=True)
    add("equal sizes, a proof where none is due", 7, 7, [root3], root7, root7, want_err=True)

    # Two histories that share their first two leaves and then part: B rewrites leaf 2.
    history_b = [*CT_LEAVES[:2], b"rewritten", *CT_LEAVES[3:]]
    add(
        "rewritten history, proof from the new log",
        3,
        7,
        rfc_proof(3, history_b),
        root3,
        rfc_mth(history_b),
        want_err=True,
    )
    add(
        "rewritten history, proof from the old log",
        3,
        7,
        proof,
        root3,
        rfc_mth(history_b),
        want_err=True,
    )
    add(
        "rewritten history, power-of-two first size",
        4,
        8,
        rfc_proof(4, history_b),
        rfc_mth(CT_LEAVES[:4]),
        rfc_mth(history_b),
        want_err=True,
    )
    return vectors


def build_vectors() -> dict[str, Any]:
    return {
        "roots.json": {
            "desc": "RFC 6962 / CT test tree: MTH of the first n leaves, n = 0..8",
            "leaves": [leaf.hex() for leaf in CT_LEAVES],
            "roots": [rfc_mth(CT_LEAVES[:n]).hex() for n in range(len(CT_LEAVES) + 1)],
        },
        "inclusion.json": _inclusion_vectors(),
        "consistency.json": _consistency_vectors(),
    }


def write_vectors() -> None:
    for name, content in build_vectors().items():
        (VECTORS / name).write_text(json.dumps(content, indent=1) + "\n")


def _load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


# --- Known answers ---------------------------------------------------------------------------


def test_the_vector_files_are_what_the_rfc_definitions_give() -> None:
    for name, content in build_vectors().items():
        assert _load(name) == content, f"{name} is stale: regenerate it (see module docstring)"


def test_the_independent_reference_agrees_with_the_published_ct_root_and_empty_hash() -> None:
    roots = _load("roots.json")["roots"]
    assert roots[8] == CT_ROOT_8
    assert roots[0] == EMPTY_ROOT


def test_root_hash_matches_every_known_root() -> None:
    vectors = _load("roots.json")
    leaves = [bytes.fromhex(leaf) for leaf in vectors["leaves"]]
    assert [root_hash(leaves[:n]).hex() for n in range(len(leaves) + 1)] == vectors["roots"]


def test_leaves_and_nodes_are_hashed_with_distinct_prefixes() -> None:
    assert verifier.LEAF_PREFIX == b"\x00"
    assert verifier.NODE_PREFIX == b"\x01"
    left, right = b"\xaa" * 32, b"\xbb" * 32
    assert leaf_hash(left + right) != node_hash(left, right)
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def _run_all(vectors: list[dict[str, Any]], check: Callable[[dict[str, Any]], None]) -> None:
    """Run every vector and report every failure at once, as verify_test.go does."""
    failures = []
    for vector in vectors:
        try:
            check(vector)
        except ProofError as error:
            if not vector["wantErr"]:
                failures.append(f"{vector['desc']}: unexpected {error!r}")
        else:
            if vector["wantErr"]:
                failures.append(f"{vector['desc']}: accepted, wanted ProofError")
    assert not failures, "\n".join(failures)


def test_inclusion_vectors() -> None:
    def check(v: dict[str, Any]) -> None:
        verify_inclusion(
            bytes.fromhex(v["leafHash"]),
            v["leafIndex"],
            v["treeSize"],
            [bytes.fromhex(p) for p in v["proof"]],
            bytes.fromhex(v["root"]),
        )

    _run_all(_load("inclusion.json"), check)


def test_consistency_vectors() -> None:
    def check(v: dict[str, Any]) -> None:
        verify_consistency(
            v["size1"],
            v["size2"],
            [bytes.fromhex(p) for p in v["proof"]],
            bytes.fromhex(v["root1"]),
            bytes.fromhex(v["root2"]),
        )

    _run_all(_load("consistency.json"), check)


def test_a_root_mismatch_carries_both_roots() -> None:
    tree = CT_LEAVES[:5]
    wrong_root = b"\x00" * 32
    with pytest.raises(RootMismatch) as caught:
        verify_inclusion(rfc_mth([tree[1]]), 1, 5, rfc_path(1, tree), wrong_root)
    assert caught.value.calculated == rfc_mth(tree)
    assert caught.value.expected == wrong_root
    assert rfc_mth(tree).hex() in str(caught.value)


# --- Signed checkpoints ----------------------------------------------------------------------

LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
CHECKPOINT = Checkpoint("trustledger.example/audit", 8, bytes.fromhex(CT_ROOT_8))

# golang.org/x/mod/sumdb/note's documented example key and signed note.
GO_NOTE_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_a_checkpoint_body_is_origin_size_and_base64_root() -> None:
    assert CHECKPOINT.body() == (
        b"trustledger.example/audit\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    )


def test_a_signed_checkpoint_opens_with_the_log_key() -> None:
    note = sign_checkpoint(CHECKPOINT, "trustledger.example/audit", LOG_KEY)
    key = verifier_key("trustledger.example/audit", LOG_KEY.public_key())

    assert note.startswith(CHECKPOINT.body().decode() + "\n\u2014 trustledger.example/audit ")
    assert open_checkpoint(note, key) == CHECKPOINT


def test_the_verifier_key_has_the_c2sp_shape_and_known_key_id() -> None:
    key = verifier_key("trustledger.example/audit", LOG_KEY.public_key())
    assert re.fullmatch(r"[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}", key)
    seed = base64.b64decode(GO_NOTE_SEED)[1:]
    go_key = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    assert verifier_key("PeterNeumann", go_key) == GO_NOTE_VERIFIER


def test_the_go_example_note_verifies_though_its_body_is_no_checkpoint() -> None:
    with pytest.raises(ProofError, match="origin, a size and a root") as caught:
        open_checkpoint(GO_NOTE, GO_NOTE_VERIFIER)
    assert not isinstance(caught.value, SignatureError)


def test_extension_lines_are_signed_but_ignored() -> None:
    body = CHECKPOINT.body() + b"extension: witness policy v1\n"
    signature = LOG_KEY.sign(body)
    key_id = bytes.fromhex(verifier_key("log", LOG_KEY.public_key()).split("+")[1])
    line = "\u2014 log " + base64.b64encode(key_id + signature).decode() + "\n"
    note = body.decode() + "\n" + line
    key = verifier_key("log", LOG_KEY.public_key())

    assert open_checkpoint(note, key) == CHECKPOINT
    with pytest.raises(SignatureError):
        open_checkpoint(note.replace("policy v1", "policy v2"), key)


def test_a_cosignature_by_another_key_is_ignored() -> None:
    ours = sign_checkpoint(CHECKPOINT, "log", LOG_KEY)
    theirs = sign_checkpoint(CHECKPOINT, "witness", OTHER_KEY)
    note = ours + theirs.split("\n\n")[1]
    assert open_checkpoint(note, verifier_key("log", LOG_KEY.public_key())) == CHECKPOINT
    assert open_checkpoint(note, verifier_key("witness", OTHER_KEY.public_key())) == CHECKPOINT


def test_a_signature_by_another_key_is_refused() -> None:
    note = sign_checkpoint(CHECKPOINT, "log", OTHER_KEY)
    with pytest.raises(SignatureError, match="no signature by log"):
        open_checkpoint(note, verifier_key("log", LOG_KEY.public_key()))


@pytest.mark.parametrize(
    ("original", "tampered"),
    [
        ("\n8\n", "\n9\n"),
        ("XcnaeacG", "YcnaeacG"),
        ("trustledger.example/audit\n", "trustledger.example/other\n"),
    ],
    ids=["size", "root", "origin"],
)
def test_a_tampered_body_is_refused(original: str, tampered: str) -> None:
    note = sign_checkpoint(CHECKPOINT, "log", LOG_KEY)
    with pytest.raises(SignatureError, match="does not verify"):
        open_checkpoint(
            note.replace(original, tampered, 1), verifier_key("log", LOG_KEY.public_key())
        )


@pytest.mark.parametrize(
    "mangle",
    [
        lambda note: note.replace("\n\n", "\n"),
        lambda note: note[:-1],
        lambda note: note.replace("\u2014 ", "- "),
        lambda note: note.replace("\u2014 log ", "\u2014 log"),
        lambda note: note[: note.rindex(" ") + 1] + "not*base64\n",
        lambda note: note[: note.rindex(" ") + 1] + base64.b64encode(b"\x00" * 8).decode() + "\n",
        lambda note: "",
    ],
    ids=[
        "no blank line",
        "no final newline",
        "hyphen for em dash",
        "no space after name",
        "signature not base64",
        "signature too short",
        "empty",
    ],
)
def test_a_malformed_note_is_refused(mangle: Callable[[str], str]) -> None:
    note = sign_checkpoint(CHECKPOINT, "log", LOG_KEY)
    with pytest.raises(SignatureError):
        open_checkpoint(mangle(note), verifier_key("log", LOG_KEY.public_key()))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"origin\n8\n", "origin, a size and a root"),
        (b"origin\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "canonical decimal"),
        (b"origin\n+8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "canonical decimal"),
        (b"origin\n8\nXcnaeacG\n", "32"),
        (b"\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "origin is empty"),
    ],
    ids=["no root", "leading zero", "plus sign", "short root", "empty origin"],
)
def test_a_signed_but_malformed_checkpoint_is_refused(body: bytes, message: str) -> None:
    key_id = bytes.fromhex(verifier_key("log", LOG_KEY.public_key()).split("+")[1])
    signature = base64.b64encode(key_id + LOG_KEY.sign(body)).decode()
    note = body.decode() + "\n\u2014 log " + signature + "\n"
    with pytest.raises(ProofError, match=message):
        open_checkpoint(note, verifier_key("log", LOG_KEY.public_key()))


@pytest.mark.parametrize(
    "key",
    [
        "log",
        "log+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode(),
        "log+ab+cd",
        "+" + "0" * 8 + "+AQ==",
    ],
    ids=["no key", "wrong key id", "not base64", "no name"],
)
def test_a_malformed_verifier_key_is_refused(key: str) -> None:
    note = sign_checkpoint(CHECKPOINT, "log", LOG_KEY)
    with pytest.raises(SignatureError):
        open_checkpoint(note, key)


# --- Stand-alone -----------------------------------------------------------------------------


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(Path(verifier.__file__).read_text())
    imported = set()
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in statement.names}
        elif isinstance(statement, ast.ImportFrom):
            assert statement.level == 0, "relative imports tie the verifier to the project"
            assert statement.module is not None
            imported.add(statement.module.split(".")[0])
    assert imported - sys.stdlib_module_names == {"cryptography"}


if __name__ == "__main__":
    write_vectors()

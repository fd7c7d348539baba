"""Verify Trustledger's audit log without Trustledger: Merkle proofs and signed checkpoints.

This one file is the auditor's tool (DESIGN §3). It imports only the standard library and
`cryptography`, so it can be copied out of the project and used on its own:

    python verifier.py checkpoint --key KEY checkpoint.json
    python verifier.py inclusion --key KEY --checkpoint checkpoint.json --leaf leaf.json \
        --proof inclusion.json
    python verifier.py consistency --key KEY --old kept.json --new latest.json \
        --proof consistency.json

KEY is the verifier key the service publishes (GET /audit/public-key), or a file holding it;
the JSON files are the service's answers as saved (a checkpoint may also be the bare note).

- Hashing and proofs follow RFC 9162 §2.1: leaves and interior nodes are hashed with
  distinct prefixes so that a leaf can never be passed off as a node (second preimages).
- Checkpoints are C2SP `tlog-checkpoint` bodies inside C2SP `signed-note` envelopes, signed
  with Ed25519.

Every check raises `ProofError` (or its subclass `SignatureError`); nothing returns a bool
that a caller could forget to test.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32

# C2SP signed-note: the algorithm byte for Ed25519 keys, and the em dash that opens every
# signature line.
ED25519_ALGORITHM = b"\x01"
SIGNATURE_LINE_PREFIX = "\u2014 "
_KEY_ID_SIZE = 4
_ED25519_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64


class ProofError(Exception):
    """A proof, root or checkpoint does not verify, or was malformed to begin with."""


class RootMismatch(ProofError):
    """The proof is well formed but leads to a different root from the one expected."""

    def __init__(self, what: str, calculated: bytes, expected: bytes) -> None:
        super().__init__(
            f"{what}: calculated root {calculated.hex()}, expected root {expected.hex()}"
        )
        self.calculated = calculated
        self.expected = expected


class SignatureError(ProofError):
    """A signed note or verifier key is malformed, unknown or carries a bad signature."""


# --- RFC 9162 §2.1.1 hashing -------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, without recursion.

    The RFC splits n leaves at k, the largest power of two below n, so the tree is a row of
    perfect subtrees whose sizes are the binary digits of n, largest on the left. Folding the
    leaves into a stack of perfect subtrees (merging two equal ones as soon as they appear)
    builds exactly that row; hashing the row from the right then gives the RFC's root. The
    empty tree's hash is SHA-256 of the empty string.
    """
    if not leaves:
        return hashlib.sha256(b"").digest()
    stack: list[bytes] = []
    for count, leaf in enumerate(leaves, start=1):
        stack.append(leaf_hash(leaf))
        # Each trailing zero bit of the new count is a pair of equal subtrees to merge.
        merges = (count & -count).bit_length() - 1
        for _ in range(merges):
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
    root = stack.pop()
    while stack:
        root = node_hash(stack.pop(), root)
    return root


# --- Trustledger's leaves ------------------------------------------------------------------

# Leaf inputs open with a name and a version, so that a leaf can never be read as another
# kind of record, and a later encoding can be told from this one.
EVENT_LEAF_TAG = b"trustledger/event/v1\x00"


def event_leaf(position: int, aggregate_id: bytes, version: int, topic: str, state: bytes) -> bytes:
    """The leaf input for one stored event: what its leaf hash commits to.

    Tag, then the event's position in the log (notification id), its aggregate's 16-byte id
    and its version, each big-endian 8 bytes where a number; then the topic's UTF-8 bytes
    behind a 2-byte length, and last the state exactly as stored (after any compression or
    encryption), which needs no length because nothing follows it.
    """
    if len(aggregate_id) != 16:
        raise ProofError("an aggregate id is 16 bytes")
    encoded_topic = topic.encode()
    if len(encoded_topic) > 0xFFFF:
        raise ProofError("an event topic is at most 65535 bytes")
    return b"".join(
        (
            EVENT_LEAF_TAG,
            position.to_bytes(8, "big"),
            aggregate_id,
            version.to_bytes(8, "big"),
            len(encoded_topic).to_bytes(2, "big"),
            encoded_topic,
            state,
        )
    )


# --- RFC 9162 §2.1.3.2 and §2.1.4.2 verification ------------------------------------------


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, expected {HASH_SIZE}")


def _inclusion_shape(index: int, size: int) -> tuple[int, int]:
    """How many inner and border hashes prove leaf `index` in a tree of `size` leaves.

    The paths to `index` and to the last leaf `size - 1` share their top levels and part at the
    highest bit in which the two numbers differ. Below that bit the proof holds one sibling
    per level (`inner`); above it, one left sibling per set bit of the remaining index
    (`border`), the right siblings there being on the tree's right edge and so absent.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves with `root`.

    Preconditions, checked first: 0 <= index < tree_size, every hash is 32 bytes, and the
    proof has exactly the length the index and size call for. Then RFC 9162 §2.1.3.2.
    """
    if not 0 <= index < tree_size:
        raise ProofError(f"leaf index {index} is outside a tree of size {tree_size}")
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    for position, element in enumerate(proof):
        _check_hash(f"proof element {position}", element)
    inner, border = _inclusion_shape(index, tree_size)
    if len(proof) != inner + border:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes, "
            f"expected {inner + border} for index {index} in size {tree_size}"
        )

    # RFC 9162 also fails when sn reaches 0 early or ends above 0; with the length checked
    # above neither can happen, as the proof has exactly one hash per step to the root.
    fn, sn = index, tree_size - 1
    calculated = leaf_hash
    for element in proof:
        if fn & 1 or fn == sn:
            calculated = node_hash(element, calculated)
            # A left child on the right edge has no sibling in the proof: climb past such
            # levels to the one where this left-hand element really joins the path.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            calculated = node_hash(calculated, element)
        fn >>= 1
        sn >>= 1
    if calculated != root:
        raise RootMismatch("inclusion proof", calculated, root)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` leaves with `root2` extends the one of `size1` with `root1`.

    Preconditions, checked first: 0 < size1 <= size2 (a consistency proof from the empty tree
    proves nothing, so it is refused rather than waved through), every hash is 32 bytes, and
    the proof has exactly the length the sizes call for (none when the sizes are equal, and
    then the roots must match). Then RFC 9162 §2.1.4.2.
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    _check_hash("first root", root1)
    _check_hash("second root", root2)
    for position, element in enumerate(proof):
        _check_hash(f"proof element {position}", element)
    if size1 == size2:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise RootMismatch("equal sizes", root2, root1)
        return

    # The old tree's last perfect subtree, of 2**level leaves, is where the two trees part.
    # Unless it is the whole old tree (size1 a power of two), the proof starts with its hash,
    # then proves it included in the new tree: inner hashes above it, then border hashes.
    level = (size1 & -size1).bit_length() - 1
    inner, border = _inclusion_shape(size1 - 1, size2)
    expected = inner - level + border + (0 if size1 == 1 << level else 1)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof has {len(proof)} hashes, "
            f"expected {expected} from size {size1} to size {size2}"
        )

    path = [root1, *proof] if size1 == 1 << level else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    # As for inclusion, the length check leaves no room for the RFC's early or late sn = 0.
    for element in path[1:]:
        if fn & 1 or fn == sn:
            first = node_hash(element, first)
            second = node_hash(element, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, element)
        fn >>= 1
        sn >>= 1
    if first != root1:
        raise RootMismatch("consistency proof, first tree", first, root1)
    if second != root2:
        raise RootMismatch("consistency proof, second tree", second, root2)


# --- C2SP tlog-checkpoint in a C2SP signed note --------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed claim: `origin` has `size` leaves whose root is `root`."""

    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        """The note text: origin line, decimal size, base64 root, each ending in a newline."""
        if not self.origin or "\n" in self.origin:
            raise ProofError("a checkpoint origin must be one non-empty line")
        if self.size < 0:
            raise ProofError(f"a checkpoint size cannot be negative: {self.size}")
        _check_hash("checkpoint root", self.root)
        root = base64.b64encode(self.root).decode("ascii")
        return f"{self.origin}\n{self.size}\n{root}\n".encode()


def _key_id(name: str, key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || key): C2SP signed-note's key hash."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALGORITHM + key).digest()[:_KEY_ID_SIZE]


def _check_name(name: str) -> None:
    # signed-note: a name is non-empty and holds no whitespace and no "+", because both
    # delimit it in verifier keys and signature lines.
    if not name or "+" in name or any(c.isspace() for c in name):
        raise SignatureError(f"invalid key name {name!r}")


def _decode_base64(text: str, what: str) -> bytes:
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise SignatureError(f"{what} is not base64: {error}") from error
    # Only the canonical encoding is accepted, so one value has one spelling.
    if base64.b64encode(decoded).decode("ascii") != text:
        raise SignatureError(f"{what} is not canonical base64")
    return decoded


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """`<name>+<hex key id>+<base64(0x01 || key)>`, the C2SP signed-note verifier key."""
    _check_name(name)
    key = public_key.public_bytes_raw()
    encoded = base64.b64encode(ED25519_ALGORITHM + key).decode("ascii")
    return f"{name}+{_key_id(name, key).hex()}+{encoded}"


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """The checkpoint as a signed note: body, blank line, one signature line by `name`."""
    _check_name(name)
    body = checkpoint.body()
    key_id = _key_id(name, private_key.public_key().public_bytes_raw())
    signature = base64.b64encode(key_id + private_key.sign(body)).decode("ascii")
    return f"{body.decode()}\n{SIGNATURE_LINE_PREFIX}{name} {signature}\n"


def _parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    name, plus, rest = text.partition("+")
    key_id_hex, plus2, encoded = rest.partition("+")
    if not plus or not plus2:
        raise SignatureError("a verifier key is name+keyid+key")
    _check_name(name)
    key_bytes = _decode_base64(encoded, "verifier key")
    if len(key_bytes) != 1 + _ED25519_KEY_SIZE or key_bytes[:1] != ED25519_ALGORITHM:
        raise SignatureError("verifier key is not an Ed25519 key")
    key = key_bytes[1:]
    key_id = _key_id(name, key)
    if key_id_hex != key_id.hex():
        raise SignatureError("verifier key id does not match its name and key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(key)


def _parse_checkpoint(body: str) -> Checkpoint:
    # Lines after the third are extension lines: they are signed, but carry nothing we read.
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise ProofError("a checkpoint body has an origin, a size and a root")
    origin, size_text, root_text = lines[:3]
    if not origin:
        raise ProofError("checkpoint origin is empty")
    # tlog-checkpoint: ASCII decimal without leading zeros (int() alone would take "+7", " 7").
    if not size_text.isascii() or not size_text.isdigit() or size_text != str(int(size_text)):
        raise ProofError(f"checkpoint size {size_text!r} is not a canonical decimal")
    root = _decode_base64(root_text, "checkpoint root")
    _check_hash("checkpoint root", root)
    return Checkpoint(origin=origin, size=int(size_text), root=root)


def open_checkpoint(note: str, verifier_key: str) -> Checkpoint:
    """The checkpoint in `note`, once its signature by `verifier_key` has been verified.

    Signature lines by other keys are ignored, as signed-note allows witnesses and other
    cosigners to add theirs; a note with no signature by this key is refused.
    """
    name, key_id, public_key = _parse_verifier_key(verifier_key)
    # The body ends at the last blank line: signature lines never contain one.
    split = note.rfind("\n\n")
    if split < 0:
        raise SignatureError("a signed note needs a blank line before its signatures")
    body, signatures = note[: split + 1], note[split + 2 :]
    if not signatures.endswith("\n"):
        raise SignatureError("a signed note ends with a newline")

    verified = False
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_LINE_PREFIX):
            raise SignatureError(f"malformed signature line {line!r}")
        signer, space, encoded = line[len(SIGNATURE_LINE_PREFIX) :].partition(" ")
        if not space:
            raise SignatureError(f"malformed signature line {line!r}")
        if signer != name:
            continue
        signature = _decode_base64(encoded, "signature")
        if len(signature) != _KEY_ID_SIZE + _ED25519_SIGNATURE_SIZE:
            raise SignatureError("signature has the wrong length")
        if signature[:_KEY_ID_SIZE] != key_id:
            continue
        try:
            public_key.verify(signature[_KEY_ID_SIZE:], body.encode())
        except InvalidSignature as error:
            raise SignatureError(f"signature by {name} does not verify") from error
        verified = True
    if not verified:
        raise SignatureError(f"note carries no signature by {name}")
    return _parse_checkpoint(body)


# --- The command line ---------------------------------------------------------------------


def _text(value: str) -> str:
    path = Path(value)
    return path.read_text(encoding="utf-8").strip() if path.is_file() else value.strip()


def _json(path: str) -> dict[str, Any]:
    try:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ProofError(f"{path}: {error}") from error
    if not isinstance(loaded, dict):
        raise ProofError(f"{path}: not a JSON object")
    return loaded


def _note(path: str) -> str:
    """A checkpoint file: the service's JSON answer, or the signed note itself."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        note = _json(path).get("checkpoint")
        if not isinstance(note, str):
            raise ProofError(f"{path}: no checkpoint note in it")
        return note
    return text


def _hashes(document: dict[str, Any], field: str) -> list[bytes]:
    values = document.get(field)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ProofError(f"the proof has no list of base64 hashes in {field!r}")
    return [_decode_base64(v, field) for v in values]


def _number(document: dict[str, Any], field: str) -> int:
    value = document.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofError(f"{field!r} is not a whole number")
    return value


def _check_event(leaf: bytes, event: dict[str, Any]) -> None:
    """The event shown beside a leaf must be the one the leaf's bytes encode."""
    aggregate = event.get("aggregate_id")
    topic = event.get("topic")
    if not isinstance(aggregate, str) or not isinstance(topic, str):
        raise ProofError("the event beside the leaf lacks its aggregate id or topic")
    try:
        aggregate_bytes = bytes.fromhex(aggregate.replace("-", ""))
    except ValueError as error:
        raise ProofError("the event's aggregate id is not a UUID") from error
    expected = event_leaf(
        _number(event, "position"),
        aggregate_bytes,
        _number(event, "aggregate_version"),
        topic,
        _decode_base64(str(event.get("state")), "event state"),
    )
    if expected != leaf:
        raise ProofError("the event shown is not the event the leaf commits to")


def _verify(arguments: argparse.Namespace) -> str:
    key = _text(arguments.key)
    if arguments.check == "checkpoint":
        checkpoint = open_checkpoint(_note(arguments.note), key)
        return f"checkpoint of {checkpoint.origin}: {checkpoint.size} leaves, signature good"
    if arguments.check == "inclusion":
        checkpoint = open_checkpoint(_note(arguments.checkpoint), key)
        leaf_document = _json(arguments.leaf)
        leaf = _decode_base64(str(leaf_document.get("leaf_input")), "leaf_input")
        if isinstance(leaf_document.get("event"), dict):
            _check_event(leaf, leaf_document["event"])
        index = _number(leaf_document, "leaf_index")
        proof = _json(arguments.proof)
        if _number(proof, "tree_size") != checkpoint.size or _number(proof, "leaf_index") != index:
            raise ProofError("the proof is for another leaf or tree size than the checkpoint's")
        verify_inclusion(
            leaf_hash(leaf), index, checkpoint.size, _hashes(proof, "audit_path"), checkpoint.root
        )
        return (
            f"leaf {index} is in the log of {checkpoint.size} leaves signed by {checkpoint.origin}"
        )
    old = open_checkpoint(_note(arguments.old), key)
    new = open_checkpoint(_note(arguments.new), key)
    if old.origin != new.origin:
        raise ProofError(f"the checkpoints are of two logs: {old.origin} and {new.origin}")
    proof = _json(arguments.proof)
    if _number(proof, "first") != old.size or _number(proof, "second") != new.size:
        raise ProofError("the proof is between other sizes than the two checkpoints'")
    verify_consistency(old.size, new.size, _hashes(proof, "consistency"), old.root, new.root)
    return f"the log of {new.size} leaves extends the one of {old.size} you kept"


def add_checks(checks: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The verifier's checks, as subcommands of its own or of `trustledger verify`."""
    single = checks.add_parser("checkpoint", help="check a checkpoint's signature")
    single.add_argument("note", help="the checkpoint (JSON answer or signed note)")
    inclusion = checks.add_parser("inclusion", help="check that an event is in a checkpoint")
    inclusion.add_argument("--checkpoint", required=True)
    inclusion.add_argument("--leaf", required=True, help="GET /audit/leaves/{index}, saved")
    inclusion.add_argument("--proof", required=True, help="GET /audit/proof/inclusion, saved")
    consistency = checks.add_parser(
        "consistency", help="check that a newer checkpoint extends one you kept"
    )
    consistency.add_argument("--old", required=True, help="the checkpoint you kept")
    consistency.add_argument("--new", required=True, help="the newer checkpoint")
    consistency.add_argument("--proof", required=True, help="GET /audit/proof/consistency")
    for each in (single, inclusion, consistency):
        each.add_argument("--key", required=True, help="the verifier key, or a file holding it")


def run(arguments: argparse.Namespace) -> int:
    """Print what was proved and return 0, or what failed and return 1."""
    try:
        print(f"verified: {_verify(arguments)}")
    except (ProofError, OSError) as error:
        print(f"NOT VERIFIED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="verifier", description=__doc__)
    add_checks(parser.add_subparsers(dest="check", required=True))
    sys.exit(run(parser.parse_args()))

"""The audit log over HTTP: an auditor keeps a checkpoint, comes back after more activity, and
proves with the stand-alone verifier alone that the new history extends the old one.

Proofs and checkpoints are hashes, open to anyone signed in; a leaf's bytes hold its event, so
they are shown only to those who may read that event.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from projections.verifier import (
    ProofError,
    event_leaf,
    leaf_hash,
    open_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from tests.api.client import Client
from tests.api.conftest import World, denied, refused

VERIFIER = Path(__file__).parents[2] / "projections" / "verifier.py"


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def leaf_of(world: World, reader: Client, aggregate_id: str) -> dict[str, Any]:
    """The newest leaf whose event belongs to this aggregate, as `reader` is shown it."""
    size = ok(world.auditor.checkpoint())["tree_size"]
    for index in reversed(range(size)):
        leaf = ok(world.admin.leaf(index))
        if leaf["event"]["aggregate_id"] == aggregate_id:
            return ok(reader.leaf(index))
    raise AssertionError(f"no leaf for {aggregate_id}")


@pytest.fixture
def stand_alone_verifier(tmp_path: Path) -> Path:
    """The verifier copied out of the project, as an auditor would take it."""
    copy = tmp_path / "auditor" / "verifier.py"
    copy.parent.mkdir()
    shutil.copy(VERIFIER, copy)
    return copy


def run_verifier(verifier: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from the copy's own folder with no project on the path: it must need nothing else.
    return subprocess.run(
        [sys.executable, "-I", str(verifier), *args],
        capture_output=True,
        text=True,
        cwd=verifier.parent,
        check=False,
    )


def save(folder: Path, name: str, response: httpx.Response) -> str:
    path = folder / name
    path.write_text(json.dumps(ok(response)))
    return str(path)


@dataclass(frozen=True)
class Kept:
    """What an auditor saved: the published key, a checkpoint kept, and one taken later."""

    key: str
    kept: str
    latest: str
    first: int
    second: int


def keep_then_return(world: World, folder: Path) -> tuple[Kept, dict[str, Any]]:
    """The auditor keeps a checkpoint, a contract is drafted and signed by both parties, and
    the auditor takes the latest; and that contract."""
    key = folder / "key"
    key.write_text(world.auditor.public_key().text)
    world.signed()
    kept = save(folder, "kept.json", world.auditor.checkpoint())
    contract = world.signed()
    latest = save(folder, "latest.json", world.auditor.checkpoint())
    first, second = (json.loads(Path(p).read_text())["tree_size"] for p in (kept, latest))
    assert first < second
    return Kept(str(key), kept, latest, first, second), contract


def test_an_auditor_proves_with_the_stand_alone_verifier_that_history_was_only_extended(
    world: World, stand_alone_verifier: Path
) -> None:
    folder = stand_alone_verifier.parent
    saved, contract = keep_then_return(world, folder)
    proof = save(folder, "proof.json", world.auditor.consistency_proof(saved.first, saved.second))

    result = run_verifier(
        stand_alone_verifier,
        "consistency",
        "--key", saved.key, "--old", saved.kept, "--new", saved.latest, "--proof", proof,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"extends the one of {saved.first}" in result.stdout

    # The commissioner proves that the contract's signing is in the latest checkpoint.
    leaf = leaf_of(world, world.commissioner, contract["id"])
    leaf_file = folder / "leaf.json"
    leaf_file.write_text(json.dumps(leaf))
    inclusion = save(
        folder,
        "inclusion.json",
        world.commissioner.inclusion_proof(leaf["leaf_index"], saved.second),
    )
    result = run_verifier(
        stand_alone_verifier,
        "inclusion",
        "--key", saved.key, "--checkpoint", saved.latest, "--leaf", str(leaf_file),
        "--proof", inclusion,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_verifier_refuses_a_proof_between_other_histories(
    world: World, stand_alone_verifier: Path
) -> None:
    folder = stand_alone_verifier.parent
    saved, _ = keep_then_return(world, folder)
    genuine = ok(world.auditor.consistency_proof(saved.first, saved.second))
    forged = {**genuine, "consistency": genuine["consistency"][::-1]}
    proof = folder / "forged.json"
    proof.write_text(json.dumps(forged))

    result = run_verifier(
        stand_alone_verifier,
        "consistency",
        "--key", saved.key, "--old", saved.kept, "--new", saved.latest, "--proof", str(proof),
    )  # fmt: skip
    assert result.returncode == 1
    assert "NOT VERIFIED" in result.stderr


def test_checkpoints_are_signed_notes_verified_by_the_published_key(world: World) -> None:
    key = world.provider.public_key()
    assert key.status_code == 200
    assert key.headers["content-type"].startswith("text/plain")
    world.signed()

    checkpoint = ok(world.provider.checkpoint())
    opened = open_checkpoint(checkpoint["checkpoint"], key.text.strip())

    assert opened.origin == world.settings.audit_origin
    assert opened.size == checkpoint["tree_size"]
    assert opened.root == b64(checkpoint["root_hash"])
    history = ok(world.provider.checkpoints(limit=500))["checkpoints"]
    assert history[0] == checkpoint
    sizes = [c["tree_size"] for c in history]
    assert sizes == sorted(sizes, reverse=True)


def test_every_leaf_a_reader_may_see_is_proved_in_the_latest_checkpoint(world: World) -> None:
    world.signed()
    checkpoint = open_checkpoint(
        ok(world.admin.checkpoint())["checkpoint"], world.admin.public_key().text.strip()
    )
    for index in range(checkpoint.size):
        leaf = ok(world.admin.leaf(index))
        proof = ok(world.admin.inclusion_proof(index, checkpoint.size))
        assert proof["leaf_index"] == index
        assert proof["tree_size"] == checkpoint.size
        leaf_input = b64(leaf["leaf_input"])
        assert b64(leaf["leaf_hash"]) == leaf_hash(leaf_input)
        verify_inclusion(
            leaf_hash(leaf_input),
            index,
            checkpoint.size,
            [b64(h) for h in proof["audit_path"]],
            checkpoint.root,
        )


def test_a_leaf_shows_its_event_and_the_bytes_that_encode_it(world: World) -> None:
    contract = world.signed()

    leaf = leaf_of(world, world.provider, contract["id"])

    event = leaf["event"]
    assert leaf["withheld"] is False
    assert event["topic"].endswith("ServiceContract.Signed")
    assert event["recorded"]["actor"]["role"] == "provider"
    assert b64(leaf["leaf_input"]) == event_leaf(
        event["position"],
        bytes.fromhex(event["aggregate_id"].replace("-", "")),
        event["aggregate_version"],
        event["topic"],
        b64(event["state"]),
    )


@pytest.mark.parametrize("who", ["other_commissioner", "other_provider", "auditor"])
def test_a_leaf_of_a_contract_the_reader_may_not_see_shows_its_hash_alone(
    world: World, who: str
) -> None:
    contract = world.signed()
    shown = leaf_of(world, world.commissioner, contract["id"])

    leaf = ok(world.person(who).leaf(shown["leaf_index"]))

    assert leaf == {
        "leaf_index": shown["leaf_index"],
        "leaf_hash": shown["leaf_hash"],
        "recorded_at": shown["recorded_at"],
        "leaf_input": None,
        "event": None,
        "withheld": True,
    }


def test_an_auditor_granted_the_contract_sees_its_leaves(world: World) -> None:
    contract = world.signed()
    assert world.admin.grant(world.auditor_id, contract["id"]).status_code in (200, 201)

    leaf = leaf_of(world, world.auditor, contract["id"])

    assert leaf["withheld"] is False
    assert leaf["event"]["aggregate_id"] == contract["id"]


def test_a_proof_tampered_with_in_transit_fails_verification(world: World) -> None:
    world.signed()
    checkpoint = open_checkpoint(
        ok(world.auditor.checkpoint())["checkpoint"], world.auditor.public_key().text.strip()
    )
    proof = [b64(h) for h in ok(world.auditor.inclusion_proof(1, checkpoint.size))["audit_path"]]
    leaf = b64(ok(world.admin.leaf(1))["leaf_hash"])

    for tampered in (proof[1:], proof[::-1], [proof[0], *proof]):
        with pytest.raises(ProofError):
            verify_inclusion(leaf, 1, checkpoint.size, tampered, checkpoint.root)
    with pytest.raises(ProofError):
        verify_consistency(
            1, checkpoint.size, [], checkpoint.root, checkpoint.root
        )  # an empty proof between two sizes


def test_proofs_beyond_the_log_are_refused(world: World) -> None:
    size = ok(world.auditor.checkpoint())["tree_size"]

    refused(world.auditor.inclusion_proof(0, size + 1), 422, "beyond-the-log")
    refused(world.auditor.inclusion_proof(size, size), 422, "beyond-the-log")
    refused(world.auditor.consistency_proof(size, size + 1), 422, "beyond-the-log")
    refused(world.auditor.consistency_proof(2, 1), 422, "beyond-the-log")
    refused(world.auditor.leaf(size + 1000), 404, "not-found")
    refused(world.auditor.inclusion_proof(-1, size), 422, "invalid-request")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.public_key(),
        lambda c: c.checkpoint(),
        lambda c: c.checkpoints(),
        lambda c: c.leaf(0),
        lambda c: c.inclusion_proof(0, 1),
        lambda c: c.consistency_proof(1, 1),
    ],
)
def test_the_audit_log_is_closed_to_the_anonymous(world: World, call: Any) -> None:
    denied(call(world.anonymous()), 401)

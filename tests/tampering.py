"""Rewriting the audit log's stored rows, as someone with the database's password could.

A leaf's hash lives inside its batch's row (32 bytes a leaf, `projections/ledger_store.py`),
so rewriting one leaf means rewriting that row; this does it the same way on both stores, over
any connection whose `execute` takes `?` placeholders and returns rows.
"""

from __future__ import annotations

from typing import Any


def rewrite_leaf_hash(store: Any, index: int, digest: bytes) -> bytes:
    """Store `digest` as leaf `index`'s hash; the hash it had."""
    [(first, hashes)] = store.execute(
        "SELECT first_leaf, leaf_hashes FROM audit_batches WHERE first_leaf <= ? "
        "ORDER BY first_leaf DESC LIMIT 1",
        (index,),
    ).fetchall()
    hashes = bytes(hashes)
    at = (index - first) * 32
    store.execute(
        "UPDATE audit_batches SET leaf_hashes = ? WHERE first_leaf = ?",
        (hashes[:at] + digest + hashes[at + 32 :], first),
    )
    return hashes[at : at + 32]

"""The reply to a COMMIT lost on the wire (a proxy of our own cuts the connection between the
server's CommandComplete and its ReadyForQuery): the write was stored, the service was not told.
Retried under the same Idempotency-Key, the write gets its original outcome, never a false
409 or 412, and is stored once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.settings import Settings
from tests.api.client import Client
from tests.api.server import live_server
from tests.conftest import postgres_url, settings_for
from tests.faults.conftest import Ledger, ready_ledger
from tests.faults.proxy import CommitReplyCutter

KEY = "lost-reply-1"


@dataclass
class Cut:
    ledger: Ledger
    cutter: CommitReplyCutter
    commissioner: Client
    provider: Client
    trust_id: str


@pytest.fixture
def cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cut]:
    """The service in this process, its every connection to PostgreSQL through the cutter."""
    # In clear, so that the proxy can read the messages.
    monkeypatch.setenv("PGSSLMODE", "disable")
    monkeypatch.setenv("PGGSSENCMODE", "disable")
    direct = urlsplit(postgres_url())
    assert direct.hostname is not None
    with CommitReplyCutter((direct.hostname, direct.port or 5432)) as cutter:
        proxied = direct._replace(
            netloc=f"{direct.username}:{direct.password}@127.0.0.1:{cutter.port}"
        ).geturl()
        for shared in settings_for("postgres", tmp_path):  # a fresh schema, dropped after
            settings = Settings(
                database_url=proxied,
                database_schema=shared.database_schema,
                var_dir=tmp_path,
                audit_checkpoint_seconds=0,
            )
            with ready_ledger(settings, tmp_path) as ledger, live_server(settings) as url:
                people = ledger.people(url)
                yield Cut(
                    ledger, cutter, people["commissioner"], people["provider"], people["trust_id"]
                )


def test_a_draft_whose_commit_reply_was_lost_is_answered_with_its_outcome_and_stored_once(
    cut: Cut,
) -> None:
    # Given the line to PostgreSQL will drop as the next COMMIT's reply comes back
    cut.cutter.cut_after_next_commit()

    # When the council drafts a contract, and retries under the same key
    first = _until_answered(lambda: _draft(cut, KEY))
    retried = _draft(cut, KEY)

    # Then the reply was indeed lost, and both answers are the contract drafted once
    assert cut.cutter.cuts == 1
    assert first.status_code == 201, first.text
    assert retried.status_code == 201, retried.text
    assert retried.json()["id"] == first.json()["id"]
    listed = cut.commissioner.contracts().json()
    assert [c["id"] for c in listed if c["title"] == "Lost reply"] == [first.json()["id"]]
    with cut.ledger.connect() as connection:
        writes = connection.execute(
            "SELECT aggregate_id, version FROM idempotent_writes WHERE key = %s", (KEY,)
        ).fetchall()
    assert [(str(a), v) for a, v in writes] == [(first.json()["id"], 1)]


def test_a_signature_whose_commit_reply_was_lost_is_not_refused_as_stale_when_retried(
    cut: Cut,
) -> None:
    # Given a drafted contract, and a line that will drop as the next COMMIT's reply comes back
    drafted = _draft(cut, "draft")
    assert drafted.status_code == 201, drafted.text
    contract = drafted.json()
    cut.cutter.cut_after_next_commit()

    # When the council signs the version it read, and retries under the same key
    def sign() -> httpx.Response:
        return cut.commissioner.post(
            f"/contracts/{contract['id']}/signatures",
            None,
            If_Match=f'"{contract["version"]}"',
            Idempotency_Key="signing",
        )

    first = _until_answered(sign)
    retried = sign()

    # Then neither answer is a 409 or a 412 for its own signature: both are the signature
    assert cut.cutter.cuts == 1
    assert first.status_code == 200, first.text
    assert retried.status_code == 200, retried.text
    assert retried.headers["ETag"] == first.headers["ETag"] == f'"{contract["version"] + 1}"'
    # And the contract was signed once: one event more than it was drafted with
    assert cut.commissioner.contract(contract["id"]).json()["version"] == contract["version"] + 1


def _draft(cut: Cut, key: str) -> httpx.Response:
    return cut.commissioner.post(
        "/contracts",
        {
            "trust_organisation_id": cut.trust_id,
            "title": "Lost reply",
            "term": {"starts": "2018-04-01", "ends": "2028-03-31", "extension_options": []},
            "scope": ["front-door"],
            "contract_sums": {"2018-19": 5_800_000_000},
        },
        Idempotency_Key=key,
    )


def _until_answered(attempt: Any) -> httpx.Response:
    """The first answer that is not a 503: a client told to retry does so under the same key."""
    for _ in range(10):
        response: httpx.Response = attempt()
        if response.status_code != 503:
            return response
    raise AssertionError(f"still unavailable: {response.text}")

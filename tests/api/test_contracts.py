"""Drafting and signing a service contract over HTTP, with every denial."""

from __future__ import annotations

from tests.api.conftest import World


def test_a_commissioner_drafts_a_contract_with_the_councils_own_codes(world: World) -> None:
    contract = world.draft()

    assert contract["status"] == "draft"
    assert contract["council"]["la_number"] == "333"
    assert contract["council"]["ons_code"] == "E08000028"
    assert contract["trust"]["name"] == "Sandwell Children's Trust"
    assert contract["contract_sums"] == {"2018-19": 5_800_000_000}
    assert contract["version"] == 1


def test_both_parties_sign_and_the_contract_is_live_from_its_start(world: World) -> None:
    contract = world.signed()

    assert contract["status"] == "live"
    assert [s["party"] for s in contract["signatures"]] == ["commissioner", "provider"]
    assert contract["signatures"][1]["signed_by"]["role"] == "provider"


def test_signing_needs_the_etag_of_the_terms_read(world: World) -> None:
    contract = world.draft()

    missing = world.commissioner.sign(contract["id"])
    stale = world.commissioner.sign(contract["id"], '"0"')

    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    assert stale.status_code == 412
    assert world.commissioner.contract(contract["id"]).json()["signatures"] == []


def test_signing_twice_is_a_conflict(world: World) -> None:
    contract = world.draft()
    first = world.commissioner.sign(contract["id"], '"1"')

    again = world.commissioner.sign(contract["id"], first.headers["ETag"])

    assert again.status_code == 409
    assert again.json()["type"] == "/problems/already-signed"


def test_another_councils_people_can_neither_read_nor_sign(world: World) -> None:
    contract = world.draft()

    assert world.other_commissioner.contract(contract["id"]).status_code == 403
    assert world.other_provider.sign(contract["id"], '"1"').status_code == 403
    assert contract["id"] not in [c["id"] for c in world.other_commissioner.contracts().json()]


def test_a_trust_cannot_draft_and_an_auditor_cannot_sign(world: World) -> None:
    contract = world.draft()

    drafted_by_trust = world.provider.draft_contract(
        trust_organisation_id=world.sandwell["trust_id"],
        title="x",
        term={"starts": "2018-04-01", "ends": "2028-03-31"},
        scope=["assessment"],
    )

    assert drafted_by_trust.status_code == 403
    assert world.auditor.sign(contract["id"], '"1"').status_code == 403


def test_an_auditor_reads_only_the_contracts_granted(world: World) -> None:
    contract = world.draft()
    assert world.auditor.contract(contract["id"]).status_code == 403

    assert world.admin.grant(world.auditor_id, contract["id"]).status_code == 200

    assert world.auditor.contract(contract["id"]).status_code == 200


def test_no_token_an_expired_or_forged_token_is_401(world: World) -> None:
    contract = world.draft()

    anonymous = world.anonymous().contract(contract["id"])
    forged = world.anonymous()
    forged.http.headers["Authorization"] = "Bearer not.a.token"

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert forged.contract(contract["id"]).status_code == 401


def test_an_idempotent_retry_returns_the_first_outcome_and_writes_nothing_more(
    world: World,
) -> None:
    body = {
        "trust_organisation_id": world.sandwell["trust_id"],
        "title": "Retried draft",
        "term": {"starts": "2018-04-01", "ends": "2028-03-31"},
        "scope": ["assessment"],
    }
    first = world.commissioner.post("/contracts", body, Idempotency_Key="draft-1")
    retry = world.commissioner.post("/contracts", body, Idempotency_Key="draft-1")
    reused = world.commissioner.post(
        "/contracts", {**body, "title": "Other"}, Idempotency_Key="draft-1"
    )

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Trustledger-Position"] == first.headers["Trustledger-Position"]
    titles = [c["title"] for c in world.commissioner.contracts().json()]
    assert titles.count("Retried draft") == 1
    assert reused.status_code == 422


def test_bad_input_is_a_problem_not_a_crash(world: World) -> None:
    malformed = world.commissioner.http.post(
        "/contracts", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    ends_before_start = world.commissioner.draft_contract(
        trust_organisation_id=world.sandwell["trust_id"],
        title="Backwards",
        term={"starts": "2028-03-31", "ends": "2018-04-01"},
        scope=["assessment"],
    )

    assert malformed.status_code == 400
    assert ends_before_start.status_code == 422
    assert ends_before_start.json()["type"] == "/problems/invalid-term"


def test_a_streamed_body_over_the_limit_is_refused_without_a_declared_length(
    world: World,
) -> None:
    half = b" " * (world.settings.max_body_bytes // 2 + 1)

    # A generator makes httpx send the body in chunks, with no Content-Length to check first.
    response = world.commissioner.http.post(
        "/contracts",
        content=(part for part in (half, half)),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

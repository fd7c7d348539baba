"""The API fuzzed from its own OpenAPI schema (issue 9, hostile input).

Given the served app's schema (fetched over HTTP from /openapi.json) and a world with a contract
at every stage, each of the four roles signed in sends Schemathesis's examples, valid and
invalid, to every operation. Then no answer is a server error, and every answer is one the
schema documents: its status, its content type, its headers and its body.

Path and query parameters are now and then a real contract, notice, KPI, period, account or
local authority of the world, so that the examples reach the handlers and not only 404s.
The run is bounded (a fixed number of examples per operation) and derandomised (a fixed
seed), so that CI repeats it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import World, succeeded
from tests.api.server import projection_workers
from tests.api.test_governance import a_meeting, a_reserved_matter, an_action, an_obligation
from tests.api.test_kpis import REREFERRALS, YEAR, queried
from tests.api.test_notices import answered
from tests.api.test_variations import proposed

ROLES = ["commissioner", "provider", "auditor", "admin"]
EXAMPLES_PER_OPERATION = 15
SEED = 20260409
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Not negative_data_rejection: its verdict rests on how a value the schema forbids travels, not
# on what the API received. A JSON `true` sent as a text/csv body is the text "true", and a
# query parameter sent twice is read once (its last value), so it fails requests that are valid
# HTTP: the examples themselves still go out, and the checks above judge every answer.


@dataclass(frozen=True)
class Known:
    """By parameter name, values the world really holds; and the log's head once it held them."""

    values: dict[str, list[Any]]
    head: int


def known_values(world: World) -> Known:
    """Values the world really holds: a contract at each stage (drafted,
    signed with a queried return, with a variation, a board, a held meeting, an obligation, a
    reserved matter and a notice), with the ids of what it holds. The auditor may read them."""
    draft = world.draft()
    kpis, query_id, _ = queried(world)
    varied, variation_id = proposed(world)
    scheduled, meeting_id = a_meeting(world)
    held, action_id = an_action(world)
    bound, obligation_id = an_obligation(world)
    referred, matter_id = a_reserved_matter(world)
    notice = answered(world)
    contracts = [draft, kpis, varied, scheduled, held, bound, referred]
    for contract in contracts:
        succeeded(world.admin.grant(world.auditor_id, contract["id"]))
    health = world.anonymous().health()
    assert health.status_code == 200, health.text
    values = {
        "contract_id": [c["id"] for c in contracts] + [notice["contract_id"]],
        "variation_id": [variation_id],
        "board_id": [held["boards"][0]["board_id"]],
        "meeting_id": [meeting_id],
        "action_id": [action_id],
        "obligation_id": [obligation_id],
        "matter_id": [matter_id],
        "notice_id": [notice["id"]],
        "query_id": [query_id],
        "indicator_code": [REREFERRALS, "cla_long_term_stability"],
        "indicator": [REREFERRALS],
        "period": [YEAR, "2024-25 Q1", "2024-04"],
        "account_id": [world.auditor_id],
        "organisation_id": [world.sandwell["council_id"], world.sandwell["trust_id"]],
        "la": ["333", "E08000028", "330"],
        "index": [0, 1, 5],
        "as_at": ["2025-03-03T17:00:00Z", "2019-06-01T12:00:00+01:00"],
        "from": ["2018-01-01T00:00:00Z"],
        "to": ["2030-01-01T00:00:00Z"],
    }
    return Known(values, health.json()["position"])


def within_the_log(head: int) -> Any:
    """A hook keeping `min_position` within the log's head at setup. A position beyond it waits
    the full five seconds and answers 503, as tests/api/test_dashboards.py specifies: a fuzzer
    drawing large integers would spend its time budget waiting, and fail every such wait as a
    server error. Values of the wrong type or sign still reach the API."""

    def keep(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        position = (query or {}).get("min_position")
        if query is not None and isinstance(position, int) and position > head:
            query["min_position"] = position % (head + 1)
        return query

    return keep


def now_and_then_known(known: dict[str, list[Any]]) -> Any:
    """A hook turning a strategy for a dict of parameters into one that sometimes swaps a
    generated value for a known one of its type (`from` is an instant on a contract's changes
    and a tree size on the audit log's proofs)."""

    def hook(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        def alike(name: str, value: Any) -> list[Any]:
            return [each for each in known.get(name, []) if type(each) is type(value)]

        def swap(generated: Any) -> st.SearchStrategy[Any]:
            if not isinstance(generated, dict):
                return st.just(generated)
            return st.fixed_dictionaries(
                {
                    name: st.one_of(st.just(value), st.sampled_from(found))
                    if (found := alike(name, value))
                    else st.just(value)
                    for name, value in generated.items()
                }
            )

        return strategy.flatmap(swap)

    return hook


@dataclass(frozen=True)
class Senders:
    """Each role's signed-in user, and one connection pool they share."""

    tokens: dict[str, str]
    session: requests.Session


@pytest.fixture(scope="module")
def known(world: World) -> Iterator[Known]:
    """The world's values, with the projection workers keeping the dashboards meanwhile."""
    with projection_workers(world.settings):
        yield known_values(world)


@pytest.fixture(scope="module")
def senders(world: World) -> Iterator[Senders]:
    with requests.Session() as session:
        yield Senders(
            {role: world.person(role).http.headers["Authorization"] for role in ROLES}, session
        )


@pytest.fixture(scope="module")
def api_schema(world: World, known: Known) -> Any:
    """The served app's schema, as fetched from it, generating a bounded, repeatable run."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
            },
            # The coverage phase adds hundreds of boundary cases per operation and would not
            # keep the run bounded; the stateful phase chains calls by links we do not declare.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_url(f"{world.url}/openapi.json", config=config)
    swap = now_and_then_known(known.values)
    schema.hook("before_generate_path_parameters")(swap)
    schema.hook("before_generate_query")(swap)
    schema.hook("map_query")(within_the_log(known.head))
    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_answer_is_one_the_schema_documents_and_none_is_a_server_error(
    case: Any, senders: Senders
) -> None:
    # Each example is sent by every role in turn: what one may do, another is refused, and
    # either answer must be documented. An operation open to anyone (signing in, /health) is
    # the same for every role: it is sent once, as it would be, without a token.
    signed_in = bool(case.operation.definition.raw.get("security"))
    senders_of: list[tuple[str, str | None]] = (
        list(senders.tokens.items()) if signed_in else [("anonymous", None)]
    )
    for role, token in senders_of:
        try:
            case.call_and_validate(
                headers={"Authorization": token} if token else None,
                session=senders.session,
                checks=CHECKS,
            )
        except BaseException as failure:
            failure.add_note(f"sent by: {role}")
            raise

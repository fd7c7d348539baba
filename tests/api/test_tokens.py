"""Every endpoint that needs a signed-in account refuses every kind of bad token alike: 401 with
problem details, before it reads anything of the ledger.

The endpoints come from the app's own route table, so an endpoint added later is covered
without anyone remembering to add it here.
"""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.api.conftest import World, denied
from tests.api.test_policy import endpoints
from tests.api.tokens import REFUSED_TOKENS

# Routes answered without a token: liveness and signing in.
UNAUTHENTICATED = {("GET", "/health"), ("POST", "/auth/token")}

# A value of the right shape for each path parameter, so that nothing but the token is wrong.
_SHAPED = {
    "indicator_code": "rereferrals_12m",
    "indicator": "rereferrals_12m",
    "period": "2024-25",
    "la": "333",
    "index": "0",
}
_PARAMETER = re.compile(r"\{([a-z_]+)\}")


def filled(path: str) -> str:
    """The path with each parameter given a well-formed value (a fresh id for each `..._id`)."""
    return _PARAMETER.sub(lambda m: _SHAPED.get(m[1]) or str(uuid4()), path)


def authenticated_endpoints(tmp_path: Path) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path, _ in endpoints(tmp_path)
        if (method, path) not in UNAUTHENTICATED
    ]


def test_the_endpoints_to_check_are_the_whole_route_table_but_health_and_sign_in(
    tmp_path: Path,
) -> None:
    checked = authenticated_endpoints(tmp_path)

    assert ("GET", "/auth/me") in checked
    assert ("POST", "/imports/ofsted") in checked
    assert len(checked) == len(endpoints(tmp_path)) - len(UNAUTHENTICATED)


@pytest.mark.parametrize("kind", REFUSED_TOKENS)
def test_every_authenticated_endpoint_refuses_a_bad_token_with_401(
    world: World, tmp_path: Path, kind: str
) -> None:
    token = REFUSED_TOKENS[kind](world)
    answered: dict[str, int] = {}

    with httpx.Client(base_url=world.url, timeout=30) as http:
        for method, path in authenticated_endpoints(tmp_path):
            response = http.request(
                method, filled(path), headers={"Authorization": f"Bearer {token}"}
            )
            answered[f"{method} {path}"] = response.status_code
            if response.status_code == 401:
                denied(response, 401)
                assert response.headers["WWW-Authenticate"].startswith("Bearer")

    assert {endpoint: status for endpoint, status in answered.items() if status != 401} == {}


def test_the_same_requests_with_a_good_token_get_past_the_door(
    world: World, tmp_path: Path
) -> None:
    # Without this, a route that answered 401 to everyone would pass the spec above.
    with httpx.Client(base_url=world.url, timeout=30) as http:
        refused = [
            f"{method} {path}"
            for method, path in authenticated_endpoints(tmp_path)
            if http.request(method, filled(path), headers=world.admin.http.headers).status_code
            == 401
        ]

    assert refused == []

"""Every URL the specs call, built in one place: a spec reads as what a user does."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

PASSWORD = "correct horse battery staple"


class Client:
    """One signed-in (or anonymous) user of the API."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)

    @classmethod
    def signed_in(cls, base_url: str, email: str, password: str = PASSWORD) -> Client:
        response = httpx.post(
            f"{base_url}/auth/token", data={"username": email, "password": password}, timeout=30
        )
        assert response.status_code == 200, response.text
        return cls(base_url, response.json()["access_token"])

    # -- plumbing -------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.post(path, json=body, headers=_headers(headers))

    def patch(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.patch(path, json=body, headers=_headers(headers))

    def put(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.http.put(path, json=body, headers=_headers(headers))

    def delete(self, path: str, **headers: str) -> httpx.Response:
        return self.http.delete(path, headers=_headers(headers))

    # -- the directory --------------------------------------------------------------------

    def register_organisation(self, **body: Any) -> httpx.Response:
        return self.post("/organisations", body)

    def register_account(self, **body: Any) -> httpx.Response:
        return self.post("/accounts", {"password": PASSWORD, **body})

    def grant(self, account_id: UUID | str, contract_id: UUID | str) -> httpx.Response:
        return self.post(f"/accounts/{account_id}/grants", {"contract_id": str(contract_id)})

    # -- contracts ------------------------------------------------------------------------

    def contracts(self) -> httpx.Response:
        return self.get("/contracts")

    def draft_contract(self, **body: Any) -> httpx.Response:
        return self.post("/contracts", body)

    def contract(self, contract_id: UUID | str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}")

    def sign(self, contract_id: UUID | str, if_match: str | None = None) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/signatures", None, **_if_match(if_match))


def _if_match(etag: str | None) -> dict[str, str]:
    return {} if etag is None else {"If-Match": etag}


def _headers(headers: dict[str, str]) -> dict[str, str]:
    # Python names cannot hold hyphens: If_Match -> If-Match, Idempotency_Key -> Idempotency-Key.
    return {name.replace("_", "-"): value for name, value in headers.items()}

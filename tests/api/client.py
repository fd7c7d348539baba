"""Every URL the specs call, built in one place: a spec reads as what a user does."""

from __future__ import annotations

from datetime import datetime
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

    def set_obligation(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/obligations", body, **_if_match(if_match))

    def contract_as_at(self, contract_id: UUID | str, as_at: datetime | str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}", as_at=_instant(as_at))

    def changes(
        self,
        contract_id: UUID | str,
        since: datetime | str,
        until: datetime | str | None = None,
        **page: Any,
    ) -> httpx.Response:
        """What changed after `since` up to `until` (or now); `after` and `limit` page it."""
        params = {"from": _instant(since), **page}
        if until is not None:
            params["to"] = _instant(until)
        return self.http.get(f"/contracts/{contract_id}/changes", params=params)

    # -- variations -----------------------------------------------------------------------

    def propose_variation(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/variations", body, **_if_match(if_match))

    def agree_variation(
        self, contract_id: UUID | str, variation_id: UUID | str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/variations/{variation_id}/agreement"
        return self.post(path, None, **_if_match(if_match))

    def reject_variation(
        self,
        contract_id: UUID | str,
        variation_id: UUID | str,
        reason: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/variations/{variation_id}/rejection"
        return self.post(path, {"reason": reason}, **_if_match(if_match))

    def withdraw_variation(
        self, contract_id: UUID | str, variation_id: UUID | str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/variations/{variation_id}/withdrawal"
        return self.post(path, None, **_if_match(if_match))

    # -- governance -----------------------------------------------------------------------

    def establish_board(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/boards", body, **_if_match(if_match))

    def schedule_meeting(
        self,
        contract_id: UUID | str,
        board_id: UUID | str,
        if_match: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/boards/{board_id}/meetings"
        return self.post(path, body, **_if_match(if_match))

    def hold_meeting(
        self,
        contract_id: UUID | str,
        meeting_id: UUID | str,
        if_match: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/meetings/{meeting_id}/minutes"
        return self.post(path, body, **_if_match(if_match))

    def cancel_meeting(
        self,
        contract_id: UUID | str,
        meeting_id: UUID | str,
        reason: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/meetings/{meeting_id}/cancellation"
        return self.post(path, {"reason": reason}, **_if_match(if_match))

    def complete_action(
        self,
        contract_id: UUID | str,
        action_id: UUID | str,
        completed_on: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/actions/{action_id}/completion"
        return self.post(path, {"completed_on": completed_on}, **_if_match(if_match))

    def hold_annual_review(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/annual-reviews", body, **_if_match(if_match))

    # -- obligations and reserved matters -------------------------------------------------

    def record_obligation_met(
        self,
        contract_id: UUID | str,
        obligation_id: UUID | str,
        if_match: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/obligations/{obligation_id}/met"
        return self.post(path, body, **_if_match(if_match))

    def record_obligation_missed(
        self,
        contract_id: UUID | str,
        obligation_id: UUID | str,
        reason: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/obligations/{obligation_id}/missed"
        return self.post(path, {"reason": reason}, **_if_match(if_match))

    def refer_reserved_matter(
        self, contract_id: UUID | str, subject: str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/reserved-matters"
        return self.post(path, {"subject": subject}, **_if_match(if_match))

    def approve_reserved_matter(
        self, contract_id: UUID | str, matter_id: UUID | str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/reserved-matters/{matter_id}/approval"
        return self.post(path, None, **_if_match(if_match))

    def refuse_reserved_matter(
        self,
        contract_id: UUID | str,
        matter_id: UUID | str,
        reason: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/reserved-matters/{matter_id}/refusal"
        return self.post(path, {"reason": reason}, **_if_match(if_match))

    # -- finances -------------------------------------------------------------------------

    def report_financial_position(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/financial-positions"
        return self.post(path, body, **_if_match(if_match))

    def record_payment(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/payments", body, **_if_match(if_match))

    # -- ending ---------------------------------------------------------------------------

    def extend(
        self, contract_id: UUID | str, months: int, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/extension"
        return self.post(path, {"months": months}, **_if_match(if_match))

    def consider_break_clause(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/break-clause-decisions"
        return self.post(path, body, **_if_match(if_match))

    def expire(self, contract_id: UUID | str, if_match: str | None = None) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/expiry", None, **_if_match(if_match))

    def terminate(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/termination", body, **_if_match(if_match))

    def return_in_house(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/return-in-house"
        return self.post(path, body, **_if_match(if_match))

    # -- performance notices --------------------------------------------------------------

    def issue_notice(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/contracts/{contract_id}/notices", body, **_if_match(if_match))

    def notices(self, contract_id: UUID | str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/notices")

    def notice(self, notice_id: UUID | str) -> httpx.Response:
        return self.get(f"/notices/{notice_id}")

    def submit_remedial_plan(
        self, notice_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        return self.post(f"/notices/{notice_id}/remedial-plans", body, **_if_match(if_match))

    def accept_remedial_plan(
        self, notice_id: UUID | str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/notices/{notice_id}/remedial-plans/acceptance"
        return self.post(path, None, **_if_match(if_match))

    def reject_remedial_plan(
        self, notice_id: UUID | str, reason: str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/notices/{notice_id}/remedial-plans/rejection"
        return self.post(path, {"reason": reason}, **_if_match(if_match))

    def resolve_notice(self, notice_id: UUID | str, if_match: str | None = None) -> httpx.Response:
        return self.post(f"/notices/{notice_id}/resolution", None, **_if_match(if_match))

    def escalate_notice(
        self, notice_id: UUID | str, route: str, reason: str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/notices/{notice_id}/escalation"
        return self.post(path, {"route": route, "reason": reason}, **_if_match(if_match))

    # -- the KPI schedule and returns -----------------------------------------------------
    # Period labels such as "2024-25 Q1" hold a space: httpx percent-encodes the path.

    def indicators(self) -> httpx.Response:
        return self.get("/indicators")

    def define_local_indicator(
        self, contract_id: UUID | str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/local-indicators"
        return self.post(path, body, **_if_match(if_match))

    def schedule_kpi(
        self, contract_id: UUID | str, code: str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpi-schedule/{code}"
        return self.put(path, body, **_if_match(if_match))

    def unschedule_kpi(
        self, contract_id: UUID | str, code: str, if_match: str | None = None
    ) -> httpx.Response:
        return self.delete(f"/contracts/{contract_id}/kpi-schedule/{code}", **_if_match(if_match))

    def kpi_summary(self, contract_id: UUID | str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/kpis")

    def kpi_series(self, contract_id: UUID | str, code: str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/kpis/{code}")

    def submit_return(
        self, contract_id: UUID | str, code: str, if_match: str | None = None, **body: Any
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpis/{code}/returns"
        return self.post(path, body, **_if_match(if_match))

    def restate_return(
        self,
        contract_id: UUID | str,
        code: str,
        period: str,
        if_match: str | None = None,
        **body: Any,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpis/{code}/returns/{period}/restatements"
        return self.post(path, body, **_if_match(if_match))

    def query_return(
        self,
        contract_id: UUID | str,
        code: str,
        period: str,
        question: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpis/{code}/returns/{period}/queries"
        return self.post(path, {"question": question}, **_if_match(if_match))

    def answer_query(
        self,
        contract_id: UUID | str,
        code: str,
        period: str,
        query_id: UUID | str,
        answer: str,
        if_match: str | None = None,
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpis/{code}/returns/{period}/queries/{query_id}/answer"
        return self.post(path, {"answer": answer}, **_if_match(if_match))

    def accept_return(
        self, contract_id: UUID | str, code: str, period: str, if_match: str | None = None
    ) -> httpx.Response:
        path = f"/contracts/{contract_id}/kpis/{code}/returns/{period}/acceptance"
        return self.post(path, None, **_if_match(if_match))

    def kpi_summary_as_at(self, contract_id: UUID | str, as_at: datetime | str) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/kpis", as_at=_instant(as_at))

    def kpi_series_as_at(
        self, contract_id: UUID | str, code: str, as_at: datetime | str
    ) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/kpis/{code}", as_at=_instant(as_at))

    def return_history(
        self,
        contract_id: UUID | str,
        code: str,
        period: str,
        as_at: datetime | str | None = None,
    ) -> httpx.Response:
        params = (
            {"period": period} if as_at is None else {"period": period, "as_at": _instant(as_at)}
        )
        return self.get(f"/contracts/{contract_id}/kpis/{code}/history", **params)

    # -- the public record ----------------------------------------------------------------

    def inspections(self, la: str) -> httpx.Response:
        return self.get(f"/local-authorities/{la}/inspections")

    def latest_judgements(self, **dates: str) -> httpx.Response:
        return self.get("/ofsted/latest", **dates)

    def import_ofsted(self, *files: tuple[str, bytes]) -> httpx.Response:
        """Upload Ofsted's tables as a multipart form, one part per file."""
        parts = [("file", (name, content, "text/csv")) for name, content in files]
        return self.http.post("/imports/ofsted", files=parts)

    def import_ofsted_body(self, content: bytes, name: str | None = None) -> httpx.Response:
        """Send one table as the body itself."""
        params = {} if name is None else {"name": name}
        headers = {"Content-Type": "text/csv"}
        return self.http.post("/imports/ofsted", content=content, params=params, headers=headers)

    def record_intervention(self, la: str, **body: Any) -> httpx.Response:
        return self.post(f"/local-authorities/{la}/interventions", body)

    def timeline(self, la: str) -> httpx.Response:
        return self.get(f"/local-authorities/{la}/timeline")

    # -- DfE's published statistics ---------------------------------------------------------

    def benchmark(self, la: str, indicator: str, **params: Any) -> httpx.Response:
        return self.get(f"/benchmarks/{la}/{indicator}", **params)

    def import_dfe(self, *files: tuple[str, bytes]) -> httpx.Response:
        """Upload DfE's tables as a multipart form, one part per file."""
        parts = [("file", (name, content, "text/csv")) for name, content in files]
        return self.http.post("/imports/dfe", files=parts)

    # -- dashboards -------------------------------------------------------------------------------

    def dashboard(self, contract_id: UUID | str, **params: Any) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/dashboard", **params)

    def portfolio(self, **params: Any) -> httpx.Response:
        return self.get("/portfolio", **params)

    def activity(self, contract_id: UUID | str, **params: Any) -> httpx.Response:
        return self.get(f"/contracts/{contract_id}/activity", **params)

    def export(self, path: str, accept: str) -> httpx.Response:
        return self.http.get(path, headers={"Accept": accept})

    def metrics(self) -> httpx.Response:
        return self.get("/metrics")

    def health(self) -> httpx.Response:
        return self.get("/health")

    # -- the audit log --------------------------------------------------------------------------

    def public_key(self) -> httpx.Response:
        return self.get("/audit/public-key")

    def checkpoint(self) -> httpx.Response:
        return self.get("/audit/checkpoint")

    def checkpoints(self, **params: Any) -> httpx.Response:
        return self.get("/audit/checkpoints", **params)

    def leaf(self, index: int) -> httpx.Response:
        return self.get(f"/audit/leaves/{index}")

    def inclusion_proof(self, index: int, size: int) -> httpx.Response:
        return self.get("/audit/proof/inclusion", index=index, size=size)

    def consistency_proof(self, first: int, second: int) -> httpx.Response:
        return self.http.get("/audit/proof/consistency", params={"from": first, "to": second})


def _instant(value: datetime | str) -> str:
    # A datetime goes as ISO 8601 with its offset; a string as written, to send malformed ones.
    return value.isoformat() if isinstance(value, datetime) else value


def _if_match(etag: str | None) -> dict[str, str]:
    return {} if etag is None else {"If-Match": etag}


def _headers(headers: dict[str, str]) -> dict[str, str]:
    # Python names cannot hold hyphens: If_Match -> If-Match, Idempotency_Key -> Idempotency-Key.
    return {name.replace("_", "-"): value for name, value in headers.items()}

"""Every error the API can answer, mapped to RFC 9457 problem details in this one place."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg.errors
import structlog
from eventsourcing.persistence import OperationalError, PersistenceError, RecordConflictError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors

log = structlog.get_logger()

PROBLEM_JSON = "application/problem+json"

# The web pages' renderer of an error: a page for a request to a page (or a browser's request
# for no route at all), None for an API request, which keeps its problem details.
PageRenderer = Callable[[Request, int, str, str, dict[str, str] | None], Response | None]


class Problem(Exception):
    """An error raised at the edge (authentication, policy, headers), not by the domain."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        # Members beyond RFC 9457's own, e.g. the `errors` of a refused import, by line.
        self.extra = extra


def unauthorised(detail: str) -> Problem:
    return Problem(401, "Not signed in", detail, {"WWW-Authenticate": 'Bearer realm="trustledger"'})


def forbidden(detail: str) -> Problem:
    return Problem(403, "Not allowed", detail)


# Most specific first: the first class an error is an instance of decides its status.
_DOMAIN_STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.StaleVersion, 412),
    (errors.NotAParty, 403),
    (errors.WrongParty, 403),
    (errors.NotFound, 404),
    (errors.InvalidCommand, 422),
    (errors.Conflict, 409),
]


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def problem_json(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    kind: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


@dataclass(frozen=True)
class StorageRefusal:
    status: int
    title: str
    detail: str
    kind: str
    headers: dict[str, str] | None = None


# The store's own state, not the request, stopped the change: say so plainly, and that nothing
# was recorded, rather than "unavailable" (a full disk does not mend itself by waiting) or 500.
DISK_FULL = StorageRefusal(
    507,
    "Ledger storage full",
    "the ledger's storage is full, so nothing was recorded; reading still works. "
    "The service's operators must make room before changes can be recorded again",
    "ledger-storage-full",
)
READ_ONLY = StorageRefusal(
    503,
    "Ledger read-only",
    "the ledger's database accepts no changes just now (it is read-only), so nothing was "
    "recorded; reading still works. Try again later",
    "ledger-read-only",
    {"Retry-After": "30"},
)


def refused_by_storage(error: BaseException) -> StorageRefusal | None:
    """A full disk or a read-only database, wherever in the chain of causes the store's driver
    reported it (the library re-raises drivers' errors as its own)."""
    cause: BaseException | None = error
    while cause is not None:
        # sqlite3's errors carry SQLite's own code name (Python 3.11 and later).
        code = getattr(cause, "sqlite_errorname", None)
        if isinstance(cause, psycopg.errors.DiskFull) or code == "SQLITE_FULL":
            return DISK_FULL
        if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction) or code == "SQLITE_READONLY":
            return READ_ONLY
        cause = cause.__cause__ or cause.__context__
    return None


def install(app: FastAPI, pages: PageRenderer | None = None) -> None:
    def problem_response(
        request: Request,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Response:
        """Every handler answers through here, so that an error on a page is a page (api/web/
        errors.py) and an error of the API is problem details, from the one mapping below."""
        page = None if pages is None else pages(request, status, title, detail, headers)
        if page is not None:
            return page
        return problem_json(request, status, title, detail, kind=kind, headers=headers, **extra)

    @app.exception_handler(errors.DomainError)
    async def _domain(request: Request, error: errors.DomainError) -> Response:
        status = next((s for cls, s in _DOMAIN_STATUS if isinstance(error, cls)), 409)
        name = type(error).__name__
        title = type(error).__doc__ or name
        return problem_response(
            request, status, title.strip().splitlines()[0], error.detail, kind=_slug(name)
        )

    @app.exception_handler(Problem)
    async def _edge(request: Request, error: Problem) -> Response:
        return problem_response(
            request,
            error.status,
            error.title,
            error.detail,
            kind=_slug(error.title.title().replace(" ", "")),
            headers=error.headers,
            **error.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in error.errors()
        ]
        if any(p["type"] == "json_invalid" for p in problems):
            return problem_response(
                request,
                400,
                "Malformed request",
                "the body is not valid JSON",
                kind="malformed-request",
                errors=problems,
            )
        return problem_response(
            request,
            422,
            "Invalid request",
            "some values are missing or invalid",
            kind="invalid-request",
            errors=problems,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
            error.status_code, "HTTP error"
        )
        return problem_response(
            request,
            error.status_code,
            title,
            str(error.detail),
            kind=_slug(title.title().replace(" ", "")),
            headers=getattr(error, "headers", None),
        )

    @app.exception_handler(RecordConflictError)
    async def _conflict(request: Request, error: RecordConflictError) -> Response:
        return problem_response(
            request,
            409,
            "Conflict",
            "the ledger was changed by someone else meanwhile: try again",
            kind="conflict",
        )

    @app.exception_handler(PersistenceError)
    @app.exception_handler(TimeoutError)
    async def _unavailable(request: Request, error: Exception) -> Response:
        refusal = refused_by_storage(error)
        if refusal is not None:
            log.error("ledger_refused_change", error=str(error), refusal=refusal.kind)
            return problem_response(
                request,
                refusal.status,
                refusal.title,
                refusal.detail,
                kind=refusal.kind,
                headers=refusal.headers,
            )
        if not isinstance(error, OperationalError | TimeoutError):
            return await _unexpected(request, error)
        log.warning("ledger_unavailable", error=str(error))
        return problem_response(
            request,
            503,
            "Service unavailable",
            "the ledger cannot be reached just now",
            kind="unavailable",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected_error")
        return problem_response(
            request,
            500,
            "Internal error",
            "something went wrong on our side; it has been logged",
            kind="internal-error",
        )

"""Every error the API can answer, mapped to RFC 9457 problem details in this one place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg.errors
import structlog
from eventsourcing.persistence import OperationalError, PersistenceError, RecordConflictError
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
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


def status_of(error: errors.DomainError) -> int:
    """The HTTP status a refusal by the domain is answered with, on the API and on the pages."""
    return next((status for cls, status in _DOMAIN_STATUS if isinstance(error, cls)), 409)


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


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: how the API answers every request it refuses."""

    # Members beyond the RFC's own carry what a refusal needs to say: an import's `errors` by
    # line, the formats an export offers.
    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="The broken rule, e.g. /problems/contract-not-live")
    title: str
    status: int
    detail: str
    instance: str = Field(description="The path that was asked for")
    request_id: str | None = Field(None, description="As in the X-Request-ID header")


# Why each refusal is given, as the API documents it.
_MEANING = {
    400: "Malformed: a body that is not JSON, a header or parameter in the wrong form",
    401: "Not signed in, or the token was refused",
    403: "Your role or your organisation may not do this",
    404: "Nothing has that id",
    406: "Accept admits none of the representations on offer",
    409: "The ledger's state refuses the command",
    412: "If-Match names a version that is no longer the latest: nothing was written",
    413: "The body is over the service's limit",
    415: "The body's media type is not one the route takes (XML never is)",
    422: "A value is missing or invalid, or the command breaks one of its own rules",
    428: "If-Match is required: name the version you read",
    429: "Too many failed sign-ins: wait as Retry-After says",
    503: "The ledger cannot be reached, is read-only just now, or a view has not caught up: "
    "try again after Retry-After",
    507: "The ledger's storage is full: nothing was recorded, and reads still work",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}},
    429: {"Retry-After": {"schema": {"type": "string"}, "required": True}},
    503: {"Retry-After": {"schema": {"type": "string"}, "required": True}},
}
_SCHEMA_NAME = "Problem"

D = TypeVar("D", bound=Callable[..., Any])


def may_answer(*statuses: int) -> Callable[[D], D]:
    """Mark a dependency with the refusals it may answer, so that the documentation of every
    route using it says so (`document`), without each route repeating them."""

    def mark(dependency: D) -> D:
        dependency.problem_statuses = frozenset(statuses)  # type: ignore[attr-defined]
        return dependency

    return mark


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route for refusals only its own handler gives."""
    return {status: _response(status) for status in statuses}


def _response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _MEANING[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{_SCHEMA_NAME}"}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def _refusals(route: RouteContext) -> set[int]:
    """What a route may be refused with, from what it takes and what its dependencies say."""
    found = {503}  # any route may find the ledger unreachable
    dependant: Dependant = route.dependant
    if route.body_field is not None or "requestBody" in (route.openapi_extra or {}):
        # 400: a body that is not JSON, or a form that is no form; 415: XML, refused unread
        found |= {400, 413, 415, 422}
    if set(getattr(route.original_route, "methods", ())) & {"POST", "PUT", "PATCH", "DELETE"}:
        found.add(507)  # a change the store has no room for
    for dependency in [dependant, *_dependencies(dependant)]:
        if dependency.path_params:
            found.add(404)
        if dependency.path_params or dependency.query_params or dependency.header_params:
            found.add(422)
        found |= getattr(dependency.call, "problem_statuses", frozenset())
    return found


def document(app: FastAPI) -> None:
    """Declare on every route of the API the refusals it may answer, as problem details, once
    every router is included; an undeclared status would be a response that contradicts the
    API's own schema."""
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        refusals = {status: _response(status) for status in _refusals(route)}
        # An included route is documented from a copy of the router's route: declare on both,
        # so that a copy made again later keeps them. A route's own `responses=` stands.
        declared = (route.responses, route.original_route.responses)
        for responses in {id(each): each for each in declared}.values():
            for status, response in refusals.items():
                responses.setdefault(status, response)
    generate = app.openapi
    problem_schema = ProblemDetails.model_json_schema()

    def openapi() -> dict[str, Any]:
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(_SCHEMA_NAME, problem_schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


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
        status = status_of(error)
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

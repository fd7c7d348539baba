"""The FastAPI application: wiring done once, routers kept thin."""

from __future__ import annotations

import asyncio
import gc
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, cast

import anyio.to_thread
import psycopg_pool
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.logs import configure_logging
from api.routers import (
    accounts,
    audit,
    auth,
    contracts,
    dashboards,
    health,
    kpis,
    notices,
    organisations,
    public_record,
    published_statistics,
)
from api.security import TokenSigner, audit_signer, load_signing_key
from api.settings import Settings
from api.throttle import SignInThrottle
from api.web import errors as web_errors
from api.web import pages
from domain.application import Trustledger
from projections.activity_view import ActivityReader
from projections.audit_log import AuditLog, AuditStore
from projections.dashboard_view import DashboardReader
from projections.lag import LagMonitor
from projections.view_store import view_store
from projections.worker import VIEWS

log = structlog.get_logger()

STATIC = Path(__file__).resolve().parent / "static"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    """Give every request an id (the caller's X-Request-ID if well formed), bind it to the logs
    and the actor of any command, answer it in X-Request-ID and log the request when answered.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's decorator runs the rest of the
    app in a task group and re-wraps the request and response, which was a tenth of a KPI
    return's CPU at concurrency 64 (py-spy, bench/http.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next(
            (value for name, value in scope["headers"] if name == b"x-request-id"), b""
        ).decode("latin-1")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        # Where `request.state` reads it: problem details and actors name the request.
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 0
        header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)
        log.info(
            "request",
            method=scope["method"],
            path=scope.get("root_path", "") + scope["path"],
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )


class BodyLimit:
    """Refuse bodies over the limit before anything parses them, whether declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            # The server holds the body to its declared length, which was checked above.
            await self.app(scope, receive, send)
            return
        # A chunked body declares nothing: read it here, up to the limit, before anything
        # parses it (an error raised from inside the app's own read would be taken for a
        # malformed body, not an oversized one).
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {
                "type": "/problems/request-too-large",
                "title": "Request too large",
                "status": 413,
                "detail": f"the body may be at most {self.max_bytes} bytes",
                "instance": scope.get("path", ""),
            },
            status_code=413,
            media_type=problems.PROBLEM_JSON,
        )
        await response(scope, receive, send)


# How long a request waits for a pooled connection once PostgreSQL has refused a new one.
UNREACHABLE_WAIT_SECONDS = 0.1


def _answer_promptly_through_outages(datastore: Any) -> None:
    """Answer at once while PostgreSQL is down, and recover at once when it is back.

    The pool waits its connect timeout for a connection, and the library retries each read and
    write ten times: while the server is down a request would hang for 50 s before its 503.
    Once an attempt to connect has failed and none has succeeded since, a request waits only
    briefly for a connection. The pool keeps reconnecting in the background (with backoff), and
    its first success restores the usual wait, so a busy but healthy pool is never cut short.

    After a restart or a failover every pooled connection is dead, and the pool finds them one
    checkout at a time, pausing longer after each (1 s, 2 s, 4 s...): measured, 14 s before the
    first write succeeded. One dead connection is taken as news of the rest: the pool checks
    them all then, and replaces the dead together.
    """
    pool = getattr(datastore, "pool", None)
    if not isinstance(pool, psycopg_pool.ConnectionPool):  # SQLite's file is never unreachable
        return
    connect, getconn, check = pool._connect, pool.getconn, pool._check
    unreachable = threading.Event()

    def watched_connect(timeout: float | None = None) -> Any:
        try:
            connection = connect(timeout)
        except Exception:
            unreachable.set()
            raise
        unreachable.clear()
        return connection

    def getconn_quickly_while_unreachable(timeout: float | None = None) -> Any:
        if timeout is None and unreachable.is_set():
            timeout = UNREACHABLE_WAIT_SECONDS
        return getconn(timeout)

    def check_the_rest_when_one_is_dead(connection: Any) -> None:
        assert check is not None
        try:
            check(connection)
        except Exception:
            pool.check()  # with the pool's own check, not this one: no recursion
            raise

    pool._connect = watched_connect  # type: ignore[method-assign]
    pool.getconn = getconn_quickly_while_unreachable  # type: ignore[method-assign]
    if check is not None:
        pool._check = check_the_rest_when_one_is_dead


class RefuseXml:
    """Refuse a body declared as XML (415) before any of it is read: the service takes JSON,
    forms and CSV only, so no XML parser, and no entity expansion, is ever reached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_xml(dict(scope["headers"]).get(b"content-type", b"")):
            response = JSONResponse(
                {
                    "type": "/problems/unsupported-media-type",
                    "title": "Unsupported media type",
                    "status": 415,
                    "detail": "the service does not accept XML: send JSON, a form or CSV",
                    "instance": scope.get("path", ""),
                },
                status_code=415,
                media_type=problems.PROBLEM_JSON,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_xml(content_type: bytes) -> bool:
    """application/xml, text/xml, any "+xml" type (SVG, Atom, XHTML) and the DTD and
    external-entity types."""
    media_type = content_type.split(b";", 1)[0].strip().lower()
    subtype = media_type.rpartition(b"/")[2]
    return subtype == b"xml" or subtype.startswith(b"xml-") or subtype.endswith(b"+xml")


async def _sign_checkpoints(audit: AuditLog, every: float) -> None:
    """Sign a checkpoint whenever the log has grown, so that auditors always find a recent one
    even if nobody asks. Several API processes may each sign: a checkpoint of a size already
    signed is kept once."""
    signed = -1
    while True:
        await asyncio.sleep(every)
        try:
            checkpoint = await anyio.to_thread.run_sync(audit.sign)
        except Exception:  # the next round tries again; the service keeps serving meanwhile
            log.exception("checkpoint signing failed")
            continue
        if checkpoint.size != signed:
            log.info("checkpoint signed", size=checkpoint.size)
            signed = checkpoint.size


def create_app(settings: Settings | None = None, ledger: Trustledger | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are synchronous and wait on the group-commit writer: give concurrent
        # requests enough threads to be committed together.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 128
        owned = ledger is None
        app.state.ledger = ledger or Trustledger(settings.ledger_env())
        _answer_promptly_through_outages(app.state.ledger.recorder.datastore)
        app.state.audit = AuditLog(cast(AuditStore, app.state.ledger.recorder), signer)
        # The views the projection workers keep (`trustledger project`); the API only reads
        # them, and makes their tables if no worker has yet, so that it can start first.
        views = view_store(settings.ledger_env())
        _answer_promptly_through_outages(getattr(views, "datastore", None))
        for view in VIEWS.values():
            try:
                views.prepare(view.spec)
            except PersistenceError as error:
                # A read-only or full database still serves reads (of the tables the workers
                # made), and writes are refused plainly: starting is better than refusing to.
                if problems.refused_by_storage(error) is None:
                    raise
                log.warning("views not prepared", view=view.spec.name, error=str(error))
        app.state.dashboards = DashboardReader(views)
        app.state.activity = ActivityReader(views)
        app.state.lag = LagMonitor(views, app.state.ledger.recorder.max_notification_id, VIEWS)
        signing = (
            asyncio.create_task(_sign_checkpoints(app.state.audit, every))
            if (every := settings.audit_checkpoint_seconds)
            else None
        )
        try:
            yield
        finally:
            if signing is not None:
                signing.cancel()
                with suppress(asyncio.CancelledError):
                    await signing
            datastore = getattr(views, "datastore", None)
            if datastore is not None:
                datastore.close()
            if owned:
                app.state.ledger.close()

    app = FastAPI(
        title="Trustledger",
        summary="The ledger of a council's service delivery contract with its children's trust",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    key = load_signing_key(
        settings.token_key.get_secret_value().encode() if settings.token_key else None,
        settings.token_key_file,
        settings.var_dir / "token-signing-key.pem",
    )
    app.state.signer = TokenSigner(
        key, settings.token_issuer, settings.token_audience, settings.token_minutes
    )
    signer = audit_signer(settings)

    app.add_middleware(RequestContext)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseXml)
    app.state.sign_in_throttle = SignInThrottle()
    problems.install(app, pages=web_errors.error_page)
    # GOV.UK Frontend's stylesheet and script (api/static/README.md), where its CSS expects them.
    app.mount("/assets", StaticFiles(directory=STATIC / "govuk-frontend"), name="assets")
    # First, so that a browser's request for a contract's page is the page's, not the API's.
    app.include_router(pages.router)
    for router in (
        health,
        auth,
        organisations,
        accounts,
        contracts,
        dashboards,
        kpis,
        audit,
        notices,
        public_record,
        published_statistics,
    ):
        app.include_router(router.router)
    problems.document(app)
    return app


def serving_app() -> FastAPI:
    """The app `trustledger serve` runs in each of its processes, made before it serves.

    What making it builds (routes and their schemas, the catalogue) lives as long as the
    process, and every full collection walked it: ~160,000 objects, 0.2-0.7 s with every request
    waiting, the largest part of p99 at c64 (gc.callbacks, bench/http.py). Frozen, the collector
    leaves it alone. It is frozen here, while the process has one thread, rather than when the
    app starts: the specs start many apps in one process, beside threads whose collections may
    be running finalisers, and a freeze there made a stopped app's objects immortal.

    Each of several worker processes starts afresh, so each configures its own logs."""
    configure_logging()
    app = create_app()
    gc.collect()
    gc.freeze()
    return app

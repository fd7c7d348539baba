"""Liveness and readiness, answered without authentication; the projection workers' lag for
Prometheus, to admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse

from api.deps import AppSettings, Caller, Ledger, allowed
from projections.lag import LagMonitor, prometheus_text, stalled

router = APIRouter(tags=["health"])


def get_lag(request: Request) -> LagMonitor:
    lag: LagMonitor = request.app.state.lag
    return lag


Lag = Annotated[LagMonitor, Depends(get_lag)]


@router.get(
    "/health",
    summary="Is the service up, can it reach the ledger, and are the projections keeping up?",
)
def health(ledger: Ledger, settings: AppSettings, lag: Lag) -> dict[str, Any]:
    lags = lag.observe()
    behind = stalled(lags)
    return {
        # The API still serves when a worker has stalled (writes and as-at reads do not need
        # one), so this says so rather than failing the check that would restart the API.
        "status": "degraded" if behind else "ok",
        "store": "postgresql" if settings.is_postgres else "sqlite",
        "position": ledger.recorder.max_notification_id() or 0,
        "projections": {
            each.view: {"position": each.position, "behind": each.behind, "stalled": each.stalled}
            for each in lags
        },
        "stalled": behind,
    }


@router.get(
    "/metrics",
    summary="Each projection's position, the ledger's head, events behind and processing "
    "rate, in Prometheus's text format",
    response_class=PlainTextResponse,
)
def metrics(_: Annotated[Caller, Depends(allowed("metrics.read"))], lag: Lag) -> PlainTextResponse:
    return PlainTextResponse(
        prometheus_text(lag.observe()), media_type="text/plain; version=0.0.4; charset=utf-8"
    )

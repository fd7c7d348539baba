"""Liveness and readiness, answered without authentication."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AppSettings, Ledger

router = APIRouter(tags=["health"])


@router.get("/health", summary="Is the service up, and can it reach the ledger?")
def health(ledger: Ledger, settings: AppSettings) -> dict[str, Any]:
    return {
        "status": "ok",
        "store": "postgresql" if settings.is_postgres else "sqlite",
        "position": ledger.recorder.max_notification_id() or 0,
    }

"""Structured logs: one JSON line per event, carrying the request id and the actor."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

import structlog


def configure_logging(
    level: int = logging.INFO,
    logger_factory: Callable[..., structlog.typing.WrappedLogger] | None = None,
) -> None:
    """JSON lines on stderr, or through `logger_factory`, for the whole process. A host that
    configured structlog first keeps its configuration (tests/conftest.py says why it must).

    On stderr, the standard library's records (uvicorn's, the library's, the domain's
    warnings) become the same JSON lines, written by structlog under its one lock: left to
    logging's last-resort handler they were plain text, written under another lock, and two
    threads writing to one stream at once can corrupt it on Python 3.11."""
    if structlog.is_configured():
        return
    if logger_factory is None:
        logging.basicConfig(level=level, handlers=[_IntoStructlog()])
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _process_id,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory or structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


class _IntoStructlog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            structlog.get_logger().log(
                record.levelno,
                record.getMessage(),
                logger=record.name,
                exc_info=record.exc_info or False,
            )
        except Exception:  # noqa: BLE001 - a handler reports its own failures, as logging's do
            self.handleError(record)


def _process_id(
    logger: structlog.typing.WrappedLogger, method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Which process wrote the line: `trustledger serve --workers N` runs N of them."""
    event["pid"] = os.getpid()
    return event

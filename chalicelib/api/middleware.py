"""Powertools wired into every invocation: correlation ids, a request log line, metric flushing."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Request, Response

from chalicelib.api.errors import error_response
from chalicelib.observability import flush_metrics, logger

_CORRELATION_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def install(app: Chalice) -> None:
    """Register the middleware on ``app``."""
    app.register_middleware(_observe_http, "http")
    app.register_middleware(_observe_event, "all")


def _observe_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    context = request.context or {}
    supplied = request.headers.get("x-correlation-id", "")
    correlation_id = supplied if _CORRELATION_ID.match(supplied) else str(context.get("requestId") or uuid.uuid4())
    logger.set_correlation_id(correlation_id)
    started = time.perf_counter()
    try:
        response = get_response(request)
    except Exception:
        # A bug must not leak a traceback to the caller; the log keeps it (ids only, no body).
        logger.exception("unhandled error", extra={"route": context.get("resourcePath")})
        response = error_response(500, "InternalServerError", "An internal error occurred; it has been logged")
    response.headers["X-Correlation-Id"] = correlation_id
    # The route pattern, never the path: paths carry link tokens.
    logger.info(
        "request",
        extra={
            "route": context.get("resourcePath"),
            "method": request.method,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def _observe_event(event: Any, get_response: Callable[[Any], Any]) -> Any:
    try:
        return get_response(event)
    finally:
        flush_metrics()
        logger.remove_keys(["clinic_id", "key_id"])

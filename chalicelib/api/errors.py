"""Domain errors → HTTP, in one table.

Every error body has Chalice's own shape, ``{"Code": ..., "Message": ...}``, so that errors Chalice
raises itself (malformed JSON, unknown method) and ours read alike.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from chalice.app import Response

from chalicelib.domain import errors
from chalicelib.observability import logger

P = ParamSpec("P")

STATUS: dict[type[errors.DomainError], int] = {
    errors.MalformedRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.NotAcceptable: 406,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.InvalidInput: 422,
    errors.Locked: 423,
    errors.TooManyRequests: 429,
    errors.DeliveryFailed: 502,
    errors.Unavailable: 503,
}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """A JSON error response in the one shape we use."""
    return Response(
        body={"Code": code, "Message": message},
        status_code=status,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
    )


def status_of(err: errors.DomainError) -> int:
    """The HTTP status of a domain error (the most specific entry of the table wins)."""
    return next(code for kind, code in STATUS.items() if isinstance(err, kind))


def retry_headers(err: errors.DomainError) -> dict[str, str]:
    """``Retry-After`` for refusals that end by themselves (a lock, a rate, a quota, a passing fault)."""
    if isinstance(err, errors.Locked | errors.TooManyRequests | errors.Unavailable):
        return {"Retry-After": str(err.retry_after_s)}
    return {}


def to_response(err: errors.DomainError) -> Response:
    """The HTTP answer to a domain error."""
    return error_response(status_of(err), err.error_code, err.message, retry_headers(err))


def refused(err: errors.DomainError) -> Response:
    """A refusal, logged by its kind (never its message: it may name a field the caller sent)."""
    logger.info("request refused", extra={"error": type(err).__name__})
    return to_response(err)


def http_errors(view: Callable[P, Response]) -> Callable[P, Response]:
    """Turn the domain errors a view raises into JSON error responses."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return view(*args, **kwargs)
        except errors.DomainError as err:
            return refused(err)

    return wrapper

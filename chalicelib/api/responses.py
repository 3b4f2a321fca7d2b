"""Successful responses, shaped alike."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def ok(body: Any) -> Response:
    """200 with a JSON body."""
    return Response(body=body, status_code=200, headers=dict(_JSON))


def created(body: Any) -> Response:
    """201 with a JSON body."""
    return Response(body=body, status_code=201, headers=dict(_JSON))


def accepted(body: Any) -> Response:
    """202: the work was queued; the body says what was queued."""
    return Response(body=body, status_code=202, headers=dict(_JSON))

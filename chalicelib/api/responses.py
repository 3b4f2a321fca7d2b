"""Successful responses, shaped alike: each JSON answer is a model of ``api/answers.py``, encoded by msgspec,
so the body is what the OpenAPI document publishes for it."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from chalice.app import Response

from chalicelib.api.answers import Answer

JSON = "application/json"


def ok(body: Answer) -> Response:
    """200 with a JSON body."""
    return answered(body, 200)


def created(body: Answer) -> Response:
    """201 with a JSON body."""
    return answered(body, 201)


def accepted(body: Answer) -> Response:
    """202: the work was queued; the body says what was queued."""
    return answered(body, 202)


def answered(
    body: Answer | Sequence[Answer], status: int, *, content_type: str = JSON, headers: dict[str, str] | None = None
) -> Response:
    """``body`` (a model, or a list of them: QIDO-RS) as JSON (``content_type`` names its dialect, e.g. DICOM
    JSON), never cached."""
    return Response(
        body=msgspec.json.encode(body).decode(),
        status_code=status,
        headers={"Content-Type": content_type, "Cache-Control": "no-store", **(headers or {})},
    )

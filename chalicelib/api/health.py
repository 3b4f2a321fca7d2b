"""Operators' health check."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api.answers import Health
from chalicelib.api.responses import ok
from chalicelib.settings import settings

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> Response:
    """The service answers; no dependency is touched so the check is cheap and never flaps."""
    return ok(Health(status="ok", stage=settings().stage))

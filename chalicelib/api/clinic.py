"""The calling clinic's own account."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import current_clinic, json_object
from chalicelib.api.responses import ok
from chalicelib.domain.accounts import Clinic
from chalicelib.domain.errors import InvalidInput
from chalicelib.services.accounts import rename_clinic, set_country
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.route("/clinic", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_clinic() -> Response:
    """Which clinic the API key belongs to."""
    return ok(clinic_view(deps().clinics.get(current_clinic())))


@bp.route("/clinic", methods=["PATCH"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def patch_clinic() -> Response:
    """Rename the clinic (the name patients see as the sender) and/or set its country (for phone numbers)."""
    body = json_object()
    name, country = body.get("name"), body.get("country")
    if country is not None:
        if not isinstance(country, str):
            raise InvalidInput("'country' must be a two-letter country code such as SE")
        clinic = set_country(current_clinic(), country, deps())
        if name is None:
            return ok(clinic_view(clinic))
    if not isinstance(name, str):
        raise InvalidInput("'name' must be a string")
    return ok(clinic_view(rename_clinic(current_clinic(), name, deps())))


def clinic_view(clinic: Clinic) -> dict[str, Any]:
    """The clinic as the API shows it."""
    return {
        "clinic_id": clinic.clinic_id,
        "name": clinic.name,
        "country": clinic.country,
        "created_at": clinic.created_at.isoformat(),
    }

"""The calling clinic's own account."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import models
from chalicelib.api.answers import ClinicAnswer
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import body, current_clinic
from chalicelib.api.responses import ok
from chalicelib.domain.accounts import Clinic
from chalicelib.services.accounts import rename_clinic
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
    """Rename the clinic (the name patients see as the sender).

    The country phone numbers are read in is a setting: ``PUT /settings {"sms_country"}``.
    """
    change = body(models.ClinicChange)
    return ok(clinic_view(rename_clinic(current_clinic(), change.name, deps())))


def clinic_view(clinic: Clinic) -> ClinicAnswer:
    """The clinic as the API shows it."""
    return ClinicAnswer(clinic_id=clinic.clinic_id, name=clinic.name, created_at=clinic.created_at.isoformat())

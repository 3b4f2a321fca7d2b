"""The clinic's link settings: Patient Link Code, default link lifetime, language, SMS country, daily quota."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import models
from chalicelib.api.answers import SettingsAnswer
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import body, current_clinic
from chalicelib.api.responses import ok
from chalicelib.domain.accounts import Clinic
from chalicelib.services.accounts import SettingsChange, update_settings
from chalicelib.wiring import deps

bp = Blueprint(__name__)


@bp.route("/settings", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_settings() -> Response:
    """The clinic's settings (whether a link code is set, never the code)."""
    return ok(settings_view(deps().clinics.get(current_clinic())))


@bp.route("/settings", methods=["PUT"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def put_settings() -> Response:
    """Change the settings named in the body; ``"link_code": null`` removes the code."""
    asked = body(models.SettingsChange)
    code = asked.link_code if isinstance(asked.link_code, str) else None
    change = SettingsChange(
        link_code=code,
        clear_link_code=asked.link_code is None,
        link_lifetime_days=asked.link_lifetime_days,
        language=asked.language,
        sms_country=asked.sms_country,
        daily_message_limit=asked.daily_message_limit,
    )
    return ok(settings_view(update_settings(current_clinic(), change, deps())))


def settings_view(clinic: Clinic) -> SettingsAnswer:
    """The settings as the API shows them."""
    return SettingsAnswer(
        link_code_set=clinic.link_code_hash is not None,
        link_lifetime_days=clinic.link_lifetime_days,
        language=clinic.language,
        sms_country=clinic.country,
        daily_message_limit=clinic.daily_message_limit,
    )

"""The clinic's link settings: Patient Link Code, default link lifetime, language, SMS country, daily quota."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import current_clinic, json_object
from chalicelib.api.responses import ok
from chalicelib.domain.accounts import Clinic
from chalicelib.domain.errors import InvalidInput
from chalicelib.services.accounts import SettingsChange, update_settings
from chalicelib.wiring import deps

bp = Blueprint(__name__)
_FIELDS = {"link_code", "link_lifetime_days", "language", "sms_country", "daily_message_limit"}


@bp.route("/settings", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_settings() -> Response:
    """The clinic's settings (whether a link code is set, never the code)."""
    return ok(settings_view(deps().clinics.get(current_clinic())))


@bp.route("/settings", methods=["PUT"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def put_settings() -> Response:
    """Change the settings named in the body; ``"link_code": null`` removes the code."""
    body = json_object()
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown setting '{unknown[0]}'; settings are {', '.join(sorted(_FIELDS))}")
    code = body.get("link_code")
    if "link_code" in body and code is not None and not isinstance(code, str):
        raise InvalidInput("'link_code' must be a string, or null to remove it")
    days = body.get("link_lifetime_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        raise InvalidInput("'link_lifetime_days' must be a whole number of days")
    quota = body.get("daily_message_limit")
    if quota is not None and (not isinstance(quota, int) or isinstance(quota, bool)):
        raise InvalidInput("'daily_message_limit' must be a whole number of messages")
    for name in ("language", "sms_country"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise InvalidInput(f"'{name}' must be a string")
    change = SettingsChange(
        link_code=code,
        clear_link_code="link_code" in body and code is None,
        link_lifetime_days=days,
        language=body.get("language"),
        sms_country=body.get("sms_country"),
        daily_message_limit=quota,
    )
    return ok(settings_view(update_settings(current_clinic(), change, deps())))


def settings_view(clinic: Clinic) -> dict[str, Any]:
    """The settings as the API shows them."""
    return {
        "link_code_set": clinic.link_code_hash is not None,
        "link_lifetime_days": clinic.link_lifetime_days,
        "language": clinic.language,
        "sms_country": clinic.country,
        "daily_message_limit": clinic.daily_message_limit,
    }

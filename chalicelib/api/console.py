"""The clinic console's sign-in, session, start page and Settings, for staff in a browser.

Sign-in walks through what Cognito asks: the password, then a new password at the first sign-in, then
the TOTP code when the member has enabled it. Between steps the provider's challenge travels in a signed
hidden field (valid a few minutes, as Cognito's own session). A completed sign-in sets the console's
session cookie (``api/web.py``); every request re-reads the member, so a disabled one is out at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from chalice.app import Blueprint, Response

from chalicelib.api import refusals
from chalicelib.api.errors import status_of
from chalicelib.api.requests import query_params
from chalicelib.api.sessions import read_cookie, set_cookie, sign, verify
from chalicelib.api.staffed import Staffed, csrf_keys, signed_in, staffed
from chalicelib.api.web import (
    FORM,
    ended_cookie,
    form,
    language,
    page,
    read_session,
    redirect,
    secure_page,
    session_cookie,
)
from chalicelib.domain import console as console_domain
from chalicelib.domain.accounts import MAX_DAILY_MESSAGES
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from chalicelib.domain.sessions import Purpose
from chalicelib.domain.shares import MAX_LIFETIME_DAYS
from chalicelib.domain.staff import (
    Challenge,
    ChallengeName,
    Role,
    SignInFailed,
    SignInStep,
    StaffMember,
    parse_role,
)
from chalicelib.services import staff
from chalicelib.services.accounts import MAX_LINK_CODE, MIN_LINK_CODE, SettingsChange, update_settings
from chalicelib.wiring import deps

bp = Blueprint(__name__)

#: Cognito's challenge sessions last 3 minutes; ours no longer.
CHALLENGE_LIFETIME = timedelta(minutes=3)
#: The sign-in form's cookie (the nonce its login-CSRF token is bound to), and how long the form lasts.
SIGN_IN_COOKIE = "ps_sign_in"
SIGN_IN_FORM_S = 3600


def _challenge_page(challenge: Challenge, status: int = 200, error: str | None = None) -> Response:
    token = sign(
        Purpose.CONSOLE_CHALLENGE,
        {"name": challenge.name.value, "user": challenge.username, "session": challenge.session},
        deps().clock.now() + CHALLENGE_LIFETIME,
    )
    return page("console_challenge.html", status, challenge=challenge.name.value, token=token, error=error)


def _next(step: SignInStep) -> Response:
    if isinstance(step, Challenge):
        return _challenge_page(step)
    session = staff.open_session(step, deps())
    return redirect("/console", session_cookie(session))


@bp.route("/console/sign-in", methods=["GET"])
@secure_page
def sign_in_page() -> Response:
    """The sign-in form (or straight to the console when already signed in)."""
    if signed_in() is not None:
        return redirect("/console")
    return _sign_in_form()


def _sign_in_form(status: int = 200, error: str | None = None) -> Response:
    """The sign-in form with a fresh login-CSRF token, and the cookie its nonce lives in."""
    nonce = console_domain.sign_in_nonce()
    response = page("console_sign_in.html", status, error=error, csrf=console_domain.sign_in_token(nonce, csrf_keys()))
    response.headers["Set-Cookie"] = set_cookie(SIGN_IN_COOKIE, nonce, "/console", max_age=SIGN_IN_FORM_S)
    return response


@bp.route("/console/sign-in", methods=["POST"], content_types=[FORM])
@secure_page
def sign_in() -> Response:
    """E-mail and password: the console, or the challenge Cognito asks for next.

    The form must come from our own sign-in page (its token matches the cookie that page set): another
    site cannot sign a browser in to an account of its choosing (login CSRF).
    """
    fields = form()
    try:
        console_domain.check_sign_in_token(fields.get("csrf", ""), _cookie_or_empty(SIGN_IN_COOKIE), csrf_keys())
    except Forbidden:
        return _sign_in_form(403, "csrf")
    try:
        return _next(staff.sign_in(fields.get("email", ""), fields.get("password", ""), deps()))
    except (SignInFailed, InvalidInput):
        return _sign_in_form(401, "sign_in")


def _cookie_or_empty(name: str) -> str:
    try:
        return read_cookie(name)
    except Unauthenticated:
        return ""


@bp.route("/console/challenge", methods=["POST"], content_types=[FORM])
@secure_page
def answer_challenge() -> Response:
    """The answer to a challenge: the new password or the TOTP code."""
    fields = form()
    try:
        claims = verify(fields.get("token", ""), Purpose.CONSOLE_CHALLENGE, deps().clock.now())
        challenge = Challenge(ChallengeName(claims["name"]), claims["user"], claims["session"])
    except (Unauthenticated, KeyError, ValueError):
        return _sign_in_form(401, "expired")
    try:
        return _next(staff.answer(challenge, fields.get("response", ""), deps()))
    except InvalidInput:
        return _challenge_page(challenge, 422, error="policy")
    except SignInFailed:
        return _sign_in_form(401, "sign_in")


@bp.route("/console", methods=["GET"])
@secure_page
@staffed("home")
def shell(ctx: Staffed) -> Response:
    """The console's start: its first section, Studies."""
    return redirect("/console/studies")


@bp.route("/console/settings", methods=["GET"])
@secure_page
@staffed("settings", admin=True)
def settings_page(ctx: Staffed) -> Response:
    """The clinic's settings, for its administrators: links, sending and staff. A clinician gets 403."""
    return _settings(ctx, 200, None, saved=query_params().get("saved") == "1")


def _settings(ctx: Staffed, status: int, error: str | None, saved: bool = False) -> Response:
    return ctx.render(
        "console_settings.html",
        status,
        clinic=deps().clinics.get(ctx.clinic_id),
        members=staff.clinic_staff(ctx.member, deps()),
        error=error,
        saved=saved,
        max_lifetime_days=MAX_LIFETIME_DAYS,
        max_daily_messages=MAX_DAILY_MESSAGES,
        code_lengths=(MIN_LINK_CODE, MAX_LINK_CODE),
    )


@bp.route("/console/settings/links", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("settings", admin=True)
def change_link_settings(ctx: Staffed) -> Response:
    """An administrator changes the clinic's link settings: the Patient Link Code (set, change or remove),
    the default lifetime, language, SMS country and daily sending quota. A refused change changes nothing."""
    fields = form()
    try:
        change = SettingsChange(
            link_code=fields.get("link_code") or None,
            clear_link_code=fields.get("remove_link_code") == "1",
            link_lifetime_days=_whole(fields.get("link_lifetime_days", ""), "link_lifetime_days"),
            language=fields.get("language") or None,
            sms_country=fields.get("sms_country") or None,
            daily_message_limit=_whole(fields.get("daily_message_limit", ""), "daily_message_limit"),
        )
        update_settings(ctx.clinic_id, change, deps())
    except InvalidInput as err:
        return _settings(ctx, 422, refusals.refusal(err, language()))
    ctx.record("link_settings_changed", link_code="removed" if change.clear_link_code else str(bool(change.link_code)))
    return redirect("/console/settings?saved=1")


def _whole(text: str, name: str) -> int | None:
    """A whole number typed in a form (None when left empty)."""
    if not text.strip():
        return None
    if not text.strip().isascii() or not text.strip().isdigit():
        raise InvalidInput(f"'{name}' must be a whole number")
    return int(text.strip())


@bp.route("/console/settings/staff", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("settings", admin=True)
def invite_staff(ctx: Staffed) -> Response:
    """An administrator invites a member of the clinic."""
    fields = form()
    return _staff_action(ctx, lambda: staff.invite_by(ctx.member, fields.get("email", ""), _role(fields), deps()))


@bp.route("/console/settings/staff/{staff_id}/enabled", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("settings", admin=True)
def enable_staff(ctx: Staffed, staff_id: str) -> Response:
    """An administrator disables (``enabled=0``) or re-enables (``enabled=1``) a member of the clinic."""
    enabled = form().get("enabled") == "1"
    return _staff_action(ctx, lambda: staff.set_enabled_by(ctx.member, staff_id, enabled, deps()))


def _role(fields: dict[str, str]) -> Role:
    return parse_role(fields.get("role", ""))


def _staff_action(ctx: Staffed, act: Callable[[], StaffMember]) -> Response:
    """A Settings change, recorded; a refused one shows Settings again with the reason."""
    try:
        changed = act()
    except (InvalidInput, Conflict, NotFound) as err:
        return _settings(ctx, status_of(err), refusals.refusal(err, language()))
    ctx.record("staff_changed", member_id=changed.staff_id, enabled=str(changed.enabled))
    return redirect("/console/settings")


@bp.route("/", methods=["GET"])
@secure_page
def root() -> Response:
    """The service's front door leads to the console (patients arrive by their own links)."""
    return redirect("/console")


@bp.route("/favicon.ico", methods=["GET"])
def favicon() -> Response:
    """Browsers ask for it at the root; the icon itself is an asset."""
    return redirect("/assets/favicon.svg")


@bp.route("/console/sign-out", methods=["POST"], content_types=[FORM])
@secure_page
def sign_out() -> Response:
    """End the session (its CSRF token required) and revoke the member's refresh tokens."""
    try:
        session = read_session(deps().clock.now())
    except Unauthenticated:
        return redirect("/console/sign-in", ended_cookie())
    try:
        console_domain.check_csrf(form().get("csrf", ""), session, csrf_keys())
    except Forbidden:
        return _sign_in_form(403, "csrf")
    staff.close_session(session, deps())
    return redirect("/console/sign-in", ended_cookie())

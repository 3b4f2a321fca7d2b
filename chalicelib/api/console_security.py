"""The console's Security section: a signed-in member sets up two-step sign-in (TOTP) for themselves.

The member types their password again; the service signs in with it (the provider's access token is what
the set-up needs) and shows the new secret as a QR code and as text. The access token must reach the
confirmation step without the browser reading it: it travels sealed (``domain.sealed``: encrypted and
authenticated) in a hidden field, bound to the member and valid a few minutes.
"""

from __future__ import annotations

from datetime import timedelta

from chalice.app import Blueprint, Response
from markupsafe import Markup

from chalicelib.api.requests import query_params
from chalicelib.api.staffed import Staffed, staffed
from chalicelib.api.web import FORM, form, redirect, secure_page
from chalicelib.domain import sealed
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.staff import SignInFailed, TotpAlreadyOn, TotpSetup, WrongTotpCode
from chalicelib.services import staff
from chalicelib.wiring import deps

bp = Blueprint(__name__)

#: How long the member has to scan the code and type the first one back.
SETUP_LIFETIME = timedelta(minutes=5)


def _setup_keys() -> KeyRing:
    return deps().keys.key_ring().derived(b"patient-share console totp set-up")


@bp.route("/console/security", methods=["GET"])
@secure_page
@staffed("security")
def security_page(ctx: Staffed) -> Response:
    """Whether sign-in asks for a code from an authenticator app, and the way to set one up."""
    return _security(ctx, 200)


@bp.route("/console/security/totp", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("security")
def start_totp(ctx: Staffed) -> Response:
    """The password typed again: the QR code and the secret of a new authenticator app, to confirm."""
    try:
        setup = staff.start_totp(ctx.member, form().get("password", ""), deps())
    except SignInFailed:
        return _security(ctx, 401, "password")
    except TotpAlreadyOn:
        return _security(ctx, 409, "already_on")
    ctx.record("totp_setup_started")
    claims = {"staff": ctx.member.staff_id, "access": setup.access_token, "secret": setup.secret}
    return _setup_page(ctx, setup, sealed.seal(claims, _setup_keys(), deps().clock.now() + SETUP_LIFETIME))


@bp.route("/console/security/totp/confirm", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("security")
def confirm_totp(ctx: Staffed) -> Response:
    """The first code from the app: two-step sign-in is on. A wrong code shows the QR code again (422)."""
    fields = form()
    value = fields.get("setup", "")
    try:
        claims = sealed.unseal(value, _setup_keys(), deps().clock.now())
        if claims.get("staff") != ctx.member.staff_id:
            raise Unauthenticated("Not this member's set-up")
        setup = TotpSetup(claims["access"], claims["secret"])
    except (Unauthenticated, KeyError):
        return _security(ctx, 401, "expired")
    try:
        staff.confirm_totp(ctx.member, setup, fields.get("code", ""), deps())
    except WrongTotpCode:
        return _setup_page(ctx, setup, value, 422, "code")
    except SignInFailed:
        return _security(ctx, 401, "expired")
    ctx.record("totp_enabled")
    return redirect("/console/security?enabled=1")


def _security(ctx: Staffed, status: int, error: str | None = None) -> Response:
    return ctx.render(
        "console_security.html",
        status,
        totp=staff.totp_on(ctx.member, deps()),
        error=error,
        enabled=query_params().get("enabled") == "1",
        setup=None,
    )


def _setup_page(
    ctx: Staffed, setup: TotpSetup, sealed_setup: str, status: int = 200, error: str | None = None
) -> Response:
    """The QR code, the secret in groups, and the form for the first code (the set-up sealed in it as it was
    first sealed: a wrong code does not extend its life)."""
    return ctx.render(
        "console_security.html",
        status,
        totp=False,
        error=error,
        enabled=False,
        setup={
            "qr": qr_svg(setup.uri(ctx.member.email)),
            "secret": setup.grouped_secret,
            "sealed": sealed_setup,
        },
    )


def qr_svg(text: str) -> Markup:
    """``text`` as a QR code in SVG markup to put in a page: no style element or attribute (the CSP allows
    none), dark modules on a light background whatever the page's colours. segno loads here, on this page
    only, never at cold start."""
    import segno

    code = segno.make(text, error="m")
    return Markup(code.svg_inline(scale=5, dark="#000", light="#fff", svgclass="qr-code", lineclass=None))  # noqa: S704 (segno's own markup)

"""The console's web edge: its security headers (computed once per process), its pages from one base layout,
its forms and its session cookie.

Part of issue 10's "one web edge": the landing and chat pages still carry their own headers
(``api/patient.py``, ``api/chat.py``) and are to move onto this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec
from urllib.parse import parse_qs

from chalice.app import Response

from chalicelib.api.requests import current_request
from chalicelib.api.sessions import base_path, read_cookie, set_cookie, sign, verify
from chalicelib.domain.console import ConsoleSession
from chalicelib.domain.errors import MalformedRequest
from chalicelib.domain.sessions import Purpose
from chalicelib.templating import preferred_language, render

P = ParamSpec("P")

CONSOLE_COOKIE = "ps_console"
FORM = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 16 * 1024

#: The console pages load nothing but this origin's style sheet and post forms only to this origin.
PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def secure_page(view: Callable[P, Response]) -> Callable[P, Response]:
    """Add the pages' security headers to every answer of the route, redirects and errors included."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        response = view(*args, **kwargs)
        response.headers.update(PAGE_HEADERS)
        return response

    return wrapper


def language() -> str:
    """The page's language: the browser's preference among sv and en, Swedish otherwise."""
    return preferred_language(current_request().headers.get("accept-language"), "sv")


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An HTML page rendered in the request's language, with the base layout's ``assets`` and ``base``."""
    base = base_path()
    html = render(template, language(), assets=f"{base}/assets", base=base, **context)
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def redirect(path: str, cookie: str | None = None) -> Response:
    """303 See Other to a path of the service (after a form's POST), setting ``cookie`` if given."""
    headers: dict[str, str | list[str]] = {"Location": f"{base_path()}{path}"}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def form() -> dict[str, str]:
    """The posted form's fields (the first value of each); MalformedRequest for anything but a small form."""
    request = current_request()
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > _MAX_FORM_BYTES:
        raise MalformedRequest("The form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as err:
        raise MalformedRequest("The form is not UTF-8") from err
    return {name: values[0] for name, values in fields.items()}


def session_cookie(session: ConsoleSession) -> str:
    """The ``Set-Cookie`` of a console session, signed until its idle or absolute timeout."""
    value = sign(Purpose.CONSOLE_SESSION, session.to_claims(), session.expires_at)
    return set_cookie(CONSOLE_COOKIE, value, "/console")


def ended_cookie() -> str:
    """The ``Set-Cookie`` that removes the console's cookie from the browser."""
    return set_cookie(CONSOLE_COOKIE, "", "/console", max_age=0)


def read_session(now: datetime) -> ConsoleSession:
    """The session the request's cookie holds; Unauthenticated when there is none or it is not valid."""
    return ConsoleSession.from_claims(verify(read_cookie(CONSOLE_COOKIE), Purpose.CONSOLE_SESSION, now))

"""Browser sessions of the chat pages: signed cookies, one per side, each scoped to one visit's paths.

* The patient: opening ``/v/{token}`` sets ``ps_patient`` (the visit's id, signed, 12 hours) with
  ``Path=/v/{token}``; the page's own requests under that path must carry it as well as the token.
* The clinician: ``POST /visits/{id}/chat-link`` (clinic key) mints a ticket valid 5 minutes;
  ``GET /visits/{id}/chat?ticket=…`` trades it for ``ps_clinician`` (clinic, visit and clinician,
  signed, 12 hours) with ``Path=/visits/{id}/chat`` and redirects to the page without the ticket.

Cookies are HttpOnly and SameSite=Strict (no other site can make a browser send them, which is what
protects the pages' POSTs), and Secure unless the service runs on http://127.0.0.1 (the local stack).
They are signed with a key derived for this purpose only from the deployment's current signing key, and
accepted under the current or the previous one (``domain.sessions``), so rotating the key ends no session.
"""

from __future__ import annotations

from datetime import datetime
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlparse

from chalicelib.api.requests import current_request
from chalicelib.domain import sessions
from chalicelib.domain.errors import Unauthenticated
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.sessions import SESSION_LIFETIME, BadSignature, Purpose
from chalicelib.settings import settings
from chalicelib.wiring import deps

PATIENT_COOKIE = "ps_patient"
CLINICIAN_COOKIE = "ps_clinician"


def _keys(*, refresh: bool = False) -> KeyRing:
    return deps().keys.key_ring(refresh=refresh).derived(b"patient-share chat sessions")


def base_path() -> str:
    """The path the service is mounted under (empty for a domain of its own)."""
    return urlparse(settings().public_base_url).path.rstrip("/")


def sign(purpose: Purpose, claims: dict[str, str], expires_at: datetime) -> str:
    """A signed value for ``purpose`` under the current session key."""
    return sessions.sign(purpose, claims, _keys(), expires_at)


def verify(value: str, purpose: Purpose, now: datetime) -> dict[str, str]:
    """The claims of a value signed for ``purpose`` under the current or previous key; Unauthenticated otherwise."""
    try:
        return sessions.verify(value, purpose, _keys(), now)
    except BadSignature:
        # Another instance may have signed it under a key this one has not read yet (a rotation in the last
        # minutes): read the keys again (rationed by the port) before refusing.
        return sessions.verify(value, purpose, _keys(refresh=True), now)


def set_cookie(name: str, value: str, path: str, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value for a session cookie scoped to ``path`` (below the service's base path); ``max_age``
    0 removes it."""
    secure = "; Secure" if settings().public_base_url.startswith("https://") else ""
    max_age = int(SESSION_LIFETIME.total_seconds()) if max_age is None else max_age
    return f"{name}={value}; Path={base_path()}{path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def read_cookie(name: str) -> str:
    """The value of one cookie of the current request; Unauthenticated when it is missing."""
    morsel = _cookies().get(name)
    if morsel is None or not morsel.value:
        raise Unauthenticated("No session: open the chat through its link")
    return morsel.value


def has_cookie(name: str) -> bool:
    """Whether the current request carries a (non-empty) cookie of this name."""
    morsel = _cookies().get(name)
    return morsel is not None and bool(morsel.value)


def _cookies() -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(current_request().headers.get("cookie") or "")
    except CookieError:
        return SimpleCookie()
    return jar

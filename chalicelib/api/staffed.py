"""What every signed-in console page shares: the session check, the CSRF check on every change, the
administrators-only rule, the refreshed cookie, and one way to render a section in the console's layout.

A console route is written as::

    @bp.route("/console/studies", methods=["GET"])
    @secure_page
    @staffed("studies")
    def studies(ctx: Staffed) -> Response:
        return ctx.render("console_studies.html", studies=...)

``staffed`` answers for the route when there is no live session (303 to the sign-in), when a change
(any method but GET/HEAD) lacks the session's CSRF token (403), when a clinician opens an administrators'
section (403), and when the service refuses (the domain error's status, shown in the layout). A form posts
its token as the field ``csrf``; a script sends it in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec

from chalice.app import Response

from chalicelib.api import errors, refusals
from chalicelib.api.errors import retry_headers, status_of, to_response
from chalicelib.api.requests import current_request
from chalicelib.api.web import ended_cookie, form, language, page, read_session, redirect, session_cookie
from chalicelib.domain import console as console_domain
from chalicelib.domain.errors import DomainError, Forbidden, Unauthenticated
from chalicelib.domain.keys import KeyRing
from chalicelib.domain.shares import staff_actor
from chalicelib.domain.staff import Role, StaffIdentity
from chalicelib.services import staff
from chalicelib.wiring import deps

P = ParamSpec("P")

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def csrf_keys() -> KeyRing:
    """The keys console CSRF tokens are derived under (from the service's key ring)."""
    return deps().keys.key_ring().derived(b"patient-share console csrf")


def signed_in() -> tuple[console_domain.ConsoleSession, StaffIdentity] | None:
    """The request's live session and its member, or None (no cookie, timed out, member disabled)."""
    try:
        return staff.resume(read_session(deps().clock.now()), deps())
    except Unauthenticated:
        return None


@dataclass(frozen=True)
class Staffed:
    """A console request of a signed-in member: who, their session, the section, and the form's token."""

    session: console_domain.ConsoleSession
    member: StaffIdentity
    section: str
    csrf: str

    @property
    def clinic_id(self) -> str:
        return self.member.clinic_id

    @property
    def actor(self) -> str:
        """How the audit names this member (``domain.shares.staff_actor``)."""
        return staff_actor(self.member.staff_id)

    @property
    def is_admin(self) -> bool:
        return self.member.role is Role.ADMIN

    def render(self, template: str, status: int = 200, **values: Any) -> Response:
        """A section's page, in the console's layout (``console_base.html``) and the request's language."""
        return page(template, status, member=self.member, csrf=self.csrf, section=self.section, **values)

    def record(self, action: str, **ids: str) -> None:
        """Record a console action with the member's id (ids only: never patient data)."""
        staff.record(action, self.session, **ids)


def csrf_sent() -> str:
    """The CSRF token the request carries: the ``X-CSRF-Token`` header, or a posted form's ``csrf`` field."""
    request = current_request()
    header: str = request.headers.get("x-csrf-token") or ""
    if header:
        return header
    content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        return form().get("csrf", "")
    return ""


def staffed(
    section: str, *, admin: bool = False, script: bool = False
) -> Callable[[Callable[Concatenate[Staffed, P], Response]], Callable[P, Response]]:
    """The decorator of every signed-in console route (see the module's docstring).

    ``script``: the route is a page script's JSON call, which cannot follow a redirect to a form or show a
    page: an ended session is 401 and every refusal the JSON error (``api/errors.to_response``).
    """

    def decorate(view: Callable[Concatenate[Staffed, P], Response]) -> Callable[P, Response]:
        @functools.wraps(view)
        def handler(*args: P.args, **kwargs: P.kwargs) -> Response:
            live = signed_in()
            if live is None:
                if not script:
                    return redirect("/console/sign-in", ended_cookie())
                ended = to_response(Unauthenticated("Sign in to the console again"))
                ended.headers["Set-Cookie"] = ended_cookie()
                return ended
            session, member = live
            ctx = Staffed(session, member, section, console_domain.csrf_token(session, csrf_keys()))
            answer = json_refused if script else refused
            if current_request().method.upper() not in _SAFE_METHODS:
                try:
                    console_domain.check_csrf(csrf_sent(), session, csrf_keys())
                except Forbidden as err:
                    return answer(ctx, err, "csrf")
            if admin and not ctx.is_admin:
                return answer(ctx, Forbidden("For administrators only"), "admin_only")
            try:
                response = view(ctx, *args, **kwargs)
            except DomainError as err:
                response = answer(ctx, err, None)
            if "Set-Cookie" not in response.headers:  # seen now: the idle timeout starts again
                response.headers["Set-Cookie"] = session_cookie(session)
            return response

        return handler

    return decorate


def json_refused(ctx: Staffed, err: DomainError, kind: str | None = None) -> Response:
    """A script call's refusal: the JSON error every API answer has (``kind`` only matters to pages)."""
    response = errors.refused(err)
    response.headers["Set-Cookie"] = session_cookie(ctx.session)
    return response


def refused(ctx: Staffed, err: DomainError, kind: str | None = None) -> Response:
    """The console's answer to a refusal: its status, in the layout, worded by its kind in the page's language.

    ``kind`` names refusals the page words itself (``csrf``, ``admin_only``); others are worded by
    ``api/refusals`` (never the domain error's English ``message``).
    """
    status = status_of(err)
    reason = refusals.refusal(err, language())
    response = ctx.render("console_refused.html", status, kind=kind, refused_status=status, reason=reason)
    response.headers.update(retry_headers(err))
    response.headers["Set-Cookie"] = session_cookie(ctx.session)
    return response

"""The patient's landing page of a share: ``/p/{token}``, its unlock forms, and its code request.

Headers on every answer: no caching, no referrer (the URL holds the token), no indexing, and a strict
Content-Security-Policy (scripts and styles from this origin, pictures and video from the share bucket).
The unlocked state is a signed HttpOnly, SameSite=Strict cookie scoped to the link's own path.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from chalice.app import Blueprint, Response

from chalicelib.api import refusals
from chalicelib.api.errors import retry_headers, status_of
from chalicelib.api.requests import current_request, query_params
from chalicelib.api.sessions import base_path, read_cookie, set_cookie, sign, verify
from chalicelib.api.web import Storage, secure_pages
from chalicelib.domain.errors import DomainError, Gone, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from chalicelib.domain.sessions import Purpose
from chalicelib.domain.shares import LinkLocked, ShareStatus, WrongSecret, client_fingerprint
from chalicelib.observability import count, logger
from chalicelib.services import landing
from chalicelib.templating import preferred_language, render
from chalicelib.wiring import deps

bp = Blueprint(__name__)
UNLOCK_COOKIE = "ps_share"
_FORM = ["application/x-www-form-urlencoded"]


#: The landing page shows pictures and videos from the share bucket and posts its forms here.
page_headers = secure_pages(Storage.SHARE)


@bp.route("/p/{token}", methods=["GET"])
@page_headers
def landing_page(token: str) -> Response:
    """The share: its pictures and videos, or the form that unlocks them."""
    try:
        opened = landing.open_link(token, deps())
    except DomainError as err:
        return _gone(err)
    lang = _language(opened.share.language)
    if opened.share.status is not ShareStatus.READY:
        return _html(render("share_page.html", lang, state="preparing", clinic_name=opened.clinic_name, token=token))
    pending = opened.pending(_passed(opened))
    if pending is not None:
        sent = query_params().get("sent") is not None
        try:
            opened.share.attempts.ensure_unlocked(deps().clock.now())
        except LinkLocked as locked:
            return _locked_page(opened, pending, token, lang, error=locked, sent=sent)
        return _locked_page(opened, pending, token, lang, sent=sent)
    page = _open_page(opened, token, lang)
    count("LinkOpened")
    logger.info("share opened", extra={"share_id": opened.share.share_id})
    return page


@bp.route("/p/{token}/unlock", methods=["POST"], content_types=_FORM)
@page_headers
def unlock(token: str) -> Response:
    """Check the code or password typed for the page's next lock; passed locks stay passed for a while.

    A wrong secret answers 403 and a link locked by too many attempts 423 with ``Retry-After``, so that
    clients and logs can tell them apart.
    """
    try:
        opened = landing.open_link(token, deps())
    except DomainError as err:
        return _gone(err)
    lang = _language(opened.share.language)
    passed = _passed(opened)
    pending = opened.pending(passed)
    if pending is None:
        return _redirect(token)
    try:
        opened = landing.unlock(opened, pending, _form().get("secret", ""), _client(), deps())
    except (WrongSecret, LinkLocked) as err:
        count("UnlockLocked" if isinstance(err, LinkLocked) else "UnlockFailed")
        logger.info("share unlock refused", extra={"share_id": opened.share.share_id, "reason": type(err).__name__})
        return _locked_page(opened, pending, token, lang, error=err)
    count("UnlockSucceeded")
    logger.info("share unlocked", extra={"share_id": opened.share.share_id, "lock": pending.value})
    return _redirect(token, cookie=_unlock_cookie(opened, opened.passed_with(pending, passed), token))


@bp.route("/p/{token}/code", methods=["POST"], content_types=_FORM)
@page_headers
def send_code(token: str) -> Response:
    """Send a one-time code to the share's contacts (at most three an hour)."""
    try:
        opened = landing.open_link(token, deps())
    except DomainError as err:
        return _gone(err)
    lang = _language(opened.share.language)
    try:
        landing.request_code(opened, _client(), deps())
    except TooManyRequests as err:
        return _locked_page(opened, landing.Lock.PASSWORD, token, lang, error=err)
    except InvalidInput as err:
        return _locked_page(opened, landing.Lock.PASSWORD, token, lang, error=err, kind="no_codes")
    logger.info("share code sent", extra={"share_id": opened.share.share_id})
    return _redirect(token, query="?sent=1")


@bp.route("/p/{token}/password", methods=["POST"], content_types=_FORM)
@page_headers
def choose_password(token: str) -> Response:
    """Let a patient who unlocked with a code choose a password for later visits."""
    try:
        opened = landing.open_link(token, deps())
    except DomainError as err:
        return _gone(err)
    passed = _passed(opened)
    if opened.pending(passed) is not None:
        return _redirect(token)
    try:
        chosen = landing.choose_password(opened, _form().get("password", ""), deps())
    except InvalidInput:
        lang = _language(opened.share.language)
        return _open_page(opened, token, lang, error=refusals.worded("password_short", lang), status=422)
    # The new password is a new version of the password lock: this browser passed it by choosing it.
    still = frozenset(v for v in passed if v != opened.lock_version(landing.Lock.PASSWORD))
    cookie = _unlock_cookie(chosen, chosen.passed_with(landing.Lock.PASSWORD, still), token)
    return _redirect(token, cookie=cookie, query="?saved=1")


@bp.route("/p/{token}/files/{index}", methods=["GET"])
@page_headers
def download(token: str, index: str) -> Response:
    """Record a download and send the browser to the file's short-lived S3 URL."""
    try:
        opened = landing.open_link(token, deps())
    except DomainError as err:
        return _gone(err)
    if opened.pending(_passed(opened)) is not None:
        return _redirect(token)
    try:
        url = landing.download(opened, int(index) if index.isdigit() else -1, _client(), deps())
    except NotFound as err:
        return _gone(err)
    return Response(body="", status_code=302, headers={"Location": url})


def _open_page(
    opened: landing.Opened, token: str, lang: str, *, error: str | None = None, status: int = 200
) -> Response:
    """The unlocked page: the share's files, and what went wrong with the last form (in ``lang``)."""
    files = landing.view(opened, _client(), deps())
    zip_links = [f for f in files if f.file.kind == "zip"]
    return _html(
        render(
            "share_page.html",
            lang,
            state="open",
            token=token,
            clinic_name=opened.clinic_name,
            files=[f for f in files if f.file.kind != "zip"],
            zip=zip_links[0] if zip_links else None,
            expires_on=opened.share.expires_at.date().isoformat(),
            about=landing.about(opened),
            may_choose_password=landing.Lock.PASSWORD in opened.locks and opened.share.password_hash is None,
            saved=query_params().get("saved") is not None,
            error=error,
        ),
        status=status,
    )


def _client() -> str:
    """A keyed hash of the caller's address, for the access log (the address itself is never kept)."""
    identity = (current_request().context or {}).get("identity") or {}
    return client_fingerprint(deps().keys.key_ring().current, str(identity.get("sourceIp") or "unknown"))


def _passed(opened: landing.Opened) -> frozenset[str]:
    """The versions of the locks this browser has passed on this link (from its signed cookie)."""
    try:
        claims = verify(read_cookie(UNLOCK_COOKIE), Purpose.SHARE_UNLOCKED, deps().clock.now())
    except Unauthenticated:
        return frozenset()
    if claims.get("share") != opened.share.share_id:
        return frozenset()
    return frozenset(v for v in claims.get("passed", "").split(",") if v)


def _unlock_cookie(opened: landing.Opened, passed: frozenset[str], token: str) -> str:
    expires = min(opened.share.expires_at, deps().clock.now() + timedelta(hours=12))
    claims = {"share": opened.share.share_id, "passed": ",".join(sorted(passed))}
    return set_cookie(UNLOCK_COOKIE, sign(Purpose.SHARE_UNLOCKED, claims, expires), f"/p/{token}")


def _locked_page(
    opened: landing.Opened,
    lock: landing.Lock,
    token: str,
    lang: str,
    *,
    error: DomainError | None = None,
    kind: str | None = None,
    sent: bool = False,
) -> Response:
    """The form for ``lock``, with what went wrong (by kind: the page words it in the patient's language)."""
    words = {
        "state": "locked",
        "lock": lock.value,
        "step": opened.locks.index(lock) + 1,
        "steps": len(opened.locks),
        "token": token,
        "clinic_name": opened.clinic_name,
        "sent": sent,
        "error": refusals.refusal(error, lang, kind) if error is not None else None,
    }
    response = _html(render("share_page.html", lang, **words), status=status_of(error) if error else 200)
    if error is not None and opened.locks:
        response.headers.update(retry_headers(error))
    return response


def _language(default: str) -> str:
    return preferred_language(current_request().headers.get("accept-language"), default)


def _form() -> dict[str, str]:
    raw = current_request().raw_body or b""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _gone(err: DomainError) -> Response:
    expired = isinstance(err, Gone)
    return _html(render("share_gone.html", _language("sv"), expired=expired), status=410 if expired else 404)


def _html(body: str, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def _redirect(token: str, *, cookie: str | None = None, query: str = "") -> Response:
    headers: dict[str, str | list[str]] = {"Location": f"{base_path()}/p/{token}{query}"}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)

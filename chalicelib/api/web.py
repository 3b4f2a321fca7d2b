"""The one web edge of every page (the console, the share landing page, the chat pages): their security
headers (computed once, by one decorator), pages from the base layout, forms, and the console's cookie.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, ParamSpec
from urllib.parse import parse_qs, urlparse

from chalice.app import Response

from chalicelib.api.requests import current_request
from chalicelib.api.sessions import base_path, read_cookie, set_cookie, sign, verify
from chalicelib.domain.console import ConsoleSession
from chalicelib.domain.errors import MalformedRequest
from chalicelib.domain.sessions import Purpose
from chalicelib.templating import preferred_language, render
from chalicelib.wiring import deps

P = ParamSpec("P")

CONSOLE_COOKIE = "ps_console"
FORM = "application/x-www-form-urlencoded"
_MAX_FORM_BYTES = 16 * 1024


class Storage(StrEnum):
    """Which bucket a page's browser loads from or uploads to, straight from S3."""

    SHARE = "share"
    CHAT = "chat"
    INGEST = "ingest"
    """The study index's bucket: the console's Upload posts DICOM files to it; its thumbnails come from it."""


_cached: weakref.WeakKeyDictionary[object, dict[tuple[Storage | None, bool], dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)
_cache_lock = threading.Lock()


def security_headers(storage: Storage | None = None, *, forms: bool = True) -> dict[str, str]:
    """No caching, no referrer, no framing, no indexing; scripts and styles from this origin only; images, media
    and uploads also from ``storage``'s bucket; forms posted to this origin only if the page has any.

    Computed once per set of dependencies (once per process in AWS): the bucket's origin is what its adapter
    signs URLs for, asked once, never per response.
    """
    objects = deps().objects
    with _cache_lock:
        per_store = _cached.setdefault(objects, {})
        if (storage, forms) not in per_store:
            per_store[(storage, forms)] = _headers(storage, _storage_origins(storage), forms)
        return per_store[(storage, forms)]


def _headers(storage: Storage | None, origins: str, forms: bool) -> dict[str, str]:
    if storage is Storage.CHAT:  # previews are blobs; uploads and downloads go to the bucket
        loads = f"img-src 'self' blob: {origins}; media-src 'self' blob: {origins}; connect-src 'self' {origins}; "
    elif storage is Storage.SHARE:  # the patient's pictures and videos come from the bucket
        loads = f"img-src 'self' {origins}; media-src 'self' {origins}; "
    elif storage is Storage.INGEST:  # the console's uploads go to the bucket; its thumbnails come from it
        loads = f"img-src 'self' {origins}; connect-src 'self' {origins}; "
    else:
        loads = "img-src 'self'; "
    form_action = "'self'" if forms else "'none'"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self'; style-src 'self'; {loads}"
            f"form-action {form_action}; base-uri 'none'; frame-ancestors 'none'"
        ),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }


def _storage_origins(storage: Storage | None) -> str:
    if storage is None:
        return ""
    objects = deps().objects
    buckets = deps().buckets
    bucket = {Storage.SHARE: buckets.share, Storage.CHAT: buckets.chat, Storage.INGEST: buckets.ingest}[storage]
    urls = [objects.presigned_get(bucket, "origin", expires_s=60)]
    if storage in (Storage.CHAT, Storage.INGEST):  # their uploads are pre-signed POSTs
        urls.append(objects.presigned_post(bucket, "origin", max_bytes=1, expires_s=60).url)
    return " ".join(sorted({f"{urlparse(u).scheme}://{urlparse(u).netloc}" for u in urls}))


def secure_pages(
    storage: Storage | None = None, *, forms: bool = True
) -> Callable[[Callable[P, Response]], Callable[P, Response]]:
    """The decorator every browser route uses: the security headers on every answer, redirects and errors too."""

    def decorate(view: Callable[P, Response]) -> Callable[P, Response]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            response = view(*args, **kwargs)
            response.headers.update(security_headers(storage, forms=forms))
            return response

        return wrapper

    return decorate


#: The console's pages: nothing from S3 (yet), forms to this origin.
secure_page = secure_pages()


def language() -> str:
    """The page's language: the browser's preference among sv and en, Swedish otherwise."""
    return preferred_language(current_request().headers.get("accept-language"), "sv")


def page(template: str, status: int = 200, **context: Any) -> Response:
    """An HTML page rendered in the request's language (``templating.render`` gives it ``base`` and ``assets``)."""
    html = render(template, language(), **context)
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


def redirect(path: str, cookie: str | None = None) -> Response:
    """303 See Other to a path of the service (after a form's POST), setting ``cookie`` if given."""
    headers: dict[str, str | list[str]] = {"Location": f"{base_path()}{path}"}
    if cookie is not None:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303, headers=headers)


def form() -> dict[str, str]:
    """The posted form's fields (the first value of each); MalformedRequest for anything but a small form."""
    return {name: values[0] for name, values in form_values().items()}


def form_values() -> dict[str, list[str]]:
    """The posted form's fields with every value of each (checkboxes of one name)."""
    request = current_request()
    raw = request.raw_body or b""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > _MAX_FORM_BYTES:
        raise MalformedRequest("The form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as err:
        raise MalformedRequest("The form is not UTF-8") from err
    return fields


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

"""The chat pages and the routes their script calls, for the patient and for the clinician's browser.

Both pages are the same template and script (``templates/chat.html``, ``static/chat.js``); what
differs is the path the script talks to and how that path is authenticated (``api/sessions.py``):

* patient: ``/v/{token}`` (the link's token, checked on every request) plus the ``ps_patient`` cookie;
* clinician: ``/visits/{id}/chat`` plus the ``ps_clinician`` cookie, set when the page is opened with
  a ticket from ``POST /visits/{id}/chat-link`` (once per ticket); every call checks again that the
  clinic's API key the ticket was asked for with is not revoked (``services/clinician_sessions.py``).

The pages themselves carry no patient data (their script fetches it with the cookie), so a page
opened without a session just says to open the link again. These routes are public to API Gateway:
the cookie is checked here, on every call. Every answer forbids caching, referrers, framing and
indexing, and a strict Content-Security-Policy allows scripts and styles from this origin only.
"""

from __future__ import annotations

from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib.api import models, views
from chalicelib.api.errors import error_response, http_errors
from chalicelib.api.requests import body, current_request, query_params
from chalicelib.api.responses import created, ok
from chalicelib.api.sessions import (
    CLINICIAN_COOKIE,
    PATIENT_COOKIE,
    base_path,
    has_cookie,
    read_cookie,
    set_cookie,
    sign,
    verify,
)
from chalicelib.api.visits import attachments_request, page_params
from chalicelib.api.web import Storage, secure_pages
from chalicelib.domain.errors import Gone, NotFound, Unauthenticated
from chalicelib.domain.sessions import SESSION_LIFETIME, ClinicianClaims, Purpose
from chalicelib.domain.visits import RejectReason, Role, Visit
from chalicelib.observability import logger
from chalicelib.services import attachments, chat, clinician_sessions, visits
from chalicelib.services.visits import Participant
from chalicelib.templating import preferred_language, render
from chalicelib.wiring import deps

bp = Blueprint(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "share.js": "text/javascript; charset=utf-8",
    "share.css": "text/css; charset=utf-8",
    "viewer.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "console_visits.css": "text/css; charset=utf-8",
    "console_upload.css": "text/css; charset=utf-8",
    "console_upload.js": "text/javascript; charset=utf-8",
    "console_studies.js": "text/javascript; charset=utf-8",
    "console_studies.css": "text/css; charset=utf-8",
    "console_security.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


#: The chat pages post no forms (their script sends JSON) and load and upload from the chat bucket.
browser = secure_pages(Storage.CHAT, forms=False)


# ------------------------------------------------------------------------------------------- pages


def _language() -> str:
    return preferred_language(current_request().headers.get("accept-language"), "sv")


def _page(lang: str, *, role: Role, api: str, clinic_name: str | None) -> Response:
    html = render(
        "chat.html",
        lang,
        role=role.value,
        api=api,
        assets=f"{base_path()}/assets",
        clinic_name=clinic_name,
        strings=_strings(lang),
    )
    return Response(body=html, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


def _error_page(lang: str, status: int, reason: str) -> Response:
    html = render("chat_error.html", lang, reason=reason, assets=f"{base_path()}/assets")
    return Response(body=html, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})


@bp.route("/v/{token}", methods=["GET"])
@browser
def patient_page(token: str) -> Response:
    """The patient's chat page; opening it starts the patient's session."""
    lang = _language()
    try:
        visit = visits.open_link(token, deps())
    except NotFound:
        return _error_page(lang, 404, "not_found")
    except Gone:
        return _error_page(lang, 410, "ended")
    clinic = deps().clinics.get(visit.clinic_id)
    response = _page(lang, role=Role.PATIENT, api=f"{base_path()}/v/{token}", clinic_name=clinic.name)
    session = sign(Purpose.PATIENT_SESSION, {"visit": visit.visit_id}, deps().clock.now() + SESSION_LIFETIME)
    response.headers["Set-Cookie"] = set_cookie(PATIENT_COOKIE, session, f"/v/{token}")
    logger.info("patient page opened", extra={"visit_id": visit.visit_id})
    return response


@bp.route("/visits/{visit_id}/chat", methods=["GET"])
@browser
def clinician_page(visit_id: str) -> Response:
    """The clinician's chat page; opened with a fresh ticket (once), it starts the clinician's session.

    Opened again without the ticket (a reload), it checks the session like every call of the page; with
    no session at all it is the page without data, which says to open the link again.
    """
    lang = _language()
    api = f"{base_path()}/visits/{visit_id}/chat"
    ticket = query_params().get("ticket")
    if not ticket and not has_cookie(CLINICIAN_COOKIE):
        return _page(lang, role=Role.CLINICIAN, api=api, clinic_name=None)
    now = deps().clock.now()
    opened: ClinicianClaims | None = None
    try:
        if ticket:
            opened = _claims(verify(ticket, Purpose.CLINICIAN_TICKET, now), visit_id)
            actor = clinician_sessions.redeem(opened, deps())
        else:
            actor, _ = _clinician(visit_id)
        visits.visit_for(actor, visit_id, deps())
    except Unauthenticated:
        return _error_page(lang, 401, "session")
    except NotFound:
        return _error_page(lang, 404, "not_found")
    except Gone:
        return _error_page(lang, 410, "ended")
    clinic = deps().clinics.get(actor.clinic_id)
    response = _page(lang, role=Role.CLINICIAN, api=api, clinic_name=clinic.name)
    if opened is not None:
        session = sign(Purpose.CLINICIAN_SESSION, opened.to_claims(), now + SESSION_LIFETIME)
        response.headers["Set-Cookie"] = set_cookie(CLINICIAN_COOKIE, session, f"/visits/{visit_id}/chat")
        logger.info("clinician page opened", extra={"visit_id": visit_id, "key_id": opened.key_id})
    return response


@bp.route("/assets/{name}", methods=["GET"])
def asset(name: str) -> Response:
    """The pages' script and style sheet (public, identical for everyone)."""
    if name not in ASSETS:
        return error_response(404, "NotFound", "No such asset")
    return Response(
        body=(STATIC / name).read_text(encoding="utf-8"),
        status_code=200,
        headers={"Content-Type": ASSETS[name], "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


# ------------------------------------------------------------------------------------------- patient


def _patient(token: str) -> tuple[Visit, Participant, str]:
    visit = visits.open_link(token, deps())
    claims = verify(read_cookie(PATIENT_COOKIE), Purpose.PATIENT_SESSION, deps().clock.now())
    if claims.get("visit") != visit.visit_id:
        raise Unauthenticated("No session: open the chat through its link")
    return visit, visits.patient(visit), f"{base_path()}/v/{token}"


@bp.route("/v/{token}/messages", methods=["GET"])
@browser
@http_errors
def patient_messages(token: str) -> Response:
    """The chat, for the patient."""
    visit, actor, base = _patient(token)
    after, limit = page_params()
    return ok(views.page(chat.list_messages(actor, visit.visit_id, after, limit, deps()), base, actor))


@bp.route("/v/{token}/messages", methods=["POST"], content_types=["application/json"])
@browser
@http_errors
def patient_post(token: str) -> Response:
    """The patient writes."""
    visit, actor, base = _patient(token)
    message = chat.post_text(actor, visit.visit_id, body(models.TextMessage).text, deps())
    return created(views.message(message, base, actor))


@bp.route("/v/{token}/attachments", methods=["POST"], content_types=["application/json"])
@browser
@http_errors
def patient_attachment(token: str) -> Response:
    """The patient announces a file and gets its upload form."""
    visit, actor, base = _patient(token)
    return created(views.requested(attachments_request(actor, visit.visit_id), base, actor))


@bp.route("/v/{token}/attachments/{attachment_id}", methods=["GET"])
@browser
@http_errors
def patient_download(token: str, attachment_id: str) -> Response:
    """302 to the file, for the patient."""
    visit, actor, _ = _patient(token)
    return views.redirect(attachments.download_url(actor, visit.visit_id, attachment_id, deps()))


@bp.route("/v/{token}/attachments/{attachment_id}/preview", methods=["GET"])
@browser
@http_errors
def patient_preview(token: str, attachment_id: str) -> Response:
    """302 to the file's preview, for the patient."""
    visit, actor, _ = _patient(token)
    return views.redirect(attachments.download_url(actor, visit.visit_id, attachment_id, deps(), preview=True))


# ------------------------------------------------------------------------------------------- clinician


def _clinician(visit_id: str) -> tuple[Participant, str]:
    """The session's clinician, on every call: the cookie's signature and expiry, its visit, and its API key."""
    claims = _claims(verify(read_cookie(CLINICIAN_COOKIE), Purpose.CLINICIAN_SESSION, deps().clock.now()), visit_id)
    return clinician_sessions.session_actor(claims, deps()), f"{base_path()}/visits/{visit_id}/chat"


def _claims(signed: dict[str, str], visit_id: str) -> ClinicianClaims:
    claims = ClinicianClaims.from_claims(signed)
    if claims.visit_id != visit_id:
        raise Unauthenticated("No session: open the chat from the clinic's system again")
    return claims


@bp.route("/visits/{visit_id}/chat/messages", methods=["GET"])
@browser
@http_errors
def clinician_messages(visit_id: str) -> Response:
    """The chat, for the clinician's page (with the contacts the link went to); the patient's messages it
    shows are read."""
    actor, base = _clinician(visit_id)
    after, limit = page_params()
    page = chat.list_messages(actor, visit_id, after, limit, deps())
    chat.mark_read(actor, page, deps())
    return ok(views.page(page, base, actor, contacts=True))


@bp.route("/visits/{visit_id}/chat/messages", methods=["POST"], content_types=["application/json"])
@browser
@http_errors
def clinician_post(visit_id: str) -> Response:
    """The clinician writes from the page."""
    actor, base = _clinician(visit_id)
    text = body(models.TextMessage).text
    return created(views.message(chat.post_text(actor, visit_id, text, deps()), base, actor))


@bp.route("/visits/{visit_id}/chat/attachments", methods=["POST"], content_types=["application/json"])
@browser
@http_errors
def clinician_attachment(visit_id: str) -> Response:
    """The clinician announces a file from the page."""
    actor, base = _clinician(visit_id)
    return created(views.requested(attachments_request(actor, visit_id), base, actor))


@bp.route("/visits/{visit_id}/chat/attachments/{attachment_id}", methods=["GET"])
@browser
@http_errors
def clinician_download(visit_id: str, attachment_id: str) -> Response:
    """302 to the file, for the clinician's page."""
    actor, _ = _clinician(visit_id)
    return views.redirect(attachments.download_url(actor, visit_id, attachment_id, deps()))


@bp.route("/visits/{visit_id}/chat/attachments/{attachment_id}/preview", methods=["GET"])
@browser
@http_errors
def clinician_preview(visit_id: str, attachment_id: str) -> Response:
    """302 to the file's preview, for the clinician's page."""
    actor, _ = _clinician(visit_id)
    return views.redirect(attachments.download_url(actor, visit_id, attachment_id, deps(), preview=True))


@bp.route("/visits/{visit_id}/chat/attachments/{attachment_id}/saved", methods=["POST"])
@browser
@http_errors
def clinician_saved(visit_id: str, attachment_id: str) -> Response:
    """The clinician marks a file saved into the record, from the reminder."""
    actor, base = _clinician(visit_id)
    return ok(views.message(attachments.mark_saved(actor, visit_id, attachment_id, deps()), base, actor))


@bp.route("/visits/{visit_id}/chat/close", methods=["POST"])
@browser
@http_errors
def clinician_close(visit_id: str) -> Response:
    """The clinician closes the visit from the page; answers the reminder."""
    actor, base = _clinician(visit_id)
    detail = visits.close_visit(actor, visit_id, deps())
    logger.info("visit closed", extra={"visit_id": visit_id, "files": len(detail.files)})
    return ok(views.closed(detail, base))


# ------------------------------------------------------------------------------------------- words


def _strings(lang: str) -> dict[str, str]:
    """The script's words in ``lang``: labels, statuses, and each refusal reason by code."""

    def t(sv: str, en: str) -> str:
        return sv if lang == "sv" else en

    words = {
        "you": t("Du", "You"),
        "clinic": t("Vården", "The clinic"),
        "patient": t("Patienten", "The patient"),
        "pending": t("Filen kontrolleras …", "Checking the file …"),
        "rejected": t("Filen togs inte emot", "The file was not accepted"),
        "download": t("Ladda ner", "Download"),
        "open": t("Visa i full storlek", "Show full size"),
        "uploading": t("Skickar …", "Sending …"),
        "upload_failed": t("Filen kunde inte skickas. Försök igen.", "The file could not be sent. Try again."),
        "send_failed": t("Meddelandet kunde inte skickas.", "The message could not be sent."),
        "close_failed": t("Besöket kunde inte avslutas. Försök igen.", "The visit could not be closed. Try again."),
        "session": t(
            "Sessionen har gått ut. Öppna länken till chatten igen.",
            "The session has expired. Open the link to the chat again.",
        ),
        "closed": t(
            "Besöket är avslutat. Inga fler meddelanden kan skickas.",
            "The visit is closed. No more messages can be sent.",
        ),
        "ended": t("Besöket har upphört och chatten är raderad.", "The visit has ended and the chat is deleted."),
        "saved": t("Sparad i journalen", "Saved in the record"),
        "mark_saved": t("Markera som sparad", "Mark as saved"),
        "nothing_to_save": t("Inga filer skickades under besöket.", "No files were sent during the visit."),
        "confirm_close": t(
            "Avsluta besöket? Därefter kan inget mer skickas.", "Close the visit? Nothing more can be sent after that."
        ),
        "from_patient": t("från patienten", "from the patient"),
        "from_clinic": t("från vården", "from the clinic"),
    }
    for reason in RejectReason:
        words[f"reason_{reason.value}"] = t(*_REASONS_SV_EN[reason])
    return words


_REASONS_SV_EN = {
    RejectReason.AUDIO: ("ljudfiler kan inte skickas", "audio files cannot be sent"),
    RejectReason.TYPE: (
        "den här filtypen kan inte skickas (bilder, filmer, PDF och Office-dokument går bra)",
        "this type of file cannot be sent (pictures, videos, PDF and office documents can)",
    ),
    RejectReason.TOO_LARGE: ("filen är större än 10 MB", "the file is larger than 10 MB"),
    RejectReason.EMPTY: ("filen är tom", "the file is empty"),
    RejectReason.UNREADABLE: (
        "filen är skadad eller inte vad den utger sig för",
        "the file is damaged or not what its type says",
    ),
    RejectReason.NOT_RECEIVED: ("filen kom aldrig fram", "the file never arrived"),
    RejectReason.AFTER_CLOSE: (
        "filen kom fram efter att besöket avslutats",
        "the file arrived after the visit was closed",
    ),
}

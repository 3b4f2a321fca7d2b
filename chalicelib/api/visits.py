"""The clinic's API for visits and their chat (``Authorization: Bearer <clinic key>``).

Requests that act name the clinician in ``X-Clinician`` (the clinic's own staff id; kept on the
visit and its messages, shown in the close-visit reminder). Any clinician of the clinic may act on
any visit of the clinic; no clinic ever reaches another clinic's visits.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import models, views
from chalicelib.api.answers import ChatLink
from chalicelib.api.auth import clinic_key
from chalicelib.api.errors import http_errors
from chalicelib.api.requests import body, current_clinic, current_key_id, current_request, query
from chalicelib.api.responses import created, ok
from chalicelib.api.sessions import sign
from chalicelib.domain.sessions import Purpose
from chalicelib.domain.visits import clinician_id
from chalicelib.observability import count, logger
from chalicelib.services import attachments, chat, clinician_sessions, visits
from chalicelib.services.visits import Participant
from chalicelib.wiring import deps

bp = Blueprint(__name__)


def acting() -> Participant:
    """The calling clinic's clinician named in ``X-Clinician`` (required to act)."""
    return visits.clinician(current_clinic(), clinician_id(current_request().headers.get("x-clinician")))


def reading() -> Participant:
    """The calling clinic (reading needs no clinician's name)."""
    return visits.clinician(current_clinic(), current_request().headers.get("x-clinician") or "")


def _api(visit_id: str) -> str:
    return f"{deps().visit_policy.public_base_url}/visits/{visit_id}"


@bp.route("/visits", methods=["POST"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def create_visit() -> Response:
    """Start a visit; its link goes to each contact (``{"contacts": "a@b.se, 070…", "language": "sv"}``)."""
    asked = body(models.VisitRequest)
    visit = visits.create_visit(acting(), asked.contacts, deps(), language=asked.language)
    for delivery in visit.deliveries:
        count("Delivery" + "".join(w.capitalize() for w in delivery.status.value.split("_")))
    logger.info(
        "visit created",
        extra={"visit_id": visit.visit_id, "deliveries": [d.status.value for d in visit.deliveries]},
    )
    return created(views.visit(visits.VisitDetail(visit, []), _api(visit.visit_id)))


@bp.route("/visits/{visit_id}", methods=["GET"], authorizer=clinic_key)
@http_errors
def get_visit(visit_id: str) -> Response:
    """A visit: its status, each contact's delivery, and which kept files are not yet saved."""
    return ok(views.visit(visits.visit_detail(reading(), visit_id, deps()), _api(visit_id)))


@bp.route("/visits/{visit_id}/close", methods=["POST"], authorizer=clinic_key)
@http_errors
def close_visit(visit_id: str) -> Response:
    """Close the visit; answers the reminder of files to save into the medical record."""
    detail = visits.close_visit(acting(), visit_id, deps())
    logger.info("visit closed", extra={"visit_id": visit_id, "files": len(detail.files)})
    return ok(views.closed(detail, _api(visit_id)))


@bp.route("/visits/{visit_id}/messages", methods=["GET"], authorizer=clinic_key)
@http_errors
def list_messages(visit_id: str) -> Response:
    """The chat, oldest first: ``?after=<seq>&limit=<n>`` (``next`` is the cursor to ask with next)."""
    after, limit = page_params()
    page = chat.list_messages(reading(), visit_id, after, limit, deps())
    return ok(views.page(page, _api(visit_id), me=reading()))


@bp.route("/visits/{visit_id}/messages", methods=["POST"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def post_message(visit_id: str) -> Response:
    """Post a text (``{"text": …}``), kept as written."""
    actor = acting()
    message = chat.post_text(actor, visit_id, body(models.TextMessage).text, deps())
    return created(views.message(message, _api(visit_id), me=actor))


@bp.route("/visits/{visit_id}/attachments", methods=["POST"], authorizer=clinic_key, content_types=["application/json"])
@http_errors
def request_attachment(visit_id: str) -> Response:
    """Announce a file (``{"filename", "content_type", "size"}``); answers where to POST it."""
    actor = acting()
    requested = attachments_request(actor, visit_id)
    return created(views.requested(requested, _api(visit_id), me=actor))


@bp.route("/visits/{visit_id}/attachments/{attachment_id}", methods=["GET"], authorizer=clinic_key)
@http_errors
def download(visit_id: str, attachment_id: str) -> Response:
    """302 to a pre-signed GET of the file, valid a few minutes."""
    return views.redirect(attachments.download_url(reading(), visit_id, attachment_id, deps()))


@bp.route("/visits/{visit_id}/attachments/{attachment_id}/preview", methods=["GET"], authorizer=clinic_key)
@http_errors
def preview(visit_id: str, attachment_id: str) -> Response:
    """302 to a pre-signed GET of the file's thumbnail or poster frame."""
    return views.redirect(attachments.download_url(reading(), visit_id, attachment_id, deps(), preview=True))


@bp.route("/visits/{visit_id}/attachments/{attachment_id}/saved", methods=["POST"], authorizer=clinic_key)
@http_errors
def mark_saved(visit_id: str, attachment_id: str) -> Response:
    """Mark a kept file as saved into the medical record."""
    actor = acting()
    message = attachments.mark_saved(actor, visit_id, attachment_id, deps())
    return ok(views.message(message, _api(visit_id), me=actor))


@bp.route("/visits/{visit_id}/chat-link", methods=["POST"], authorizer=clinic_key)
@http_errors
def chat_link(visit_id: str) -> Response:
    """A link that opens the visit's chat page in the clinician's browser: once, within 5 minutes.

    The page's session lasts only while the API key this request was made with is not revoked.
    """
    claims, expires_at = clinician_sessions.chat_ticket(acting(), visit_id, current_key_id(), deps())
    ticket = sign(Purpose.CLINICIAN_TICKET, claims.to_claims(), expires_at)
    url = f"{deps().visit_policy.public_base_url}/visits/{visit_id}/chat?ticket={ticket}"
    return created(ChatLink(url=url, expires_at=expires_at.isoformat()))


def attachments_request(actor: Participant, visit_id: str) -> attachments.RequestedAttachment:
    """Announce a file from a JSON body, for either side."""
    file = body(models.AttachmentAnnouncement)
    return attachments.request_attachment(actor, visit_id, file.filename, file.content_type, file.size, deps())


def page_params() -> tuple[int, int]:
    """``after`` and ``limit`` of a messages request."""
    page = query(models.MessagePageQuery)
    return page.after, page.limit

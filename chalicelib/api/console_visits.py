"""The console's Visits: start a visit, the clinic's open visits with their unread patient messages, a visit's
audit, closing it with its reminder, and the clinician's chat page opened signed in.

The signed-in member is the clinician: the visit, its messages and its close name their staff id (what
``X-Clinician`` names for the API). The chat page is the one the API's chat link opens (``api/chat.py``); from
the console its session is made for the member at once, without a ticket, and lasts only while the member is
enabled and of the visit's clinic (``services/clinician_sessions.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalice.app import Blueprint, Response

from chalicelib.api import refusals, views
from chalicelib.api.contact_words import contact_problems
from chalicelib.api.errors import status_of
from chalicelib.api.sessions import CLINICIAN_COOKIE, set_cookie, sign
from chalicelib.api.staffed import Staffed, staffed
from chalicelib.api.web import FORM, form, redirect, secure_page, session_cookie
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.sessions import SESSION_LIFETIME, Purpose
from chalicelib.domain.staff import StaffIdentity
from chalicelib.domain.visits import Message, Role, Visit
from chalicelib.services import chat, clinician_sessions, staff, visits
from chalicelib.services.visits import Participant
from chalicelib.templating import LANGUAGES
from chalicelib.wiring import deps

bp = Blueprint(__name__)


def _clinician(member: StaffIdentity) -> Participant:
    """The signed-in member as the clinician acting on their clinic's visits."""
    return visits.clinician(member.clinic_id, member.staff_id)


def _list(
    ctx: Staffed,
    status: int = 200,
    problems: list[tuple[str, str]] | None = None,
    contacts: str = "",
    language: str = "",
) -> Response:
    return ctx.render(
        "console_visits.html",
        status,
        open_visits=visits.open_visits(_clinician(ctx.member), deps()),
        shown=visits.OPEN_VISITS_SHOWN,
        languages=LANGUAGES,
        problems=problems or [],
        contacts=contacts,
        language=language or "sv",
    )


@bp.route("/console/visits", methods=["GET"])
@secure_page
@staffed("visits")
def visits_page(ctx: Staffed) -> Response:
    """Start a visit; the clinic's open visits, newest first, with their unread patient messages."""
    return _list(ctx)


@bp.route("/console/visits", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("visits")
def start_visit(ctx: Staffed) -> Response:
    """Start a visit with the signed-in member as its clinician; the link goes to each contact."""
    fields = form()
    contacts, language = fields.get("contacts", ""), fields.get("language", "sv")
    problems = contact_problems(contacts, deps().clinics.get(ctx.clinic_id).country)
    if problems:  # every bad contact by its position, in the page's language, beside what was typed
        return _list(ctx, 422, problems, contacts, language)
    try:
        visit = visits.create_visit(_clinician(ctx.member), contacts, deps(), language=language)
    except InvalidInput as err:
        return _list(ctx, status_of(err), [refusals.in_both(err)], contacts, language)
    ctx.record("visit_started", visit_id=visit.visit_id)
    return redirect(f"/console/visits/{visit.visit_id}")


@bp.route("/console/visits/{visit_id}", methods=["GET"])
@secure_page
@staffed("visits")
def visit_page(ctx: Staffed, visit_id: str) -> Response:
    """A visit's audit: who started it, where its link went, who wrote and sent what, who saved and closed it;
    once closed, the reminder of the files to save into the medical record."""
    found = visits.history(_clinician(ctx.member), visit_id, deps())
    return ctx.render(
        "console_visits_detail.html",
        visit=found.visit,
        events=_events(found.visit, [chat.settled(m, deps()) for m in found.messages]),
        kept=visits.kept_files(found.visit, deps()),
        who=_names(ctx.member),
        advice=views.ADVICE,
    )


@bp.route("/console/visits/{visit_id}/close", methods=["POST"], content_types=[FORM])
@secure_page
@staffed("visits")
def close_visit(ctx: Staffed, visit_id: str) -> Response:
    """Close the visit as the signed-in member; its page then shows the reminder."""
    detail = visits.close_visit(_clinician(ctx.member), visit_id, deps())
    ctx.record("visit_closed", visit_id=visit_id, files=str(len(detail.files)))
    return redirect(f"/console/visits/{visit_id}")


@bp.route("/console/visits/{visit_id}/chat", methods=["GET"])
@secure_page
@staffed("visits")
def open_chat(ctx: Staffed, visit_id: str) -> Response:
    """The clinician's chat page, signed in as the member: its session cookie, then the page (no ticket)."""
    claims = clinician_sessions.member_session(ctx.member, visit_id, deps())
    session = sign(Purpose.CLINICIAN_SESSION, claims.to_claims(), deps().clock.now() + SESSION_LIFETIME)
    ctx.record("visit_chat_opened", visit_id=visit_id)
    response = redirect(f"/visits/{visit_id}/chat")
    response.headers["Set-Cookie"] = [  # the chat page's session, and the console's own, refreshed
        set_cookie(CLINICIAN_COOKIE, session, f"/visits/{visit_id}/chat"),
        session_cookie(ctx.session),
    ]
    return response


@dataclass(frozen=True)
class Event:
    """One line of a visit's audit: when, who (a staff id, or None for the patient), what, and about which file."""

    at: datetime
    clinician: str | None
    kind: str
    """``started``, ``wrote``, ``sent_file``, ``saved_file`` or ``closed`` (the template words each)."""
    message: Message | None = None


def _events(visit: Visit, messages: list[Message]) -> list[Event]:
    """What the visit and its messages record, in the order it happened."""
    events = [Event(visit.created_at, visit.created_by, "started")]
    for m in messages:
        who = m.clinician if m.sender is Role.CLINICIAN else None
        events.append(Event(m.sent_at, who, "wrote" if m.attachment is None else "sent_file", m))
        if m.attachment is not None and m.attachment.saved_at is not None:
            events.append(Event(m.attachment.saved_at, m.attachment.saved_by or "", "saved_file", m))
    if visit.closed_at is not None:
        events.append(Event(visit.closed_at, visit.closed_by or "", "closed"))
    return sorted(events, key=lambda e: e.at)


def _names(member: StaffIdentity) -> dict[str, str]:
    """Staff ids of the member's clinic → their e-mail addresses, to name who acted (others stay ids: a
    clinician the clinic's own system named through the API)."""
    return {m.staff_id: m.email for m in staff.members(member.clinic_id, deps())}

"""How visits, messages and files look in JSON, for the clinic's API and for the chat pages alike.

``base`` is where the caller reaches the visit: ``https://…/visits/{id}`` for the API, the page's own
path (``/v/{token}``, ``/visits/{id}/chat``) for the browser; file URLs hang below it. Contacts are
shown by position and kind only: the clinician typed them, and responses travel through logs.
"""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api import answers
from chalicelib.domain.visits import AttachmentStatus, Message, Role
from chalicelib.services.attachments import RequestedAttachment
from chalicelib.services.chat import MessagePage
from chalicelib.services.visits import Participant, VisitDetail

ADVICE = {
    "sv": (
        "Spara filerna som hör till vården i patientjournalen och markera dem som sparade. "
        "Radera sedan kopior som laddats ner till datorn eller telefonen. "
        "Chatten och filerna raderas automatiskt när lagringstiden är slut."
    ),
    "en": (
        "Save the files that belong to the care in the medical record and mark them as saved. "
        "Then delete any copies downloaded to the computer or phone. "
        "The chat and its files are deleted automatically when the retention period ends."
    ),
}


def visit(detail: VisitDetail, base: str) -> answers.VisitAnswer:
    """A visit for the clinic: state, deliveries, and the kept files not yet saved."""
    v = detail.visit
    return answers.VisitAnswer(
        visit_id=v.visit_id,
        status=v.status,
        created_at=v.created_at.isoformat(),
        created_by=v.created_by,
        closed_at=v.closed_at.isoformat() if v.closed_at else None,
        closed_by=v.closed_by,
        expires_at=v.expires_at.isoformat(),
        contacts=[
            answers.VisitContact(
                position=d.position,
                kind=d.contact.kind,
                status=d.status,
                bounce=d.bounce,
                reason=d.reason,
                updated_at=d.updated_at.isoformat() if d.updated_at else None,
            )
            for d in v.deliveries
        ],
        files=answers.VisitFiles(kept=len(detail.files), unsaved=[file_entry(m, base) for m in detail.unsaved]),
    )


def closed(detail: VisitDetail, base: str) -> answers.ClosedVisit:
    """The answer to closing a visit: the visit and the reminder of what to save into the record."""
    return answers.ClosedVisit(
        visit=visit(detail, base),
        reminder=answers.Reminder(files=[file_entry(m, base) for m in detail.files], advice=ADVICE),
    )


def file_entry(message: Message, base: str) -> answers.FileEntry:
    """A kept file as the reminder lists it: who sent it, when, what, and where to get it."""
    attachment = message.attachment
    assert attachment is not None
    return answers.FileEntry(
        attachment_id=attachment.attachment_id,
        sender=message.sender,
        clinician=message.clinician,
        sent_at=message.sent_at.isoformat(),
        filename=attachment.filename,
        content_type=attachment.mime,
        family=attachment.family,
        size=attachment.size,
        download_url=f"{base}/attachments/{attachment.attachment_id}",
        saved=attachment.saved_at is not None,
        saved_at=attachment.saved_at.isoformat() if attachment.saved_at else None,
        saved_by=attachment.saved_by,
    )


def message(m: Message, base: str, me: Participant) -> answers.MessageAnswer:
    """One chat message. Text is returned exactly as written: whoever shows it must escape it."""
    a = m.attachment
    attachment = None
    if a is not None:
        ready = a.status is AttachmentStatus.READY
        attachment = answers.AttachmentAnswer(
            attachment_id=a.attachment_id,
            filename=a.filename,
            content_type=a.mime or a.declared_type,
            family=a.family,
            size=a.size if a.size is not None else a.declared_size,
            status=a.status,
            reason=a.reason.text if a.reason else None,
            reason_code=a.reason.value if a.reason else None,
            saved=a.saved_at is not None,
            url=f"{base}/attachments/{a.attachment_id}" if ready else None,
            preview_url=f"{base}/attachments/{a.attachment_id}/preview" if ready and a.has_preview else None,
        )
    return answers.MessageAnswer(
        seq=m.seq,
        sender=m.sender,
        clinician=m.clinician if me.role is Role.CLINICIAN else None,  # staff ids stay with the clinic
        mine=m.sender is me.role,
        sent_at=m.sent_at.isoformat(),
        text=m.text,
        attachment=attachment,
    )


def page(p: MessagePage, base: str, me: Participant, *, contacts: bool = False) -> answers.MessagePage:
    """A page of the chat, the cursor to ask with next, and the visit's state (with ``contacts``: whom the link
    went to, in full, for the clinician's chat page: the clinician must know whom they are talking to)."""
    state = answers.ChatState(
        status=p.visit.status,
        closed_at=p.visit.closed_at.isoformat() if p.visit.closed_at else None,
        expires_at=p.visit.expires_at.isoformat(),
    )
    if contacts and me.role is Role.CLINICIAN:
        state.contacts = [d.contact.address for d in p.visit.deliveries]
    return answers.MessagePage(
        messages=[message(m, base, me) for m in p.messages], next=p.next_after, more=p.more, visit=state
    )


def requested(r: RequestedAttachment, base: str, me: Participant) -> answers.RequestedAttachment:
    """An announced file: its id, its (pending) message, and the form to POST it with."""
    assert r.message.attachment is not None
    return answers.RequestedAttachment(
        attachment_id=r.message.attachment.attachment_id,
        message=message(r.message, base, me),
        upload=answers.PresignedPostAnswer(url=r.upload.url, fields=r.upload.fields),
    )


def redirect(url: str) -> Response:
    """302 to a short-lived pre-signed URL (never cached, never passed on as a referrer)."""
    return Response(
        body="",
        status_code=302,
        headers={"Location": url, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )

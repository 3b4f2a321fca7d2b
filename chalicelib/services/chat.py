"""Use cases of the chat itself: post a text, read the messages in order, page by page.

Messages are numbered by the visit (1, 2, 3…), so ``after`` is the cursor: a reader asks for what
came after the last number it holds. A file's message changes (pending → ready or rejected) after it
was first read, so the pages re-read from just before their oldest unsettled message (see chat.js).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.visits import Attachment, Message, Role, Visit, message_text
from chalicelib.services.deps import Deps
from chalicelib.services.visits import Participant, visit_for

DEFAULT_PAGE = 50
MAX_PAGE = 200


@dataclass(frozen=True)
class MessagePage:
    """Messages after a cursor, the cursor to ask with next, and whether more are waiting already."""

    visit: Visit
    messages: list[Message]
    next_after: int
    more: bool


def post_text(actor: Participant, visit_id: str, text: object, deps: Deps) -> Message:
    """Post a text message to an open visit; the text is kept exactly as written."""
    return append(actor, visit_id, deps, text=message_text(text))


def append(
    actor: Participant, visit_id: str, deps: Deps, *, text: str | None = None, attachment: Attachment | None = None
) -> Message:
    """Add a message (text or a file) to an open visit, numbered after the last one."""
    visit = visit_for(actor, visit_id, deps)
    now = deps.clock.now()
    visit.ensure_open(now)
    message = Message(
        visit_id=visit.visit_id,
        clinic_id=visit.clinic_id,
        seq=deps.visits.next_seq(visit.visit_id),
        sender=actor.role,
        sent_at=now,
        expires_at=visit.expires_at,
        clinician=actor.name,
        text=text,
        attachment=attachment,
    )
    deps.messages.add(message)
    return message


def list_messages(actor: Participant, visit_id: str, after: int, limit: int, deps: Deps) -> MessagePage:
    """The visit's messages numbered above ``after``, oldest first, at most ``limit``."""
    if after < 0:
        raise InvalidInput("'after' must be a message number (0 for the start)")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}")
    visit = visit_for(actor, visit_id, deps)
    rows = deps.messages.after(visit.visit_id, after, limit + 1)
    page = [settled(m, deps) for m in rows[:limit]]
    return MessagePage(visit, page, page[-1].seq if page else after, len(rows) > limit)


def mark_read(actor: Participant, page: MessagePage, deps: Deps) -> None:
    """The clinic's chat page has shown the messages up to ``page``'s cursor: the patient's are read.

    Written only when the mark rises (each poll of an idle chat writes nothing), by a conditional write that
    never lowers it (two pages polling at once).
    """
    if actor.role is Role.CLINICIAN and page.next_after > page.visit.clinician_read_seq:
        deps.visits.mark_read(page.visit.visit_id, page.next_after)


def settled(message: Message, deps: Deps) -> Message:
    """The message as it stands now (a file that never arrived shows as rejected)."""
    if message.attachment is None:
        return message
    return replace(message, attachment=message.attachment.settled(message.sent_at, deps.clock.now()))

"""Use cases of a visit as a whole: start it (and send the patient's link), open it, show it, close it.

Who may touch a visit is decided here, once, by ``visit_for``: a clinician of the visit's clinic, or
the patient holding its link. A visit of another clinic, or another visit than the one a session is
bound to, is "not found", never "forbidden": ids are not confirmed to strangers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.contacts import parse_contacts
from chalicelib.domain.deliveries import MessageOwner, OwnerKind, deliveries_for
from chalicelib.domain.errors import Forbidden, InvalidInput, NotFound
from chalicelib.domain.links import LINK_RETIRED, LinkRetired, link_token, looks_like_token, new_nonce, token_hash
from chalicelib.domain.visits import (
    AttachmentStatus,
    Message,
    Role,
    Visit,
    VisitStatus,
    new_visit_id,
    visit_expiry,
)
from chalicelib.services import notifier
from chalicelib.services.accounts import reserve_messages
from chalicelib.services.deps import Deps
from chalicelib.services.keys import sent_token
from chalicelib.services.versioned import update
from chalicelib.templating import LANGUAGES


@dataclass(frozen=True)
class Participant:
    """Who is acting on a visit: a clinician of a clinic, or a visit's patient.

    ``visit_id`` binds the participant to one visit (the patient always; a clinician in a browser
    session); a clinician calling the API with the clinic's key may act on any visit of the clinic.
    """

    role: Role
    clinic_id: str
    visit_id: str | None = None
    clinician: str | None = None

    @property
    def name(self) -> str | None:
        """The clinician's id, or None for the patient."""
        return self.clinician if self.role is Role.CLINICIAN else None


def acting_clinician(actor: Participant) -> str:
    """The clinician acting; Forbidden for the patient (closing and record-keeping are the clinic's)."""
    if actor.role is not Role.CLINICIAN or actor.clinician is None:
        raise Forbidden("Only the clinic can do this")
    return actor.clinician


def clinician(clinic_id: str, clinician_id: str, visit_id: str | None = None) -> Participant:
    """A clinician of ``clinic_id`` (bound to one visit when ``visit_id`` is given)."""
    return Participant(Role.CLINICIAN, clinic_id, visit_id, clinician_id)


def patient(visit: Visit) -> Participant:
    """The patient of a visit."""
    return Participant(Role.PATIENT, visit.clinic_id, visit.visit_id)


def visit_for(actor: Participant, visit_id: str, deps: Deps) -> Visit:
    """The visit, if ``actor`` belongs to it and it has not ended; else NotFound (or Gone once ended)."""
    if actor.visit_id is not None and actor.visit_id != visit_id:
        raise NotFound("No such visit")
    try:
        visit = deps.visits.get(visit_id)
    except NotFound:
        raise NotFound("No such visit") from None
    if visit.clinic_id != actor.clinic_id:
        raise NotFound("No such visit")
    visit.ensure_readable(deps.clock.now())
    return visit


def open_link(token: str, deps: Deps) -> Visit:
    """The visit a patient's link token opens; NotFound for a token we never made, Gone once it ended."""
    if not looks_like_token(token):
        raise NotFound("No such visit")
    visit = deps.visits.find_by_link(token_hash(token))
    visit.ensure_readable(deps.clock.now())
    return visit


def patient_link(token: str, deps: Deps) -> str:
    """The URL of a patient's link."""
    return f"{deps.visit_policy.public_base_url}/v/{token}"


def create_visit(actor: Participant, contacts: str, deps: Deps, *, language: str = "sv") -> Visit:
    """Start a visit and send the patient's link to each contact; returns the visit with each delivery.

    The visit is stored before anything is sent, and each delivery's fate after: a failing e-mail or
    SMS never loses the visit, it leaves that contact ``failed`` with the provider's error code.
    """
    created_by = acting_clinician(actor)
    if language not in LANGUAGES:
        raise InvalidInput(f"'language' must be one of {', '.join(LANGUAGES)}")
    clinic = deps.clinics.get(actor.clinic_id)
    parsed = parse_contacts(contacts, clinic.country)
    reserve_messages(clinic, len(parsed), deps)
    now = deps.clock.now()
    visit_id, nonce = new_visit_id(), new_nonce()
    token = link_token(deps.keys.key_ring().current, "visit", visit_id, nonce)
    visit = Visit(
        visit_id=visit_id,
        clinic_id=clinic.clinic_id,
        created_by=created_by,
        created_at=now,
        expires_at=visit_expiry(now, deps.visit_policy.retention_days),
        link_hash=token_hash(token),
        deliveries=deliveries_for(parsed),
        link_nonce=nonce,
        language=language,
    )
    deps.visits.add(visit)
    delivered = _send_due(visit, clinic, token, deps)
    if any(d.due for d in delivered.deliveries):
        deps.jobs.send("delivery", {"visit_id": visit.visit_id})  # the delivery worker tries again
    return delivered


class VisitDeliveriesPending(RuntimeError):
    """A visit link has not reached every contact yet and a retry may help: SQS brings the job back."""


def redeliver(visit_id: str, deps: Deps) -> Visit:
    """The delivery worker's job for a visit: send the same link again to the contacts not reached.

    A link made under a key retired since cannot be re-made: its deliveries due fail for good instead.
    """
    visit = deps.visits.get(visit_id)
    if visit.status is not VisitStatus.OPEN or not visit.link_nonce or deps.clock.now() >= visit.expires_at:
        return visit
    nonce = visit.link_nonce
    try:
        token: str | None = sent_token(visit.link_hash, lambda key: link_token(key, "visit", visit_id, nonce), deps)
    except LinkRetired:
        from chalicelib.observability import logger

        logger.warning("visit link cannot be re-made: its key was retired", extra={"visit_id": visit_id})
        token = None
    delivered = _send_due(visit, deps.clinics.get(visit.clinic_id), token, deps)
    if any(d.due for d in delivered.deliveries):
        raise VisitDeliveriesPending(visit_id)
    return delivered


def _send_due(visit: Visit, clinic: Clinic, token: str | None, deps: Deps) -> Visit:
    """Send the link to every contact due; ``token`` None: the link cannot be re-made, they fail for good."""
    now = deps.clock.now()
    if token is None:
        deliveries = notifier.unsendable(visit.deliveries, LINK_RETIRED, now)
    else:
        words = {"clinic_name": clinic.name, "link": patient_link(token, deps)}
        owner = MessageOwner(OwnerKind.VISIT, visit.visit_id)
        lang = visit.language
        message = notifier.Message(notifier.Notice.VISIT_LINK, lang, clinic.name, words, owner, visit.expires_at)
        deliveries = notifier.send_all(visit.deliveries, message, now, deps)
    outcomes = dict(zip(visit.deliveries, deliveries, strict=True))

    # Sending takes time: the outcomes go onto the visit as it is now (it may have been closed meanwhile,
    # or an event may have come for a message sent before); a delivery changed meanwhile keeps its state.
    def record(current: Visit) -> Visit:
        return replace(current, deliveries=tuple(outcomes.get(d, d) for d in current.deliveries))

    return update(deps.visits, visit.visit_id, record)


@dataclass(frozen=True)
class VisitDetail:
    """A visit with its files: which were kept, and which of those are not yet saved to the record."""

    visit: Visit
    files: list[Message]

    @property
    def unsaved(self) -> list[Message]:
        """Kept files nobody has marked as saved into the medical record yet."""
        return [m for m in self.files if m.attachment is not None and m.attachment.saved_at is None]


def visit_detail(actor: Participant, visit_id: str, deps: Deps) -> VisitDetail:
    """A visit of the actor's, with its kept files."""
    visit = visit_for(actor, visit_id, deps)
    return VisitDetail(visit, kept_files(visit, deps))


def close_visit(actor: Participant, visit_id: str, deps: Deps) -> VisitDetail:
    """Close the visit (idempotent): nothing more can be sent, and its retention period starts.

    Returns what the closing clinician is reminded of: every kept file, to save into the medical record.
    """
    closing = acting_clinician(actor)
    visit = visit_for(actor, visit_id, deps)
    now, retention_days = deps.clock.now(), deps.visit_policy.retention_days
    closed = update(deps.visits, visit.visit_id, lambda current: current.close(closing, now, retention_days))
    if closed.version != visit.version:
        deps.messages.expire(visit_id, closed.expires_at)
    return VisitDetail(closed, kept_files(closed, deps))


#: The console lists at most this many open visits (a clinic has a few dozen open at a time).
OPEN_VISITS_SHOWN = 100


@dataclass(frozen=True)
class OpenVisit:
    """An open visit as the console lists it: with how many of the patient's messages no clinician has read."""

    visit: Visit
    unread: int


def open_visits(actor: Participant, deps: Deps) -> list[OpenVisit]:
    """The actor's clinic's open visits, newest first, each with its unread count (ended ones left out)."""
    now = deps.clock.now()
    return [
        OpenVisit(v, deps.messages.count_from_patient(v.visit_id, v.clinician_read_seq))
        for v in deps.visits.open_for_clinic(actor.clinic_id, OPEN_VISITS_SHOWN)
        if now < v.expires_at
    ]


@dataclass(frozen=True)
class VisitHistory:
    """Everything a visit records about who did what, for its audit: the visit (who started and closed it,
    each contact's delivery) and every message in order (who wrote or sent each file, who saved it)."""

    visit: Visit
    messages: list[Message]


_HISTORY_PAGE = 200


def history(actor: Participant, visit_id: str, deps: Deps) -> VisitHistory:
    """A visit of the actor's clinic with all its messages, oldest first."""
    visit = visit_for(actor, visit_id, deps)
    messages: list[Message] = []
    while batch := deps.messages.after(visit.visit_id, messages[-1].seq if messages else 0, _HISTORY_PAGE):
        messages.extend(batch)
        if len(batch) < _HISTORY_PAGE:
            break
    return VisitHistory(visit, messages)


def kept_files(visit: Visit, deps: Deps) -> list[Message]:
    """The visit's files that were checked and kept, in the order they were sent."""
    return [
        m
        for m in deps.messages.attachments(visit.visit_id)
        if m.attachment is not None and m.attachment.status is AttachmentStatus.READY
    ]

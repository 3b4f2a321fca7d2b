"""Use cases of the clinician's chat page: the link the clinic's system asks for, and the session it opens.

The clinic's system asks for a link with its API key (``chat_ticket``); the link's ticket names the
visit, the clinician and that key, and carries a random id. Opening the link trades the ticket for the
page's session cookie (``redeem``), once: the id's use is recorded with a conditional write, so a
second opening, even at the same moment, is refused. The session is as strong as what made it: every
request checks again that the key is one of the clinic's and not revoked (``session_actor``), so
revoking the key ends the session at once rather than 12 hours later.

A clinician signed in to the console needs no ticket: the console opens the page's session for the member
itself (``member_session``), bound to the member instead of a key; every request checks again that the
member is enabled and still of the visit's clinic, so disabling them ends their chat at once.

Signing and reading the values is the web edge's (``api/sessions.py``); these functions take the claims
once their signature and expiry have been checked.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated
from chalicelib.domain.sessions import TICKET_LIFETIME, USED_TICKET_MARGIN, ClinicianClaims, new_ticket_id
from chalicelib.domain.staff import StaffIdentity
from chalicelib.services import staff
from chalicelib.services.deps import Deps
from chalicelib.services.visits import Participant, acting_clinician, clinician, visit_for


def chat_ticket(actor: Participant, visit_id: str, key_id: str, deps: Deps) -> tuple[ClinicianClaims, datetime]:
    """The claims of a new chat link for a visit of the actor's clinic, asked for with API key ``key_id``,
    and when the link expires."""
    name = acting_clinician(actor)
    visit = visit_for(actor, visit_id, deps)
    claims = ClinicianClaims(visit.clinic_id, visit.visit_id, name, key_id, new_ticket_id())
    return claims, deps.clock.now() + TICKET_LIFETIME


def member_session(member: StaffIdentity, visit_id: str, deps: Deps) -> ClinicianClaims:
    """The claims of a chat page session for a signed-in console member on a visit of their clinic (NotFound
    for another clinic's); the member is the clinician the visit's messages and actions name."""
    visit = visit_for(clinician(member.clinic_id, member.staff_id), visit_id, deps)
    return ClinicianClaims(visit.clinic_id, visit.visit_id, member.staff_id, "", new_ticket_id(), member.staff_id)


def redeem(ticket: ClinicianClaims, deps: Deps) -> Participant:
    """Trade a ticket, signed and unexpired, for the clinician its session stands for: once only.

    The use is recorded before anything else is checked (a refused ticket is spent too), and kept past
    the latest the ticket could expire. Raises Unauthenticated for a second use or a revoked key.
    """
    keep_until = deps.clock.now() + TICKET_LIFETIME + USED_TICKET_MARGIN
    try:
        deps.single_use.use(ticket.ticket_use, keep_until)
    except Conflict as err:
        raise Unauthenticated("The link has been used already; open the chat from the clinic's system again") from err
    return session_actor(ticket, deps)


def session_actor(claims: ClinicianClaims, deps: Deps) -> Participant:
    """The clinician a ticket or session stands for, bound to its visit, while its API key is usable (or, for a
    session opened from the console, while its member is enabled and of the clinic).

    Raises Unauthenticated when the key is unknown, another clinic's, or revoked; or the member is disabled,
    deleted or moved to another clinic.
    """
    if claims.staff_id:
        try:
            member = staff.current(claims.staff_id, claims.clinic_id, deps)
        except Unauthenticated as err:
            raise Unauthenticated("The session has ended; open the chat from the console again") from err
        return clinician(member.clinic_id, member.staff_id, claims.visit_id)
    try:
        key = deps.api_keys.get(claims.key_id)
        if key.clinic_id != claims.clinic_id:
            raise Unauthenticated("The session's key is another clinic's")
        key.ensure_active()
    except (NotFound, Forbidden, Unauthenticated) as err:  # the session is over, whichever it was
        raise Unauthenticated("The session has ended; open the chat from the clinic's system again") from err
    return clinician(claims.clinic_id, claims.clinician, claims.visit_id)

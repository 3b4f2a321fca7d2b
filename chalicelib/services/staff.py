"""Use cases of clinic staff: invite, list, disable and re-enable members; sign in through the provider's
challenges; know who a console request comes from.

A member is only ever reached through their clinic: a staff id from another clinic is NotFound, as a
share of another clinic is.
"""

from __future__ import annotations

import contextlib

from chalicelib.domain import console
from chalicelib.domain.console import ConsoleSession, SessionEnded
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.staff import (
    Challenge,
    InvalidToken,
    OwnAccount,
    Role,
    SignInStep,
    StaffIdentity,
    StaffMember,
    Tokens,
    TotpSetup,
    WrongTotpCode,
    require_admin,
    staff_email,
)
from chalicelib.services.deps import Deps

#: The codes of authenticator apps (RFC 6238, as Cognito uses it).
TOTP_DIGITS = 6


def invite(clinic_id: str, email: str, role: Role, deps: Deps, temporary_password: str | None = None) -> StaffMember:
    """Invite a member to an existing clinic; the provider e-mails a temporary password unless one is given."""
    deps.clinics.get(clinic_id)
    return deps.staff.invite(staff_email(email), clinic_id, role, temporary_password)


def members(clinic_id: str, deps: Deps) -> list[StaffMember]:
    """The clinic's staff, by e-mail address."""
    deps.clinics.get(clinic_id)
    return deps.staff.members(clinic_id)


def clinic_staff(identity: StaffIdentity, deps: Deps) -> list[StaffMember]:
    """The staff of the signed-in member's own clinic, for its administrators only."""
    require_admin(identity)
    return members(identity.clinic_id, deps)


def invite_by(admin: StaffIdentity, email: str, role: Role, deps: Deps) -> StaffMember:
    """An administrator invites a member to their own clinic (Cognito e-mails the temporary password)."""
    require_admin(admin)
    return invite(admin.clinic_id, email, role, deps)


def set_enabled_by(admin: StaffIdentity, staff_id: str, enabled: bool, deps: Deps) -> StaffMember:
    """An administrator disables or re-enables a member of their own clinic; never themselves (a clinic must not
    lose its last administrator by a slip)."""
    require_admin(admin)
    if staff_id == admin.staff_id:
        raise OwnAccount("You cannot disable or enable yourself")
    return set_enabled(admin.clinic_id, staff_id, enabled, deps)


def find(clinic_id: str, email: str, deps: Deps) -> StaffMember:
    """The clinic's member with this e-mail address; NotFound for anyone else's."""
    wanted = staff_email(email)
    for member in members(clinic_id, deps):
        if member.email == wanted:
            return member
    raise NotFound("No such staff member")


def set_enabled(clinic_id: str, staff_id: str, enabled: bool, deps: Deps) -> StaffMember:
    """Disable (ending the member's sessions at their next request) or re-enable one of the clinic's members."""
    member = deps.staff.get(staff_id)
    if member.clinic_id != clinic_id:
        raise NotFound("No such staff member")
    deps.staff.set_enabled(staff_id, enabled)
    return deps.staff.get(staff_id)


def sign_in(email: str, password: str, deps: Deps) -> SignInStep:
    """The first step of signing in: tokens, or the challenge the provider asks for."""
    return deps.staff.sign_in(staff_email(email), password)


def answer(challenge: Challenge, response: str, deps: Deps) -> SignInStep:
    """Answer the provider's challenge (a new password, a TOTP code): tokens, or the next challenge."""
    return deps.staff.answer(challenge, response)


def totp_on(identity: StaffIdentity, deps: Deps) -> bool:
    """Whether the member's sign-in asks for a TOTP code."""
    return deps.staff.get(identity.staff_id).totp


def start_totp(identity: StaffIdentity, password: str, deps: Deps) -> TotpSetup:
    """The signed-in member begins setting up an authenticator app, proving again who they are with their
    password. Raises SignInFailed for a wrong password, TotpAlreadyOn when sign-in already asks for a code."""
    return deps.staff.start_totp(identity.email, password)


def confirm_totp(identity: StaffIdentity, setup: TotpSetup, code: str, deps: Deps) -> None:
    """The member types the code their app shows: from now on sign-in asks for it. Raises WrongTotpCode."""
    code = code.strip()
    if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
        raise WrongTotpCode
    deps.staff.confirm_totp(identity.staff_id, setup, code)


def identify(tokens: Tokens, deps: Deps) -> StaffIdentity:
    """Who a completed sign-in is: the verified ID token, checked again against the account (enabled, same
    clinic and role as the token says), since a token outlives a change made after it was issued."""
    identity = deps.staff.verify(tokens.id_token, deps.clock.now())
    return current(identity.staff_id, identity.clinic_id, deps)


def current(staff_id: str, clinic_id: str, deps: Deps) -> StaffIdentity:
    """The member a console session names, read afresh: each request calls this, so a disabled member's
    session ends at their next request, and a changed role or clinic applies at once."""
    try:
        member = deps.staff.get(staff_id)
    except NotFound:
        raise InvalidToken("no such staff member") from None
    if not member.enabled or member.clinic_id != clinic_id:
        raise InvalidToken("staff member disabled or moved")
    return StaffIdentity(member.staff_id, member.email, member.clinic_id, member.role)


def open_session(tokens: Tokens, deps: Deps) -> ConsoleSession:
    """The console session of a member who has just completed sign-in."""
    identity = identify(tokens, deps)
    session = console.start(identity.staff_id, identity.clinic_id, deps.clock.now())
    record("signed_in", session)
    return session


def resume(session: ConsoleSession, deps: Deps) -> tuple[ConsoleSession, StaffIdentity]:
    """A request of a session: the session seen now (to be signed again), and the member read afresh.
    Raises SessionEnded after a timeout, or once the member is disabled or moved to another clinic."""
    touched = session.touched(deps.clock.now())
    if deps.single_use.used(_signed_out(session)):
        raise SessionEnded  # a copy of the cookie kept after sign-out
    try:
        return touched, current(session.staff_id, session.clinic_id, deps)
    except InvalidToken:
        raise SessionEnded from None


def close_session(session: ConsoleSession, deps: Deps) -> None:
    """Sign out: the session ends for every copy of its cookie (remembered until it would have timed out),
    and the member's refresh tokens are revoked (a member deleted meanwhile has none left)."""
    with contextlib.suppress(Conflict):  # signed out twice (two tabs): it has ended already
        deps.single_use.use(_signed_out(session), session.started_at + console.ABSOLUTE_TIMEOUT)
    with contextlib.suppress(NotFound):
        deps.staff.sign_out(session.staff_id)
    record("signed_out", session)


def _signed_out(session: ConsoleSession) -> str:
    return f"console-signed-out:{session.session_id}"


def record(action: str, session: ConsoleSession, **ids: str) -> None:
    """Record a console action with the staff member's and the clinic's id (ids only: never patient data)."""
    from chalicelib.observability import logger

    logger.info(
        "console action", extra={"action": action, "staff_id": session.staff_id, "clinic_id": session.clinic_id, **ids}
    )

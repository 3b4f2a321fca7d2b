"""Staff sign-in through the provider's challenges, and who a console request comes from (on the fakes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.console import SessionEnded
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.staff import Challenge, ChallengeName, InvalidToken, Role, SignInFailed, StaffMember, Tokens
from chalicelib.services import staff
from chalicelib.services.deps import Deps
from tests.fakes import FakeClock, FakeStaffDirectory

CLINIC = "cl_00000000000000aa"
OTHER = "cl_00000000000000bb"
TEMPORARY = "Temporary-Pass-1"
PERMANENT = "Permanent-Pass-2"


@pytest.fixture
def directory(deps: Deps) -> FakeStaffDirectory:
    for clinic_id in (CLINIC, OTHER):
        deps.clinics.add(Clinic(clinic_id, "Kliniken", deps.clock.now()))
    assert isinstance(deps.staff, FakeStaffDirectory)
    return deps.staff


def invited(deps: Deps, email: str = "anna@klinik.example", clinic_id: str = CLINIC) -> StaffMember:
    return staff.invite(clinic_id, email, Role.CLINICIAN, deps, temporary_password=TEMPORARY)


def first_sign_in(deps: Deps) -> Tokens:
    challenge = staff.sign_in("anna@klinik.example", TEMPORARY, deps)
    assert isinstance(challenge, Challenge)
    tokens = staff.answer(challenge, PERMANENT, deps)
    assert isinstance(tokens, Tokens)
    return tokens


def test_first_sign_in_new_password_then_totp_then_tokens_that_name_the_member(
    deps: Deps, directory: FakeStaffDirectory
) -> None:
    member = invited(deps)
    step = staff.sign_in("Anna@Klinik.example", TEMPORARY, deps)
    assert isinstance(step, Challenge)
    assert step.name is ChallengeName.NEW_PASSWORD
    with pytest.raises(InvalidInput):
        staff.answer(step, "alllowercase-and-long", deps)
    tokens = staff.answer(step, PERMANENT, deps)
    assert isinstance(tokens, Tokens)
    assert staff.identify(tokens, deps).staff_id == member.staff_id

    directory.enable_totp(member.staff_id, "123456")
    step = staff.sign_in("anna@klinik.example", PERMANENT, deps)
    assert isinstance(step, Challenge)
    assert step.name is ChallengeName.TOTP
    with pytest.raises(SignInFailed):
        staff.answer(step, "654321", deps)
    step = staff.sign_in("anna@klinik.example", PERMANENT, deps)
    assert isinstance(step, Challenge)
    tokens = staff.answer(step, "123456", deps)
    assert isinstance(tokens, Tokens)
    identity = staff.identify(tokens, deps)
    assert (identity.staff_id, identity.clinic_id, identity.role) == (member.staff_id, CLINIC, Role.CLINICIAN)


def test_a_wrong_password_and_an_unknown_address_fail_alike(deps: Deps, directory: FakeStaffDirectory) -> None:
    invited(deps)
    with pytest.raises(SignInFailed) as wrong:
        staff.sign_in("anna@klinik.example", "Wrong-Pass-123", deps)
    with pytest.raises(SignInFailed) as unknown:
        staff.sign_in("nobody@klinik.example", TEMPORARY, deps)
    assert wrong.value.message == unknown.value.message


def test_a_disabled_members_next_request_fails(deps: Deps, directory: FakeStaffDirectory) -> None:
    member = invited(deps)
    tokens = first_sign_in(deps)
    assert staff.current(member.staff_id, CLINIC, deps).email == "anna@klinik.example"
    staff.set_enabled(CLINIC, member.staff_id, False, deps)
    with pytest.raises(InvalidToken):
        staff.current(member.staff_id, CLINIC, deps)
    with pytest.raises(InvalidToken):  # a token issued before it was disabled is no way back in
        staff.identify(tokens, deps)
    staff.set_enabled(CLINIC, member.staff_id, True, deps)
    assert staff.current(member.staff_id, CLINIC, deps).staff_id == member.staff_id


def test_a_session_naming_another_clinic_is_refused(deps: Deps, directory: FakeStaffDirectory) -> None:
    member = invited(deps)
    with pytest.raises(InvalidToken):
        staff.current(member.staff_id, OTHER, deps)
    with pytest.raises(InvalidToken):
        staff.current("00000000-0000-0000-0000-000000000000", CLINIC, deps)


def test_one_clinic_cannot_list_or_disable_another_clinics_staff(deps: Deps, directory: FakeStaffDirectory) -> None:
    ours = invited(deps)
    theirs = invited(deps, "bo@syd.example", OTHER)
    assert staff.members(CLINIC, deps) == [ours]
    with pytest.raises(NotFound):
        staff.set_enabled(CLINIC, theirs.staff_id, False, deps)
    assert directory.get(theirs.staff_id).enabled is True
    with pytest.raises(NotFound):
        staff.find(CLINIC, "bo@syd.example", deps)


def test_an_expired_id_token_is_refused(deps: Deps, directory: FakeStaffDirectory, clock: FakeClock) -> None:
    invited(deps)
    tokens = first_sign_in(deps)
    clock.advance(minutes=61)
    with pytest.raises(InvalidToken):
        staff.identify(tokens, deps)


def test_a_console_session_opens_on_a_verified_sign_in_and_is_read_afresh_each_request(
    deps: Deps, directory: FakeStaffDirectory, clock: FakeClock, service_logs: Callable[[], str]
) -> None:
    member = invited(deps)
    session = staff.open_session(first_sign_in(deps), deps)
    assert (session.staff_id, session.clinic_id, session.started_at) == (member.staff_id, CLINIC, clock.now())
    clock.advance(minutes=20)
    seen, identity = staff.resume(session, deps)
    assert seen.seen_at == clock.now()
    assert identity.email == "anna@klinik.example"
    # Disabled: the very next request ends the session, though its cookie has not timed out.
    staff.set_enabled(CLINIC, member.staff_id, False, deps)
    with pytest.raises(SessionEnded):
        staff.resume(seen, deps)
    logs = service_logs()
    assert '"action":"signed_in"' in logs.replace(" ", "")
    assert member.staff_id in logs


def test_sign_out_revokes_the_members_refresh_tokens(
    deps: Deps, directory: FakeStaffDirectory, service_logs: Callable[[], str]
) -> None:
    invited(deps)
    tokens = first_sign_in(deps)
    session = staff.open_session(tokens, deps)
    staff.close_session(session, deps)
    with pytest.raises(InvalidToken):
        directory.refresh(tokens.refresh_token)
    assert '"action":"signed_out"' in service_logs().replace(" ", "")

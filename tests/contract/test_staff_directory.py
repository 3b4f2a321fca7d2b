"""The in-memory staff directory and the Cognito one (on moto's cognito-idp) pass the same checks."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.staff import (
    Challenge,
    ChallengeName,
    InvalidToken,
    Role,
    SignInFailed,
    StaffExists,
    StaffIdentity,
    Tokens,
)
from chalicelib.services.deps import Deps

pytestmark = pytest.mark.contract

CLINIC = "cl_00000000000000aa"
OTHER_CLINIC = "cl_00000000000000bb"
TEMPORARY = "Temporary-Pass-1"
PERMANENT = "Permanent-Pass-2"


def first_sign_in(deps: Deps, email: str) -> Tokens:
    step = deps.staff.sign_in(email, TEMPORARY)
    assert isinstance(step, Challenge)
    assert step.name is ChallengeName.NEW_PASSWORD
    done = deps.staff.answer(step, PERMANENT)
    assert isinstance(done, Tokens)
    return done


def test_invite_list_and_get(real_or_fake: Deps) -> None:
    admin = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    clinician = real_or_fake.staff.invite("bo@klinik.example", CLINIC, Role.CLINICIAN, TEMPORARY)
    real_or_fake.staff.invite("cilla@annan.example", OTHER_CLINIC, Role.ADMIN, TEMPORARY)
    assert (admin.clinic_id, admin.role, admin.enabled, admin.status) == (
        CLINIC,
        Role.ADMIN,
        True,
        "FORCE_CHANGE_PASSWORD",
    )
    assert real_or_fake.staff.members(CLINIC) == [admin, clinician]  # never another clinic's staff
    assert real_or_fake.staff.get(clinician.staff_id) == clinician
    with pytest.raises(StaffExists):  # a kind of its own: the console words it
        real_or_fake.staff.invite("anna@klinik.example", OTHER_CLINIC, Role.CLINICIAN, TEMPORARY)
    with pytest.raises(NotFound):
        real_or_fake.staff.get("00000000-0000-0000-0000-000000000000")


def test_first_sign_in_chooses_a_password_the_policy_accepts(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    with pytest.raises(SignInFailed):
        real_or_fake.staff.sign_in("anna@klinik.example", "Wrong-Pass-123")
    challenge = real_or_fake.staff.sign_in("anna@klinik.example", TEMPORARY)
    assert isinstance(challenge, Challenge)
    assert challenge.name is ChallengeName.NEW_PASSWORD
    with pytest.raises(InvalidInput):
        real_or_fake.staff.answer(challenge, "short")
    tokens = real_or_fake.staff.answer(challenge, PERMANENT)
    assert isinstance(tokens, Tokens)
    assert real_or_fake.staff.get(member.staff_id).status == "CONFIRMED"
    # From now on the permanent password signs in at once, and the temporary one no longer does.
    assert isinstance(real_or_fake.staff.sign_in("anna@klinik.example", PERMANENT), Tokens)
    with pytest.raises(SignInFailed):
        real_or_fake.staff.sign_in("anna@klinik.example", TEMPORARY)


def test_a_challenge_cannot_be_answered_with_a_made_up_session(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    forged = Challenge(ChallengeName.NEW_PASSWORD, member.staff_id, "x" * 40)
    with pytest.raises(SignInFailed):
        real_or_fake.staff.answer(forged, PERMANENT)


def test_the_id_token_names_the_member_until_it_expires(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.CLINICIAN, TEMPORARY)
    tokens = first_sign_in(real_or_fake, "anna@klinik.example")
    now = real_or_fake.clock.now()
    assert real_or_fake.staff.verify(tokens.id_token, now) == StaffIdentity(
        member.staff_id, "anna@klinik.example", CLINIC, Role.CLINICIAN
    )
    with pytest.raises(InvalidToken):
        real_or_fake.staff.verify(tokens.id_token, now + timedelta(hours=2))
    # The access token is not an ID token, and a changed claim breaks the signature.
    with pytest.raises(InvalidToken):
        real_or_fake.staff.verify(tokens.access_token, now)
    with pytest.raises(InvalidToken):
        real_or_fake.staff.verify(promoted_to_admin(tokens.id_token), now)


def promoted_to_admin(token: str) -> str:
    """The token with its role claim changed (a random token is changed in one character instead)."""
    parts = token.split(".")
    if len(parts) != 3:
        return token[:-1] + ("A" if token[-1] != "A" else "B")
    claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    claims["custom:role"] = "admin"
    parts[1] = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join(parts)


def test_a_disabled_member_cannot_sign_in_or_refresh_until_enabled_again(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    tokens = first_sign_in(real_or_fake, "anna@klinik.example")
    real_or_fake.staff.set_enabled(member.staff_id, False)
    assert real_or_fake.staff.get(member.staff_id).enabled is False
    with pytest.raises(SignInFailed):
        real_or_fake.staff.sign_in("anna@klinik.example", PERMANENT)
    with pytest.raises(InvalidToken):
        real_or_fake.staff.refresh(tokens.refresh_token)
    real_or_fake.staff.set_enabled(member.staff_id, True)
    assert real_or_fake.staff.get(member.staff_id).enabled is True
    assert isinstance(real_or_fake.staff.sign_in("anna@klinik.example", PERMANENT), Tokens)
    with pytest.raises(NotFound):
        real_or_fake.staff.set_enabled("00000000-0000-0000-0000-000000000000", False)


def test_sign_out_revokes_the_refresh_token(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    tokens = first_sign_in(real_or_fake, "anna@klinik.example")
    refreshed = real_or_fake.staff.refresh(tokens.refresh_token)
    assert refreshed.refresh_token == tokens.refresh_token
    assert real_or_fake.staff.verify(refreshed.id_token, real_or_fake.clock.now()).email == "anna@klinik.example"
    real_or_fake.staff.sign_out(member.staff_id)
    with pytest.raises(InvalidToken):
        real_or_fake.staff.refresh(tokens.refresh_token)
    assert isinstance(real_or_fake.staff.sign_in("anna@klinik.example", PERMANENT), Tokens)  # still a member
    with pytest.raises(NotFound):
        real_or_fake.staff.sign_out("00000000-0000-0000-0000-000000000000")


def test_a_permanent_password_signs_in_at_once(real_or_fake: Deps) -> None:
    member = real_or_fake.staff.invite("anna@klinik.example", CLINIC, Role.ADMIN, TEMPORARY)
    with pytest.raises(InvalidInput):
        real_or_fake.staff.set_password(member.staff_id, "short")
    real_or_fake.staff.set_password(member.staff_id, PERMANENT)
    assert real_or_fake.staff.get(member.staff_id).status == "CONFIRMED"
    assert isinstance(real_or_fake.staff.sign_in("anna@klinik.example", PERMANENT), Tokens)
    with pytest.raises(NotFound):
        real_or_fake.staff.set_password("00000000-0000-0000-0000-000000000000", PERMANENT)

"""Setting up an authenticator app: the in-memory staff directory and the Cognito one (on moto) agree.

moto accepts any code unless its TOTP check is switched on (``MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP``);
it is switched on here, so moto checks the codes against the secret it hands out, as Cognito does.
"""

from __future__ import annotations

import time

import pytest

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.staff import (
    Challenge,
    ChallengeName,
    Role,
    SignInFailed,
    Tokens,
    TotpAlreadyOn,
    TotpSetup,
    WrongTotpCode,
)
from chalicelib.services.deps import Deps
from tests.contract.test_staff_directory import CLINIC, PERMANENT, first_sign_in
from tests.fakes import authenticator_code

pytestmark = pytest.mark.contract

EMAIL = "anna@klinik.example"


@pytest.fixture
def directory(real_or_fake: Deps, monkeypatch: pytest.MonkeyPatch) -> Deps:
    """A confirmed member, with moto checking TOTP codes for real."""
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    real_or_fake.staff.invite(EMAIL, CLINIC, Role.ADMIN, "Temporary-Pass-1")
    first_sign_in(real_or_fake, EMAIL)
    return real_or_fake


def code_now(deps: Deps, setup: TotpSetup) -> str:
    """The code the app shows now, not in the last seconds of its 30-second step (it must still hold when the
    provider checks it)."""
    if 30 - time.time() % 30 < 3:
        time.sleep(3)
    return authenticator_code(setup.bare_secret, deps.clock.now())


def test_set_up_then_the_next_sign_in_answers_the_totp_challenge(directory: Deps) -> None:
    member = directory.staff.members(CLINIC)[0]
    assert directory.staff.get(member.staff_id).totp is False
    setup = directory.staff.start_totp(EMAIL, PERMANENT)
    assert len(setup.bare_secret) >= 8
    assert setup.access_token
    code = code_now(directory, setup)
    directory.staff.confirm_totp(member.staff_id, setup, code)
    assert directory.staff.get(member.staff_id).totp is True

    step = directory.staff.sign_in(EMAIL, PERMANENT)
    assert isinstance(step, Challenge)
    assert step.name is ChallengeName.TOTP
    assert isinstance(directory.staff.answer(step, code_now(directory, setup)), Tokens)
    # Set-up again would replace the app the member relies on: refused.
    with pytest.raises(TotpAlreadyOn):
        directory.staff.start_totp(EMAIL, PERMANENT)


def test_a_wrong_password_starts_nothing(directory: Deps) -> None:
    with pytest.raises(SignInFailed):
        directory.staff.start_totp(EMAIL, "Wrong-Pass-123")


def test_a_wrong_code_leaves_totp_off(directory: Deps) -> None:
    member = directory.staff.members(CLINIC)[0]
    setup = directory.staff.start_totp(EMAIL, PERMANENT)
    right = code_now(directory, setup)
    with pytest.raises(WrongTotpCode) as refused:
        directory.staff.confirm_totp(member.staff_id, setup, "000000" if right != "000000" else "111111")
    assert isinstance(refused.value, InvalidInput)
    assert directory.staff.get(member.staff_id).totp is False
    assert isinstance(directory.staff.sign_in(EMAIL, PERMANENT), Tokens)  # still no code asked


def test_a_made_up_access_token_confirms_nothing(directory: Deps) -> None:
    member = directory.staff.members(CLINIC)[0]
    setup = directory.staff.start_totp(EMAIL, PERMANENT)
    forged = TotpSetup("x" * 40, setup.secret)
    with pytest.raises(SignInFailed):
        directory.staff.confirm_totp(member.staff_id, forged, code_now(directory, setup))
    assert directory.staff.get(member.staff_id).totp is False

"""Setting up two-step sign-in (TOTP) in the console's Security section (in-process, on fakes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.staff import Role
from chalicelib.services.deps import Deps
from tests.api.console_helpers import CLINIC, PERMANENT, csrf_of, hidden, post, sign_in_form, signed_in_as
from tests.fakes import FakeClock, FakeStaffDirectory, authenticator_code

EMAIL = "anna@klinik.example"
EN = {"Accept-Language": "en"}


@pytest.fixture
def directory(deps: Deps) -> FakeStaffDirectory:
    assert isinstance(deps.staff, FakeStaffDirectory)
    return deps.staff


@pytest.fixture
def cookie(client: Client, deps: Deps) -> str:
    return signed_in_as(client, deps, EMAIL, Role.CLINICIAN)


def start(client: Client, cookie: str, password: str = PERMANENT) -> Any:
    """The password typed again on the Security page."""
    return post(client, "/console/security/totp", cookie, csrf=csrf_of(client, cookie), password=password)


def secret_of(html: str) -> str:
    """The secret as the page shows it for typing by hand (in groups of four)."""
    found = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert found, "no secret shown"
    return found.group(1)


def confirm(client: Client, cookie: str, setup: str, code: str) -> Any:
    return post(client, "/console/security/totp/confirm", cookie, csrf=csrf_of(client, cookie), setup=setup, code=code)


def test_every_member_reaches_the_page_from_the_bar_and_sees_totp_is_off(client: Client, cookie: str) -> None:
    landing = client.http.get("/console", headers={"Cookie": cookie, **EN}).headers["Location"]
    shell = client.http.get(landing, headers={"Cookie": cookie, **EN}).body.decode()
    assert '<a href="/console/security">Two-step sign-in</a>' in shell
    page = client.http.get("/console/security", headers={"Cookie": cookie, **EN})
    assert page.status_code == 200
    html = page.body.decode()
    assert "Two-step sign-in is off" in html
    assert 'aria-current="page">Two-step sign-in</a>' in html
    assert 'autocomplete="current-password"' in html
    swedish = client.http.get("/console/security", headers={"Cookie": cookie}).body.decode()
    assert "Tvåstegsinloggning är av" in swedish


def test_the_set_up_shows_a_qr_code_and_the_secret_but_never_the_access_token(
    client: Client, cookie: str, directory: FakeStaffDirectory
) -> None:
    page = start(client, cookie)
    assert page.status_code == 200
    html = page.body.decode()
    (access_token, secret) = next(iter(directory.totp_setups.items()))
    assert access_token not in html
    assert secret_of(html) == " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    qr = re.search(
        r'<div class="qr" role="img" aria-labelledby="scan" aria-describedby="qr-description">(.*?)</div>', html
    )
    assert qr
    assert qr.group(1).startswith("<svg")
    assert "<path" in qr.group(1)
    assert "style" not in qr.group(1)  # the CSP allows no inline style
    assert 'id="qr-description"' in html
    setup = hidden(html, "setup")
    assert access_token not in setup  # sealed, not merely signed
    assert secret not in setup


def test_the_qr_code_holds_the_key_uri() -> None:
    from chalicelib.domain.staff import TotpSetup

    setup = TotpSetup("at", "jbsw y3dp ehpk 3pxp==")
    assert setup.uri("anna@klinik.example") == (
        "otpauth://totp/patient-share:anna@klinik.example?secret=JBSWY3DPEHPK3PXP&issuer=patient-share"
    )
    assert setup.grouped_secret == "JBSW Y3DP EHPK 3PXP"


def test_the_first_code_turns_totp_on_and_the_next_sign_in_asks_for_it(
    client: Client, cookie: str, directory: FakeStaffDirectory, clock: FakeClock
) -> None:
    html = start(client, cookie).body.decode()
    secret = secret_of(html).replace(" ", "")
    code = authenticator_code(secret, clock.now())
    done = confirm(client, cookie, hidden(html, "setup"), code)
    assert done.status_code == 303
    assert done.headers["Location"] == "/console/security?enabled=1"
    page = client.http.get("/console/security?enabled=1", headers={"Cookie": cookie, **EN}).body.decode()
    assert "Two-step sign-in is now on" in page
    assert "Two-step sign-in is on:" in page
    assert 'name="password"' not in page  # nothing more to set up

    step = sign_in_form(client, EMAIL, PERMANENT)
    assert step.status_code == 200
    assert 'autocomplete="one-time-code"' in step.body.decode()
    signed = post(client, "/console/challenge", token=hidden(step.body.decode(), "token"), response=code)
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/console"


def test_a_wrong_password_is_refused_with_a_clear_message(
    client: Client, cookie: str, directory: FakeStaffDirectory
) -> None:
    refused = post(client, "/console/security/totp", cookie, csrf=csrf_of(client, cookie), password="Wrong-Pass-123")
    assert refused.status_code == 401
    assert "Fel lösenord" in refused.body.decode()
    assert 'aria-invalid="true"' in refused.body.decode()
    assert not directory.totp_setups
    assert client.http.get("/console/security", headers={"Cookie": cookie}).status_code == 200  # still signed in


def test_set_up_is_refused_once_totp_is_on(client: Client, cookie: str, directory: FakeStaffDirectory) -> None:
    member = directory.members(CLINIC)[0]
    directory.enable_totp(member.staff_id, "135790")
    assert (
        "Two-step sign-in is on:"
        in client.http.get("/console/security", headers={"Cookie": cookie, **EN}).body.decode()
    )
    refused = post(client, "/console/security/totp", cookie, csrf=csrf_of(client, cookie), password=PERMANENT)
    assert refused.status_code == 409
    assert "Tvåstegsinloggning är redan på" in refused.body.decode()


def test_a_wrong_code_is_422_and_shows_the_same_qr_code_again(
    client: Client, cookie: str, directory: FakeStaffDirectory, clock: FakeClock
) -> None:
    html = start(client, cookie).body.decode()
    setup = hidden(html, "setup")
    code = authenticator_code(secret_of(html).replace(" ", ""), clock.now())
    wrong = "000000" if code != "000000" else "111111"
    for bad in (wrong, "12345", "abcdef", ""):
        again = confirm(client, cookie, setup, bad)
        assert again.status_code == 422
        assert secret_of(again.body.decode()) == secret_of(html)
        assert "<svg" in again.body.decode()
        assert 'aria-invalid="true"' in again.body.decode()
        assert hidden(again.body.decode(), "setup") == setup  # a wrong code does not extend the set-up's life
    assert confirm(client, cookie, setup, code).status_code == 303


def test_a_set_up_older_than_five_minutes_is_refused(
    client: Client, cookie: str, directory: FakeStaffDirectory, clock: FakeClock
) -> None:
    html = start(client, cookie).body.decode()
    clock.advance(minutes=5, seconds=1)
    code = authenticator_code(secret_of(html).replace(" ", ""), clock.now())
    late = confirm(client, cookie, hidden(html, "setup"), code)
    assert late.status_code == 401
    assert "Börja om med ditt lösenord" in late.body.decode()
    assert not directory.get(directory.members(CLINIC)[0].staff_id).totp


def test_a_tampered_set_up_is_refused(client: Client, cookie: str, clock: FakeClock) -> None:
    html = start(client, cookie).body.decode()
    setup = hidden(html, "setup")
    code = authenticator_code(secret_of(html).replace(" ", ""), clock.now())
    header, key, iv, text, tag = setup.split(".")
    flipped = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]
    for forged in (".".join((header, key, iv, flipped, tag)), setup[:-4], "", "e30.forged"):
        assert confirm(client, cookie, forged, code).status_code == 401


def test_another_members_set_up_is_refused(client: Client, cookie: str, deps: Deps, clock: FakeClock) -> None:
    html = start(client, cookie).body.decode()
    code = authenticator_code(secret_of(html).replace(" ", ""), clock.now())
    other = signed_in_as(client, deps, "bo@klinik.example", Role.ADMIN)
    assert confirm(client, other, hidden(html, "setup"), code).status_code == 401
    other_clinic = signed_in_as(client, deps, "cilla@annan.example", Role.ADMIN, "cl_00000000000000bb")
    assert confirm(client, other_clinic, hidden(html, "setup"), code).status_code == 401
    assert confirm(client, cookie, hidden(html, "setup"), code).status_code == 303  # still the member's own


def test_both_steps_need_the_sessions_csrf_token(client: Client, cookie: str, clock: FakeClock) -> None:
    refused = post(client, "/console/security/totp", cookie, csrf="0" * 64, password=PERMANENT)
    assert refused.status_code == 403
    html = start(client, cookie).body.decode()
    code = authenticator_code(secret_of(html).replace(" ", ""), clock.now())
    no_token = post(client, "/console/security/totp/confirm", cookie, setup=hidden(html, "setup"), code=code)
    assert no_token.status_code == 403


def test_signed_out_the_pages_lead_to_the_sign_in(client: Client) -> None:
    assert client.http.get("/console/security").headers["Location"] == "/console/sign-in"
    assert post(client, "/console/security/totp", password=PERMANENT).status_code == 303

"""The console's sign-in through Cognito's challenges, its session cookie and sign-out (in-process, on fakes)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.accounts import Clinic
from chalicelib.domain.staff import Role, StaffMember
from chalicelib.services import staff
from chalicelib.services.deps import Deps
from tests.api.console_helpers import CLINIC, FORM, PERMANENT, TEMPORARY, hidden, post, sign_in_form, signed_in_as
from tests.fakes import FakeClock, FakeStaffDirectory

EMAIL = "anna@klinik.example"


@pytest.fixture
def member(deps: Deps) -> StaffMember:
    deps.clinics.add(Clinic(CLINIC, "Kliniken Mitt", deps.clock.now()))
    return staff.invite(CLINIC, EMAIL, Role.ADMIN, deps, temporary_password=TEMPORARY)


def sign_in(client: Client) -> str:
    """The first sign-in, through the new-password challenge: the console's cookie (name=value)."""
    challenge = sign_in_form(client, EMAIL, TEMPORARY)
    response = post(client, "/console/challenge", token=hidden(challenge.body.decode(), "token"), response=PERMANENT)
    assert response.status_code == 303
    return str(response.headers["Set-Cookie"]).split(";", 1)[0]


def test_first_sign_in_sets_a_strict_http_only_cookie_and_opens_the_console(
    client: Client, member: StaffMember
) -> None:
    form = client.http.get("/console/sign-in", headers={"Accept-Language": "en"})
    assert form.status_code == 200
    assert "form-action 'self'" in form.headers["Content-Security-Policy"]
    assert form.headers["X-Frame-Options"] == "DENY"
    assert 'for="email"' in form.body.decode()
    assert 'for="password"' in form.body.decode()

    challenge = sign_in_form(client, EMAIL, TEMPORARY)
    assert challenge.status_code == 200
    assert "Välj ett nytt lösenord" in challenge.body.decode()  # Swedish unless the browser asks otherwise
    token = hidden(challenge.body.decode(), "token")

    weak = post(client, "/console/challenge", token=token, response="short")
    assert weak.status_code == 422
    done = post(client, "/console/challenge", token=token, response=PERMANENT)
    assert done.status_code == 303
    assert done.headers["Location"] == "/console"
    cookie = done.headers["Set-Cookie"]
    start = client.http.get("/console", headers={"Cookie": cookie.split(";", 1)[0]})
    assert start.status_code == 303
    assert start.headers["Location"] == "/console/studies"  # the console opens on Studies
    assert cookie.startswith("ps_console=")
    assert "; HttpOnly" in cookie
    assert "; SameSite=Strict" in cookie
    assert "Path=/console;" in cookie
    assert "Secure" not in cookie  # the tests run as the local stack does, on http://127.0.0.1

    shell = client.http.get("/console/studies", headers={"Cookie": cookie.split(";", 1)[0], "Accept-Language": "en"})
    assert shell.status_code == 200
    assert EMAIL in shell.body.decode()
    assert "administrator" in shell.body.decode()
    assert shell.headers["Set-Cookie"].startswith("ps_console=")  # re-signed: the idle timeout starts again


def test_wrong_password_and_forged_challenge_are_refused(client: Client, member: StaffMember) -> None:
    wrong = sign_in_form(client, EMAIL, "Nope-nope-123")
    assert wrong.status_code == 401
    assert "ps_console" not in str(wrong.headers.get("Set-Cookie"))
    forged = post(client, "/console/challenge", token="e30.forged", response=PERMANENT)
    assert forged.status_code == 401
    assert client.http.get("/console").status_code == 303  # no session: to the sign-in page


def test_totp_is_asked_for_once_enabled(client: Client, member: StaffMember, deps: Deps) -> None:
    sign_in(client)
    assert isinstance(deps.staff, FakeStaffDirectory)
    deps.staff.enable_totp(member.staff_id, "246810")
    step = sign_in_form(client, EMAIL, PERMANENT)
    assert step.status_code == 200
    assert 'autocomplete="one-time-code"' in step.body.decode()
    token = hidden(step.body.decode(), "token")
    done = post(client, "/console/challenge", token=token, response="246810")
    assert done.status_code == 303


def test_a_disabled_members_session_ends_at_the_next_request(client: Client, member: StaffMember, deps: Deps) -> None:
    cookie = sign_in(client)
    assert client.http.get("/console/studies", headers={"Cookie": cookie}).status_code == 200
    staff.set_enabled(CLINIC, member.staff_id, False, deps)
    ended = client.http.get("/console/studies", headers={"Cookie": cookie})
    assert ended.status_code == 303
    assert ended.headers["Location"] == "/console/sign-in"
    assert "Max-Age=0" in ended.headers["Set-Cookie"]


def test_the_session_ends_after_its_idle_timeout(client: Client, member: StaffMember, clock: FakeClock) -> None:
    cookie = sign_in(client)
    clock.advance(minutes=29)
    again = client.http.get("/console/studies", headers={"Cookie": cookie})
    assert again.status_code == 200
    fresh = again.headers["Set-Cookie"].split(";", 1)[0]
    clock.advance(minutes=29)  # 58 minutes since sign-in, 29 since the last request
    assert client.http.get("/console/studies", headers={"Cookie": fresh}).status_code == 200
    assert (
        client.http.get("/console/studies", headers={"Cookie": cookie}).status_code == 303
    )  # the first cookie timed out


def test_sign_out_needs_the_sessions_csrf_token_and_revokes_the_refresh_tokens(
    client: Client, member: StaffMember, deps: Deps
) -> None:
    cookie = sign_in(client)
    assert isinstance(deps.staff, FakeStaffDirectory)
    refresh_tokens = set(deps.staff.refresh_tokens)
    assert refresh_tokens
    shell = client.http.get("/console/studies", headers={"Cookie": cookie})
    csrf = hidden(shell.body.decode(), "csrf")
    refused = client.http.post("/console/sign-out", headers=dict(FORM, Cookie=cookie), body="csrf=" + "0" * 64)
    assert refused.status_code == 403
    assert set(deps.staff.refresh_tokens) == refresh_tokens
    done = client.http.post("/console/sign-out", headers=dict(FORM, Cookie=cookie), body=f"csrf={csrf}")
    assert done.status_code == 303
    assert "Max-Age=0" in done.headers["Set-Cookie"]
    assert not set(deps.staff.refresh_tokens) & refresh_tokens


def test_a_sign_in_form_from_another_site_is_refused(client: Client, member: StaffMember) -> None:
    """Login CSRF: another site's form cannot sign the browser in to an account of its choosing."""
    page = client.http.get("/console/sign-in")
    token = hidden(page.body.decode(), "csrf")
    cookie = str(page.headers["Set-Cookie"]).split(";", 1)[0]
    assert "HttpOnly; SameSite=Strict" in page.headers["Set-Cookie"]
    no_cookie = post(client, "/console/sign-in", csrf=token, email=EMAIL, password=TEMPORARY)  # cross-site: none
    no_token = post(client, "/console/sign-in", cookie, email=EMAIL, password=TEMPORARY)
    other_nonce = post(
        client, "/console/sign-in", "ps_sign_in=someone-elses", csrf=token, email=EMAIL, password=TEMPORARY
    )
    for refused in (no_cookie, no_token, other_nonce):
        assert refused.status_code == 403
        assert "ps_console" not in str(refused.headers.get("Set-Cookie"))
    assert sign_in_form(client, EMAIL, TEMPORARY).status_code == 200  # from our page: the challenge


def test_a_copy_of_the_cookie_kept_after_sign_out_opens_nothing(client: Client, member: StaffMember) -> None:
    cookie = sign_in(client)
    csrf = hidden(client.http.get("/console/studies", headers={"Cookie": cookie}).body.decode(), "csrf")
    assert post(client, "/console/sign-out", cookie, csrf=csrf).status_code == 303
    again = client.http.get("/console/studies", headers={"Cookie": cookie})  # the browser forgot it; a copy did not
    assert again.status_code == 303
    assert again.headers["Location"].endswith("/console/sign-in")
    assert (
        post(client, "/console/settings/staff", cookie, csrf=csrf, email="x@y.example", role="admin").status_code == 303
    )
    assert post(client, "/console/sign-out", cookie, csrf=csrf).status_code == 303  # twice is harmless
    signed_in_again = sign_in_form(client, EMAIL, PERMANENT)
    fresh = str(signed_in_again.headers["Set-Cookie"]).split(";", 1)[0]  # the member's next session is new
    assert client.http.get("/console/studies", headers={"Cookie": fresh}).status_code == 200


def test_a_clinician_cannot_reach_settings(client: Client, member: StaffMember, deps: Deps) -> None:
    clinician = signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)
    shell = client.http.get("/console/studies", headers={"Cookie": clinician, "Accept-Language": "en"})
    assert "/console/settings" not in shell.body.decode()  # not offered…
    refused = client.http.get("/console/settings", headers={"Cookie": clinician, "Accept-Language": "en"})
    assert refused.status_code == 403  # …and not reachable
    assert "anna@klinik.example" not in refused.body.decode()
    admin = sign_in(client)
    assert "/console/settings" in client.http.get("/console/studies", headers={"Cookie": admin}).body.decode()
    assert client.http.get("/console/settings", headers={"Cookie": admin}).status_code == 200


def test_an_admin_sees_only_their_own_clinics_staff(client: Client, member: StaffMember, deps: Deps) -> None:
    ours = sign_in(client)
    signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)
    theirs = signed_in_as(client, deps, "cilla@syd.example", Role.ADMIN, clinic_id="cl_00000000000000bb")
    page = client.http.get("/console/settings", headers={"Cookie": ours}).body.decode()
    assert EMAIL in page
    assert "bo@klinik.example" in page
    assert "cilla@syd.example" not in page
    other = client.http.get("/console/settings", headers={"Cookie": theirs}).body.decode()
    assert "cilla@syd.example" in other
    assert EMAIL not in other
    assert "bo@klinik.example" not in other


def test_the_root_leads_to_the_console_and_there_is_a_favicon(client: Client, deps: Deps) -> None:
    root = client.http.get("/")
    assert root.status_code == 303
    assert root.headers["Location"] == "/console"
    assert client.http.get("/console").headers["Location"] == "/console/sign-in"
    icon = client.http.get(client.http.get("/favicon.ico").headers["Location"])
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in icon.body
    assert '<link rel="icon"' in client.http.get("/console/sign-in").body.decode()


def test_an_admin_invites_disables_and_enables_staff_of_their_clinic_only(
    client: Client, member: StaffMember, deps: Deps, service_logs: Any
) -> None:
    admin = sign_in(client)
    csrf = hidden(client.http.get("/console/settings", headers={"Cookie": admin}).body.decode(), "csrf")
    invited = post(client, "/console/settings/staff", admin, csrf=csrf, email="Bo@Klinik.example", role="clinician")
    assert invited.status_code == 303
    assert isinstance(deps.staff, FakeStaffDirectory)
    assert deps.staff.invitations == ["bo@klinik.example"]  # Cognito e-mails the temporary password
    bo = staff.find(CLINIC, "bo@klinik.example", deps)
    assert bo.role is Role.CLINICIAN
    assert f'"member_id":"{bo.staff_id}"' in service_logs().replace(" ", "")  # recorded, with the admin's id
    assert member.staff_id in service_logs()

    assert (
        post(client, f"/console/settings/staff/{bo.staff_id}/enabled", admin, csrf=csrf, enabled="0").status_code == 303
    )
    assert deps.staff.get(bo.staff_id).enabled is False
    assert (
        post(client, f"/console/settings/staff/{bo.staff_id}/enabled", admin, csrf=csrf, enabled="1").status_code == 303
    )
    assert deps.staff.get(bo.staff_id).enabled is True

    # Refused: without the session's CSRF token, an admin disabling themselves, another clinic's member.
    assert (
        post(client, f"/console/settings/staff/{bo.staff_id}/enabled", admin, csrf="x", enabled="0").status_code == 403
    )
    assert deps.staff.get(bo.staff_id).enabled is True
    own = post(client, f"/console/settings/staff/{member.staff_id}/enabled", admin, csrf=csrf, enabled="0")
    assert own.status_code == 409
    assert "Du kan inte stänga av eller aktivera dig själv." in own.body.decode()  # the page's language
    assert "yourself" not in own.body.decode()
    deps.clinics.add(Clinic("cl_00000000000000bb", "Kliniken Syd", deps.clock.now()))
    theirs = staff.invite("cl_00000000000000bb", "cilla@syd.example", Role.ADMIN, deps, temporary_password=TEMPORARY)
    other = post(client, f"/console/settings/staff/{theirs.staff_id}/enabled", admin, csrf=csrf, enabled="0")
    assert other.status_code == 404
    assert deps.staff.get(theirs.staff_id).enabled is True
    assert (
        post(client, "/console/settings/staff", admin, csrf=csrf, email="x@y.example", role="owner").status_code == 422
    )


def test_a_clinician_cannot_invite_or_disable(client: Client, member: StaffMember, deps: Deps) -> None:
    clinician = signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)
    csrf = hidden(client.http.get("/console/studies", headers={"Cookie": clinician}).body.decode(), "csrf")
    refused = post(client, "/console/settings/staff", clinician, csrf=csrf, email="eve@klinik.example", role="admin")
    assert refused.status_code == 403
    assert all(m.email != "eve@klinik.example" for m in deps.staff.members(CLINIC))
    disable = post(client, f"/console/settings/staff/{member.staff_id}/enabled", clinician, csrf=csrf, enabled="0")
    assert disable.status_code == 403
    assert deps.staff.get(member.staff_id).enabled is True


def test_an_admin_sets_changes_and_removes_the_patient_link_code_and_the_sending_settings(
    client: Client, member: StaffMember, deps: Deps
) -> None:
    admin = sign_in(client)
    page = client.http.get("/console/settings", headers={"Cookie": admin, "Accept-Language": "en"}).body.decode()
    assert "No code is required." in page
    csrf = hidden(page, "csrf")
    fields = {"link_lifetime_days": "30", "language": "en", "sms_country": "no", "daily_message_limit": "40"}
    saved = post(client, "/console/settings/links", admin, csrf=csrf, link_code="ABCD-12", **fields)
    assert saved.status_code == 303
    clinic = deps.clinics.get(CLINIC)
    assert (clinic.link_lifetime_days, clinic.language, clinic.country) == (30, "en", "NO")
    assert clinic.daily_message_limit == 40
    assert clinic.link_code_hash is not None
    assert "ABCD-12" not in clinic.link_code_hash
    swedish = {"Cookie": admin, "Accept-Language": "sv"}
    shown = client.http.get("/console/settings?saved=1", headers=swedish).body.decode()
    assert "Inställningarna är sparade." in shown
    assert "En kod krävs på alla nya länkar." in shown

    # A refused change changes nothing; a removal removes the code.
    refused = post(client, "/console/settings/links", admin, csrf=csrf, link_code="ab", **fields)
    assert refused.status_code == 422
    assert "Länkkoden måste ha 4 till 32 tecken." in refused.body.decode()  # Swedish, not the domain's English
    assert "characters" not in refused.body.decode()
    english = {**FORM, "Cookie": admin, "Accept-Language": "en"}
    body = urllib.parse.urlencode({"csrf": csrf, **fields, "daily_message_limit": "0"})
    too_few = client.http.post("/console/settings/links", headers=english, body=body).body.decode()
    assert "Messages a day must be a whole number from 1 to 20000." in too_few
    assert deps.clinics.get(CLINIC).link_code_hash == clinic.link_code_hash
    bad_number = post(client, "/console/settings/links", admin, csrf=csrf, **{**fields, "link_lifetime_days": "²"})
    assert bad_number.status_code == 422
    removed = post(client, "/console/settings/links", admin, csrf=csrf, remove_link_code="1", **fields)
    assert removed.status_code == 303
    assert deps.clinics.get(CLINIC).link_code_hash is None
    # Without the session's token, nothing changes.
    forged = post(client, "/console/settings/links", admin, csrf="x", link_code="WXYZ", **fields)
    assert forged.status_code == 403
    assert deps.clinics.get(CLINIC).link_code_hash is None


def test_a_clinician_cannot_change_the_link_settings(client: Client, member: StaffMember, deps: Deps) -> None:
    clinician = signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)
    csrf = hidden(client.http.get("/console/studies", headers={"Cookie": clinician}).body.decode(), "csrf")
    refused = post(client, "/console/settings/links", clinician, csrf=csrf, link_code="ABCD")
    assert refused.status_code == 403
    assert deps.clinics.get(CLINIC).link_code_hash is None

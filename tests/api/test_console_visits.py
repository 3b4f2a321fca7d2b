"""The console's Visits in-process on fakes: start, list with unread counts, the chat page signed in as the
member (ended when the member is disabled), the audit and closing, CSRF, and isolation between clinics."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.staff import Role
from chalicelib.services import staff
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.api.console_helpers import CLINIC, csrf_of, post, signed_in_as
from tests.fakes import FakeMailer

OTHER_CLINIC = "cl_00000000000000bb"
EN = {"Accept-Language": "en"}


def cookies(response: Any) -> dict[str, str]:
    """The cookies a response sets, by name (one Set-Cookie header, or several)."""
    raw = response.headers.get("Set-Cookie", "")
    values = raw if isinstance(raw, list) else re.split(r",\s*(?=ps_)", raw)
    return dict(v.split(";", 1)[0].split("=", 1) for v in values if v)


def start(client: Client, cookie: str, contacts: str = patient_data.EMAILS[0]) -> str:
    """A visit started from the console: its id."""
    started = post(client, "/console/visits", cookie, csrf=csrf_of(client, cookie), contacts=contacts, language="sv")
    assert started.status_code == 303, started.body
    found = re.fullmatch(r"/console/visits/(vi_[0-9a-f]+)", started.headers["Location"])
    assert found
    return found.group(1)


def patient_token(deps: Deps) -> str:
    assert isinstance(deps.mailer, FakeMailer)
    found = re.search(r"/v/([A-Za-z0-9_-]+)", deps.mailer.sent[-1].text)
    assert found
    return found.group(1)


def open_chat(client: Client, cookie: str, visit_id: str) -> str:
    """The console's way into the chat page: the clinician's chat cookie (name=value)."""
    opened = client.http.get(f"/console/visits/{visit_id}/chat", headers={"Cookie": cookie})
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"/visits/{visit_id}/chat"
    chat_cookie = cookies(opened)["ps_clinician"]
    return f"ps_clinician={chat_cookie}"


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.ADMIN])
def test_a_clinician_and_an_admin_start_a_visit_as_themselves_and_see_it_listed(
    client: Client, deps: Deps, role: Role
) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", role)
    page = client.http.get("/console/visits", headers={"Cookie": cookie, **EN})
    assert page.status_code == 200
    assert "No open visits." in page.body.decode()
    assert 'for="visit-contacts"' in page.body.decode()

    visit_id = start(client, cookie)
    member = staff.find(CLINIC, "anna@klinik.example", deps)
    assert deps.visits.get(visit_id).created_by == member.staff_id  # the member is the visit's clinician
    assert patient_token(deps)  # the link went out

    listed = client.http.get("/console/visits", headers={"Cookie": cookie, **EN}).body.decode()
    assert f"/console/visits/{visit_id}/chat" in listed
    assert patient_data.EMAILS[0] in listed
    assert "none unread" in listed


def test_a_bad_contact_is_named_by_its_position_and_what_was_typed_stays(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    refused = post(
        client,
        "/console/visits",
        cookie,
        csrf=csrf_of(client, cookie),
        contacts="a@example.org, nonsense",
        language="sv",
    )
    assert refused.status_code == 422
    html = refused.body.decode()
    assert "Kontakt 2 är varken en giltig e-postadress eller ett telefonnummer." in html  # the page's language
    assert "Contact 2" not in html
    assert 'value="a@example.org, nonsense"' in html
    assert 'aria-invalid="true"' in html
    bad_language = post(
        client, "/console/visits", cookie, csrf=csrf_of(client, cookie), contacts="a@example.org", language="xx"
    )
    assert bad_language.status_code == 422
    assert "Uppgifterna godtogs inte." in bad_language.body.decode()  # the page's language, not the domain's
    assert "must be" not in bad_language.body.decode()
    assert not deps.visits.open_for_clinic(CLINIC, 10)


def test_unread_patient_messages_until_the_clinician_opens_the_chat(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    visit_id = start(client, cookie)
    token = patient_token(deps)
    patient_page = client.http.get(f"/v/{token}")
    patient = cookies(patient_page)["ps_patient"]
    for text in ("Hej", "Bilden kommer"):
        sent = client.http.post(
            f"/v/{token}/messages",
            headers={"Content-Type": "application/json", "Cookie": f"ps_patient={patient}"},
            body=json.dumps({"text": text}),
        )
        assert sent.status_code == 201

    listed = client.http.get("/console/visits", headers={"Cookie": cookie, **EN}).body.decode()
    assert re.search(r'class="unread">2 unread<span class="visually-hidden"> messages from the patient', listed)

    chat = open_chat(client, cookie, visit_id)
    page = client.http.get(f"/visits/{visit_id}/chat", headers={"Cookie": chat, **EN})
    assert page.status_code == 200
    assert 'data-role="clinician"' in page.body.decode()
    messages = client.http.get(f"/visits/{visit_id}/chat/messages?after=0", headers={"Cookie": chat})
    assert messages.status_code == 200
    assert [m["text"] for m in messages.json_body["messages"]] == ["Hej", "Bilden kommer"]
    assert messages.json_body["visit"]["contacts"] == [patient_data.EMAILS[0]]  # the clinician knows who it is

    listed = client.http.get("/console/visits", headers={"Cookie": cookie, **EN}).body.decode()
    assert "none unread" in listed
    # The patient's own page never names the contacts.
    mine = client.http.get(f"/v/{token}/messages?after=0", headers={"Cookie": f"ps_patient={patient}"})
    assert "contacts" not in mine.json_body["visit"]


def test_the_console_chat_session_ends_at_once_when_the_member_is_disabled(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "bo@klinik.example", Role.CLINICIAN)
    visit_id = start(client, cookie)
    chat = open_chat(client, cookie, visit_id)
    said = client.http.post(
        f"/visits/{visit_id}/chat/messages",
        headers={"Content-Type": "application/json", "Cookie": chat},
        body=json.dumps({"text": "Hej från kliniken"}),
    )
    assert said.status_code == 201
    member = staff.find(CLINIC, "bo@klinik.example", deps)
    assert deps.messages.after(visit_id, 0, 10)[0].clinician == member.staff_id

    staff.set_enabled(CLINIC, member.staff_id, False, deps)
    assert client.http.get(f"/visits/{visit_id}/chat/messages", headers={"Cookie": chat}).status_code == 401
    refused = client.http.post(
        f"/visits/{visit_id}/chat/messages",
        headers={"Content-Type": "application/json", "Cookie": chat},
        body=json.dumps({"text": "still here?"}),
    )
    assert refused.status_code == 401
    assert client.http.get(f"/visits/{visit_id}/chat", headers={"Cookie": chat}).status_code == 401


def test_the_chat_cookie_made_for_one_visit_opens_no_other(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    first, second = start(client, cookie), start(client, cookie)
    chat = open_chat(client, cookie, first)
    assert client.http.get(f"/visits/{second}/chat/messages", headers={"Cookie": chat}).status_code == 401


def test_the_audit_names_who_started_wrote_and_closed_and_closing_reminds_of_the_files(
    client: Client, deps: Deps
) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    visit_id = start(client, cookie)
    token = patient_token(deps)
    patient = cookies(client.http.get(f"/v/{token}"))["ps_patient"]
    client.http.post(
        f"/v/{token}/messages",
        headers={"Content-Type": "application/json", "Cookie": f"ps_patient={patient}"},
        body=json.dumps({"text": "Hej"}),
    )
    page = client.http.get(f"/console/visits/{visit_id}", headers={"Cookie": cookie, **EN})
    assert page.status_code == 200
    html = page.body.decode()
    assert "anna@klinik.example" in html
    assert "started the visit and sent the link" in html
    assert "The patient" in html
    assert "wrote a message" in html
    assert patient_data.EMAILS[0] in html
    assert "Close the visit" in html

    closed = post(client, f"/console/visits/{visit_id}/close", cookie, csrf=csrf_of(client, cookie))
    assert closed.status_code == 303
    assert closed.headers["Location"] == f"/console/visits/{visit_id}"
    member = staff.find(CLINIC, "anna@klinik.example", deps)
    assert deps.visits.get(visit_id).closed_by == member.staff_id
    html = client.http.get(f"/console/visits/{visit_id}", headers={"Cookie": cookie, **EN}).body.decode()
    assert "closed the visit" in html
    assert "Save the files in the medical record" in html
    assert "No files were sent during the visit." in html
    assert visit_id not in client.http.get("/console/visits", headers={"Cookie": cookie}).body.decode()


def test_a_visits_deliveries_are_worded_as_a_shares_in_the_pages_language(client: Client, deps: Deps) -> None:
    from dataclasses import replace

    from chalicelib.domain.deliveries import Bounce, DeliveryStatus

    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    visit_id = start(client, cookie)
    visit = deps.visits.get(visit_id)
    (delivery,) = visit.deliveries
    bounced = replace(delivery, status=DeliveryStatus.BOUNCED, bounce=Bounce.HARD, reason="NoEmail")
    deps.visits.save(replace(visit, deliveries=(bounced,)))
    swedish = client.http.get(f"/console/visits/{visit_id}", headers={"Cookie": cookie}).body.decode()
    assert "studsade (adressen finns inte)" in swedish
    assert "NoEmail" not in swedish  # the provider's code is for the logs, not the page
    english = client.http.get(f"/console/visits/{visit_id}", headers={"Cookie": cookie, **EN}).body.decode()
    assert "bounced (the address does not exist)" in english


def test_changes_without_the_csrf_token_are_refused(client: Client, deps: Deps) -> None:
    cookie = signed_in_as(client, deps, "anna@klinik.example", Role.CLINICIAN)
    visit_id = start(client, cookie)
    assert post(client, "/console/visits", cookie, contacts="a@example.org", language="sv").status_code == 403
    assert post(client, "/console/visits", cookie, csrf="forged", contacts="a@example.org").status_code == 403
    assert post(client, f"/console/visits/{visit_id}/close", cookie).status_code == 403
    assert deps.visits.get(visit_id).closed_at is None
    assert len(deps.visits.open_for_clinic(CLINIC, 10)) == 1


def test_another_clinics_visit_is_not_found_on_every_route(client: Client, deps: Deps) -> None:
    theirs = signed_in_as(client, deps, "eva@annan.example", Role.ADMIN, OTHER_CLINIC)
    visit_id = start(client, theirs)
    for role in (Role.CLINICIAN, Role.ADMIN):
        mine = signed_in_as(client, deps, f"{role.value}@klinik.example", role)
        headers = {"Cookie": mine}
        assert visit_id not in client.http.get("/console/visits", headers=headers).body.decode()
        assert client.http.get(f"/console/visits/{visit_id}", headers=headers).status_code == 404
        chat = client.http.get(f"/console/visits/{visit_id}/chat", headers=headers)
        assert chat.status_code == 404
        assert "ps_clinician" not in cookies(chat)
        assert post(client, f"/console/visits/{visit_id}/close", mine, csrf=csrf_of(client, mine)).status_code == 404
    assert deps.visits.get(visit_id).closed_at is None


def test_signed_out_every_route_leads_to_the_sign_in(client: Client, deps: Deps) -> None:
    for path in ("/console/visits", "/console/visits/vi_00000000000000000000", "/console/visits/x/chat"):
        answer = client.http.get(path)
        assert answer.status_code == 303
        assert answer.headers["Location"] == "/console/sign-in"

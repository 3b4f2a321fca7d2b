"""The chat pages and their cookie-authenticated routes, in-process on fakes: sessions, isolation, headers."""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeClock, FakeMailer

CHAT_ROUTES = [
    ("get", "/messages"),
    ("post", "/messages"),
    ("post", "/attachments"),
    ("get", "/attachments/at_00000000000000000001"),
    ("get", "/attachments/at_00000000000000000001/preview"),
]
CLINICIAN_ONLY = [("post", "/close"), ("post", "/attachments/at_00000000000000000001/saved")]


def api(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "X-Clinician": "dr.berg"}


def json_headers(cookie: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    return headers


@pytest.fixture
def key(deps: Deps) -> str:
    return accounts.create_clinic("Kliniken Väst", deps)[1].plain_text


def new_visit(client: Client, deps: Deps, key: str) -> tuple[str, str]:
    """A visit and its patient link token (read from the e-mail, as the patient would)."""
    response = client.http.post("/visits", headers=api(key), body=json.dumps({"contacts": patient_data.EMAILS[0]}))
    assert response.status_code == 201
    assert isinstance(deps.mailer, FakeMailer)
    match = re.search(r"/v/([A-Za-z0-9_-]+)", deps.mailer.sent[-1].text)
    assert match
    return response.json_body["visit_id"], match.group(1)


def cookie_of(response: Any) -> str:
    """The ``name=value`` part of a response's Set-Cookie."""
    return str(response.headers["Set-Cookie"].split(";", 1)[0])


def open_patient(client: Client, token: str, lang: str = "sv") -> tuple[Any, str]:
    page = client.http.get(f"/v/{token}", headers={"Accept-Language": lang})
    return page, cookie_of(page)


def open_clinician(client: Client, key: str, visit_id: str) -> tuple[Any, str]:
    link = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key))
    assert link.status_code == 201
    path = link.json_body["url"].removeprefix("https://share.example.org")
    page = client.http.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    return page, cookie_of(page)


def test_the_patient_page_sets_a_strict_session_scoped_to_the_link(client: Client, deps: Deps, key: str) -> None:
    _, token = new_visit(client, deps, key)
    page, cookie = open_patient(client, token)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    set_cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("ps_patient=")
    # The tests' PUBLIC_BASE_URL is http://127.0.0.1: the only place Secure is left out.
    assert set_cookie.endswith(f"; Path=/v/{token}; Max-Age=43200; HttpOnly; SameSite=Strict")
    html = page.body.decode()
    assert '<html lang="sv">' in html
    assert "Kliniken Väst" in html
    assert f'data-api="/v/{token}"' in html
    assert '<script src="/assets/chat.js" defer></script>' in html
    assert not re.search(r"<script>(?!\s*$)", html), "no inline script"
    assert patient_data.leaked(html) == []


def test_every_page_and_route_answers_with_the_security_headers(client: Client, deps: Deps, key: str) -> None:
    visit_id, token = new_visit(client, deps, key)
    _, cookie = open_patient(client, token)
    for response in (
        client.http.get(f"/v/{token}"),
        client.http.get(f"/v/{token}/messages", headers=json_headers(cookie)),
        client.http.get(f"/v/{token}/messages"),
        client.http.get(f"/visits/{visit_id}/chat"),
        client.http.get("/v/not-a-token"),
    ):
        headers = response.headers
        assert headers["Cache-Control"] == "no-store"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Robots-Tag"] == "noindex, nofollow"
        assert headers["X-Frame-Options"] == "DENY"
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp
        assert "script-src 'self';" in csp
        assert "unsafe" not in csp
        assert "connect-src 'self' memory://chat-bucket" in csp  # uploads go to the chat bucket's origin


def test_assets_are_served_and_nothing_else(client: Client) -> None:
    script = client.http.get("/assets/chat.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "textContent" in script.body.decode()
    assert "innerHTML" not in script.body.decode()
    assert client.http.get("/assets/chat.css").headers["Content-Type"] == "text/css; charset=utf-8"
    assert client.http.get("/assets/..%2Fsettings.py").status_code == 404
    assert client.http.get("/assets/app.py").status_code == 404


@pytest.mark.parametrize(
    ("accept", "lang", "send"),
    [("en-US,en;q=0.9", "en", "Send"), ("sv", "sv", "Skicka"), ("de-DE, en;q=0.5", "en", "Send"), ("", "sv", "Skicka")],
)
def test_pages_speak_swedish_or_english_as_the_browser_asks(
    client: Client, deps: Deps, key: str, accept: str, lang: str, send: str
) -> None:
    _, token = new_visit(client, deps, key)
    html = client.http.get(f"/v/{token}", headers={"Accept-Language": accept}).body.decode()
    assert f'<html lang="{lang}">' in html
    assert f">{send}</button>" in html


def test_the_patient_chats_with_the_link_and_the_cookie_together(client: Client, deps: Deps, key: str) -> None:
    visit_id, token = new_visit(client, deps, key)
    _, cookie = open_patient(client, token)
    posted = client.http.post(f"/v/{token}/messages", headers=json_headers(cookie), body=json.dumps({"text": "Hej"}))
    assert posted.status_code == 201
    assert posted.json_body["sender"] == "patient"
    assert posted.json_body["mine"] is True
    announced = client.http.post(
        f"/v/{token}/attachments",
        headers=json_headers(cookie),
        body=json.dumps({"filename": "foto.jpg", "content_type": "image/jpeg", "size": 1234}),
    )
    assert announced.status_code == 201
    assert announced.json_body["upload"]["fields"]["key"].endswith("/upload")
    page = client.http.get(f"/v/{token}/messages", headers=json_headers(cookie)).json_body
    assert [m["sender"] for m in page["messages"]] == ["patient", "patient"]
    assert page["visit"] == {"status": "open", "closed_at": None, "expires_at": page["visit"]["expires_at"]}
    # The clinic sees the same chat, from its side.
    clinic_view = client.http.get(f"/visits/{visit_id}/messages", headers=api(key)).json_body["messages"]
    assert [m["mine"] for m in clinic_view] == [False, False]


@pytest.mark.parametrize(("method", "path"), CHAT_ROUTES)
def test_patient_routes_refuse_without_the_session_cookie(
    client: Client, deps: Deps, key: str, method: str, path: str
) -> None:
    _, token = new_visit(client, deps, key)
    response = getattr(client.http, method)(f"/v/{token}{path}", headers=json_headers(), body="{}")
    assert response.status_code == 401
    forged = getattr(client.http, method)(
        f"/v/{token}{path}", headers=json_headers("ps_patient=eyJ2aXNpdCI6InZpX3gifQ.c2ln"), body="{}"
    )
    assert forged.status_code == 401


def test_a_patients_cookie_opens_only_its_own_visit(client: Client, deps: Deps, key: str) -> None:
    first_visit, first = new_visit(client, deps, key)
    _, second = new_visit(client, deps, key)
    _, first_cookie = open_patient(client, first)
    _, second_cookie = open_patient(client, second)
    assert client.http.get(f"/v/{second}/messages", headers=json_headers(first_cookie)).status_code == 401
    assert client.http.get(f"/v/{first}/messages", headers=json_headers(second_cookie)).status_code == 401
    assert client.http.get(f"/v/{first}/messages", headers=json_headers(first_cookie)).status_code == 200
    # Nor does a clinician's session open a patient's path, or the reverse.
    _, clinician_cookie = open_clinician(client, key, first_visit)
    assert client.http.get(f"/v/{first}/messages", headers=json_headers(clinician_cookie)).status_code == 401
    assert (
        client.http.get(f"/visits/{first_visit}/chat/messages", headers=json_headers(first_cookie)).status_code == 401
    )


def test_unknown_and_ended_links(client: Client, deps: Deps, clock: FakeClock, key: str) -> None:
    visit_id, token = new_visit(client, deps, key)
    assert client.http.get(f"/v/{'A' * 43}").status_code == 404
    assert client.http.get("/v/short").status_code == 404
    client.http.post(f"/visits/{visit_id}/close", headers=api(key))
    assert client.http.get(f"/v/{token}").status_code == 200  # read-only until the retention ends
    clock.advance(days=30)
    ended = client.http.get(f"/v/{token}", headers={"Accept-Language": "en"})
    assert ended.status_code == 410
    assert "The visit has ended" in ended.body.decode()
    assert "Set-Cookie" not in ended.headers


def test_the_clinicians_ticket_becomes_a_session_for_one_visit(client: Client, deps: Deps, key: str) -> None:
    visit_id, _ = new_visit(client, deps, key)
    other_visit, _ = new_visit(client, deps, key)
    link = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key)).json_body
    assert link["url"].startswith(f"https://share.example.org/visits/{visit_id}/chat?ticket=")
    page, cookie = open_clinician(client, key, visit_id)
    assert page.status_code == 200
    assert page.headers["Set-Cookie"].endswith(
        f"; Path=/visits/{visit_id}/chat; Max-Age=43200; HttpOnly; SameSite=Strict"
    )
    assert '<html lang="en">' in page.body.decode()
    assert 'id="close-visit"' in page.body.decode()

    posted = client.http.post(
        f"/visits/{visit_id}/chat/messages", headers=json_headers(cookie), body=json.dumps({"text": "Hej!"})
    )
    assert posted.status_code == 201
    assert posted.json_body["clinician"] == "dr.berg"
    assert client.http.get(f"/visits/{other_visit}/chat/messages", headers=json_headers(cookie)).status_code == 401
    closed = client.http.post(f"/visits/{visit_id}/chat/close", headers=json_headers(cookie))
    assert closed.status_code == 200
    assert closed.json_body["visit"]["closed_by"] == "dr.berg"
    assert closed.json_body["reminder"]["files"] == []
    # A reload without the ticket is the same page (the script reads with the cookie).
    assert client.http.get(f"/visits/{visit_id}/chat").status_code == 200


def test_tickets_are_short_lived_and_bound_to_their_visit(
    client: Client, deps: Deps, clock: FakeClock, key: str
) -> None:
    visit_id, _ = new_visit(client, deps, key)
    other_visit, _ = new_visit(client, deps, key)
    url = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key)).json_body["url"]
    ticket = url.split("ticket=", 1)[1]
    assert client.http.get(f"/visits/{other_visit}/chat?ticket={ticket}").status_code == 401
    assert client.http.get(f"/visits/{visit_id}/chat?ticket={ticket[:-2]}xx").status_code == 401
    clock.advance(minutes=6)
    expired = client.http.get(f"/visits/{visit_id}/chat?ticket={ticket}")
    assert expired.status_code == 401
    assert "Set-Cookie" not in expired.headers
    assert client.http.post(f"/visits/{visit_id}/chat-link").status_code == 401  # minting needs the clinic key


def test_sessions_expire(client: Client, deps: Deps, clock: FakeClock, key: str) -> None:
    visit_id, token = new_visit(client, deps, key)
    _, patient_cookie = open_patient(client, token)
    _, clinician_cookie = open_clinician(client, key, visit_id)
    clock.advance(hours=12, seconds=1)
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(patient_cookie)).status_code == 401
    assert (
        client.http.get(f"/visits/{visit_id}/chat/messages", headers=json_headers(clinician_cookie)).status_code == 401
    )
    _, fresh = open_patient(client, token)  # opening the link again starts a new session
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(fresh)).status_code == 200


@pytest.mark.parametrize(("method", "path"), CHAT_ROUTES + CLINICIAN_ONLY)
def test_clinician_routes_refuse_without_the_session_cookie(
    client: Client, deps: Deps, key: str, method: str, path: str
) -> None:
    visit_id, _ = new_visit(client, deps, key)
    response = getattr(client.http, method)(f"/visits/{visit_id}/chat{path}", headers=json_headers(), body="{}")
    assert response.status_code == 401


def test_the_patient_cannot_close_or_mark_saved(client: Client, deps: Deps, key: str) -> None:
    _, token = new_visit(client, deps, key)
    _, cookie = open_patient(client, token)
    # There are no such patient routes at all.
    for path in ("/close", "/attachments/at_00000000000000000001/saved"):
        assert client.http.post(f"/v/{token}{path}", headers=json_headers(cookie)).status_code in (403, 404)


def test_no_link_token_or_patient_value_reaches_the_logs(
    client: Client, deps: Deps, key: str, service_logs: Any
) -> None:
    _, token = new_visit(client, deps, key)
    _, cookie = open_patient(client, token)
    client.http.post(
        f"/v/{token}/messages",
        headers=json_headers(cookie),
        body=json.dumps({"text": f"{patient_data.PATIENT_NAMES[0]} {patient_data.PHONES[0]}"}),
    )
    logs = service_logs()
    assert token not in logs
    assert cookie.split("=", 1)[1] not in logs
    assert patient_data.leaked(logs) == []


def test_a_reload_of_the_clinicians_page_checks_its_session(client: Client, deps: Deps, key: str) -> None:
    visit_id, _ = new_visit(client, deps, key)
    other_visit, _ = new_visit(client, deps, key)
    _, cookie = open_clinician(client, key, visit_id)
    reload = client.http.get(f"/visits/{visit_id}/chat", headers={"Cookie": cookie, "Accept-Language": "sv"})
    assert reload.status_code == 200
    assert "Kliniken Väst" in reload.body.decode()
    assert "Set-Cookie" not in reload.headers  # the session is not renewed by a reload
    for stale in (cookie, "ps_clinician=eyJ2aXNpdCI6InZpX3gifQ.c2ln"):
        refused = client.http.get(f"/visits/{other_visit}/chat", headers={"Cookie": stale, "Accept-Language": "sv"})
        assert refused.status_code == 401
        assert "Länken har använts eller gått ut" in refused.body.decode()
    bare = client.http.get(f"/visits/{visit_id}/chat")  # no session at all: the page without data
    assert bare.status_code == 200
    assert "Kliniken Väst" not in bare.body.decode()


def test_a_chat_link_opens_one_session_and_names_the_key_it_was_asked_for_with(
    client: Client, deps: Deps, key: str
) -> None:
    from chalicelib.api.sessions import verify
    from chalicelib.domain.sessions import Purpose

    visit_id, _ = new_visit(client, deps, key)
    url = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key)).json_body["url"]
    ticket = url.split("ticket=", 1)[1]
    claims = verify(ticket, Purpose.CLINICIAN_TICKET, deps.clock.now())
    assert claims["key"] == key.split("_")[1]
    assert len(claims["ticket"]) >= 22
    path = url.removeprefix("https://share.example.org")
    assert client.http.get(path).status_code == 200
    again = client.http.get(path)
    assert again.status_code == 401
    assert "Set-Cookie" not in again.headers


@pytest.mark.parametrize("signature", ["%C3%A9", "%E2%82%AC%F0%9F%98%80"])
def test_a_ticket_or_cookie_with_non_ascii_characters_is_refused_not_a_crash(
    client: Client, deps: Deps, key: str, signature: str
) -> None:
    visit_id, token = new_visit(client, deps, key)
    url = client.http.post(f"/visits/{visit_id}/chat-link", headers=api(key)).json_body["url"]
    payload = url.split("ticket=", 1)[1].split(".", 1)[0]
    assert client.http.get(f"/visits/{visit_id}/chat?ticket={payload}.{signature}").status_code == 401
    forged = f"ps_patient={payload}.{urllib.parse.unquote(signature)}"
    assert client.http.get(f"/v/{token}/messages", headers=json_headers(forged)).status_code == 401

"""Finding 3: the clinician's chat ticket could be replayed, and the chat session outlived a revoked key.

``GET /visits/{id}/chat?ticket=…`` traded one ticket for the ``ps_clinician`` cookie any number of
times within its 5 minutes, and the cookie kept working for 12 hours after the clinic's API key was
revoked. Now the ticket carries a random id whose use is recorded with a conditional write (a second
opening is the 401 page, and of two at the same moment exactly one wins), and the ticket and session
name the API key the link was asked for with: every request of the session reads the key again, so
revoking it ends the session at once. Driven in-process on moto.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from chalice.test import Client

from chalicelib.domain.errors import Unauthenticated
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests.races import at_once
from tests.security.chat_flow import ChatVisit, start_visit


def chat_link(visit: ChatVisit) -> str:
    """The path of a new chat link for the visit, as the clinic's system asks for it."""
    response = visit.call("post", "/chat-link")
    assert response.status_code == 201, response.body
    url = urlparse(response.json_body["url"])
    return f"{url.path}?{url.query}"


def open_page(client: Client, path: str) -> Any:
    return client.http.get(path, headers={"Accept-Language": "en"})


def session_cookie(page: Any) -> str:
    return str(page.headers["Set-Cookie"].split(";", 1)[0])


def page_calls(visit: ChatVisit) -> list[tuple[str, str]]:
    base = f"/visits/{visit.visit_id}/chat"
    return [
        ("get", base),
        ("get", f"{base}/messages"),
        ("post", f"{base}/messages"),
        ("post", f"{base}/attachments"),
        ("get", f"{base}/attachments/at_00000000000000000001"),
        ("post", f"{base}/attachments/at_00000000000000000001/saved"),
        ("post", f"{base}/close"),
    ]


def call(client: Client, method: str, path: str, cookie: str) -> Any:
    body = '{"text": "Hej", "filename": "a.pdf", "content_type": "application/pdf", "size": 10}'
    return getattr(client.http, method)(
        path, headers={"Cookie": cookie, "Content-Type": "application/json"}, body=body if method == "post" else None
    )


def test_a_chat_link_opens_the_page_once(real_deps: Deps, client: Client) -> None:
    visit = start_visit(client, real_deps)
    link = chat_link(visit)

    first = open_page(client, link)
    second = open_page(client, link)

    assert first.status_code == 200
    assert second.status_code == 401
    assert "Set-Cookie" not in second.headers
    assert "The link has been used or has expired" in second.body.decode()
    # The session the first opening started is unaffected, and a new link works once too.
    cookie = session_cookie(first)
    assert call(client, "get", f"/visits/{visit.visit_id}/chat/messages", cookie).status_code == 200
    fresh = chat_link(visit)
    assert open_page(client, fresh).status_code == 200
    assert open_page(client, fresh).status_code == 401


def test_of_two_openings_of_one_link_at_the_same_moment_exactly_one_starts_a_session(
    real_deps: Deps, client: Client, whole_requests: None
) -> None:
    # Imported here: before the fix there was no record of uses to race on (the other tests show that).
    from chalicelib.api.sessions import verify
    from chalicelib.domain.sessions import ClinicianClaims, Purpose
    from chalicelib.services import clinician_sessions

    visit = start_visit(client, real_deps)
    ticket = chat_link(visit).split("ticket=", 1)[1]
    claims = ClinicianClaims.from_claims(verify(ticket, Purpose.CLINICIAN_TICKET, real_deps.clock.now()))
    assert at_once(8, lambda: clinician_sessions.redeem(claims, real_deps), Unauthenticated) == (1, 7)


def test_revoking_the_clinics_key_ends_the_chat_session_at_once(real_deps: Deps, client: Client) -> None:
    visit = start_visit(client, real_deps)
    cookie = session_cookie(open_page(client, chat_link(visit)))
    unused_link = chat_link(visit)
    assert call(client, "get", f"/visits/{visit.visit_id}/chat/messages", cookie).status_code == 200
    assert call(client, "get", f"/visits/{visit.visit_id}/chat", cookie).status_code == 200  # a reload

    accounts.revoke_key(visit.key_id, real_deps)

    for method, path in page_calls(visit):
        assert call(client, method, path, cookie).status_code == 401, (method, path)
    assert open_page(client, unused_link).status_code == 401  # a link asked for before the revocation


def test_revoking_another_key_of_the_clinic_leaves_the_session_alone(real_deps: Deps, client: Client) -> None:
    visit = start_visit(client, real_deps)
    cookie = session_cookie(open_page(client, chat_link(visit)))
    clinic_id = real_deps.api_keys.get(visit.key_id).clinic_id
    accounts.revoke_key(accounts.create_key(clinic_id, real_deps).key.key_id, real_deps)
    assert call(client, "get", f"/visits/{visit.visit_id}/chat/messages", cookie).status_code == 200


@pytest.mark.parametrize(
    ("lang", "words"),
    [("sv", "Länken har använts eller gått ut"), ("en", "The link has been used or has expired")],
)
def test_a_used_link_says_so_in_swedish_and_english(real_deps: Deps, client: Client, lang: str, words: str) -> None:
    visit = start_visit(client, real_deps)
    link = chat_link(visit)
    client.http.get(link)
    refused = client.http.get(link, headers={"Accept-Language": lang})
    assert refused.status_code == 401
    assert words in refused.body.decode()

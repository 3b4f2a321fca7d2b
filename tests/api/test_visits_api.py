"""The clinic's visit API, in-process on fakes: start a visit, chat, announce files, close, isolation."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.visits import AttachmentStatus, RejectReason
from chalicelib.services import accounts
from chalicelib.services.deps import Deps
from tests import patient_data
from tests.fakes import FakeClock, InMemoryMessageRepository, mailer, sms

MB = 1024 * 1024


@pytest.fixture
def keys(deps: Deps) -> tuple[str, str]:
    return (
        accounts.create_clinic("Kliniken Väst", deps)[1].plain_text,
        accounts.create_clinic("Kliniken Öst", deps)[1].plain_text,
    )


def headers(key: str, clinician: str | None = "dr.berg") -> dict[str, str]:
    h = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if clinician is not None:
        h["X-Clinician"] = clinician
    return h


def call(client: Client, method: str, path: str, key: str, body: Any = None, **kw: Any) -> Any:
    return getattr(client.http, method)(
        path, headers=headers(key, **kw), body=None if body is None else json.dumps(body)
    )


def start(client: Client, key: str, contacts: str = patient_data.EMAILS[0], **extra: Any) -> dict[str, Any]:
    response = call(client, "post", "/visits", key, {"contacts": contacts, **extra})
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def link_token(text: str) -> str:
    match = re.search(r"/v/([A-Za-z0-9_-]{40,64})", text)
    assert match, "no visit link"
    return match.group(1)


def test_a_visit_sends_its_link_by_email_and_sms(client: Client, deps: Deps, keys: tuple[str, str]) -> None:
    contacts = f"{patient_data.EMAILS[0]}, {patient_data.PHONES[1]}"
    visit = start(client, keys[0], contacts)
    assert visit["status"] == "open"
    assert visit["created_by"] == "dr.berg"
    sent_at = deps.clock.now().isoformat()
    assert visit["contacts"] == [
        {"position": 1, "kind": "email", "status": "sent", "bounce": None, "reason": None, "updated_at": sent_at},
        {"position": 2, "kind": "sms", "status": "sent", "bounce": None, "reason": None, "updated_at": sent_at},
    ]
    (email,) = mailer(deps).sent
    assert email.to == patient_data.EMAILS[0]
    assert email.sender_name == "Kliniken Väst"
    assert email.subject == "Ditt besök hos Kliniken Väst"
    assert patient_data.leaked(email.subject) == []
    token = link_token(email.text)
    assert f'href="https://share.example.org/v/{token}"' in email.html
    assert token not in json.dumps(visit)
    ((phone, text),) = sms(deps).sent
    assert phone == patient_data.PHONES[0]
    assert link_token(text) == token
    assert sms(deps).checked == [patient_data.PHONES[0]]
    stored = deps.visits.get(visit["visit_id"])
    assert token not in json.dumps(stored.__dict__, default=str)


def test_english_links_and_the_clinics_country(client: Client, deps: Deps, keys: tuple[str, str]) -> None:
    client.http.put("/settings", headers=headers(keys[0]), body=json.dumps({"sms_country": "NO"}))
    start(client, keys[0], f"412 34 567, {patient_data.EMAILS[1]}", language="en")
    assert sms(deps).sent[0][0] == "+4741234567"
    assert "the chat for your visit" in sms(deps).sent[0][1]
    assert mailer(deps).sent[0].subject == "Your visit with Kliniken Väst"


def test_failed_and_opted_out_deliveries_never_lose_the_visit(
    client: Client, deps: Deps, keys: tuple[str, str]
) -> None:
    mailer(deps).failing.add(patient_data.EMAILS[1])
    sms(deps).opted_out.add(patient_data.PHONES[2])
    visit = start(client, keys[0], f"{patient_data.EMAILS[1]}, {patient_data.PHONES[2]}, {patient_data.EMAILS[0]}")
    assert [(c["status"], c["reason"]) for c in visit["contacts"]] == [
        ("failed", "MessageRejected"),
        ("opted_out", None),
        ("sent", None),
    ]
    assert sms(deps).sent == []
    again = call(client, "get", f"/visits/{visit['visit_id']}", keys[0]).json_body
    assert again["contacts"] == visit["contacts"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"contacts": f"{patient_data.EMAILS[0]}, astrid@"}, 422, "contact 2 is not a valid e-mail address or phone"),
        ({"contacts": 7}, 422, "Expected `str`, got `int` - at `$.contacts`"),
        ({"contacts": patient_data.EMAILS[0], "language": "de"}, 422, "'language'"),
    ],
)
def test_bad_visit_requests(
    client: Client,
    keys: tuple[str, str],
    body: dict[str, Any],
    status: int,
    says: str,
    service_logs: Callable[[], str],
) -> None:
    response = call(client, "post", "/visits", keys[0], body)
    assert response.status_code == status
    assert says in response.json_body["Message"]
    assert patient_data.leaked(response.body.decode()) == []
    assert patient_data.leaked(service_logs()) == []


def test_acting_needs_the_clinicians_name(client: Client, keys: tuple[str, str]) -> None:
    response = call(client, "post", "/visits", keys[0], {"contacts": patient_data.EMAILS[0]}, clinician=None)
    assert response.status_code == 422
    assert "X-Clinician" in response.json_body["Message"]
    spaced = call(client, "post", "/visits", keys[0], {"contacts": patient_data.EMAILS[0]}, clinician="a b")
    assert spaced.status_code == 422
    assert client.http.post("/visits", body="{}", headers={"Content-Type": "application/json"}).status_code == 401


def test_messages_are_ordered_paged_and_kept_as_written(client: Client, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    texts = ["<script>alert(1)</script>", "  two  ", "tre & fyra"]
    for text in texts:
        response = call(client, "post", f"/visits/{visit_id}/messages", keys[0], {"text": text})
        assert response.status_code == 201
        assert response.json_body["mine"] is True
    first = call(client, "get", f"/visits/{visit_id}/messages?limit=2", keys[0]).json_body
    assert [m["text"] for m in first["messages"]] == texts[:2]
    assert (first["next"], first["more"]) == (2, True)
    rest = call(client, "get", f"/visits/{visit_id}/messages?after={first['next']}", keys[0]).json_body
    assert [m["text"] for m in rest["messages"]] == texts[2:]
    assert (rest["next"], rest["more"]) == (3, False)
    assert rest["messages"][0] == {
        "seq": 3,
        "sender": "clinician",
        "clinician": "dr.berg",
        "mine": True,
        "sent_at": FakeClock().now().isoformat(),
        "text": "tre & fyra",
        "attachment": None,
    }
    empty = call(client, "get", f"/visits/{visit_id}/messages?after=3", keys[0]).json_body
    assert (empty["messages"], empty["next"]) == ([], 3)


@pytest.mark.parametrize(
    ("query", "says"),
    [("after=-1", "`$.after`"), ("limit=0", "`$.limit`"), ("limit=500", "`$.limit`"), ("after=x", "`$.after`")],
)
def test_bad_page_parameters(client: Client, keys: tuple[str, str], query: str, says: str) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    response = call(client, "get", f"/visits/{visit_id}/messages?{query}", keys[0])
    assert response.status_code == 422
    assert says in response.json_body["Message"]


@pytest.mark.parametrize("text", ["", "   ", None, 5, "x" * 4001])
def test_bad_texts_are_refused(client: Client, keys: tuple[str, str], text: Any) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    assert call(client, "post", f"/visits/{visit_id}/messages", keys[0], {"text": text}).status_code == 422


def announce(client: Client, key: str, visit_id: str, **overrides: Any) -> Any:
    body = {"filename": "röntgen bild.jpg", "content_type": "image/jpeg", "size": 2 * MB, **overrides}
    return call(client, "post", f"/visits/{visit_id}/attachments", key, body)


def test_announcing_a_file_gives_a_presigned_post_and_a_pending_message(
    client: Client, deps: Deps, keys: tuple[str, str]
) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    response = announce(client, keys[0], visit_id, content_type="image/JPG")
    assert response.status_code == 201
    body = response.json_body
    aid = body["attachment_id"]
    visit = deps.visits.get(visit_id)
    assert body["upload"] == {
        "url": "memory://chat-bucket",
        "fields": {
            "key": f"attachments/{visit.clinic_id}/{visit_id}/{aid}/upload",
            "max_bytes": str(10 * MB),
            "expires_s": "124",  # a minute to start, and 2 MiB at 256 kbit/s
            "Content-Type": "image/jpeg",
        },
    }
    attachment = body["message"]["attachment"]
    assert attachment["status"] == "pending"
    assert attachment["filename"] == "röntgen bild.jpg"
    assert attachment["url"] is None
    listed = call(client, "get", f"/visits/{visit_id}/messages", keys[0]).json_body["messages"]
    assert listed == [body["message"]]


@pytest.mark.parametrize(
    ("overrides", "status", "says"),
    [
        ({"size": 10 * MB + 1}, 413, "10 MB"),
        ({"size": 11 * MB}, 413, "10 MB"),
        ({"content_type": "audio/mpeg"}, 415, "audio files cannot be sent"),
        ({"content_type": "audio/wav", "filename": "röst.jpg"}, 415, "audio files cannot be sent"),
        ({"content_type": "application/zip"}, 415, "this type of file cannot be sent"),
        ({"content_type": "image/svg+xml"}, 415, "this type of file cannot be sent"),
        ({"content_type": "text/html"}, 415, "this type of file cannot be sent"),
        ({"size": 0}, 422, "at least 1 byte"),
        ({"size": "big"}, 422, "`$.size`"),
        ({"filename": "../"}, 422, "'filename'"),
        ({"filename": None}, 422, "`$.filename`"),
    ],
)
def test_files_refused_at_once(
    client: Client, deps: Deps, keys: tuple[str, str], overrides: dict[str, Any], status: int, says: str
) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    response = announce(client, keys[0], visit_id, **overrides)
    assert response.status_code == status
    assert says in response.json_body["Message"]
    assert deps.messages.attachments(visit_id) == []


def test_exactly_10_mb_may_be_announced(client: Client, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    assert announce(client, keys[0], visit_id, size=10 * MB).status_code == 201


def test_the_filename_loses_its_folders_and_control_characters(client: Client, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    response = announce(client, keys[0], visit_id, filename="C:\\Users\\x\\../bild\x00\u202e.jpg")
    assert response.json_body["message"]["attachment"]["filename"] == "bild.jpg"


def make_ready(deps: Deps, visit_id: str, aid: str, family: str = "image", mime: str = "image/jpeg") -> None:
    message = deps.messages.attachment(visit_id, aid)
    assert message.attachment is not None
    ready = message.attachment.ready(mime, family, 1000, has_preview=family != "document")  # type: ignore[arg-type]
    deps.messages.save_attachment(message, ready)


def test_downloads_redirect_to_short_presigned_urls(client: Client, deps: Deps, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    photo = announce(client, keys[0], visit_id, filename="bild ö.jpg").json_body["attachment_id"]
    letter = announce(client, keys[0], visit_id, filename="remiss.pdf", content_type="application/pdf").json_body[
        "attachment_id"
    ]
    pending = call(client, "get", f"/visits/{visit_id}/attachments/{photo}", keys[0])
    assert pending.status_code == 409
    make_ready(deps, visit_id, photo)
    make_ready(deps, visit_id, letter, "document", "application/pdf")
    clinic = deps.visits.get(visit_id).clinic_id

    image = call(client, "get", f"/visits/{visit_id}/attachments/{photo}", keys[0])
    assert image.status_code == 302
    assert image.headers["Location"] == (
        f"memory://chat-bucket/attachments/{clinic}/{visit_id}/{photo}/file?expires=300"
        "&disposition=inline:bild%20%C3%B6.jpg&type=image%2Fjpeg"
    )
    assert image.headers["Cache-Control"] == "no-store"
    document = call(client, "get", f"/visits/{visit_id}/attachments/{letter}", keys[0])
    assert document.headers["Location"].endswith("&disposition=attachment:remiss.pdf&type=application%2Fpdf")
    preview = call(client, "get", f"/visits/{visit_id}/attachments/{photo}/preview", keys[0])
    assert (
        preview.headers["Location"]
        == f"memory://chat-bucket/attachments/{clinic}/{visit_id}/{photo}/preview.jpg?expires=300&type=image%2Fjpeg"
    )
    assert call(client, "get", f"/visits/{visit_id}/attachments/{letter}/preview", keys[0]).status_code == 404

    listed = call(client, "get", f"/visits/{visit_id}/messages", keys[0]).json_body["messages"]
    assert listed[0]["attachment"]["url"] == f"https://share.example.org/visits/{visit_id}/attachments/{photo}"
    assert listed[0]["attachment"]["preview_url"].endswith(f"/attachments/{photo}/preview")


def test_a_rejected_file_is_gone_and_says_why(client: Client, deps: Deps, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    aid = announce(client, keys[0], visit_id).json_body["attachment_id"]
    message = deps.messages.attachment(visit_id, aid)
    assert message.attachment is not None
    deps.messages.save_attachment(message, message.attachment.rejected(RejectReason.AUDIO))
    assert call(client, "get", f"/visits/{visit_id}/attachments/{aid}", keys[0]).status_code == 410
    (listed,) = call(client, "get", f"/visits/{visit_id}/messages", keys[0]).json_body["messages"]
    assert listed["attachment"]["status"] == "rejected"
    assert listed["attachment"]["reason"] == "audio files cannot be sent"
    assert listed["attachment"]["reason_code"] == "audio"


def test_a_file_that_never_arrives_shows_as_rejected(client: Client, clock: FakeClock, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    announce(client, keys[0], visit_id)
    clock.advance(minutes=31)
    (listed,) = call(client, "get", f"/visits/{visit_id}/messages", keys[0]).json_body["messages"]
    assert (listed["attachment"]["status"], listed["attachment"]["reason_code"]) == ("rejected", "not_received")


def test_closing_reminds_of_every_kept_file_and_marks_them_saved(
    client: Client, deps: Deps, clock: FakeClock, keys: tuple[str, str]
) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    kept = announce(client, keys[0], visit_id).json_body["attachment_id"]
    refused = announce(client, keys[0], visit_id, filename="b.jpg").json_body["attachment_id"]
    make_ready(deps, visit_id, kept)
    message = deps.messages.attachment(visit_id, refused)
    assert message.attachment is not None
    deps.messages.save_attachment(message, message.attachment.rejected(RejectReason.TYPE))
    unsaved = call(client, "get", f"/visits/{visit_id}", keys[0]).json_body["files"]["unsaved"]
    assert [f["attachment_id"] for f in unsaved] == [kept]

    clock.advance(hours=1)
    response = call(client, "post", f"/visits/{visit_id}/close", keys[0], clinician="dr.holm")
    assert response.status_code == 200
    closed = response.json_body
    assert closed["visit"]["status"] == "closed"
    assert closed["visit"]["closed_by"] == "dr.holm"
    assert closed["visit"]["expires_at"] == (clock.now() + timedelta(days=30)).isoformat()
    (entry,) = closed["reminder"]["files"]
    assert entry == {
        "attachment_id": kept,
        "sender": "clinician",
        "clinician": "dr.berg",
        "sent_at": FakeClock().now().isoformat(),
        "filename": "röntgen bild.jpg",
        "content_type": "image/jpeg",
        "family": "image",
        "size": 1000,
        "download_url": f"https://share.example.org/visits/{visit_id}/attachments/{kept}",
        "saved": False,
        "saved_at": None,
        "saved_by": None,
    }
    assert "Radera" in closed["reminder"]["advice"]["sv"]
    assert "delete" in closed["reminder"]["advice"]["en"]
    assert isinstance(deps.messages, InMemoryMessageRepository)
    assert {m.expires_at for m in deps.messages.rows.values()} == {clock.now() + timedelta(days=30)}

    # Nothing more can be sent; reading and downloading go on until the retention ends.
    assert call(client, "post", f"/visits/{visit_id}/messages", keys[0], {"text": "hej"}).status_code == 409
    assert announce(client, keys[0], visit_id).status_code == 409
    assert call(client, "get", f"/visits/{visit_id}/attachments/{kept}", keys[0]).status_code == 302
    # Closing again changes nothing.
    again = call(client, "post", f"/visits/{visit_id}/close", keys[0]).json_body
    assert again["visit"]["closed_by"] == "dr.holm"

    saved = call(client, "post", f"/visits/{visit_id}/attachments/{kept}/saved", keys[0])
    assert saved.status_code == 200
    assert saved.json_body["attachment"]["saved"] is True
    detail = call(client, "get", f"/visits/{visit_id}", keys[0]).json_body
    assert detail["files"] == {"kept": 1, "unsaved": []}
    assert call(client, "post", f"/visits/{visit_id}/attachments/{refused}/saved", keys[0]).status_code == 409


def test_after_the_retention_period_everything_is_gone(
    client: Client, deps: Deps, clock: FakeClock, keys: tuple[str, str]
) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    aid = announce(client, keys[0], visit_id).json_body["attachment_id"]
    make_ready(deps, visit_id, aid)
    call(client, "post", f"/visits/{visit_id}/close", keys[0])
    clock.advance(days=30)
    for path in ("", "/messages", f"/attachments/{aid}"):
        assert call(client, "get", f"/visits/{visit_id}{path}", keys[0]).status_code == 410, path


def test_an_unclosed_visit_ends_too(client: Client, clock: FakeClock, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    clock.advance(days=59)
    assert call(client, "get", f"/visits/{visit_id}", keys[0]).status_code == 200
    clock.advance(days=1)
    assert call(client, "get", f"/visits/{visit_id}", keys[0]).status_code == 410


def test_no_clinic_reaches_another_clinics_visit(client: Client, deps: Deps, keys: tuple[str, str]) -> None:
    visit_id = start(client, keys[0])["visit_id"]
    aid = announce(client, keys[0], visit_id).json_body["attachment_id"]
    make_ready(deps, visit_id, aid)
    other = keys[1]
    for method, path, body in [
        ("get", f"/visits/{visit_id}", None),
        ("get", f"/visits/{visit_id}/messages", None),
        ("post", f"/visits/{visit_id}/messages", {"text": "hej"}),
        ("post", f"/visits/{visit_id}/attachments", {"filename": "a.jpg", "content_type": "image/jpeg", "size": 9}),
        ("get", f"/visits/{visit_id}/attachments/{aid}", None),
        ("get", f"/visits/{visit_id}/attachments/{aid}/preview", None),
        ("post", f"/visits/{visit_id}/attachments/{aid}/saved", None),
        ("post", f"/visits/{visit_id}/chat-link", None),
        ("post", f"/visits/{visit_id}/close", None),
    ]:
        response = call(client, method, path, other, body)
        assert response.status_code == 404, (method, path)
    assert deps.visits.get(visit_id).status.value == "open"
    assert [m.seq for m in deps.messages.after(visit_id, 0, 10)] == [1]
    message = deps.messages.attachment(visit_id, aid)
    assert message.attachment is not None
    assert message.attachment.status is AttachmentStatus.READY
    assert message.attachment.saved_at is None


def test_another_clinics_attachment_id_under_ones_own_visit_is_404(
    client: Client, deps: Deps, keys: tuple[str, str]
) -> None:
    mine = start(client, keys[0])["visit_id"]
    theirs = start(client, keys[1])["visit_id"]
    aid = announce(client, keys[1], theirs).json_body["attachment_id"]
    make_ready(deps, theirs, aid)
    assert call(client, "get", f"/visits/{mine}/attachments/{aid}", keys[0]).status_code == 404

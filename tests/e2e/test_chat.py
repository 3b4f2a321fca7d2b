"""The visit chat over the running local stack: links by e-mail and SMS, real files through pre-signed
POSTs to S3 (moto) and the attachment worker, downloads, closing, and who may reach what."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests import patient_data
from tests.e2e.chat_helpers import MB, Visit, clinician_headers, start_visit
from tests.e2e.conftest import Stack
from tests.unit.media import samples

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return samples.chat_files(tmp_path_factory.mktemp("chat-files"))


@pytest.fixture(scope="module")
def visit(stack: Stack) -> Visit:
    return start_visit(stack)


def test_the_link_reaches_the_patient_by_email_and_sms_with_clickable_links(stack: Stack, visit: Visit) -> None:
    _, _, body = stack.request("GET", "/_local/outbox", headers={"Accept": "application/json"})
    messages = json.loads(body)["messages"]
    email = next(m for m in messages if m["kind"] == "email" and visit.link in m["links"])
    sms = next(m for m in messages if m["kind"] == "sms" and visit.link in m["links"])
    assert email["to"] == [patient_data.EMAILS[0]]
    assert "Demo Clinic" in email["sender"]
    assert email["subject"] == "Ditt besök hos Demo Clinic"
    assert patient_data.leaked(email["subject"]) == []
    assert f'href="{visit.link}"' in (email["html"] or "")
    assert sms["to"] == [patient_data.PHONES[0]]
    page = stack.request("GET", "/_local/outbox")[2].decode()
    assert f'<a href="{visit.link}">' in page
    detail = visit.clinic("GET", "").json()
    assert [(c["kind"], c["status"]) for c in detail["contacts"]] == [("email", "sent"), ("sms", "sent")]


def test_the_patients_page_starts_a_strict_session(visit: Visit) -> None:
    fresh = requests.get(visit.link, timeout=30)
    assert fresh.status_code == 200
    cookie = fresh.headers["Set-Cookie"]
    assert cookie.startswith("ps_patient=")
    assert f"Path=/v/{visit.token};" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1 only; https everywhere else
    for header, value in {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex, nofollow",
    }.items():
        assert fresh.headers[header] == value
    assert "script-src 'self'" in fresh.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in fresh.headers["Content-Security-Policy"]
    assert "<script>" not in fresh.text  # no inline script: only the JSON words block and chat.js
    without_cookie = requests.get(f"{visit.link}/messages", timeout=30)
    assert without_cookie.status_code == 401


@pytest.mark.parametrize(
    ("sample", "name", "declared", "status", "reason"),
    [
        ("jpeg", "foto med gps.jpg", "image/jpeg", "ready", None),
        ("png", "skärmbild.png", "image/png", "ready", None),
        ("mp4", "film.mp4", "video/mp4", "ready", None),
        ("pdf", "remiss.pdf", "application/pdf", "ready", None),
        ("10mb", "exakt 10 MB.pdf", "application/pdf", "ready", None),
        ("wav", "röstmeddelande.jpg", "image/jpeg", "rejected", "audio"),
        ("mp3", "låt.jpg", "image/jpeg", "rejected", "audio"),
    ],
)
def test_files_are_judged_by_their_bytes_after_the_upload(
    visit: Visit, files: dict[str, bytes], sample: str, name: str, declared: str, status: str, reason: str | None
) -> None:
    attachment_id = visit.send_file(name, declared, files[sample])
    settled = visit.settled(attachment_id)
    assert (settled["status"], settled["reason_code"]) == (status, reason)
    assert settled["filename"] == name
    download = visit.as_patient("GET", f"/attachments/{attachment_id}")
    if status == "ready":
        assert download.status_code == 302
        served = requests.get(download.headers["Location"], timeout=30)
        assert served.status_code == 200
        assert len(served.content) == settled["size"]
    else:
        assert download.status_code == 410
        assert settled["reason"] == "audio files cannot be sent"


def test_a_file_over_10_mb_is_refused_at_once_and_again_when_it_lies_about_its_size(
    visit: Visit, files: dict[str, bytes]
) -> None:
    refused = visit.announce("för stor.pdf", "application/pdf", 11 * MB)
    assert refused.status_code == 413
    # moto does not enforce the POST policy's size range; the worker measures the stored bytes.
    attachment_id = visit.send_file("för stor.pdf", "application/pdf", files["11mb"], declared_size=10 * MB)
    assert visit.settled(attachment_id)["reason_code"] == "too_large"


@pytest.mark.parametrize("declared", ["audio/wav", "audio/mpeg", "audio/x-m4a"])
def test_audio_is_refused_at_once(visit: Visit, declared: str) -> None:
    response = visit.announce("röst.m4a", declared, 1000)
    assert response.status_code == 415
    assert response.json()["Message"] == "audio files cannot be sent"


def test_a_downloaded_jpeg_has_no_gps_or_any_exif_left(visit: Visit, files: dict[str, bytes]) -> None:
    attachment_id = visit.send_file("plats.jpg", "image/jpeg", files["jpeg"])
    assert visit.settled(attachment_id)["status"] == "ready"
    for side in (visit.as_patient("GET", f"/attachments/{attachment_id}"),
                 visit.clinic("GET", f"/attachments/{attachment_id}")):  # fmt: skip
        assert side.status_code == 302
        served = requests.get(side.headers["Location"], timeout=30)
        assert served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["Content-Disposition"].startswith('inline; filename="plats.jpg"')
        picture = Image.open(io.BytesIO(served.content))
        assert dict(picture.getexif()) == {}
        assert "exif" not in picture.info
        assert samples.GPS_DATUM.encode() not in served.content
        assert samples.CAMERA_OWNER.encode() not in served.content
        assert picture.size == (40, 80)  # turned upright
    preview = visit.as_patient("GET", f"/attachments/{attachment_id}/preview")
    assert requests.get(preview.headers["Location"], timeout=30).content[:2] == b"\xff\xd8"


def test_documents_download_as_attachments_under_their_own_name(visit: Visit, files: dict[str, bytes]) -> None:
    attachment_id = visit.send_file("Remiss åäö.pdf", "application/pdf", files["pdf"])
    visit.settled(attachment_id)
    redirect = visit.clinic("GET", f"/attachments/{attachment_id}")
    served = requests.get(redirect.headers["Location"], timeout=30)
    assert served.headers["Content-Disposition"] == (
        "attachment; filename=\"Remiss ___.pdf\"; filename*=UTF-8''Remiss%20%C3%A5%C3%A4%C3%B6.pdf"
    )


def test_a_text_file_downloads_as_text_under_the_extension_of_its_type(visit: Visit) -> None:
    attachment_id = visit.send_file("provsvar.hta", "text/plain", b"Provsvar\r\nHb 134 g/L\r\n")
    assert visit.settled(attachment_id)["status"] == "ready"
    location = visit.as_patient("GET", f"/attachments/{attachment_id}").headers["Location"]
    # The type and the name are S3's response overrides, signed into the URL.
    assert "response-content-type=text%2Fplain" in location
    assert "response-content-disposition=attachment" in location
    served = requests.get(location, timeout=30)
    assert served.headers["Content-Type"] == "text/plain"
    assert served.headers["Content-Disposition"] == (
        "attachment; filename=\"provsvar.txt\"; filename*=UTF-8''provsvar.txt"
    )


def test_messages_go_both_ways_in_order(visit: Visit) -> None:
    visit.clinic("POST", "/messages", {"text": "Hej! Skicka gärna en bild."})
    visit.as_patient("POST", "/messages", {"text": "<b>Här</b> kommer den"})
    messages = visit.as_patient("GET", "/messages?limit=200").json()["messages"]
    texts = [(m["sender"], m["text"]) for m in messages if m["text"]]
    assert texts[-2:] == [("clinician", "Hej! Skicka gärna en bild."), ("patient", "<b>Här</b> kommer den")]
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(seqs)
    assert all(m["clinician"] is None for m in messages)  # staff ids stay with the clinic


def test_neither_side_reaches_another_visit_and_no_clinic_another_clinics(
    stack: Stack, visit: Visit, files: dict[str, bytes]
) -> None:
    mine = visit.send_file("min.pdf", "application/pdf", files["pdf"])
    visit.settled(mine)
    other = start_visit(stack)
    theirs = other.send_file("deras.pdf", "application/pdf", files["pdf"])
    other.settled(theirs)

    # The other visit's patient: their cookie does not open this visit's paths, nor its files under theirs.
    assert other.patient.get(f"{visit.link}/messages", timeout=30).status_code == 401
    assert other.patient.get(f"{visit.link}/attachments/{mine}", timeout=30, allow_redirects=False).status_code == 401
    assert other.as_patient("GET", f"/attachments/{mine}").status_code == 404
    assert visit.as_patient("GET", f"/attachments/{theirs}").status_code == 404
    # The clinic's API, with a visit id and another visit's file.
    assert visit.clinic("GET", f"/attachments/{theirs}").status_code == 404

    # Another clinic's key reaches nothing of the demo clinic's.
    stranger = stack.new_clinic("Kliniken Främling")
    for method, path in [("GET", ""), ("GET", "/messages"), ("GET", f"/attachments/{mine}"), ("POST", "/close")]:
        response = requests.request(
            method, f"{stack.base_url}/visits/{visit.visit_id}{path}", headers=clinician_headers(stranger),
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert response.status_code == 404, (method, path)

    # A made-up link is 404, as is a shape that is not a token at all.
    assert requests.get(f"{stack.base_url}/v/{'A' * 43}", timeout=30).status_code == 404
    assert requests.get(f"{stack.base_url}/v/short", timeout=30).status_code == 404


def test_closing_reminds_of_the_files_and_stops_the_chat(stack: Stack, files: dict[str, bytes]) -> None:
    visit = start_visit(stack)
    kept = visit.send_file("sår.jpg", "image/jpeg", files["jpeg"])
    visit.settled(kept)
    refused = visit.send_file("ljud.jpg", "image/jpeg", files["wav"])
    visit.settled(refused)
    closed = visit.clinic("POST", "/close", clinician="dr.holm")
    assert closed.status_code == 200
    body = closed.json()
    assert body["visit"]["status"] == "closed"
    assert [f["attachment_id"] for f in body["reminder"]["files"]] == [kept]
    entry = body["reminder"]["files"][0]
    assert (entry["sender"], entry["filename"], entry["content_type"]) == ("patient", "sår.jpg", "image/jpeg")
    assert entry["download_url"] == f"{stack.base_url}/visits/{visit.visit_id}/attachments/{kept}"
    assert requests.get(entry["download_url"], headers=clinician_headers(visit.key), allow_redirects=False,
                        timeout=30).status_code == 302  # fmt: skip
    assert visit.as_patient("POST", "/messages", {"text": "hallå?"}).status_code == 409
    assert visit.announce("a.pdf", "application/pdf", 10).status_code == 409
    assert visit.as_patient("GET", "/messages").json()["visit"]["status"] == "closed"
    assert visit.clinic("POST", f"/attachments/{kept}/saved").json()["attachment"]["saved"] is True
    assert visit.clinic("GET", "").json()["files"] == {"kept": 1, "unsaved": []}


def test_a_form_handed_out_before_the_close_adds_nothing_after_it(stack: Stack, files: dict[str, bytes]) -> None:
    visit = start_visit(stack)
    announced = visit.announce("sent.jpg", "image/jpeg", len(files["jpeg"]))
    assert announced.status_code == 201
    assert visit.clinic("POST", "/close").json()["reminder"]["files"] == []
    form = announced.json()["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": ("sent.jpg", files["jpeg"])}, timeout=60)
    assert sent.status_code in (200, 201, 204)  # S3 still takes it: the form has not expired
    settled = visit.settled(announced.json()["attachment_id"])
    assert (settled["status"], settled["reason_code"]) == ("rejected", "after_close")
    assert visit.clinic("GET", "").json()["files"] == {"kept": 0, "unsaved": []}


def test_nothing_the_chat_did_reached_the_logs(stack: Stack, tmp_path: Path) -> None:
    # The stack fixture checks its whole log at the end too; this reads it now, mid-session.
    text = (Path(stack.env["LOCAL_STATE_DIR"]) / "stack.log").read_text()
    assert patient_data.leaked(text) == []
    assert '"route":"/v/{token}"' in text  # requests are logged by route pattern …
    assert re.search(r"/v/[A-Za-z0-9_-]{40}", text) is None  # … never by path: link tokens stay out

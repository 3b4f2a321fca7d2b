"""The patient's path over the running local stack: store, share, outbox, landing page, ZIP, expiry, delete."""

from __future__ import annotations

import io
import re
import time
import zipfile
from typing import Any

import pytest
import requests
from pydicom import dcmread

from tests import dicom_files, patient_data
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def stow(stack: Stack, parts: list[bytes]) -> None:
    body, content_type = dicom_files.multipart_related(parts)
    status, _, _ = stack.request(
        "POST", "/dicomweb/studies", key=stack.demo["api_key"], body=body, headers={"Content-Type": content_type}
    )
    assert status == 200


def wait_for_message(stack: Stack, kind: str, address: str, after: int, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _, outbox = stack.json("GET", "/_local/outbox", headers={"Accept": "application/json"})
        found = [m for m in outbox["messages"] if m["kind"] == kind and address in m["to"]]
        if len(found) > after:
            return dict(found[0])
        time.sleep(0.3)
    pytest.fail(f"no {kind} arrived in the outbox")


def token_of(message: dict[str, Any], stack: Stack) -> str:
    (link,) = {u for u in message["links"] if "/p/" in u}
    assert link.startswith(f"{stack.base_url}/p/")
    return link.rsplit("/", 1)[1]


def wait_for_zip(stack: Stack, token: str, timeout_s: float = 60) -> list[str]:
    """The page's "download all" link: the link goes out with the pictures, the ZIP follows."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _, _, body = stack.request("GET", f"/p/{token}", headers={"Accept-Language": "en"})
        found = re.findall(r'<a class="button" href="([^"]+)"', body.decode())
        if found:
            return found
        time.sleep(0.3)
    pytest.fail("the ZIP never appeared on the page")


def count_messages(stack: Stack, kind: str, address: str) -> int:
    _, outbox = stack.json("GET", "/_local/outbox", headers={"Accept": "application/json"})
    return sum(1 for m in outbox["messages"] if m["kind"] == kind and address in m["to"])


def test_a_patient_gets_anonymized_images_and_the_link_expires_and_is_deleted(stack: Stack) -> None:
    key = stack.demo["api_key"]
    study = "1.2.826.0.1.3680043.8.498.950"
    stow(
        stack,
        [
            dicom_files.instance(study_uid=study, frames=20, burned_in="NO"),
            dicom_files.instance(study_uid=study, sop_class="1.2.840.10008.5.1.4.1.1.6.1", us_region=True),
        ],
    )
    email, phone = patient_data.EMAILS[1], patient_data.PHONES[2]
    before = count_messages(stack, "email", email), count_messages(stack, "sms", phone)
    status, share = stack.json("POST", f"/studies/{study}/shares", key=key, body={"contacts": f"{email}, {phone}"})
    assert status == 202
    mail = wait_for_message(stack, "email", email, before[0])
    text = wait_for_message(stack, "sms", phone, before[1])
    token = token_of(mail, stack)
    assert token == token_of(text, stack)
    assert patient_data.leaked(mail["subject"]) == []

    status, headers, body = stack.request("GET", f"/p/{token}", headers={"Accept-Language": "en"})
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    html = body.decode()
    assert "<video" in html
    images = re.findall(r'<img src="([^"]+)"', html)
    assert images
    assert requests.get(images[0].replace("&amp;", "&"), timeout=10).content[:2] == b"\xff\xd8"
    (zip_route,) = wait_for_zip(stack, token)
    zip_redirect = requests.get(stack.base_url + zip_route, allow_redirects=False, timeout=30)
    assert zip_redirect.status_code == 302
    zip_url = zip_redirect.headers["Location"]
    archive = zipfile.ZipFile(io.BytesIO(requests.get(zip_url, timeout=30).content))
    dicoms = [n for n in archive.namelist() if n.endswith(".dcm")]
    assert len(dicoms) == 2
    for name in archive.namelist():
        assert patient_data.leaked(archive.read(name).decode("latin-1")) == [], name
    for name in dicoms:
        ds = dcmread(io.BytesIO(archive.read(name)))
        assert ds.PatientIdentityRemoved == "YES"
        assert study not in archive.read(name).decode("latin-1")

    _, history = stack.json("GET", f"/studies/{study}/shares", key=key)
    (entry,) = [s for s in history["shares"] if s["share_id"] == share["share_id"]]
    assert entry["opens"] >= 1
    assert entry["downloads"] >= 1
    assert {d["status"] for d in entry["deliveries"]} == {"sent"}

    # Expire the link by moving the local clock past its life: resend is refused, the page says expired.
    status, _ = stack.json("POST", "/_local/clock", body={"advance_days": 91})
    assert status == 200
    try:
        status, error = stack.json("POST", f"/shares/{share['share_id']}/resend", key=key)
        assert status == 410
        assert "new link" in error["Message"]
        assert stack.request("GET", f"/p/{token}")[0] == 410
    finally:
        stack.json("POST", "/_local/clock", body={"reset": True})

    status, _ = stack.json("DELETE", f"/shares/{share['share_id']}", key=key)
    assert status == 200
    assert stack.request("GET", f"/p/{token}")[0] in (404, 410)
    assert requests.get(zip_url, timeout=10).status_code in (403, 404)
    assert token not in stack.log_path.read_text(), "a link token reached the logs"


def test_a_report_that_cannot_be_anonymized_locks_the_page_behind_a_code(stack: Stack) -> None:
    key = stack.demo["api_key"]
    study = "1.2.826.0.1.3680043.8.498.951"
    stow(
        stack,
        [dicom_files.instance(study_uid=study, frames=5, burned_in="NO"), dicom_files.pdf_report(study_uid=study)],
    )
    email = patient_data.EMAILS[0]
    before = count_messages(stack, "email", email)
    status, _ = stack.json("POST", f"/studies/{study}/shares", key=key, body={"contacts": email})
    assert status == 202
    token = token_of(wait_for_message(stack, "email", email, before), stack)

    _, _, body = stack.request("GET", f"/p/{token}", headers={"Accept-Language": "en"})
    assert "one-time code" in body.decode()
    assert "<video" not in body.decode()
    page_url = f"{stack.base_url}/p/{token}"
    sent = requests.post(f"{page_url}/code", data={"request": "code"}, allow_redirects=False, timeout=30)
    assert sent.status_code == 303
    code_mail = wait_for_message(stack, "email", email, before + 1)
    code = re.search(r"\b(\d{6})\b", code_mail["body"])
    assert code is not None
    wrong = requests.post(f"{page_url}/unlock", data={"secret": "000000"}, allow_redirects=False, timeout=30)
    assert wrong.status_code == 403
    unlocked = requests.post(f"{page_url}/unlock", data={"secret": code.group(1)}, allow_redirects=False, timeout=30)
    assert unlocked.status_code == 303
    assert "HttpOnly" in unlocked.headers["Set-Cookie"]
    page = requests.get(page_url, cookies=unlocked.cookies, headers={"Accept-Language": "en"}, timeout=30)
    html = page.text
    assert "<video" in html
    assert "report-" in html  # the report is shared as it is, behind the code
    _, history = stack.json("GET", f"/studies/{study}/shares", key=key)
    assert history["shares"][0]["needs_password"] is True
    assert token not in stack.log_path.read_text(), "a link token reached the logs"

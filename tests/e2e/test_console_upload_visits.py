"""The console's Upload and Visits on the running local stack: two DICOM files through the console's JSON
routes and the pre-signed POSTs until both are stored; in Chromium, two files dropped on the page (a
DataTransfer built in the page), the Visits page with a visit opened signed in, and axe on both pages."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, watch
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
STORED_WITHIN_S = 60


def signed_in(stack: Stack) -> tuple[requests.Session, str]:
    """A console session of the demo admin, and its CSRF token."""
    session = requests.Session()
    form = session.get(f"{stack.base_url}/console/sign-in", timeout=30)  # its token and cookie (login CSRF)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token
    answer = session.post(
        f"{stack.base_url}/console/sign-in",
        data={"csrf": token.group(1), "email": stack.demo["staff_email"], "password": stack.demo["staff_password"]},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text[:200]
    page = session.get(f"{stack.base_url}/console/upload", timeout=30)
    assert page.status_code == 200
    found = re.search(r'data-csrf="([^"]+)"', page.text)
    assert found
    return session, found.group(1)


def test_two_files_through_the_consoles_routes_and_presigned_posts_are_stored(stack: Stack) -> None:
    session, csrf = signed_in(stack)
    study = f"2.25.{time.time_ns()}"
    files = [dicom_files.instance(study_uid=study), dicom_files.instance(study_uid=study)]
    asked = session.post(
        f"{stack.base_url}/console/upload/batches", json={"files": 2}, headers={"X-CSRF-Token": csrf}, timeout=30
    )
    assert asked.status_code == 201, asked.text[:200]
    upload = asked.json()
    for entry, data in zip(upload["files"], files, strict=True):
        form = entry["upload"]
        posted = requests.post(form["url"], data=form["fields"], files={"file": ("x.dcm", data)}, timeout=30)
        assert posted.status_code in (200, 201, 204), posted.text[:200]

    deadline = time.monotonic() + STORED_WITHIN_S
    while True:
        state = session.get(f"{stack.base_url}/console/upload/batches/{upload['upload_id']}", timeout=30).json()
        if all(f["status"] != "pending" for f in state["files"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [f["status"] for f in state["files"]] == ["stored", "stored"]
    status, found = stack.json("GET", f"/studies/{study}", key=stack.demo["api_key"])
    assert status == 200
    assert found["number_of_instances"] == 2


@pytest.mark.browser
def test_files_dropped_in_chromium_are_stored_and_the_pages_pass_axe(stack: Stack, browser: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{stack.base_url}/console/sign-in")
    page.get_by_label(re.compile("e-mail", re.I)).fill(stack.demo["staff_email"])
    page.get_by_label(re.compile("password", re.I)).fill(stack.demo["staff_password"])
    page.get_by_label(re.compile("password", re.I)).press("Enter")
    page.wait_for_url(re.compile(r"/console/studies$"))

    page.goto(f"{stack.base_url}/console/upload")
    study = f"2.25.{time.time_ns()}"
    payloads = [
        base64.b64encode(dicom_files.instance(study_uid=study)).decode(),
        base64.b64encode(dicom_files.instance(study_uid=study)).decode(),
    ]
    page.evaluate(
        """(payloads) => {
            const transfer = new DataTransfer();
            payloads.forEach((b64, i) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], `IM${i}`, { type: "application/dicom" }));
            });
            const zone = document.getElementById("drop");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        payloads,
    )
    rows = page.locator("#files tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#files td.status.stored")).to_have_count(2, timeout=STORED_WITHIN_S * 1000)
    expect(page.locator("#overall")).to_have_attribute("value", "100")
    page.screenshot(path=str(ARTIFACTS / "console-upload.png"), full_page=True)
    assert _serious(Axe().run(page)) == []

    page.goto(f"{stack.base_url}/console/visits")
    page.get_by_label(re.compile("e-mail address and/or mobile", re.I)).fill(patient_data.EMAILS[1])
    page.get_by_role("button", name=re.compile("Start the visit", re.I)).click()
    page.wait_for_url(re.compile(r"/console/visits/vi_[0-9a-f]+$"))
    assert _serious(Axe().run(page)) == []
    page.goto(f"{stack.base_url}/console/visits")
    assert _serious(Axe().run(page)) == []
    page.screenshot(path=str(ARTIFACTS / "console-visits.png"), full_page=True)
    page.get_by_role("link", name=re.compile("Open the chat with", re.I)).first.click()
    page.wait_for_url(re.compile(r"/visits/vi_[0-9a-f]+/chat$"))
    expect(page.locator("#contacts")).to_have_text(patient_data.EMAILS[1])
    assert _serious(Axe().run(page)) == []
    assert problems == []
    context.close()


@pytest.mark.browser
def test_a_folder_of_more_files_than_one_batch_is_sent_in_batches(stack: Stack, browser: Any, tmp_path: Path) -> None:
    """A folder with a subfolder and a hidden file, chosen with the folder picker: 55 files (two batches of forms),
    the hidden one left out, the non-DICOM one refused with its reason, the rest stored."""
    from playwright.sync_api import expect

    study = f"2.25.{time.time_ns()}"
    folder = tmp_path / "US-export"
    (folder / "series2").mkdir(parents=True)
    for i in range(54):
        (folder / ("series2" if i % 2 else "") / f"IM{i:03d}").write_bytes(dicom_files.instance(study_uid=study))
    (folder / "README.txt").write_text("not an image")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")

    context = browser.new_context(locale="sv-SE", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{stack.base_url}/console/sign-in")
    page.get_by_label("E-postadress").fill(stack.demo["staff_email"])
    page.get_by_label("Lösenord").fill(stack.demo["staff_password"])
    page.get_by_label("Lösenord").press("Enter")
    page.wait_for_url(re.compile(r"/console/studies$"))
    page.goto(f"{stack.base_url}/console/upload")
    page.get_by_label("Välj en mapp").set_input_files(folder)

    expect(page.locator("#files tr")).to_have_count(55)
    expect(page.locator("#files td.status.stored")).to_have_count(54, timeout=STORED_WITHIN_S * 2000)
    refused = page.locator("#files tr", has_text="README.txt").locator("td.status")
    expect(refused).to_have_class(re.compile("failed"))
    expect(refused).to_contain_text("filen är inte DICOM")
    expect(page.locator("#summary")).to_have_text("54 lagrade, 1 togs inte emot, 0 kvar av 55")
    page.screenshot(path=str(ARTIFACTS / "console-upload-folder.png"), full_page=True)
    assert problems == []
    context.close()


def _serious(results: Any) -> list[str]:
    return [
        f"{v['id']}: {v['help']}" for v in results.response["violations"] if v.get("impact") in ("critical", "serious")
    ]

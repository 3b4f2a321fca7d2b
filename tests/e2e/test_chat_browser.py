"""The chat pages in real headless Chromium (Debian's, driven by Playwright) over the running local stack.

The patient previews a picture, uploads it straight to S3 with a progress bar; the clinician sees it
inline, opens it full size, and closes the visit to get the reminder. Screenshots are kept under
``test-artifacts/`` (git-ignored) for a person to look at.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.browsers import ARTIFACTS, loaded, watch
from tests.e2e.chat_helpers import clinician_headers, start_visit
from tests.e2e.conftest import Stack
from tests.unit.media import samples

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_patient_uploads_a_picture_the_clinician_magnifies_it_and_closes_the_visit(
    stack: Stack, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    visit = start_visit(stack)
    ticket = requests.post(
        f"{stack.base_url}/visits/{visit.visit_id}/chat-link", headers=clinician_headers(visit.key), timeout=30
    )
    assert ticket.status_code == 201
    photo = tmp_path / "sår på armen.jpg"
    photo.write_bytes(samples.jpeg_with_gps(width=800, height=400, orientation=6))

    # ---------------------------------------------------------------- the patient, on a phone
    patient = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = patient.new_page()
    patient_problems = watch(page)
    page.goto(visit.link)
    expect(page.locator("h1")).to_have_text("Demo Clinic")
    expect(page.locator("#send")).to_have_text("Skicka")

    page.set_input_files("#file", str(photo))
    expect(page.locator("#preview")).to_be_visible()
    assert page.eval_on_selector("#preview-media img", "i => i.src").startswith("blob:")  # the file itself
    loaded(page, "#preview-media img")
    expect(page.locator("#preview-name")).to_contain_text("sår på armen.jpg")
    page.screenshot(path=str(ARTIFACTS / "chat-patient-preview.png"))

    # The upload to S3 is held until the progress bar has been seen: locally it would finish too fast.
    held: list[Any] = []
    page.route(
        lambda url: not url.startswith(stack.base_url),
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.click("#upload")
    expect(page.locator("#progress")).to_be_visible()
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    page.unroute_all()
    expect(page.locator("#preview")).to_be_hidden()
    expect(page.locator("#progress")).to_have_js_property("value", 100)
    thumbnail = loaded(page, ".message.mine .thumb img")
    assert max(thumbnail["w"], thumbnail["h"]) <= 320

    page.fill("#text", "<b>Här</b> är bilden")
    page.click("#send")
    expect(page.locator(".message.mine .text")).to_have_text("<b>Här</b> är bilden")
    page.screenshot(path=str(ARTIFACTS / "chat-patient.png"), full_page=True)

    # ---------------------------------------------------------------- the clinician, at a desk
    clinic = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    desk = clinic.new_page()
    clinician_problems = watch(desk)
    desk.goto(ticket.json()["url"])
    assert "ticket" not in desk.url  # the one-time ticket leaves the address bar and the history
    expect(desk.locator("#send")).to_have_text("Send")
    loaded(desk, ".message.theirs .thumb img")
    expect(desk.locator(".message.theirs .text")).to_have_text("<b>Här</b> är bilden")
    assert desk.locator(".message .text b").count() == 0  # shown as text, never as markup

    desk.click(".message.theirs .thumb")
    expect(desk.locator("#viewer")).to_be_visible()
    full = loaded(desk, ".viewer-image")
    assert (full["w"], full["h"]) == (400, 800)  # the cleaned original, upright, not the thumbnail
    # The same viewer as the patient's page: it zooms to twice the picture's native size.
    for _ in range(10):
        desk.get_by_role("button", name="Zoom in").click()
    expect(desk.locator(".viewer-level")).to_have_text("200 %")
    assert desk.eval_on_selector(".viewer-image", "i => i.getBoundingClientRect().height") == 1600
    desk.screenshot(path=str(ARTIFACTS / "chat-clinician-magnifier.png"))
    desk.get_by_role("button", name="Close", exact=True).click()
    expect(desk.locator("#viewer")).to_be_hidden()
    assert desk.evaluate("document.activeElement.classList.contains('thumb')")

    desk.click("#close-visit")
    expect(desk.locator("#confirm-close")).to_be_visible()
    desk.click("#confirm-close-yes")
    expect(desk.locator("#reminder")).to_be_visible()
    files = desk.locator("#reminder-files li")
    expect(files).to_have_count(1)
    expect(files.first).to_contain_text("sår på armen.jpg")
    expect(files.first).to_contain_text("from the patient")
    expect(desk.locator("#reminder-advice")).to_contain_text("delete any copies")
    desk.screenshot(path=str(ARTIFACTS / "chat-clinician-reminder.png"))
    files.first.locator("button").click()
    expect(files.first.locator("button")).to_have_text("Saved in the record")
    detail = requests.get(
        f"{stack.base_url}/visits/{visit.visit_id}", headers=clinician_headers(visit.key), timeout=30
    ).json()
    assert detail["status"] == "closed"
    assert detail["files"] == {"kept": 1, "unsaved": []}

    # ---------------------------------------------------------------- the patient sees the visit closed
    expect(page.locator("#notice")).to_contain_text("Besöket är avslutat", timeout=15_000)
    expect(page.locator("#notice")).to_be_in_viewport()
    expect(page.locator("#text")).to_be_disabled()
    expect(page.locator("#composer")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "chat-patient-closed.png"), full_page=True)

    assert patient_problems == []
    assert clinician_problems == []
    patient.close()
    clinic.close()


def test_a_refused_file_shows_its_reason_to_the_sender(stack: Stack, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    visit = start_visit(stack)
    voice = tmp_path / "röstmeddelande.jpg"  # audio, renamed to look like a picture
    voice.write_bytes(samples.wav())
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    problems = watch(page)
    page.goto(visit.link)
    page.set_input_files("#file", str(voice))
    page.click("#upload")
    expect(page.locator(".message.mine .file.rejected")).to_contain_text("audio files cannot be sent", timeout=30_000)
    audio = tmp_path / "röst.wav"
    audio.write_bytes(samples.wav())
    page.set_input_files("#file", str(audio))
    page.click("#upload")
    expect(page.locator("#upload-error")).to_have_text("audio files cannot be sent")  # refused before uploading
    assert problems == []
    context.close()


def test_pages_without_a_session_say_so(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    visit = start_visit(stack)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(f"{stack.base_url}/visits/{visit.visit_id}/chat")
    expect(page.locator("#notice")).to_have_text("The session has expired. Open the link to the chat again.")
    page.goto(f"{stack.base_url}/visits/{visit.visit_id}/chat?ticket=forged.ticket")
    expect(page.locator("h1")).to_have_text("The link has been used or has expired")
    response = page.goto(f"{stack.base_url}/v/{'x' * 43}")
    assert response is not None
    assert response.status == 404
    context.close()
    assert json.dumps(visit.clinic("GET", "").json())  # the visit itself is untouched

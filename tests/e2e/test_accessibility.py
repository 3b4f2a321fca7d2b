"""axe-core in real Chromium on the pages the other browser tests do not walk through: the patient's landing
page in each of its states (pictures and a cine, the picture viewer open, the password lock, a code sent, a
wrong code, locked out, expired, deleted), both chat pages (the patient's and the clinician's, opened from the
console; the patient's again once the visit is closed), and the console's refusals (a clinician at
Settings, another clinic's share). The patient's pages may have no finding of any impact; the console's
none critical or serious. Every state is screenshotted into ``test-artifacts/``."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, axe_findings, watch
from tests.e2e.chat_helpers import start_visit
from tests.e2e.conftest import Stack
from tests.e2e.test_share import count_messages, token_of, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
#: What a patient's page may not have: any finding at all. The console's pages: nothing critical or serious.
EVERY_IMPACT = ("minor", "moderate", "serious", "critical")
SERIOUS = ("critical", "serious")
STUDY = "1.2.826.0.1.3680043.8.498.995"


def shared_link(stack: Stack, key: str, parts: list[bytes], email: str) -> str:
    body, content_type = dicom_files.multipart_related(parts)
    status, _, _ = stack.request(
        "POST", "/dicomweb/studies", key=key, body=body, headers={"Content-Type": content_type}
    )
    assert status == 200
    before = count_messages(stack, "email", email)
    status, _ = stack.json("POST", f"/studies/{STUDY}/shares", key=key, body={"contacts": email})
    assert status == 202
    return f"{stack.base_url}/p/{token_of(wait_for_message(stack, 'email', email, before), stack)}"


def check(page: Any, name: str, findings: dict[str, list[str]], impacts: tuple[str, ...] = EVERY_IMPACT) -> None:
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"), full_page=True)
    found = axe_findings(page, impacts=impacts)
    if found:
        findings[name] = found


def test_every_state_of_the_landing_page_passes_axe(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    key = stack.new_clinic("Kliniken Tillgänglig")
    email = patient_data.EMAILS[1]
    # An ultrasound image without regions: it cannot be anonymized, so the link asks for a password.
    parts = [dicom_files.instance(study_uid=STUDY, sop_class="1.2.840.10008.5.1.4.1.1.6.1", frames=1)]
    link = shared_link(stack, key, parts, email)
    findings: dict[str, list[str]] = {}
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    try:
        page.goto(link)
        expect(page.locator("#secret")).to_be_visible(timeout=30_000)
        check(page, "landing-password", findings)
        page.get_by_role("button", name="Send me a one-time code").click()
        expect(page.get_by_role("status")).to_contain_text("A code has been sent")
        check(page, "landing-code-sent", findings)
        for attempt in range(6):  # five wrong guesses are checked; the sixth finds the link locked
            page.fill("#secret", f"wrong-{attempt}")
            with page.expect_navigation():
                page.get_by_role("button", name="Show the images").click()
        expect(page.get_by_role("alert")).to_contain_text("Too many attempts")
        check(page, "landing-locked-out", findings)
        page.fill("#secret", "still-wrong")
        stack.json("POST", "/_local/clock", body={"advance_days": 0.02})  # the lock (15 minutes) ends
        page.get_by_role("button", name="Show the images").click()
        expect(page.get_by_role("alert")).to_contain_text("That code or password is not right")
        check(page, "landing-wrong", findings)
        stack.json("POST", "/_local/clock", body={"advance_days": 400})
        page.goto(link)
        check(page, "landing-expired", findings)
    finally:
        stack.json("POST", "/_local/clock", body={"reset": True})

    # A picture and a cine, the picture in the viewer, then the same link deleted.
    study = "1.2.826.0.1.3680043.8.498.996"
    parts = [
        dicom_files.instance(study_uid=study, sop_class="1.2.840.10008.5.1.4.1.1.6.1", us_region=True),
        dicom_files.instance(study_uid=study, frames=8, burned_in="NO"),
    ]
    body, content_type = dicom_files.multipart_related(parts)
    stack.request("POST", "/dicomweb/studies", key=key, body=body, headers={"Content-Type": content_type})
    before = count_messages(stack, "email", email)
    status, sent = stack.json("POST", f"/studies/{study}/shares", key=key, body={"contacts": email})
    assert status == 202
    token = token_of(wait_for_message(stack, "email", email, before), stack)
    page.goto(f"{stack.base_url}/p/{token}")
    expect(page.locator(".tile.image")).to_have_count(1, timeout=30_000)
    expect(page.locator(".tile.video")).to_have_count(1)
    check(page, "landing-pictures-and-cine", findings)
    page.locator(".zoom").click()
    expect(page.locator("#viewer")).to_be_visible()
    check(page, "landing-viewer", findings)
    page.keyboard.press("Escape")
    stack.request("DELETE", f"/shares/{sent['share_id']}", key=key)
    page.goto(f"{stack.base_url}/p/{token}")
    check(page, "landing-deleted", findings)
    assert findings == {}
    assert problems == []
    context.close()


def test_both_chat_pages_and_the_consoles_refusals_pass_axe(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    findings: dict[str, list[str]] = {}
    visit = start_visit(stack)
    patient = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="sv-SE")
    chat = patient.new_page()
    chat.goto(visit.link)
    expect(chat.locator("form")).to_be_visible()
    check(chat, "chat-patient", findings)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{stack.base_url}/console/sign-in")
    page.get_by_label("E-mail address").fill(stack.demo["staff_email"])
    page.get_by_label("Password").fill(stack.demo["staff_password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/studies$"))
    page.goto(f"{stack.base_url}/console/visits/{visit.visit_id}/chat")
    page.wait_for_url(re.compile(r"/visits/vi_[0-9a-f]+/chat$"))
    check(page, "chat-clinician", findings)
    assert visit.clinic("POST", "/close").status_code == 200
    expect(chat.locator("#notice")).to_be_visible(timeout=15_000)
    check(chat, "chat-patient-closed", findings)
    page.goto(f"{stack.base_url}/console/shares/sh_00000000000000000000")
    check(page, "console-not-found", findings, SERIOUS)
    page.goto(f"{stack.base_url}/console/settings")
    check(page, "console-settings", findings, SERIOUS)
    page.goto(f"{stack.base_url}/console/security")
    check(page, "console-security", findings, SERIOUS)
    assert findings == {}, json.dumps(findings, indent=2)
    patient.close()
    context.close()


def test_the_consoles_pages_in_swedish_have_accessible_names_and_work_from_the_keyboard(
    stack: Stack, browser: Any
) -> None:
    """The same axe checks in Swedish (every name of every control comes in both languages), and the bar's
    sections reached with the Tab key alone."""
    findings: dict[str, list[str]] = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{stack.base_url}/console/sign-in")
    check(page, "sv-sign-in", findings, SERIOUS)
    page.get_by_label("E-postadress").fill(stack.demo["staff_email"])
    page.get_by_label("Lösenord").fill(stack.demo["staff_password"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/studies$"))
    for path in ("studies", "shares", "upload", "visits", "settings", "security"):
        page.goto(f"{stack.base_url}/console/{path}")
        check(page, f"sv-{path}", findings, SERIOUS)
    # From the keyboard: the skip link first, then each section of the bar in order.
    page.goto(f"{stack.base_url}/console/studies")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Hoppa till innehållet"
    reached = []
    for _ in range(5):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert reached == ["Undersökningar", "Delningar", "Ladda upp", "Besök", "Inställningar"]
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/console/settings$"))
    assert findings == {}, json.dumps(findings, indent=2)
    assert problems == []
    context.close()

"""The clinician's whole path through the console, in real headless Chromium on the local stack, as issue #10
states it: a first sign-in with the new-password challenge; a study uploaded by drag and drop; found by the
patient's name in lower case; two of its images chosen; sent to an e-mail address and a mobile number; the
link in the outbox; the patient's page; a resend (a new "last sent", the same expiry); a delete (the link
answers 404); a Patient Link Code set (a new link asks for it). Every page is screenshotted into
``test-artifacts/`` and checked with axe-core (no critical or serious finding) and for CSP violations."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests import dicom_files
from tests.e2e.browsers import ARTIFACTS, axe_findings, watch
from tests.e2e.conftest import ROOT, Stack
from tests.e2e.test_share import count_messages, token_of, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
EMAIL = "ebba.sandberg@example.org"
MOBILE = "070-765 43 21"
MOBILE_E164 = "+46707654321"
NAME = "SANDBERG^EBBA"
STUDY = "1.2.826.0.1.3680043.8.498.990"
NEW_ADMIN = "karin.admin@demo-clinic.example"
TEMPORARY = "Temporary-Pass-7x"
CHOSEN = "Chosen-Pass-2026x"
LINK_CODE = "KLINIK-42"


def create_staff(stack: Stack) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "chalicelib.admin", "create-staff", stack.demo["clinic_id"], NEW_ADMIN),
            *("--role", "admin", "--temporary-password", TEMPORARY),
        ],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


class Walk:
    """One browser page, a screenshot and an axe run at each step, and what went wrong on the way."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems = watch(page)
        self.findings: dict[str, list[str]] = {}
        self.step = 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(ARTIFACTS / f"console-path-{self.step:02d}-{name}.png"), full_page=True)
        found = axe_findings(self.page)
        if found:
            self.findings[name] = found


def drop_files(page: Any, parts: list[bytes]) -> None:
    """Drop files on the Upload page's zone as a browser does (a DataTransfer built in the page)."""
    page.evaluate(
        """(payloads) => {
            const transfer = new DataTransfer();
            payloads.forEach((b64, i) => {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], `IM${i}.dcm`, { type: "application/dicom" }));
            });
            const zone = document.getElementById("drop");
            zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        [base64.b64encode(p).decode() for p in parts],
    )


def send_chosen(walk: Walk, stack: Stack, contacts: str) -> None:
    """From Studies: find the study by the patient's name in lower case, choose two images, review, send."""
    from playwright.sync_api import expect

    page = walk.page
    page.goto(f"{stack.base_url}/console/studies")
    page.get_by_label(re.compile("name", re.I)).first.fill("sandberg")
    page.keyboard.press("Enter")
    found = page.locator(f'a[href$="/console/studies/{STUDY}"]')
    expect(found).to_have_count(1)
    walk.shot("studies-found")
    found.click()
    expect(page.locator("#send")).to_be_visible()
    page.wait_for_load_state("load")  # the deferred script links "the whole study" to its images
    page.focus("#all")
    page.keyboard.press("Space")  # the whole study off, then two images on, from the keyboard
    boxes = page.locator('input[name="instance"]')
    expect(boxes).to_have_count(3)
    for index in (0, 1):
        boxes.nth(index).focus()
        page.keyboard.press("Space")
    assert page.locator('input[name="instance"]:checked').count() == 2
    page.fill("#contacts", contacts)
    expect(page.locator("#contacts-problems li")).to_have_count(0)
    walk.shot("study-two-chosen")
    page.get_by_role("button", name="Review before sending").click()
    expect(page.locator("main")).to_contain_text("Images that go out anonymized: 2 of 2.")
    walk.shot("review")
    page.get_by_role("button", name="Send to patient").click()
    expect(page.locator("h1")).to_have_text("The link is on its way to the patient")
    walk.shot("sent")


def row_of(page: Any, share_id: str) -> Any:
    return page.locator("tbody tr").filter(has=page.locator(f'a[href$="/console/shares/{share_id}"]'))


def test_a_clinician_signs_in_uploads_finds_sends_resends_deletes_and_sets_a_link_code(
    stack: Stack, browser: Any
) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    create_staff(stack)
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    walk = Walk(context.new_page())
    page = walk.page
    try:
        # 1. A first sign-in: Cognito asks for a new password.
        page.goto(f"{stack.base_url}/console/sign-in")
        walk.shot("sign-in")
        page.get_by_label("E-mail address").fill(NEW_ADMIN)
        page.get_by_label("Password").fill(TEMPORARY)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label("New password")).to_be_visible()
        walk.shot("new-password")
        page.get_by_label("New password").fill(CHOSEN)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url(re.compile(r"/console/studies$"))
        expect(page.locator("header")).to_contain_text(NEW_ADMIN)

        # 2. Upload a study by drag and drop: three ultrasound images with regions (anonymizable).
        page.get_by_role("link", name="Upload").click()
        page.wait_for_url(re.compile(r"/console/upload$"))
        page.wait_for_load_state("load")  # its script listens for the drop
        parts = [
            dicom_files.instance(
                study_uid=STUDY,
                series_uid=f"{STUDY}.1",
                sop_uid=f"{STUDY}.1.{n}",
                patient_name=NAME,
                sop_class="1.2.840.10008.5.1.4.1.1.6.1",
                us_region=True,
                rows=120,
                columns=160,
            )
            for n in (1, 2, 3)
        ]
        drop_files(page, parts)
        expect(page.locator("#files td.status.stored")).to_have_count(3, timeout=60_000)
        walk.shot("uploaded")

        # 3.–5. Find it by the name in lower case, choose two images, send to an e-mail and a mobile number.
        before = count_messages(stack, "email", EMAIL), count_messages(stack, "sms", MOBILE_E164)
        send_chosen(walk, stack, f"{EMAIL}, {MOBILE}")

        # 6. The link is in the outbox, by e-mail and by text, the same link.
        mail = wait_for_message(stack, "email", EMAIL, before[0])
        text = wait_for_message(stack, "sms", MOBILE_E164, before[1])
        token = token_of(mail, stack)
        assert token_of(text, stack) == token
        page.goto(f"{stack.base_url}/_local/outbox")
        expect(page.locator("body")).to_contain_text(EMAIL)
        page.screenshot(path=str(ARTIFACTS / "console-path-outbox.png"), full_page=True)

        # 7. The patient's page opens, with the two images.
        patient = context.browser.new_context(viewport={"width": 390, "height": 844}, locale="sv-SE")
        landing = patient.new_page()
        landing.goto(f"{stack.base_url}/p/{token}")
        expect(landing.locator("h1")).to_have_text("Dina bilder")
        expect(landing.locator(".tile.image")).to_have_count(2, timeout=30_000)
        landing.screenshot(path=str(ARTIFACTS / "console-path-patient.png"), full_page=True)
        assert axe_findings(landing) == []

        # 8. Resend from Shares: a new "last sent", the same expiry.
        page.goto(f"{stack.base_url}/console/shares")
        share_link = page.locator("tbody tr a").first
        share_id = share_link.get_attribute("href").rsplit("/", 1)[1]
        row = row_of(page, share_id)
        first_sent, expiry = row.locator("td").nth(3).inner_text(), row.locator("td").nth(5).inner_text()
        walk.shot("shares")
        page.set_viewport_size(TABLET)  # usable on a tablet: the README shows it
        page.screenshot(path=str(ARTIFACTS / "console-shares-tablet.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        stack.json("POST", "/_local/clock", body={"advance_days": 0.01})  # a quarter of an hour later
        share_link.click()
        walk.shot("share")
        page.get_by_role("button", name="Send again").click()
        expect(page.get_by_role("status")).to_contain_text("Sends the same link again. It still expires on")
        walk.shot("resent")
        wait_for_message(stack, "email", EMAIL, before[0] + 1)
        page.goto(f"{stack.base_url}/console/shares")
        row = row_of(page, share_id)
        assert row.locator("td").nth(3).inner_text() != first_sent
        assert row.locator("td").nth(5).inner_text() == expiry

        # 9. Delete, after a confirmation: the patient's link answers 404.
        page.goto(f"{stack.base_url}/console/shares/{share_id}")
        page.get_by_role("link", name="Delete the link…").click()
        walk.shot("delete-confirm")
        page.get_by_role("button", name="Delete").click()
        expect(page.get_by_role("status")).to_contain_text("The link is deleted.")
        status, _, _ = stack.request("GET", f"/p/{token}")
        assert status == 404
        landing.goto(f"{stack.base_url}/p/{token}")
        assert axe_findings(landing) == []

        # 10. An administrator sets a Patient Link Code: a new link asks for it.
        page.get_by_role("link", name="Settings").click()
        page.get_by_label(re.compile("^Code")).fill(LINK_CODE)
        page.get_by_role("button", name="Save").click()
        expect(page.locator("main")).to_contain_text("A code is required on every new link.")
        walk.shot("settings-code-set")
        before = count_messages(stack, "email", EMAIL), count_messages(stack, "sms", MOBILE_E164)
        send_chosen(walk, stack, EMAIL)
        new_token = token_of(wait_for_message(stack, "email", EMAIL, before[0]), stack)
        assert new_token != token
        landing.goto(f"{stack.base_url}/p/{new_token}")
        expect(landing.get_by_label("Kod")).to_be_visible()
        landing.screenshot(path=str(ARTIFACTS / "console-path-patient-code.png"), full_page=True)
        assert axe_findings(landing) == []
        landing.get_by_label("Kod").fill(LINK_CODE)
        landing.keyboard.press("Enter")
        expect(landing.locator(".tile.image")).to_have_count(2, timeout=30_000)
        patient.close()
    finally:
        stack.json("POST", "/_local/clock", body={"reset": True})
        # The demo clinic's code off again: later tests send it links that must open without one.
        stack.request("PUT", "/settings", key=stack.demo["api_key"], body=json.dumps({"link_code": None}).encode())
    assert walk.findings == {}
    assert walk.problems == []
    context.close()

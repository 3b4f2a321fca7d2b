"""The patient's page in Swedish on a phone, for a study whose images are a structured report: the lock
worded in Swedish (a wrong code too), what the images are (the real date, sizes), the report opened as a
readable page and offered as a PDF, and no hint about pictures where there are none. axe-core finds no
violation of any impact on the page or the report; screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, axe_findings, watch
from tests.e2e.conftest import Stack
from tests.e2e.test_share import count_messages, token_of, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}
STUDY = "1.2.826.0.1.3680043.8.498.996"
EVERY_IMPACT = ("minor", "moderate", "serious", "critical")
#: English a Swedish page must not show (the domain's messages and the page's own English words).
ENGLISH = ("not right", "Too many", "one-time code", "Read the report", "Tap a picture", "Download")


def test_a_report_on_a_swedish_phone_reads_as_a_page_and_a_pdf(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    key = stack.new_clinic("Kliniken Väst")
    email = patient_data.EMAILS[1]
    body, content_type = dicom_files.multipart_related([dicom_files.structured_report(study_uid=STUDY)])
    status, _, _ = stack.request(
        "POST", "/dicomweb/studies", key=key, body=body, headers={"Content-Type": content_type}
    )
    assert status == 200
    before = count_messages(stack, "email", email)
    status, _ = stack.json("POST", f"/studies/{STUDY}/shares", key=key, body={"contacts": email, "language": "sv"})
    assert status == 202
    message = wait_for_message(stack, "email", email, before)
    assert "engångskod" in message["body"]  # the e-mail words the page's lock: a password or a code
    link = f"{stack.base_url}/p/{token_of(message, stack)}"

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="sv-SE")
    page = context.new_page()
    problems = watch(page)
    page.goto(link)
    expect(page.locator("#secret")).to_be_visible(timeout=30_000)
    before = count_messages(stack, "email", email)
    page.get_by_role("button", name="Skicka engångskod").click()
    expect(page.get_by_role("status")).to_contain_text("En kod är skickad")
    code = re.search(r"\b(\d{6})\b", wait_for_message(stack, "email", email, before)["body"])
    assert code is not None
    page.get_by_label("Kod eller lösenord").fill("000000")
    page.get_by_role("button", name="Visa bilderna").click()
    expect(page.get_by_role("alert")).to_have_text("Koden eller lösenordet stämmer inte.")
    assert not [words for words in ENGLISH if words in page.locator("main").inner_text()]
    page.screenshot(path=str(ARTIFACTS / "share-report-wrong-sv.png"), full_page=True)
    assert axe_findings(page, impacts=EVERY_IMPACT) == []

    page.get_by_label("Kod eller lösenord").fill(code.group(1))
    page.get_by_role("button", name="Visa bilderna").click()
    expect(page.get_by_role("link", name="Läs rapporten")).to_be_visible()
    main = page.locator("main").inner_text()
    assert "2026-11-20" in main  # the study's real date, from the clinic's records
    assert re.search(r"Ladda ner allt \(ZIP, \d+ kB\)", main)
    assert "Tryck på en bild" not in main  # no picture, no hint about pictures
    assert not [words for words in ENGLISH if words in main]
    expect(page.get_by_role("link", name="Öppna rapporten (PDF)")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "share-report-open-sv.png"), full_page=True)
    assert axe_findings(page, impacts=EVERY_IMPACT) == []

    with context.expect_page() as opened:
        page.get_by_role("link", name="Läs rapporten").click()
    report = opened.value
    report.wait_for_load_state()
    expect(report.get_by_role("heading", level=1)).to_have_text("Diagnostic imaging report")
    expect(report.get_by_role("heading", name="Findings")).to_be_visible()
    assert "42.5 mm" in report.locator("main").inner_text()
    report.screenshot(path=str(ARTIFACTS / "share-report-page-sv.png"), full_page=True)
    assert axe_findings(report, impacts=EVERY_IMPACT) == []
    assert problems == []
    context.close()

"""The Studies section in real headless Chromium on the local stack: search by a lower-case name, choose an
image from the keyboard, contacts checked as typed, review, send once. axe-core finds nothing critical or
serious on any of its pages, and no page breaks its CSP. Screenshots (desktop and tablet) go to
``test-artifacts/``."""

from __future__ import annotations

from typing import Any

import pytest
from pydicom.uid import UltrasoundImageStorage

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, watch
from tests.e2e.conftest import Stack
from tests.e2e.test_share import stow

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}
STUDY = "1.2.826.0.1.3680043.8.498.970"


def serious(page: Any) -> list[str]:
    """The critical and serious axe-core violations of the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("critical", "serious")]


def test_search_choose_review_and_send_from_the_console(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    stow(
        stack,
        [
            # One series, explicit UIDs: the page orders images of one number by UID, the one with regions first.
            dicom_files.instance(
                study_uid=STUDY,
                series_uid=f"{STUDY}.0",
                sop_uid=f"{STUDY}.1",
                patient_name="DOE^JANE",
                sop_class=UltrasoundImageStorage,
                us_region=True,
            ),
            dicom_files.instance(
                study_uid=STUDY,
                series_uid=f"{STUDY}.0",
                sop_uid=f"{STUDY}.2",
                patient_name="DOE^JANE",
                sop_class=UltrasoundImageStorage,
            ),
        ],
    )
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{stack.base_url}/console/sign-in")
    page.fill("#email", stack.demo["staff_email"])
    page.fill("#password", stack.demo["staff_password"])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Studies")
    assert serious(page) == []

    page.fill("#name", "doe jane")
    page.keyboard.press("Enter")
    result = page.locator(f'a[href$="/console/studies/{STUDY}"]')
    expect(result).to_have_count(1)
    assert serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-studies-desktop.png"), full_page=True)
    result.click()

    expect(page.locator("#send")).to_be_visible()
    page.wait_for_load_state("load")  # the deferred script checks contacts as they are typed
    assert serious(page) == []
    page.fill("#contacts", f"{patient_data.EMAILS[1]}, nope")
    expect(page.locator("#contacts-problems")).to_contain_text("Contact 2 is not a valid e-mail address")
    page.fill("#contacts", patient_data.EMAILS[1])
    expect(page.locator("#contacts-problems li")).to_have_count(0)
    page.focus("#all")
    page.keyboard.press("Space")  # the whole study off: every image unchosen
    assert page.locator('input[name="instance"]:checked').count() == 0
    page.focus('input[name="instance"] >> nth=0')  # the image with regions: it goes out anonymized
    page.keyboard.press("Space")
    assert page.locator('input[name="instance"]:checked').count() == 1
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(ARTIFACTS / "console-study-tablet.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(ARTIFACTS / "console-study-desktop.png"), full_page=True)
    page.get_by_role("button", name="Review before sending").click()

    expect(page.locator("h1")).to_have_text("Review before sending")
    expect(page.locator("main")).to_contain_text("Images that go out anonymized: 1 of 1.")
    assert serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-review-desktop.png"), full_page=True)
    page.get_by_role("button", name="Send to patient").dblclick()

    expect(page.locator("h1")).to_have_text("The link is on its way to the patient")
    assert serious(page) == []
    page.screenshot(path=str(ARTIFACTS / "console-sent-desktop.png"), full_page=True)
    status, history = stack.json("GET", f"/studies/{STUDY}/shares", key=stack.demo["api_key"])
    assert status == 200
    assert len(history["shares"]) == 1  # a double click sends once
    assert problems == []
    context.close()

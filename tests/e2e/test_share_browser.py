"""The landing page in real headless Chromium on a phone-sized screen: the grid, the magnifier, the cine
loop playing, and the password form. Screenshots are kept under ``test-artifacts/``."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import dicom_files, patient_data
from tests.e2e.browsers import ARTIFACTS, loaded, watch
from tests.e2e.conftest import Stack
from tests.e2e.test_share import count_messages, stow, token_of, wait_for_message

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PHONE = {"width": 390, "height": 844}


def share_link(stack: Stack, study: str, parts: list[bytes], email: str) -> str:
    stow(stack, parts)
    before = count_messages(stack, "email", email)
    status, _ = stack.json("POST", f"/studies/{study}/shares", key=stack.demo["api_key"], body={"contacts": email})
    assert status == 202
    return f"{stack.base_url}/p/{token_of(wait_for_message(stack, 'email', email, before), stack)}"


def test_the_landing_page_on_a_phone_shows_magnifies_and_plays(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    study = "1.2.826.0.1.3680043.8.498.960"
    parts = [
        dicom_files.instance(study_uid=study, frames=15, burned_in="NO", rows=240, columns=320),
        dicom_files.instance(
            study_uid=study, sop_class="1.2.840.10008.5.1.4.1.1.6.1", us_region=True, rows=240, columns=320
        ),
    ]
    link = share_link(stack, study, parts, patient_data.EMAILS[1])
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="sv-SE")
    page = context.new_page()
    problems = watch(page)
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Dina bilder")
    size = loaded(page, ".tile.image img")
    assert size["w"] > 0
    # The grid fits the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The cine shows its poster frame and loads nothing until it is played.
    assert page.evaluate("document.querySelector('video').poster")
    page.evaluate("document.querySelector('video').play()")
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.1", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "share-landing-phone.png"), full_page=True)
    page.locator(".zoom").first.click()
    expect(page.locator("#viewer")).to_be_visible()
    assert loaded(page, ".viewer-image")["w"] > 0
    page.screenshot(path=str(ARTIFACTS / "share-landing-magnifier.png"))
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()
    assert problems == []
    context.close()


def test_the_password_form_unlocks_the_page(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    study = "1.2.826.0.1.3680043.8.498.961"
    email = patient_data.EMAILS[0]
    link = share_link(
        stack,
        study,
        [dicom_files.instance(study_uid=study, frames=4, burned_in="NO"), dicom_files.pdf_report(study_uid=study)],
        email,
    )
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    problems = watch(page)
    page.goto(link)
    before = count_messages(stack, "email", email)
    page.get_by_role("button", name="Send me a one-time code").click()
    expect(page.get_by_role("status")).to_contain_text("A code has been sent")
    code = re.search(r"\b(\d{6})\b", wait_for_message(stack, "email", email, before)["body"])
    assert code is not None
    page.get_by_label("Code or password").fill("000000")
    page.get_by_role("button", name="Show the images").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    page.get_by_label("Code or password").fill(code.group(1))
    page.get_by_role("button", name="Show the images").click()
    expect(page.locator("video")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "share-landing-unlocked.png"), full_page=True)
    assert problems == []
    context.close()
